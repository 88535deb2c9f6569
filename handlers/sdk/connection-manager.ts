/**
 * The connection manager over both versions: an origin's requests go to an
 * {@link Http1ConnectionManager} or an {@link Http2StreamManager}, whichever version the origin
 * speaks — chosen by the scheme and `protocol`, or for `https://` by ALPN on the first connection.
 *
 * @module
 */
import { HostResolver, IoErrors, SluiceError, defaultEventLoopGroup, type EventLoop } from '../../lib/index.js';
import type { Http1ClientTlsOptions, HttpProtocolChoice } from '../http1/index.js';
import { connectByAlpn, type AlpnConnection } from './alpn-connect.js';
import {
  Http1ConnectionManager,
  Http1ManagedRequest,
  connectPooledHttp1,
  http1ConnectionOptions,
  type Http1ConnectionEvents,
  type Http1ConnectionFactory,
  type Http1ConnectionManagerOptions,
} from './http1-connection-manager.js';
import {
  Http2StreamManager,
  STREAM_MANAGER_DEFAULTS,
  connectPooledHttp2,
  toSdkConnectError,
  type ConnectionEvents,
  type Http2StreamManagerOptions,
  type ManagedRequest,
  type ManagedRequestOptions,
  type StreamManagerConnection,
  type StreamManagerMetrics,
} from './stream-manager.js';
import { SdkErrors } from './sdk-errors.js';

/** Options of a {@link ConnectionManager}: the stream manager's, plus the version and the HTTP/1.1 pool's. */
export interface ConnectionManagerOptions extends Http2StreamManagerOptions {
  /** The version; `auto` by default (see {@link HttpProtocolChoice}). With a `proxy` or an HTTP/2 `connect`, `auto` means h2. */
  protocol?: HttpProtocolChoice;
  /** Options of each HTTP/1.1 connection. */
  http1?: Http1ConnectionManagerOptions['http1'];
  /** @internal Opens HTTP/1.1 connections; replaces the built-in connect (tests). */
  http1Connect?: Http1ConnectionFactory;
}

/**
 * ConnectionManagerRequest is one request's handle in a {@link ConnectionManager}, whichever
 * version carries it.
 */
export class ConnectionManagerRequest {
  /** @internal The request in the chosen manager, once the version is known. */
  _inner: ManagedRequest | Http1ManagedRequest | null = null;
  /** @internal */
  _isDone = false;

  /** @internal Requests come from {@link ConnectionManager.request}. */
  constructor(
    /** @internal */
    readonly _options: ManagedRequestOptions,
    private readonly onCancelWaiting: (request: ConnectionManagerRequest, error: SluiceError) => void,
  ) {}

  /** The version carrying it; null while the origin's version is being negotiated. */
  get protocol(): 'h2' | 'http/1.1' | null {
    if (this._inner === null) return null;
    return this._inner instanceof Http1ManagedRequest ? 'http/1.1' : 'h2';
  }

  /**
   * Whether some byte of it may have reached the server. Over HTTP/1.1 it stays false while the
   * request provably never left (its connections failed before any of it was written); over
   * HTTP/2 it is true once it was handed to a connection.
   */
  get isRequestSent(): boolean {
    const inner = this._inner;
    if (inner === null) return false;
    return inner instanceof Http1ManagedRequest ? inner.isRequestSent : inner._state !== 0;
  }

  /** True once `onClose` was called. */
  get isDone(): boolean {
    return this._isDone || (this._inner !== null && this._inner.isDone);
  }

  /** Cancels the request as the manager carrying it does; `onClose` gets `error`. Nothing once it is over. */
  cancel(error: SluiceError): void {
    if (this._inner !== null) this._inner.cancel(error);
    else this.onCancelWaiting(this, error);
  }
}

/**
 * ConnectionManager sends an origin's requests over HTTP/1.1 or HTTP/2:
 *
 * - `http://` → an {@link Http1ConnectionManager} (a pool of keep-alive connections, one request
 *   each), or with `protocol: 'h2'` an {@link Http2StreamManager} (h2c, prior knowledge).
 * - `https://` with `protocol: 'auto'` → the first request opens one TLS connection offering
 *   ALPN h2 and http/1.1; the server's choice decides the manager, that connection becomes its
 *   first, and requests made meanwhile wait for it. If it fails they fail with its error and
 *   the next request negotiates again.
 * - With a `proxy` (CONNECT tunnels carry HTTP/2 today), or an HTTP/2 `connect` factory, `auto`
 *   means h2; `protocol: 'http/1.1'` with a proxy is refused with `IO_INVALID_OPTIONS`.
 *
 * Requests have the stream manager's shape (a flat header list with pseudo-headers, a
 * {@link ManagedStreamHandler}); responses report `:status` first whatever the version.
 */
export class ConnectionManager {
  /** The loop the managers' timers run on. */
  readonly loop: EventLoop;
  private readonly options: ConnectionManagerOptions;
  private readonly resolver: HostResolver;
  private http1Manager: Http1ConnectionManager | null = null;
  private http2Manager: Http2StreamManager | null = null;
  private readonly waiting: ConnectionManagerRequest[] = [];
  private isProbing = false;
  private isClosed = false;
  private probeClosed: Promise<void> = Promise.resolve();

  /** Creates a manager; throws `IO_INVALID_OPTIONS` for options it cannot honour. No connection opens before the first request. */
  constructor(options: ConnectionManagerOptions) {
    if (typeof options !== 'object' || options === null)
      throw new SluiceError(IoErrors.INVALID_OPTIONS, 'new ConnectionManager(options): options are required');
    this.options = options;
    this.loop = options.loop ?? (options.loopGroup ?? defaultEventLoopGroup()).next();
    this.resolver = options.resolver ?? new HostResolver({ clock: this.loop.clock });
    const protocol = options.protocol ?? 'auto';
    if (protocol !== 'auto' && protocol !== 'h2' && protocol !== 'http/1.1')
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        `protocol must be 'auto', 'h2' or 'http/1.1', not ${String(protocol)}`,
      );
    const hasProxy = options.proxy !== undefined && options.proxy !== null;
    if (protocol === 'http/1.1' && hasProxy)
      throw new SluiceError(IoErrors.INVALID_OPTIONS, 'HTTP/1.1 through a proxy is not supported: use protocol h2');
    if (protocol === 'h2' || (protocol === 'auto' && (hasProxy || options.connect !== undefined))) {
      this.http2Manager = this.createHttp2Manager(null);
    } else if (protocol === 'http/1.1' || options.tls === undefined) {
      this.http1Manager = this.createHttp1Manager(null);
    }
  }

  /** The version in use: null until an `https://` origin's first connection negotiated it. */
  get protocol(): 'h2' | 'http/1.1' | null {
    if (this.http2Manager !== null) return 'h2';
    return this.http1Manager !== null ? 'http/1.1' : null;
  }

  /** The HTTP/2 stream manager, when the origin speaks HTTP/2. */
  get streamManager(): Http2StreamManager | null {
    return this.http2Manager;
  }

  /** The HTTP/1.1 connection manager, when the origin speaks HTTP/1.1. */
  get http1ConnectionManager(): Http1ConnectionManager | null {
    return this.http1Manager;
  }

  /** The chosen manager's metrics (zeros with requests waiting for negotiation counted as queued). */
  get metrics(): StreamManagerMetrics {
    const inner = this.http2Manager ?? this.http1Manager;
    if (inner !== null) return inner.metrics;
    return {
      connectionsOpen: 0,
      connectionsConnecting: this.isProbing ? 1 : 0,
      streamsActive: 0,
      streamsQueued: this.waiting.length,
      streamsRetried: 0,
      connectionsOpened: 0,
      connectFailures: 0,
      goawaysReceived: 0,
      connectionsCulled: 0,
      connectionsDead: 0,
      maxStreamsPerConnection: 0,
    };
  }

  /**
   * Queues a request on the origin's manager (or until its version is negotiated). Throws
   * `SDK_MANAGER_CLOSED` after `close()` and `SDK_TOO_MANY_PENDING_ACQUISITIONS` when the
   * queue is full.
   */
  request(options: ManagedRequestOptions): ConnectionManagerRequest {
    if (this.isClosed) throw new SluiceError(SdkErrors.MANAGER_CLOSED);
    const request = new ConnectionManagerRequest(options, (waiting, error) => this.cancelWaiting(waiting, error));
    const inner = this.http2Manager ?? this.http1Manager;
    if (inner !== null) {
      request._inner = inner.request(options);
      return request;
    }
    const limit = this.options.maxPendingAcquisitions ?? STREAM_MANAGER_DEFAULTS.maxPendingAcquisitions;
    if (this.waiting.length >= limit) {
      throw new SluiceError(
        SdkErrors.TOO_MANY_PENDING_ACQUISITIONS,
        `${SdkErrors.TOO_MANY_PENDING_ACQUISITIONS.message} (${limit})`,
      );
    }
    this.waiting.push(request);
    if (!this.isProbing) this.probe();
    return request;
  }

  /**
   * Closes: waiting requests fail with `SDK_MANAGER_CLOSED`, in-flight ones finish, every
   * connection closes. Resolves once all have closed.
   */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      for (const request of this.waiting.splice(0))
        this.finishWaiting(request, new SluiceError(SdkErrors.MANAGER_CLOSED));
    }
    await this.probeClosed;
    await Promise.all([this.http1Manager?.close(), this.http2Manager?.close()]);
  }

  // ------------------------------------------------------------------ negotiation

  private probe(): void {
    this.isProbing = true;
    const options = this.options;
    const relay = new EventRelay();
    let probeDone!: () => void;
    this.probeClosed = new Promise((resolve) => (probeDone = resolve));
    const connectTimeoutMs = options.connectTimeoutMs ?? STREAM_MANAGER_DEFAULTS.connectTimeoutMs;
    const tls: Http1ClientTlsOptions = {
      servername: options.host,
      negotiationTimeoutMs: options.tlsNegotiationTimeoutMs ?? STREAM_MANAGER_DEFAULTS.tlsNegotiationTimeoutMs,
      ...options.tls,
    };
    const connected = this.resolver.resolveOne(options.host).then(async (target) => {
      try {
        const chosen = await connectByAlpn({
          address: target.address,
          port: options.port,
          tls,
          connectTimeoutMs,
          ...(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {}),
          http2: {
            ...options.http2,
            onRemoteSettings: () => relay.onRemoteSettings(),
            onGoaway: () => relay.onGoaway(),
            onClose: (error) => relay.onClose(error),
          },
          http1: http1ConnectionOptions(options, relay),
        });
        this.resolver.recordConnectionSuccess(options.host, target.address);
        return chosen;
      } catch (error) {
        this.resolver.recordConnectionFailure(options.host, target.address);
        throw error;
      }
    });
    connected.then(
      (chosen) => {
        this.isProbing = false;
        probeDone();
        if (this.isClosed) {
          void chosen.connection.close();
          return;
        }
        if (chosen.protocol === 'h2') this.http2Manager = this.createHttp2Manager({ chosen, relay });
        else this.http1Manager = this.createHttp1Manager({ chosen, relay });
        const inner = this.http2Manager ?? this.http1Manager!;
        for (const request of this.waiting.splice(0)) {
          try {
            request._inner = inner.request(request._options);
          } catch (error) {
            this.finishWaiting(request, error as SluiceError);
          }
        }
      },
      (error: unknown) => {
        this.isProbing = false;
        probeDone();
        const failure = toSdkConnectError(error);
        for (const request of this.waiting.splice(0)) this.finishWaiting(request, failure);
      },
    );
  }

  private createHttp2Manager(first: { chosen: AlpnConnection; relay: EventRelay } | null): Http2StreamManager {
    const options: Http2StreamManagerOptions = { ...this.options, loop: this.loop, resolver: this.resolver };
    if (first !== null) {
      let handed = false;
      options.connect = (events) => {
        if (!handed) {
          handed = true;
          first.relay.attach(events);
          return Promise.resolve(first.chosen.connection as StreamManagerConnection);
        }
        return connectPooledHttp2(this.options, this.resolver, events);
      };
    }
    return new Http2StreamManager(options);
  }

  private createHttp1Manager(first: { chosen: AlpnConnection; relay: EventRelay } | null): Http1ConnectionManager {
    const own = this.options;
    const options: Http1ConnectionManagerOptions = {
      host: own.host,
      port: own.port,
      loop: this.loop,
      resolver: this.resolver,
    };
    if (own.tls !== undefined) options.tls = own.tls;
    if (own.http1 !== undefined) options.http1 = own.http1;
    if (own.loopGroup !== undefined) options.loopGroup = own.loopGroup;
    if (own.maxConnections !== undefined) options.maxConnections = own.maxConnections;
    if (own.maxPendingAcquisitions !== undefined) options.maxPendingAcquisitions = own.maxPendingAcquisitions;
    if (own.acquireTimeoutMs !== undefined) options.acquireTimeoutMs = own.acquireTimeoutMs;
    if (own.idleTimeoutMs !== undefined) options.idleTimeoutMs = own.idleTimeoutMs;
    if (own.maxStreamRetries !== undefined) options.maxStreamRetries = own.maxStreamRetries;
    if (own.connectTimeoutMs !== undefined) options.connectTimeoutMs = own.connectTimeoutMs;
    if (own.tlsNegotiationTimeoutMs !== undefined) options.tlsNegotiationTimeoutMs = own.tlsNegotiationTimeoutMs;
    const fallback: Http1ConnectionFactory =
      own.http1Connect ?? ((events) => connectPooledHttp1(options, this.resolver, events));
    if (first === null) {
      if (own.http1Connect !== undefined) options.connect = own.http1Connect;
      return new Http1ConnectionManager(options);
    }
    let handed = false;
    options.connect = (events) => {
      if (!handed && first.chosen.protocol === 'http/1.1') {
        handed = true;
        first.relay.attach(events);
        return Promise.resolve(first.chosen.connection);
      }
      return fallback(events);
    };
    return new Http1ConnectionManager(options);
  }

  private cancelWaiting(request: ConnectionManagerRequest, error: SluiceError): void {
    const index = this.waiting.indexOf(request);
    if (index >= 0) this.waiting.splice(index, 1);
    this.finishWaiting(request, error);
  }

  private finishWaiting(request: ConnectionManagerRequest, error: SluiceError): void {
    if (request._isDone) return;
    request._isDone = true;
    request._options.handler.onClose(error);
  }
}

/**
 * Forwards the probe connection's events to the manager that adopts it; events that came before
 * it was adopted are replayed then (the peer's SETTINGS, a GOAWAY, the close).
 */
class EventRelay implements ConnectionEvents, Http1ConnectionEvents {
  private h2Target: ConnectionEvents | null = null;
  private h1Target: Http1ConnectionEvents | null = null;
  private hasSettings = false;
  private hasGoaway = false;
  private closed: { error: SluiceError | null } | null = null;

  attach(target: ConnectionEvents | Http1ConnectionEvents): void {
    if ('onRemoteSettings' in target) {
      this.h2Target = target;
      if (this.hasSettings) target.onRemoteSettings();
      if (this.hasGoaway) target.onGoaway();
    } else {
      this.h1Target = target;
    }
    if (this.closed !== null) target.onClose(this.closed.error);
  }

  onRemoteSettings(): void {
    this.hasSettings = true;
    this.h2Target?.onRemoteSettings();
  }

  onGoaway(): void {
    this.hasGoaway = true;
    this.h2Target?.onGoaway();
  }

  onReusable(): void {
    this.h1Target?.onReusable();
  }

  onClose(error: SluiceError | null): void {
    this.closed = { error };
    this.h2Target?.onClose(error);
    this.h1Target?.onClose(error);
  }
}
