/**
 * One request/response exchange on an HTTP/1.1 server connection: the low-level callback API,
 * shaped like HTTP/2's server stream.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http';
import { SluiceError, type MinDataRate } from '../../../lib/index.js';
import { checkMinDataRate } from '../../../lib/data-rate.js';
import { Http1ConnectionErrors, Http1EncodeErrors } from '../errors.js';
import type { BodyKind } from '../wire/message-parser.js';
import { isFieldValue, type Http1Fields } from '../wire/message-encoder.js';
import { BodyFraming, OutgoingMessage, checkOutgoingFields, type Http1WriteCallback } from './outgoing-message.js';

/**
 * Http1ServerStreamHandler receives the request body of one exchange, synchronously on the
 * connection's loop. Every method is optional. Byte ranges passed to `onData` are views valid only
 * until the callback returns: copy what you keep. A callback that throws fails its exchange and
 * closes the connection (HTTP/1.1 cannot reset one exchange alone).
 */
export interface Http1ServerStreamHandler {
  /** Request body bytes `data[start..end)`. With `isManualWindow`, return credit with `stream.updateWindow`. */
  onData?(stream: Http1ServerStream, data: Uint8Array, start: number, end: number): void;
  /** Trailer fields of a chunked request body (flat `[name, value, …]`); `onEnd` follows. */
  onTrailers?(stream: Http1ServerStream, trailers: Http1Fields): void;
  /** The request body ended (called also for a request without body). */
  onEnd?(stream: Http1ServerStream): void;
  /** Buffered response bytes fell below the high-water mark after a `write` returned false. */
  onDrain?(stream: Http1ServerStream): void;
  /**
   * The exchange is over: `error` is null when the request was read whole and the response
   * written whole, else why it failed (the connection closed, a callback threw…). Called once, last.
   */
  onClose?(stream: Http1ServerStream, error: SluiceError | null): void;
}

/**
 * What a stream needs from its connection; the server connection implements it.
 * @internal
 */
export interface Http1ServerStreamHost {
  readonly highWaterMark: number;
  /** Whether the response must carry `Connection: close` (the connection closes after it). */
  _responseCloses(stream: Http1ServerStream, isAskedByApplication: boolean): boolean;
  /** The stream queued output. */
  _streamHasOutput(stream: Http1ServerStream): void;
  /** Returns body credit to the read window. */
  _returnCredit(size: number): void;
  /** Fails the exchange and closes the connection. */
  _resetStream(stream: Http1ServerStream, error: SluiceError): void;
  /** The exchange's part in the minimum data rates changed (an override, a reader waiting or not). */
  _onDataRateChanged(stream: Http1ServerStream): void;
}

const NO_HANDLER: Http1ServerStreamHandler = Object.freeze({});

/**
 * Http1ServerStream is one request and its response. The request head is in its fields
 * (`method`, `target`, `headers`…); the body comes to `handler`. The response goes out with
 * `respond`, `write` and `end`, in request order whatever order the application answers
 * pipelined requests in.
 *
 * Framing is the connection's: a response with `Content-Length` is sent as such; one without is
 * chunked to an HTTP/1.1 peer (trailers possible) and delimited by the connection's close to an
 * HTTP/1.0 peer (trailers dropped); a response to HEAD, a 204 and a 304 carry no body (bytes
 * written for them are dropped, their callbacks still run).
 */
export class Http1ServerStream {
  /** The request method (case-sensitive). */
  readonly method: string;
  /** The request target as sent. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly httpMinorVersion: number;
  /** The request's field lines, flat `[name, value, …]`, names as sent. */
  readonly headers: Http1Fields;
  /** The request carried `Expect: 100-continue` (HTTP/1.1). */
  readonly expectContinue: boolean;
  /** The body's delimitation: `none`, `length` or `chunked`. */
  readonly bodyKind: BodyKind;
  /** The request's `Content-Length`, or -1. */
  readonly contentLength: number;
  /** The application's callbacks; set it in `onRequest`. */
  handler: Http1ServerStreamHandler = NO_HANDLER;
  /** Anything the application keeps with the exchange. */
  userData: unknown = null;

  /** @internal */
  readonly _outgoing = new OutgoingMessage();
  /** @internal The request asked to keep the connection (RFC 9112 §9.3). */
  _isKeepAliveRequested = true;
  /** @internal The whole request was read. */
  _isRequestComplete = false;
  /** @internal The response says `Connection: close`. */
  _closesConnection = false;
  /** @internal 100 Continue was queued. */
  _isContinueSent = false;
  /** @internal Body bytes delivered in manual window mode, not yet returned. */
  _heldCredit = 0;
  /** @internal `write` returned false; tell `onDrain`. */
  _needsDrain = false;
  /** @internal Request body bytes received (the request-body rate counts them). */
  _bodyBytesReceived = 0;
  /** @internal `setMinDataRate(null)`: out of both minimum rates. */
  _isRateExempt = false;
  /** @internal This exchange's request-body rate (`setMinDataRate(rate)`); undefined: the connection's. */
  _receiveRate: MinDataRate | undefined = undefined;
  /** @internal A reader of the convenient body waits for bytes (what times a manual-window body). */
  _isReadWaiting = false;
  private hasClosed = false;
  private readonly host: Http1ServerStreamHost;

  /** @internal Streams come from the connection. */
  constructor(
    host: Http1ServerStreamHost,
    method: string,
    target: string,
    httpMinorVersion: number,
    headers: Http1Fields,
    expectContinue: boolean,
    bodyKind: BodyKind,
    contentLength: number,
  ) {
    this.host = host;
    this.method = method;
    this.target = target;
    this.httpMinorVersion = httpMinorVersion;
    this.headers = headers;
    this.expectContinue = expectContinue;
    this.bodyKind = bodyKind;
    this.contentLength = contentLength;
  }

  /** True once a final response head was given. */
  get isResponding(): boolean {
    return this._outgoing.isHeadQueued;
  }

  /** True once `end` was called (or the exchange failed). */
  get isEnded(): boolean {
    return this._outgoing.isEndQueued;
  }

  /** True once `onClose` ran. */
  get isClosed(): boolean {
    return this.hasClosed;
  }

  /** Buffered response bytes not yet handed to the socket. */
  get bufferedBytes(): number {
    return this._outgoing.bufferedBytes;
  }

  /** The value of the first request field named `name` (case-insensitive), or undefined. */
  header(name: string): string | undefined {
    const headers = this.headers;
    for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === name) return headers[i + 1];
    return undefined;
  }

  /**
   * Sends an interim 1xx response (RFC 9110 §15.2) before the final one, e.g. 103 Early Hints.
   * 100 Continue is usually sent by the connection (see {@link Http1ServerStream.sendContinue});
   * 101 is refused (upgrades are not handled here). Ignored for an HTTP/1.0 request (RFC 9110 §15.2).
   */
  sendInformational(status: number, fields: Http1Fields = []): void {
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `${String(status)} is not an interim status`);
    }
    this.checkNotResponding();
    checkOutgoingFields(fields);
    if (this.httpMinorVersion === 0) return;
    if (status === 100) {
      if (this._isContinueSent) return;
      this._isContinueSent = true;
    }
    this._outgoing.queueInterim(status, STATUS_CODES[status] ?? '', fields);
    this.host._streamHasOutput(this);
  }

  /**
   * Tells the client to send the body of an `Expect: 100-continue` request (100 Continue), once.
   * Does nothing for other requests, once a final response was given, or when the body arrived.
   * The connection calls it for the application when `onRequest` returns with a handler that has
   * `onData` (the application reads the body).
   */
  sendContinue(): void {
    if (!this.expectContinue || this._isContinueSent || this._outgoing.isHeadQueued || this._isRequestComplete) return;
    this.sendInformational(100);
  }

  /**
   * Gives the final response head. `fields` is flat `[name, value, …]`; `Transfer-Encoding` is
   * refused (`HTTP1_FRAMING_FIELD`: the connection frames); `Content-Length` frames the body; a
   * `Connection: close` closes the connection after this response. With `isEndStream` the response
   * has no body (`Content-Length: 0` is added when no length is given). Throws
   * `HTTP1_INVALID_STATE` on a second call, `HTTP1_INVALID_ARGUMENT` for a status outside 200–599,
   * `HTTP1_CONNECTION_CLOSED` once the exchange closed, and the encoder's field codes for a bad
   * name or value; nothing is queued when it throws.
   */
  respond(status: number, fields: Http1Fields = [], isEndStream = false, reason?: string): void {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `${String(status)} is not a final status`);
    }
    this.checkNotResponding();
    if (reason !== undefined && (typeof reason !== 'string' || !isFieldValue(reason))) {
      // The head is written unchecked (it was checked here, once): the reason must be too.
      throw new SluiceError(Http1EncodeErrors.INVALID_OUTGOING_START_LINE, 'the reason phrase is not valid');
    }
    const framing = isSameFieldList(LAST_RESPONSE_FIELDS.fields, fields)
      ? LAST_RESPONSE_FIELDS
      : checkResponseFields(fields);
    const declaredLength = framing.declaredLength;
    const isCloseAsked = framing.isCloseAsked;
    const hasConnectionField = framing.hasConnectionField;
    const outgoing = this._outgoing;
    const hasNoBody = this.method === 'HEAD' || status === 204 || status === 304; // RFC 9112 §6.3
    let extra: string[] | null = null;
    if (hasNoBody) {
      outgoing.framing = BodyFraming.NONE;
      outgoing.isBodyDiscarded = true;
    } else if (declaredLength >= 0) {
      outgoing.framing = BodyFraming.LENGTH;
      outgoing.declaredLength = declaredLength;
    } else if (isEndStream) {
      outgoing.framing = BodyFraming.LENGTH;
      outgoing.declaredLength = 0;
      extra = ['content-length', '0'];
    } else if (this.httpMinorVersion === 1) {
      outgoing.framing = BodyFraming.CHUNKED;
      extra = ['transfer-encoding', 'chunked'];
    } else {
      // RFC 9112 §6.3 rule 8 / §7: no chunked coding for an HTTP/1.0 peer; the close delimits.
      outgoing.framing = BodyFraming.CLOSE;
    }
    const closes = this.host._responseCloses(this, isCloseAsked || outgoing.framing === BodyFraming.CLOSE);
    this._closesConnection = closes;
    if (closes && !isCloseAsked) (extra ??= []).push('connection', 'close');
    else if (!closes && this.httpMinorVersion === 0 && !hasConnectionField)
      (extra ??= []).push('connection', 'keep-alive');
    const all = extra === null ? fields : fields.concat(extra);
    outgoing.setResponseHead(status, reason ?? STATUS_CODES[status] ?? '', all, 1);
    if (isEndStream) outgoing.queueEnd(null, null);
    this.host._streamHasOutput(this);
  }

  /**
   * Queues response body bytes; `callback` runs once they were copied toward the socket (the
   * chunk may be reused then) or failed. Returns false once more than the high-water mark is
   * buffered: continue from the callbacks or `onDrain`. Throws `HTTP1_INVALID_STATE` before
   * `respond` or after `end`, `HTTP1_CONTENT_LENGTH_MISMATCH` beyond the declared length.
   */
  write(chunk: Uint8Array, callback?: Http1WriteCallback): boolean {
    if (!(chunk instanceof Uint8Array)) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'a chunk must be a Uint8Array');
    }
    this.checkOpen();
    const outgoing = this._outgoing;
    if (!outgoing.isHeadQueued || outgoing.isEndQueued) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'write before respond or after end');
    }
    if (
      outgoing.framing === BodyFraming.LENGTH &&
      outgoing.bodyBytesAccepted + chunk.length > outgoing.declaredLength
    ) {
      throw new SluiceError(
        Http1ConnectionErrors.CONTENT_LENGTH_MISMATCH,
        `more than the ${outgoing.declaredLength} bytes declared`,
      );
    }
    outgoing.queueBody(chunk, callback ?? null);
    this.host._streamHasOutput(this);
    const isBelow = outgoing.bufferedBytes < this.host.highWaterMark;
    if (!isBelow) this._needsDrain = true;
    return isBelow;
  }

  /**
   * Ends the response: the last chunk with `trailers` when chunked (dropped otherwise — HTTP/1.0
   * peers and `Content-Length` bodies have none), else nothing more. `callback` runs once the end
   * was copied toward the socket. Throws `HTTP1_CONTENT_LENGTH_MISMATCH` when fewer bytes than the
   * declared length were written.
   */
  end(trailers?: Http1Fields | null, callback?: Http1WriteCallback): void {
    this.checkOpen();
    const outgoing = this._outgoing;
    if (!outgoing.isHeadQueued || outgoing.isEndQueued) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'end before respond or after end');
    }
    if (trailers !== undefined && trailers !== null) checkOutgoingFields(trailers);
    if (outgoing.framing === BodyFraming.LENGTH && outgoing.bodyBytesAccepted !== outgoing.declaredLength) {
      throw new SluiceError(
        Http1ConnectionErrors.CONTENT_LENGTH_MISMATCH,
        `${outgoing.bodyBytesAccepted} bytes written of the ${outgoing.declaredLength} declared`,
      );
    }
    outgoing.queueEnd(trailers ?? null, callback ?? null);
    this.host._streamHasOutput(this);
  }

  /**
   * Returns `size` bytes of body credit in manual window mode (the application consumed them), so
   * the socket reads again. Credit beyond what was delivered is ignored.
   */
  updateWindow(size: number): void {
    if (!(size > 0)) return;
    const returned = size < this._heldCredit ? size : this._heldCredit;
    if (returned === 0) return;
    this._heldCredit -= returned;
    this.host._returnCredit(returned);
  }

  /**
   * Sets this exchange's part in the connection's minimum data rates: `null` takes it out of both
   * (its request body is not timed, its response does not count toward `minResponseDataRate`) —
   * for long polls and tunnels; a {@link MinDataRate} times its request body at that rate
   * instead of `minRequestBodyDataRate`. Applies from now. Throws `HTTP1_INVALID_ARGUMENT` for
   * anything else.
   */
  setMinDataRate(rate: MinDataRate | null): void {
    checkMinDataRate(rate, 'setMinDataRate(rate)', Http1ConnectionErrors.INVALID_ARGUMENT);
    this._isRateExempt = rate === null;
    if (rate !== null) this._receiveRate = rate;
    this.host._onDataRateChanged(this);
  }

  /** @internal A reader of the convenient body waits for bytes (true) or stopped waiting. */
  _setReadWaiting(isWaiting: boolean): void {
    if (this._isReadWaiting === isWaiting) return;
    this._isReadWaiting = isWaiting;
    this.host._onDataRateChanged(this);
  }

  /**
   * Fails the exchange: HTTP/1.1 cannot abandon one exchange and keep the connection, so the
   * connection closes (what is already written stays written). `onClose` gets `error`.
   */
  reset(error: SluiceError = new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the exchange was reset')): void {
    if (this.isClosed) return;
    this.host._resetStream(this, error);
  }

  /** A send on an exchange that already closed (the connection went, or it failed) is `HTTP1_CONNECTION_CLOSED`. */
  private checkOpen(): void {
    if (this.hasClosed) throw new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the exchange is closed');
  }

  private checkNotResponding(): void {
    this.checkOpen();
    if (this._outgoing.isHeadQueued) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'the final response was already given');
    }
  }

  /** @internal Ends the exchange once: returns held credit, fails what is queued, calls `onClose` (a throw from it is ignored). */
  _close(error: SluiceError | null): void {
    if (this.hasClosed) return;
    this.hasClosed = true;
    if (this._heldCredit > 0) {
      const held = this._heldCredit;
      this._heldCredit = 0;
      this.host._returnCredit(held);
    }
    if (error !== null && !this._outgoing.isEndWritten) this._outgoing.fail(error);
    try {
      this.handler.onClose?.(this, error);
    } catch {
      // onClose is last: nothing is left to fail.
    }
  }
}

/** What `respond` reads from a response's fields for its framing. */
interface ResponseFieldFacts {
  /** A copy of the fields these facts are of. */
  fields: readonly string[];
  /** Content-Length, or -1. */
  declaredLength: number;
  /** `Connection: close`. */
  isCloseAsked: boolean;
  /** Any `Connection` field. */
  hasConnectionField: boolean;
}

/**
 * The last field list `respond` checked, with its facts: a server answers most requests with the
 * same names and values (a `date` that changes once a second), and the same strings are then
 * neither checked nor scanned again. One for the process: the facts depend on the strings alone.
 */
const LAST_RESPONSE_FIELDS: ResponseFieldFacts = {
  fields: [],
  declaredLength: -1,
  isCloseAsked: false,
  hasConnectionField: false,
};

/** Equal lists of strings (equal strings are usually the very same strings: cheap). */
function isSameFieldList(a: readonly string[], b: unknown): boolean {
  if (!Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks a response's fields (names tokens, values free of CR, LF and other controls; a valid
 * Content-Length; no Transfer-Encoding: the connection frames) and reads its framing facts;
 * remembers them as the last checked. Throws before remembering anything.
 */
function checkResponseFields(fields: unknown): ResponseFieldFacts {
  const list = checkOutgoingFields(fields);
  let declaredLength = -1;
  let isCloseAsked = false;
  let hasConnectionField = false;
  for (let i = 0; i < list.length; i += 2) {
    const length = list[i].length;
    // Only three names matter here; most fields are skipped by their length alone.
    if (length !== 14 && length !== 17 && length !== 10) continue;
    const name = list[i].toLowerCase();
    if (name === 'content-length') {
      declaredLength = /^[0-9]{1,15}$/.test(list[i + 1]) ? Number(list[i + 1]) : NaN;
      if (Number.isNaN(declaredLength)) {
        throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `Content-Length ${list[i + 1]}`);
      }
    } else if (name === 'transfer-encoding') {
      throw new SluiceError(Http1ConnectionErrors.FRAMING_FIELD);
    } else if (name === 'connection') {
      hasConnectionField = true;
      if (/(^|,)\s*close\s*(,|$)/i.test(list[i + 1])) isCloseAsked = true;
    }
  }
  LAST_RESPONSE_FIELDS.fields = list.slice();
  LAST_RESPONSE_FIELDS.declaredLength = declaredLength;
  LAST_RESPONSE_FIELDS.isCloseAsked = isCloseAsked;
  LAST_RESPONSE_FIELDS.hasConnectionField = hasConnectionField;
  return LAST_RESPONSE_FIELDS;
}
