/**
 * The SDK layer: a connection manager per origin over HTTP/1.1 (a pool of keep-alive
 * connections) and HTTP/2 (a stream manager), version chosen by scheme or ALPN; HTTP CONNECT proxy
 * tunnels, timeouts with stable codes, and a high-level {@link Client} with retries — the
 * networking an SDK embeds. The host resolver and retry strategies live in the runtime.
 *
 * @module sluice/sdk
 */
export * from './sdk-errors.js';
export {
  HTTP_PROXY_TUNNEL_DEFAULTS,
  HttpProxyTunnelHandler,
  connectHttp2ViaProxy,
  parseProxyUrl,
  proxyFromEnvironment,
  type ConnectViaProxyOptions,
  type HttpProxyTunnelOptions,
  type ProxyOptions,
} from './proxy-tunnel.js';
export {
  Http2StreamManager,
  ManagedRequest,
  STREAM_MANAGER_DEFAULTS,
  type ConnectionEvents,
  type Http2StreamManagerOptions,
  type ManagedRequestOptions,
  type ManagedStreamHandler,
  type StreamManagerConnection,
  type StreamManagerConnectionFactory,
  type StreamManagerMetrics,
  type StreamManagerStream,
} from './stream-manager.js';
export { ConnectionManager, ConnectionManagerRequest, type ConnectionManagerOptions } from './connection-manager.js';
export type { HttpProtocolChoice } from '../http1/index.js';
export {
  HTTP1_CONNECTION_MANAGER_DEFAULTS,
  Http1ConnectionManager,
  Http1ManagedRequest,
  type Http1ConnectionEvents,
  type Http1ConnectionManagerOptions,
  type Http1PoolConnectionOptions,
} from './http1-connection-manager.js';
export * from './client.js';
