/**
 * The HTTP/1.1 connection manager: a pool of keep-alive connections to one origin, one request
 * per connection at a time, in the manner of aws-c-http's `aws_http_connection_manager`.
 *
 * @module
 */
import {
  HostResolver,
  IoErrors,
  SluiceError,
  Task,
  TaskStatus,
  defaultEventLoopGroup,
  type EventLoop,
  type EventLoopGroup,
} from '../../lib/index.js';
import { checkRequiredOptions } from '../../lib/argument-checks.js';
import {
  connectHttp1,
  type Http1ClientConnection,
  type Http1ClientConnectionOptions,
  type Http1ClientStream,
  type Http1ClientStreamHandler,
} from '../http1/index.js';
import type { Http2ClientTlsOptions, Http2Headers } from '../http2/index.js';
import { SdkErrors } from './sdk-errors.js';
import {
  toSdkConnectError,
  type ManagedRequestOptions,
  type StreamManagerMetrics,
  type StreamManagerStream,
} from './stream-manager.js';

/** Http1ConnectionEvents are the callbacks a factory of pooled HTTP/1.1 connections must wire to each new connection's options. */
export interface Http1ConnectionEvents {
  /** The connection finished an exchange and may carry another (`Http1ClientConnectionOptions.onReusable`). */
  onReusable(): void;
  /** The connection closed (`Http1ClientConnectionOptions.onClose`). */
  onClose(error: SluiceError | null): void;
}

/**
 * Http1ConnectionFactory opens one HTTP/1.1 connection to the manager's origin. Its connection
 * must use manual window mode (`isManualWindow: true`): the manager returns credit itself.
 * @internal Tests and the ALPN probe hand connections over this way.
 */
export type Http1ConnectionFactory = (events: Http1ConnectionEvents) => Promise<Http1ClientConnection>;

/**
 * Http1PoolConnectionOptions are the options of each connection of an
 * {@link Http1ConnectionManager} (the HTTP/1.1 client connection's, as docs/http1.md describes
 * them; the manager sets the rest).
 */
export interface Http1PoolConnectionOptions {
  /** Send a held `Expect: 100-continue` body anyway after this many ms without an answer (1 s by default). */
  continueTimeoutMs?: number;
  /** Bytes the socket may deliver before the connection returns them (64 KiB by default, at least 1024). */
  readWindowSize?: number;
  /** Buffered request bytes above which a body `write` returns false (64 KiB by default). */
  highWaterMark?: number;
}

/** Options of an {@link Http1ConnectionManager}; see {@link HTTP1_CONNECTION_MANAGER_DEFAULTS}. */
export interface Http1ConnectionManagerOptions {
  /** The origin's host name or address. */
  host: string;
  /** The origin's port. */
  port: number;
  /** TLS with ALPN "http/1.1" (server name defaults to `host`); cleartext when absent. */
  tls?: Http2ClientTlsOptions;
  /** Options of each connection. */
  http1?: Http1PoolConnectionOptions;
  /** Loops for the connections' channels. */
  loopGroup?: EventLoopGroup;
  /** The loop the manager's timers run on; the group's next loop by default. */
  loop?: EventLoop;
  /** Resolves `host`; one on `loop`'s clock by default. */
  resolver?: HostResolver;
  /** @internal Opens connections; replaces the built-in connect (the ALPN probe hands its connection over this way). */
  connect?: Http1ConnectionFactory;
  /** Connections open or being set up at once; each carries one request at a time. */
  maxConnections?: number;
  /** Requests that may wait for a connection; more are refused with `SDK_TOO_MANY_PENDING_ACQUISITIONS`. */
  maxPendingAcquisitions?: number;
  /** A waiting request fails with `SDK_ACQUIRE_TIMEOUT` after this many ms; 0: never. */
  acquireTimeoutMs?: number;
  /** Close a keep-alive connection that carried no request for this many ms; 0: never. */
  idleTimeoutMs?: number;
  /** Times a request that provably never left (its connection closed before any byte of it was written) is sent again. */
  maxStreamRetries?: number;
  /** TCP connect timeout, ms; `SDK_CONNECT_TIMEOUT`. */
  connectTimeoutMs?: number;
  /** TLS handshake timeout, ms; `SDK_TLS_NEGOTIATION_TIMEOUT`. */
  tlsNegotiationTimeoutMs?: number;
}

/**
 * Defaults of {@link Http1ConnectionManagerOptions}: 8 connections, 10 000 waiting requests,
 * 10 s to get a connection, idle connections closed after 4 s — below the 5 s keep-alive
 * timeout of node:http and many servers, so the pool seldom picks a connection the server is
 * closing (undici's default is also 4 s) — 5 resends of unsent requests, 3 s TCP connect, 10 s
 * TLS handshake.
 */
export const HTTP1_CONNECTION_MANAGER_DEFAULTS = Object.freeze({
  /** 8 connections. */
  maxConnections: 8,
  /** 10 000 waiting requests. */
  maxPendingAcquisitions: 10_000,
  /** 10 s to get a connection. */
  acquireTimeoutMs: 10_000,
  /** Close connections idle for 4 s. */
  idleTimeoutMs: 4_000,
  /** 5 resends of requests that never left. */
  maxStreamRetries: 5,
  /** 3 s TCP connect. */
  connectTimeoutMs: 3_000,
  /** 10 s TLS handshake. */
  tlsNegotiationTimeoutMs: 10_000,
});

const RequestState = { QUEUED: 0, ACTIVE: 1, DONE: 2 } as const;
type RequestState = (typeof RequestState)[keyof typeof RequestState];

/**
 * Http1ManagedRequest is one request's handle in an {@link Http1ConnectionManager}: it waits for
 * an idle connection, is sent, and is sent again if its connection closed before any of it left.
 */
export class Http1ManagedRequest {
  /** Always `http/1.1`. */
  readonly protocol = 'http/1.1' as const;
  /** Times it was sent again because its connection closed before any of it was written. */
  retries = 0;
  /** @internal */
  _state: RequestState = RequestState.QUEUED;
  /** @internal */
  _stream: Http1ClientStream | null = null;
  /** @internal */
  _cancelError: SluiceError | null = null;
  /** @internal */
  _isRequestSent = false;
  /** @internal */
  readonly _acquireTask: Task;

  /** @internal Requests come from {@link Http1ConnectionManager.request}. */
  constructor(
    private readonly manager: Http1ConnectionManager,
    /** @internal */
    readonly _options: ManagedRequestOptions,
  ) {
    this._acquireTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.manager._expire(this);
    }, 'http1-acquire-timeout');
  }

  /** True once `onClose` was called. */
  get isDone(): boolean {
    return this._state === RequestState.DONE;
  }

  /**
   * True once some byte of the request may have reached the server (its head was written toward
   * a socket). While false, sending it again cannot repeat it, whatever its method.
   */
  get isRequestSent(): boolean {
    return this._isRequestSent;
  }

  /**
   * Cancels the request: a waiting one leaves the queue; a sent one closes its connection
   * (HTTP/1.1 cannot cancel one exchange alone); `onClose` gets `error`. Nothing once it is over.
   */
  cancel(error: SluiceError): void {
    this.manager._cancel(this, error);
  }
}

const ConnectionState = { CONNECTING: 0, IDLE: 1, BUSY: 2, CLOSED: 3 } as const;
type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** @internal One pooled connection. */
class PooledHttp1Connection implements Http1ConnectionEvents {
  state: ConnectionState = ConnectionState.CONNECTING;
  connection: Http1ClientConnection | null = null;
  readonly idleTask: Task;
  readonly whenClosed: Promise<void>;
  resolveClosed!: () => void;

  constructor(private readonly manager: Http1ConnectionManager) {
    this.whenClosed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.idleTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.manager._onIdleTimeout(this);
    }, 'http1-manager-idle');
  }

  onReusable(): void {
    this.manager._onReusable(this);
  }

  onClose(error: SluiceError | null): void {
    this.manager._onConnectionClosed(this, error);
  }
}

/**
 * Http1ConnectionManager sends requests to one origin over a pool of HTTP/1.1 keep-alive
 * connections, one request per connection at a time.
 *
 * - **Acquire**: a request goes to the most recently used idle connection (so the others go
 *   idle long enough to be culled); without one, a connection is opened while fewer than
 *   `maxConnections` are open or being set up; otherwise it waits in a FIFO queue (at most
 *   `maxPendingAcquisitions`, each at most `acquireTimeoutMs`).
 * - **Reuse**: a connection both sides kept alive takes the next waiting request at once.
 * - **Cull**: a connection idle for `idleTimeoutMs` is closed.
 * - **Resend unsent**: a request whose connection closed before any byte of it was written
 *   (typically a keep-alive connection the server closed as the request was put on it) is sent
 *   again on another connection, up to `maxStreamRetries` times, whatever its method. A request
 *   that may have reached the server fails with the connection's error; its handle's
 *   `isRequestSent` tells the caller (the {@link Client} then retries only idempotent methods).
 * - **Close**: waiting requests fail with `SDK_MANAGER_CLOSED`, in-flight exchanges finish,
 *   every connection closes.
 *
 * Requests use the HTTP/2 shape of the stream manager (a flat header list with `:method`,
 * `:path`, `:authority`; responses report `:status` first), so one caller serves both versions.
 */
export class Http1ConnectionManager {
  /** The loop the manager's timers run on. */
  readonly loop: EventLoop;
  private readonly options: Http1ConnectionManagerOptions;
  private readonly maxConnections: number;
  private readonly maxPendingAcquisitions: number;
  private readonly acquireTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxStreamRetries: number;
  private readonly resolver: HostResolver;
  private readonly connectionFactory: Http1ConnectionFactory;
  private readonly connections: PooledHttp1Connection[] = [];
  /** Idle connections, the most recently used last. */
  private readonly idle: PooledHttp1Connection[] = [];
  private readonly queue: Http1ManagedRequest[] = [];
  private isClosed = false;
  private isDispatching = false;
  private counters = {
    streamsRetried: 0,
    connectionsOpened: 0,
    connectFailures: 0,
    connectionsCulled: 0,
  };

  /** Creates a manager; no connection is opened until the first request. Throws `IO_INVALID_OPTIONS` for bad limits. */
  constructor(options: Http1ConnectionManagerOptions) {
    checkRequiredOptions(options, 'new Http1ConnectionManager');
    const defaults = HTTP1_CONNECTION_MANAGER_DEFAULTS;
    this.options = options;
    this.loop = options.loop ?? (options.loopGroup ?? defaultEventLoopGroup()).next();
    this.maxConnections = options.maxConnections ?? defaults.maxConnections;
    this.maxPendingAcquisitions = options.maxPendingAcquisitions ?? defaults.maxPendingAcquisitions;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? defaults.acquireTimeoutMs;
    this.idleTimeoutMs = options.idleTimeoutMs ?? defaults.idleTimeoutMs;
    this.maxStreamRetries = options.maxStreamRetries ?? defaults.maxStreamRetries;
    if (!(this.maxConnections >= 1) || !(this.maxPendingAcquisitions >= 0)) {
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        'maxConnections must be at least 1, maxPendingAcquisitions 0 or more',
      );
    }
    this.resolver = options.resolver ?? new HostResolver({ clock: this.loop.clock });
    this.connectionFactory = options.connect ?? ((events) => this.connectDefault(events));
  }

  /** A snapshot of the pool (the stream manager's shape: a "stream" is an exchange; GOAWAY and PING counters stay 0). */
  get metrics(): StreamManagerMetrics {
    let open = 0;
    let connecting = 0;
    let active = 0;
    for (const pooled of this.connections) {
      if (pooled.state === ConnectionState.CONNECTING) connecting++;
      else if (pooled.state !== ConnectionState.CLOSED) open++;
      if (pooled.state === ConnectionState.BUSY) active++;
    }
    return {
      connectionsOpen: open,
      connectionsConnecting: connecting,
      streamsActive: active,
      streamsQueued: this.queue.length,
      streamsRetried: this.counters.streamsRetried,
      connectionsOpened: this.counters.connectionsOpened,
      connectFailures: this.counters.connectFailures,
      goawaysReceived: 0,
      connectionsCulled: this.counters.connectionsCulled,
      connectionsDead: 0,
      maxStreamsPerConnection: this.counters.connectionsOpened > 0 ? 1 : 0,
    };
  }

  /**
   * Queues a request; it is sent as soon as a connection is idle (at once when one is). Throws
   * `SDK_MANAGER_CLOSED` after `close()` and `SDK_TOO_MANY_PENDING_ACQUISITIONS` when the queue
   * is full.
   */
  request(options: ManagedRequestOptions): Http1ManagedRequest {
    if (this.isClosed) throw new SluiceError(SdkErrors.MANAGER_CLOSED);
    if (this.queue.length >= this.maxPendingAcquisitions && this.idle.length === 0) {
      throw new SluiceError(
        SdkErrors.TOO_MANY_PENDING_ACQUISITIONS,
        `${SdkErrors.TOO_MANY_PENDING_ACQUISITIONS.message} (${this.maxPendingAcquisitions})`,
      );
    }
    const request = new Http1ManagedRequest(this, options);
    this.queue.push(request);
    if (this.acquireTimeoutMs > 0) this.loop.scheduleAfter(request._acquireTask, this.acquireTimeoutMs);
    this.dispatch();
    return request;
  }

  /**
   * Closes the pool: waiting requests fail with `SDK_MANAGER_CLOSED`, in-flight exchanges
   * finish, then every connection closes. Resolves once all have closed.
   */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      for (const request of this.queue.splice(0)) this.finish(request, new SluiceError(SdkErrors.MANAGER_CLOSED));
      for (const pooled of this.connections) this.closeConnection(pooled);
    }
    await Promise.all(this.connections.map((pooled) => pooled.whenClosed));
  }

  // ------------------------------------------------------------------ decisions

  private dispatch(): void {
    if (this.isDispatching) return;
    this.isDispatching = true;
    try {
      while (this.queue.length > 0 && this.idle.length > 0) {
        const pooled = this.idle.pop()!;
        this.send(this.queue.shift()!, pooled);
      }
      if (this.isClosed) return;
      let connecting = 0;
      let live = 0;
      for (const pooled of this.connections) {
        if (pooled.state === ConnectionState.CONNECTING) connecting++;
        if (pooled.state !== ConnectionState.CLOSED) live++;
      }
      while (this.queue.length > connecting && live < this.maxConnections) {
        this.openConnection();
        connecting++;
        live++;
      }
    } finally {
      this.isDispatching = false;
    }
  }

  private openConnection(): void {
    const pooled = new PooledHttp1Connection(this);
    this.connections.push(pooled);
    this.connectionFactory(pooled).then(
      (connection) => {
        if (pooled.state === ConnectionState.CLOSED) {
          // It closed before it was handed over: open another for the waiting requests.
          this.dispatch();
          return;
        }
        pooled.connection = connection;
        this.counters.connectionsOpened++;
        if (this.isClosed || !connection.isReusable) {
          this.closeConnection(pooled);
          return;
        }
        this.becomeIdle(pooled);
        this.dispatch();
      },
      (error: unknown) => {
        this.counters.connectFailures++;
        this.remove(pooled);
        pooled.state = ConnectionState.CLOSED;
        pooled.resolveClosed();
        // With nothing left that could take them, waiting requests fail now (they never left:
        // the caller may retry them whatever their method).
        if (this.liveCount() === 0) {
          const failure = error instanceof SluiceError ? error : toSdkConnectError(error);
          for (const request of this.queue.splice(0)) this.finish(request, failure);
        }
        this.dispatch();
      },
    );
  }

  private liveCount(): number {
    let live = 0;
    for (const pooled of this.connections) if (pooled.state !== ConnectionState.CLOSED) live++;
    return live;
  }

  private send(request: Http1ManagedRequest, pooled: PooledHttp1Connection): void {
    this.loop.cancel(request._acquireTask);
    this.loop.cancel(pooled.idleTask);
    request._state = RequestState.ACTIVE;
    pooled.state = ConnectionState.BUSY;
    const options = request._options;
    const body = options.body ?? null;
    const hasBody = options.writeBody !== undefined || (body !== null && body.length > 0);
    const head = toHttp1Head(options.headers);
    let stream: Http1ClientStream;
    try {
      stream = pooled.connection!.request(head.method, head.target, head.fields, {
        isEndStream: !hasBody,
        handler: exchangeHandler(this, request, pooled),
      });
    } catch (error) {
      // Nothing was sent: a bad request fails; a connection that cannot carry it is dropped and
      // the request waits for another.
      const failure = error instanceof SluiceError ? error : new SluiceError(IoErrors.INVALID_OPTIONS, String(error));
      if (pooled.connection!.isReusable) {
        this.becomeIdle(pooled);
        this.finish(request, failure);
      } else {
        this.closeConnection(pooled);
        request._state = RequestState.QUEUED;
        this.queue.unshift(request);
      }
      this.dispatch();
      return;
    }
    request._stream = stream;
    options.handler.onStreamAssigned?.(streamAdapter(stream, options.isManualWindow === true));
    if (!hasBody || request._state !== RequestState.ACTIVE || stream.isClosed) return;
    if (options.writeBody !== undefined) {
      options.writeBody(streamAdapter(stream, options.isManualWindow === true));
    } else {
      stream.write(body!);
      stream.end();
    }
  }

  /** @internal The exchange of `request` on `pooled` closed. */
  _onExchangeClosed(request: Http1ManagedRequest, pooled: PooledHttp1Connection, error: SluiceError | null): void {
    const stream = request._stream;
    request._stream = null;
    const wasSent = stream !== null && stream.isRequestStarted;
    if (wasSent) request._isRequestSent = true;
    if (
      error !== null &&
      !wasSent &&
      request._cancelError === null &&
      request.retries < this.maxStreamRetries &&
      !this.isClosed &&
      request._state === RequestState.ACTIVE
    ) {
      request.retries++;
      this.counters.streamsRetried++;
      request._state = RequestState.QUEUED;
      this.queue.unshift(request);
    } else {
      this.finish(request, request._cancelError ?? error);
    }
    // After a whole exchange the connection reports onReusable next (or closes): dispatching
    // now would open a connection for a request that one is about to take.
    if (error === null) return;
    if (pooled.state === ConnectionState.BUSY) pooled.state = ConnectionState.CLOSED;
    this.dispatch();
  }

  private finish(request: Http1ManagedRequest, error: SluiceError | null): void {
    if (request._state === RequestState.DONE) return;
    request._state = RequestState.DONE;
    this.loop.cancel(request._acquireTask);
    request._options.handler.onClose(error);
  }

  private becomeIdle(pooled: PooledHttp1Connection): void {
    pooled.state = ConnectionState.IDLE;
    this.idle.push(pooled);
    this.loop.cancel(pooled.idleTask);
    if (this.idleTimeoutMs > 0) this.loop.scheduleAfter(pooled.idleTask, this.idleTimeoutMs);
  }

  private closeConnection(pooled: PooledHttp1Connection): void {
    this.loop.cancel(pooled.idleTask);
    const index = this.idle.indexOf(pooled);
    if (index >= 0) this.idle.splice(index, 1);
    // close() waits for the exchange in flight, if any.
    pooled.connection?.close();
  }

  private remove(pooled: PooledHttp1Connection): void {
    const index = this.connections.indexOf(pooled);
    if (index >= 0) this.connections.splice(index, 1);
    const idleIndex = this.idle.indexOf(pooled);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
  }

  private connectDefault(events: Http1ConnectionEvents): Promise<Http1ClientConnection> {
    return connectPooledHttp1(this.options, this.resolver, events);
  }

  // ------------------------------------------------------------------ events (internal)

  /** @internal The connection kept alive after an exchange: it takes the next waiting request. */
  _onReusable(pooled: PooledHttp1Connection): void {
    if (pooled.state === ConnectionState.CLOSED) return;
    if (this.isClosed) {
      this.closeConnection(pooled);
      return;
    }
    this.becomeIdle(pooled);
    this.dispatch();
  }

  /** @internal The connection's channel shut down. */
  _onConnectionClosed(pooled: PooledHttp1Connection, _error: SluiceError | null): void {
    pooled.state = ConnectionState.CLOSED;
    this.loop.cancel(pooled.idleTask);
    this.remove(pooled);
    pooled.resolveClosed();
    // A connection that closes while being set up reports through the factory's rejection.
    if (pooled.connection !== null) this.dispatch();
  }

  /** @internal An idle connection's timer fired: cull it. */
  _onIdleTimeout(pooled: PooledHttp1Connection): void {
    if (pooled.state !== ConnectionState.IDLE) return;
    this.counters.connectionsCulled++;
    this.closeConnection(pooled);
  }

  /** @internal A waiting request's acquire timeout fired. */
  _expire(request: Http1ManagedRequest): void {
    const index = this.queue.indexOf(request);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.finish(
      request,
      new SluiceError(SdkErrors.ACQUIRE_TIMEOUT, `no connection became available within ${this.acquireTimeoutMs} ms`),
    );
  }

  /** @internal See {@link Http1ManagedRequest.cancel}. */
  _cancel(request: Http1ManagedRequest, error: SluiceError): void {
    if (request._state === RequestState.DONE) return;
    request._cancelError = error;
    if (request._state === RequestState.QUEUED) {
      const index = this.queue.indexOf(request);
      if (index >= 0) this.queue.splice(index, 1);
      this.finish(request, error);
      return;
    }
    const stream = request._stream;
    if (stream !== null && !stream.isClosed) stream.reset(error);
    else this.finish(request, error);
  }
}

/** The connection options the manager gives each connection: the caller's, with its events and manual credit. */
export function http1ConnectionOptions(
  options: Pick<Http1ConnectionManagerOptions, 'http1'>,
  events: Http1ConnectionEvents,
): Http1ClientConnectionOptions {
  return {
    ...options.http1,
    isManualWindow: true,
    onReusable: () => events.onReusable(),
    onClose: (_connection, error) => events.onClose(error),
  };
}

/** An HTTP/1.1 request head from the stream manager's flat HTTP/2-style list. */
function toHttp1Head(headers: Http2Headers): { method: string; target: string; fields: string[] } {
  let method = 'GET';
  let target = '/';
  let authority: string | null = null;
  const fields: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (name.charCodeAt(0) !== 0x3a) fields.push(name, value);
    else if (name === ':method') method = value;
    else if (name === ':path') target = value;
    else if (name === ':authority') authority = value;
  }
  // RFC 9112 §3.2: Host first, from :authority (RFC 9113 §8.3.1), unless the caller gave one.
  if (authority !== null && !hasField(fields, 'host')) fields.unshift('host', authority);
  return { method, target, fields };
}

function hasField(fields: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if (fields[i].toLowerCase() === lowerName) return true;
  return false;
}

/** Received HTTP/1.1 fields as the stream manager reports them: lowercase names, `:status` first for a head. */
function toHttp2Fields(fields: readonly string[], status: number): Http2Headers {
  const flat: string[] = status > 0 ? [':status', String(status)] : [];
  for (let i = 0; i + 1 < fields.length; i += 2) flat.push(fields[i].toLowerCase(), fields[i + 1]);
  return flat;
}

/** The exchange's callbacks: HTTP/1.1 events in the stream manager's shape, credit returned unless the reader is manual. */
function exchangeHandler(
  manager: Http1ConnectionManager,
  request: Http1ManagedRequest,
  pooled: PooledHttp1Connection,
): Http1ClientStreamHandler {
  const handler = request._options.handler;
  const isManual = request._options.isManualWindow === true;
  return {
    onResponse: (_stream, status, fields) => {
      request._isRequestSent = true;
      handler.onResponse?.(toHttp2Fields(fields, status), false);
    },
    onData: (stream, data, start, end) => {
      handler.onData?.(data, start, end);
      if (!isManual) stream.updateWindow(end - start);
    },
    onTrailers: (_stream, trailers) => handler.onTrailers?.(toHttp2Fields(trailers, 0)),
    onClose: (_stream, error) => manager._onExchangeClosed(request, pooled, error),
  };
}

/** The stream manager's stream interface over one HTTP/1.1 exchange. */
function streamAdapter(stream: Http1ClientStream, isManual: boolean): StreamManagerStream {
  return {
    write: (chunk, callback) => stream.write(chunk, callback),
    end: (trailers, callback) => stream.end(trailers === undefined ? null : trailers.slice(), callback),
    reset: () => stream.reset(),
    updateWindow: isManual ? (size) => stream.updateWindow(size) : () => {},
  };
}

/**
 * Opens one HTTP/1.1 connection as the manager does (to the address `resolver` gives; TLS with
 * ALPN "http/1.1" when `options.tls`), with `events` wired and manual credit. Rejects with the
 * transport's error, timeouts as `SDK_CONNECT_TIMEOUT`/`SDK_TLS_NEGOTIATION_TIMEOUT`.
 */
export async function connectPooledHttp1(
  options: Http1ConnectionManagerOptions,
  resolver: HostResolver,
  events: Http1ConnectionEvents,
): Promise<Http1ClientConnection> {
  const defaults = HTTP1_CONNECTION_MANAGER_DEFAULTS;
  const target = await resolver.resolveOne(options.host).catch((error: unknown) => {
    throw toSdkConnectError(error);
  });
  try {
    const direct: Parameters<typeof connectHttp1>[0] = {
      host: target.address,
      port: options.port,
      http1: http1ConnectionOptions(options, events),
      socketOptions: { connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs },
    };
    if (options.tls !== undefined) {
      direct.tls = {
        servername: options.host,
        negotiationTimeoutMs: options.tlsNegotiationTimeoutMs ?? defaults.tlsNegotiationTimeoutMs,
        ...options.tls,
      };
    }
    if (options.loopGroup !== undefined) direct.loopGroup = options.loopGroup;
    const connection = await connectHttp1(direct);
    resolver.recordConnectionSuccess(options.host, target.address);
    return connection;
  } catch (error) {
    resolver.recordConnectionFailure(options.host, target.address);
    throw toSdkConnectError(error);
  }
}
