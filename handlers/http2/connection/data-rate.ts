/**
 * The minimum data rates of a server connection: how fast the peer must take the DATA queued
 * for it (`minResponseDataRate`, one clock for the connection) and send the request bodies the
 * application reads (`minRequestBodyDataRate`, one clock per stream).
 *
 * @module
 * @internal
 */
import { IoErrors, SluiceError, type ChannelSlot, type MinDataRate } from '../../../lib/index.js';
import { DataRateClock } from '../../../lib/data-rate.js';
import { ErrorCode } from '../wire/constants.js';
import { ClosedBy } from './closed-streams.js';
import type { ConnectionShutdown } from './connection-shutdown.js';
import type { ControlFrameWriter } from './control-frame-writer.js';
import type { Http2Stream } from './http2-stream.js';
import type { OutgoingFramesTask } from './outgoing-frames-task.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { StreamLifecycle } from './stream-lifecycle.js';
import { StreamState } from './stream-state.js';

/**
 * StreamDataRate is one stream's part in the minimum rates, made the first time it needs one (a
 * request with a body, an override, a waiting reader): a stream that never does carries none.
 * @internal
 */
export class StreamDataRate {
  /** `setMinDataRate(null)`: the stream takes no part in either rate (WebSocket, tunnels). */
  isExempt = false;
  /** This stream's request-body rate, set by `setMinDataRate(rate)`; undefined: the connection's. */
  receiveRate: MinDataRate | undefined = undefined;
  /** The peer opened it with a body to come: the body may be timed. */
  isBodyExpected = false;
  /** A reader of the convenient body waits for bytes (what times a manual-window stream). */
  isReadWaiting = false;
  /** The request body's clock, made when it first runs. */
  clock: DataRateClock | null = null;
}

/** True unless `stream` opted out of the rates (a stream without state takes part). @internal */
export function isRateTimed(stream: Http2Stream): boolean {
  return stream._dataRate === null || !stream._dataRate.isExempt;
}

/**
 * What the rates need from their connection.
 * @internal
 */
export interface DataRatesHost {
  readonly options: ResolvedHttp2Options;
  readonly outgoing: Pick<
    OutgoingFramesTask,
    'hasMessageInFlight' | 'inFlightSince' | 'inFlightLength' | 'bytesAccepted' | 'isDataWaiting' | 'releaseStall'
  >;
  readonly lifecycle: Pick<StreamLifecycle, 'streams' | 'closeStream'>;
  readonly frames: Pick<ControlFrameWriter, 'rstStream' | 'heldReadWindow'>;
  readonly ending: Pick<ConnectionShutdown, 'cutSlowPeer'>;
  /** The connection receive window the peer may still fill (0 or less: we hold it back). */
  readonly _inAvailable: number;
}

/**
 * Http2DataRates holds one server connection's minimum-rate clocks.
 *
 * The response side runs one {@link DataRateClock} for the connection, only while DATA waits for
 * the peer: queued for the write scheduler, held by a spent flow-control window (a stream's, or
 * the connection's), or in the message being written (TCP not draining). It starts and stops on
 * those changes — a message sent, a write completed, the writer going idle — never per frame.
 * Bytes earned are the bytes the socket took. A message being written has, besides, its own
 * allowance of its size at the rate (its progress is not visible until it completes). Past the
 * deadline the connection is cut: GOAWAY(ENHANCE_YOUR_CALM) when only windows held the DATA, at
 * once when the socket does not drain.
 *
 * The request side runs one clock per stream whose body the application reads, only while it
 * reads: an auto-window stream from its HEADERS to its END_STREAM, a manual-window stream only
 * while the convenient body's reader waits for bytes (a reader that stops never makes the peer
 * late), and never while the connection itself holds the peer back. A stream past its deadline
 * is reset with RST_STREAM(ENHANCE_YOUR_CALM) and fails with `IO_RECEIVE_RATE_TOO_LOW`.
 *
 * Streams set to `setMinDataRate(null)` take no part in either (CONNECT streams by default).
 *
 * @internal
 */
export class Http2DataRates {
  /** The response side's clock; null without a `minResponseDataRate`. */
  private readonly sendClock: DataRateClock | null;
  /** Streams whose body clock may be running (recounted at each check): 0 skips the walk. */
  private receiveClockCount = 0;

  /** The rates of `host`'s connection. */
  constructor(private readonly host: DataRatesHost) {
    const rate = host.options.minResponseDataRate;
    this.sendClock = rate === null ? null : new DataRateClock(rate);
  }

  /**
   * DATA may have started or stopped waiting for the peer (a message sent at `sentAt`, a write
   * completed, the writer went idle): runs or pauses the response clock. The clock is read only
   * when it starts or stops (a message's send time serves when there is one). Returns when the
   * timer must check next, or Infinity.
   */
  onSendStateChanged(slot: ChannelSlot, sentAt = -1): number {
    const clock = this.sendClock;
    if (clock === null) return Infinity;
    const outgoing = this.host.outgoing;
    if (clock.isRunning === outgoing.isDataWaiting) return Infinity; // no change; the timer is set if it runs
    const now = sentAt >= 0 ? sentAt : slot.channel.loop.now();
    if (clock.isRunning) {
      clock.pause(now);
      return Infinity;
    }
    const bytes = outgoing.bytesAccepted;
    clock.resume(now, bytes);
    return clock.nextCheckAt(now, bytes);
  }

  /**
   * A stream's part in the request-body rate changed (opened with a body, a reader began or
   * stopped waiting, an override): runs or pauses its clock. Returns when to check next.
   */
  onReceiveStateChanged(stream: Http2Stream, now: number): number {
    const state = stream._dataRate;
    if (state === null) return Infinity;
    const rate = state.receiveRate ?? this.host.options.minRequestBodyDataRate;
    const isTimed =
      rate !== null &&
      !state.isExempt &&
      state.isBodyExpected &&
      isReceiving(stream) &&
      (!stream.isManualWindow || state.isReadWaiting);
    let clock = state.clock;
    if (!isTimed || rate === null) {
      clock?.pause(now);
      return Infinity;
    }
    // A new rate starts a new count; the same one resumes its count (nothing to do if it runs).
    if (clock === null || clock.rate !== rate) clock = state.clock = new DataRateClock(rate);
    else if (clock.isRunning) return Infinity;
    clock.resume(now, stream._receivedBodyBytes);
    this.receiveClockCount++;
    return clock.nextCheckAt(now, stream._receivedBodyBytes);
  }

  /** The timer fired at `now`: cuts what is late; returns when to check next (-1: the connection was cut). */
  check(slot: ChannelSlot, now: number): number {
    const next = this.checkSend(slot, now);
    if (next < 0) return next;
    return this.receiveClockCount === 0 ? next : Math.min(next, this.checkReceive(now));
  }

  private checkSend(slot: ChannelSlot, now: number): number {
    const clock = this.sendClock;
    if (clock === null || !clock.isRunning) return Infinity;
    const outgoing = this.host.outgoing;
    if (!outgoing.isDataWaiting) {
      clock.pause(now);
      return Infinity;
    }
    const bytes = outgoing.bytesAccepted;
    if (!clock.isLate(now, bytes)) return clock.nextCheckAt(now, bytes);
    // The message being written shows no progress until it completes: it has its own allowance.
    if (outgoing.hasMessageInFlight) {
      const inFlightDue = Math.ceil(outgoing.inFlightSince + clock.timeFor(outgoing.inFlightLength));
      if (now < inFlightDue) return inFlightDue;
    }
    const rate = clock.rate;
    this.host.ending.cutSlowPeer(
      slot,
      new SluiceError(
        IoErrors.SEND_RATE_TOO_LOW,
        `the peer took our DATA slower than ${rate.bytesPerSecond} B/s (after a ${rate.graceMs} ms grace)`,
      ),
      !outgoing.hasMessageInFlight,
    );
    return -1;
  }

  private checkReceive(now: number): number {
    const host = this.host;
    // The peer cannot send while we hold our read window or its connection window is spent:
    // that wait is ours, so every count starts over.
    const isTakingBytes = host.frames.heldReadWindow === 0 && host._inAvailable > 0;
    let next = Infinity;
    let count = 0;
    let late: Http2Stream[] | null = null;
    for (const stream of host.lifecycle.streams.values()) {
      const clock = stream._dataRate?.clock;
      if (clock === undefined || clock === null || !clock.isRunning) continue;
      if (!isReceiving(stream)) {
        clock.pause(now);
        continue;
      }
      const bytes = stream._receivedBodyBytes;
      if (!isTakingBytes) clock.restart(now, bytes);
      else if (clock.isLate(now, bytes)) {
        (late ??= []).push(stream);
        continue;
      }
      count++;
      next = Math.min(next, clock.nextCheckAt(now, bytes));
    }
    this.receiveClockCount = count;
    if (late !== null) for (const stream of late) this.resetSlowUpload(stream);
    return next;
  }

  /** RST_STREAM(ENHANCE_YOUR_CALM); the stream (and the application's body read) fails with `IO_RECEIVE_RATE_TOO_LOW`. */
  private resetSlowUpload(stream: Http2Stream): void {
    if (stream.isClosed) return;
    const rate = stream._dataRate!.clock!.rate;
    const error = new SluiceError(
      IoErrors.RECEIVE_RATE_TOO_LOW,
      `stream ${stream.id}: the request body came slower than ${rate.bytesPerSecond} B/s (after a ${rate.graceMs} ms grace)`,
    );
    this.host.frames.rstStream(stream.id, ErrorCode.ENHANCE_YOUR_CALM);
    this.host.lifecycle.closeStream(stream, error, ClosedBy.RESET_SENT);
  }

  /** A stream left both rates (`setMinDataRate(null)`): DATA it waits to send no longer counts. */
  onExempted(stream: Http2Stream, now: number): void {
    this.host.outgoing.releaseStall(stream);
    stream._dataRate?.clock?.pause(now);
  }
}

/** The peer may still send on the stream (RFC 9113 §5.1: open, or half-closed on our side). */
function isReceiving(stream: Http2Stream): boolean {
  const state = stream.state;
  return state === StreamState.OPEN || state === StreamState.HALF_CLOSED_LOCAL;
}
