/**
 * The sluice runtime: event loops and tasks, channels of slots, the handler contract, pooled
 * messages, read back-pressure, two-phase shutdown, bootstraps, errors, logging, statistics
 * and the testing channel.
 *
 * @module sluice/runtime
 */
export * from './errors.js';
export * from './clock.js';
export { Task, TaskStatus, type TaskFunction, type TaskOwner } from './task.js';
export * from './event-loop.js';
export * from './io-message.js';
export * from './message-pool.js';
export * from './channel-handler.js';
export { ChannelSlot, UNLIMITED_WINDOW } from './channel-slot.js';
export * from './channel.js';
export * from './statistics.js';
export * from './logging.js';
export { ConnectionDiagnostics, type ConnectionClosedMessage, type ConnectionOpenedMessage } from './diagnostics.js';
export * from './socket-errors.js';
export * from './bootstrap.js';
export * from './testing/testing-channel.js';
export * from './host-resolver.js';
export { parseUrl } from './url.js';
export * from './retry-strategy.js';
export * from './pending-writes.js';
export * from './read-queue.js';
export * from './small-fifo.js';
