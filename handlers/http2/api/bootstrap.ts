/**
 * Bootstrap helpers: an HTTP/2 client connection or server listener in one call, over TCP with
 * prior knowledge (h2c) or over TLS with ALPN "h2".
 *
 * @module
 */
import {
  ClientBootstrap,
  IoErrors,
  ServerBootstrap,
  SluiceError,
  type BootstrapOptions,
  type Channel,
  type ChannelSlot,
  type ConnectOptions,
  type ListenOptions,
  type Listener,
  type TransportHandlerFactory,
} from '../../../lib/index.js';
import {
  TlsErrors,
  TlsHandler,
  nativeTlsTransport,
  type TlsClientOptions,
  type TlsServerOptions,
} from '../../tls/index.js';
import type { Http2ConnectionOptions } from '../connection/connection-options.js';
import { serverHandshakeTimeoutMs, serverSocketOptions } from './server-defaults.js';
import { checkRequiredOptions } from '../../../lib/argument-checks.js';
import { Http2ClientConnection } from '../connection/client-connection.js';
import type { Http2Connection } from '../connection/http2-connection.js';
import { Http2ServerConnection } from '../connection/server-connection.js';

/**
 * How TLS sits on TCP: `native` runs Node's TLS socket on the TCP handle inside the first slot
 * (measured faster: 1.2× bulk, 1.7× small round trips, `bench/tls-arrangements`); `handler`
 * puts a {@link TlsHandler} slot right of the socket slot (the general arrangement, also used
 * for TLS over tunnels).
 */
export type TlsArrangement = 'native' | 'handler';

/** TLS options of an HTTP/2 client: the role, ALPN and what follows TLS are set by sluice. */
export type Http2ClientTlsOptions = Omit<TlsClientOptions, 'role' | 'ALPNProtocols' | 'onNegotiated'>;
/** TLS options of an HTTP/2 server: the role, ALPN and what follows TLS are set by sluice. */
export type Http2ServerTlsOptions = Omit<TlsServerOptions, 'role' | 'ALPNProtocols' | 'onNegotiated'>;

/** Options of {@link connectHttp2}. */
export interface ConnectHttp2Options extends Omit<ConnectOptions, 'pipeline'>, BootstrapOptions {
  /** The connection's options. */
  http2?: Http2ConnectionOptions;
  /** Handlers to put between the transport (socket or TLS) and the HTTP/2 connection (e.g. a frame logger). */
  pipeline?: (channel: Channel) => void;
  /** Connect over TLS and require ALPN "h2" (`TLS_ALPN_MISMATCH` otherwise). */
  tls?: Http2ClientTlsOptions;
  /** Where TLS runs; `native` by default. */
  tlsArrangement?: TlsArrangement;
}

/** Appends the connection once TLS negotiated "h2"; anything else is `TLS_ALPN_MISMATCH`. */
function installOnH2(
  connection: () => Http2Connection,
  onInstalled?: () => void,
): (slot: ChannelSlot, protocol: string | null) => void {
  return (slot, protocol) => {
    if (protocol !== 'h2') {
      throw new SluiceError(
        TlsErrors.ALPN_MISMATCH,
        `${TlsErrors.ALPN_MISMATCH.message}: the peer negotiated ${protocol ?? 'no protocol'}, not h2`,
      );
    }
    slot.channel.appendHandler(connection());
    onInstalled?.();
  };
}

/** Bootstrap transport and pipeline for one of the three arrangements. */
function arrange(
  tlsOptions: TlsClientOptions | TlsServerOptions | undefined,
  arrangement: TlsArrangement,
  userPipeline: ((channel: Channel) => void) | undefined,
  appendConnection: (channel: Channel) => void,
): { transport?: TransportHandlerFactory; pipeline: (channel: Channel) => void } {
  if (tlsOptions === undefined) {
    return {
      pipeline: (channel) => {
        userPipeline?.(channel);
        appendConnection(channel);
      },
    };
  }
  if (arrangement === 'native')
    return { transport: nativeTlsTransport(tlsOptions), pipeline: (channel) => userPipeline?.(channel) };
  return {
    pipeline: (channel) => {
      channel.appendHandler(new TlsHandler(tlsOptions));
      userPipeline?.(channel);
    },
  };
}

/**
 * Connects with HTTP/2 — h2c with prior knowledge, or TLS with ALPN "h2" when `tls` is given —
 * and resolves with the client connection once it is installed (SETTINGS are exchanged in the
 * background). Rejects with the transport's or TLS's error (`IO_CONNECTION_REFUSED`,
 * `TLS_CERTIFICATE_UNTRUSTED`, `TLS_ALPN_MISMATCH`, …).
 *
 * @example
 * ```ts
 * const connection = await connectHttp2({ host: '127.0.0.1', port: 8443, tls: { servername: 'localhost', ca } });
 * connection.request([':method', 'GET', ':scheme', 'https', ':authority', 'localhost', ':path', '/'], { isEndStream: true });
 * ```
 */
export async function connectHttp2(options: ConnectHttp2Options): Promise<Http2ClientConnection> {
  checkRequiredOptions(options, 'connectHttp2(options)');
  const connection = new Http2ClientConnection(options.http2);
  let markInstalled!: () => void;
  const installed = new Promise<void>((resolve) => (markInstalled = resolve));
  const tlsOptions: TlsClientOptions | undefined =
    options.tls === undefined
      ? undefined
      : {
          ...options.tls,
          role: 'client',
          ALPNProtocols: ['h2'],
          onNegotiated: installOnH2(
            () => connection,
            () => markInstalled(),
          ),
        };
  const { transport, pipeline } = arrange(
    tlsOptions,
    options.tlsArrangement ?? 'native',
    options.pipeline,
    (channel) => {
      channel.appendHandler(connection);
      markInstalled();
    },
  );
  const bootstrapOptions: BootstrapOptions = { ...options };
  if (transport !== undefined) bootstrapOptions.transport = transport;
  const channel = await new ClientBootstrap(bootstrapOptions).connect({ ...options, pipeline });
  const outcome = await Promise.race([
    installed.then(() => null),
    channel.whenShutdown.then((error) => error ?? new SluiceError(TlsErrors.CLOSED)),
  ]);
  if (outcome !== null) throw outcome;
  return connection;
}

/** Options of {@link listenHttp2}. */
export interface ListenHttp2Options extends Omit<ListenOptions, 'pipeline'>, BootstrapOptions {
  /** Options of each accepted connection (`onStream` handles requests). */
  http2: Http2ConnectionOptions;
  /** Handlers to put between the transport (socket or TLS) and the HTTP/2 connection. */
  pipeline?: (channel: Channel) => void;
  /** Serve over TLS with ALPN "h2" (connections negotiating anything else are refused). */
  tls?: Http2ServerTlsOptions;
  /** Where TLS runs; `native` by default. */
  tlsArrangement?: TlsArrangement;
}

/**
 * Listens for HTTP/2 connections — h2c with prior knowledge, or TLS with ALPN "h2" when `tls`
 * is given; each gets an {@link Http2ServerConnection} with `options.http2`.
 * `listener.close()` shuts every connection down. Unless given, `socketOptions.writeTimeoutMs` is
 * `SERVER_WRITE_TIMEOUT_MS` (30 s) and the TLS handshake must complete within the connections'
 * `handshakeTimeoutMs` (the preface's deadline counts from the same moment).
 *
 * @example
 * ```ts
 * const listener = await listenHttp2({ host: '127.0.0.1', port: 0, http2: {
 *   onStream: (stream) => { stream.sendHeaders([':status', '200']); stream.end(); },
 * } });
 * ```
 */
export function listenHttp2(options: ListenHttp2Options): Promise<Listener> {
  if (typeof options !== 'object' || options === null) {
    return Promise.reject(new SluiceError(IoErrors.INVALID_OPTIONS, 'listenHttp2(options): options are an object'));
  }
  const tlsOptions: TlsServerOptions | undefined =
    options.tls === undefined
      ? undefined
      : {
          negotiationTimeoutMs: serverHandshakeTimeoutMs(options.http2?.handshakeTimeoutMs),
          ...options.tls,
          role: 'server',
          ALPNProtocols: ['h2'],
          onNegotiated: installOnH2(() => new Http2ServerConnection(options.http2)),
        };
  const { transport, pipeline } = arrange(tlsOptions, options.tlsArrangement ?? 'native', options.pipeline, (channel) =>
    channel.appendHandler(new Http2ServerConnection(options.http2)),
  );
  const bootstrapOptions: BootstrapOptions = { ...options };
  if (transport !== undefined) bootstrapOptions.transport = transport;
  return new ServerBootstrap(bootstrapOptions).listen({
    ...options,
    socketOptions: serverSocketOptions(options.socketOptions),
    pipeline,
  });
}
