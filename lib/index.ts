/**
 * The sluice runtime: event loops and tasks, channels of slots, the handler contract, pooled
 * messages, read back-pressure, two-phase shutdown, bootstraps, errors, logging, statistics
 * and the testing channel.
 *
 * @module sluice/runtime
 */
export { ChannelErrors, IoErrors, SluiceError, asSluiceError, defineErrors, type ErrorDefinition } from './errors.js';
export * from './clock.js';
export { Task, TaskStatus, type TaskFunction } from './task.js';
export * from './event-loop.js';
export * from './io-message.js';
export * from './message-pool.js';
export * from './channel-handler.js';
export { PassThroughHandler, matchRightWindow } from './pass-through-handler.js';
export { ChannelSlot, UNLIMITED_WINDOW } from './channel-slot.js';
export * from './channel.js';
export * from './statistics.js';
export {
  LogLevel,
  SERVER_DEFAULT_LOG_LEVEL,
  createStreamLogger,
  log,
  noopLogger,
  parseLogLevel,
  setLogger,
  type LogSubject,
  type Logger,
} from './logging.js';
export { ConnectionDiagnostics, type ConnectionClosedMessage, type ConnectionOpenedMessage } from './diagnostics.js';
export * from './bootstrap.js';
export { DEFAULT_MIN_DATA_RATE, type MinDataRate } from './data-rate.js';
export * from './testing/testing-channel.js';
export * from './host-resolver.js';
export * from './retry-strategy.js';
export { SeededRandom } from './testing/seeded-random.js';
export {
  SimulatedSocket,
  SimulatedPipe,
  type SimulatedWaitingWrite,
  type SimulatedWriteCallback,
} from './testing/simulated-socket.js';
export * from './testing/simulated-network.js';
export * from './testing/simulation-invariants.js';
