/**
 * A token bucket that bounds how often a peer may make us do something.
 *
 * @module
 */

/**
 * EventRateLimit allows `maxEvents` per `intervalMs` on average, with bursts of up to
 * `maxEvents`, refilling continuously on the caller's clock. Used to bound resets, glitches and
 * other work a peer can make a connection do (Rapid Reset, MadeYouReset, empty-frame floods).
 * `maxEvents` of 0 or less disables the limit.
 */
export class EventRateLimit {
  private tokens: number;
  private updatedAt = Number.NaN;
  private readonly refillPerMs: number;

  /** Creates a full bucket. */
  constructor(
    private readonly maxEvents: number,
    intervalMs: number,
  ) {
    this.tokens = maxEvents;
    this.refillPerMs = intervalMs > 0 ? maxEvents / intervalMs : Infinity;
  }

  /** Records one event at time `nowMs`; false when it goes over the limit. */
  take(nowMs: number): boolean {
    if (this.maxEvents <= 0) return true;
    if (Number.isNaN(this.updatedAt)) this.updatedAt = nowMs;
    const elapsed = nowMs - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.maxEvents, this.tokens + elapsed * this.refillPerMs);
      this.updatedAt = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
