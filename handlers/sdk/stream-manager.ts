/**
 * The HTTP/2 stream manager: a pool of HTTP/2 connections to one origin that hands out
 * streams, in the manner of aws-c-http's `aws_http2_stream_manager`.
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
import {
  ErrorCode,
  Http2ApiErrors,
  connectHttp2,
  type Http2ClientTlsOptions,
  type Http2ConnectionOptions,
  type Http2Headers,
  type Http2RequestOptions,
  type Http2StreamFailure,
} from '../http2/index.js';
import { TlsErrors } from '../tls/index.js';
import { connectHttp2ViaProxy, type ProxyOptions } from './proxy-tunnel.js';
import { SdkErrors } from './sdk-errors.js';
import { checkRequiredOptions } from '../../lib/argument-checks.js';

/** StreamManagerStream is what the manager uses of a stream: an {@link Http2Stream} satisfies it. */
export interface StreamManagerStream {
  /** Queues body bytes (see `Http2Stream.write`). */
  write(chunk: Uint8Array, callback?: (error: Http2StreamFailure | null) => void): boolean;
  /** Ends our side (see `Http2Stream.end`). */
  end(trailers?: Http2Headers, callback?: (error: Http2StreamFailure | null) => void): void;
  /** Resets the stream (see `Http2Stream.reset`). */
  reset(errorCode?: number): void;
  /** Returns receive credit in manual window mode (see `Http2Stream.updateWindow`); fakes without it are never manual. */
  updateWindow?(size: number): void;
}

/**
 * StreamManagerConnection is what the manager uses of a connection: an
 * `Http2ClientConnection` satisfies it; tests give fakes.
 */
export interface StreamManagerConnection {
  /** The peer's settings; `maxConcurrentStreams` bounds the streams the manager puts on it. */
  readonly peerSettings: {
    /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS: streams we may open at once. */
    readonly maxConcurrentStreams: number;
  };
  /** Opens a stream (see `Http2ClientConnection.request`). */
  request(headers: Http2Headers, options: Http2RequestOptions): StreamManagerStream;
  /** Sends a PING (see `Http2Connection.ping`). */
  ping(callback: (error: SluiceError | null, rttMs: number) => void): void;
  /** Closes gracefully: in-flight streams finish. */
  close(): Promise<SluiceError | null>;
  /** Ends the connection now: GOAWAY(`errorCode`); each open stream's `onClose` gets an error. */
  abort(errorCode?: number, message?: string): void;
}

/** ConnectionEvents are the connection callbacks a {@link StreamManagerConnectionFactory} must wire to the new connection. */
export interface ConnectionEvents {
  /** The peer's SETTINGS arrived (the connection is usable from the first one on). */
  onRemoteSettings(): void;
  /** The peer sent GOAWAY. */
  onGoaway(): void;
  /** The connection's channel has shut down. */
  onClose(error: SluiceError | null): void;
}

/** StreamManagerConnectionFactory opens one connection to the manager's origin. */
export type StreamManagerConnectionFactory = (events: ConnectionEvents) => Promise<StreamManagerConnection>;

/** Options of an {@link Http2StreamManager}; see {@link STREAM_MANAGER_DEFAULTS}. */
export interface Http2StreamManagerOptions {
  /** The origin's host name or address. */
  host: string;
  /** The origin's port. */
  port: number;
  /** TLS with ALPN "h2" (server name defaults to `host`); h2c with prior knowledge when absent. */
  tls?: Http2ClientTlsOptions;
  /** Tunnel every connection through this HTTP CONNECT proxy. */
  proxy?: ProxyOptions | null;
  /** Options of each connection (the manager sets `onRemoteSettings`, `onGoaway` and `onClose`). */
  http2?: Http2ConnectionOptions;
  /** Loops for the connections' channels. */
  loopGroup?: EventLoopGroup;
  /** The loop the manager's timers run on (a virtual loop in tests); the group's next loop by default. */
  loop?: EventLoop;
  /** Resolves `host` (rotation, failed addresses last); one on `loop`'s clock by default. */
  resolver?: HostResolver;
  /** Opens connections; replaces the built-in socket/proxy/TLS/HTTP/2 connect (tests give fakes). */
  connect?: StreamManagerConnectionFactory;
  /** Connections open at once (connections draining after GOAWAY do not count). */
  maxConnections?: number;
  /** Streams per connection before another connection is opened (bounded by the peer's MAX_CONCURRENT_STREAMS). */
  idealConcurrency?: number;
  /** Requests that may wait for a stream; more are refused with `SDK_TOO_MANY_PENDING_ACQUISITIONS`. */
  maxPendingAcquisitions?: number;
  /** A waiting request fails with `SDK_ACQUIRE_TIMEOUT` after this many ms; 0: never. */
  acquireTimeoutMs?: number;
  /** PING a connection without streams every this many ms; 0: never. */
  idlePingIntervalMs?: number;
  /**
   * A PING unanswered after this many ms drops the connection; requests already sent on it fail
   * with `SDK_CONNECTION_DEAD`.
   */
  pingTimeoutMs?: number;
  /** Close a connection that had no streams for this many ms; 0: never. */
  idleTimeoutMs?: number;
  /** Times a request refused retryably (REFUSED_STREAM, above a GOAWAY's last stream id) is sent again on another connection. */
  maxStreamRetries?: number;
  /** TCP connect timeout (and, through a proxy, the wait for its answer), ms; `SDK_CONNECT_TIMEOUT`. */
  connectTimeoutMs?: number;
  /** TLS handshake timeout, ms; `SDK_TLS_NEGOTIATION_TIMEOUT`. */
  tlsNegotiationTimeoutMs?: number;
}

/**
 * Defaults of {@link Http2StreamManagerOptions}: 8 connections, 100 streams per connection
 * before another opens, 10 000 waiting requests, 10 s to get a stream, a PING every 30 s on
 * idle connections (5 s to answer), idle connections closed after 60 s, 5 transparent retries
 * of refused streams, 3 s TCP connect, 10 s TLS handshake.
 */
export const STREAM_MANAGER_DEFAULTS = Object.freeze({
  /** 8 connections. */
  maxConnections: 8,
  /** 100 streams per connection before opening another. */
  idealConcurrency: 100,
  /** 10 000 waiting requests. */
  maxPendingAcquisitions: 10_000,
  /** 10 s to get a stream. */
  acquireTimeoutMs: 10_000,
  /** PING idle connections every 30 s. */
  idlePingIntervalMs: 30_000,
  /** 5 s to answer a PING. */
  pingTimeoutMs: 5_000,
  /** Close connections idle for 60 s. */
  idleTimeoutMs: 60_000,
  /** 5 transparent retries of refused streams. */
  maxStreamRetries: 5,
  /** 3 s TCP connect. */
  connectTimeoutMs: 3_000,
  /** 10 s TLS handshake. */
  tlsNegotiationTimeoutMs: 10_000,
});

/** StreamManagerMetrics is a snapshot of an {@link Http2StreamManager}'s state and counters. */
export interface StreamManagerMetrics {
  /** Connections set up and not yet closed (draining ones included). */
  readonly connectionsOpen: number;
  /** Connections being set up. */
  readonly connectionsConnecting: number;
  /** Streams in flight. */
  readonly streamsActive: number;
  /** Requests waiting for a stream. */
  readonly streamsQueued: number;
  /** Requests sent again after a retryable refusal (REFUSED_STREAM, GOAWAY). */
  readonly streamsRetried: number;
  /** Connections set up since the start. */
  readonly connectionsOpened: number;
  /** Connection attempts that failed. */
  readonly connectFailures: number;
  /** GOAWAYs received (each makes the manager replace that connection). */
  readonly goawaysReceived: number;
  /** Connections closed for being idle. */
  readonly connectionsCulled: number;
  /** Connections dropped for not answering a PING. */
  readonly connectionsDead: number;
  /** The most streams any one connection carried at once. */
  readonly maxStreamsPerConnection: number;
}

/**
 * ManagedStreamHandler receives one request's events, on the connection's loop. A request
 * refused retryably is sent again without telling the handler (only `onStreamAssigned` fires
 * again); `onClose` is called exactly once, last.
 */
export interface ManagedStreamHandler {
  /** The request was put on `stream` (again, after a transparent retry). */
  onStreamAssigned?(stream: StreamManagerStream): void;
  /** Final response headers. */
  onResponse?(headers: Http2Headers, isEndStream: boolean): void;
  /** Body bytes `data[start..end)`, valid only during the call. */
  onData?(data: Uint8Array, start: number, end: number): void;
  /** Trailers. */
  onTrailers?(headers: Http2Headers): void;
  /** The request is over: null after a complete response, else why it failed. */
  onClose(error: SluiceError | null): void;
}

/** Options of one request through an {@link Http2StreamManager}. */
export interface ManagedRequestOptions {
  /** The request's flat header list, pseudo-headers first. */
  headers: Http2Headers;
  /** The body, sent whole (kept so the request can be sent again); none when absent. */
  body?: Uint8Array | null;
  /**
   * Writes the body itself, instead of `body`: called on each send with the new stream, after
   * `onStreamAssigned`; it must end the stream (or reset it) when done.
   */
  writeBody?: (stream: StreamManagerStream) => void;
  /**
   * False when the body cannot be sent again (a one-shot stream given to `writeBody`): the
   * request is then never resent after a retryable refusal — it fails with the refusal. True
   * by default.
   */
  isReplayable?: boolean;
  /** Return receive credit with `stream.updateWindow` as the body is consumed (a streaming reader). */
  isManualWindow?: boolean;
  /** The request's callbacks. */
  handler: ManagedStreamHandler;
}

const RequestState = { QUEUED: 0, ACTIVE: 1, DONE: 2 } as const;
type RequestState = (typeof RequestState)[keyof typeof RequestState];

/**
 * ManagedRequest is one request's handle in an {@link Http2StreamManager}: it waits for a
 * stream, is sent, and may be sent again after a retryable refusal.
 */
export class ManagedRequest {
  /** Times it was sent again after a retryable refusal. */
  retries = 0;
  /** @internal */
  _state: RequestState = RequestState.QUEUED;
  /** @internal The stream of the current attempt. */
  _stream: StreamManagerStream | null = null;
  /** @internal The connection of the current (or refused) attempt. */
  _connection: PooledConnection | null = null;
  /** @internal Final headers of the current attempt arrived. */
  _hasResponse = false;
  /** @internal The error `cancel` was given. */
  _cancelError: SluiceError | null = null;
  /** @internal */
  readonly _acquireTask: Task;

  /** @internal Requests come from {@link Http2StreamManager.request}. */
  constructor(
    private readonly manager: Http2StreamManager,
    /** @internal */
    readonly _options: ManagedRequestOptions,
  ) {
    this._acquireTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.manager._expire(this);
    }, 'stream-acquire-timeout');
  }

  /** True once `onClose` was called. */
  get isDone(): boolean {
    return this._state === RequestState.DONE;
  }

  /**
   * Cancels the request: a waiting one leaves the queue, a sent one is reset
   * (RST_STREAM(CANCEL)); `onClose` gets `error`. Does nothing once the request is over.
   */
  cancel(error: SluiceError): void {
    this.manager._cancel(this, error);
  }
}

let nextConnectionId = 1;

const ConnectionState = { CONNECTING: 0, READY: 1, DRAINING: 2, CLOSED: 3 } as const;
type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** @internal One pooled connection and the manager's bookkeeping for it. */
class PooledConnection implements ConnectionEvents {
  readonly id = nextConnectionId++;
  state: ConnectionState = ConnectionState.CONNECTING;
  connection: StreamManagerConnection | null = null;
  hasSettings = false;
  streams = 0;
  idleSince = 0;
  nextPingAt = Infinity;
  isPingOutstanding = false;
  /** The manager dropped it for an unanswered PING: its streams' failures become `SDK_CONNECTION_DEAD`. */
  isDead = false;
  readonly idleTask: Task;
  readonly pingTimeoutTask: Task;
  readonly whenClosed: Promise<void>;
  resolveClosed!: () => void;

  constructor(private readonly manager: Http2StreamManager) {
    this.whenClosed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.idleTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.manager._onIdleCheck(this);
    }, 'stream-manager-idle');
    this.pingTimeoutTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.manager._onPingTimeout(this);
    }, 'stream-manager-ping-timeout');
  }

  /** Being set up: connecting, or connected and waiting for the peer's first SETTINGS. */
  get isSettingUp(): boolean {
    return this.state === ConnectionState.CONNECTING || (this.state === ConnectionState.READY && !this.hasSettings);
  }

  get isUsable(): boolean {
    return this.state === ConnectionState.READY && this.hasSettings && this.connection !== null;
  }

  onRemoteSettings(): void {
    this.hasSettings = true;
    this.manager._onConnectionChanged(this);
  }

  onGoaway(): void {
    this.manager._onGoaway(this);
  }

  onClose(error: SluiceError | null): void {
    this.manager._onConnectionClosed(this, error);
  }
}

/**
 * Http2StreamManager hands out HTTP/2 streams to one origin over a pool of connections.
 *
 * - **Open**: a connection is opened when the queue holds more requests than the connections
 *   being set up can take at `idealConcurrency` each, up to `maxConnections`.
 * - **Spread**: a request goes to the usable connection with the fewest streams, below
 *   `min(idealConcurrency, peer MAX_CONCURRENT_STREAMS)`; once no more connections may be
 *   opened, connections are filled up to the peer's MAX_CONCURRENT_STREAMS.
 * - **Queue**: beyond that, requests wait (at most `maxPendingAcquisitions`, each at most
 *   `acquireTimeoutMs`).
 * - **Replace on GOAWAY**: a connection that received GOAWAY takes no new streams; its
 *   in-flight streams finish and new requests go to a fresh connection.
 * - **Retry**: a request refused retryably (REFUSED_STREAM, or above a GOAWAY's last stream
 *   id — the server never processed it) is sent again on another connection, up to
 *   `maxStreamRetries` times, without the caller noticing — unless its body is one-shot
 *   (`isReplayable: false`): it then fails with the refusal.
 * - **Ping and cull**: a connection without streams is PINGed every `idlePingIntervalMs` and
 *   closed after `idleTimeoutMs`. When the answer takes longer than `pingTimeoutMs` the
 *   connection is dropped: requests sent on it meanwhile fail with `SDK_CONNECTION_DEAD`
 *   (the HTTP/2 error is the cause); waiting requests go to another connection.
 *
 * All work happens on `loop` and the connections' loops (one thread); no locking.
 *
 * @example
 * ```ts
 * const manager = new Http2StreamManager({ host: 'localhost', port: 8443, tls: { ca } });
 * manager.request({
 *   headers: [':method', 'GET', ':scheme', 'https', ':authority', 'localhost:8443', ':path', '/'],
 *   handler: { onResponse: (headers) => console.log(headers), onClose: (error) => console.log(error?.code ?? 'done') },
 * });
 * ```
 */
export class Http2StreamManager {
  /** The loop the manager's timers run on. */
  readonly loop: EventLoop;
  private readonly options: Http2StreamManagerOptions;
  private readonly maxConnections: number;
  private readonly idealConcurrency: number;
  private readonly maxPendingAcquisitions: number;
  private readonly acquireTimeoutMs: number;
  private readonly idlePingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxStreamRetries: number;
  private readonly resolver: HostResolver;
  private readonly connectionFactory: StreamManagerConnectionFactory;
  private readonly connections: PooledConnection[] = [];
  private readonly queue: ManagedRequest[] = [];
  private isClosed = false;
  private isDispatching = false;
  private counters = {
    streamsRetried: 0,
    connectionsOpened: 0,
    connectFailures: 0,
    goawaysReceived: 0,
    connectionsCulled: 0,
    connectionsDead: 0,
    maxStreamsPerConnection: 0,
  };

  /** Creates a manager; no connection is opened until the first request. */
  constructor(options: Http2StreamManagerOptions) {
    checkRequiredOptions(options, 'new Http2StreamManager');
    this.options = options;
    this.loop = options.loop ?? (options.loopGroup ?? defaultEventLoopGroup()).next();
    this.maxConnections = options.maxConnections ?? STREAM_MANAGER_DEFAULTS.maxConnections;
    this.idealConcurrency = options.idealConcurrency ?? STREAM_MANAGER_DEFAULTS.idealConcurrency;
    this.maxPendingAcquisitions = options.maxPendingAcquisitions ?? STREAM_MANAGER_DEFAULTS.maxPendingAcquisitions;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? STREAM_MANAGER_DEFAULTS.acquireTimeoutMs;
    this.idlePingIntervalMs = options.idlePingIntervalMs ?? STREAM_MANAGER_DEFAULTS.idlePingIntervalMs;
    this.pingTimeoutMs = options.pingTimeoutMs ?? STREAM_MANAGER_DEFAULTS.pingTimeoutMs;
    this.idleTimeoutMs = options.idleTimeoutMs ?? STREAM_MANAGER_DEFAULTS.idleTimeoutMs;
    this.maxStreamRetries = options.maxStreamRetries ?? STREAM_MANAGER_DEFAULTS.maxStreamRetries;
    if (!(this.maxConnections >= 1) || !(this.idealConcurrency >= 1)) {
      throw new SluiceError(IoErrors.INVALID_OPTIONS, 'maxConnections and idealConcurrency must be at least 1');
    }
    this.resolver = options.resolver ?? new HostResolver({ clock: this.loop.clock });
    this.connectionFactory = options.connect ?? ((events) => this.connectDefault(events));
  }

  /** A snapshot of the pool's state and counters. */
  get metrics(): StreamManagerMetrics {
    let open = 0;
    let connecting = 0;
    let active = 0;
    for (const pooled of this.connections) {
      if (pooled.isSettingUp) connecting++;
      else if (pooled.state !== ConnectionState.CLOSED) open++;
      active += pooled.streams;
    }
    return {
      connectionsOpen: open,
      connectionsConnecting: connecting,
      streamsActive: active,
      streamsQueued: this.queue.length,
      ...this.counters,
    };
  }

  /**
   * Queues a request; it is sent as soon as a connection has room (on a later turn at the
   * earliest). Throws `SDK_MANAGER_CLOSED` after `close()` and
   * `SDK_TOO_MANY_PENDING_ACQUISITIONS` when the queue is full.
   */
  request(options: ManagedRequestOptions): ManagedRequest {
    if (this.isClosed) throw new SluiceError(SdkErrors.MANAGER_CLOSED);
    if (this.queue.length >= this.maxPendingAcquisitions) {
      throw new SluiceError(
        SdkErrors.TOO_MANY_PENDING_ACQUISITIONS,
        `${SdkErrors.TOO_MANY_PENDING_ACQUISITIONS.message} (${this.maxPendingAcquisitions})`,
      );
    }
    const request = new ManagedRequest(this, options);
    this.queue.push(request);
    if (this.acquireTimeoutMs > 0) this.loop.scheduleAfter(request._acquireTask, this.acquireTimeoutMs);
    this.dispatch();
    return request;
  }

  /**
   * Closes the pool: waiting requests fail with `SDK_MANAGER_CLOSED`, in-flight streams
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

  private idealOf(pooled: PooledConnection): number {
    return Math.min(this.idealConcurrency, pooled.connection!.peerSettings.maxConcurrentStreams);
  }

  private limitOf(pooled: PooledConnection): number {
    return pooled.connection!.peerSettings.maxConcurrentStreams;
  }

  /** Connections that count toward `maxConnections`: being set up or usable (not draining). */
  private liveCount(): number {
    let count = 0;
    for (const pooled of this.connections)
      if (pooled.state === ConnectionState.CONNECTING || pooled.state === ConnectionState.READY) count++;
    return count;
  }

  /** The usable connection other than `exclude` with the fewest streams below `capacity`, or null. */
  private leastLoaded(
    capacity: (pooled: PooledConnection) => number,
    exclude: PooledConnection | null,
  ): PooledConnection | null {
    let best: PooledConnection | null = null;
    for (const pooled of this.connections) {
      if (pooled === exclude || !pooled.isUsable || pooled.streams >= capacity(pooled)) continue;
      if (best === null || pooled.streams < best.streams) best = pooled;
    }
    return best;
  }

  /**
   * Where the request goes: below the ideal concurrency first; up to the peer's limit only once
   * no connection may be opened and none is being set up; a connection that refused the
   * request only when no other has room.
   */
  private choose(request: ManagedRequest): PooledConnection | null {
    let canOverflow = this.liveCount() >= this.maxConnections;
    if (canOverflow) for (const pooled of this.connections) if (pooled.isSettingUp) canOverflow = false;
    const ideal = (pooled: PooledConnection): number => this.idealOf(pooled);
    const limit = (pooled: PooledConnection): number => this.limitOf(pooled);
    const avoid = request._connection;
    let target = this.leastLoaded(ideal, avoid) ?? (canOverflow ? this.leastLoaded(limit, avoid) : null);
    if (target === null && avoid !== null)
      target = this.leastLoaded(ideal, null) ?? (canOverflow ? this.leastLoaded(limit, null) : null);
    return target;
  }

  /** Puts waiting requests on connections and opens connections for the rest. */
  private dispatch(): void {
    if (this.isDispatching) return;
    this.isDispatching = true;
    try {
      // Bounded: each pass either assigns the head request (the queue shrinks) or stops.
      for (let guard = this.queue.length; guard > 0 && this.queue.length > 0; guard--) {
        const request = this.queue[0];
        const target = this.choose(request);
        if (target === null) break;
        this.queue.shift();
        this.send(request, target);
      }
      this.openConnectionsForDemand();
    } finally {
      this.isDispatching = false;
    }
  }

  private openConnectionsForDemand(): void {
    if (this.isClosed) return;
    let connecting = 0;
    for (const pooled of this.connections) if (pooled.isSettingUp) connecting++;
    while (this.queue.length > connecting * this.idealConcurrency && this.liveCount() < this.maxConnections) {
      this.openConnection();
      connecting++;
    }
  }

  private openConnection(): void {
    const pooled = new PooledConnection(this);
    this.connections.push(pooled);
    this.connectionFactory(pooled).then(
      (connection) => {
        if (pooled.state === ConnectionState.CLOSED) return;
        pooled.connection = connection;
        pooled.state = ConnectionState.READY;
        this.counters.connectionsOpened++;
        if (this.isClosed) {
          this.closeConnection(pooled);
          return;
        }
        this._onConnectionChanged(pooled);
      },
      (error: unknown) => {
        this.counters.connectFailures++;
        this.remove(pooled);
        pooled.state = ConnectionState.CLOSED;
        pooled.resolveClosed();
        // With nothing left that could take them, waiting requests fail now rather than at
        // their acquire timeout; the caller's retry strategy decides what happens next.
        if (this.liveCount() === 0) {
          const failure =
            error instanceof SluiceError
              ? error
              : new SluiceError(IoErrors.SOCKET_ERROR, String(error), { cause: error });
          for (const request of this.queue.splice(0)) this.finish(request, failure);
        }
        this.dispatch();
      },
    );
  }

  private send(request: ManagedRequest, pooled: PooledConnection): void {
    this.loop.cancel(request._acquireTask);
    request._state = RequestState.ACTIVE;
    request._connection = pooled;
    request._hasResponse = false;
    pooled.streams++;
    if (pooled.streams > this.counters.maxStreamsPerConnection) this.counters.maxStreamsPerConnection = pooled.streams;
    this.loop.cancel(pooled.idleTask);
    const options = request._options;
    const body = options.body ?? null;
    const writeBody = options.writeBody;
    const hasBody = writeBody !== undefined || (body !== null && body.length > 0);
    let stream: StreamManagerStream;
    try {
      stream = pooled.connection!.request(options.headers, {
        handler: this.streamHandler(request, pooled),
        isEndStream: !hasBody,
        ...(options.isManualWindow === true ? { isManualWindow: true } : {}),
      });
    } catch (error) {
      pooled.streams--;
      const failure =
        error instanceof SluiceError ? error : new SluiceError(Http2ApiErrors.CONNECTION_CLOSED, String(error));
      if (failure.code === Http2ApiErrors.CONNECTION_CLOSED.code) pooled.state = ConnectionState.DRAINING;
      this.settle(request, pooled, failure, failure.code === Http2ApiErrors.CONNECTION_CLOSED.code);
      return;
    }
    request._stream = stream;
    request._options.handler.onStreamAssigned?.(stream);
    if (!hasBody || request._state !== RequestState.ACTIVE) return;
    if (writeBody !== undefined) {
      writeBody(stream);
    } else {
      stream.write(body!);
      stream.end();
    }
  }

  private streamHandler(request: ManagedRequest, pooled: PooledConnection): Http2RequestOptions['handler'] {
    const handler = request._options.handler;
    return {
      onResponse: (_stream, headers, isEndStream) => {
        request._hasResponse = true;
        handler.onResponse?.(headers, isEndStream);
      },
      onData: (_stream, data, start, end) => handler.onData?.(data, start, end),
      onTrailers: (_stream, headers) => handler.onTrailers?.(headers),
      onClose: (_stream, error) => {
        pooled.streams--;
        const isRetryable = error !== null && (error as { retryable?: unknown }).retryable === true;
        // A request the peer never saw is sent again elsewhere; one sent on a connection we
        // dropped for not answering fails with why we dropped it, not with our own GOAWAY code.
        const failure =
          pooled.isDead && error !== null && !isRetryable
            ? new SluiceError(
                SdkErrors.CONNECTION_DEAD,
                `${SdkErrors.CONNECTION_DEAD.message} within ${this.pingTimeoutMs} ms`,
                { cause: error },
              )
            : error;
        this.settle(request, pooled, failure, isRetryable);
      },
    };
  }

  /** An attempt ended: finish the request, or send it again when it was refused retryably. */
  private settle(
    request: ManagedRequest,
    pooled: PooledConnection,
    error: SluiceError | null,
    isRetryable: boolean,
  ): void {
    request._stream = null;
    if (
      error !== null &&
      isRetryable &&
      !request._hasResponse &&
      request._options.isReplayable !== false &&
      request._cancelError === null &&
      request.retries < this.maxStreamRetries &&
      !this.isClosed &&
      request._state === RequestState.ACTIVE
    ) {
      request.retries++;
      this.counters.streamsRetried++;
      request._state = RequestState.QUEUED;
      // Front of the queue: it was sent before the requests still waiting.
      this.queue.unshift(request);
    } else {
      this.finish(request, request._cancelError ?? error);
    }
    this.afterStreamEnded(pooled);
    this.dispatch();
  }

  private finish(request: ManagedRequest, error: SluiceError | null): void {
    if (request._state === RequestState.DONE) return;
    request._state = RequestState.DONE;
    this.loop.cancel(request._acquireTask);
    request._options.handler.onClose(error);
  }

  private afterStreamEnded(pooled: PooledConnection): void {
    if (pooled.streams > 0) return;
    if (pooled.state === ConnectionState.DRAINING) {
      // The peer closes after GOAWAY once our streams are done; make sure it happens.
      void pooled.connection?.close();
      return;
    }
    if (pooled.state === ConnectionState.READY) this.becomeIdle(pooled);
  }

  private becomeIdle(pooled: PooledConnection): void {
    pooled.idleSince = this.loop.now();
    pooled.nextPingAt = this.idlePingIntervalMs > 0 ? pooled.idleSince + this.idlePingIntervalMs : Infinity;
    this.scheduleIdleCheck(pooled);
  }

  private scheduleIdleCheck(pooled: PooledConnection): void {
    const cullAt = this.idleTimeoutMs > 0 ? pooled.idleSince + this.idleTimeoutMs : Infinity;
    const at = Math.min(cullAt, pooled.nextPingAt);
    this.loop.cancel(pooled.idleTask);
    if (at !== Infinity) this.loop.scheduleAt(pooled.idleTask, at);
  }

  private closeConnection(pooled: PooledConnection): void {
    this.loop.cancel(pooled.idleTask);
    this.loop.cancel(pooled.pingTimeoutTask);
    if (pooled.state === ConnectionState.READY) pooled.state = ConnectionState.DRAINING;
    void pooled.connection?.close();
  }

  private remove(pooled: PooledConnection): void {
    const index = this.connections.indexOf(pooled);
    if (index >= 0) this.connections.splice(index, 1);
  }

  private connectDefault(events: ConnectionEvents): Promise<StreamManagerConnection> {
    return connectPooledHttp2(this.options, this.resolver, events);
  }

  // ------------------------------------------------------------------ events (internal)

  /** @internal A connection became usable or changed its limits. */
  _onConnectionChanged(pooled: PooledConnection): void {
    if (pooled.isUsable && pooled.streams === 0 && !pooled.idleTask.isScheduled) this.becomeIdle(pooled);
    this.dispatch();
  }

  /** @internal GOAWAY: no new streams here; the in-flight ones finish; a replacement opens on demand. */
  _onGoaway(pooled: PooledConnection): void {
    this.counters.goawaysReceived++;
    if (pooled.state === ConnectionState.READY || pooled.state === ConnectionState.CONNECTING)
      pooled.state = ConnectionState.DRAINING;
    this.loop.cancel(pooled.idleTask);
    this.loop.cancel(pooled.pingTimeoutTask);
    if (pooled.streams === 0) void pooled.connection?.close();
    this.dispatch();
  }

  /** @internal The connection's channel shut down. */
  _onConnectionClosed(pooled: PooledConnection, _error: SluiceError | null): void {
    pooled.state = ConnectionState.CLOSED;
    this.loop.cancel(pooled.idleTask);
    this.loop.cancel(pooled.pingTimeoutTask);
    this.remove(pooled);
    pooled.resolveClosed();
    this.dispatch();
  }

  /** @internal An idle connection's timer: cull it, or PING it. */
  _onIdleCheck(pooled: PooledConnection): void {
    if (pooled.state !== ConnectionState.READY || pooled.streams > 0 || pooled.connection === null) return;
    const now = this.loop.now();
    if (this.idleTimeoutMs > 0 && now >= pooled.idleSince + this.idleTimeoutMs) {
      this.counters.connectionsCulled++;
      this.closeConnection(pooled);
      return;
    }
    if (now >= pooled.nextPingAt) {
      pooled.nextPingAt = now + this.idlePingIntervalMs;
      if (!pooled.isPingOutstanding) {
        pooled.isPingOutstanding = true;
        try {
          pooled.connection.ping((error) => {
            pooled.isPingOutstanding = false;
            if (error === null) this.loop.cancel(pooled.pingTimeoutTask);
          });
          this.loop.scheduleAfter(pooled.pingTimeoutTask, this.pingTimeoutMs);
        } catch {
          pooled.isPingOutstanding = false;
        }
      }
    }
    this.scheduleIdleCheck(pooled);
  }

  /**
   * @internal A PING went unanswered: the connection is dead. Aborting it fails its streams,
   * and `isDead` turns those failures into `SDK_CONNECTION_DEAD`; it takes no new streams, so
   * waiting requests go to another connection.
   */
  _onPingTimeout(pooled: PooledConnection): void {
    if (pooled.state === ConnectionState.CLOSED) return;
    this.counters.connectionsDead++;
    this.loop.cancel(pooled.idleTask);
    pooled.state = ConnectionState.DRAINING;
    pooled.isDead = true;
    pooled.connection?.abort(ErrorCode.NO_ERROR, SdkErrors.CONNECTION_DEAD.message);
    this.dispatch();
  }

  /** @internal A waiting request's acquire timeout fired. */
  _expire(request: ManagedRequest): void {
    const index = this.queue.indexOf(request);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.finish(
      request,
      new SluiceError(SdkErrors.ACQUIRE_TIMEOUT, `no stream became available within ${this.acquireTimeoutMs} ms`),
    );
  }

  /** @internal See {@link ManagedRequest.cancel}. */
  _cancel(request: ManagedRequest, error: SluiceError): void {
    if (request._state === RequestState.DONE) return;
    request._cancelError = error;
    if (request._state === RequestState.QUEUED) {
      const index = this.queue.indexOf(request);
      if (index >= 0) this.queue.splice(index, 1);
      this.finish(request, error);
      return;
    }
    const stream = request._stream;
    if (stream !== null) stream.reset(ErrorCode.CANCEL);
    else this.finish(request, error);
  }
}

/** Connect failures in the SDK's terms: the socket's and TLS's timeouts become `SDK_*` timeouts (the original is the cause). */
export function toSdkConnectError(error: unknown): SluiceError {
  if (!(error instanceof SluiceError))
    return new SluiceError(IoErrors.SOCKET_ERROR, `${IoErrors.SOCKET_ERROR.message}: ${String(error)}`, {
      cause: error,
    });
  if (error.code === IoErrors.CONNECT_TIMEOUT.code)
    return new SluiceError(SdkErrors.CONNECT_TIMEOUT, error.message, { cause: error });
  if (error.code === TlsErrors.NEGOTIATION_TIMEOUT.code)
    return new SluiceError(SdkErrors.TLS_NEGOTIATION_TIMEOUT, error.message, { cause: error });
  return error;
}

/**
 * Opens one HTTP/2 connection as the stream manager does (through `options.proxy` when set, else
 * to the address `resolver` gives; TLS with ALPN "h2" when `options.tls`), with `events` wired.
 * Rejects with the transport's error, timeouts as `SDK_CONNECT_TIMEOUT`/`SDK_TLS_NEGOTIATION_TIMEOUT`.
 */
export async function connectPooledHttp2(
  options: Http2StreamManagerOptions,
  resolver: HostResolver,
  events: ConnectionEvents,
): Promise<StreamManagerConnection> {
  const http2: Http2ConnectionOptions = {
    ...options.http2,
    onRemoteSettings: () => events.onRemoteSettings(),
    onGoaway: () => events.onGoaway(),
    onClose: (error) => events.onClose(error),
  };
  const connectTimeoutMs = options.connectTimeoutMs ?? STREAM_MANAGER_DEFAULTS.connectTimeoutMs;
  const tls: Http2ClientTlsOptions | undefined =
    options.tls === undefined
      ? undefined
      : {
          servername: options.host,
          negotiationTimeoutMs: options.tlsNegotiationTimeoutMs ?? STREAM_MANAGER_DEFAULTS.tlsNegotiationTimeoutMs,
          ...options.tls,
        };
  try {
    if (options.proxy !== undefined && options.proxy !== null) {
      const viaProxy: Parameters<typeof connectHttp2ViaProxy>[0] = {
        proxy: options.proxy,
        host: options.host,
        port: options.port,
        http2,
        connectTimeoutMs,
      };
      if (tls !== undefined) viaProxy.tls = tls;
      if (options.loopGroup !== undefined) viaProxy.loopGroup = options.loopGroup;
      return await connectHttp2ViaProxy(viaProxy);
    }
    const target = await resolver.resolveOne(options.host);
    try {
      const direct: Parameters<typeof connectHttp2>[0] = {
        host: target.address,
        port: options.port,
        http2,
        socketOptions: { connectTimeoutMs },
      };
      if (tls !== undefined) direct.tls = tls;
      if (options.loopGroup !== undefined) direct.loopGroup = options.loopGroup;
      const connection = await connectHttp2(direct);
      resolver.recordConnectionSuccess(options.host, target.address);
      return connection;
    } catch (error) {
      resolver.recordConnectionFailure(options.host, target.address);
      throw error;
    }
  } catch (error) {
    throw toSdkConnectError(error);
  }
}
