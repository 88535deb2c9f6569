/**
 * Clocks. The runtime never reads the time itself: every loop is given a clock, so tests can
 * substitute virtual time.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';

/** Clock tells the current time in milliseconds (fractional) on a monotonic scale. */
export interface Clock {
  /** Milliseconds since an arbitrary fixed origin; never goes backwards. */
  now(): number;
}

/** The system's monotonic clock (`performance.now()`). */
export const systemClock: Clock = {
  now: () => performance.now(),
};

/** VirtualClock is a clock that only moves when told to; the virtual event loop drives it. */
export class VirtualClock implements Clock {
  private time: number;

  /** Creates a clock standing at `startMs` (0 by default). */
  constructor(startMs = 0) {
    this.time = startMs;
  }

  /** The current virtual time. */
  now(): number {
    return this.time;
  }

  /** Moves the clock to `timeMs`; moving backwards is ignored. */
  setTime(timeMs: number): void {
    if (timeMs > this.time) this.time = timeMs;
  }
}
