/**
 * sluice: an event-loop channel-pipeline framework for Node.js.
 *
 * This entry exports the runtime (also available alone as `sluice/runtime`) and the built-in
 * handlers, and makes the socket handler the default transport of bootstraps. Its
 * `createServer` and `connect` are the one API over HTTP/1.1 and HTTP/2 (`sluice/http1`);
 * the HTTP/2-only ones are in `sluice/http2`. WebSocket (`connectWebSocket`, `WebSocket`, the
 * codec) is here too, and alone as `sluice/websocket`.
 *
 * @module sluice
 */
export * from '../lib/index.js';
export * from './socket/index.js';
export * from './http2/index.js';
export * from './http1/index.js';
// The one API (both protocols) wins over HTTP/2's own; those stay in `sluice/http2`.
export { connect, createServer } from './http1/index.js';
export * from './plugins/index.js';
export * from './tls/index.js';
export * from './sdk/index.js';
export * from './websocket/index.js';
