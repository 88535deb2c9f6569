/**
 * The HTTP/2 connection core shared by the client and server roles: a channel handler that
 * decodes frames and routes them, and the stream and outgoing-frames host, over the parts that
 * do the work (see {@link Http2Connection}).
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  systemClock,
  type ChannelHandler,
  type ChannelSlot,
  type Clock,
  type HandlerStatistics,
  type IoMessage,
} from '../../../lib/index.js';
import { UNBOXED_NUMBER_FIELD } from '../../../lib/field-layout.js';
import { Http2ApiErrors, Http2ConnectionError, type Http2StreamError } from '../errors.js';
import {
  ErrorCode,
  FrameType,
  INITIAL_CONNECTION_WINDOW_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  SETTINGS_DEFAULTS,
} from '../wire/constants.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import type { ClosedBy } from './closed-streams.js';
import type { Http2ConnectionOptions, Http2Headers, Http2PeerSettings } from './connection-options.js';
import { ConnectionShutdown } from './connection-shutdown.js';
import { ConnectionTimers } from './connection-timers.js';
import type { ControlFrameQueue } from './control-frame-queue.js';
import { ControlFrameWriter } from './control-frame-writer.js';
import { addOutbound, connectionWindowOverflow, consumeInbound, returnInboundCredit } from './flow-window.js';
import { HeaderBlockKind } from './header-rules.js';
import { HeaderState, SUMMARY } from './header-state.js';
import type { Http2Stream, Http2StreamFailure } from './http2-stream.js';
import { OutgoingFramesTask } from './outgoing-frames-task.js';
import { PingTracker } from './ping-tracker.js';
import { RoundRobinScheduler } from './round-robin-scheduler.js';
import { Rfc9218Scheduler } from './rfc9218-scheduler.js';
import type { WriteScheduler } from './write-scheduler.js';
import { resolveOptions, type ResolvedHttp2Options } from './resolved-options.js';
import { SettingsExchange } from './settings-exchange.js';
import { StreamLifecycle } from './stream-lifecycle.js';

export { GRACEFUL_CLOSE_PING_WAIT_MS } from './connection-timers.js';

/** Counters an HTTP/2 connection reports each statistics interval. */
export interface Http2Statistics extends HandlerStatistics {
  /** Always `http2`. */
  readonly category: 'http2';
  /** Streams open now. */
  readonly activeStreams: number;
  /** Messages written since the connection started. */
  readonly messagesWritten: number;
  /** Bytes written since the connection started. */
  readonly bytesWritten: number;
  /** Control frames waiting to be written. */
  readonly queuedControlFrames: number;
}

/** Read window of the connection's slot: how much the socket may deliver before we return it. */
const SLOT_READ_WINDOW = 1024 * 1024;

/**
 * Http2Connection is one HTTP/2 connection in a channel slot; {@link Http2ClientConnection} and
 * {@link Http2ServerConnection} are its two roles. It implements RFC 9113: preface and SETTINGS
 * exchange (ours apply when ACKed, with a timeout), the stream state machine, flow control in
 * both directions, PING, GOAWAY, and limits on everything a peer can make it hold.
 *
 * All writes go through one `OutgoingFramesTask`. Errors: a violation the peer commits is
 * answered with RST_STREAM (stream errors) or GOAWAY (connection errors) with the RFC code, and
 * surfaces as {@link Http2StreamError} / {@link Http2ConnectionError} through the stream's
 * `onClose` and the connection's `onError`.
 *
 * The connection itself only dispatches: frames from its decoder, the channel's calls and the
 * application's go to the part that owns the concept — the SETTINGS exchange, the timers, the
 * header state, the abuse budgets, the stream lifecycle, shutdown — each a small object the
 * connection owns, reaching back through a narrow host interface the connection implements.
 */
export abstract class Http2Connection implements ChannelHandler {
  /** `client` or `server`. */
  abstract readonly role: 'client' | 'server';
  /** The settings the peer announced (RFC defaults until its SETTINGS arrive). */
  readonly peerSettings: Http2PeerSettings = {
    headerTableSize: SETTINGS_DEFAULTS.HEADER_TABLE_SIZE,
    enablePush: true,
    // Unlimited (Number.MAX_SAFE_INTEGER, set by the constructor) until the peer says otherwise.
    maxConcurrentStreams: UNBOXED_NUMBER_FIELD,
    initialWindowSize: SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE,
    maxFrameSize: SETTINGS_DEFAULTS.MAX_FRAME_SIZE,
    maxHeaderListSize: UNBOXED_NUMBER_FIELD,
    enableConnectProtocol: false,
    noRfc7540Priorities: false,
  };
  // The connection's flow-control windows (stream 0), as fields like a stream's (flow-window.ts).
  /** @internal What the peer lets us send on the connection. */
  _outAvailable: number = INITIAL_CONNECTION_WINDOW_SIZE;
  /** @internal What the peer may still send on the connection. */
  _inAvailable: number = INITIAL_CONNECTION_WINDOW_SIZE;
  /** @internal Connection credit consumed and not yet returned with WINDOW_UPDATE. */
  _inUnreturned = 0;
  /** @internal The connection window we keep advertising (`connectionWindowSize`). */
  _inTarget: number;
  /** @internal */
  readonly options: ResolvedHttp2Options;
  /** @internal */
  readonly outgoing: OutgoingFramesTask;
  /**
   * @internal Last stream id of our final GOAWAY (shutdown sets it): peer streams above it are
   * ignored. A field, not a getter into shutdown: it is read for every new stream.
   */
  goawaySentLastStreamId: number = MAX_STREAM_ID;
  // The parts (see the class comment). Each reaches the others through the connection, so a
  // part holds one pointer (to the connection), not one per part it talks to.
  /** @internal Every control frame is queued through it; it is the control-frame queue. */
  readonly frames = new ControlFrameWriter();
  /** @internal The streams, open to closed. */
  readonly lifecycle: StreamLifecycle;
  /** @internal */
  readonly decoder: FrameDecoder;
  /** @internal */
  readonly headers: HeaderState;
  /** @internal */
  readonly settings: SettingsExchange;
  /** @internal */
  readonly timers: ConnectionTimers;
  /** @internal The PINGs awaiting ACK: made by the first PING. */
  pings: PingTracker | null = null;
  /** @internal */
  protected slot: ChannelSlot | null = null;
  /** Shutdown's state, once anything ends (see {@link Http2Connection.ending}). */
  private endingValue: ConnectionShutdown | null = null;

  /** Creates the core; `isServer` picks the role's stream ids and frame rules (RFC 9113 §5.1.1, §8.4). */
  protected constructor(options: Http2ConnectionOptions, isServer: boolean) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this._inTarget = Math.max(INITIAL_CONNECTION_WINDOW_SIZE, Math.min(MAX_WINDOW_SIZE, resolved.connectionWindowSize));
    this.peerSettings.maxConcurrentStreams = this.peerSettings.maxHeaderListSize = Number.MAX_SAFE_INTEGER;
    this.decoder = new FrameDecoder(this, {
      role: isServer ? 'server' : 'client',
      maxFrameSize: SETTINGS_DEFAULTS.MAX_FRAME_SIZE,
      maxHeaderBlockSize: resolved.maxHeaderBlockSize,
      maxContinuationFrames: resolved.maxContinuationFrames,
    });
    this.outgoing = new OutgoingFramesTask(this);
    this.frames.attach(this.outgoing);
    this.headers = new HeaderState(resolved);
    this.timers = new ConnectionTimers(this);
    this.settings = new SettingsExchange(this);
    this.lifecycle = new StreamLifecycle(this, isServer);
  }

  /**
   * @internal GOAWAY, graceful close, connection errors: made by the first of them (an idle
   * connection never needs it; until then its state is the defaults).
   */
  get ending(): ConnectionShutdown {
    return (this.endingValue ??= new ConnectionShutdown(this));
  }

  /** @internal The control frames waiting for the task. */
  get controlQueue(): ControlFrameQueue {
    return this.frames;
  }

  /** @internal */
  get minDataSendWindow(): number {
    return this.options.minDataSendWindow;
  }

  /** @internal */
  get streamHighWaterMark(): number {
    return this.options.streamHighWaterMark;
  }

  /** @internal Receive credit is returned by the application (`windowMode: 'manual'`). */
  get isConnectionWindowManual(): boolean {
    return this.options.windowMode === 'manual';
  }

  // ---------------------------------------------------------------- channel handler

  /** Starts the connection: queues our SETTINGS (the client's preface first) and the connection window. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.outgoing.attach(slot, this.role === 'client');
    this.settings.sendInitial(this.role === 'client');
    const connectionIncrement = this._inTarget - INITIAL_CONNECTION_WINDOW_SIZE;
    if (connectionIncrement > 0) {
      this.frames.windowUpdate(0, connectionIncrement);
      this._inAvailable += connectionIncrement;
    }
    this.timers.start(slot);
  }

  /** Decodes the bytes; returns the read window unless too many answers wait to be written. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const length = message.length;
    const ending = this.endingValue;
    if (ending !== null && ending.isReadStopped) {
      message.release();
      return;
    }
    try {
      this.decoder.decode(message.data, 0, length);
    } catch (error) {
      message.release();
      this.ending.failConnection(error);
      return;
    }
    message.release();
    this.timers.onRead(slot);
    const maxQueued = this.options.maxQueuedControlFrames;
    if (!this.frames.admitRead(slot, length, maxQueued)) {
      this.ending.failConnection(
        new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${maxQueued} control frames queued`),
      );
    }
  }

  /** Nothing may be written through an HTTP/2 connection from its right: it is the protocol's end. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the HTTP/2 handler does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Nothing reads to our right; window increments are not used. */
  incrementReadWindow(): void {}

  /** The socket may deliver this much before we have returned it. */
  initialWindowSize(): number {
    return SLOT_READ_WINDOW;
  }

  /** HTTP/2 adds no per-message overhead to the slots on its left. */
  messageOverhead(): number {
    return 0;
  }

  /**
   * READ: stop decoding. WRITE: stop DATA, fail open streams, send GOAWAY (unless one is out)
   * and finish once it is written; with `free`, stop at once.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.ending.isReadStopped = true;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.ending.shutdownWrite(slot, error, free);
  }

  /** Counters for the statistics interval. */
  gatherStatistics(): Http2Statistics {
    return {
      category: 'http2',
      activeStreams: this.lifecycle.streams.size,
      messagesWritten: this.outgoing.messagesWritten,
      bytesWritten: this.outgoing.bytesWritten,
      queuedControlFrames: this.controlQueue.frameCount,
    };
  }

  /** Called by the channel after shutdown: drops queued frames, then reports `onClose`. */
  destroy(): void {
    this.controlQueue.clear();
    this.outgoing.isWritingStopped = true;
    this.options.onClose?.(this.slot?.channel.shutdownError ?? null);
  }

  // ---------------------------------------------------------------- public API

  /** Streams open now. */
  get activeStreamCount(): number {
    return this.lifecycle.streams.size;
  }

  /** The channel this connection runs in (null before installation). */
  get channelSlot(): ChannelSlot | null {
    return this.slot;
  }

  /** The clock of the event loop this connection runs in (the system clock before installation). */
  get clock(): Clock {
    return this.slot === null ? systemClock : this.slot.channel.loop.clock;
  }

  /** True once GOAWAY was received or a graceful close began. */
  get isGoingAway(): boolean {
    return this.endingValue !== null && this.endingValue.isGoingAway;
  }

  /**
   * Sends a PING; `callback` gets the round-trip time in ms (loop clock) or an error if the
   * connection closes first. Throws `HTTP2_TOO_MANY_PINGS` beyond `maxOutstandingPings`.
   */
  ping(callback: (error: SluiceError | null, rttMs: number) => void): void {
    this.assertOpen();
    this.pings ??= new PingTracker();
    this.pings.send(this.frames, this.slot!.channel.loop.now(), this.options.maxOutstandingPings, callback);
  }

  /**
   * Closes gracefully (RFC 9113 §6.8): no new streams are accepted beyond those already begun,
   * in-flight streams finish, then the channel shuts down. A server first announces GOAWAY with
   * the largest id, then after one round trip (PING) — or {@link GRACEFUL_CLOSE_PING_WAIT_MS} at
   * most — the real last stream id. Resolves when the channel has shut down.
   */
  close(): Promise<SluiceError | null> {
    return this.ending.close();
  }

  /** Ends the connection now: GOAWAY(`errorCode`) and shutdown; streams fail with the error. */
  abort(errorCode: number = ErrorCode.CANCEL, message = 'connection aborted by the application'): void {
    this.ending.failConnection(new Http2ConnectionError(errorCode, message));
  }

  // ---------------------------------------------------------------- for the roles

  /** @internal Throws `HTTP2_CONNECTION_CLOSED` unless the connection can start something new. */
  protected assertOpen(): void {
    const slot = this.slot;
    const ending = this.endingValue;
    if (slot === null || slot.channel.isShuttingDown || (ending !== null && ending.hasFailed)) {
      throw new SluiceError(Http2ApiErrors.CONNECTION_CLOSED);
    }
  }

  /** @internal Closes a stream once: forgets it, fails its writes, tells the application. */
  protected closeStream(stream: Http2Stream, error: Http2StreamFailure | null, closedBy: ClosedBy): void {
    this.lifecycle.closeStream(stream, error, closedBy);
  }

  /** @internal Local streams waiting for a concurrency slot (client). */
  hasPendingLocalStreams(): boolean {
    return false;
  }

  /** @internal The peer's settings changed (the client may open waiting streams). */
  onPeerSettingsApplied(): void {}

  /** @internal GOAWAY arrived (the client fails its waiting streams). */
  onGoawayReceived(): void {}

  /** @internal A stream closed (the client may open a waiting one). */
  onStreamClosed(_stream: Http2Stream): void {}

  /** @internal The peer opened a stream, after `onStream` (the server times its body, exempts CONNECT). */
  onPeerStreamOpened(_stream: Http2Stream, _isEndStream: boolean, _isConnect: boolean): void {}

  // ---------------------------------------------------------------- hosts of the parts

  /** @internal Loop time now (0 before installation). */
  now(): number {
    return this.slot === null ? 0 : this.slot.channel.loop.now();
  }

  /** @internal Shuts the channel down once a graceful close has no streams left. */
  maybeFinishClosing(): void {
    this.endingValue?.maybeFinishClosing();
  }

  /** @internal Returns connection receive credit, batching WINDOW_UPDATE (RFC 9113 §6.9). */
  returnConnectionCredit(size: number): void {
    const increment = returnInboundCredit(this, size, this.options.windowUpdateRatio);
    if (increment > 0) this.frames.windowUpdate(0, increment);
  }

  // ---------------------------------------------------------------- stream host

  /** @internal */
  _streamHasData(stream: Http2Stream): void {
    if (stream.id === 0 || !stream._areHeadersSent) return; // not opened yet: sent once it opens
    this.outgoing.addDataStream(stream);
  }

  /** @internal */
  _sendStreamHeaders(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    this.assertOpen();
    const kind = stream._hasSentFinalHeaders
      ? HeaderBlockKind.TRAILERS
      : stream.isLocal
        ? HeaderBlockKind.REQUEST
        : HeaderBlockKind.RESPONSE;
    // Everything is checked before anything changes: a refused block leaves no trace.
    this.frames.headerBlock(stream.id, this.headers.encodeForStream(stream, headers, kind, isEndStream), isEndStream);
    if (SUMMARY.priority !== null && kind === HeaderBlockKind.RESPONSE)
      this.lifecycle.signals.onResponsePriority(stream, SUMMARY.priority);
    if (isEndStream) {
      stream._markEndSent();
      this.lifecycle.onEndStreamSent(stream);
    } else if (stream._pendingBytes > 0 || stream._isEndQueued) this.outgoing.addDataStream(stream);
  }

  /** @internal The application sets its stream's priority (RFC 9218). */
  _setStreamPriority(stream: Http2Stream, rank: number): void {
    this.lifecycle.signals.setPriority(stream, rank);
  }

  /** @internal The application resets its stream (not counted as peer abuse). */
  _resetStream(stream: Http2Stream, error: Http2StreamError): void {
    this.lifecycle.resetStream(stream, error, false);
  }

  /** @internal The application finished with a closed stream whose slot it held. */
  _releaseConcurrencySlot(stream: Http2Stream): void {
    this.lifecycle.releaseConcurrencySlot(stream);
  }

  /** @internal */
  _onDataRateChanged(stream: Http2Stream): void {
    this.timers.onStreamDataRateChanged(stream);
  }

  /** @internal Manual-mode credit the application returned. */
  _returnStreamCredit(stream: Http2Stream, size: number): void {
    if (stream.isClosed) return;
    this.lifecycle.returnStreamCredit(stream, size);
    if (this.isConnectionWindowManual) this.returnConnectionCredit(size);
  }

  // ---------------------------------------------------------------- outgoing host

  /** @internal */
  get peerMaxFrameSize(): number {
    return this.frames.encoder.maxFrameSize;
  }

  /** @internal */
  get isWaitingForGoaway(): boolean {
    return this.endingValue !== null && this.endingValue.isWaitingForGoaway;
  }

  /** @internal */
  queueTrailers(stream: Http2Stream): void {
    const trailers = stream._trailers!;
    stream._trailers = null;
    this.frames.headerBlock(stream.id, this.headers.encode(trailers), true);
    stream._markEndSent();
    this.lifecycle.onEndStreamSent(stream);
  }

  /** @internal Our END_STREAM is out: OPEN → HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE → CLOSED. */
  onEndStreamSent(stream: Http2Stream): void {
    this.lifecycle.onEndStreamSent(stream);
  }

  /** @internal */
  onStreamCallbackThrew(stream: Http2Stream): void {
    this.lifecycle.onStreamCallbackThrew(stream);
  }

  /** @internal The task sent a message: the write deadline counts from now. */
  onMessageSent(): void {
    this.timers.onMessageSent();
  }

  /** @internal */
  onDataWaitingChanged(): void {
    this.timers.onDataWaitingChanged();
  }

  /** @internal */
  onControlQueueDrained(): void {
    this.frames.releaseHeldReadWindow(this.slot, this.options.maxQueuedControlFrames);
  }

  /** @internal */
  finishWriteShutdown(): void {
    this.endingValue?.finishWriteShutdown();
  }

  /** @internal */
  onWriteFailed(error: SluiceError): void {
    this.ending.onWriteFailed(error);
  }

  /** @internal DATA goes by RFC 9218 priorities, or round-robin (`writeScheduler`). */
  createWriteScheduler(): WriteScheduler {
    return this.options.writeScheduler === 'round-robin' ? new RoundRobinScheduler() : new Rfc9218Scheduler();
  }

  // ---------------------------------------------------------------- frame listener

  /** @internal DATA, RFC 9113 §6.1 and flow control §6.9. */
  onData(
    streamId: number,
    data: Uint8Array,
    start: number,
    end: number,
    flowControlledLength: number,
    isFrameEnd: boolean,
    isEndStream: boolean,
  ): void {
    if (!consumeInbound(this, flowControlledLength)) {
      throw new Http2ConnectionError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowControlledLength} bytes exceeds the connection receive window of ${this._inAvailable}`,
      );
    }
    // An empty DATA frame that does not end the stream does nothing (CVE-2019-9518).
    if (flowControlledLength === 0 && !isEndStream && isFrameEnd) this.lifecycle.countGlitch('empty DATA');
    const stream = this.lifecycle.streams.get(streamId);
    if (stream === undefined) {
      // The connection window still counts it (RFC 9113 §6.9); nobody will consume it.
      this.returnConnectionCredit(flowControlledLength);
      this.lifecycle.onFrameForMissingStream(streamId, FrameType.DATA, flowControlledLength, isEndStream);
      return;
    }
    this.lifecycle.onData(stream, data, start, end, flowControlledLength, isEndStream);
  }

  /** @internal A complete header block, RFC 9113 §6.2, §8. */
  onHeaders(streamId: number, block: Uint8Array, start: number, end: number, isEndStream: boolean): void {
    // Decode first, always: the HPACK context must stay in sync even for refused streams (§4.3).
    this.lifecycle.onHeaders(streamId, this.headers.decode(block, start, end), isEndStream);
  }

  /**
   * @internal PRIORITY is parsed and ignored (RFC 9113 §5.3.2 deprecates the scheme); a flood is
   * a glitch. One on a recently closed stream is free (§5.1 allows it in every state).
   */
  onPriority(streamId: number): void {
    const lifecycle = this.lifecycle;
    if (lifecycle.streams.get(streamId) !== undefined || lifecycle.isIdleStream(streamId))
      lifecycle.countGlitch('PRIORITY');
    else lifecycle.onFrameForMissingStream(streamId, FrameType.PRIORITY);
  }

  /** @internal PRIORITY_UPDATE, RFC 9218 §7.1 (the decoder lets only a server receive it). */
  onPriorityUpdate(streamId: number, value: Uint8Array, start: number, end: number): void {
    this.lifecycle.signals.onUpdate(streamId, value, start, end);
  }

  /** @internal Frames of unknown types are ignored (RFC 9113 §5.5); a flood is a glitch. */
  onUnknownFrame(): void {
    this.lifecycle.countGlitch('unknown frame type');
  }

  /** @internal RST_STREAM, RFC 9113 §6.4. */
  onRstStream(streamId: number, errorCode: number): void {
    const stream = this.lifecycle.streams.get(streamId);
    if (stream === undefined) this.lifecycle.onFrameForMissingStream(streamId, FrameType.RST_STREAM);
    else this.lifecycle.onRstStream(stream, errorCode);
  }

  /** @internal SETTINGS, RFC 9113 §6.5. */
  onSettings(settings: readonly number[], isAck: boolean): void {
    if (isAck) this.settings.onAck();
    else this.settings.onPeerSettings(settings);
  }

  /** @internal The client rejects PUSH_PROMISE: it announced SETTINGS_ENABLE_PUSH = 0 (RFC 9113 §8.4). */
  onPushPromise(): void {
    throw new Http2ConnectionError(
      ErrorCode.PROTOCOL_ERROR,
      'PUSH_PROMISE received although push is disabled (RFC 9113 §8.4)',
    );
  }

  /** @internal PING, RFC 9113 §6.7: answer at once (ahead of other frames), or match our own. */
  onPing(opaqueHigh: number, opaqueLow: number, isAck: boolean): void {
    if (!isAck) this.frames.pingAck(opaqueHigh, opaqueLow);
    else this.pings?.onAck(opaqueHigh, opaqueLow, this.slot === null ? null : this.slot.channel.loop.now());
  }

  /** @internal GOAWAY, RFC 9113 §6.8. */
  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void {
    this.ending.onGoaway(lastStreamId, errorCode, debugData, start, end);
  }

  /** @internal WINDOW_UPDATE, RFC 9113 §6.9. */
  onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) {
      if (!addOutbound(this, increment)) throw connectionWindowOverflow('connection send window');
      if (this.outgoing.dataStreamCount > 0) this.outgoing.wake();
      return;
    }
    const stream = this.lifecycle.streams.get(streamId);
    if (stream === undefined) this.lifecycle.onFrameForMissingStream(streamId, FrameType.WINDOW_UPDATE, increment);
    else this.lifecycle.onWindowUpdate(stream, increment);
  }

  /** @internal A stream error the decoder found in a frame. */
  onStreamError(error: Http2StreamError): void {
    this.lifecycle.onStreamError(error);
  }
}
