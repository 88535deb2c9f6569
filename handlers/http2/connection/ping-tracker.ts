/**
 * The PINGs a connection sent and awaits the ACK of (RFC 9113 §6.7).
 *
 * @module
 * @internal
 */
import { SluiceError } from '../../../lib/index.js';
import { emptyList, lazyPush, lazyRemoveAt, type LazyList } from '../../../lib/field-layout.js';
import { Http2ApiErrors } from '../errors.js';
import type { ControlFrameWriter } from './control-frame-writer.js';

/** A PING callback: the round-trip time in ms, or the error that ended the wait. @internal */
export type PingCallback = (error: SluiceError | null, rttMs: number) => void;

interface OutstandingPing {
  readonly high: number;
  readonly low: number;
  readonly sentAt: number;
  readonly callback: PingCallback;
}

/**
 * PingTracker sends a connection's PINGs and matches the peer's ACKs to them: each PING carries
 * a sequence number as opaque data, and its callback gets the round-trip time on the loop clock.
 * The list is empty most of a connection's life: a {@link LazyList}.
 *
 * @internal
 */
export class PingTracker {
  private outstanding: LazyList<OutstandingPing> = emptyList();
  private sequence = 0;

  /** PINGs awaiting their ACK. */
  get count(): number {
    return this.outstanding.length;
  }

  /**
   * Queues a PING sent at loop time `now`. Throws `HTTP2_TOO_MANY_PINGS` with `max` already
   * outstanding.
   */
  send(frames: ControlFrameWriter, now: number, max: number, callback: PingCallback): void {
    if (this.outstanding.length >= max) throw new SluiceError(Http2ApiErrors.TOO_MANY_PINGS);
    const high = 0x736c7563; // "sluc"
    const low = ++this.sequence >>> 0;
    this.outstanding = lazyPush(this.outstanding, { high, low, sentAt: now, callback });
    frames.ping(high, low);
  }

  /** The peer's ACK with opaque data `high`, `low` arrived at `now` (or null: no clock). An ACK for nothing we sent is ignored. */
  onAck(high: number, low: number, now: number | null): void {
    const pings = this.outstanding;
    for (let i = 0; i < pings.length; i++) {
      const ping = pings[i];
      if (ping.high === high && ping.low === low) {
        this.outstanding = lazyRemoveAt(pings, i);
        ping.callback(null, (now ?? ping.sentAt) - ping.sentAt);
        return;
      }
    }
  }

  /** Fails every outstanding PING with `error`. */
  rejectAll(error: SluiceError): void {
    const pings = this.outstanding;
    this.outstanding = emptyList();
    for (const ping of pings) ping.callback(error, 0);
  }
}
