/**
 * The socket handler and its transport factory. Importing this module makes the socket handler
 * the default transport of bootstraps created without one.
 *
 * @module sluice/socket
 */
import { setDefaultTransport } from '../../lib/index.js';
import { socketTransport } from './socket-handler.js';

export {
  SOCKET_LINGER_MS,
  SocketHandler,
  socketTransport,
  type SocketHandlerOptions,
  type SocketStatistics,
} from './socket-handler.js';

setDefaultTransport(socketTransport);
