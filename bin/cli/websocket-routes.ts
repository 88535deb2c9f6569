/**
 * The WebSocket endpoints `sluice serve` answers: `GET /ws` echoes every message back. They are
 * one `WebSocketServerOptions`, which holds for either HTTP version's handshake: the HTTP/1.1
 * upgrade and RFC 8441's extended CONNECT over HTTP/2.
 *
 * @module
 */
import type { WebSocket, WebSocketServerOptions } from '../../handlers/websocket/index.js';

/** The path of the echo endpoint. */
export const WEBSOCKET_ECHO_PATH = '/ws';

/** What an endpoint does with each WebSocket it opened; it owns the socket until it closes. */
type WebSocketEndpoint = (socket: WebSocket) => Promise<void>;

/** The endpoints by path (query excluded). Add one here to serve it on every HTTP version. */
const ENDPOINTS: ReadonlyMap<string, WebSocketEndpoint> = new Map([[WEBSOCKET_ECHO_PATH, echo]]);

/** Sends every message back as it came (text as text, binary as binary), in order. */
async function echo(socket: WebSocket): Promise<void> {
  for await (const message of socket) await socket.send(message);
}

/** The path of a request target without its query. */
function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/**
 * The WebSocket endpoint options of `sluice serve`: permessage-deflate when offered; a request
 * for a path with no endpoint is refused with 404; `onOpen` sees each WebSocket opened (the server keeps them to close them
 * with 1001 on shutdown). An endpoint that fails (the peer went away mid-send) just ends.
 */
export function createWebSocketRoutes(onOpen: (socket: WebSocket) => void = () => undefined): WebSocketServerOptions {
  return {
    // permessage-deflate when the client offers it (browsers and ws do), with zlib's defaults.
    perMessageDeflate: {},
    acceptWebSocket: (request) =>
      ENDPOINTS.has(pathOf(request.path))
        ? { accept: true }
        : { accept: false, status: 404, body: `no WebSocket endpoint at ${pathOf(request.path)}\n` },
    onWebSocket: (socket, request) => {
      onOpen(socket);
      const endpoint = ENDPOINTS.get(pathOf(request.path));
      if (endpoint === undefined) return;
      endpoint(socket).catch(() => socket.close(1011).catch(() => undefined));
    },
  };
}
