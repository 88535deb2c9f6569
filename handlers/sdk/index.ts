/**
 * The SDK layer: an HTTP/2 stream manager (connection pool) per origin, HTTP CONNECT proxy
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
export * from './client.js';
