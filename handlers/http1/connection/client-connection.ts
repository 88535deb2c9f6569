/**
 * The HTTP/1.1 client connection: a channel handler that sends one request at a time and reads
 * its response, reusable while both sides keep the connection alive.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type HandlerStatistics,
  type IoMessage,
} from '../../../lib/index.js';
import { Http1ConnectionErrors, Http1EncodeErrors, Http1ParseError, Http1ParseErrors } from '../errors.js';
import { isToken, type Http1Fields } from '../wire/message-encoder.js';
import { MessageParser, type MessageHead } from '../wire/message-parser.js';
import { HTTP1_CLIENT_DEFAULTS, numberOption, type Http1ClientConnectionOptions } from './connection-options.js';
import { BodyFraming, OutgoingMessage, checkOutgoingFields, type Http1WriteCallback } from './outgoing-message.js';
import { Http1OutgoingTask } from './outgoing-task.js';

/**
 * Http1ClientStreamHandler receives one response, synchronously on the connection's loop. Every
 * method is optional; byte ranges are valid only during the call. A callback that throws fails
 * the exchange and closes the connection.
 */
export interface Http1ClientStreamHandler {
  /** An interim 1xx response (100 Continue included). */
  onInformational?(stream: Http1ClientStream, status: number, fields: Http1Fields): void;
  /** The final response head; `fields` flat `[name, value, …]`. */
  onResponse?(stream: Http1ClientStream, status: number, fields: Http1Fields, reason: string): void;
  /** Response body bytes `data[start..end)`; with `isManualWindow`, return credit with `stream.updateWindow`. */
  onData?(stream: Http1ClientStream, data: Uint8Array, start: number, end: number): void;
  /** Trailer fields of a chunked response; `onEnd` follows. */
  onTrailers?(stream: Http1ClientStream, trailers: Http1Fields): void;
  /** The response ended. */
  onEnd?(stream: Http1ClientStream): void;
  /** Buffered request bytes fell below the high-water mark after a `write` returned false. */
  onDrain?(stream: Http1ClientStream): void;
  /**
   * The exchange is over: null when the response came whole, else why not. Called once, last. A
   * server may answer before the request body was all sent: the response is still whole (null
   * here), the unsent writes fail with `HTTP1_BODY_NOT_SENT` and the connection closes after it.
   */
  onClose?(stream: Http1ClientStream, error: SluiceError | null): void;
}

/** Options of {@link Http1ClientConnection.request}. */
export interface Http1RequestOptions {
  /** The response's callbacks. */
  handler?: Http1ClientStreamHandler;
  /** The request has no body: the head is all (`Content-Length: 0` is added to POST, PUT and PATCH). */
  isEndStream?: boolean;
  /** Anything the application keeps with the exchange. */
  userData?: unknown;
}

const NO_HANDLER: Http1ClientStreamHandler = Object.freeze({});
const NO_FIELDS: string[] = [];

/**
 * Http1ClientStream is one request and its response on an {@link Http1ClientConnection}. Send the
 * body with `write` and `end` (chunked unless the request declared `Content-Length`); the response
 * comes to `handler`.
 */
export class Http1ClientStream {
  /** The request method. */
  readonly method: string;
  /** The request target. */
  readonly target: string;
  /** The response's callbacks. */
  handler: Http1ClientStreamHandler;
  /** Anything the application keeps with the exchange. */
  userData: unknown;
  /** The final status, 0 until the response head arrived. */
  status = 0;
  /** The final response's fields, flat; empty until it arrived. */
  responseHeaders: Http1Fields = NO_FIELDS;

  /** @internal */
  readonly _outgoing = new OutgoingMessage();
  /** @internal */
  _isResponseComplete = false;
  /** @internal */
  _heldCredit = 0;
  /** @internal */
  _needsDrain = false;
  private hasClosed = false;
  /** Whether the head had been written when the exchange closed (failing the message marks it written). */
  private wasStartedAtClose = false;
  private readonly connection: Http1ClientConnection;

  /** @internal Streams come from {@link Http1ClientConnection.request}. */
  constructor(connection: Http1ClientConnection, method: string, target: string, options: Http1RequestOptions) {
    if (!(connection instanceof Http1ClientConnection)) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'Http1ClientStream objects come from request()');
    }
    this.connection = connection;
    this.method = method;
    this.target = target;
    this.handler = options.handler ?? NO_HANDLER;
    this.userData = options.userData ?? null;
  }

  /** True once `onClose` ran. */
  get isClosed(): boolean {
    return this.hasClosed;
  }

  /**
   * True once the request head was copied into a message toward the socket. While false, no byte
   * of this request can have reached the server: a connection manager may send it again elsewhere
   * whatever its method.
   */
  get isRequestStarted(): boolean {
    return this.hasClosed ? this.wasStartedAtClose : this._outgoing.isHeadWritten;
  }

  /**
   * Queues request body bytes; `callback` runs once they were copied toward the socket or failed.
   * Returns false above the high-water mark. Throws `HTTP1_INVALID_STATE` after `end`,
   * `HTTP1_CONTENT_LENGTH_MISMATCH` beyond the declared length.
   */
  write(chunk: Uint8Array, callback?: Http1WriteCallback): boolean {
    if (!(chunk instanceof Uint8Array)) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'a chunk must be a Uint8Array');
    }
    if (this.hasClosed) throw new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the exchange is closed');
    const outgoing = this._outgoing;
    if (outgoing.isEndQueued) throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'write after end');
    if (
      outgoing.framing === BodyFraming.LENGTH &&
      outgoing.bodyBytesAccepted + chunk.length > outgoing.declaredLength
    ) {
      throw new SluiceError(Http1ConnectionErrors.CONTENT_LENGTH_MISMATCH, 'more than the declared Content-Length');
    }
    outgoing.queueBody(chunk, callback ?? null);
    this.connection._streamHasOutput();
    const isBelow = outgoing.bufferedBytes < this.connection.highWaterMark;
    if (!isBelow) this._needsDrain = true;
    return isBelow;
  }

  /** Ends the request body, with trailers when chunked; `callback` runs once the end was copied toward the socket. */
  end(trailers?: Http1Fields | null, callback?: Http1WriteCallback): void {
    if (this.hasClosed) throw new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the exchange is closed');
    const outgoing = this._outgoing;
    if (outgoing.isEndQueued) throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'end after end');
    if (trailers !== undefined && trailers !== null) checkOutgoingFields(trailers);
    if (outgoing.framing === BodyFraming.LENGTH && outgoing.bodyBytesAccepted !== outgoing.declaredLength) {
      throw new SluiceError(
        Http1ConnectionErrors.CONTENT_LENGTH_MISMATCH,
        `${outgoing.bodyBytesAccepted} bytes written of the ${outgoing.declaredLength} declared`,
      );
    }
    outgoing.queueEnd(trailers ?? null, callback ?? null);
    this.connection._streamHasOutput();
  }

  /** Returns `size` bytes of response body credit in manual window mode. */
  updateWindow(size: number): void {
    if (!(size > 0)) return;
    const returned = size < this._heldCredit ? size : this._heldCredit;
    if (returned === 0) return;
    this._heldCredit -= returned;
    this.connection._returnCredit(returned);
  }

  /** Abandons the exchange: the connection closes (HTTP/1.1 cannot cancel one exchange alone). */
  reset(error: SluiceError = new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the exchange was reset')): void {
    this.connection._failExchange(this, error);
  }

  /** @internal */
  _close(error: SluiceError | null): void {
    if (this.hasClosed) return;
    this.hasClosed = true;
    this.wasStartedAtClose = this._outgoing.isHeadWritten;
    if (this._heldCredit > 0) {
      const held = this._heldCredit;
      this._heldCredit = 0;
      this.connection._returnCredit(held);
    }
    if (error !== null && !this._outgoing.isEndWritten) this._outgoing.fail(error);
    try {
      this.handler.onClose?.(this, error);
    } catch {
      // onClose is last: nothing is left to fail.
    }
  }
}

/**
 * Http1ClientConnection is the HTTP/1.1 client as a channel handler. It carries **one request
 * at a time**: `request()` while an exchange is in flight throws `HTTP1_CONNECTION_BUSY` (a
 * connection manager queues, not the connection). After an exchange that both sides kept alive,
 * `isReusable` is true and `onReusable` fires; otherwise the connection closes.
 *
 * Request bodies are chunked unless the request declares `Content-Length`. A request with
 * `Expect: 100-continue` sends its head and holds its body until a 100, a final status (then the
 * body is not sent: its writes fail with `HTTP1_BODY_NOT_SENT`, and the connection closes after
 * the response), or `continueTimeoutMs`. Responses to HEAD have no body; a response without a
 * length ends when the server closes.
 */
export class Http1ClientConnection implements ChannelHandler {
  // Also its parser's MessageListener and its outgoing task's host, by shape (checked where they
  // are created): those members are internal (stripped), so the published types must not name
  // the interfaces.
  /** Always `client`. */
  readonly role = 'client' as const;
  /** @internal */
  readonly highWaterMark: number;
  private readonly options: Http1ClientConnectionOptions;
  private readonly readWindowSize: number;
  private readonly isManualWindow: boolean;
  private readonly continueTimeoutMs: number;
  private readonly parser: MessageParser;
  private readonly outgoing: Http1OutgoingTask;
  private readonly continueTask: Task;
  private slot: ChannelSlot | null = null;
  private current: Http1ClientStream | null = null;
  private fields: string[] = NO_FIELDS;
  private isKeepAlive = true;
  private isClosed = false;
  private creditHeldThisRead = 0;
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;
  private exchangeCount = 0;

  /** Creates a client connection; install it in a channel slot. */
  constructor(options: Http1ClientConnectionOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new SluiceError(
        Http1ConnectionErrors.INVALID_ARGUMENT,
        'new Http1ClientConnection(options): options are an object',
      );
    }
    this.options = options;
    const defaults = HTTP1_CLIENT_DEFAULTS;
    this.readWindowSize = numberOption('readWindowSize', options.readWindowSize, defaults.readWindowSize, 1024);
    this.highWaterMark = numberOption('highWaterMark', options.highWaterMark, defaults.highWaterMark, 1);
    this.continueTimeoutMs = numberOption(
      'continueTimeoutMs',
      options.continueTimeoutMs,
      defaults.continueTimeoutMs,
      0,
    );
    this.isManualWindow = options.isManualWindow === true;
    this.parser = new MessageParser('response', this, options.parser);
    this.outgoing = new Http1OutgoingTask(this);
    this.continueTask = new Task(Http1ClientConnection.runContinueTask, 'http1-continue', this);
  }

  private static runContinueTask(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as Http1ClientConnection).releaseBody();
  }

  /** Whether `request()` may be called now: installed, open, kept alive, no exchange in flight. */
  get isReusable(): boolean {
    return this.slot !== null && !this.isClosed && this.isKeepAlive && this.current === null;
  }

  /** Exchanges completed on this connection. */
  get completedExchanges(): number {
    return this.exchangeCount;
  }

  /**
   * Sends a request: `fields` flat `[name, value, …]` (`Host` is added from the `host` option when
   * absent; `Transfer-Encoding` is refused — the connection frames). Returns the stream to write
   * the body on (unless `isEndStream`). Throws `HTTP1_CONNECTION_BUSY` while an exchange is in
   * flight, `HTTP1_CONNECTION_NOT_REUSABLE` once the connection will carry no more, and the
   * encoder's codes for a bad method, target or field; nothing is sent when it throws.
   */
  request(
    method: string,
    target: string,
    fields: Http1Fields = [],
    options: Http1RequestOptions = {},
  ): Http1ClientStream {
    if (this.current !== null) throw new SluiceError(Http1ConnectionErrors.CONNECTION_BUSY);
    if (this.slot === null || this.isClosed || !this.isKeepAlive) {
      throw new SluiceError(Http1ConnectionErrors.CONNECTION_NOT_REUSABLE);
    }
    if (typeof method !== 'string' || typeof target !== 'string') {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'method and target must be strings');
    }
    checkStartLine(method, target);
    checkOutgoingFields(fields);
    let declaredLength = -1;
    let hasHost = false;
    let expectsContinue = false;
    let isLastRequest = false;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i].toLowerCase();
      if (name === 'content-length') {
        declaredLength = /^[0-9]{1,15}$/.test(fields[i + 1]) ? Number(fields[i + 1]) : NaN;
        if (Number.isNaN(declaredLength)) {
          throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `Content-Length ${fields[i + 1]}`);
        }
      } else if (name === 'transfer-encoding') {
        throw new SluiceError(Http1ConnectionErrors.FRAMING_FIELD);
      } else if (name === 'host') {
        hasHost = true;
      } else if (name === 'expect' && fields[i + 1].toLowerCase() === '100-continue') {
        expectsContinue = true;
      } else if (name === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(fields[i + 1])) {
        isLastRequest = true;
      }
    }
    const stream = new Http1ClientStream(this, method, target, options);
    const outgoing = stream._outgoing;
    const isEndStream = options.isEndStream === true;
    let extra: string[] | null = null;
    if (!hasHost && this.options.host !== undefined) extra = ['host', this.options.host];
    if (declaredLength >= 0) {
      outgoing.framing = BodyFraming.LENGTH;
      outgoing.declaredLength = declaredLength;
    } else if (isEndStream) {
      outgoing.framing = BodyFraming.LENGTH;
      outgoing.declaredLength = 0;
      // RFC 9110 §8.6: a length for methods that carry content, none for GET and the like.
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') (extra ??= []).push('content-length', '0');
    } else {
      outgoing.framing = BodyFraming.CHUNKED;
      (extra ??= []).push('transfer-encoding', 'chunked');
    }
    outgoing.setRequestHead(method, target, extra === null ? fields : fields.concat(extra));
    const hasBody = !isEndStream && declaredLength !== 0;
    if (expectsContinue && hasBody) {
      outgoing.isBodyHeld = true;
      if (this.continueTimeoutMs > 0) this.slot.channel.scheduleTaskAfter(this.continueTask, this.continueTimeoutMs);
    }
    if (isEndStream) outgoing.queueEnd(null, null);
    // RFC 9112 §9.6: a request saying close is the connection's last.
    if (isLastRequest) this.isKeepAlive = false;
    this.current = stream;
    this.parser.setRequestMethod(method);
    this.outgoing.wake();
    return stream;
  }

  /** The channel the connection is installed in; null before it is installed. */
  get channel(): Channel | null {
    return this.slot?.channel ?? null;
  }

  /** Closes the connection once the exchange in flight (if any) is over; at once when idle. */
  close(): void {
    this.isKeepAlive = false;
    if (this.current === null) this.slot?.channel.shutdown(null);
  }

  private releaseBody(): void {
    const stream = this.current;
    if (stream === null || !stream._outgoing.isBodyHeld) return;
    stream._outgoing.isBodyHeld = false;
    this.outgoing.wake();
  }

  // ---------------------------------------------------------------- channel handler

  /** Binds the outgoing task. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.outgoing.attach(slot);
  }

  /** Parses response bytes; returns read credit except for unread body in manual window mode. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.isClosed) {
      message.release();
      return;
    }
    this.creditHeldThisRead = 0;
    const length = message.length;
    let position: number;
    try {
      if (this.current === null) {
        throw new Http1ParseError(
          Http1ParseErrors.INVALID_START_LINE,
          `${length} bytes arrived with no request in flight`,
        );
      }
      position = this.parser.execute(message.data, 0, length);
    } catch (error) {
      message.release();
      this.failConnection(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
      return;
    }
    message.release();
    const credit = position - this.creditHeldThisRead;
    if (credit > 0) slot.incrementReadWindow(credit);
    if (this.parser.isStopped && this.current !== null) {
      // A 101 or a tunnel: not served by this connection.
      this.isKeepAlive = false;
    }
  }

  /** Nothing may be written through the connection from its right. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the HTTP/1.1 handler does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Window increments from the right are not used. */
  incrementReadWindow(): void {}

  /** The socket may deliver this much before the connection returns it. */
  initialWindowSize(): number {
    return this.readWindowSize;
  }

  /** No per-message overhead. */
  messageOverhead(): number {
    return 0;
  }

  /**
   * READ: the server closed (or the channel shuts down): a response delimited by close completes
   * here; one cut short fails. WRITE: the exchange in flight fails; the message in flight completes
   * first unless `free`.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      const stream = this.current;
      if (stream !== null && !stream._isResponseComplete && stream.status !== 0) {
        try {
          this.parser.finish();
        } catch (thrown) {
          if (thrown instanceof Http1ParseError) this.failExchange(stream, thrown);
        }
      }
      this.isClosed = true;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.isClosed = true;
    if (this.continueTask.isScheduled) slot.channel.unscheduleTask(this.continueTask);
    const stream = this.current;
    this.current = null;
    stream?._close(error ?? new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED));
    try {
      this.options.onClose?.(this, error);
    } catch {
      // The connection is closing anyway.
    }
    if (free || !this.outgoing.hasMessageInFlight) {
      this.outgoing.isWritingStopped = true;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.writeShutdown = { error, free };
  }

  /** Counters for the statistics interval. */
  gatherStatistics(): HandlerStatistics {
    return {
      category: 'http1-client',
      exchanges: this.exchangeCount,
      messagesWritten: this.outgoing.messagesWritten,
      bytesWritten: this.outgoing.bytesWritten,
    };
  }

  // ---------------------------------------------------------------- parser listener

  /** @internal */
  onField(name: string, value: string): void {
    if (this.fields === NO_FIELDS) this.fields = [];
    this.fields.push(name, value);
  }

  /** @internal */
  onHeadComplete(head: MessageHead): void {
    const stream = this.current;
    if (stream === null) {
      // A second response to one request: the server's framing cannot be trusted.
      throw new Http1ParseError(Http1ParseErrors.INVALID_START_LINE, 'a response with no request in flight');
    }
    const fields = this.fields;
    this.fields = NO_FIELDS;
    const outgoing = stream._outgoing;
    if (head.status < 200) {
      if (head.status === 100) this.releaseBody();
      this.call(stream, () => stream.handler.onInformational?.(stream, head.status, fields));
      return;
    }
    if (outgoing.isBodyHeld) {
      // RFC 9110 §10.1.1: a final status instead of 100: the body is not sent, and the request
      // framing promised bytes that never come: the connection cannot carry another request.
      outgoing.isBodyHeld = false;
      this.isKeepAlive = false;
      if (this.continueTask.isScheduled) this.slot?.channel.unscheduleTask(this.continueTask);
      if (outgoing.isHeadWritten) outgoing.fail(new SluiceError(Http1ConnectionErrors.BODY_NOT_SENT));
    }
    if (!head.shouldKeepAlive) this.isKeepAlive = false;
    stream.status = head.status;
    stream.responseHeaders = fields;
    this.call(stream, () => stream.handler.onResponse?.(stream, head.status, fields, head.reason));
  }

  /** @internal */
  onBody(data: Uint8Array, start: number, end: number): void {
    const stream = this.current;
    if (stream === null || stream.isClosed) return;
    const handler = stream.handler;
    if (handler.onData === undefined) return;
    if (this.isManualWindow) {
      stream._heldCredit += end - start;
      this.creditHeldThisRead += end - start;
    }
    // Per chunk: no closure, the callback is called in place.
    try {
      handler.onData(stream, data, start, end);
    } catch (thrown) {
      this.failExchange(stream, callbackError(thrown));
    }
  }

  /** @internal */
  onTrailerField(name: string, value: string): void {
    this.onField(name, value);
  }

  /** @internal */
  onMessageComplete(): void {
    const stream = this.current;
    const trailers = this.fields;
    this.fields = NO_FIELDS;
    if (stream === null || stream.isClosed) return;
    stream._isResponseComplete = true;
    const handler = stream.handler;
    if (trailers.length > 0) this.call(stream, () => handler.onTrailers?.(stream, trailers));
    if (stream.isClosed) return;
    this.call(stream, () => handler.onEnd?.(stream));
    if (stream.isClosed) return;
    if (!stream._outgoing.isEndWritten) {
      // The response came before the request was sent whole: stop sending, close after it.
      this.isKeepAlive = false;
      stream._outgoing.fail(new SluiceError(Http1ConnectionErrors.BODY_NOT_SENT));
    }
    this.finishExchange(stream);
  }

  private finishExchange(stream: Http1ClientStream): void {
    this.current = null;
    this.exchangeCount++;
    if (this.continueTask.isScheduled) this.slot?.channel.unscheduleTask(this.continueTask);
    // Before onClose: a request the application starts from it sets the method its response is
    // read for (a HEAD's has no body), which must not be overwritten after.
    this.parser.setRequestMethod('GET');
    stream._close(null);
    // A request started from onClose holds the connection: it is not reusable yet.
    if (this.isKeepAlive && !this.isClosed && this.current === null) {
      try {
        this.options.onReusable?.(this);
      } catch {
        // The application's problem, not the connection's.
      }
    } else if (!this.outgoing.isBusy) {
      this.slot?.channel.shutdown(null);
    }
  }

  private call(stream: Http1ClientStream, callback: () => void): void {
    try {
      callback();
    } catch (thrown) {
      this.failExchange(stream, callbackError(thrown));
    }
  }

  // ---------------------------------------------------------------- stream host

  /** @internal */
  _streamHasOutput(): void {
    this.outgoing.wake();
  }

  /** @internal */
  _returnCredit(size: number): void {
    if (!this.isClosed) this.slot?.incrementReadWindow(size);
  }

  /** @internal */
  _failExchange(stream: Http1ClientStream, error: SluiceError): void {
    this.failExchange(stream, error);
  }

  private failExchange(stream: Http1ClientStream, error: SluiceError): void {
    if (this.current === stream) this.current = null;
    this.isKeepAlive = false;
    stream._close(error);
    this.slot?.channel.shutdown(error);
  }

  private failConnection(error: SluiceError): void {
    this.isKeepAlive = false;
    const stream = this.current;
    if (stream !== null) this.failExchange(stream, error);
    else this.slot?.channel.shutdown(error);
  }

  // ---------------------------------------------------------------- outgoing host

  /** @internal */
  currentOutgoing(): OutgoingMessage | null {
    return this.current === null ? null : this.current._outgoing;
  }

  /** @internal The request was written whole. */
  onOutgoingEnded(): boolean {
    return false;
  }

  /** @internal */
  onOutgoingCallbackThrew(message: OutgoingMessage): void {
    message.hasThrown = false;
    const stream = this.current;
    if (stream !== null) {
      this.failExchange(stream, callbackError(message.thrown));
    }
  }

  /** @internal */
  onWriteCompleted(): void {
    const slot = this.slot;
    if (slot === null) return;
    const pending = this.writeShutdown;
    if (pending !== null) {
      this.writeShutdown = null;
      this.outgoing.isWritingStopped = true;
      if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error, pending.free);
      return;
    }
    const stream = this.current;
    if (stream === null) {
      if (!this.isKeepAlive && !this.isClosed) slot.channel.shutdown(null);
      return;
    }
    if (stream._needsDrain && stream._outgoing.bufferedBytes < this.highWaterMark) {
      stream._needsDrain = false;
      this.call(stream, () => stream.handler.onDrain?.(stream));
    }
  }

  /** @internal */
  onWriteFailed(error: SluiceError): void {
    const pending = this.writeShutdown;
    if (pending !== null && this.slot !== null) {
      this.writeShutdown = null;
      if (!this.slot.isWriteShutDown) {
        this.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error ?? error, pending.free);
      }
      return;
    }
    this.failConnection(error);
  }
}

/** The encoder's start-line rules, checked before anything is queued (RFC 9112 §3). */
function checkStartLine(method: string, target: string): void {
  if (!isToken(method) || !isRequestTarget(target)) {
    throw new SluiceError(
      Http1EncodeErrors.INVALID_OUTGOING_START_LINE,
      `${JSON.stringify(method)} ${JSON.stringify(target)} is not a valid request line`,
    );
  }
}

/** Visible ASCII but `#` (RFC 9112 §3.2), as the encoder writes. */
function isRequestTarget(target: string): boolean {
  if (target.length === 0) return false;
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x23) return false;
  }
  return true;
}

function callbackError(thrown: unknown): SluiceError {
  let detail: string;
  try {
    detail = thrown instanceof Error ? thrown.message : String(thrown);
  } catch {
    detail = 'a value that cannot be printed';
  }
  return new SluiceError(Http1ConnectionErrors.CALLBACK_THREW, `a callback threw: ${detail}`, { cause: thrown });
}
