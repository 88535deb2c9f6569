/**
 * Messages and endpoints the WebSocket tests over real sockets share: payloads that show a byte
 * out of place, an echoing endpoint, reading one message, and a sluice HTTP/2 server that serves
 * WebSockets (RFC 8441).
 */
import { createServer, type Http2ServerListener } from '../../../handlers/http2/api/server.js';
import { handleWebSocketStream } from '../../../handlers/websocket/api/http2-server.js';
import type { WebSocketServerOptions } from '../../../handlers/websocket/api/server-hooks.js';
import type { WebSocket, WebSocketMessage } from '../../../handlers/websocket/api/websocket.js';

/** `length` bytes where byte i is `(i * 131 + seed) & 0xff`: a shift or a swap shows. */
export function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed) & 0xff;
  return bytes;
}

/** `length` UTF-16 units of text mixing 1- to 4-byte UTF-8 characters. */
export function text(length: number): string {
  return 'aé€😀'.repeat(Math.ceil(length / 10) + 1).slice(0, length);
}

/** Echoes every message back until the connection ends. */
export function echo(socket: WebSocket): void {
  void (async () => {
    for await (const message of socket) {
      try {
        await socket.send(message);
      } catch {
        return;
      }
    }
  })();
}

/** The next message a WebSocket reads; throws when it ended instead. */
export async function nextMessage(socket: WebSocket): Promise<WebSocketMessage> {
  const result = await socket[Symbol.asyncIterator]().next();
  if (result.done === true) throw new Error('the WebSocket ended');
  return result.value;
}

/** A sluice HTTP/2 server serving WebSockets, from {@link startHttp2WebSocketServer}. */
export interface Http2WebSocketServer {
  readonly listener: Http2ServerListener;
  /** Every WebSocket opened, in order. */
  readonly sockets: WebSocket[];
  /** `http://127.0.0.1:port`. */
  readonly url: string;
}

/**
 * `createServer` of `sluice/http2` on loopback (extended CONNECT on unless told otherwise) whose
 * handler passes every stream to `handleWebSocketStream` (WebSockets go to `serve`, echo by
 * default) and answers the others 404.
 */
export async function startHttp2WebSocketServer(
  options: Partial<WebSocketServerOptions> = {},
  enableConnectProtocol = true,
  serve: (socket: WebSocket) => void = echo,
): Promise<Http2WebSocketServer> {
  const sockets: WebSocket[] = [];
  const wsOptions: WebSocketServerOptions = {
    onWebSocket: (socket) => {
      sockets.push(socket);
      serve(socket);
    },
    ...options,
  };
  const server = createServer({ http2: { enableConnectProtocol } }, (stream) => {
    if (handleWebSocketStream(stream, wsOptions)) return;
    stream.respond(404, { 'content-type': 'text/plain' });
    void stream.end('not a WebSocket\n');
  });
  const listener = await server.listen({ host: '127.0.0.1', port: 0 });
  return { listener, sockets, url: `http://127.0.0.1:${listener.port}` };
}
