/**
 * Bootstrap helpers: an h2c (prior knowledge) client connection or server listener in one call.
 *
 * @module
 */
import {
  ClientBootstrap,
  ServerBootstrap,
  type BootstrapOptions,
  type Channel,
  type ConnectOptions,
  type ListenOptions,
  type Listener,
} from '../../lib/index.js';
import type { Http2ConnectionOptions } from './connection-options.js';
import { Http2ClientConnection } from './http2-client.js';
import { Http2ServerConnection } from './http2-server.js';

/** Options of {@link connectHttp2}. */
export interface ConnectHttp2Options extends Omit<ConnectOptions, 'pipeline'>, BootstrapOptions {
  /** The connection's options. */
  http2?: Http2ConnectionOptions;
  /** Handlers to put between the socket and the HTTP/2 connection (e.g. a frame logger). */
  pipeline?: (channel: Channel) => void;
}

/**
 * Connects over TCP with HTTP/2 prior knowledge (h2c) and resolves with the client connection
 * once the channel is set up (SETTINGS are exchanged in the background).
 *
 * @example
 * ```ts
 * const connection = await connectHttp2({ host: '127.0.0.1', port: 8080 });
 * connection.request([':method', 'GET', ':scheme', 'http', ':authority', 'localhost', ':path', '/'], { isEndStream: true });
 * ```
 */
export async function connectHttp2(options: ConnectHttp2Options): Promise<Http2ClientConnection> {
  const connection = new Http2ClientConnection(options.http2);
  const bootstrap = new ClientBootstrap(options);
  await bootstrap.connect({
    ...options,
    pipeline: (channel) => {
      options.pipeline?.(channel);
      channel.appendHandler(connection);
    },
  });
  return connection;
}

/** Options of {@link listenHttp2}. */
export interface ListenHttp2Options extends Omit<ListenOptions, 'pipeline'>, BootstrapOptions {
  /** Options of each accepted connection (`onStream` handles requests). */
  http2: Http2ConnectionOptions;
  /** Handlers to put between the socket and the HTTP/2 connection. */
  pipeline?: (channel: Channel) => void;
}

/**
 * Listens for h2c (prior knowledge) connections; each gets an {@link Http2ServerConnection}
 * with `options.http2`. `listener.close()` shuts every connection down.
 *
 * @example
 * ```ts
 * const listener = await listenHttp2({ host: '127.0.0.1', port: 0, http2: {
 *   onStream: (stream) => { stream.sendHeaders([':status', '200']); stream.end(); },
 * } });
 * ```
 */
export function listenHttp2(options: ListenHttp2Options): Promise<Listener> {
  const bootstrap = new ServerBootstrap(options);
  return bootstrap.listen({
    ...options,
    pipeline: (channel) => {
      options.pipeline?.(channel);
      channel.appendHandler(new Http2ServerConnection(options.http2));
    },
  });
}
