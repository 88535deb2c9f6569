/**
 * The one-API server: `createServer(handler)` serves HTTP/1.1 and HTTP/2 with one handler and
 * one stream interface ({@link HttpServerStream}) — on TCP by sniffing the first bytes, on TLS
 * by ALPN.
 *
 * @module
 */
import {
  ServerBootstrap,
  SluiceError,
  log,
  LogLevel,
  type BootstrapOptions,
  type Channel,
  type ChannelSlot,
  type Clock,
  type ListenOptions,
  type Listener,
  type ListenerAddress,
} from '../../../lib/index.js';
import { checkRequiredOptions } from '../../../lib/argument-checks.js';
import { TlsErrors, nativeTlsTransport, type TlsServerOptions } from '../../tls/index.js';
import {
  HTTP2_CONNECTION_DEFAULTS,
  Http2ApiErrors,
  Http2Server,
  Http2ServerConnection,
  type Http2ConnectionOptions,
  type ServerStream,
} from '../../http2/index.js';
import { closeChannelGracefully } from '../../http2/api/server.js';
import { webSocketUpgrade } from '../../websocket/api/http1-upgrade.js';
import { acceptWebSocketOverHttp2 } from '../../websocket/api/http2-server.js';
import { isWebSocketConnect } from '../../websocket/wire/http2-handshake.js';
import { checkWebSocketServerOptions } from '../../websocket/api/server-answer.js';
import type { WebSocketServerOptions } from '../../websocket/api/server-hooks.js';
import { serverHandshakeTimeoutMs, serverSocketOptions } from '../../http2/api/server-defaults.js';
import { HTTP1_SERVER_DEFAULTS } from '../connection/connection-options.js';
import type { Http1ServerConnectionOptions } from '../connection/connection-options.js';
import { Http1ServerConnection } from '../connection/server-connection.js';
import type { Http1ServerStream } from '../connection/server-stream.js';
import type { Http1Upgrade } from '../connection/upgrade.js';
import { h2cUpgrade } from './h2c-upgrade.js';
import { ProtocolSniffer } from './protocol-sniffer.js';
import { Http1ServerExchange, type HttpProtocol, type HttpServerStream } from './server-exchange.js';

/** Handles one request of either protocol; a throw or rejection answers 500 (or resets) and goes to `onError`. */
export type HttpServerHandler = (stream: HttpServerStream) => void | Promise<void>;

/** TLS options of a one-API server: the role, ALPN and what follows TLS are set by sluice. */
export type HttpServerTlsOptions = Omit<TlsServerOptions, 'role' | 'ALPNProtocols' | 'onNegotiated'>;

/** The ALPN protocols a TLS server offers, in its order of preference, by default. */
export const DEFAULT_ALPN_PROTOCOLS: readonly HttpProtocol[] = Object.freeze(['h2', 'http/1.1'] as const);

/** Options of {@link createServer}. */
export interface HttpServerOptions
  extends Omit<ListenOptions, 'pipeline' | 'host' | 'port' | 'path' | 'backlog'>, BootstrapOptions {
  /** Options of each HTTP/1.1 connection; `onRequest`, `isManualWindow` and `upgrades` are the server's. */
  http1?: Omit<Http1ServerConnectionOptions, 'onRequest' | 'isManualWindow' | 'upgrades'>;
  /** Options of each HTTP/2 connection; `onStream` is the server's. */
  http2?: Omit<Http2ConnectionOptions, 'onStream'>;
  /** Serve over TLS, choosing the protocol by ALPN; a client offering no ALPN gets HTTP/1.1. */
  tls?: HttpServerTlsOptions;
  /**
   * The protocols offered by ALPN under `tls`, the server's preference first (Node selects the
   * first of these the client offers). Default {@link DEFAULT_ALPN_PROTOCOLS}: h2, then http/1.1.
   */
  alpnProtocols?: readonly HttpProtocol[];
  /** Handlers to put between the transport and the connection (installed before the protocol is known). */
  pipeline?: (channel: Channel) => void;
  /** A handler failed (`stream` set) or a connection ended with an error (`stream` null); logged at WARN without it. */
  onError?: (error: unknown, stream: HttpServerStream | null) => void;
  /** Send a `date` field with every final response that has none (RFC 9110 §6.6.1). Default true. */
  sendDate?: boolean;
  /**
   * Accept `Upgrade: h2c` on cleartext HTTP/1.1 connections (RFC 7540 §3.2, what `curl --http2`
   * sends to `http://` URLs): the request is answered as stream 1 of an HTTP/2 connection. Default
   * **false**: RFC 9113 §3.1 deprecates the upgrade, HTTP/2 with prior knowledge is served on the
   * same port anyway, clients fall back to HTTP/1.1 by themselves, and behind a proxy that passes
   * `Upgrade` through (as it must for WebSocket) an h2c upgrade opens a connection the proxy no
   * longer reads, past its per-request rules ("h2c smuggling"). Ignored under `tls` (ALPN chooses).
   */
  h2c?: boolean;
  /**
   * The WebSocket endpoint, on both versions: HTTP/1.1 requests with `Upgrade: websocket` (RFC
   * 6455 §4) and HTTP/2 extended CONNECTs with `:protocol: websocket` (RFC 8441; the HTTP/2
   * connections then announce `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`) go to its accept hook and
   * `onWebSocket` instead of the handler. Without it such a request is an ordinary request for
   * the handler.
   */
  webSocket?: WebSocketServerOptions;
}

/** Options of {@link HttpServer.listen}. */
export interface HttpListenOptions {
  /** The address to bind; `127.0.0.1` by default. */
  host?: string;
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** Pending-connection queue length. */
  backlog?: number;
}

/**
 * Creates a server that answers HTTP/1.1 and HTTP/2 on one port with one handler: over TCP
 * the first bytes tell the HTTP/2 preface (prior knowledge) from an HTTP/1.1 request line; over
 * TLS (`options.tls`) ALPN chooses, h2 first by default. Each request is an
 * {@link HttpServerStream} whose `protocol` says which.
 *
 * @example
 * ```ts
 * const server = createServer(async (stream) => {
 *   stream.respond(200, { 'content-type': 'text/plain' });
 *   await stream.end(`hello over ${stream.protocol}\n`);
 * });
 * const listener = await server.listen({ port: 8080 });
 * await listener.close();
 * ```
 */
export function createServer(options: HttpServerOptions, handler: HttpServerHandler): HttpServer;
/** Creates a one-API server with default options. */
export function createServer(handler: HttpServerHandler): HttpServer;
export function createServer(
  optionsOrHandler: HttpServerOptions | HttpServerHandler,
  handler?: HttpServerHandler,
): HttpServer {
  if (typeof optionsOrHandler === 'function') return new HttpServer({}, optionsOrHandler);
  checkRequiredOptions(optionsOrHandler, 'createServer(options, handler)');
  if (typeof handler !== 'function') {
    throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'createServer(options, handler): handler is a function');
  }
  if (optionsOrHandler.webSocket !== undefined) checkWebSocketServerOptions(optionsOrHandler.webSocket);
  const alpn = optionsOrHandler.alpnProtocols;
  if (
    alpn !== undefined &&
    (!Array.isArray(alpn) || alpn.length === 0 || !alpn.every((name) => name === 'h2' || name === 'http/1.1'))
  ) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      "createServer(options): alpnProtocols is a non-empty list of 'h2' and 'http/1.1'",
    );
  }
  return new HttpServer(optionsOrHandler, handler);
}

/** HttpServer holds the handler and options; each `listen` binds one {@link HttpServerListener}. */
export class HttpServer {
  private readonly options: HttpServerOptions;
  private readonly handler: HttpServerHandler;
  private readonly http2: Http2Server;
  private readonly listeners = new Set<HttpServerListener>();

  /** @internal Servers come from {@link createServer}. */
  constructor(options: HttpServerOptions, handler: HttpServerHandler) {
    checkRequiredOptions(options, 'new HttpServer(options, handler)');
    if (typeof handler !== 'function') {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'HttpServer objects come from createServer');
    }
    this.options = options;
    this.handler = handler;
    // The HTTP/2 side is the sluice/http2 server's request handling, shared as is.
    const http2Options: { onError?: (error: unknown, stream: ServerStream | null) => void; sendDate?: boolean } = {};
    if (options.onError !== undefined) http2Options.onError = options.onError;
    if (options.sendDate !== undefined) http2Options.sendDate = options.sendDate;
    this.http2 = new Http2Server(http2Options, handler);
  }

  /** Binds and resolves with the listener; rejects with `IO_ADDRESS_IN_USE`, …. */
  async listen(options: HttpListenOptions = {}): Promise<HttpServerListener> {
    const {
      http1,
      http2,
      tls,
      alpnProtocols,
      pipeline: userPipeline,
      onError: _onError,
      sendDate: _sendDate,
      h2c,
      webSocket,
      ...bootstrapOptions
    } = this.options;
    const scheme = tls === undefined ? 'http' : 'https';
    const upgrades: Http1Upgrade[] = [];
    const createHttp1 = (channel: Channel): Http1ServerConnection =>
      new Http1ServerConnection({
        ...http1,
        isManualWindow: true,
        upgrades,
        onRequest: (stream) => this.acceptHttp1(stream, scheme, channel.loop.clock),
        onError: (error) => {
          http1?.onError?.(error);
          this.report(error, null);
        },
      });
    const createHttp2 = (): Http2ServerConnection =>
      new Http2ServerConnection({
        ...http2,
        ...(webSocket !== undefined ? { enableConnectProtocol: true } : {}),
        onStream: (stream, headers, isEndStream) => {
          if (
            webSocket !== undefined &&
            isWebSocketConnect(headers) &&
            acceptWebSocketOverHttp2(stream, headers, webSocket)
          )
            return;
          this.http2.acceptStream(stream, headers, isEndStream);
        },
        onError: (error) => {
          http2?.onError?.(error);
          this.report(error, null);
        },
      });
    // h2c is for cleartext only: under TLS, ALPN has chosen HTTP/1.1 (RFC 7540 §3.3).
    if (h2c === true && tls === undefined) upgrades.push(h2cUpgrade(createHttp2));
    if (webSocket !== undefined) upgrades.push(webSocketUpgrade(webSocket, (error) => this.report(error, null)));
    const bootstrap: BootstrapOptions = { ...bootstrapOptions };
    const handshakeTimeoutMs = oneHandshakeTimeoutMs(http1?.handshakeTimeoutMs, http2?.handshakeTimeoutMs);
    let pipeline: (channel: Channel) => void;
    if (tls === undefined) {
      pipeline = (channel) => {
        userPipeline?.(channel);
        // A connection that says nothing decisive within the handshake deadline closes.
        channel.appendHandler(new ProtocolSniffer(createHttp1, createHttp2, handshakeTimeoutMs));
      };
    } else {
      bootstrap.transport = nativeTlsTransport({
        negotiationTimeoutMs: serverHandshakeTimeoutMs(handshakeTimeoutMs),
        ...tls,
        role: 'server',
        ALPNProtocols: [...(alpnProtocols ?? DEFAULT_ALPN_PROTOCOLS)],
        onNegotiated: (slot: ChannelSlot, protocol: string | null) => {
          if (protocol === 'h2') slot.channel.appendHandler(createHttp2());
          else if (protocol === null || protocol === 'http/1.1') slot.channel.appendHandler(createHttp1(slot.channel));
          else throw new SluiceError(TlsErrors.ALPN_MISMATCH, `the peer negotiated ${protocol}`);
        },
      });
      pipeline = (channel) => userPipeline?.(channel);
    }
    const listener = await new ServerBootstrap(bootstrap).listen({
      ...bootstrapOptions,
      socketOptions: serverSocketOptions(bootstrapOptions.socketOptions),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
      pipeline,
    });
    const serverListener: HttpServerListener = new HttpServerListener(listener, () =>
      this.listeners.delete(serverListener),
    );
    this.listeners.add(serverListener);
    return serverListener;
  }

  /** Closes every listener gracefully (see {@link HttpServerListener.close}). */
  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.close()));
  }

  private acceptHttp1(stream: Http1ServerStream, scheme: string, clock: Clock): void {
    const exchange = new Http1ServerExchange(stream, scheme, this.options.sendDate === false ? null : clock);
    let result: void | Promise<void>;
    try {
      result = this.handler(exchange);
    } catch (error) {
      this.failHandler(exchange, error);
      return;
    }
    if (result instanceof Promise) result.catch((error: unknown) => this.failHandler(exchange, error));
  }

  /** A handler threw: answer 500 if nothing was sent, else fail the exchange. */
  private failHandler(exchange: Http1ServerExchange, error: unknown): void {
    this.report(error, exchange);
    if (exchange.isClosed) return;
    try {
      if (!exchange.hasResponded) {
        exchange.respond(500, { 'content-type': 'text/plain; charset=utf-8' });
        void exchange.end('internal server error\n');
      } else {
        exchange.reset();
      }
    } catch {
      exchange.reset();
    }
  }

  private report(error: unknown, stream: HttpServerStream | null): void {
    const onError = this.options.onError;
    if (onError !== undefined) {
      try {
        onError(error, stream);
      } catch {
        // An onError that throws must not take the connection down.
      }
      return;
    }
    if (log.level >= LogLevel.WARN) {
      log.log(
        LogLevel.WARN,
        'http1',
        `${stream === null ? 'connection' : `${stream.method} ${stream.path}`} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/**
 * The handshake deadline of a one-API server's first bytes (the sniffer, TLS): the shorter of the
 * two protocols' that are on, 0 when both are off.
 */
function oneHandshakeTimeoutMs(http1: number | undefined, http2: number | undefined): number {
  const one = http1 ?? HTTP1_SERVER_DEFAULTS.handshakeTimeoutMs;
  const two = http2 ?? HTTP2_CONNECTION_DEFAULTS.handshakeTimeoutMs;
  if (one <= 0) return Math.max(0, two);
  return two <= 0 ? one : Math.min(one, two);
}

/** HttpServerListener is a bound one-API server socket and its connections; `close()` is graceful. */
export class HttpServerListener {
  private readonly listener: Listener;
  private readonly onClosed: () => void;
  private closing: Promise<void> | null = null;

  /** @internal Listeners come from {@link HttpServer.listen}. */
  constructor(listener: Listener, onClosed: () => void) {
    if (typeof onClosed !== 'function' || typeof listener !== 'object' || listener === null) {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'HttpServerListener objects come from HttpServer.listen');
    }
    this.listener = listener;
    this.onClosed = onClosed;
  }

  /** The bound TCP port. */
  get port(): number {
    return this.listener.port;
  }

  /** Where the listener is bound. */
  get address(): ListenerAddress {
    return this.listener.address;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.listener.channels.size;
  }

  /**
   * Closes gracefully and resolves when everything is closed: stops accepting; HTTP/2
   * connections get GOAWAY and finish their streams; HTTP/1.1 connections finish the exchanges
   * in flight and say `Connection: close` on the last response; idle ones and those not yet
   * past their first bytes close at once. Calling again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  private async closeGracefully(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.listener.server.close(() => resolve()));
    await Promise.all([...this.listener.channels].map((channel) => closeChannel(channel)));
    await serverClosed;
    this.onClosed();
  }
}

/** Closes one accepted channel through whichever connection it runs. */
async function closeChannel(channel: Channel): Promise<void> {
  await Promise.race([channel.whenSetup, channel.whenShutdown]);
  for (const slot of channel.slots()) {
    const handler = slot.handler;
    if (handler instanceof Http2ServerConnection) return closeChannelGracefully(channel);
    if (handler instanceof Http1ServerConnection) {
      handler.close();
      await channel.whenShutdown;
      return;
    }
  }
  channel.shutdown(null);
  await channel.whenShutdown;
}
