/**
 * One HTTP/2 stream: its RFC 9113 §5.1 state, flow-control windows, outgoing body queue and
 * the application's callbacks.
 *
 * @module
 */
import { SluiceError, type ChannelSlot, type Clock, type EventLoop, type MinDataRate } from '../../../lib/index.js';
import { checkMinDataRate } from '../../../lib/data-rate.js';
import { ErrorCode, FrameFlag, FrameType } from '../wire/constants.js';
import type { Http2Headers } from './connection-options.js';
import { copyBytes } from '../../../lib/bytes.js';
import { writeFrameHeader } from '../wire/frame-encoder.js';
import { CLOSING, StreamEvent, StreamState, nextStreamPhase, type StreamPhase } from './stream-state.js';
import { StreamDataRate } from './data-rate.js';
import { HeaderBlockKind, validateHeaderBlock } from './header-rules.js';
import { DEFAULT_RANK, checkedRank, priorityOfRank, type Http2Priority } from './priority.js';
import {
  checkCallback,
  checkChunk,
  checkCount,
  checkErrorCode,
  checkFlag,
  checkHeaderList,
} from './argument-checks.js';
import {
  Http2ApiErrors,
  Http2SessionErrors,
  Http2ConnectionError,
  Http2StreamError,
  http2ErrorDefinition,
} from '../errors.js';

export { StreamState } from './stream-state.js';

/** The error a stream ends with: a stream error, a connection error, or a transport error. */
export type Http2StreamFailure = Http2StreamError | Http2ConnectionError | SluiceError;

/**
 * Drained write queues of one write each, for the next streams' first writes: a response body
 * written in one chunk then allocates no queue (64 bytes per request otherwise). Module-wide, as
 * a queue is only touched synchronously on the loop's thread; bounded, so a burst leaves little.
 */
const SPARE_WRITE_QUEUES: (Uint8Array | WriteCallback | null)[][] = [];
const MAX_SPARE_WRITE_QUEUES = 64;

/**
 * Http2StreamHandler receives one stream's events, synchronously on the connection's loop.
 * Every method is optional. Byte ranges passed to `onData` are views valid only until the
 * callback returns: copy what you keep.
 *
 * A callback that throws — one of these, `onStream`, or a write or end callback — fails its own
 * stream and nothing else: the stream is reset with RST_STREAM(INTERNAL_ERROR), `onClose` gets
 * an `Http2StreamError` (`HTTP2_INTERNAL_ERROR`) whose `cause` is what was thrown, and the
 * failure is logged at WARN (subject `http2-stream`). The connection and its other streams go
 * on. A throw from `onClose` itself is only logged.
 */
export interface Http2StreamHandler {
  /** Final response headers (client role). */
  onResponse?(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void;
  /** A 1xx informational response (client role). */
  onInformational?(stream: Http2Stream, headers: Http2Headers): void;
  /** Body bytes `data[start..end)`. In manual window mode, return credit with `stream.updateWindow`. */
  onData?(stream: Http2Stream, data: Uint8Array, start: number, end: number): void;
  /** Trailers; `onEnd` follows. */
  onTrailers?(stream: Http2Stream, headers: Http2Headers): void;
  /** The peer ended its side (END_STREAM) after its last data or trailers. */
  onEnd?(stream: Http2Stream): void;
  /** Outgoing buffered bytes fell from above the high-water mark to below it. */
  onDrain?(stream: Http2Stream): void;
  /**
   * The stream closed: `error` is null when both sides ended normally, else why it failed
   * (reset by the peer or by us, connection error, transport error). Called exactly once, last.
   */
  onClose?(stream: Http2Stream, error: Http2StreamFailure | null): void;
}

/** Called once a chunk given to `write` was framed (its memory may be reused) or failed. */
export type WriteCallback = (error: Http2StreamFailure | null) => void;

/**
 * Http2StreamHost is what a stream needs from its connection; the connection core implements
 * it. Not for applications.
 *
 * @internal
 */
export interface Http2StreamHost {
  /** Buffered bytes above which `write` returns false. */
  readonly streamHighWaterMark: number;
  /** The clock of the connection's event loop. */
  readonly clock: Clock;
  /** The connection's slot (null before it is installed). */
  readonly channelSlot: ChannelSlot | null;
  /** The stream has DATA (or its end) to write. */
  _streamHasData(stream: Http2Stream): void;
  /** Encodes and queues a header block for the stream. */
  _sendStreamHeaders(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void;
  /** Sends RST_STREAM and closes the stream with `error`. */
  _resetStream(stream: Http2Stream, error: Http2StreamError): void;
  /** Returns manual-mode receive credit. */
  _returnStreamCredit(stream: Http2Stream, size: number): void;
  /** The application gives the stream the priority of `rank` (see `priority.ts`). */
  _setStreamPriority(stream: Http2Stream, rank: number): void;
  /** The application released the concurrency slot of a closed stream. */
  _releaseConcurrencySlot(stream: Http2Stream): void;
  /** The stream's part in the minimum data rates changed (an override, a reader waiting or not). */
  _onDataRateChanged(stream: Http2Stream): void;
}

const NO_HANDLER: Http2StreamHandler = Object.freeze({});

/** The bits of `Http2Stream.flags`. */
const StreamFlag = {
  LOCAL: 1 << 0,
  MANUAL_WINDOW: 1 << 1,
  FINAL_HEADERS_RECEIVED: 1 << 2,
  HEAD: 1 << 3,
  SLOT_HELD_AFTER_CLOSE: 1 << 4,
  FINAL_HEADERS_SENT: 1 << 5,
  DISCARDS_WRITES: 1 << 6,
  NEEDS_DRAIN: 1 << 7,
} as const;

/**
 * The parts of a stream most streams never use — the application's `userData`, trailers, an end
 * callback, a request body's length and count, manual-window credit, concurrency holds, a thrown
 * callback, data-rate state — kept apart so a small request's stream object, allocated per
 * request, is 64 bytes smaller. Made by the first value a stream sets there.
 */
class StreamExtras {
  userData: unknown = null;
  heldCredit = 0;
  trailers: Http2Headers | null = null;
  endCallback: WriteCallback | null = null;
  expectedContentLength = -1;
  receivedBodyBytes = 0;
  concurrencyHolds = 0;
  thrown: unknown = null;
  dataRate: StreamDataRate | null = null;
}

/**
 * Http2Stream is one request/response exchange on a connection. The low-level API: callbacks
 * on `handler`, writes with completion callbacks, no Node streams and no per-chunk promises.
 *
 * Sending: `sendHeaders` (response or informational headers), `write(chunk)`, `end(trailers?)`;
 * `write` returns false once more than the high-water mark is buffered — continue on
 * `onDrain` or from the write callbacks. Receiving: `handler` callbacks; in manual window mode
 * (`isManualWindow`), call `updateWindow(n)` once `n` bytes were consumed.
 */
export class Http2Stream {
  private streamId: number;
  /**
   * The stream's yes/no facts read once or twice in its life, one bit each in one number
   * ({@link StreamFlag}): a stream is made per request and each field costs 8 bytes. Read and
   * set through the accessors below, which keep the fields' names; the facts the write path
   * reads per frame stay fields (an accessor there costs the hot path its inlining budget).
   */
  private flags: number;
  /** The application's callbacks; set it in `onStream` (server) or at `request` (client). */
  handler: Http2StreamHandler = NO_HANDLER;
  /**
   * The RFC 9113 §5.1 state, moved only by {@link StreamEvent}s through the table of
   * `stream-state.ts` (and by closing): read it as {@link Http2Stream.state}.
   */
  private phase: StreamPhase = StreamState.IDLE;

  // The stream's flow-control windows, as the fields of `InboundWindowFields` and
  // `OutboundWindowFields` (flow-window.ts), which work on them: inline, not window objects.

  /** @internal Bytes we may still send (may go negative after a SETTINGS change, RFC 9113 §6.9.2). */
  _outAvailable: number;
  /** @internal Bytes the peer may still send. */
  _inAvailable: number;
  /** @internal Consumed bytes not yet returned with WINDOW_UPDATE. */
  _inUnreturned = 0;
  /** @internal The window we advertised for this stream. */
  _inTarget: number;
  /**
   * @internal Outgoing chunks not yet framed and their callbacks, interleaved
   * (`[chunk, callback, chunk, callback, …]`); created on the first write, so a stream that
   * sends no body allocates no queue.
   */
  private writes: (Uint8Array | WriteCallback | null)[] | null = null;
  /** Index of the oldest chunk in `writes`. */
  private chunkHead = 0;
  private chunkOffset = 0;
  /** @internal DATA frames we sent (what the peer may return credit for after the stream closes). */
  _dataFramesSent = 0;
  /** @internal DATA bytes we sent. */
  _dataBytesSent = 0;
  /** @internal Bytes written and not yet framed. */
  _pendingBytes = 0;
  /** @internal `end` was called. */
  _isEndQueued = false;
  /** @internal Our initial HEADERS were queued. */
  _areHeadersSent = false;
  /** @internal In the connection's list of streams with DATA to write. */
  _isInDataList = false;
  /**
   * @internal The RFC 9218 priority as a rank and bookkeeping bits (`priority.ts`): a small
   * integer, stored inline.
   */
  _priority = DEFAULT_RANK;
  /** @internal DATA waits for this stream's flow-control window (counted by the response rate). */
  _isWindowStalled = false;
  /** What most streams never use (see {@link StreamExtras}); made by the first value set there. */
  private extras: StreamExtras | null = null;
  private readonly host: Http2StreamHost;

  /** @internal Streams are created by the connection. */
  constructor(
    host: Http2StreamHost,
    id: number,
    isLocal: boolean,
    sendWindow: number,
    receiveWindow: number,
    isManualWindow: boolean,
  ) {
    this.host = host;
    this.streamId = id;
    this.flags = (isLocal ? StreamFlag.LOCAL : 0) | (isManualWindow ? StreamFlag.MANUAL_WINDOW : 0);
    this._outAvailable = sendWindow;
    this._inAvailable = receiveWindow;
    this._inTarget = receiveWindow;
  }

  /** Anything the application wants to keep with the stream (null until set). */
  get userData(): unknown {
    return this.extras === null ? null : this.extras.userData;
  }

  /** Keeps `value` with the stream (see the getter). */
  set userData(value: unknown) {
    if (value !== null || this.extras !== null) this.madeExtras().userData = value;
  }

  /** The stream's {@link StreamExtras}, made on first use. */
  private madeExtras(): StreamExtras {
    return (this.extras ??= new StreamExtras());
  }

  /** @internal Bytes delivered in manual mode and not yet returned by the application. */
  get _heldCredit(): number {
    return this.extras === null ? 0 : this.extras.heldCredit;
  }

  /** @internal */
  set _heldCredit(value: number) {
    if (value !== 0 || this.extras !== null) this.madeExtras().heldCredit = value;
  }

  /** @internal Trailers to send after the body. */
  get _trailers(): Http2Headers | null {
    return this.extras === null ? null : this.extras.trailers;
  }

  /** @internal */
  set _trailers(value: Http2Headers | null) {
    if (value !== null || this.extras !== null) this.madeExtras().trailers = value;
  }

  /** @internal content-length announced by the peer, or -1. */
  get _expectedContentLength(): number {
    return this.extras === null ? -1 : this.extras.expectedContentLength;
  }

  /** @internal */
  set _expectedContentLength(value: number) {
    if (value !== -1 || this.extras !== null) this.madeExtras().expectedContentLength = value;
  }

  /** @internal Body bytes received. */
  get _receivedBodyBytes(): number {
    return this.extras === null ? 0 : this.extras.receivedBodyBytes;
  }

  /** @internal */
  set _receivedBodyBytes(value: number) {
    if (value !== 0 || this.extras !== null) this.madeExtras().receivedBodyBytes = value;
  }

  /** @internal Holds on the stream's concurrency slot (see `holdConcurrencySlot`). */
  get _concurrencyHolds(): number {
    return this.extras === null ? 0 : this.extras.concurrencyHolds;
  }

  /** @internal */
  set _concurrencyHolds(value: number) {
    if (value !== 0 || this.extras !== null) this.madeExtras().concurrencyHolds = value;
  }

  /**
   * @internal What a write or end callback (or `onDrain`) threw while the connection was
   * framing; the connection resets the stream for it (see `Http2StreamHandler`).
   */
  get _thrown(): unknown {
    return this.extras === null ? null : this.extras.thrown;
  }

  /** @internal */
  set _thrown(value: unknown) {
    if (value !== null || this.extras !== null) this.madeExtras().thrown = value;
  }

  /** @internal The stream's part in the minimum data rates; null (the connection's rates) until needed. */
  get _dataRate(): StreamDataRate | null {
    return this.extras === null ? null : this.extras.dataRate;
  }

  /** @internal */
  set _dataRate(value: StreamDataRate | null) {
    if (value !== null || this.extras !== null) this.madeExtras().dataRate = value;
  }

  /** The callback `end` was given, until it fires. */
  private get endCallback(): WriteCallback | null {
    return this.extras === null ? null : this.extras.endCallback;
  }

  private set endCallback(value: WriteCallback | null) {
    if (value !== null || this.extras !== null) this.madeExtras().endCallback = value;
  }

  private setFlag(flag: number, isSet: boolean): void {
    this.flags = isSet ? this.flags | flag : this.flags & ~flag;
  }

  /** True when this endpoint opened the stream. */
  get isLocal(): boolean {
    return (this.flags & StreamFlag.LOCAL) !== 0;
  }

  /** Receive credit is returned by `updateWindow` rather than automatically. */
  get isManualWindow(): boolean {
    return (this.flags & StreamFlag.MANUAL_WINDOW) !== 0;
  }

  /** Sets whether receive credit is returned by `updateWindow` (true) or automatically. */
  set isManualWindow(isManual: boolean) {
    this.setFlag(StreamFlag.MANUAL_WINDOW, isManual);
  }

  /** @internal Final (non-1xx) headers were received. */
  get _hasFinalHeaders(): boolean {
    return (this.flags & StreamFlag.FINAL_HEADERS_RECEIVED) !== 0;
  }

  /** @internal */
  set _hasFinalHeaders(isSet: boolean) {
    this.setFlag(StreamFlag.FINAL_HEADERS_RECEIVED, isSet);
  }

  /** @internal We sent final (non-1xx) response headers, so a later block is trailers. */
  get _hasSentFinalHeaders(): boolean {
    return (this.flags & StreamFlag.FINAL_HEADERS_SENT) !== 0;
  }

  /** @internal */
  set _hasSentFinalHeaders(isSet: boolean) {
    this.setFlag(StreamFlag.FINAL_HEADERS_SENT, isSet);
  }

  /**
   * @internal Our message has no content — a response to HEAD, or a 204 or 304 response (RFC
   * 9110 §6.4.1): written bytes are discarded.
   */
  get _discardsWrites(): boolean {
    return (this.flags & StreamFlag.DISCARDS_WRITES) !== 0;
  }

  /** @internal */
  set _discardsWrites(isSet: boolean) {
    this.setFlag(StreamFlag.DISCARDS_WRITES, isSet);
  }

  /** Whether a `write` returned false and `onDrain` is owed. */
  private get needsDrain(): boolean {
    return (this.flags & StreamFlag.NEEDS_DRAIN) !== 0;
  }

  private set needsDrain(isSet: boolean) {
    this.setFlag(StreamFlag.NEEDS_DRAIN, isSet);
  }

  /** @internal This stream carries a HEAD request: its response has no body (RFC 9110 §9.3.2). */
  get _isHead(): boolean {
    return (this.flags & StreamFlag.HEAD) !== 0;
  }

  /** @internal */
  set _isHead(isSet: boolean) {
    this.setFlag(StreamFlag.HEAD, isSet);
  }

  /** @internal Closed while held: the slot is freed by the last release. */
  get _isSlotHeldAfterClose(): boolean {
    return (this.flags & StreamFlag.SLOT_HELD_AFTER_CLOSE) !== 0;
  }

  /** @internal */
  set _isSlotHeldAfterClose(isSet: boolean) {
    this.setFlag(StreamFlag.SLOT_HELD_AFTER_CLOSE, isSet);
  }

  /**
   * The stream identifier (odd: client-initiated; even: server-initiated); 0 while a local
   * stream waits for the peer's concurrency limit.
   */
  get id(): number {
    return this.streamId;
  }

  /** @internal A waiting local stream opens: its id and windows are fixed now. */
  _assignId(id: number, sendWindow: number, receiveWindow: number): void {
    this.streamId = id;
    this._outAvailable = sendWindow;
    this._inAvailable = receiveWindow;
    this._inTarget = receiveWindow;
  }

  /**
   * The clock of the connection's event loop: read time-dependent fields from it (for example
   * `httpDate(stream.clock)` for a response's `date`), so virtual-time tests see virtual time.
   */
  get clock(): Clock {
    return this.host.clock;
  }

  /**
   * The event loop the stream's connection runs on: its callbacks come on it, and work that
   * talks to the stream (a channel carrying its DATA, say) belongs on it too. Throws
   * `HTTP2_CONNECTION_CLOSED` when the connection is in no channel.
   */
  get loop(): EventLoop {
    const slot = this.host.channelSlot;
    if (slot === null)
      throw new SluiceError(Http2ApiErrors.CONNECTION_CLOSED, `stream ${this.streamId}: no connection`);
    return slot.channel.loop;
  }

  /** Bytes given to `write` and not yet framed. */
  get bufferedBytes(): number {
    return this._pendingBytes;
  }

  /**
   * The RFC 9113 §5.1 state. A request waiting for the server's concurrency limit is
   * {@link StreamState.IDLE} until its HEADERS go.
   */
  get state(): StreamState {
    const phase = this.phase;
    // Both ends are out, and the connection closes the stream once the frame is written.
    return phase === CLOSING ? StreamState.HALF_CLOSED_REMOTE : phase;
  }

  /** @internal The state, {@link CLOSING} included: what the receive table is indexed by. */
  get _phase(): StreamPhase {
    return this.phase;
  }

  /** @internal Moves the state by `event` (RFC 9113 §5.1); an event the state does not allow is a bug. */
  _apply(event: StreamEvent): void {
    const next = nextStreamPhase(this.phase, event);
    if (next === -1) throw new Error(`stream ${this.streamId}: event ${event} in state ${this.phase}`);
    this.phase = next;
  }

  /** @internal The connection closed the stream (ended both ways, reset, or the connection ended). */
  _close(): void {
    this.phase = StreamState.CLOSED;
  }

  /** @internal Our END_STREAM was queued or written (HEADERS, DATA or trailers): half-closed (local) or closed. */
  get _isEndSent(): boolean {
    const phase = this.phase;
    return phase === StreamState.HALF_CLOSED_LOCAL || phase === CLOSING || phase === StreamState.CLOSED;
  }

  /** True once the stream closed. */
  get isClosed(): boolean {
    return this.phase === StreamState.CLOSED;
  }

  /** True while we may still send on it (a request not yet sent included). */
  get isWritable(): boolean {
    const phase = this.phase;
    return (
      !this._isEndQueued &&
      (phase === StreamState.OPEN || phase === StreamState.HALF_CLOSED_REMOTE || phase === StreamState.IDLE)
    );
  }

  /**
   * Sends a header block: response headers (server), a 1xx informational response (server,
   * `isEndStream` false), or — with `isEndStream` — headers that end the stream. A
   * `content-length` on a 1xx or 204 response is left out (RFC 9110 §8.6); after a 204 or 304
   * response, written bytes are discarded as for HEAD. Throws `HTTP2_WRITE_AFTER_END` or
   * `HTTP2_STREAM_CLOSED` on a stream that can no longer send and `HTTP2_INVALID_HEADERS` for a list that breaks RFC
   * 9113 §8 (a 101 status included); a thrown call sends nothing and leaves the stream as it was.
   */
  sendHeaders(headers: Http2Headers, isEndStream = false): void {
    checkHeaderList(headers, 'sendHeaders');
    if (typeof isEndStream !== 'boolean') checkFlag(isEndStream, 'sendHeaders');
    this.assertWritable('sendHeaders');
    const wereHeadersSent = this._areHeadersSent;
    if (isEndStream) this._isEndQueued = true;
    this._areHeadersSent = true;
    try {
      this.host._sendStreamHeaders(this, headers, isEndStream);
    } catch (error) {
      // The connection refuses a block before it queues anything (and before END_STREAM moves
      // the state): undo what was marked here.
      this._areHeadersSent = wereHeadersSent;
      this._isEndQueued = false;
      throw error;
    }
  }

  /**
   * Queues body bytes. The chunk is not copied now: keep it unchanged until `callback` fires
   * (it fires once the bytes are framed into an outgoing message, or with an error if the stream
   * fails first). Returns false once more than the high-water mark is buffered. On a response
   * to HEAD, and after a 204 or 304 response, the bytes are discarded (the callback still
   * fires).
   */
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    if (!(chunk instanceof Uint8Array)) checkChunk(chunk, 'write');
    if (callback !== undefined && typeof callback !== 'function') checkCallback(callback, 'write');
    this.assertWritable('write');
    if (this._discardsWrites) {
      callback?.(null);
      return true;
    }
    if (chunk.length === 0) {
      callback?.(null);
      return this._pendingBytes < this.host.streamHighWaterMark;
    }
    if (this.writes === null) {
      // The first write takes a drained two-slot queue (see SPARE_WRITE_QUEUES), or makes one:
      // not an empty array grown to seventeen.
      const spare = SPARE_WRITE_QUEUES.pop();
      if (spare === undefined) this.writes = [chunk, callback ?? null];
      else {
        spare[0] = chunk;
        spare[1] = callback ?? null;
        this.writes = spare;
      }
    } else this.writes.push(chunk, callback ?? null);
    this._pendingBytes += chunk.length;
    this.host._streamHasData(this);
    const isBelow = this._pendingBytes < this.host.streamHighWaterMark;
    if (!isBelow) this.needsDrain = true;
    return isBelow;
  }

  /**
   * Ends our side: after the queued body, sends END_STREAM — on the last DATA frame, or with
   * `trailers` as a final HEADERS frame. `callback` fires once END_STREAM is framed. Throws
   * `HTTP2_INVALID_HEADERS` (and ends nothing) when `trailers` break RFC 9113 §8.
   */
  end(trailers?: Http2Headers, callback?: WriteCallback): void {
    if (trailers !== undefined) checkHeaderList(trailers, 'end');
    if (callback !== undefined && typeof callback !== 'function') checkCallback(callback, 'end');
    this.assertWritable('end');
    if (trailers !== undefined && trailers.length > 0) assertValidTrailers(trailers, this.id);
    this._isEndQueued = true;
    this.endCallback = callback ?? null;
    if (trailers !== undefined && trailers.length > 0) this._trailers = trailers;
    this.host._streamHasData(this);
  }

  /** Resets the stream with RST_STREAM(`errorCode`, CANCEL by default); `onClose` gets the error. */
  reset(errorCode: number = ErrorCode.CANCEL): void {
    checkErrorCode(errorCode, 'reset');
    if (this.phase === StreamState.CLOSED) return;
    this.host._resetStream(this, new Http2StreamError(this.id, errorCode, 'stream reset by the application'));
  }

  /**
   * Keeps this peer-opened stream counted against our SETTINGS_MAX_CONCURRENT_STREAMS until
   * {@link Http2Stream.releaseConcurrencySlot}, even after it closes — for handlers whose work
   * outlives the stream (async work after a reset). Without it, a peer could open and reset
   * streams faster than the work ends (Rapid Reset, CVE-2023-44487). The convenient server holds
   * the slot while its handler runs.
   */
  holdConcurrencySlot(): void {
    this._concurrencyHolds++;
  }

  /** Ends one {@link Http2Stream.holdConcurrencySlot}; the last one frees the slot of a closed stream. */
  releaseConcurrencySlot(): void {
    if (this._concurrencyHolds === 0) return;
    if (--this._concurrencyHolds === 0) this.host._releaseConcurrencySlot(this);
  }

  /**
   * The response's priority (RFC 9218): on a server, what the request's `priority` field and the
   * client's PRIORITY_UPDATE frames said, or what the application set since; on a client, what
   * the request asked for. A shared frozen object.
   */
  get priority(): Http2Priority {
    return priorityOfRank(this._priority);
  }

  /**
   * Changes the response's priority; a member left out takes its default (urgency 3, not
   * incremental). A server schedules the stream's DATA by it from now on (RFC 9218 §8: the
   * server may override what the client asked). A client sends it in the request's `priority`
   * field if the request is not sent yet, else in a PRIORITY_UPDATE frame (RFC 9218 §7.1) —
   * unless the server's SETTINGS did not announce SETTINGS_NO_RFC7540_PRIORITIES = 1, as RFC
   * 9218 §2.1.1 advises. Nothing happens on a closed stream. Throws `HTTP2_INVALID_ARGUMENT` for
   * an urgency that is not an integer 0–7 or an `incremental` that is not a boolean.
   */
  setPriority(priority: Partial<Http2Priority>): void {
    const rank = checkedRank(priority, 'setPriority');
    if (this.phase !== StreamState.CLOSED) this.host._setStreamPriority(this, rank);
  }

  /**
   * Sets this stream's part in a server connection's minimum data rates (`minResponseDataRate`,
   * `minRequestBodyDataRate`). `null` takes the stream out of both: its request body is never
   * timed, and DATA it waits to send does not count toward the connection's response rate — for
   * WebSocket and other extended-CONNECT streams, tunnels, long polls (CONNECT streams are out by
   * default). A {@link MinDataRate} times this stream's request body at that rate instead of the
   * connection's (the response rate is the connection's: it can only be lifted). Call it any time;
   * it applies from now. Throws `HTTP2_INVALID_ARGUMENT` for anything else.
   */
  setMinDataRate(rate: MinDataRate | null): void {
    checkMinDataRate(rate, 'setMinDataRate(rate)', Http2ApiErrors.INVALID_ARGUMENT);
    const state = (this._dataRate ??= new StreamDataRate());
    state.isExempt = rate === null;
    if (rate !== null) state.receiveRate = rate;
    this.host._onDataRateChanged(this);
  }

  /**
   * @internal A reader of the convenient body waits for bytes (true) or stopped waiting: on a
   * manual-window stream the request-body rate is timed only while one waits. Streams we opened
   * (a client's) are never timed.
   */
  _setReadWaiting(isWaiting: boolean): void {
    if (this.isLocal) return;
    const state = (this._dataRate ??= new StreamDataRate());
    if (state.isReadWaiting === isWaiting) return;
    state.isReadWaiting = isWaiting;
    this.host._onDataRateChanged(this);
  }

  /**
   * Returns `size` bytes of receive credit after the application consumed them (manual window
   * mode); credit beyond what was delivered is ignored.
   */
  updateWindow(size: number): void {
    checkCount(size, 'updateWindow');
    const credit = Math.min(size, this._heldCredit);
    if (!(credit > 0)) return;
    this._heldCredit -= credit;
    this.host._returnStreamCredit(this, credit);
  }

  /** An HTTP/2 code for a send the stream cannot take: `HTTP2_STREAM_CLOSED`, or `HTTP2_WRITE_AFTER_END`. */
  private assertWritable(operation: string): void {
    if (this.isWritable) return;
    if (this.phase === StreamState.CLOSED) {
      throw new SluiceError(
        http2ErrorDefinition(ErrorCode.STREAM_CLOSED),
        `${operation} on stream ${this.id}: the stream is closed`,
      );
    }
    throw new SluiceError(
      Http2SessionErrors.WRITE_AFTER_END,
      `${operation} on stream ${this.id}: the stream has ended its side`,
    );
  }

  /** @internal True when the task has something to write for this stream now (data within window, or the end). */
  get _hasFrameReady(): boolean {
    if (this._isEndSent) return false;
    if (this._pendingBytes > 0) return this._outAvailable > 0;
    return this._isEndQueued;
  }

  /**
   * @internal Writes one DATA frame of up to `maxPayload` bytes into `target` at `offset` and
   * returns the new offset. Sets END_STREAM when the body is done and no trailers follow.
   * Fires the callbacks of chunks fully framed.
   */
  _writeDataFrame(target: Uint8Array, offset: number, maxPayload: number): number {
    const payload = Math.min(maxPayload, this._pendingBytes);
    const isLast = payload === this._pendingBytes && this._isEndQueued && this._trailers === null;
    let at = writeFrameHeader(target, offset, payload, FrameType.DATA, isLast ? FrameFlag.END_STREAM : 0, this.id);
    let remaining = payload;
    const writes = this.writes;
    const firstFramed = this.chunkHead;
    while (remaining > 0) {
      const chunk = writes![this.chunkHead] as Uint8Array;
      const count = Math.min(remaining, chunk.length - this.chunkOffset);
      copyBytes(target, at, chunk, this.chunkOffset, this.chunkOffset + count);
      at += count;
      remaining -= count;
      this.chunkOffset += count;
      if (this.chunkOffset === chunk.length) {
        writes![this.chunkHead] = null;
        this.chunkHead += 2;
        this.chunkOffset = 0;
      }
    }
    const lastFramed = this.chunkHead;
    if (writes !== null && lastFramed === writes.length) {
      // Drained: drop the queue (the next write makes a two-slot one) rather than truncate it,
      // which V8 does in its runtime.
      this.writes = null;
      this.chunkHead = 0;
    }
    this._pendingBytes -= payload;
    this._outAvailable -= payload; // flow-window.ts takeOutbound, written out: a hot monomorphic site
    this._dataFramesSent++;
    this._dataBytesSent += payload;
    // Only now, with the frame whole and the stream's state consistent, does application code
    // run: a callback may write, end or reset the stream without tearing the frame.
    for (let index = firstFramed; index < lastFramed; index += 2) {
      const callback = writes![index + 1] as WriteCallback | null;
      writes![index + 1] = null;
      if (callback !== null) this.invoke(callback, null);
    }
    // A drained queue of one write (the common response body) is kept for the next stream's.
    if (
      writes !== null &&
      writes !== this.writes &&
      writes.length === 2 &&
      SPARE_WRITE_QUEUES.length < MAX_SPARE_WRITE_QUEUES
    ) {
      SPARE_WRITE_QUEUES.push(writes);
    }
    if (this._pendingBytes === 0 && this.needsDrain && !this.isClosed) {
      this.needsDrain = false;
      try {
        this.handler.onDrain?.(this);
      } catch (thrown) {
        this._thrown ??= thrown;
      }
    }
    if (isLast && !this._isEndSent) this._markEndSent();
    return at;
  }

  /**
   * Calls a write or end callback. One that throws must not take the connection down with it:
   * the first error is kept in `_thrown`, and the connection resets this stream alone once the
   * frame being written is complete.
   */
  private invoke(callback: WriteCallback, error: Http2StreamFailure | null): void {
    try {
      callback(error);
    } catch (thrown) {
      this._thrown ??= thrown;
    }
  }

  /** @internal The body is done and trailers must go now. */
  get _needsTrailers(): boolean {
    return !this._isEndSent && this._isEndQueued && this._pendingBytes === 0 && this._trailers !== null;
  }

  /**
   * @internal Our END_STREAM is out (on HEADERS, DATA or trailers): the state moves (RFC 9113
   * §5.1) before the end callback runs; the connection finishes a stream that this closes.
   */
  _markEndSent(): void {
    this._apply(StreamEvent.SEND_END_STREAM);
    const callback = this.endCallback;
    this.endCallback = null;
    if (callback !== null) this.invoke(callback, null);
  }

  /** @internal Drops the queued writes (the message has no content); their callbacks fire without error. */
  _discardQueuedWrites(): void {
    this.settleQueuedWrites(null);
  }

  /** @internal Fails every queued write and the end callback. */
  _failWrites(error: Http2StreamFailure): void {
    this.settleQueuedWrites(error);
    const callback = this.endCallback;
    this.endCallback = null;
    if (callback !== null) this.invoke(callback, error);
  }

  /** Empties the write queue, then fires each dropped chunk's callback with `error`. */
  private settleQueuedWrites(error: Http2StreamFailure | null): void {
    const writes = this.writes;
    const first = this.chunkHead;
    this.writes = null;
    this.chunkHead = 0;
    this.chunkOffset = 0;
    this._pendingBytes = 0;
    if (writes === null) return;
    for (let index = first + 1; index < writes.length; index += 2) {
      const callback = writes[index] as WriteCallback | null;
      if (callback !== null) this.invoke(callback, error);
    }
  }
}

/**
 * Throws `HTTP2_INVALID_HEADERS` when `trailers` (a flat list) break RFC 9113 §8 — a
 * pseudo-header, a connection-specific field, a bad name or value.
 * @internal
 */
export function assertValidTrailers(trailers: Http2Headers, streamId: number): void {
  const violation = validateHeaderBlock(trailers, HeaderBlockKind.TRAILERS);
  if (violation !== null)
    throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, `stream ${streamId}: trailers: ${violation}`);
}
