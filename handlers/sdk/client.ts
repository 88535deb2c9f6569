/**
 * The SDK client: one origin, a stream manager under it, retries per a strategy, timeouts and
 * cancellation — what an SDK embeds so its authors write no networking machinery.
 *
 * @module
 */
import {
  IoErrors,
  SluiceError,
  StandardRetryStrategy,
  Task,
  TaskStatus,
  classifyFailure,
  defaultEventLoopGroup,
  type EventLoop,
  type EventLoopGroup,
  type HostResolver,
  type RetryClassifier,
  type RetryErrorType,
  type RetryStrategy,
  type RetryToken,
} from '../../lib/index.js';
import {
  Http2Body,
  handled,
  isBodySource,
  isReplayableBody,
  toBytes,
  writeBodySource,
  type Http2BodySource,
} from '../http2/api/body.js';
import {
  headersToObject,
  type Http2ClientTlsOptions,
  type Http2Headers,
  type Http2HeadersObject,
} from '../http2/index.js';
import { parseProxyUrl, proxyFromEnvironment, type ProxyOptions } from './proxy-tunnel.js';
import { isAbortSignal } from '../http2/connection/argument-checks.js';
import { Http2SessionErrors } from '../http2/errors.js';
import { SdkErrors } from './sdk-errors.js';
import { type ManagedRequestOptions, type StreamManagerMetrics, type StreamManagerStream } from './stream-manager.js';
import {
  ConnectionManager,
  type ConnectionManagerOptions,
  type ConnectionManagerRequest,
} from './connection-manager.js';
import type { HttpProtocolChoice } from '../http1/index.js';
import type { Http1ConnectionFactory } from './http1-connection-manager.js';
import { parseUrl } from '../../lib/url.js';

/**
 * Pool settings a {@link Client} passes through, as {@link ConnectionManagerOptions} documents
 * them: the HTTP/2 stream manager's, and for HTTP/1.1 origins `maxConnections`,
 * `maxPendingAcquisitions`, `acquireTimeoutMs`, `idleTimeoutMs` (default 4 s there),
 * `maxStreamRetries` (resends of requests that never left) and `http1`.
 */
export type ClientPoolOptions = {
  /** @internal Opens HTTP/1.1 connections instead of the built-in connect (tests). */
  http1Connect?: Http1ConnectionFactory;
} & Pick<
  ConnectionManagerOptions,
  | 'http1'
  | 'maxConnections'
  | 'idealConcurrency'
  | 'maxPendingAcquisitions'
  | 'acquireTimeoutMs'
  | 'idlePingIntervalMs'
  | 'pingTimeoutMs'
  | 'idleTimeoutMs'
  | 'maxStreamRetries'
  | 'http2'
  | 'connect'
>;

/** Details of one retry, given to {@link ClientOptions.onRetry}. */
export interface ClientRetryEvent {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  /** How it was classified. */
  readonly errorType: RetryErrorType;
  /** The response status, when the attempt got a response. */
  readonly status?: number;
  /** The error, when the attempt failed without a response. */
  readonly error?: SluiceError;
  /** The backoff before the next attempt, ms (loop clock). */
  readonly delayMs: number;
  /** Loop time when the backoff started, ms. */
  readonly scheduledAtMs: number;
}

/** Options of a {@link Client}; see {@link CLIENT_DEFAULTS}. */
export interface ClientOptions {
  /**
   * The origin: `https://host[:port]` (TLS; the version by ALPN, offering h2 and http/1.1) or
   * `http://host[:port]` (HTTP/1.1, or h2c with prior knowledge when `protocol` is `'h2'`).
   */
  origin: string | URL;
  /**
   * The HTTP version (see {@link HttpProtocolChoice}): `'auto'` (default) is HTTP/1.1 on
   * `http://` and ALPN on `https://`; `'h2'` forces HTTP/2 (prior knowledge on `http://`);
   * `'http/1.1'` forces HTTP/1.1. Through a `proxy`, `'auto'` means h2 (tunnels carry HTTP/2).
   */
  protocol?: HttpProtocolChoice;
  /** TLS options for `https` origins (custom `ca`, `servername`, client certificate, …). */
  tls?: Http2ClientTlsOptions;
  /** An HTTP CONNECT proxy: a URL (`http://user:pass@proxy:3128`) or options; null for none. */
  proxy?: string | ProxyOptions | null;
  /** When no `proxy` is given, use `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` exempts the origin. */
  useEnvironmentProxy?: boolean;
  /** The environment read by `useEnvironmentProxy`; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Decides retries and backoff; a {@link StandardRetryStrategy} on `loop` by default. */
  retryStrategy?: RetryStrategy;
  /** Classifies failures; {@link classifyFailure} by default. */
  classifier?: RetryClassifier;
  /** The retry budget's partition; the origin by default. */
  retryPartition?: string;
  /** Loops for the connections. */
  loopGroup?: EventLoopGroup;
  /** The loop for timers and backoff; the group's next loop by default. */
  loop?: EventLoop;
  /** Host resolver for the origin. */
  resolver?: HostResolver;
  /** TCP connect (and proxy answer) timeout, ms: `SDK_CONNECT_TIMEOUT`. */
  connectTimeoutMs?: number;
  /** TLS handshake timeout, ms: `SDK_TLS_NEGOTIATION_TIMEOUT`. */
  tlsNegotiationTimeoutMs?: number;
  /** Response headers must arrive within this many ms of the request being sent: `SDK_FIRST_BYTE_TIMEOUT` (retried). 0: no limit. */
  firstByteTimeoutMs?: number;
  /** The response may pause at most this long between chunks, ms: `SDK_IDLE_TIMEOUT` (retried). 0: no limit. */
  readIdleTimeoutMs?: number;
  /** Default whole-request limit, retries included, ms: `SDK_REQUEST_TIMEOUT`. 0: no limit. */
  requestTimeoutMs?: number;
  /**
   * Default cap on a response body, bytes: a larger body (or `content-length`) fails with
   * `SDK_RESPONSE_TOO_LARGE`, its stream reset, the connection kept. 0: no limit.
   */
  maxResponseBytes?: number;
  /** Headers sent with every request (e.g. `user-agent`); a request's own headers win. */
  defaultHeaders?: Readonly<Record<string, string>>;
  /** Called before each retry's backoff starts. */
  onRetry?: (event: ClientRetryEvent) => void;
  /** Connection-pool settings. */
  pool?: ClientPoolOptions;
}

/** Defaults of {@link ClientOptions}: 30 s to first byte, 30 s read idle, no whole-request limit. */
export const CLIENT_DEFAULTS = Object.freeze({
  /** 30 s to the response headers. */
  firstByteTimeoutMs: 30_000,
  /** 30 s between response chunks. */
  readIdleTimeoutMs: 30_000,
  /** No whole-request limit unless the request sets one. */
  requestTimeoutMs: 0,
  /** No response size cap unless set. */
  maxResponseBytes: 0,
});

/**
 * ClientRequestBody is a request body: bytes, a string (UTF-8) or an array of them are sent
 * again on retry; a one-shot stream — an async or sync iterable such as a generator or a Node
 * `Readable` — is sent with back-pressure as it is produced, and such a request is never
 * retried (neither by the strategy nor after a refusal).
 */
export type ClientRequestBody = Http2BodySource;

/** One request through a {@link Client}. */
export interface ClientRequest {
  /** The method; `GET` by default (`PUT`/`POST` when a body is given and no method). */
  method?: string;
  /** The path and query; `/` by default. */
  path?: string;
  /** Request headers (names are lowercased; arrays become repeated fields). */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /**
   * The body (see {@link ClientRequestBody}): replayable bodies get a `content-length` and are
   * resent on retry; a one-shot stream is sent as it comes and not retried.
   */
  body?: ClientRequestBody | null;
  /** Aborts the request: it fails with `SDK_REQUEST_ABORTED` (cause: the signal's reason). */
  signal?: AbortSignal;
  /** Whole-request limit for this request, retries and backoff included, ms (`SDK_REQUEST_TIMEOUT`). */
  timeoutMs?: number;
  /** Cap on this response's body, bytes (`SDK_RESPONSE_TOO_LARGE`); the client's `maxResponseBytes` by default, 0: no limit. */
  maxResponseBytes?: number;
}

/** What every response of a {@link Client} has, buffered or streamed. */
export interface ClientResponseHead {
  /** The HTTP status. */
  readonly status: number;
  /**
   * Response headers without pseudo-headers. A repeated field is an array for `set-cookie`
   * (RFC 6265 §3: cookies cannot be joined), joined with `, ` otherwise; see `rawHeaders`.
   */
  readonly headers: Readonly<Http2HeadersObject>;
  /** The response headers as received, a flat `[name, value, …]` list, `:status` included. */
  readonly rawHeaders: Http2Headers;
  /** Attempts made (1 when the first succeeded); transparent resends after GOAWAY/REFUSED_STREAM are not attempts. */
  readonly attempts: number;
}

/** The response to a {@link ClientRequest}, its body read whole. */
export interface ClientResponse extends ClientResponseHead {
  /** The whole body. */
  readonly body: Buffer;
  /** Trailers (empty when none), as `headers` are. */
  readonly trailers: Readonly<Http2HeadersObject>;
  /** The trailers as received, a flat list (`[]` when none). */
  readonly rawTrailers: Http2Headers;
}

/**
 * ClientStreamResponse is the response of {@link Client.stream}: it resolves at the response
 * headers, and the body is read as it arrives, with back-pressure — the server is paused once
 * the stream window is full, until the reader takes more. Read or cancel every body.
 */
export interface ClientStreamResponse extends ClientResponseHead {
  /** The body, an async iterable of chunks (with `text()`, `bytes()`, `json()`, `cancel()`). */
  readonly body: Http2Body;
  /** The trailers once the body ended; rejects if the stream fails. */
  readonly trailers: Promise<Http2HeadersObject>;
  /** The trailers as received, a flat list; settles with `trailers`. */
  readonly rawTrailers: Promise<Http2Headers>;
}

/** ClientMetrics are a {@link Client}'s counters plus its connection manager's. */
export interface ClientMetrics extends StreamManagerMetrics {
  /** Requests started. */
  readonly requests: number;
  /** Retries made by the strategy (not counting transparent resends). */
  readonly retries: number;
}

/** Received fields as an object without pseudo-headers (lists kept as `headersToObject` keeps them). */
function fieldsOf(flat: Http2Headers): Http2HeadersObject {
  const fields = headersToObject(flat);
  for (const name of Object.keys(fields)) if (name.charCodeAt(0) === 0x3a) delete fields[name];
  return fields;
}

function statusOf(flat: Http2Headers): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === ':status') return Number(flat[i + 1]);
  return 0;
}

/** The state of one `request` call across its attempts. */
class CallState {
  stopError: SluiceError | null = null;
  attempt: ConnectionManagerRequest | null = null;
  /** The version that carried the last attempt (null: it never reached a connection). */
  lastProtocol: 'h2' | 'http/1.1' | null = null;
  /** Some byte of the last attempt may have reached the server. */
  wasLastSent = false;
  token: RetryToken | null = null;
  private readonly deadlineTask: Task | null = null;
  private readonly onAbort: (() => void) | null = null;

  constructor(
    private readonly loop: EventLoop,
    private readonly strategy: RetryStrategy,
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    if (timeoutMs > 0) {
      this.deadlineTask = new Task((status) => {
        if (status === TaskStatus.RUN_READY)
          this.stop(new SluiceError(SdkErrors.REQUEST_TIMEOUT, `the request did not complete within ${timeoutMs} ms`));
      }, 'client-request-timeout');
      loop.scheduleAfter(this.deadlineTask, timeoutMs);
    }
    if (signal !== undefined) {
      this.onAbort = () =>
        this.stop(
          new SluiceError(SdkErrors.REQUEST_ABORTED, SdkErrors.REQUEST_ABORTED.message, { cause: signal.reason }),
        );
      if (signal.aborted) this.onAbort();
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  stop(error: SluiceError): void {
    if (this.stopError !== null) return;
    this.stopError = error;
    this.attempt?.cancel(error);
    // A waiting backoff ends at once (its callback gets RETRY_CANCELED).
    if (this.token !== null) this.strategy.releaseToken(this.token);
  }

  /**
   * Throws why the call stopped, if it did. A method, not an inline check: `stop` runs from
   * callbacks while the caller awaits, and TypeScript keeps an earlier `stopError === null`
   * narrowing across the await.
   */
  throwIfStopped(): void {
    if (this.stopError !== null) throw this.stopError;
  }

  /** A streamed response was handed to the caller: the deadline and signal apply until its stream closes. */
  isHandedOver = false;
  /** The last attempt's stream closed. */
  isAttemptClosed = false;

  dispose(): void {
    if (this.deadlineTask !== null) this.loop.cancel(this.deadlineTask);
    if (this.onAbort !== null) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Client sends requests to one origin over HTTP/1.1 or HTTP/2 and retries them per its strategy.
 * Under it, a {@link ConnectionManager} picks the version (`protocol`; ALPN for `https://`) and
 * pools connections: an HTTP/1.1 pool (one request per connection), or an HTTP/2 stream manager
 * (through a proxy when configured) where GOAWAYs and REFUSED_STREAMs are absorbed without
 * costing an attempt. Over HTTP/1.1 a failed request is retried only when its method is
 * idempotent (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or it provably never
 * left (its connection failed before any byte of it was written; such a request is resent by
 * the pool without costing an attempt). Failed attempts are
 * classified (`classifier`), and the strategy decides whether and when (backoff on the loop)
 * the next attempt goes: 429/503 (throttling), other 5xx (server error) and connection or
 * timeout errors (transient) are retried; other statuses and errors are not.
 *
 * A request that exhausts its retries on a retryable status resolves with the last response;
 * one that fails without a response rejects with the last error.
 *
 * @example
 * ```ts
 * const client = new Client({ origin: 'https://kv.example:8443', tls: { ca } });
 * const response = await client.request({ method: 'GET', path: '/items/1', timeoutMs: 5000 });
 * console.log(response.status, response.body.toString());
 * await client.close();
 * ```
 */
export class Client {
  /** The connection manager under the client (HTTP/1.1 pool or HTTP/2 stream manager, per origin). */
  readonly connectionManager: ConnectionManager;
  /** The retry strategy in use. */
  readonly retryStrategy: RetryStrategy;
  /** The loop timers and backoff run on. */
  readonly loop: EventLoop;
  private readonly options: ClientOptions;
  private readonly classifier: RetryClassifier;
  private readonly scheme: 'https' | 'http';
  private readonly authority: string;
  private readonly partition: string;
  private readonly firstByteTimeoutMs: number;
  private readonly readIdleTimeoutMs: number;
  private isClosed = false;
  private requestCount = 0;
  private retryCount = 0;

  /**
   * Creates a client; throws `IO_INVALID_OPTIONS` without options, `IO_INVALID_URL` for an origin
   * that is not a URL, `HTTP2_UNSUPPORTED_SCHEME` for one that is not `http(s)://host[:port]`.
   */
  constructor(options: ClientOptions) {
    this.options = options;
    if (typeof options !== 'object' || options === null) {
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        'new Client(options): options with an origin (https://host[:port] or http://host[:port]) are required',
      );
    }
    const origin = parseUrl(options.origin, 'new Client({ origin })');
    if (origin.protocol !== 'https:' && origin.protocol !== 'http:') {
      throw new SluiceError(
        Http2SessionErrors.UNSUPPORTED_SCHEME,
        `the origin must be https:// or http://, not ${origin.protocol}`,
      );
    }
    this.scheme = origin.protocol === 'https:' ? 'https' : 'http';
    const isTls = this.scheme === 'https';
    const host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    const port = origin.port === '' ? (isTls ? 443 : 80) : Number(origin.port);
    this.authority = origin.host;
    this.partition = options.retryPartition ?? origin.origin;
    this.loop = options.loop ?? (options.loopGroup ?? defaultEventLoopGroup()).next();
    this.retryStrategy = options.retryStrategy ?? new StandardRetryStrategy({ loop: this.loop });
    this.classifier = options.classifier ?? classifyFailure;
    this.firstByteTimeoutMs = options.firstByteTimeoutMs ?? CLIENT_DEFAULTS.firstByteTimeoutMs;
    this.readIdleTimeoutMs = options.readIdleTimeoutMs ?? CLIENT_DEFAULTS.readIdleTimeoutMs;
    let proxy: ProxyOptions | null = null;
    if (options.proxy !== undefined && options.proxy !== null)
      proxy = typeof options.proxy === 'string' ? parseProxyUrl(options.proxy) : options.proxy;
    else if (options.proxy === undefined && options.useEnvironmentProxy === true)
      proxy = proxyFromEnvironment(host, port, isTls, options.env ?? process.env);
    const pool = options.pool ?? {};
    const { http2, connect, ...tuning } = pool;
    this.connectionManager = new ConnectionManager({
      ...tuning,
      ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
      host,
      port,
      loop: this.loop,
      proxy,
      ...(isTls ? { tls: options.tls ?? {} } : {}),
      ...(http2 !== undefined ? { http2 } : {}),
      ...(connect !== undefined ? { connect } : {}),
      ...(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {}),
      ...(options.resolver !== undefined ? { resolver: options.resolver } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.tlsNegotiationTimeoutMs !== undefined
        ? { tlsNegotiationTimeoutMs: options.tlsNegotiationTimeoutMs }
        : {}),
    });
  }

  /**
   * The connection manager under the client.
   *
   * @deprecated Since 0.2.0 this is the {@link ConnectionManager} (it has the stream manager's
   * `request`, `metrics` and `close`); use `connectionManager`, and its `streamManager` for the
   * HTTP/2 stream manager.
   */
  get streamManager(): ConnectionManager {
    return this.connectionManager;
  }

  /** The client's counters and its connection manager's metrics. */
  get metrics(): ClientMetrics {
    return { ...this.connectionManager.metrics, requests: this.requestCount, retries: this.retryCount };
  }

  /**
   * Sends a request and resolves with the whole response, after as many attempts as the
   * strategy allows. Rejects with `SDK_REQUEST_ABORTED`, `SDK_REQUEST_TIMEOUT`,
   * `SDK_MANAGER_CLOSED`, `SDK_RESPONSE_TOO_LARGE`, `SDK_BODY_SOURCE_FAILED`, or the last
   * attempt's error (`SDK_FIRST_BYTE_TIMEOUT`, `SDK_CONNECTION_DEAD`, `IO_*`, `TLS_*`,
   * `HTTP2_*`, `SDK_PROXY_*`, …). A request with a one-shot body is attempted once.
   */
  request(request: ClientRequest): Promise<ClientResponse> {
    return this.execute(request, false) as Promise<ClientResponse>;
  }

  /**
   * Sends a request and resolves with the response as soon as its headers arrive; the body is
   * read as it comes, with back-pressure (see {@link ClientStreamResponse}). Retries as
   * {@link Client.request} does while no response was handed over (a retried response's body is
   * cancelled). `signal`, `timeoutMs`, `readIdleTimeoutMs` and `maxResponseBytes` go on
   * applying while the body is read: they fail the body with their error. Rejects as
   * {@link Client.request}.
   *
   * @example
   * ```ts
   * const response = await client.stream({ path: '/export.csv', maxResponseBytes: 1 << 30 });
   * for await (const chunk of response.body) process.stdout.write(chunk);
   * ```
   */
  stream(request: ClientRequest): Promise<ClientStreamResponse> {
    return this.execute(request, true) as Promise<ClientStreamResponse>;
  }

  private async execute(request: ClientRequest, isStreaming: boolean): Promise<ClientResponse | ClientStreamResponse> {
    checkClientRequest(request);
    if (this.isClosed) throw new SluiceError(SdkErrors.MANAGER_CLOSED);
    const body = requestBody(request.body);
    this.requestCount++;
    const headers = this.buildHeaders(request, body);
    const call = new CallState(
      this.loop,
      this.retryStrategy,
      request.signal,
      request.timeoutMs ?? this.options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    );
    const maxResponseBytes =
      request.maxResponseBytes ?? this.options.maxResponseBytes ?? CLIENT_DEFAULTS.maxResponseBytes;
    try {
      call.throwIfStopped();
      const token = this.retryStrategy.acquireToken(this.partition);
      call.token = token;
      // Bounded by the strategy: every pass either returns, throws, or consumes a retry.
      for (let attempt = 1; ; attempt++) {
        let response: ClientResponse | ClientStreamResponse | null = null;
        let error: SluiceError | null = null;
        try {
          response = await this.attempt(call, headers, body, { attempt, isStreaming, maxResponseBytes });
        } catch (thrown) {
          error =
            thrown instanceof SluiceError
              ? thrown
              : new SluiceError(SdkErrors.REQUEST_ABORTED, String(thrown), { cause: thrown });
        }
        call.throwIfStopped();
        if (response !== null && !isRetryCandidate(response.status)) {
          if (response.status < 500) this.retryStrategy.recordSuccess(token);
          else this.retryStrategy.releaseToken(token);
          return this.handOver(call, response);
        }
        // A one-shot body was consumed by this attempt: it cannot be sent again. Over HTTP/1.1
        // a request that may have reached the server is repeated only when repeating it is
        // safe (RFC 9110 §9.2.2 idempotent methods); one that provably never left always is.
        const isUnsafeToRepeat =
          call.lastProtocol === 'http/1.1' && call.wasLastSent && !IDEMPOTENT_METHODS.has(headers[1]);
        if (!body.isReplayable || error?.code === SdkErrors.RESPONSE_TOO_LARGE.code || isUnsafeToRepeat) {
          this.retryStrategy.releaseToken(token);
          if (response !== null) return this.handOver(call, response);
          throw error!;
        }
        const errorType = this.classifier(response !== null ? { status: response.status } : { error });
        const isTimeout = error !== null && error.code.endsWith('_TIMEOUT');
        const waited = new Promise<SluiceError | null>((resolve) => {
          const refusal = this.retryStrategy.scheduleRetry(token, errorType, resolve, isTimeout);
          if (refusal !== null) resolve(refusal);
          else {
            this.retryCount++;
            // This response is replaced by the next attempt's: stop its body.
            if (response !== null && response.body instanceof Http2Body) response.body.cancel();
            const event: { -readonly [K in keyof ClientRetryEvent]: ClientRetryEvent[K] } = {
              attempt,
              errorType,
              delayMs: token.lastDelayMs,
              scheduledAtMs: this.loop.now(),
            };
            if (response !== null) event.status = response.status;
            if (error !== null) event.error = error;
            this.options.onRetry?.(event);
          }
        });
        const refusal = await waited;
        call.throwIfStopped();
        if (refusal !== null) {
          this.retryStrategy.releaseToken(token);
          if (response !== null) return this.handOver(call, response);
          throw error!;
        }
      }
    } finally {
      if (!call.isHandedOver || call.isAttemptClosed) call.dispose();
    }
  }

  /** Returns `response`; a streamed one keeps the call's deadline and signal until its stream closes. */
  private handOver<T extends ClientResponse | ClientStreamResponse>(call: CallState, response: T): T {
    if (response.body instanceof Http2Body) call.isHandedOver = true;
    // The token was settled by the caller: a later stop (abort, deadline) must not release it again.
    call.token = null;
    return response;
  }

  /**
   * Closes the client: new requests fail with `SDK_MANAGER_CLOSED`, waiting ones too;
   * in-flight ones finish; resolves once every connection has closed.
   */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.connectionManager.close();
  }

  private buildHeaders(request: ClientRequest, body: RequestBody): Http2Headers {
    const method = (request.method ?? (body.source !== null ? 'PUT' : 'GET')).toUpperCase();
    const flat: Http2Headers = [
      ':method',
      method,
      ':scheme',
      this.scheme,
      ':authority',
      this.authority,
      ':path',
      request.path ?? '/',
    ];
    const own = request.headers ?? {};
    const ownNames = new Set(Object.keys(own).map((name) => name.toLowerCase()));
    for (const [name, value] of Object.entries(this.options.defaultHeaders ?? {})) {
      if (!ownNames.has(name.toLowerCase())) flat.push(name.toLowerCase(), value);
    }
    for (const [name, value] of Object.entries(own)) {
      const lower = name.toLowerCase();
      if (typeof value === 'string' || typeof value === 'number') flat.push(lower, String(value));
      else for (const item of value) flat.push(lower, item);
    }
    if (body.length >= 0 && !ownNames.has('content-length')) flat.push('content-length', String(body.length));
    return flat;
  }

  /**
   * One attempt: resolves with the whole response (or, streaming, with its head once the
   * headers arrive), or rejects with why it failed.
   */
  private attempt(
    call: CallState,
    headers: Http2Headers,
    body: RequestBody,
    details: AttemptDetails,
  ): Promise<ClientResponse | ClientStreamResponse> {
    return new Promise<ClientResponse | ClientStreamResponse>((resolve, reject) => {
      const loop = this.loop;
      const { attempt, isStreaming, maxResponseBytes } = details;
      let status = 0;
      let rawHeaders: Http2Headers = [];
      let rawTrailers: Http2Headers = [];
      const chunks: Buffer[] = [];
      let received = 0;
      let lastActivity = 0;
      let managed: ConnectionManagerRequest | null = null;
      let stream: StreamManagerStream | null = null;
      let streamed: StreamedBody | null = null;
      const firstByteTask = new Task((taskStatus) => {
        if (taskStatus === TaskStatus.RUN_READY) {
          managed?.cancel(
            new SluiceError(SdkErrors.FIRST_BYTE_TIMEOUT, `no response within ${this.firstByteTimeoutMs} ms`),
          );
        }
      }, 'client-first-byte-timeout');
      // Re-armed lazily: data (and, streaming, the reader taking bytes) only records the time;
      // the task checks it when it fires.
      const idleTask = new Task((taskStatus) => {
        if (taskStatus !== TaskStatus.RUN_READY) return;
        const quietFor = loop.now() - lastActivity;
        if (quietFor >= this.readIdleTimeoutMs)
          managed?.cancel(
            new SluiceError(SdkErrors.IDLE_TIMEOUT, `the response was idle for ${this.readIdleTimeoutMs} ms`),
          );
        else loop.scheduleAfter(idleTask, this.readIdleTimeoutMs - quietFor);
      }, 'client-read-idle-timeout');
      const stopTimers = (): void => {
        loop.cancel(firstByteTask);
        loop.cancel(idleTask);
      };
      const tooLarge = (size: number): SluiceError =>
        new SluiceError(
          SdkErrors.RESPONSE_TOO_LARGE,
          `the response body (${size} bytes or more) exceeds maxResponseBytes (${maxResponseBytes})`,
        );
      const options: ManagedRequestOptions = {
        headers,
        handler: {
          onStreamAssigned: (assigned) => {
            stream = assigned;
            loop.cancel(firstByteTask);
            if (this.firstByteTimeoutMs > 0) loop.scheduleAfter(firstByteTask, this.firstByteTimeoutMs);
          },
          onResponse: (flat) => {
            loop.cancel(firstByteTask);
            call.lastProtocol = managed?.protocol ?? null;
            call.wasLastSent = true;
            status = statusOf(flat);
            rawHeaders = flat;
            lastActivity = loop.now();
            if (this.readIdleTimeoutMs > 0 && !idleTask.isScheduled)
              loop.scheduleAfter(idleTask, this.readIdleTimeoutMs);
            const declared = contentLengthOf(flat);
            if (maxResponseBytes > 0 && declared > maxResponseBytes) {
              managed?.cancel(tooLarge(declared));
              return;
            }
            if (!isStreaming) return;
            const credit = stream!;
            streamed = new StreamedBody(
              {
                updateWindow: (size) => {
                  // The reader took bytes: the peer may send again, so the wait is not idleness.
                  lastActivity = loop.now();
                  credit.updateWindow?.(size);
                },
              },
              () => managed?.cancel(new SluiceError(SdkErrors.REQUEST_ABORTED, 'the response body was cancelled')),
            );
            resolve({
              status,
              headers: fieldsOf(flat),
              rawHeaders: flat,
              body: streamed.body,
              trailers: streamed.trailers,
              rawTrailers: streamed.rawTrailers,
              attempts: attempt,
            });
          },
          onData: (data, start, end) => {
            lastActivity = loop.now();
            received += end - start;
            if (maxResponseBytes > 0 && received > maxResponseBytes) {
              managed?.cancel(tooLarge(received));
              return;
            }
            if (streamed !== null) streamed.body._push(data, start, end);
            else chunks.push(Buffer.from(data.subarray(start, end)));
          },
          onTrailers: (flat) => {
            rawTrailers = flat;
          },
          onClose: (error) => {
            stopTimers();
            if (call.attempt === managed && managed !== null) {
              call.lastProtocol = managed.protocol;
              call.wasLastSent = managed.isRequestSent;
            }
            // A replaced attempt (its body cancelled for a retry) may close after the next began.
            if (call.attempt === managed) {
              call.attempt = null;
              call.isAttemptClosed = true;
            }
            if (streamed !== null) {
              streamed.close(error, rawTrailers);
              if (call.isHandedOver) call.dispose();
              return;
            }
            if (error !== null) reject(error);
            else
              resolve({
                status,
                headers: fieldsOf(rawHeaders),
                rawHeaders,
                body: Buffer.concat(chunks),
                trailers: fieldsOf(rawTrailers),
                rawTrailers,
                attempts: attempt,
              });
          },
        },
      };
      if (body.source instanceof Uint8Array) options.body = body.source;
      else if (body.source !== null) {
        const source = body.source;
        options.writeBody = (assigned) => sendBody(assigned, source, (error) => managed?.cancel(error));
        options.isReplayable = body.isReplayable;
      }
      if (isStreaming) options.isManualWindow = true;
      try {
        call.isAttemptClosed = false;
        call.lastProtocol = null;
        call.wasLastSent = false;
        managed = this.connectionManager.request(options);
        call.attempt = managed;
      } catch (error) {
        stopTimers();
        reject(error);
      }
    });
  }
}

/** Per-attempt settings of {@link Client.attempt}. */
interface AttemptDetails {
  readonly attempt: number;
  readonly isStreaming: boolean;
  readonly maxResponseBytes: number;
}

/** A request body normalized once per call: what is sent, its length (-1: unknown), whether it can be sent again. */
interface RequestBody {
  readonly source: Uint8Array | Http2BodySource | null;
  readonly length: number;
  readonly isReplayable: boolean;
}

function requestBody(body: ClientRequestBody | null | undefined): RequestBody {
  if (body === undefined || body === null) return { source: null, length: -1, isReplayable: true };
  if (!isBodySource(body))
    throw new SluiceError(
      Http2SessionErrors.INVALID_BODY,
      `a request body is bytes, a string, an array or an iterable of them, got ${typeof body}`,
    );
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = toBytes(body);
    return { source: bytes, length: bytes.length, isReplayable: true };
  }
  if (Array.isArray(body)) {
    const chunks = (body as readonly unknown[]).map(toBytes);
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    return { source: chunks, length, isReplayable: true };
  }
  return { source: body, length: -1, isReplayable: isReplayableBody(body) };
}

/** Writes `source` on `stream` with back-pressure and ends it; a failing source cancels the request with `onFailure`'s error. */
function sendBody(stream: StreamManagerStream, source: Http2BodySource, onFailure: (error: SluiceError) => void): void {
  let isFailed = false;
  const sink = {
    get isWritable(): boolean {
      return !isFailed;
    },
    write: (chunk: Uint8Array, callback?: (error: SluiceError | null) => void): boolean => {
      try {
        return stream.write(chunk, (error) => {
          if (error !== null) isFailed = true;
          callback?.(error);
        });
      } catch {
        // The stream closed (reset, connection lost, resent elsewhere): its onClose reports
        // why; this writer just stops.
        isFailed = true;
        return true;
      }
    },
  };
  writeBodySource(sink, source).then(
    (isComplete) => {
      if (!isComplete || isFailed) return;
      try {
        stream.end();
      } catch {
        // Closed meanwhile: reported by its onClose.
      }
    },
    (error: unknown) => {
      if (isFailed) return;
      isFailed = true;
      onFailure(
        error instanceof SluiceError && error.code === Http2SessionErrors.INVALID_BODY.code
          ? error
          : new SluiceError(SdkErrors.BODY_SOURCE_FAILED, `${SdkErrors.BODY_SOURCE_FAILED.message}: ${String(error)}`, {
              cause: error,
            }),
      );
    },
  );
}

/** A streamed response's body and trailers, settled when its stream closes. */
class StreamedBody {
  readonly body: Http2Body;
  readonly trailers: Promise<Http2HeadersObject>;
  readonly rawTrailers: Promise<Http2Headers>;
  private settle: ((raw: Http2Headers | null, error: unknown) => void) | null = null;

  constructor(credit: { updateWindow(size: number): void }, onCancel: () => void) {
    this.body = new Http2Body(credit, onCancel);
    this.rawTrailers = handled(
      new Promise<Http2Headers>((resolve, reject) => {
        this.settle = (raw, error) => (raw !== null ? resolve(raw) : reject(error));
      }),
    );
    this.trailers = handled(this.rawTrailers.then(fieldsOf));
  }

  close(error: SluiceError | null, rawTrailers: Http2Headers): void {
    if (error === null) {
      this.body._end();
      this.settle?.(rawTrailers, null);
    } else {
      this.body._fail(error);
      this.settle?.(null, error);
    }
    this.settle = null;
  }
}

function contentLengthOf(flat: Http2Headers): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === 'content-length') return Number(flat[i + 1]);
  return -1;
}

/** RFC 9110 §9.2.2: methods whose repetition has the effect of one request. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function isRetryCandidate(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/**
 * Checks a request's fields before anything is sent: `HTTP2_INVALID_OPTIONS` for a request that
 * is not an object or a field of the wrong type (the body is checked with the bodies, the header
 * values as they are split).
 */
function checkClientRequest(request: unknown): asserts request is ClientRequest {
  const invalid = (message: string): SluiceError => new SluiceError(Http2SessionErrors.INVALID_OPTIONS, message);
  if (typeof request !== 'object' || request === null)
    throw invalid('a request is an object: { path, method, headers, body, … }');
  const fields = request as Record<keyof ClientRequest, unknown>;
  for (const name of ['method', 'path'] as const) {
    if (fields[name] !== undefined && typeof fields[name] !== 'string') throw invalid(`${name} must be a string`);
  }
  for (const name of ['timeoutMs', 'maxResponseBytes'] as const) {
    const value = fields[name];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0)))
      throw invalid(`${name} must be a number of 0 or more`);
  }
  if (fields.headers !== undefined && (typeof fields.headers !== 'object' || fields.headers === null))
    throw invalid('headers must be an object of fields');
  if (fields.signal !== undefined && !isAbortSignal(fields.signal)) throw invalid('signal must be an AbortSignal');
}
