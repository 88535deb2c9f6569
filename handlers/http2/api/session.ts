/**
 * The convenient HTTP/2 client: `connect(url)` → {@link Http2Session}, whose `request`
 * resolves with an {@link Http2Response} (status, headers, an async-iterable body with
 * manual flow control, trailers). Built on {@link Http2ClientConnection}.
 *
 * @module
 */
import { isIP } from 'node:net';
import { SluiceError } from '../../../lib/index.js';
import {
  Http2Body,
  handled,
  isBodySource,
  toBytes,
  writeBodySource,
  writeChunk,
  type Http2BodySource,
} from './body.js';
import type { Http2ConnectionOptions, Http2Headers, Http2PeerSettings } from '../connection/connection-options.js';
import { ErrorCode } from '../wire/constants.js';
import {
  headersToObject,
  pseudoValue,
  setDefaultPseudo,
  splitHeaderInput,
  type Http2HeaderInput,
  type Http2HeadersObject,
} from './header-objects.js';
import { checkErrorCode, isAbortSignal } from '../connection/argument-checks.js';
import { Http2ApiErrors, Http2StreamError, Http2SessionErrors } from '../errors.js';
import { connectHttp2, type ConnectHttp2Options } from './bootstrap.js';
import type { Http2ClientConnection } from '../connection/client-connection.js';
import type { Http2Stream, Http2StreamFailure, Http2StreamHandler } from '../connection/http2-stream.js';
import { parseUrl } from '../../../lib/url.js';
import { checkedRank, type Http2Priority } from '../connection/priority.js';

/**
 * Options of {@link connect}: the bootstrap's (loop group, socket options, `tls` options for
 * `https:` URLs, `pipeline`, …) and the connection's `http2` options.
 */
export interface Http2SessionOptions extends Omit<ConnectHttp2Options, 'host' | 'port' | 'path' | 'http2'> {
  /** Options of the underlying connection (windows, limits, `onGoaway`, `onError`, …). */
  http2?: Omit<Http2ConnectionOptions, 'onStream'>;
}

/** Options of one {@link Http2Session.request}. */
export interface Http2RequestInit {
  /** `:method` (overrides the headers); `GET` by default. */
  method?: string;
  /** `:path` (overrides the headers); `/` by default. */
  path?: string;
  /** The request body; none (END_STREAM with the headers) when undefined and no trailers. */
  body?: Http2BodySource;
  /** Trailers sent after the body. */
  trailers?: Http2HeaderInput;
  /** Cancels the request: RST_STREAM(CANCEL), and the response, body or trailers reject with `signal.reason`. */
  signal?: AbortSignal;
  /** Called for each 1xx informational response before the final one. */
  onInformational?: (status: number, headers: Http2HeadersObject) => void;
  /**
   * The response's priority (RFC 9218; urgency 0–7, default 3; incremental, default false),
   * sent as the request's `priority` field (replacing one in `headers`). Change it later with
   * `setPriority` on the response or the request stream.
   */
  priority?: Partial<Http2Priority>;
}

/**
 * Http2Response is a final response on an {@link Http2Session}. Read (or `cancel`) its body:
 * an unread body holds its stream open once the stream window is full.
 */
export interface Http2Response {
  /** The `:status` code. */
  readonly status: number;
  /** The response headers, `:status` included. */
  readonly headers: Http2HeadersObject;
  /** The response headers as received, a flat `[name, value, …]` list. */
  readonly rawHeaders: Http2Headers;
  /** The body; credit returns to the server only as it is read (manual window mode). */
  readonly body: Http2Body;
  /**
   * The trailers (`{}` when none), once the body ended; rejects if the stream fails. A
   * rejection nobody awaits is not reported as unhandled. For a trailers-only response
   * ({@link isTrailersOnly}) they are the fields of its one HEADERS frame, pseudo-headers left
   * out.
   */
  readonly trailers: Promise<Http2HeadersObject>;
  /**
   * The trailers as received, a flat `[name, value, …]` list (`[]` when none): repeated fields
   * stay separate, as in {@link rawHeaders}. Settles with {@link trailers}.
   */
  readonly rawTrailers: Promise<Http2Headers>;
  /**
   * True when the response was one HEADERS frame that ended the stream — no body, no separate
   * trailers (gRPC's "Trailers-Only", how it reports most errors). Its fields are then both the
   * {@link headers} and the {@link trailers}.
   */
  readonly isTrailersOnly: boolean;
  /** The stream identifier. */
  readonly streamId: number;
  /**
   * Changes the response's priority while it arrives: the server is told with a PRIORITY_UPDATE
   * frame (RFC 9218 §7.1) if it announced that it takes them. Throws `HTTP2_INVALID_ARGUMENT`
   * for a bad priority; does nothing once the stream closed.
   */
  setPriority(priority: Partial<Http2Priority>): void;
}

/**
 * Http2RequestStream is the writable request side of {@link Http2Session.stream}: write the
 * body chunk by chunk with back-pressure, end it (with trailers), and read the response —
 * which resolves as soon as its headers arrive, while the request is still being written.
 *
 * Every failure of the stream (a reset by the server, the connection closing, `reset`) is
 * reported by each later call: `write` and `end` reject with it, as does `response` if the
 * headers had not come. `response` is marked handled: a rejection nobody awaits is not
 * reported as unhandled.
 */
export interface Http2RequestStream {
  /**
   * Resolves with the response once its final headers arrive (the request may still be open);
   * rejects like {@link Http2Session.request}.
   */
  readonly response: Promise<Http2Response>;
  /** Request bytes queued by `write` and not yet framed. */
  readonly bufferedBytes: number;
  /** True while `write` and `end` may be called: not ended, not failed. */
  readonly isWritable: boolean;
  /**
   * Queues a chunk (a string is sent as UTF-8; bytes are not copied — keep them unchanged until
   * the promise settles). Resolves at once while the stream's buffer is below its high-water
   * mark, else once the chunk was framed: awaiting every `write` bounds what is buffered.
   * Rejects with the stream's failure, or `HTTP2_WRITE_AFTER_END` after `end`.
   */
  write(chunk: Uint8Array | string): Promise<void>;
  /**
   * Ends the request: END_STREAM after the queued bytes, with `trailers` as a final HEADERS
   * frame when given. Resolves once END_STREAM was framed; rejects with the stream's failure,
   * or `HTTP2_WRITE_AFTER_END` when already ended.
   */
  end(trailers?: Http2HeaderInput): Promise<void>;
  /** Resets the stream with RST_STREAM(`errorCode`, CANCEL by default); pending calls reject. */
  reset(errorCode?: number): void;
  /**
   * Changes the response's priority (RFC 9218): in the request's HEADERS if they are not sent
   * yet, else in a PRIORITY_UPDATE frame when the server announced that it takes them. Throws
   * `HTTP2_INVALID_ARGUMENT` for a bad priority; does nothing once the stream closed.
   */
  setPriority(priority: Partial<Http2Priority>): void;
}

/**
 * Connects to an HTTP/2 server and resolves with a session. `http:` URLs use h2c with prior
 * knowledge; `https:` URLs use TLS with ALPN `h2` (`options.tls` adds a CA, client
 * certificate, …). Rejects with the connect error (`IO_CONNECTION_REFUSED`, …).
 *
 * @example
 * ```ts
 * const session = await connect('http://127.0.0.1:8080');
 * const response = await session.request({ ':path': '/' });
 * console.log(response.status, await response.body.text());
 * const upload = await session.request({ 'content-type': 'text/plain' }, { method: 'POST', path: '/echo', body: 'hello' });
 * for await (const chunk of upload.body) process.stdout.write(chunk);
 * await session.close();
 * ```
 */
export async function connect(url: string | URL, options: Http2SessionOptions = {}): Promise<Http2Session> {
  const target = parseUrl(url, 'connect(url)');
  const isSecure = target.protocol === 'https:';
  if (!isSecure && target.protocol !== 'http:') {
    throw new SluiceError(Http2SessionErrors.UNSUPPORTED_SCHEME, `unsupported URL scheme '${target.protocol}'`);
  }
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = target.port === '' ? (isSecure ? 443 : 80) : Number(target.port);
  const { tls, http2, ...bootstrapOptions } = options;
  const connectOptions: ConnectHttp2Options = { ...bootstrapOptions, host, port };
  if (http2 !== undefined) connectOptions.http2 = http2;
  // https: TLS with ALPN h2; SNI is the URL's host name unless it is an address (RFC 6066 §3).
  if (isSecure) connectOptions.tls = { ...(isIP(host) === 0 ? { servername: host } : {}), ...tls };
  const connection = await connectHttp2(connectOptions);
  return new Http2Session(connection, isSecure ? 'https' : 'http', target.host);
}

/**
 * Http2Session is one client HTTP/2 connection with a promise-based API: `request` streams a
 * body up and resolves with the response; many requests share the connection (beyond the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS they wait for a free stream).
 */
export class Http2Session {
  /** The protocol: always `'h2'` (the one-API `connect` of `sluice/http1` may also give an HTTP/1.1 session). */
  readonly protocol = 'h2' as const;
  /** The low-level connection (callbacks, statistics). */
  readonly connection: Http2ClientConnection;
  /** `:scheme` of requests: `http` or `https`. */
  readonly scheme: string;
  /** `:authority` of requests (the URL's host and port). */
  readonly authority: string;

  /** @internal Sessions come from {@link connect}. */
  constructor(connection: Http2ClientConnection, scheme: string, authority: string) {
    this.connection = connection;
    this.scheme = scheme;
    this.authority = authority;
  }

  /** True once the connection is closing or closed. */
  get isClosed(): boolean {
    const slot = this.connection.channelSlot;
    return slot === null || slot.channel.isShuttingDown;
  }

  /** Streams open now. */
  get activeStreamCount(): number {
    return this.connection.activeStreamCount;
  }

  /** Resolves when the connection has shut down, with its error or null (never rejects). */
  get closed(): Promise<SluiceError | null> {
    return this.connection.channelSlot?.channel.whenShutdown ?? Promise.resolve(null);
  }

  /**
   * Sends a request and resolves with the response once its final headers arrive. `headers`
   * is an object or a flat list; missing pseudo-headers are filled in (`:method` GET, `:path`
   * `/`, `:scheme` and `:authority` of the session). Rejects with an
   * {@link Http2StreamError} / {@link Http2ConnectionError} when the stream or connection
   * fails — `retryable` is true when the request never reached the server (refused, after
   * GOAWAY, on a closed session) — with `signal.reason` when aborted, with
   * `HTTP2_INVALID_HEADERS` for a malformed header list, or with what the body source threw.
   */
  request(headers: Http2HeaderInput = {}, init: Http2RequestInit = {}): Promise<Http2Response> {
    let exchange: ClientExchange;
    try {
      const checked = checkRequestInit(init);
      const body = checked.body;
      const hasBody = body !== undefined && body !== null;
      exchange = this.open(headers, checked, !hasBody);
      if (hasBody) void exchange.sendBody(body);
      else exchange.endIfTrailers();
    } catch (error) {
      return Promise.reject(error);
    }
    return exchange.response;
  }

  /**
   * Opens a request whose body the caller writes as it goes — for bidirectional exchanges
   * (gRPC streaming, a chat): write, read the response as it comes, write again. The response
   * resolves as soon as its headers arrive. `init` is as for {@link Http2Session.request} except `body` and
   * `trailers` (give trailers to `end`). Throws `HTTP2_INVALID_OPTIONS`,
   * `HTTP2_INVALID_HEADERS` or `HTTP2_TOO_MANY_PENDING_STREAMS` before anything is sent;
   * every later failure reaches the returned stream's promises.
   *
   * @example
   * ```ts
   * const call = session.stream({ 'content-type': 'application/grpc' }, { method: 'POST', path: '/chat' });
   * await call.write('hello');
   * const response = await call.response;
   * const reader = response.body[Symbol.asyncIterator]();
   * console.log(String((await reader.next()).value)); // the server's answer to "hello"
   * await call.write('again');
   * console.log(String((await reader.next()).value));
   * await call.end({ 'x-checksum': '42' });
   * console.log(await response.trailers);
   * ```
   */
  stream(headers: Http2HeaderInput = {}, init: Omit<Http2RequestInit, 'body' | 'trailers'> = {}): Http2RequestStream {
    const checked = checkRequestInit(init);
    if (checked.body !== undefined || checked.trailers !== undefined) {
      throw new SluiceError(
        Http2SessionErrors.INVALID_OPTIONS,
        'stream() takes no body or trailers: write them with write() and end()',
      );
    }
    const exchange = this.open(headers, checked, false);
    void handled(exchange.response);
    return exchange;
  }

  /**
   * Resolves with the server's settings once its first SETTINGS frame arrived (at once if it did);
   * rejects with the connection's error if the connection ends first. Wait for it before relying
   * on what the server announces — `enableConnectProtocol` (RFC 8441 §3) above all.
   */
  remoteSettings(): Promise<Readonly<Http2PeerSettings>> {
    return new Promise((resolve, reject) => {
      this.connection.onceRemoteSettings((error, settings) => (error === null ? resolve(settings) : reject(error)));
    });
  }

  /** Sends a PING and resolves with the round-trip time in ms; rejects if the connection closes first. */
  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.connection.ping((error, rttMs) => (error === null ? resolve(rttMs) : reject(error)));
    });
  }

  /**
   * Closes gracefully: GOAWAY, no new requests (they reject retryably), in-flight requests
   * finish (read or cancel their bodies), then the connection closes. Resolves once closed.
   */
  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Closes now: GOAWAY(`errorCode`, CANCEL by default); open requests fail with the connection
   * error. `HTTP2_INVALID_ARGUMENT` for a code that is not one.
   */
  destroy(errorCode: number = ErrorCode.CANCEL): void {
    checkErrorCode(errorCode, 'destroy');
    if (this.isClosed) return;
    this.connection.abort(errorCode, 'session destroyed by the application');
  }

  /**
   * Validates, sends the HEADERS and returns the exchange; throws (nothing sent) for invalid
   * input, and returns a failed exchange when the signal already aborted.
   */
  private open(headers: Http2HeaderInput, init: Http2RequestInit, hasNoBody: boolean): ClientExchange {
    const flat = this.requestHeaders(headers, init);
    let trailers: Http2Headers | null = null;
    if (init.trailers !== undefined) {
      trailers = [];
      splitHeaderInput(init.trailers, [], trailers);
    }
    const exchange = new ClientExchange(init, trailers);
    const signal = init.signal;
    if (signal?.aborted === true) {
      exchange.failBeforeSending(abortReason(signal));
      return exchange;
    }
    let stream: Http2Stream;
    try {
      stream = this.connection.request(flat, {
        handler: exchange,
        isEndStream: hasNoBody && trailers === null,
        isManualWindow: true,
        ...(init.priority !== undefined ? { priority: init.priority } : {}),
      });
    } catch (error) {
      const refused = refusedIfClosed(error);
      if (refused === error) throw error;
      exchange.failBeforeSending(refused);
      return exchange;
    }
    exchange.start(stream);
    return exchange;
  }

  private requestHeaders(headers: Http2HeaderInput, init: Http2RequestInit): Http2Headers {
    const pseudo: string[] = [];
    const regular: string[] = [];
    splitHeaderInput(headers, pseudo, regular);
    if (init.method !== undefined) splitHeaderInput([':method', init.method], pseudo, regular);
    if (init.path !== undefined) splitHeaderInput([':path', init.path], pseudo, regular);
    setDefaultPseudo(pseudo, ':method', 'GET');
    if (pseudoValue(pseudo, ':method') !== 'CONNECT') {
      setDefaultPseudo(pseudo, ':scheme', this.scheme);
      setDefaultPseudo(pseudo, ':path', '/');
    }
    setDefaultPseudo(pseudo, ':authority', this.authority);
    for (let i = 0; i < regular.length; i++) pseudo.push(regular[i]);
    return pseudo;
  }
}

/**
 * One request's state: the stream handler of the low-level API turned into the response
 * promise, the body and the trailers, and the writable request side of
 * {@link Http2Session.stream}. One object per request, no closure per chunk.
 */
class ClientExchange implements Http2StreamHandler, Http2RequestStream {
  readonly response: Promise<Http2Response>;
  private stream: Http2Stream | null = null;
  private body: Http2Body | null = null;
  private trailers: Http2Headers | null = null;
  private isTrailersOnly = false;
  private isEnded = false;
  private resolveResponse: ((response: Http2Response) => void) | null = null;
  private rejectResponse: ((error: unknown) => void) | null = null;
  private settleTrailers: { resolve(trailers: Http2HeadersObject): void; reject(error: unknown): void } | null = null;
  /** Set when the request failed locally (abort, body source error): reported instead of the reset it causes. */
  private localFailure: { error: unknown } | null = null;
  /** Why the stream closed (null while open or after a clean close). */
  private closeFailure: unknown = null;
  private readonly init: Http2RequestInit;
  private readonly requestTrailers: Http2Headers | null;
  private readonly onAbort = (): void => this.fail(abortReason(this.init.signal!));

  constructor(init: Http2RequestInit, requestTrailers: Http2Headers | null) {
    this.init = init;
    this.requestTrailers = requestTrailers;
    this.response = new Promise<Http2Response>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
  }

  get bufferedBytes(): number {
    return this.stream?.bufferedBytes ?? 0;
  }

  get isWritable(): boolean {
    return !this.isEnded && this.stream !== null && this.stream.isWritable;
  }

  start(stream: Http2Stream): void {
    this.stream = stream;
    this.init.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The request failed before a stream was opened (aborted signal, closed session). */
  failBeforeSending(error: unknown): void {
    this.isEnded = true;
    this.closeFailure = error;
    this.rejectResponse?.(error);
    this.resolveResponse = null;
    this.rejectResponse = null;
  }

  /** Ends a request without a body: its trailers, if any, as the only frame after the headers. */
  endIfTrailers(): void {
    if (this.requestTrailers === null || this.stream === null) return;
    this.isEnded = true;
    this.stream.end(this.requestTrailers);
  }

  /** Writes the request body, then ends the stream (with trailers); a failing source cancels the request. */
  async sendBody(source: Http2BodySource): Promise<void> {
    const stream = this.stream;
    if (stream === null) return;
    this.isEnded = true;
    try {
      const isComplete = await writeBodySource(stream, source);
      if (isComplete && stream.isWritable) stream.end(this.requestTrailers ?? undefined);
    } catch (error) {
      // A write failed because the stream closed (already reported), or the source threw.
      if (!stream.isClosed) this.fail(error);
    }
  }

  write(chunk: Uint8Array | string): Promise<void> {
    try {
      const stream = this.writableStream('write');
      const wait = writeChunk(stream, toBytes(chunk));
      return wait === null ? RESOLVED : handled(wait.catch((error: unknown) => Promise.reject(this.failureOr(error))));
    } catch (error) {
      return handled(Promise.reject(error));
    }
  }

  end(trailers?: Http2HeaderInput): Promise<void> {
    try {
      let flat: Http2Headers | undefined;
      if (trailers !== undefined) {
        flat = [];
        splitHeaderInput(trailers, [], flat);
      }
      const stream = this.writableStream('end');
      this.isEnded = true;
      return handled(
        new Promise<void>((resolve, reject) => {
          stream.end(flat, (error) => (error === null ? resolve() : reject(this.failureOr(error))));
        }),
      );
    } catch (error) {
      return handled(Promise.reject(error));
    }
  }

  reset(errorCode: number = ErrorCode.CANCEL): void {
    this.stream?.reset(errorCode);
  }

  setPriority(priority: Partial<Http2Priority>): void {
    if (this.stream === null) checkedRank(priority, 'setPriority');
    else this.stream.setPriority(priority);
  }

  onInformational(_stream: Http2Stream, headers: Http2Headers): void {
    const callback = this.init.onInformational;
    if (callback === undefined) return;
    try {
      callback(Number(headers[1]), headersToObject(headers));
    } catch (error) {
      this.fail(error);
    }
  }

  onResponse(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    const body = new Http2Body(stream, () => stream.reset(ErrorCode.CANCEL));
    this.body = body;
    const trailers = handled(
      new Promise<Http2HeadersObject>((resolve, reject) => {
        this.settleTrailers = { resolve, reject };
      }),
    );
    // RFC 9113 §8.1: a HEADERS frame with END_STREAM is the whole response — gRPC puts its
    // status there ("Trailers-Only"), so its fields are the trailers too (minus pseudo-headers).
    if (isEndStream) {
      this.isTrailersOnly = true;
      this.trailers = withoutPseudo(headers);
    }
    const resolve = this.resolveResponse;
    this.resolveResponse = null;
    this.rejectResponse = null;
    resolve?.({
      status: Number(pseudoValue(headers, ':status')),
      headers: headersToObject(headers),
      rawHeaders: headers,
      body,
      trailers,
      rawTrailers: handled(trailers.then(() => this.trailers ?? [])),
      isTrailersOnly: this.isTrailersOnly,
      streamId: stream.id,
      setPriority: (priority) => stream.setPriority(priority),
    });
    if (isEndStream) this.onEnd();
  }

  onData(_stream: Http2Stream, data: Uint8Array, start: number, end: number): void {
    this.body?._push(data, start, end);
  }

  onTrailers(_stream: Http2Stream, headers: Http2Headers): void {
    this.trailers = headers;
  }

  onEnd(): void {
    this.body?._end();
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.resolve(
      this.trailers === null ? (Object.create(null) as Http2HeadersObject) : headersToObject(this.trailers),
    );
  }

  onClose(_stream: Http2Stream, error: Http2StreamFailure | null): void {
    this.init.signal?.removeEventListener('abort', this.onAbort);
    const failure: unknown =
      this.localFailure?.error ??
      error ??
      // Closed without error but without a final response: cannot happen with a conforming core.
      new Http2StreamError(this.stream?.id ?? 0, ErrorCode.INTERNAL_ERROR, 'stream closed without a response');
    const reject = this.rejectResponse;
    this.resolveResponse = null;
    this.rejectResponse = null;
    reject?.(failure);
    if (error === null && this.localFailure === null) return;
    this.closeFailure = failure;
    this.body?._fail(failure);
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.reject(failure);
  }

  /** The stream, if `operation` may still send on it; else throws why not (its failure first). */
  private writableStream(operation: string): Http2Stream {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the stream's own failure, unchanged (a body source may throw anything)
    if (this.closeFailure !== null) throw this.closeFailure;
    const stream = this.stream;
    if (stream === null || stream.isClosed)
      throw this.failureOr(
        new SluiceError(Http2SessionErrors.WRITE_AFTER_END, `${operation} on a closed request stream`),
      );
    if (this.isEnded || !stream.isWritable)
      throw new SluiceError(Http2SessionErrors.WRITE_AFTER_END, `${operation} after end()`);
    return stream;
  }

  /** The stream's failure when it has one (a reset, the abort reason), else `error`. */
  private failureOr(error: unknown): unknown {
    return this.localFailure?.error ?? this.closeFailure ?? error;
  }

  /** Fails the request from this side: RST_STREAM(CANCEL), and readers get `error`. */
  private fail(error: unknown): void {
    const stream = this.stream;
    if (stream === null || stream.isClosed) return;
    this.localFailure = { error };
    stream.reset(ErrorCode.CANCEL);
  }
}

const RESOLVED = Promise.resolve();

/** A received header list without its pseudo-headers (a trailers-only response's trailers). */
function withoutPseudo(flat: Http2Headers): Http2Headers {
  const fields: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i].charCodeAt(0) !== 0x3a) fields.push(flat[i], flat[i + 1]);
  return fields;
}

/**
 * Checks the options of a request before anything is sent, so misuse throws a coded error and
 * never reaches the stream's callbacks (where it would take the connection down).
 */
function checkRequestInit(init: unknown): Http2RequestInit {
  if (init === undefined) return {};
  if (typeof init !== 'object' || init === null)
    throw invalidOptions(`the request options must be an object, got ${describe(init)}`);
  const options = init as Record<keyof Http2RequestInit, unknown>;
  if (options.method !== undefined && typeof options.method !== 'string')
    throw invalidOptions(`method must be a string, got ${describe(options.method)}`);
  if (options.path !== undefined && typeof options.path !== 'string')
    throw invalidOptions(`path must be a string, got ${describe(options.path)}`);
  if (options.body !== undefined && options.body !== null && !isBodySource(options.body)) {
    throw new SluiceError(
      Http2SessionErrors.INVALID_BODY,
      `a body is bytes, a string or an iterable of them, got ${describe(options.body)}`,
    );
  }
  if (options.trailers !== undefined && (typeof options.trailers !== 'object' || options.trailers === null)) {
    throw invalidOptions(`trailers must be an object or a flat array, got ${describe(options.trailers)}`);
  }
  if (options.signal !== undefined && !isAbortSignal(options.signal))
    throw invalidOptions(`signal must be an AbortSignal, got ${describe(options.signal)}`);
  if (options.onInformational !== undefined && typeof options.onInformational !== 'function') {
    throw invalidOptions(`onInformational must be a function, got ${describe(options.onInformational)}`);
  }
  if (options.priority !== undefined) {
    try {
      checkedRank(options.priority, 'priority');
    } catch (error) {
      throw invalidOptions((error as Error).message);
    }
  }
  return init;
}

function invalidOptions(message: string): SluiceError {
  return new SluiceError(Http2SessionErrors.INVALID_OPTIONS, message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without the expected shape' : typeof value;
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new SluiceError(Http2SessionErrors.ABORTED);
}

/** A request on a closed or closing connection never reached the server: make it retryable. */
function refusedIfClosed(error: unknown): unknown {
  if (error instanceof SluiceError && error.code === Http2ApiErrors.CONNECTION_CLOSED.code) {
    return new Http2StreamError(0, ErrorCode.REFUSED_STREAM, 'request not sent: the session is closed', {
      retryable: true,
      cause: error,
    });
  }
  return error;
}
