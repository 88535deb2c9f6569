/**
 * HTTP/1.1 message parser: a byte-streaming state machine (RFC 9112) for requests or responses
 * that accepts its input split at any byte.
 *
 * The parser has explicit named states, one method per state, and a loop in
 * {@link MessageParser.execute} that advances while bytes remain. It frames messages — start line,
 * field lines, a body delimited by `Content-Length`, by the chunked coding (extensions skipped,
 * trailers delivered) or by the connection's end — and enforces the request-smuggling rules of
 * RFC 9112 §3.2, §6.1, §6.3 and §11.2: every ambiguity that could make two parsers frame the same
 * bytes differently is an {@link Http1ParseError}, never a guess. Keep-alive, pipelining, 100
 * responses and upgrades are the connection layer's job; the parser reports what it needs for them.
 *
 * Hot path: nothing is allocated per byte. A line that arrives whole in one chunk is parsed in
 * place; a line split across chunks is gathered in one reusable buffer. Body bytes are delivered
 * as ranges of the chunk given to `execute()`, never copied. The strings a listener receives (field
 * names and values, target, reason) are made once per field from the bytes; common methods are
 * interned.
 *
 * @module
 */
import {
  COLON,
  CR,
  FIELD_VALUE_BYTES,
  LF,
  SP,
  TOKEN_BYTES,
  isCredential,
  isSameLatin1,
  isWhitespace,
  latin1,
} from './char-classes.js';
import { FramingFields } from './framing-fields.js';
import { fieldName } from './known-names.js';
import { lineError, parseRequestLine, parseStatusLine } from './start-line.js';
import { SluiceError } from '../../../lib/errors.js';
import { Http1ConnectionErrors, Http1ParseError, Http1ParseErrors, type Http1ErrorDefinition } from '../errors.js';

/** Which messages a {@link MessageParser} reads: requests (a server) or responses (a client). */
export type MessageRole = 'request' | 'response';

/**
 * How a message's body is delimited (RFC 9112 §6.3): `'none'` (no body, or a zero
 * `Content-Length`), `'length'` (`Content-Length` bytes), `'chunked'` (the chunked transfer
 * coding), `'close'` (a response whose body runs until the connection closes).
 */
export type BodyKind = 'none' | 'length' | 'chunked' | 'close';

/**
 * MessageHead is what a {@link MessageParser} knows once a message's header section has ended. The
 * parser passes one reused instance to {@link MessageListener.onHeadComplete}: read it during the
 * callback only. Field lines themselves were delivered just before, one
 * {@link MessageListener.onField} call each.
 */
export interface MessageHead {
  /** The request method (case-sensitive, RFC 9110 §9.1); for a response, the method given to {@link MessageParser.setRequestMethod}. */
  readonly method: string;
  /** The request target as sent (RFC 9112 §3.2); `''` for a response. */
  readonly target: string;
  /** The status code, 100–599; 0 for a request. */
  readonly status: number;
  /** The reason phrase (latin-1), possibly empty; `''` for a request. */
  readonly reason: string;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly httpMinorVersion: number;
  /** How the body is delimited (for a response to HEAD, a 1xx, 204 or 304 always `'none'`). */
  readonly bodyKind: BodyKind;
  /** The `Content-Length` value, or -1 when absent (it may be present with `bodyKind` `'none'`, e.g. for HEAD). */
  readonly contentLength: number;
  /**
   * Whether the connection may carry another message after this one (RFC 9112 §9.3): HTTP/1.1
   * without `Connection: close`, HTTP/1.0 with `Connection: keep-alive`, and never after a body
   * delimited by close.
   */
  readonly shouldKeepAlive: boolean;
  /** An HTTP/1.1 request with `Expect: 100-continue` (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  /**
   * An HTTP/1.1 request with an `Upgrade` field listed in `Connection` (RFC 9110 §7.8); the
   * listener accepts it by returning true from {@link MessageListener.onHeadComplete}. For a
   * response: a 101 (Switching Protocols).
   */
  readonly isUpgradeRequested: boolean;
  /** The number of field lines in the header section. */
  readonly fieldCount: number;
}

/**
 * MessageListener receives what a {@link MessageParser} parses, synchronously from inside
 * {@link MessageParser.execute}, in wire order: for each message, `onField` per field line,
 * `onHeadComplete`, `onBody` pieces, `onTrailerField` per trailer line, `onMessageComplete`.
 *
 * Strings are the wire bytes read as latin-1. Byte ranges are views of the chunk passed to
 * `execute()`, valid only until the callback returns: copy what you keep. A listener method that
 * throws makes `execute()` throw the same exception; the parser must not be used again. Callbacks
 * must not call `execute()` re-entrantly. Fields are delivered as they are read, before the rules
 * that need the whole header section (Host, Content-Length with Transfer-Encoding, …) are checked:
 * treat them as provisional until `onHeadComplete`, which is never called for a rejected message.
 */
export interface MessageListener {
  /** One field line of the header section: the name as sent (any case), the value without surrounding whitespace. */
  onField(name: string, value: string): void;

  /**
   * The header section ended and passed every check. For a 1xx response other than 101 (interim,
   * RFC 9110 §15.2) this is all: no body, no `onMessageComplete`, and the next head is the final
   * response to the same request. Return `true` to accept the upgrade of a request whose
   * `isUpgradeRequested` is set: the parser reads the request's body, if any, completes it, and
   * stops, handing back the bytes after it (see {@link MessageParser.execute}). Any other return
   * is ignored.
   */
  onHeadComplete(head: MessageHead): boolean | void;

  /** Body bytes `data[start..end)`, decoded from the chunked coding if applied; never empty. */
  onBody(data: Uint8Array, start: number, end: number): void;

  /** One field line of the trailer section of a chunked body (RFC 9112 §7.1.2). */
  onTrailerField(name: string, value: string): void;

  /** The message is complete (its body and trailers were all delivered). */
  onMessageComplete(): void;
}

/** Options of a {@link MessageParser}; defaults are in {@link MESSAGE_PARSER_DEFAULTS}. */
export interface MessageParserOptions {
  /** The longest start line, bytes without CRLF; longer is `HTTP1_START_LINE_TOO_LONG` (414). */
  maxStartLineLength?: number;
  /**
   * The most bytes of field lines (CRLFs and the empty line included) in a header section, and
   * separately in a trailer section; more is `HTTP1_HEADER_TOO_LARGE` (431).
   */
  maxHeaderBlockSize?: number;
  /** The most field lines in a header section, and separately in a trailer section; more is `HTTP1_TOO_MANY_FIELDS` (431). */
  maxFieldCount?: number;
  /** The largest body in bytes (after chunked decoding); larger is `HTTP1_BODY_TOO_LARGE` (413), for `Content-Length` before the head is delivered. */
  maxBodySize?: number;
  /** The largest chunk size accepted, at most 2^53−1; larger is `HTTP1_INVALID_CHUNK_SIZE` (400). */
  maxChunkSize?: number;
  /**
   * The most bytes of chunk extensions (everything after a chunk size on its line) in one message;
   * more is `HTTP1_CHUNK_EXTENSION_TOO_LONG` (400). Extensions are skipped, so this
   * bounds the bytes a peer can make us read for nothing.
   */
  maxChunkExtensionsSize?: number;
}

/** The defaults of {@link MessageParserOptions}. */
export const MESSAGE_PARSER_DEFAULTS = Object.freeze({
  /** 8 KiB: the largest request line common servers (nginx, Node) accept by default. */
  maxStartLineLength: 8192,
  /** 32 KiB: nginx's default bound (4 × 8 KiB); room for large cookies, bounded per connection. */
  maxHeaderBlockSize: 32_768,
  /** 128 field lines: browsers send about 20; Apache allows 100. */
  maxFieldCount: 128,
  /** No limit: the connection's read window bounds what is held; set one to answer 413. */
  maxBodySize: Number.POSITIVE_INFINITY,
  /** 2^53−1, the largest integer a number holds exactly. */
  maxChunkSize: Number.MAX_SAFE_INTEGER,
  /** 16 KiB per message; legitimate senders essentially never send extensions. */
  maxChunkExtensionsSize: 16_384,
});

/** Empty lines (CRLF) ignored before a start line (RFC 9112 §2.2: at least one); more is a malformed start line. */
const MAX_LEADING_EMPTY_LINES = 4;
/** Room on a chunk-size line for the size itself: hex digits, leading zeros, whitespace. */
const CHUNK_SIZE_ROOM = 64;
/** A line buffer grown beyond this is dropped at the end of the message. */
const RETAINED_LINE_BUFFER_SIZE = 4096;
/** Field lines, by position in their section, whose last value the parser remembers. */
const RECENT_VALUE_SLOTS = 16;
/** Longer values (and targets) are not remembered: comparing costs more than it saves. */
const MAX_RECENT_VALUE_LENGTH = 128;

// Parser states; one method each.
/** Gathering a request line or status line. */
const START_LINE = 0;
/** Gathering a field line of the header section (an empty line ends it). */
const FIELD_LINE = 1;
/** Delivering a body delimited by Content-Length. */
const BODY_LENGTH = 2;
/** Gathering a chunk-size line. */
const CHUNK_SIZE = 3;
/** Delivering chunk data. */
const CHUNK_DATA = 4;
/** Matching the CRLF after chunk data. */
const CHUNK_DATA_END = 5;
/** Gathering a trailer field line (an empty line ends the message). */
const TRAILER_LINE = 6;
/** Delivering a response body until the connection closes. */
const BODY_UNTIL_CLOSE = 7;
/** Stopped after a CONNECT, an accepted upgrade or a 101: the rest of the bytes are not HTTP/1.1. */
const STOPPED = 8;

type ParserState =
  | typeof START_LINE
  | typeof FIELD_LINE
  | typeof BODY_LENGTH
  | typeof CHUNK_SIZE
  | typeof CHUNK_DATA
  | typeof CHUNK_DATA_END
  | typeof TRAILER_LINE
  | typeof BODY_UNTIL_CLOSE
  | typeof STOPPED;

const EMPTY = Buffer.alloc(0);

/** The value of a hex digit, or -1. */
function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const folded = byte | 0x20;
  if (folded >= 0x61 && folded <= 0x66) return folded - 0x61 + 10;
  return -1;
}

/**
 * A Buffer over the same memory, so byte ranges decode to strings natively. Channel messages are
 * Buffers already (no allocation); a plain Uint8Array costs one view per `execute()` call.
 */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The head the parser fills and lends to {@link MessageListener.onHeadComplete}. */
class ParsedHead implements MessageHead {
  method = '';
  target = '';
  status = 0;
  reason = '';
  httpMinorVersion = 1;
  bodyKind: BodyKind = 'none';
  contentLength = -1;
  shouldKeepAlive = true;
  expectContinue = false;
  isUpgradeRequested = false;
  fieldCount = 0;
}

/**
 * MessageParser turns the bytes of one connection into {@link MessageListener} calls: requests in
 * the `'request'` role (a server), responses in the `'response'` role (a client). Messages follow
 * each other (keep-alive, pipelining) until the input ends or the parser stops for a tunnel.
 *
 * Errors: a message that breaks a rule makes {@link MessageParser.execute} throw an
 * {@link Http1ParseError} whose `code` names the rule and whose `status` is what a server answers;
 * the parser then stays failed and every later call throws the same error. On no input does it
 * throw anything else (listener exceptions aside).
 *
 * Responses: the parser must know the method of the request each response answers (RFC 9112 §6.3:
 * no body for HEAD; a 2xx to CONNECT starts a tunnel); tell it with
 * {@link MessageParser.setRequestMethod} before the response's bytes arrive.
 */
export class MessageParser {
  private listener: MessageListener;
  private readonly isRequestRole: boolean;
  private readonly maxStartLineLength: number;
  private readonly maxHeaderBlockSize: number;
  private readonly maxFieldCount: number;
  private readonly maxBodySize: number;
  private readonly maxChunkSize: number;
  private readonly maxChunkExtensionsSize: number;

  private state: ParserState = START_LINE;
  private failure: Http1ParseError | null = null;
  private isPausedFlag = false;
  /** The method of the request whose response comes next (response role). */
  private requestMethod = 'GET';
  private readonly head = new ParsedHead();

  // Line gathering: a line split across chunks is copied here until its LF arrives.
  private lineBuffer: Buffer = EMPTY;
  private lineLength = 0;
  // The line just completed: lineBytes[lineStart..lineEnd), CRLF excluded.
  private lineBytes: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;

  // Per message.
  private emptyLinesSkipped = 0;
  private sectionBytes = 0;
  private sectionFieldCount = 0;
  private readonly framing = new FramingFields();
  private stopsAfterMessage = false;
  /** Body bytes still due in BODY_LENGTH or CHUNK_DATA. */
  private remaining = 0;
  private bodyBytes = 0;
  private chunkExtensionBytes = 0;
  /** Bytes of the CRLF after chunk data matched so far (0 or 1). */
  private chunkEndMatched = 0;

  // Reuse: a client sends the same target and field values again and again on one connection
  // (Host, User-Agent, Accept…). The strings of the last message's are kept, by position, and
  // given again when the same bytes come, instead of a new string each time. Only for the
  // listener the parser serves: `_rebind` forgets them (see isSameLatin1 for the comparison).
  private recentTarget = '';
  private readonly recentValues: string[] = new Array<string>(RECENT_VALUE_SLOTS).fill('');
  /** The names beside `recentValues`; '' where the line is not remembered whole (a credential, a long value). */
  private readonly recentNames: string[] = new Array<string>(RECENT_VALUE_SLOTS).fill('');

  /** Creates a parser for `role` reporting to `listener`; options default to {@link MESSAGE_PARSER_DEFAULTS}. */
  constructor(role: MessageRole, listener: MessageListener, options: MessageParserOptions = {}) {
    if (
      (role !== 'request' && role !== 'response') ||
      typeof listener !== 'object' ||
      listener === null ||
      typeof options !== 'object' ||
      options === null
    ) {
      throw new SluiceError(
        Http1ConnectionErrors.INVALID_ARGUMENT,
        "new MessageParser(role, listener, options): role is 'request' or 'response', listener and options are objects",
      );
    }
    this.listener = listener;
    this.isRequestRole = role === 'request';
    this.maxStartLineLength = limit('maxStartLineLength', options.maxStartLineLength, 1);
    this.maxHeaderBlockSize = limit('maxHeaderBlockSize', options.maxHeaderBlockSize, 2);
    this.maxFieldCount = limit('maxFieldCount', options.maxFieldCount, 0);
    this.maxBodySize = limit('maxBodySize', options.maxBodySize, 0);
    this.maxChunkSize = limit('maxChunkSize', options.maxChunkSize, 0);
    if (this.maxChunkSize > Number.MAX_SAFE_INTEGER)
      throw new RangeError(`maxChunkSize must be at most 2^53-1, got ${this.maxChunkSize}`);
    this.maxChunkExtensionsSize = limit('maxChunkExtensionsSize', options.maxChunkExtensionsSize, 0);
  }

  /**
   * Whether the parser can serve another connection: healthy, not stopped, between messages with
   * no byte of the next one read (see {@link IdleParserPool}).
   * @internal
   */
  get isReusable(): boolean {
    return this.failure === null && this.isAtMessageBoundary;
  }

  /**
   * Hands a {@link MessageParser.isReusable} parser to `listener` (another connection), not
   * paused; its limits stay those it was made with.
   * @internal
   */
  _rebind(listener: MessageListener): void {
    this.listener = listener;
    // Another connection's values are never compared with this one's bytes.
    this.recentTarget = '';
    this.recentValues.fill('');
    this.recentNames.fill('');
    this.isPausedFlag = false;
  }

  /** The error the parser failed with, or null while it is healthy. */
  get error(): Http1ParseError | null {
    return this.failure;
  }

  /**
   * Whether the parser stopped for good without an error: after a CONNECT request, an accepted
   * upgrade, a 101 response or a 2xx response to CONNECT (bytes from there on belong to the next
   * protocol; `execute()` consumes none of them), or after {@link MessageParser.finish} ended a body
   * delimited by close.
   */
  get isStopped(): boolean {
    return this.state === STOPPED;
  }

  /** Whether {@link MessageParser.pause} was called and {@link MessageParser.resume} not yet. */
  get isPaused(): boolean {
    return this.isPausedFlag;
  }

  /** Whether the current message's start line was read whole (its fields or body are being read). */
  get isPastStartLine(): boolean {
    return this.state !== START_LINE && this.state !== STOPPED;
  }

  /**
   * Whether the parser sits between messages with no byte of the next one read: the peer may close
   * the connection here without truncating a message.
   */
  get isAtMessageBoundary(): boolean {
    return this.state === START_LINE && this.lineLength === 0 && this.emptyLinesSkipped === 0;
  }

  /**
   * Response role: the method of the request whose response is parsed next (case-sensitive); it
   * applies until changed. `'HEAD'` means no body; `'CONNECT'` means a 2xx starts a tunnel.
   */
  setRequestMethod(method: string): void {
    this.requestMethod = method;
  }

  /**
   * Makes `execute()` return at the next callback boundary, e.g. from `onMessageComplete` when a
   * server has as many pipelined requests queued as it allows. Call {@link MessageParser.resume}, then
   * pass the bytes not consumed again.
   */
  pause(): void {
    this.isPausedFlag = true;
  }

  /** Ends a {@link MessageParser.pause}. */
  resume(): void {
    this.isPausedFlag = false;
  }

  /**
   * Parses the next bytes of the connection — `chunk[start..end)`, in any split — calling the
   * listener as messages are read, and returns the position after the last byte consumed. That is
   * `end` unless the parser stopped (see {@link MessageParser.isStopped}: the bytes from the
   * returned position on belong to the tunnel or the upgraded protocol) or was paused. Throws
   * {@link Http1ParseError} when a message breaks a rule, and again on every call after one.
   */
  execute(chunk: Uint8Array, start = 0, end: number = chunk.length): number {
    if (this.failure !== null) throw this.failure;
    const view = asBuffer(chunk);
    let pos = start;
    try {
      while (pos < end && !this.isPausedFlag) {
        switch (this.state) {
          case BODY_LENGTH:
            pos = this.readBodyLength(view, pos, end);
            break;
          case CHUNK_DATA:
            pos = this.readChunkData(view, pos, end);
            break;
          case FIELD_LINE:
            pos = this.readFieldLine(view, pos, end);
            break;
          case START_LINE:
            pos = this.readStartLine(view, pos, end);
            break;
          case CHUNK_SIZE:
            pos = this.readChunkSize(view, pos, end);
            break;
          case CHUNK_DATA_END:
            pos = this.readChunkDataEnd(view, pos, end);
            break;
          case TRAILER_LINE:
            pos = this.readTrailerLine(view, pos, end);
            break;
          case BODY_UNTIL_CLOSE:
            pos = this.readBodyUntilClose(view, pos, end);
            break;
          case STOPPED:
            return pos;
        }
      }
    } catch (error) {
      // The framing rules throw their Http1ParseError directly: remember it like our own.
      if (error instanceof Http1ParseError && this.failure === null) this.failure = error;
      throw error;
    } finally {
      this.lineBytes = EMPTY;
    }
    return pos;
  }

  /**
   * Tells the parser the connection's input ended. A response body delimited by close completes
   * here (`onMessageComplete`). Throws `HTTP1_INCOMPLETE_MESSAGE` when the input
   * ended inside a message, and the parser's error if it failed before.
   */
  finish(): void {
    if (this.failure !== null) throw this.failure;
    if (this.state === STOPPED || this.isAtMessageBoundary) return;
    if (this.state === BODY_UNTIL_CLOSE) {
      this.state = STOPPED;
      this.listener.onMessageComplete();
      return;
    }
    throw this.fail(Http1ParseErrors.INCOMPLETE_MESSAGE, 'the input ended inside a message');
  }

  // ---- lines ---------------------------------------------------------------------------------

  /**
   * Reads toward the end of a line of at most `budget` bytes (CRLF included). Returns the new
   * position; when the line is complete, `lineBytes[lineStart..lineEnd)` holds it without CRLF and
   * `lineLength` is 0 again, otherwise the partial line is kept and `lineBytes` is EMPTY.
   */
  private gatherLine(
    chunk: Buffer,
    pos: number,
    end: number,
    budget: number,
    tooLong: Http1ErrorDefinition,
    what: string,
  ): number {
    const room = budget - this.lineLength;
    const scanEnd = end - pos > room ? pos + room : end;
    let at = pos;
    while (at < scanEnd && chunk[at] !== LF) at++;
    if (at === scanEnd) {
      if (scanEnd < end) throw this.fail(tooLong, `${what} longer than ${budget - 2} bytes`);
      this.appendToLine(chunk, pos, end);
      this.lineBytes = EMPTY;
      return end;
    }
    if (this.lineLength === 0) {
      this.lineBytes = chunk;
      this.lineStart = pos;
      this.lineEnd = at;
    } else {
      this.appendToLine(chunk, pos, at);
      this.lineBytes = this.lineBuffer;
      this.lineStart = 0;
      this.lineEnd = this.lineLength;
      this.lineLength = 0;
    }
    // RFC 9112 §2.2: a line ends with CRLF; a bare LF is rejected, not tolerated.
    if (this.lineEnd === this.lineStart || this.lineBytes[this.lineEnd - 1] !== CR) {
      throw this.fail(Http1ParseErrors.BARE_LF, `${what} ends with a bare LF`);
    }
    this.lineEnd--;
    return at + 1;
  }

  private appendToLine(chunk: Buffer, start: number, end: number): void {
    const needed = this.lineLength + (end - start);
    if (needed > this.lineBuffer.length) {
      let size = this.lineBuffer.length === 0 ? 256 : this.lineBuffer.length * 2;
      while (size < needed) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.lineBuffer.copy(grown, 0, 0, this.lineLength);
      this.lineBuffer = grown;
    }
    chunk.copy(this.lineBuffer, this.lineLength, start, end);
    this.lineLength = needed;
  }

  // ---- states --------------------------------------------------------------------------------

  /** START_LINE: a request line (RFC 9112 §3) or status line (RFC 9112 §4). */
  private readStartLine(chunk: Buffer, pos: number, end: number): number {
    pos = this.gatherLine(
      chunk,
      pos,
      end,
      this.maxStartLineLength + 2,
      Http1ParseErrors.START_LINE_TOO_LONG,
      'the start line',
    );
    if (this.lineBytes === EMPTY) return pos;
    if (this.lineStart === this.lineEnd) {
      // RFC 9112 §2.2: empty lines before a start line are ignored, a few of them.
      if (++this.emptyLinesSkipped > MAX_LEADING_EMPTY_LINES) {
        throw this.fail(Http1ParseErrors.INVALID_START_LINE, `more than ${MAX_LEADING_EMPTY_LINES} empty lines`);
      }
      return pos;
    }
    if (this.isRequestRole) {
      parseRequestLine(this.lineBytes, this.lineStart, this.lineEnd, this.head, this.recentTarget);
      if (this.head.target.length <= MAX_RECENT_VALUE_LENGTH) this.recentTarget = this.head.target;
    } else {
      parseStatusLine(this.lineBytes, this.lineStart, this.lineEnd, this.head);
      this.head.method = this.requestMethod;
    }
    this.state = FIELD_LINE;
    return pos;
  }

  /** FIELD_LINE: a field line of the header section, or the empty line that ends it. */
  private readFieldLine(chunk: Buffer, pos: number, end: number): number {
    if (this.lineLength === 0) {
      const next = this.readWholeFieldLine(chunk, pos, end);
      if (next >= 0) return next;
    }
    pos = this.gatherLine(
      chunk,
      pos,
      end,
      this.maxHeaderBlockSize - this.sectionBytes,
      Http1ParseErrors.HEADER_TOO_LARGE,
      'the header section',
    );
    if (this.lineBytes === EMPTY) return pos;
    this.sectionBytes += this.lineEnd - this.lineStart + 2;
    if (this.lineStart === this.lineEnd) this.endHead();
    else this.parseFieldLine(this.lineBytes, this.lineStart, this.lineEnd, false);
    return pos;
  }

  /** BODY_LENGTH: body bytes up to Content-Length, delivered as they arrive. */
  private readBodyLength(chunk: Buffer, pos: number, end: number): number {
    const available = end - pos;
    const length = available < this.remaining ? available : this.remaining;
    this.remaining -= length;
    this.listener.onBody(chunk, pos, pos + length);
    if (this.remaining === 0) this.completeMessage();
    return pos + length;
  }

  /** CHUNK_SIZE: `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1); extensions are checked and skipped. */
  private readChunkSize(chunk: Buffer, pos: number, end: number): number {
    const extensionRoom = this.maxChunkExtensionsSize - this.chunkExtensionBytes;
    pos = this.gatherLine(
      chunk,
      pos,
      end,
      CHUNK_SIZE_ROOM + extensionRoom + 2,
      Http1ParseErrors.CHUNK_EXTENSION_TOO_LONG,
      'a chunk-size line',
    );
    if (this.lineBytes === EMPTY) return pos;
    const bytes = this.lineBytes;
    const lineEnd = this.lineEnd;
    let at = this.lineStart;
    let size = 0;
    for (; at < lineEnd; at++) {
      const digit = hexValue(bytes[at]);
      if (digit < 0) break;
      size = size * 16 + digit;
      if (size > this.maxChunkSize) {
        throw this.failInLine(Http1ParseErrors.INVALID_CHUNK_SIZE, `a chunk size above ${this.maxChunkSize}`);
      }
    }
    if (at === this.lineStart)
      throw this.failInLine(Http1ParseErrors.INVALID_CHUNK_SIZE, 'a chunk size without digits');
    if (at < lineEnd) this.checkChunkExtensions(bytes, at, lineEnd);
    if (size === 0) {
      // RFC 9112 §7.1: the last chunk; a trailer section follows.
      this.sectionBytes = 0;
      this.sectionFieldCount = 0;
      this.state = TRAILER_LINE;
      return pos;
    }
    if (size > this.maxBodySize - this.bodyBytes) {
      throw this.fail(Http1ParseErrors.BODY_TOO_LARGE, `a chunked body of more than ${this.maxBodySize} bytes`);
    }
    this.bodyBytes += size;
    this.remaining = size;
    this.state = CHUNK_DATA;
    return pos;
  }

  /** CHUNK_DATA: the bytes of one chunk, delivered as they arrive. */
  private readChunkData(chunk: Buffer, pos: number, end: number): number {
    const available = end - pos;
    const length = available < this.remaining ? available : this.remaining;
    this.remaining -= length;
    this.listener.onBody(chunk, pos, pos + length);
    if (this.remaining === 0) {
      this.chunkEndMatched = 0;
      this.state = CHUNK_DATA_END;
    }
    return pos + length;
  }

  /** CHUNK_DATA_END: the CRLF after chunk data (RFC 9112 §7.1), matched byte by byte. */
  private readChunkDataEnd(chunk: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const byte = chunk[pos++];
      if (this.chunkEndMatched === 0) {
        if (byte === CR) {
          this.chunkEndMatched = 1;
          continue;
        }
        if (byte === LF) throw this.fail(Http1ParseErrors.BARE_LF, 'chunk data ends with a bare LF');
        throw this.fail(Http1ParseErrors.INVALID_CHUNK, 'chunk data longer than its size');
      }
      if (byte !== LF) throw this.fail(Http1ParseErrors.BARE_CR, 'chunk data ends with a bare CR');
      this.state = CHUNK_SIZE;
      return pos;
    }
    return pos;
  }

  /** TRAILER_LINE: a trailer field line, or the empty line that ends the message (RFC 9112 §7.1.2). */
  private readTrailerLine(chunk: Buffer, pos: number, end: number): number {
    pos = this.gatherLine(
      chunk,
      pos,
      end,
      this.maxHeaderBlockSize - this.sectionBytes,
      Http1ParseErrors.HEADER_TOO_LARGE,
      'the trailer section',
    );
    if (this.lineBytes === EMPTY) return pos;
    this.sectionBytes += this.lineEnd - this.lineStart + 2;
    if (this.lineStart === this.lineEnd) this.completeMessage();
    else this.parseFieldLine(this.lineBytes, this.lineStart, this.lineEnd, true);
    return pos;
  }

  /** BODY_UNTIL_CLOSE: a response body delimited by the connection's end (RFC 9112 §6.3, rule 8). */
  private readBodyUntilClose(chunk: Buffer, pos: number, end: number): number {
    const room = this.maxBodySize - this.bodyBytes;
    // Bytes up to the limit are delivered whatever the split, so every split reports the same.
    const length = end - pos > room ? room : end - pos;
    this.bodyBytes += length;
    if (length > 0) this.listener.onBody(chunk, pos, pos + length);
    if (pos + length < end) {
      throw this.fail(Http1ParseErrors.BODY_TOO_LARGE, `a body of more than ${this.maxBodySize} bytes`);
    }
    return end;
  }

  // ---- field lines -------------------------------------------------------------------------

  /**
   * The common case in one pass: a well-formed field line (or the empty line) lying whole in
   * `chunk` from `pos`, within the header section's budget. Returns the position after its CRLF,
   * or -1 having changed nothing, for the general path to read the line (a split line, or one
   * that breaks a rule: that path names the error). Every line accepted here is one that path
   * accepts the same way: a token name, a colon, field-value bytes (no CR or LF among them), CRLF.
   */
  private readWholeFieldLine(chunk: Buffer, pos: number, end: number): number {
    const budget = this.maxHeaderBlockSize - this.sectionBytes;
    if (chunk[pos] === CR) {
      if (pos + 1 >= end || chunk[pos + 1] !== LF || budget < 2) return -1;
      this.sectionBytes += 2;
      this.endHead();
      return pos + 2;
    }
    const index = this.sectionFieldCount;
    if (index < RECENT_VALUE_SLOTS && this.recentNames[index].length > 0) {
      const next = this.readRecentFieldLine(chunk, pos, end, budget, index);
      if (next >= 0) return next;
    }
    let at = pos;
    while (at < end && TOKEN_BYTES[chunk[at]] === 1) at++;
    if (at === pos || at >= end || chunk[at] !== COLON) return -1;
    const nameEnd = at++;
    while (at < end && isWhitespace(chunk[at])) at++;
    const valueStart = at;
    while (at < end && FIELD_VALUE_BYTES[chunk[at]] === 1) at++;
    // `at` is the CR; the line with its CRLF must fit what is left of the section.
    if (at + 1 >= end || chunk[at] !== CR || chunk[at + 1] !== LF || at + 2 - pos > budget) return -1;
    let valueEnd = at;
    while (valueEnd > valueStart && isWhitespace(chunk[valueEnd - 1])) valueEnd--;
    this.sectionBytes += at + 2 - pos;
    this.deliverField(chunk, pos, nameEnd, valueStart, valueEnd, false);
    return at + 2;
  }

  /**
   * The line at `index` of the last message's header section again, byte for byte in the usual
   * layout (`name: value` CRLF): its strings are given again and its bytes need no other check
   * (they passed them last time). Returns the position after it, or -1 having changed nothing.
   */
  private readRecentFieldLine(chunk: Buffer, pos: number, end: number, budget: number, index: number): number {
    const name = this.recentNames[index];
    const value = this.recentValues[index];
    const nameEnd = pos + name.length;
    const valueStart = nameEnd + 2;
    const valueEnd = valueStart + value.length;
    if (
      valueEnd + 1 >= end ||
      valueEnd + 2 - pos > budget ||
      chunk[nameEnd] !== COLON ||
      chunk[nameEnd + 1] !== SP ||
      chunk[valueEnd] !== CR ||
      chunk[valueEnd + 1] !== LF ||
      !isSameLatin1(chunk, pos, name) ||
      !isSameLatin1(chunk, valueStart, value)
    ) {
      return -1;
    }
    this.sectionBytes += valueEnd + 2 - pos;
    this.countField(chunk, pos, nameEnd, valueStart, valueEnd);
    this.listener.onField(name, value);
    return valueEnd + 2;
  }

  /** `field-name ":" OWS field-value OWS` (RFC 9112 §5), checked whole before it is delivered. */
  private parseFieldLine(bytes: Buffer, start: number, end: number, isTrailer: boolean): void {
    const first = bytes[start];
    // RFC 9112 §5.2: obs-fold is rejected (a server may answer 400); §2.2: so is whitespace
    // between the start line and the first field.
    if (isWhitespace(first)) throw this.failInLine(Http1ParseErrors.OBS_FOLD, 'a field line starts with whitespace');
    let nameEnd = start;
    while (nameEnd < end && TOKEN_BYTES[bytes[nameEnd]] === 1) nameEnd++;
    if (nameEnd === end) throw this.failInLine(Http1ParseErrors.INVALID_FIELD_NAME, 'a field line without a colon');
    const separator = bytes[nameEnd];
    if (separator !== COLON) {
      // RFC 9112 §5.1: no whitespace between the name and the colon, a 400.
      if (isWhitespace(separator)) {
        throw this.failInLine(Http1ParseErrors.WHITESPACE_BEFORE_COLON, 'whitespace before the colon of a field');
      }
      throw this.failInLine(Http1ParseErrors.INVALID_FIELD_NAME, `byte 0x${separator.toString(16)} in a field name`);
    }
    if (nameEnd === start) throw this.failInLine(Http1ParseErrors.INVALID_FIELD_NAME, 'an empty field name');
    let valueStart = nameEnd + 1;
    while (valueStart < end && isWhitespace(bytes[valueStart])) valueStart++;
    let valueEnd = end;
    while (valueEnd > valueStart && isWhitespace(bytes[valueEnd - 1])) valueEnd--;
    for (let at = valueStart; at < valueEnd; at++) {
      if (FIELD_VALUE_BYTES[bytes[at]] === 0) {
        throw this.failInLine(
          Http1ParseErrors.INVALID_FIELD_VALUE,
          `byte 0x${bytes[at].toString(16)} in the value of a field`,
        );
      }
    }
    this.deliverField(bytes, start, nameEnd, valueStart, valueEnd, isTrailer);
  }

  /** A field line checked whole: counted, inspected for framing, remembered (see `recentValues`), reported. */
  private deliverField(
    bytes: Buffer,
    start: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
    isTrailer: boolean,
  ): void {
    if (isTrailer) this.countLine();
    else this.countField(bytes, start, nameEnd, valueStart, valueEnd);
    const name = fieldName(bytes, start, nameEnd);
    const index = this.sectionFieldCount - 1;
    const length = valueEnd - valueStart;
    let value: string;
    if (isTrailer || index >= RECENT_VALUE_SLOTS) {
      value = length === 0 ? '' : latin1(bytes, valueStart, valueEnd);
    } else if (length > MAX_RECENT_VALUE_LENGTH || isCredential(bytes, start, nameEnd)) {
      value = latin1(bytes, valueStart, valueEnd);
      this.recentNames[index] = '';
    } else {
      const recent = this.recentValues[index];
      if (recent.length === length && isSameLatin1(bytes, valueStart, recent)) value = recent;
      else this.recentValues[index] = value = length === 0 ? '' : latin1(bytes, valueStart, valueEnd);
      this.recentNames[index] = name;
    }
    if (isTrailer) this.listener.onTrailerField(name, value);
    else this.listener.onField(name, value);
  }

  /** Counts a header field line (see {@link countLine}) and notes what it says of the framing. */
  private countField(bytes: Buffer, start: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    this.countLine();
    this.framing.inspect(bytes, start, nameEnd, valueStart, valueEnd, this.isRequestRole);
  }

  /** Counts a field line of the section against `maxFieldCount`. */
  private countLine(): void {
    if (++this.sectionFieldCount > this.maxFieldCount) {
      throw this.fail(Http1ParseErrors.TOO_MANY_FIELDS, `more than ${this.maxFieldCount} field lines`);
    }
  }

  /** Checks chunk extensions (`*( BWS ";" … )`, RFC 9112 §7.1.1) for control bytes and counts them. */
  private checkChunkExtensions(bytes: Buffer, start: number, end: number): void {
    let at = start;
    while (at < end && isWhitespace(bytes[at])) at++;
    if (at === end || bytes[at] !== 0x3b) {
      throw this.failInLine(Http1ParseErrors.INVALID_CHUNK_SIZE, 'a chunk size that is not hexadecimal');
    }
    for (; at < end; at++) {
      if (FIELD_VALUE_BYTES[bytes[at]] === 0) {
        throw this.failInLine(Http1ParseErrors.INVALID_CHUNK, 'a control character in a chunk extension');
      }
    }
    this.chunkExtensionBytes += end - start;
    if (this.chunkExtensionBytes > this.maxChunkExtensionsSize) {
      throw this.fail(
        Http1ParseErrors.CHUNK_EXTENSION_TOO_LONG,
        `more than ${this.maxChunkExtensionsSize} bytes of chunk extensions`,
      );
    }
  }

  // ---- message boundaries --------------------------------------------------------------------

  /** The header section ended: checks the framing rules, decides the body, reports the head. */
  private endHead(): void {
    const head = this.head;
    const framing = this.framing;
    const isHttp11 = head.httpMinorVersion === 1;
    if (this.isRequestRole && isHttp11 && framing.hostCount === 0) {
      // RFC 9112 §3.2: an HTTP/1.1 request must carry Host.
      throw this.fail(Http1ParseErrors.MISSING_HOST, 'an HTTP/1.1 request without Host');
    }
    if (framing.hasTransferEncoding) framing.checkTransferEncoding(isHttp11);
    const contentLength = framing.contentLength;
    const status = head.status;
    let bodyKind: BodyKind;
    let isInterim = false;
    this.stopsAfterMessage = false;
    if (this.isRequestRole) {
      if (head.method === 'CONNECT') {
        // RFC 9110 §9.3.6: CONNECT has no content; what follows is for the tunnel.
        bodyKind = 'none';
        this.stopsAfterMessage = true;
      } else if (framing.hasTransferEncoding) bodyKind = 'chunked';
      else bodyKind = contentLength > 0 ? 'length' : 'none';
    } else if (status < 200) {
      bodyKind = 'none';
      // RFC 9110 §15.2: 1xx are interim, except 101, after which the protocol changes.
      if (status === 101) this.stopsAfterMessage = true;
      else isInterim = true;
    } else if (this.requestMethod === 'HEAD' || status === 204 || status === 304) {
      bodyKind = 'none'; // RFC 9112 §6.3, rule 1
    } else if (this.requestMethod === 'CONNECT' && status < 300) {
      bodyKind = 'none'; // RFC 9112 §6.3, rule 2: a tunnel
      this.stopsAfterMessage = true;
    } else if (framing.hasTransferEncoding) bodyKind = 'chunked';
    else if (contentLength >= 0) bodyKind = contentLength > 0 ? 'length' : 'none';
    else bodyKind = 'close'; // RFC 9112 §6.3, rule 8
    if (bodyKind === 'length' && contentLength > this.maxBodySize) {
      throw this.fail(Http1ParseErrors.BODY_TOO_LARGE, `Content-Length ${contentLength} above ${this.maxBodySize}`);
    }
    head.fieldCount = this.sectionFieldCount;
    head.contentLength = contentLength;
    head.bodyKind = bodyKind;
    // RFC 9112 §9.3: persistence by version and Connection options.
    head.shouldKeepAlive =
      bodyKind !== 'close' && !framing.hasConnectionClose && (isHttp11 || framing.hasConnectionKeepAlive);
    // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored.
    head.isUpgradeRequested = this.isRequestRole
      ? isHttp11 && framing.hasUpgradeField && framing.hasConnectionUpgrade
      : status === 101;
    // RFC 9110 §10.1.1: 100-continue means nothing in HTTP/1.0 or in a response.
    head.expectContinue = this.isRequestRole && isHttp11 && framing.expectContinue;
    const accepted = this.listener.onHeadComplete(head);
    if (accepted === true && this.isRequestRole && head.isUpgradeRequested) this.stopsAfterMessage = true;
    if (isInterim) {
      this.resetMessage();
      this.state = START_LINE;
      return;
    }
    switch (bodyKind) {
      case 'none':
        this.completeMessage();
        return;
      case 'length':
        this.remaining = contentLength;
        this.state = BODY_LENGTH;
        return;
      case 'chunked':
        this.state = CHUNK_SIZE;
        return;
      case 'close':
        this.state = BODY_UNTIL_CLOSE;
        return;
    }
  }

  /** Reports the end of a message and gets ready for the next one, or stops for a tunnel. */
  private completeMessage(): void {
    const stops = this.stopsAfterMessage;
    this.resetMessage();
    this.state = stops ? STOPPED : START_LINE;
    this.listener.onMessageComplete();
  }

  private resetMessage(): void {
    const head = this.head;
    head.method = '';
    head.target = '';
    head.status = 0;
    head.reason = '';
    head.isUpgradeRequested = false;
    head.fieldCount = 0;
    this.emptyLinesSkipped = 0;
    this.sectionBytes = 0;
    this.sectionFieldCount = 0;
    this.framing.reset();
    this.stopsAfterMessage = false;
    this.remaining = 0;
    this.bodyBytes = 0;
    this.chunkExtensionBytes = 0;
    if (this.lineBuffer.length > RETAINED_LINE_BUFFER_SIZE) this.lineBuffer = EMPTY;
  }

  // ---- errors --------------------------------------------------------------------------------

  /** Like {@link fail}, for a rule broken inside the current line: a bare CR in it is named first. */
  private failInLine(definition: Http1ErrorDefinition, message: string): Http1ParseError {
    this.failure = lineError(this.lineBytes, this.lineStart, this.lineEnd, definition, message);
    return this.failure;
  }

  /** Enters the failed state; the caller throws the returned error. */
  private fail(definition: Http1ErrorDefinition, message: string): Http1ParseError {
    this.failure = new Http1ParseError(definition, message);
    return this.failure;
  }
}

function limit(name: string, value: number | undefined, minimum: number): number {
  const chosen = value ?? MESSAGE_PARSER_DEFAULTS[name as keyof typeof MESSAGE_PARSER_DEFAULTS];
  if (typeof chosen !== 'number' || Number.isNaN(chosen) || chosen < minimum) {
    throw new RangeError(`${name} must be a number of at least ${minimum}, got ${String(value)}`);
  }
  return chosen;
}
