/**
 * The HTTP/1.1 server connection: a channel handler that reads requests, hands them to the
 * application as {@link Http1ServerStream}s and writes their responses in request order.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  LogLevel,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  log,
  type ChannelHandler,
  type ChannelSlot,
  type HandlerStatistics,
  type IoMessage,
} from '../../../lib/index.js';
import { describeThrown } from '../../../lib/argument-checks.js';
import { withFlag } from '../../../lib/field-layout.js';
import { IdleTimers, type IdleLink } from '../../../lib/idle-timers.js';
import { Http1ConnectionErrors, Http1ParseError } from '../errors.js';
import { IdleParserPool } from '../wire/idle-parser-pool.js';
import type { MessageHead, MessageParser } from '../wire/message-parser.js';
import type { Http1Fields } from '../wire/message-encoder.js';
import type { Http1ServerConnectionOptions } from './connection-options.js';
import { Http1ServerDeadlines } from './deadlines.js';
import { BodyFraming, checkOutgoingFields, type OutgoingMessage } from './outgoing-message.js';
import { Http1OutgoingTask } from './outgoing-task.js';
import { serverSettingsOf, type Http1ServerSettings } from './server-settings.js';
import { Http1ServerStream } from './server-stream.js';
import {
  Http1UpgradeExchange,
  PendingUpgrade,
  chooseUpgrade,
  refusalFields,
  type Http1UpgradeInstall,
} from './upgrade.js';

const NO_FIELDS: string[] = [];

/**
 * How long a connection stays idle before its deadlines go back to the pool: one busy again
 * sooner (keep-alive between quick requests) keeps them and pays nothing.
 */
const DEADLINES_RELEASE_AFTER_MS = 1000;

// The bits of a connection's flags.
/** `execute` is on the stack: the parser is not given back under it. */
const PARSING = 1;
/** The channel removed the connection (a protocol switch): nothing more is done. */
const DESTROYED = 2;
/** No more requests are read (close asked, a parse error, shutdown, CONNECT). */
const READ_STOPPED = 4;
/** The connection closes once what is queued is written. */
const CLOSING_AFTER_WRITE = 8;
/** `close()` was called. */
const DRAINING = 16;
/** The write side shut down. */
const SHUT_DOWN = 32;
/** Set by `stopWriting` (the writer's own flag says so too while the connection holds one). */
const WRITE_STOPPED = 64;

/** The held list of a connection that holds nothing (never added to: a list is made first). */
const NO_MESSAGES: IoMessage[] = [];

/**
 * Http1ServerConnection is the HTTP/1.1 server as a channel handler (install it right of the
 * socket or TLS slot). RFC 9112 persistence and pipelining:
 *
 * - Requests are parsed as they arrive and given to `onRequest` in order; up to
 *   `maxPipelinedRequests` may wait for their responses, then the parser pauses and unread bytes
 *   hold the read window (read back-pressure) until a response completes.
 * - Responses are written in request order through one outgoing task (`Http1OutgoingTask`).
 * - Keep-alive unless either side says `Connection: close`, an HTTP/1.0 peer did not ask for
 *   keep-alive, or a body is delimited by close; an idle connection closes after `idleTimeoutMs`.
 * - A request head must arrive within `headerTimeoutMs` of its first byte, or the connection
 *   closes (`HTTP1_HEADER_TIMEOUT`); the first request line within `handshakeTimeoutMs` of the
 *   connection; the peer must keep `minResponseDataRate` and `minRequestBodyDataRate`
 *   (`Http1ServerDeadlines`).
 * - A request the parser rejects is answered with its status and `Connection: close` after the
 *   responses before it, and never reaches the application.
 * - `close()` drains gracefully: no new request is read, in-flight ones finish, the last response
 *   says `Connection: close`, an idle connection closes at once.
 * - A request asking to switch protocols (`Upgrade`, RFC 9110 §7.8) that one of `upgrades` takes
 *   is answered by it, not by `onRequest`: no request after it is read; its 101 goes out after the
 *   responses before it, and once written the upgrade replaces this handler in its slot, handing
 *   over the bytes read past the request (see {@link Http1Upgrade}).
 *
 * All calls happen on the channel's loop. Application callbacks that throw fail their exchange and
 * close the connection; nothing a peer sends can throw out of the handler.
 */
export class Http1ServerConnection implements ChannelHandler {
  // Also its parser's MessageListener and the host of its outgoing task, streams and upgrade
  // exchanges, by shape (checked where they are created): those members are internal (stripped),
  // so the published types must not name the interfaces.
  /** Always `server`. */
  get role(): 'server' {
    return 'server';
  }
  private readonly options: Http1ServerConnectionOptions;
  /** The options' figures, shared with the other connections given the same options. */
  private readonly settings: Http1ServerSettings;
  /** @internal */
  get highWaterMark(): number {
    return this.settings.highWaterMark;
  }
  /** @internal Body credit returns only as the application reads. */
  get isManualWindow(): boolean {
    return this.settings.isManualWindow;
  }
  /**
   * Taken from the {@link IdleParserPool} by the first byte of a request, given back when the
   * connection falls idle after its first request or, once it carried a series, when it has been
   * idle a while (`armIdle`, `_onIdleRelease`): null then (an idle connection is at a message
   * boundary, not paused).
   */
  private parser: MessageParser | null = null;
  /**
   * The writer: taken from the pool when output waits, given back with the parser; null in
   * between.
   */
  private outgoing: Http1OutgoingTask | null = null;
  /** What the writers given back wrote: their counters, kept for statistics and the deadlines. */
  private messagesWrittenBefore = 0;
  private bytesWrittenBefore = 0;
  /** Parses what was held while the parser paused; made the first time it is needed. */
  private readTask: Task | null = null;
  /** The handshake deadline and the minimum data rates; also the connection's timer task. */
  private deadlines: Http1ServerDeadlines | null = null;
  /** @internal The idle list's links (`lib/idle-timers.ts`): set while the connection is idle. */
  _idlePrev: IdleLink | null = null;
  /** @internal */
  _idleNext: IdleLink | null = null;
  /** @internal */
  _idleSince = 0;
  private slot: ChannelSlot | null = null;
  /** The upgrade request taken, until its protocol switches or it is refused. */
  private upgrade: PendingUpgrade | null = null;

  /** Exchanges whose responses are not written whole, oldest first (the head is being written). */
  private readonly streams: Http1ServerStream[] = [];
  /** The request whose body is being read. */
  private reading: Http1ServerStream | null = null;
  /**
   * Field lines of the head (or trailer section) being read, `[name, value, …]` in the first
   * `fieldCount` entries, copied out whole when the section ends: the list is reused from request
   * to request (a new list grown by pushes would reserve room for 17 entries) and dropped with
   * the parser.
   */
  private fieldScratch: string[] | null = null;
  private fieldCount = 0;
  /** Read messages not parsed yet (the parser paused), and the offset into the first. */
  private held: IoMessage[] = NO_MESSAGES;
  private heldOffset = 0;
  /** Body bytes of the current `execute` whose credit waits for the application. */
  private creditHeldThisRead = 0;
  /** The connection's states, bits of one field (see the bits below the class's imports). */
  private flags = 0;
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;
  private requestCount = 0;
  private parseErrorCount = 0;

  /** Creates a server connection; install it in a channel slot. Throws a RangeError for an option out of range. */
  constructor(options: Http1ServerConnectionOptions) {
    if (typeof options?.onRequest !== 'function') {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'onRequest must be a function');
    }
    this.options = options;
    this.settings = serverSettingsOf(options);
  }

  private static runReadTask(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as Http1ServerConnection).parseHeld();
  }

  /** Requests waiting for (or receiving) their responses. */
  get pendingResponseCount(): number {
    return this.streams.length;
  }

  /** True once `close()` was called. */
  get isClosing(): boolean {
    return this.hasFlag(DRAINING);
  }

  /**
   * Drains gracefully: reads no new request, lets in-flight exchanges finish, puts
   * `Connection: close` on the last response and closes after it; closes an idle connection at once.
   */
  close(): void {
    if (this.hasFlag(DRAINING | SHUT_DOWN | DESTROYED)) return;
    this.setFlag(DRAINING, true);
    // Nothing is owed (at most the unread body of an answered request): close now.
    if (this.streams.length === 0) {
      this.stopReading();
      this.slot?.channel.shutdown(null);
      return;
    }
    // The request being read is the last; its response says close. Otherwise stop reading now:
    // the last response already received says close, or the connection closes after it.
    const reading = this.reading;
    if (reading !== null) reading._isKeepAliveRequested = false;
    else this.stopReading();
  }

  // ---------------------------------------------------------------- channel handler

  /** Binds the task and arms the idle timer. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    if (this.settings.handshakeTimeoutMs > 0) this.timers.start(slot);
    this.armIdle();
  }

  /** Parses the bytes; returns read credit except for unread body (manual window) and bytes held while paused. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.hasFlag(READ_STOPPED)) {
      const upgrade = this.upgrade;
      if (upgrade !== null && upgrade.isHandingOver) upgrade.handover.hold(message, 0);
      else message.release();
      return;
    }
    IdleTimers.remove(this);
    if (this.held.length > 0) {
      this.held.push(message);
      return;
    }
    this.parse(slot, message, 0);
  }

  private parse(slot: ChannelSlot, message: IoMessage, start: number): void {
    const length = message.length;
    const parser = (this.parser ??= IdleParserPool.take(this, this.options.parser));
    const deadlines = this.timers;
    if (this.reading === null && parser.isAtMessageBoundary && deadlines.headerDeadline === Infinity) {
      deadlines.armHeader(slot);
    }
    this.creditHeldThisRead = 0;
    let position: number;
    this.setFlag(PARSING, true);
    try {
      position = parser.execute(message.data, start, length);
    } catch (error) {
      message.release();
      this.onParseError(error);
      return;
    } finally {
      this.setFlag(PARSING, false);
    }
    deadlines.onParsed(this.requestCount > 0 || parser.isPastStartLine);
    const credit = position - start - this.creditHeldThisRead;
    const upgrade = this.upgrade;
    if (upgrade !== null && parser.isStopped && !upgrade.isHandingOver) {
      // An upgrade took the request: the rest, and messages held behind it, are the next protocol's.
      upgrade.isHandingOver = true;
      upgrade.handover.hold(message, position);
      for (const held of this.held.splice(0)) upgrade.handover.hold(held, 0);
    } else if (position < length && parser.isPaused && !this.hasFlag(READ_STOPPED)) {
      // Made when first needed (a paused parser is rare): idle connections carry no list.
      if (this.held === NO_MESSAGES) this.held = [];
      this.held.unshift(message);
      this.heldOffset = position;
    } else {
      message.release();
    }
    if (credit > 0) slot.incrementReadWindow(credit);
    if (this.reading === null && !parser.isPaused && !parser.isAtMessageBoundary) {
      if (deadlines.headerDeadline === Infinity) deadlines.armHeader(slot);
    } else {
      deadlines.headerDeadline = Infinity;
    }
    if (parser.isStopped) this.stopReading(); // an upgrade, or CONNECT: tunnels are not served here
    this.armIdle();
  }

  /** Parses held messages after the parser resumed. */
  private parseHeld(): void {
    const slot = this.slot;
    while (slot !== null && this.held.length > 0 && this.parser?.isPaused !== true && !this.hasFlag(READ_STOPPED)) {
      const message = this.held.shift()!;
      const offset = this.heldOffset;
      this.heldOffset = 0;
      this.parse(slot, message, offset);
    }
  }

  private releaseHeld(): void {
    for (const message of this.held.splice(0)) message.release();
    this.heldOffset = 0;
  }

  /** No more requests are read: held and later bytes are dropped, their credit never returned. */
  private stopReading(): void {
    this.setFlag(READ_STOPPED, true);
    this.parser?.pause();
    this.releaseHeld();
    if (this.deadlines !== null) this.deadlines.headerDeadline = Infinity;
  }

  /** Nothing may be written through the connection from its right: it is the protocol's end. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the HTTP/1.1 handler does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Nothing reads to our right; window increments are not used. */
  incrementReadWindow(): void {}

  /** The socket may deliver this much before the connection returns it. */
  initialWindowSize(): number {
    return this.settings.readWindowSize;
  }

  /** HTTP/1.1 adds no per-message overhead. */
  messageOverhead(): number {
    return 0;
  }

  /**
   * READ: stop reading; a request in progress fails. WRITE: exchanges whose response is not
   * queued whole fail (`HTTP1_CONNECTION_CLOSED` or the shutdown's error); the message in flight
   * completes first unless `free`.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.stopReading();
      this.upgrade?.handover.release();
      const reading = this.reading;
      if (reading !== null) {
        this.reading = null;
        if (this.streams.indexOf(reading) < 0) reading._close(this.closedError(error));
      }
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.setFlag(SHUT_DOWN, true);
    this.stopTimers();
    const failure = this.closedError(error);
    // Responses given whole before the shutdown are still written (no data lost on a graceful
    // shutdown); the exchanges behind the first unfinished one fail.
    let kept = 0;
    if (!free && !this.isWritingStopped) {
      while (kept < this.streams.length) {
        const stream = this.streams[kept];
        // A failed exchange's message reads as ended but has nothing to write.
        if (stream.isClosed || !stream._outgoing.isEndQueued) break;
        kept++;
      }
    }
    for (const stream of this.streams.splice(kept)) stream._close(failure);
    if (this.reading !== null && this.streams.indexOf(this.reading) < 0) this.reading._close(failure);
    this.reading = null;
    if (free || (this.streams.length === 0 && !this.hasMessageInFlight)) {
      this.stopWriting();
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.writeShutdown = { error, free };
    this.wakeWriter();
  }

  private closedError(error: SluiceError | null): SluiceError {
    return error ?? new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED);
  }

  /** Counters for the statistics interval. */
  gatherStatistics(): HandlerStatistics {
    return {
      category: 'http1-server',
      requests: this.requestCount,
      parseErrors: this.parseErrorCount,
      pendingResponses: this.streams.length,
      messagesWritten: this.messagesWrittenBefore + (this.outgoing?.messagesWritten ?? 0),
      bytesWritten: this.bytesWritten,
    };
  }

  /** Releases held messages (and bytes kept for an upgrade that did not switch). */
  destroy(): void {
    this.setFlag(DESTROYED, true);
    this.releaseHeld();
    this.upgrade?.handover.release();
    this.upgrade = null;
    this.stopTimers();
    if (this.readTask?.isScheduled === true) this.slot?.channel.unscheduleTask(this.readTask);
  }

  // ---------------------------------------------------------------- parser listener

  /** @internal */
  onField(name: string, value: string): void {
    const scratch = (this.fieldScratch ??= []);
    scratch[this.fieldCount++] = name;
    scratch[this.fieldCount++] = value;
  }

  /** The fields gathered since the section began, as a list of their own; the gathering starts over. */
  private takeFields(): string[] {
    const count = this.fieldCount;
    this.fieldCount = 0;
    return count === 0 ? NO_FIELDS : this.fieldScratch!.slice(0, count);
  }

  /** @internal A request head passed every check: a new exchange, or an upgrade taken (returns true). */
  onHeadComplete(head: MessageHead): boolean {
    if (this.deadlines !== null) this.deadlines.headerDeadline = Infinity;
    const stream = new Http1ServerStream(
      this,
      head.method,
      head.target,
      head.httpMinorVersion,
      this.takeFields(),
      head.expectContinue,
      head.bodyKind,
      head.contentLength,
    );
    // CONNECT: the parser stops after it (the bytes after are a tunnel's, not served here).
    stream._isKeepAliveRequested = head.shouldKeepAlive && head.method !== 'CONNECT';
    this.requestCount++;
    this.reading = stream;
    this.streams.push(stream);
    if (head.isUpgradeRequested && this.settings.upgrades.length > 0 && this.takeUpgrade(stream)) return true;
    try {
      this.options.onRequest(stream);
      // The application installed a body reader: it reads the body (RFC 9110 §10.1.1).
      if (stream.expectContinue && stream.handler.onData !== undefined) stream.sendContinue();
    } catch (thrown) {
      this.failCallback(stream, thrown, 'onRequest');
    }
    if (head.bodyKind !== 'none' && head.contentLength !== 0 && this.slot !== null && !stream.isClosed)
      this.timers.onBodyStarted(this.slot, stream);
    return false;
  }

  /** @internal */
  onBody(data: Uint8Array, start: number, end: number): void {
    const stream = this.reading;
    if (stream === null || stream.isClosed) return;
    stream._bodyBytesReceived += end - start;
    const handler = stream.handler;
    if (handler.onData === undefined) return;
    if (this.settings.isManualWindow && !stream._outgoing.isEndWritten) {
      stream._heldCredit += end - start;
      this.creditHeldThisRead += end - start;
    }
    try {
      handler.onData(stream, data, start, end);
    } catch (thrown) {
      this.failCallback(stream, thrown, 'onData');
    }
  }

  /** @internal */
  onTrailerField(name: string, value: string): void {
    this.onField(name, value);
  }

  /** @internal The request was read whole. */
  onMessageComplete(): void {
    const stream = this.reading;
    this.reading = null;
    const trailers = this.takeFields();
    if (stream === null) return;
    stream._isRequestComplete = true;
    const upgrade = this.upgrade;
    if (upgrade !== null && upgrade.exchange.request === stream) {
      this.startUpgrade(upgrade);
      return;
    }
    if (!stream._isKeepAliveRequested || this.hasFlag(DRAINING)) this.stopReading();
    else if (this.streams.length >= this.settings.maxPipelinedRequests) this.parser?.pause();
    if (stream.isClosed) return;
    const handler = stream.handler;
    try {
      if (trailers.length > 0) handler.onTrailers?.(stream, trailers);
      handler.onEnd?.(stream);
    } catch (thrown) {
      this.failCallback(stream, thrown, 'onEnd');
      return;
    }
    // Its response may be written already (answered before the body ended).
    if (this.streams.indexOf(stream) < 0) stream._close(null);
  }

  // ---------------------------------------------------------------- stream host

  /** @internal */
  _responseCloses(stream: Http1ServerStream, isAskedByApplication: boolean): boolean {
    if (isAskedByApplication) {
      if (!this.hasFlag(READ_STOPPED)) this.stopAfter(stream);
      return true;
    }
    // The request said close: it is the last one read.
    if (!stream._isKeepAliveRequested) return true;
    // Draining, or reading stopped: the last exchange says close (RFC 9112 §9.6).
    if (this.hasFlag(READ_STOPPED)) return this.streams[this.streams.length - 1] === stream;
    if (stream.expectContinue && !stream._isContinueSent && !stream._isRequestComplete) {
      // RFC 9110 §10.1.1: a final status without 100; the client may not send the body. Read and
      // drop a small announced body; otherwise the framing cannot be trusted to end: close.
      const isDrainable = stream.bodyKind === 'length' && stream.contentLength <= this.settings.maxDrainBodySize;
      if (!isDrainable) {
        this.stopAfter(stream);
        return true;
      }
    }
    return false;
  }

  /** Reads no request after `stream` (its own body still is). */
  private stopAfter(stream: Http1ServerStream): void {
    if (this.reading === stream) stream._isKeepAliveRequested = false;
    else this.stopReading();
  }

  /** @internal */
  _streamHasOutput(stream: Http1ServerStream): void {
    if (this.slot !== null) this.timers.onOutput(this.slot, stream);
    if (this.streams[0] === stream) this.wakeWriter();
  }

  /** @internal */
  _onDataRateChanged(stream: Http1ServerStream): void {
    if (this.slot !== null) this.timers.onReadStateChanged(this.slot, stream);
  }

  /** @internal The exchange whose response is being written. */
  get respondingStream(): Http1ServerStream | undefined {
    return this.streams[0];
  }

  /** @internal The exchange whose request body is being read. */
  get readingStream(): Http1ServerStream | null {
    return this.reading;
  }

  /** @internal */
  _rejectRequest(error: Http1ParseError): void {
    this.onParseError(error);
  }

  /** @internal */
  _reportError(error: SluiceError): void {
    this.options.onError?.(error);
  }

  /** @internal */
  _returnCredit(size: number): void {
    if (!this.hasFlag(READ_STOPPED)) this.slot?.incrementReadWindow(size);
  }

  /** @internal */
  _resetStream(stream: Http1ServerStream, error: SluiceError): void {
    stream._close(error);
    this.slot?.channel.shutdown(error);
  }

  private failCallback(stream: Http1ServerStream, thrown: unknown, callback: string): void {
    const message = `${callback} threw: ${describeThrown(thrown)}`;
    const error = new SluiceError(Http1ConnectionErrors.CALLBACK_THREW, message, { cause: thrown });
    if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'http1-connection', error.message);
    this._resetStream(stream, error);
  }

  /** One of the `flags` bits is set. */
  private hasFlag(flags: number): boolean {
    return (this.flags & flags) !== 0;
  }

  private setFlag(flag: number, value: boolean): void {
    this.flags = withFlag(this.flags, flag, value);
  }

  // ---------------------------------------------------------------- outgoing host

  /** @internal Bytes handed to the socket since the connection began. */
  get bytesWritten(): number {
    return this.bytesWrittenBefore + (this.outgoing?.bytesWritten ?? 0);
  }

  /** @internal A message is being written. */
  get hasMessageInFlight(): boolean {
    return this.outgoing !== null && this.outgoing.hasMessageInFlight;
  }

  /** Writing stopped for good (a write failed, a shutdown ended it, or the protocol switched). */
  private get isWritingStopped(): boolean {
    return this.hasFlag(WRITE_STOPPED) || (this.outgoing !== null && this.outgoing.isWritingStopped);
  }

  private stopWriting(): void {
    this.setFlag(WRITE_STOPPED, true);
    if (this.outgoing !== null) this.outgoing.isWritingStopped = true;
  }

  /** Makes sure the writer runs: takes one from the pool first if the connection holds none. */
  private wakeWriter(): void {
    const slot = this.slot;
    if (slot === null || this.hasFlag(WRITE_STOPPED)) return;
    (this.outgoing ??= Http1OutgoingTask.take(this, slot)).wake();
  }

  /** @internal */
  currentOutgoing(): OutgoingMessage | null {
    const stream = this.streams[0];
    return stream === undefined ? null : stream._outgoing;
  }

  /** @internal The oldest response is written whole. */
  onOutgoingEnded(): boolean {
    const stream = this.streams.shift()!;
    const upgrade = this.upgrade;
    if (upgrade !== null && upgrade.install !== null && upgrade.exchange.request === stream) {
      // The 101: nothing more goes in this message; the protocol switches once it is written.
      upgrade.isSwitchWritten = true;
      stream._close(null);
      return false;
    }
    if (stream._isRequestComplete) stream._close(null);
    else if (this.reading !== stream) stream._close(this.closedError(null)); // its body will not be read
    if (this.writeShutdown !== null) return true;
    if (
      stream._closesConnection ||
      (this.hasFlag(READ_STOPPED) && this.streams.length === 0 && this.reading === null)
    ) {
      this.setFlag(CLOSING_AFTER_WRITE, true);
      return false;
    }
    if (
      this.parser?.isPaused === true &&
      !this.hasFlag(READ_STOPPED) &&
      this.streams.length < this.settings.maxPipelinedRequests
    ) {
      this.parser.resume();
      if (this.held.length > 0 && this.readTask?.isScheduled !== true) {
        this.readTask ??= new Task(Http1ServerConnection.runReadTask, 'http1-read', this);
        this.slot?.channel.scheduleTaskNow(this.readTask);
      }
    }
    return true;
  }

  /** @internal */
  onOutgoingCallbackThrew(message: OutgoingMessage): void {
    const stream = this.streams.find((candidate) => candidate._outgoing === message);
    message.hasThrown = false;
    if (stream !== undefined) this.failCallback(stream, message.thrown, 'a write callback');
  }

  /** @internal */
  onWriteCompleted(): void {
    const slot = this.slot;
    if (slot === null) return;
    // One reading of the clock for the write's deadline and the idle list.
    const now = slot.channel.loop.now();
    this.deadlines?.onWriteCompleted(now);
    const pending = this.writeShutdown;
    if (pending !== null) {
      // Still flushing responses given before the shutdown: the task goes on.
      if (this.streams.length > 0 && !this.isWritingStopped) return;
      this.writeShutdown = null;
      this.stopWriting();
      if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error, pending.free);
      return;
    }
    const upgrade = this.upgrade;
    if (upgrade !== null && upgrade.isSwitchWritten) {
      this.switchProtocols(slot, upgrade);
      return;
    }
    if (this.hasFlag(CLOSING_AFTER_WRITE) && !this.hasMessageInFlight) {
      slot.channel.shutdown(null);
      return;
    }
    const head = this.streams[0];
    if (head !== undefined && head._needsDrain && head._outgoing.bufferedBytes < this.settings.highWaterMark) {
      head._needsDrain = false;
      try {
        head.handler.onDrain?.(head);
      } catch (thrown) {
        this.failCallback(head, thrown, 'onDrain');
      }
    }
    this.armIdle(now);
  }

  /** @internal */
  onWriteFailed(error: SluiceError): void {
    // A write failing with the error the connection closed for is its consequence, not news.
    if (error !== this.slot?.channel.shutdownError) this.options.onError?.(error);
    const pending = this.writeShutdown;
    if (pending !== null && this.slot !== null) {
      this.writeShutdown = null;
      if (!this.slot.isWriteShutDown) {
        this.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error ?? error, pending.free);
      }
      return;
    }
    this.slot?.channel.shutdown(error);
  }

  // ---------------------------------------------------------------- upgrades

  /** Gives the request to the first upgrade that takes it (RFC 9110 §7.8); false when none does. */
  private takeUpgrade(stream: Http1ServerStream): boolean {
    const upgrade = chooseUpgrade(this.settings.upgrades, stream, (thrown, refusing) =>
      this.reportUpgradeFailure(`takes() of the ${refusing.protocol} upgrade threw`, thrown),
    );
    if (upgrade === null) return false;
    // Over HTTP/1.1 nothing follows an upgrade request: a refusal closes the connection.
    stream._isKeepAliveRequested = false;
    this.upgrade = new PendingUpgrade(upgrade, new Http1UpgradeExchange(this, stream, upgrade.protocol));
    return true;
  }

  /** The upgrade request was read whole: its upgrade answers it. */
  private startUpgrade(pending: PendingUpgrade): void {
    const exchange = pending.exchange;
    try {
      pending.upgrade.onUpgrade(exchange);
    } catch (thrown) {
      this.reportUpgradeFailure(`onUpgrade of the ${exchange.protocol} upgrade threw`, thrown);
      if (!exchange.isAnswered) exchange.refuse(500, NO_FIELDS, 'internal server error\n');
    }
  }

  /** @internal The exchange's `switchProtocols`: queues the 101 in its turn. */
  _switchProtocols(exchange: Http1UpgradeExchange, fields: Http1Fields, install: Http1UpgradeInstall): boolean {
    const pending = this.upgrade;
    if (!this.isUpgradeOpen(pending, exchange)) return false;
    checkOutgoingFields(fields);
    // RFC 9110 §7.8 lets a server decline: a draining connection switches to nothing.
    if (this.hasFlag(DRAINING)) return this._refuseUpgrade(exchange, 503, NO_FIELDS, 'the server is closing\n');
    const stream = exchange.request;
    const outgoing = stream._outgoing;
    outgoing.framing = BodyFraming.NONE;
    outgoing.setResponseHead(101, 'Switching Protocols', fields, 1);
    outgoing.queueEnd(null, null);
    pending!.install = install;
    this._streamHasOutput(stream);
    return true;
  }

  /** @internal The exchange's `refuse`: a final response, then the connection closes. */
  _refuseUpgrade(exchange: Http1UpgradeExchange, status: number, fields: Http1Fields, body: string): boolean {
    const pending = this.upgrade;
    if (!this.isUpgradeOpen(pending, exchange)) return false;
    const stream = exchange.request;
    const bytes = Buffer.from(body, 'utf8');
    stream.respond(status, refusalFields(fields, bytes.length), bytes.length === 0);
    if (bytes.length > 0) {
      stream.write(bytes);
      stream.end();
    }
    this.upgrade = null;
    pending!.handover.release();
    return true;
  }

  private isUpgradeOpen(pending: PendingUpgrade | null, exchange: Http1UpgradeExchange): boolean {
    return (
      pending !== null &&
      pending.exchange === exchange &&
      !exchange.request.isClosed &&
      !this.hasFlag(SHUT_DOWN) &&
      this.slot !== null &&
      !this.slot.channel.isShuttingDown
    );
  }

  /** The 101 is written: the upgrade's handler replaces this one, with the bytes read past the request. */
  private switchProtocols(slot: ChannelSlot, pending: PendingUpgrade): void {
    this.upgrade = null;
    this.stopWriting();
    this.stopTimers();
    const bytes = pending.handover.take();
    let installed: ChannelSlot;
    try {
      installed = pending.install!(slot, bytes);
    } catch (thrown) {
      const error = this.reportUpgradeFailure(`switching to ${pending.exchange.protocol} failed`, thrown);
      slot.channel.shutdown(error);
      return;
    }
    // Those bytes were read under this connection's window and never returned: a socket paused
    // on it reads again once the new slot has the credit.
    if (bytes.length > 0) installed.incrementReadWindow(bytes.length);
    // close() came while the 101 was on its way: the drain this connection owed ends the channel.
    if (this.hasFlag(DRAINING)) installed.channel.shutdown(null);
  }

  private reportUpgradeFailure(what: string, thrown: unknown): SluiceError {
    const error = new SluiceError(Http1ConnectionErrors.UPGRADE_FAILED, `${what}: ${describeThrown(thrown)}`, {
      cause: thrown,
    });
    if (this.options.onError !== undefined) this.options.onError(error);
    else if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'http1-connection', error.message);
    return error;
  }

  // ---------------------------------------------------------------- errors and timers

  /**
   * A request broke a rule: read nothing more, answer the status with `Connection: close` after
   * the responses already due, and close. The application never sees a request rejected in its
   * head; one rejected in its body fails its exchange.
   */
  private onParseError(error: unknown): void {
    if (!(error instanceof Http1ParseError)) {
      // Only application callbacks could throw anything else, and they are caught where called.
      this.slot?.channel.shutdown(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
      return;
    }
    this.parseErrorCount++;
    this.stopReading();
    // An upgrade request whose body broke a rule: it was never given to its upgrade.
    this.upgrade?.handover.release();
    this.upgrade = null;
    this.options.onError?.(error);
    const reading = this.reading;
    this.reading = null;
    this.fieldCount = 0;
    if (reading !== null) {
      if (reading._outgoing.isHeadQueued) {
        // Its response started: it cannot be replaced by an error response.
        reading._close(error);
        this.slot?.channel.shutdown(error);
        return;
      }
      this.streams.splice(this.streams.indexOf(reading), 1);
      reading._close(error);
    }
    const answer = new Http1ServerStream(this, 'GET', '/', 1, NO_FIELDS, false, 'none', -1);
    answer._isRequestComplete = true;
    answer._isKeepAliveRequested = false;
    this.streams.push(answer);
    answer.respond(error.status, ['content-length', '0', 'connection', 'close'], true);
  }

  /** @internal No exchange is in progress. */
  _isIdle(): boolean {
    return (
      this.streams.length === 0 &&
      this.reading === null &&
      this.held.length === 0 &&
      (this.parser === null || this.parser.isAtMessageBoundary)
    );
  }

  /**
   * Arms the idle timer when no exchange is in progress; a draining connection closes instead.
   * `now`: the loop's time, when the caller read it already.
   */
  private armIdle(now?: number): void {
    if (!this._isIdle() || this.hasFlag(SHUT_DOWN)) {
      IdleTimers.remove(this);
      return;
    }
    const outgoing = this.outgoing;
    if (this.hasFlag(DRAINING | READ_STOPPED)) {
      if (outgoing === null || !outgoing.isBusy) this.slot?.channel.shutdown(null);
      return;
    }
    // After its first request a connection gives its parser, writer and deadlines back at once:
    // most that carry one request carry no other, and a burst of them must not hold them each
    // (held past a scavenge they would outlive it in the old generation). One that carries a
    // series keeps them until it has been idle a second (`_onIdleRelease`), sparing the pools a
    // round trip per request and keeping what its parser and writer remember of its requests.
    if (this.requestCount === 1) this.releaseBusyState();
    if (this.slot === null) return;
    // A new connection is in its handshake: that deadline, not the idle one, governs it.
    if (this.requestCount === 0 && this.deadlines !== null && this.deadlines.isHandshakePending) return;
    this.idleTimers(this.slot).add(this, now);
  }

  /** The loop's list for this connection's idle timeout (none: a list that only releases). */
  private idleTimers(slot: ChannelSlot): IdleTimers {
    const timeout = this.settings.idleTimeoutMs > 0 ? this.settings.idleTimeoutMs : Infinity;
    return IdleTimers.of(slot.channel.loop, timeout, DEADLINES_RELEASE_AFTER_MS);
  }

  /** The deadlines, taken from the pool if the connection holds none. */
  private get timers(): Http1ServerDeadlines {
    return (this.deadlines ??= Http1ServerDeadlines.take(this, this.settings));
  }

  /** No timer runs again (shut down, switched protocols or removed). */
  private stopTimers(): void {
    IdleTimers.remove(this);
    if (this.slot !== null) this.idleTimers(this.slot).disarmIfEmpty();
    this.deadlines?.stop(this.slot);
  }

  /**
   * @internal Idle a while: the parser, the writer and the deadlines go back to their pools, for
   * this or another connection's next request. A connection busy again within the mark keeps
   * them, so a series of requests in quick succession costs no trips to the pools.
   */
  _onIdleRelease(): void {
    if (this.hasFlag(SHUT_DOWN | DESTROYED)) return;
    this.releaseBusyState();
  }

  /** Gives the parser, the writer and the deadlines back to their pools (each unless still in use). */
  private releaseBusyState(): void {
    this.releaseParserAndWriter();
    const deadlines = this.deadlines;
    if (deadlines === null) return;
    this.deadlines = null;
    Http1ServerDeadlines.give(deadlines, this.slot);
  }

  /** Gives the parser (unless it is parsing) and the writer (unless it is busy) back to their pools. */
  private releaseParserAndWriter(): void {
    const parser = this.parser;
    if (parser !== null && !this.hasFlag(PARSING)) {
      this.parser = null;
      this.fieldScratch = null;
      IdleParserPool.give(parser, this.options.parser);
    }
    const outgoing = this.outgoing;
    if (outgoing !== null) {
      const messages = outgoing.messagesWritten;
      const bytes = outgoing.bytesWritten;
      if (Http1OutgoingTask.give(outgoing)) {
        this.outgoing = null;
        this.messagesWrittenBefore += messages;
        this.bytesWrittenBefore += bytes;
      }
    }
  }

  /** @internal Idle for `idleTimeoutMs`: closes without an error. */
  _onIdleTimeout(): void {
    if (this._isIdle() && !this.hasFlag(SHUT_DOWN | DESTROYED)) this.slot?.channel.shutdown(null);
  }

  /** @internal The connection's timer (its deadlines' task) ran: acts on every deadline due. */
  _onTimer(status: TaskStatus): void {
    const slot = this.slot;
    if (status !== TaskStatus.RUN_READY || slot === null || this.hasFlag(SHUT_DOWN)) return;
    this.deadlines?.check(slot, slot.channel.loop.now());
  }
}
