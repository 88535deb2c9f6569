/**
 * A floor, not a server: the least a Node program can do to answer h2load's small HTTP/1.1 GETs.
 * It reads with `'data'` events and writes with `socket.write` like any Node server, and does no
 * HTTP beyond counting the requests in what arrived (each ends with an empty line, CRLF CRLF —
 * h2load's GETs carry no body): every request is answered with the same canned response bytes
 * (status line, the fields the servers send, the small body). No parsing, no validation, no
 * `date` formatting.
 *
 * It is also the idle-memory floor of the HTTP/1.1 and WebSocket rows: it reports its memory on
 * SIGUSR2 like the servers, and a request carrying `Sec-WebSocket-Key` gets a `101` with its
 * `Sec-WebSocket-Accept` (RFC 6455 §4.2.2), after which the socket's bytes are ignored — what a
 * Node server holds for an idle connection before it keeps any state of its own.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { announce, reportStatsOnSignal, SMALL_BODY } from './routes.js';

/** RFC 6455 §1.3's GUID, appended to the key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const WEBSOCKET_KEY = /sec-websocket-key:[ \t]*([^\r\n]+)/i;

/** The 101 answering a WebSocket upgrade with `key`. */
function switchingProtocols(key: string): string {
  const accept = createHash('sha1').update(`${key.trim()}${WEBSOCKET_GUID}`).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`;
}

const RESPONSE = Buffer.concat([
  Buffer.from(
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ' +
      `${SMALL_BODY.length}\r\ndate: Sun, 06 Dec 2026 00:00:00 GMT\r\nconnection: keep-alive\r\n\r\n`,
  ),
  SMALL_BODY,
]);

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  // How many bytes of a CRLF CRLF the previous chunk ended with.
  let matched = 0;
  let isUpgraded = false;
  socket.on('data', (chunk: Buffer) => {
    if (isUpgraded) return;
    if (matched === 0 && chunk[0] === 0x47 /* G */) {
      const key = WEBSOCKET_KEY.exec(chunk.toString('latin1'));
      if (key !== null) {
        isUpgraded = true;
        socket.write(switchingProtocols(key[1]));
        return;
      }
    }
    let requests = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === (matched % 2 === 0 ? 0x0d : 0x0a)) {
        matched++;
        if (matched === 4) {
          requests++;
          matched = 0;
        }
      } else matched = byte === 0x0d ? 1 : 0;
    }
    if (requests === 1) socket.write(RESPONSE);
    else if (requests > 1) socket.write(Buffer.concat(Array.from({ length: requests }, () => RESPONSE)));
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0);
});
reportStatsOnSignal(() => null);
process.on('SIGTERM', () => process.exit(0));
