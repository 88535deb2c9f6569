/**
 * Minimum data rates: how fast a peer must take what we send, or send what we read, and the clock
 * that times a peer against one.
 *
 * @module
 */
import { IoErrors, SluiceError, type ErrorDefinition } from './errors.js';

/**
 * MinDataRate is a minimum rate a peer must keep: `bytesPerSecond` on average, once `graceMs`
 * has passed. The grace is also the most credit a peer can bank by going fast, so a burst buys
 * no slack for a trickle after it.
 */
export interface MinDataRate {
  /** Bytes per second the peer must average; more than 0. */
  readonly bytesPerSecond: number;
  /** Time before the rate applies, and the most credit a fast peer keeps, ms; 0 or more. */
  readonly graceMs: number;
}

/**
 * The minimum rate servers enforce by default: 240 bytes per second after a 5 s grace, Kestrel's
 * `MinResponseDataRate` and `MinRequestBodyDataRate` (a 56 kbit/s modem moves 7000 B/s).
 */
export const DEFAULT_MIN_DATA_RATE: MinDataRate = Object.freeze({ bytesPerSecond: 240, graceMs: 5000 });

/**
 * The rate an option gives, checked: a {@link MinDataRate}, or null (no minimum). Throws a
 * {@link SluiceError} of `definition` (`IO_INVALID_OPTIONS` by default), naming `name`, for
 * anything else (a rate of 0 or less, a negative grace).
 */
export function checkMinDataRate(
  value: unknown,
  name: string,
  definition: ErrorDefinition = IoErrors.INVALID_OPTIONS,
): MinDataRate | null {
  if (value === null) return null;
  if (!isMinDataRate(value)) {
    throw new SluiceError(
      definition,
      `${name} is null or { bytesPerSecond: a number above 0, graceMs: a number of ms, 0 or more }`,
    );
  }
  return value;
}

/** True for `{ bytesPerSecond > 0, graceMs >= 0 }`, both finite numbers. */
function isMinDataRate(value: unknown): value is MinDataRate {
  if (typeof value !== 'object' || value === null) return false;
  const { bytesPerSecond, graceMs } = value as Record<string, unknown>;
  return (
    typeof bytesPerSecond === 'number' &&
    Number.isFinite(bytesPerSecond) &&
    bytesPerSecond > 0 &&
    typeof graceMs === 'number' &&
    Number.isFinite(graceMs) &&
    graceMs >= 0
  );
}

/**
 * DataRateClock times one peer against a {@link MinDataRate}, Kestrel's way: it runs only while
 * the peer is what holds things up — data waits for it to take, or a reader waits for its bytes
 * — and pauses otherwise, so an idle stream between messages is never timed. Time counts only
 * while it runs; every byte the peer moves earns `1 / bytesPerSecond` seconds. The peer is late
 * once the running time exceeds the grace plus what its bytes earned. A check that finds more
 * than one grace earned starts the count over from there: credit never banks beyond one grace,
 * so a reader that bursts and then trickles is cut off like one that trickled all along.
 *
 * Its owner tells it when it runs (`resume`, `pause`) and checks it (`isLate`) from a timer at
 * `nextCheckAt`; bytes are a running total the owner keeps (bytes written, bytes received).
 *
 * @internal
 */
export class DataRateClock {
  private isRunningValue = false;
  private hasStarted = false;
  // Times are kept in whole ms (the loop time floored): a fractional value in a field would cost
  // every clock a heap-number box for life, and a check is never finer than a ms.
  /** Loop time the clock last resumed, whole ms. */
  private resumedAt = 0;
  /** Running time counted before `resumedAt`, since the count began, whole ms. */
  private elapsedMs = 0;
  /** The byte total when the count began. */
  private baseBytes = 0;
  /** A stopped clock for `rate`. */
  constructor(readonly rate: MinDataRate) {}

  /**
   * Time `bytes` earn at the rate, ms. Computed when needed (checks are rare): a fractional
   * field would cost every clock a heap-number box for life.
   */
  private msFor(bytes: number): number {
    return (bytes * 1000) / this.rate.bytesPerSecond;
  }

  /** True while the peer is being timed. */
  get isRunning(): boolean {
    return this.isRunningValue;
  }

  /** Starts a new count at `now`, with `bytes` the total so far: one grace, nothing earned. */
  restart(now: number, bytes: number): void {
    this.elapsedMs = 0;
    this.baseBytes = bytes;
    this.resumedAt = Math.floor(now);
    this.isRunningValue = true;
    this.hasStarted = true;
  }

  /** Back to a stopped clock that never ran: the next `resume` starts a new count. */
  reset(): void {
    this.isRunningValue = this.hasStarted = false;
    this.resumedAt = this.elapsedMs = this.baseBytes = 0;
  }

  /**
   * Time counts again from `now` (no change when it runs); the first time, a new count starts
   * with `bytes`, the total so far.
   */
  resume(now: number, bytes: number): void {
    if (this.isRunningValue) return;
    if (!this.hasStarted) {
      this.restart(now, bytes);
      return;
    }
    this.resumedAt = Math.floor(now);
    this.isRunningValue = true;
  }

  /** Time stops counting at `now` (no change when paused); what was earned and spent is kept. */
  pause(now: number): void {
    if (!this.isRunningValue) return;
    this.elapsedMs += Math.floor(now) - this.resumedAt;
    this.isRunningValue = false;
  }

  /**
   * True when, at `now` with `bytes` moved in all, the running time has used up the grace and
   * what the bytes earned. Otherwise, credit beyond one grace is dropped (the count starts over).
   */
  isLate(now: number, bytes: number): boolean {
    const elapsed = this.elapsedMs + (this.isRunningValue ? now - this.resumedAt : 0);
    const earned = this.rate.graceMs + this.msFor(bytes - this.baseBytes);
    if (elapsed >= earned) return true;
    if (earned - elapsed > this.rate.graceMs) {
      this.elapsedMs = 0;
      this.baseBytes = bytes;
      if (this.isRunningValue) this.resumedAt = Math.floor(now);
    }
    return false;
  }

  /**
   * When to check next, a whole ms (Infinity while paused): when the credit runs out if no more
   * bytes move, and within one grace, so credit earned meanwhile is capped.
   */
  nextCheckAt(now: number, bytes: number): number {
    if (!this.isRunningValue) return Infinity;
    const elapsed = this.elapsedMs + now - this.resumedAt;
    const earned = this.rate.graceMs + this.msFor(bytes - this.baseBytes);
    return Math.ceil(now + Math.max(0, Math.min(earned - elapsed, this.rate.graceMs)));
  }

  /** Milliseconds the peer needs, at the minimum rate, to move `bytes`. */
  timeFor(bytes: number): number {
    return this.msFor(bytes);
  }
}
