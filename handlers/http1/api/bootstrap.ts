/**
 * Bootstrap helpers: an HTTP/1.1 client connection or server listener in one call, over TCP or
 * over TLS with ALPN "http/1.1".
 *
 * @module
 */
import {
  ClientBootstrap,
  ServerBootstrap,
  SluiceError,
  type BootstrapOptions,
  type Channel,
  type ChannelSlot,
  type ConnectOptions,
  type ListenOptions,
  type Listener,
} from '../../../lib/index.js';
import { checkRequiredOptions } from '../../../lib/argument-checks.js';
import { TlsErrors, nativeTlsTransport, type TlsClientOptions, type TlsServerOptions } from '../../tls/index.js';
import { Http1ClientConnection } from '../connection/client-connection.js';
import type { Http1ClientConnectionOptions, Http1ServerConnectionOptions } from '../connection/connection-options.js';
import { Http1ServerConnection } from '../connection/server-connection.js';

/** TLS options of an HTTP/1.1 client: the role, ALPN and what follows TLS are set by sluice. */
export type Http1ClientTlsOptions = Omit<TlsClientOptions, 'role' | 'ALPNProtocols' | 'onNegotiated'>;
/** TLS options of an HTTP/1.1 server: the role, ALPN and what follows TLS are set by sluice. */
export type Http1ServerTlsOptions = Omit<TlsServerOptions, 'role' | 'ALPNProtocols' | 'onNegotiated'>;

/** Options of {@link connectHttp1}. */
export interface ConnectHttp1Options extends Omit<ConnectOptions, 'pipeline'>, BootstrapOptions {
  /** The connection's options (`host` defaults to `host:port` of the endpoint). */
  http1?: Http1ClientConnectionOptions;
  /** Handlers to put between the transport and the HTTP/1.1 connection. */
  pipeline?: (channel: Channel) => void;
  /** Connect over TLS (Node's TLS on the socket) offering ALPN "http/1.1". */
  tls?: Http1ClientTlsOptions;
}

/** Options of {@link listenHttp1}. */
export interface ListenHttp1Options extends Omit<ListenOptions, 'pipeline'>, BootstrapOptions {
  /** Options of each accepted connection (`onRequest` handles requests). */
  http1: Http1ServerConnectionOptions;
  /** Handlers to put between the transport and the HTTP/1.1 connection. */
  pipeline?: (channel: Channel) => void;
  /** Serve over TLS (Node's TLS on the socket) with ALPN "http/1.1"; a peer offering no ALPN is served too. */
  tls?: Http1ServerTlsOptions;
  /** Each connection once installed, e.g. to keep them for a graceful drain (`connection.close()`). */
  onConnection?: (connection: Http1ServerConnection, channel: Channel) => void;
}

/** Installs the connection once TLS negotiated "http/1.1" or no protocol; anything else is `TLS_ALPN_MISMATCH`. */
function installOnHttp1(install: (slot: ChannelSlot) => void): (slot: ChannelSlot, protocol: string | null) => void {
  return (slot, protocol) => {
    if (protocol !== null && protocol !== 'http/1.1') {
      throw new SluiceError(
        TlsErrors.ALPN_MISMATCH,
        `${TlsErrors.ALPN_MISMATCH.message}: the peer negotiated ${protocol}, not http/1.1`,
      );
    }
    install(slot);
  };
}

/**
 * Connects with HTTP/1.1 — over TCP, or TLS when `tls` is given — and resolves with the client
 * connection once it is installed. Rejects with the transport's or TLS's error
 * (`IO_CONNECTION_REFUSED`, `TLS_CERTIFICATE_UNTRUSTED`, …).
 *
 * @example
 * ```ts
 * const connection = await connectHttp1({ host: '127.0.0.1', port: 8080 });
 * connection.request('GET', '/', [], { isEndStream: true, handler: { onResponse: (s, status) => console.log(status) } });
 * ```
 */
export async function connectHttp1(options: ConnectHttp1Options): Promise<Http1ClientConnection> {
  checkRequiredOptions(options, 'connectHttp1(options)');
  const connection = new Http1ClientConnection({ host: `${options.host}:${options.port}`, ...options.http1 });
  let markInstalled!: () => void;
  const installed = new Promise<void>((resolve) => (markInstalled = resolve));
  const bootstrapOptions: BootstrapOptions = { ...options };
  let pipeline: (channel: Channel) => void;
  if (options.tls === undefined) {
    pipeline = (channel) => {
      options.pipeline?.(channel);
      channel.appendHandler(connection);
      markInstalled();
    };
  } else {
    bootstrapOptions.transport = nativeTlsTransport({
      ...options.tls,
      role: 'client',
      ALPNProtocols: ['http/1.1'],
      onNegotiated: installOnHttp1((slot) => {
        slot.channel.appendHandler(connection);
        markInstalled();
      }),
    });
    pipeline = (channel) => options.pipeline?.(channel);
  }
  const channel = await new ClientBootstrap(bootstrapOptions).connect({ ...options, pipeline });
  const outcome = await Promise.race([
    installed.then(() => null),
    channel.whenShutdown.then((error) => error ?? new SluiceError(TlsErrors.CLOSED)),
  ]);
  if (outcome !== null) throw outcome;
  return connection;
}

/**
 * Listens for HTTP/1.1 connections — over TCP, or TLS when `tls` is given; each gets an
 * {@link Http1ServerConnection} with `options.http1`. `listener.close()` shuts every connection
 * down (responses given whole are written, unfinished exchanges fail); for a graceful drain call
 * `close()` on the connections `onConnection` reported, then close the listener once they are gone.
 *
 * @example
 * ```ts
 * const listener = await listenHttp1({ host: '127.0.0.1', port: 0, http1: {
 *   onRequest: (stream) => stream.respond(200, ['content-length', '0'], true),
 * } });
 * ```
 */
export function listenHttp1(options: ListenHttp1Options): Promise<Listener> {
  checkRequiredOptions(options, 'listenHttp1(options)');
  const bootstrapOptions: BootstrapOptions = { ...options };
  const install = (channel: Channel): void => {
    const connection = new Http1ServerConnection(options.http1);
    channel.appendHandler(connection);
    options.onConnection?.(connection, channel);
  };
  let pipeline: (channel: Channel) => void;
  if (options.tls === undefined) {
    pipeline = (channel) => {
      options.pipeline?.(channel);
      install(channel);
    };
  } else {
    bootstrapOptions.transport = nativeTlsTransport({
      ...options.tls,
      role: 'server',
      ALPNProtocols: ['http/1.1'],
      onNegotiated: installOnHttp1((slot) => install(slot.channel)),
    });
    pipeline = (channel) => options.pipeline?.(channel);
  }
  return new ServerBootstrap(bootstrapOptions).listen({ ...options, pipeline });
}
