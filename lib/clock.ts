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
  /**
   * The calendar time, milliseconds since the Unix epoch, for protocol fields that carry a date
   * (HTTP's `date`). Unlike `now()` it may jump (the system clock is set). Optional: a clock
   * without it is read as the system's calendar time.
   */
  epochMs?(): number;
}

/** The system's monotonic clock (`performance.now()`); its calendar time is `Date.now()`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  epochMs: () => Date.now(),
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

  /** The virtual time, read as milliseconds since the Unix epoch (0 is 1970-01-01T00:00:00Z). */
  epochMs(): number {
    return this.time;
  }

  /** Moves the clock to `timeMs`; moving backwards is ignored. */
  setTime(timeMs: number): void {
    if (timeMs > this.time) this.time = timeMs;
  }
}
