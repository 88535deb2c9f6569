/**
 * The `ws` side of the WebSocket benchmark: a `ws` WebSocketServer on 127.0.0.1 (no
 * permessage-deflate, as the sluice server) echoing every message back as it came.
 *
 * @module
 */
import { WebSocketServer } from 'ws';
import { announce, reportStatsOnSignal } from './routes.js';

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
  perMessageDeflate: false,
});
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.on('listening', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0);
});
reportStatsOnSignal(() => null);
const stop = (): void => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
