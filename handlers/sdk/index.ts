/**
 * The SDK layer: an HTTP/2 stream manager (connection pool) per origin, HTTP CONNECT proxy
 * tunnels, timeouts with stable codes, and a high-level {@link Client} with retries — the
 * networking an SDK embeds. The host resolver and retry strategies live in the runtime.
 *
 * @module sluice/sdk
 */
export * from './sdk-errors.js';
export * from './proxy-tunnel.js';
export * from './stream-manager.js';
export * from './client.js';
