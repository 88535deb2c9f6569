/**
 * The convenient HTTP/2 client: `connect(url)` → {@link Http2Session}, whose `request`
 * resolves with an {@link Http2Response} (status, headers, an async-iterable body with
 * manual flow control, trailers). Built on {@link Http2ClientConnection}.
 *
 * @module
 */
import { isIP } from 'node:net';
import { SluiceError } from '../../lib/index.js';
import { Http2Body, writeBodySource, handled, type Http2BodySource } from './body.js';
import type { Http2ConnectionOptions, Http2Headers } from './connection-options.js';
import { ErrorCode } from './constants.js';
import {
  headersToObject,
  pseudoValue,
  setDefaultPseudo,
  splitHeaderInput,
  type Http2HeaderInput,
  type Http2HeadersObject,
} from './header-objects.js';
import { Http2ApiErrors } from './http2-api-errors.js';
import { connectHttp2, type ConnectHttp2Options } from './http2-bootstrap.js';
import type { Http2ClientConnection } from './http2-client.js';
import { Http2StreamError } from './http2-errors.js';
import type { Http2Stream, Http2StreamFailure, Http2StreamHandler } from './http2-stream.js';
import { Http2SessionErrors } from './session-errors.js';

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
   * rejection nobody awaits is not reported as unhandled.
   */
  readonly trailers: Promise<Http2HeadersObject>;
  /** The stream identifier. */
  readonly streamId: number;
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
  const target = typeof url === 'string' ? new URL(url) : url;
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
    const signal = init.signal;
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    let flat: Http2Headers;
    let trailers: Http2Headers | null = null;
    try {
      flat = this.requestHeaders(headers, init);
      if (init.trailers !== undefined) {
        trailers = [];
        splitHeaderInput(init.trailers, [], trailers);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const body = init.body;
    const hasBody = body !== undefined && body !== null;
    const exchange = new ClientExchange(init);
    let stream: Http2Stream;
    try {
      stream = this.connection.request(flat, { handler: exchange, isEndStream: !hasBody && trailers === null, isManualWindow: true });
    } catch (error) {
      return Promise.reject(refusedIfClosed(error));
    }
    exchange.start(stream);
    if (hasBody) void exchange.sendBody(body, trailers);
    else if (trailers !== null) stream.end(trailers);
    return exchange.response;
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

  /** Closes now: GOAWAY(`errorCode`, CANCEL by default); open requests fail with the connection error. */
  destroy(errorCode: number = ErrorCode.CANCEL): void {
    if (this.isClosed) return;
    this.connection.abort(errorCode, 'session destroyed by the application');
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
    for (let i = 0; i < regular.length; i++) pseudo.push(regular[i]!);
    return pseudo;
  }
}

/**
 * One request's state: the stream handler of the low-level API turned into the response
 * promise, the body and the trailers. One object per request, no closure per chunk.
 */
class ClientExchange implements Http2StreamHandler {
  readonly response: Promise<Http2Response>;
  private stream: Http2Stream | null = null;
  private body: Http2Body | null = null;
  private trailers: Http2HeadersObject | null = null;
  private resolveResponse: ((response: Http2Response) => void) | null = null;
  private rejectResponse: ((error: unknown) => void) | null = null;
  private settleTrailers: { resolve(trailers: Http2HeadersObject): void; reject(error: unknown): void } | null = null;
  /** Set when the request failed locally (abort, body source error): reported instead of the reset it causes. */
  private localFailure: { error: unknown } | null = null;
  private readonly init: Http2RequestInit;
  private readonly onAbort = (): void => this.fail(abortReason(this.init.signal!));

  constructor(init: Http2RequestInit) {
    this.init = init;
    this.response = new Promise<Http2Response>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
  }

  start(stream: Http2Stream): void {
    this.stream = stream;
    this.init.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Writes the request body, then ends the stream (with trailers); a failing source cancels the request. */
  async sendBody(source: Http2BodySource, trailers: Http2Headers | null): Promise<void> {
    const stream = this.stream!;
    try {
      const isComplete = await writeBodySource(stream, source);
      if (isComplete && stream.isWritable) stream.end(trailers ?? undefined);
    } catch (error) {
      // A write failed because the stream closed (already reported), or the source threw.
      if (!stream.isClosed) this.fail(error);
    }
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
    const resolve = this.resolveResponse;
    this.resolveResponse = null;
    this.rejectResponse = null;
    resolve?.({
      status: Number(pseudoValue(headers, ':status')),
      headers: headersToObject(headers),
      rawHeaders: headers,
      body,
      trailers,
      streamId: stream.id,
    });
    if (isEndStream) this.onEnd();
  }

  onData(_stream: Http2Stream, data: Uint8Array, start: number, end: number): void {
    this.body?._push(data, start, end);
  }

  onTrailers(_stream: Http2Stream, headers: Http2Headers): void {
    this.trailers = headersToObject(headers);
  }

  onEnd(): void {
    this.body?._end();
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.resolve(this.trailers ?? (Object.create(null) as Http2HeadersObject));
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
    this.body?._fail(failure);
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.reject(failure);
  }

  /** Fails the request from this side: RST_STREAM(CANCEL), and readers get `error`. */
  private fail(error: unknown): void {
    const stream = this.stream;
    if (stream === null || stream.isClosed) return;
    this.localFailure = { error };
    stream.reset(ErrorCode.CANCEL);
  }
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new SluiceError(Http2SessionErrors.ABORTED);
}

/** A request on a closed or closing connection never reached the server: make it retryable. */
function refusedIfClosed(error: unknown): unknown {
  if (error instanceof SluiceError && error.code === Http2ApiErrors.CONNECTION_CLOSED.code) {
    return new Http2StreamError(0, ErrorCode.REFUSED_STREAM, 'request not sent: the session is closed', { retryable: true, cause: error });
  }
  return error;
}
