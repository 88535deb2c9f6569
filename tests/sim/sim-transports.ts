/** The transports the simulator's channels start with. */
import { SERVER_WRITE_TIMEOUT_MS, type TransportHandlerFactory } from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';

/**
 * The socket handler as sluice's HTTP servers install it: with their default write-progress
 * deadline, which bounds a graceful shutdown toward a peer that does not read (both ends of a
 * connection shutting down at once stop reading while they flush; the server's deadline ends it).
 */
export const serverTransport: TransportHandlerFactory = (socket) =>
  socketTransport(socket, { writeTimeoutMs: SERVER_WRITE_TIMEOUT_MS });
