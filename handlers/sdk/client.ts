/**
 * The SDK client: one origin, a stream manager under it, retries per a strategy, timeouts and
 * cancellation — what an SDK embeds so its authors write no networking machinery.
 *
 * @module
 */
import {
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
import type { Http2ClientTlsOptions, Http2Headers } from '../http2/index.js';
import { parseProxyUrl, proxyFromEnvironment, type ProxyOptions } from './proxy-tunnel.js';
import { SdkErrors } from './sdk-errors.js';
import {
  Http2StreamManager,
  type Http2StreamManagerOptions,
  type ManagedRequest,
  type StreamManagerMetrics,
} from './stream-manager.js';

/** Stream-manager settings a {@link Client} passes through, as {@link Http2StreamManagerOptions} documents them. */
export type ClientPoolOptions = Pick<
  Http2StreamManagerOptions,
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
  /** The origin, `https://host[:port]` (TLS, ALPN "h2") or `http://host[:port]` (h2c with prior knowledge). */
  origin: string | URL;
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
  /** Headers sent with every request (e.g. `user-agent`); a request's own headers win. */
  defaultHeaders?: Readonly<Record<string, string>>;
  /** Called before each retry's backoff starts. */
  onRetry?: (event: ClientRetryEvent) => void;
  /** Stream-manager settings. */
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
});

/** One request through a {@link Client}. */
export interface ClientRequest {
  /** The method; `GET` by default (`PUT`/`POST` when a body is given and no method). */
  method?: string;
  /** The path and query; `/` by default. */
  path?: string;
  /** Request headers (names are lowercased; arrays become repeated fields). */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** The body, sent whole (so it can be sent again on retry). */
  body?: Uint8Array | string | null;
  /** Aborts the request: it fails with `SDK_REQUEST_ABORTED` (cause: the signal's reason). */
  signal?: AbortSignal;
  /** Whole-request limit for this request, retries and backoff included, ms (`SDK_REQUEST_TIMEOUT`). */
  timeoutMs?: number;
}

/** The response to a {@link ClientRequest}. */
export interface ClientResponse {
  /** The HTTP status. */
  readonly status: number;
  /** Response headers; repeated fields joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body. */
  readonly body: Buffer;
  /** Trailers (empty when none). */
  readonly trailers: Readonly<Record<string, string>>;
  /** Attempts made (1 when the first succeeded); transparent resends after GOAWAY/REFUSED_STREAM are not attempts. */
  readonly attempts: number;
}

/** ClientMetrics are a {@link Client}'s counters plus its stream manager's. */
export interface ClientMetrics extends StreamManagerMetrics {
  /** Requests started. */
  readonly requests: number;
  /** Retries made by the strategy (not counting transparent resends). */
  readonly retries: number;
}

function toObject(flat: Http2Headers, skipPseudo: boolean): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    if (skipPseudo && name.startsWith(':')) continue;
    const previous = result[name];
    result[name] = previous === undefined ? flat[i + 1]! : `${previous}, ${flat[i + 1]!}`;
  }
  return result;
}

function statusOf(flat: Http2Headers): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === ':status') return Number(flat[i + 1]);
  return 0;
}

/** The state of one `request` call across its attempts. */
class CallState {
  stopError: SluiceError | null = null;
  attempt: ManagedRequest | null = null;
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
        if (status === TaskStatus.RUN_READY) this.stop(new SluiceError(SdkErrors.REQUEST_TIMEOUT, `the request did not complete within ${timeoutMs} ms`));
      }, 'client-request-timeout');
      loop.scheduleAfter(this.deadlineTask, timeoutMs);
    }
    if (signal !== undefined) {
      this.onAbort = () => this.stop(new SluiceError(SdkErrors.REQUEST_ABORTED, SdkErrors.REQUEST_ABORTED.message, { cause: signal.reason }));
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

  dispose(): void {
    if (this.deadlineTask !== null) this.loop.cancel(this.deadlineTask);
    if (this.onAbort !== null) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Client sends requests to one origin over HTTP/2 and retries them per its strategy. Under it,
 * an {@link Http2StreamManager} pools connections (through a proxy when configured); GOAWAYs
 * and REFUSED_STREAMs are absorbed there without costing an attempt. Failed attempts are
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
  /** The stream manager under the client. */
  readonly streamManager: Http2StreamManager;
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

  /** Creates a client; throws `SDK_INVALID_URL` for an origin that is not `http(s)://host[:port]`. */
  constructor(options: ClientOptions) {
    this.options = options;
    let origin: URL;
    try {
      origin = typeof options.origin === 'string' ? new URL(options.origin) : options.origin;
    } catch (error) {
      throw new SluiceError(SdkErrors.INVALID_URL, `${SdkErrors.INVALID_URL.message}: ${String(options.origin)}`, { cause: error });
    }
    if (origin.protocol !== 'https:' && origin.protocol !== 'http:') {
      throw new SluiceError(SdkErrors.INVALID_URL, `the origin must be https:// or http://, not ${origin.protocol}`);
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
    if (options.proxy !== undefined && options.proxy !== null) proxy = typeof options.proxy === 'string' ? parseProxyUrl(options.proxy) : options.proxy;
    else if (options.proxy === undefined && options.useEnvironmentProxy === true) proxy = proxyFromEnvironment(host, port, isTls, options.env ?? process.env);
    const pool = options.pool ?? {};
    const { http2, connect, ...tuning } = pool;
    this.streamManager = new Http2StreamManager({
      ...tuning,
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
      ...(options.tlsNegotiationTimeoutMs !== undefined ? { tlsNegotiationTimeoutMs: options.tlsNegotiationTimeoutMs } : {}),
    });
  }

  /** The client's counters and its stream manager's metrics. */
  get metrics(): ClientMetrics {
    return { ...this.streamManager.metrics, requests: this.requestCount, retries: this.retryCount };
  }

  /**
   * Sends a request and resolves with the whole response, after as many attempts as the
   * strategy allows. Rejects with `SDK_REQUEST_ABORTED`, `SDK_REQUEST_TIMEOUT`,
   * `SDK_MANAGER_CLOSED`, or the last attempt's error (`SDK_FIRST_BYTE_TIMEOUT`,
   * `SDK_CONNECTION_DEAD`, `IO_*`, `TLS_*`, `HTTP2_*`, `SDK_PROXY_*`, …).
   */
  async request(request: ClientRequest): Promise<ClientResponse> {
    if (this.isClosed) throw new SluiceError(SdkErrors.MANAGER_CLOSED);
    this.requestCount++;
    const body = request.body === undefined || request.body === null ? null : typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    const headers = this.buildHeaders(request, body);
    const call = new CallState(this.loop, this.retryStrategy, request.signal, request.timeoutMs ?? this.options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs);
    try {
      if (call.stopError !== null) throw call.stopError;
      const token = this.retryStrategy.acquireToken(this.partition);
      call.token = token;
      // Bounded by the strategy: every pass either returns, throws, or consumes a retry.
      for (let attempt = 1; ; attempt++) {
        let response: ClientResponse | null = null;
        let error: SluiceError | null = null;
        try {
          response = await this.attempt(call, headers, body, attempt);
        } catch (thrown) {
          error = thrown instanceof SluiceError ? thrown : new SluiceError(SdkErrors.REQUEST_ABORTED, String(thrown), { cause: thrown });
        }
        if (call.stopError !== null) throw call.stopError;
        if (response !== null && !isRetryCandidate(response.status)) {
          if (response.status < 500) this.retryStrategy.recordSuccess(token);
          else this.retryStrategy.releaseToken(token);
          return response;
        }
        const errorType = this.classifier(response !== null ? { status: response.status } : { error });
        const isTimeout = error !== null && error.code.endsWith('_TIMEOUT');
        const waited = new Promise<SluiceError | null>((resolve) => {
          const refusal = this.retryStrategy.scheduleRetry(token, errorType, resolve, isTimeout);
          if (refusal !== null) resolve(refusal);
          else {
            this.retryCount++;
            const event: { -readonly [K in keyof ClientRetryEvent]: ClientRetryEvent[K] } = { attempt, errorType, delayMs: token.lastDelayMs, scheduledAtMs: this.loop.now() };
            if (response !== null) event.status = response.status;
            if (error !== null) event.error = error;
            this.options.onRetry?.(event);
          }
        });
        const refusal = await waited;
        if (call.stopError !== null) throw call.stopError;
        if (refusal !== null) {
          this.retryStrategy.releaseToken(token);
          if (response !== null) return response;
          throw error!;
        }
      }
    } finally {
      call.dispose();
    }
  }

  /**
   * Closes the client: new requests fail with `SDK_MANAGER_CLOSED`, waiting ones too;
   * in-flight ones finish; resolves once every connection has closed.
   */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.streamManager.close();
  }

  private buildHeaders(request: ClientRequest, body: Uint8Array | null): Http2Headers {
    const method = (request.method ?? (body !== null ? 'PUT' : 'GET')).toUpperCase();
    const flat: Http2Headers = [':method', method, ':scheme', this.scheme, ':authority', this.authority, ':path', request.path ?? '/'];
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
    if (body !== null && !ownNames.has('content-length')) flat.push('content-length', String(body.length));
    return flat;
  }

  /** One attempt: resolves with the whole response, or rejects with why it failed. */
  private attempt(call: CallState, headers: Http2Headers, body: Uint8Array | null, attempt: number): Promise<ClientResponse> {
    return new Promise<ClientResponse>((resolve, reject) => {
      const loop = this.loop;
      let status = 0;
      let responseHeaders: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let lastActivity = 0;
      let managed: ManagedRequest | null = null;
      const firstByteTask = new Task((taskStatus) => {
        if (taskStatus === TaskStatus.RUN_READY) {
          managed?.cancel(new SluiceError(SdkErrors.FIRST_BYTE_TIMEOUT, `no response within ${this.firstByteTimeoutMs} ms`));
        }
      }, 'client-first-byte-timeout');
      // Re-armed lazily: data only records the time; the task checks it when it fires.
      const idleTask = new Task((taskStatus) => {
        if (taskStatus !== TaskStatus.RUN_READY) return;
        const quietFor = loop.now() - lastActivity;
        if (quietFor >= this.readIdleTimeoutMs) managed?.cancel(new SluiceError(SdkErrors.IDLE_TIMEOUT, `the response was idle for ${this.readIdleTimeoutMs} ms`));
        else loop.scheduleAfter(idleTask, this.readIdleTimeoutMs - quietFor);
      }, 'client-read-idle-timeout');
      const stopTimers = (): void => {
        loop.cancel(firstByteTask);
        loop.cancel(idleTask);
      };
      try {
        managed = this.streamManager.request({
          headers,
          body,
          handler: {
            onStreamAssigned: () => {
              loop.cancel(firstByteTask);
              if (this.firstByteTimeoutMs > 0) loop.scheduleAfter(firstByteTask, this.firstByteTimeoutMs);
            },
            onResponse: (flat) => {
              loop.cancel(firstByteTask);
              status = statusOf(flat);
              responseHeaders = toObject(flat, true);
              lastActivity = loop.now();
              if (this.readIdleTimeoutMs > 0 && !idleTask.isScheduled) loop.scheduleAfter(idleTask, this.readIdleTimeoutMs);
            },
            onData: (data, start, end) => {
              lastActivity = loop.now();
              chunks.push(Buffer.from(data.subarray(start, end)));
            },
            onTrailers: (flat) => {
              trailers = toObject(flat, false);
            },
            onClose: (error) => {
              stopTimers();
              call.attempt = null;
              if (error !== null) reject(error);
              else resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), trailers, attempts: attempt });
            },
          },
        });
        call.attempt = managed;
      } catch (error) {
        stopTimers();
        reject(error);
      }
    });
  }
}

function isRetryCandidate(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}
