/**
 * The budgets that bound the work a peer can make a connection do for nothing.
 *
 * @module
 * @internal
 */
import { Http2ConnectionError } from '../errors.js';
import { ErrorCode } from '../wire/constants.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import { EventRateLimit } from './event-rate-limit.js';

/**
 * AbuseBudgets holds one connection's {@link EventRateLimit}s: RST_STREAM frames the peer sends
 * (Rapid Reset, CVE-2023-44487), resets the peer makes us send (MadeYouReset, CVE-2025-8671) and
 * glitches — frames that do no work (empty DATA, PRIORITY and unknown-frame floods, late frames
 * no race explains). Each limit is made by the first event it counts: most connections never see
 * one. Spending past a budget throws a connection error ENHANCE_YOUR_CALM (GOAWAY).
 *
 * Legal races are never billed: the callers only count frames RFC 9113 does not tell them to
 * ignore (see `stream-state.ts`).
 *
 * @internal
 */
export class AbuseBudgets {
  private peerResets: EventRateLimit | null = null;
  private localResets: EventRateLimit | null = null;
  private glitches: EventRateLimit | null = null;

  /** Budgets from `options` (`max…PerInterval` per `abuseIntervalMs`). */
  constructor(private readonly options: ResolvedHttp2Options) {}

  /** A RST_STREAM from the peer that closed a stream, at loop time `now`. */
  countPeerReset(now: number): void {
    const options = this.options;
    this.peerResets ??= new EventRateLimit(options.maxPeerResetsPerInterval, options.abuseIntervalMs);
    if (!this.peerResets.take(now)) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${options.maxPeerResetsPerInterval} RST_STREAM frames received`,
      );
    }
  }

  /** A RST_STREAM the peer made us send (a stream error it caused), at loop time `now`. */
  countLocalReset(now: number): void {
    const options = this.options;
    this.localResets ??= new EventRateLimit(options.maxLocalResetsPerInterval, options.abuseIntervalMs);
    if (!this.localResets.take(now)) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `peer caused more than ${options.maxLocalResetsPerInterval} stream resets`,
      );
    }
  }

  /** A frame that did no useful work (`what` names it for the GOAWAY), at loop time `now`. */
  countGlitch(what: string, now: number): void {
    const options = this.options;
    this.glitches ??= new EventRateLimit(options.maxGlitchesPerInterval, options.abuseIntervalMs);
    if (!this.glitches.take(now)) {
      throw new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `too many frames doing no work (${what})`);
    }
  }
}
