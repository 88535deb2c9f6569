/**
 * The sluice side of the WebSocket benchmark: the one-API `createServer` with its `webSocket`
 * endpoint on 127.0.0.1 (no permessage-deflate, as the `ws` server), echoing every message back
 * as it came through the connection's low-level callbacks (`WebSocketConnection`: no promise per
 * message; what `ws`'s event API is to its users): `onMessageView` and `sendCopy`, the pair meant
 * for an echo or a relay.
 *
 * @module
 */
import { createServer } from '../../handlers/http1/index.js';
import { defaultEventLoopGroup } from '../../lib/index.js';
import { announce, reportStatsOnSignal } from './routes.js';

const loopGroup = defaultEventLoopGroup();
const server = createServer(
  {
    loopGroup,
    webSocket: {
      onWebSocket(socket) {
        socket.connection.setListener({
          // The message as a view of the read (or a pooled assembly), copied once into a pooled
          // send: no buffer per message. Consumed when the callback returns.
          onMessageView(connection, data, isText) {
            connection.sendCopy(data, isText);
          },
        });
      },
    },
  },
  (stream) => {
    stream.respond(404, {});
    void stream.end();
  },
);
const listener = await server.listen({ host: '127.0.0.1', port: Number(process.env['PORT'] ?? 0) });
announce(listener.port);
reportStatsOnSignal(() => ({ ...loopGroup.loops[0].messagePool.statistics() }));
const stop = (): void => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
