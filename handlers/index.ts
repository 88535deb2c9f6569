/**
 * sluice: an event-loop channel-pipeline framework for Node.js.
 *
 * This entry exports the runtime (also available alone as `sluice/runtime`) and the built-in
 * handlers, and makes the socket handler the default transport of bootstraps.
 *
 * @module sluice
 */
export * from '../lib/index.js';
export * from './socket/index.js';
export * from './http2/index.js';
export * from './plugins/index.js';
export * from './tls/index.js';
export * from './sdk/index.js';
