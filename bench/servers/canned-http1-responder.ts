/**
 * A floor, not a server: the least a Node program can do to answer h2load's small HTTP/1.1 GETs.
 * It reads with `'data'` events and writes with `socket.write` like any Node server, and does no
 * HTTP beyond counting the requests in what arrived (each ends with an empty line, CRLF CRLF —
 * h2load's GETs carry no body): every request is answered with the same canned response bytes
 * (status line, the fields the servers send, the small body). No parsing, no validation, no
 * `date` formatting.
 *
 * @module
 */
import net from 'node:net';
import { announce, SMALL_BODY } from './routes.js';

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
  socket.on('data', (chunk: Buffer) => {
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
process.on('SIGTERM', () => process.exit(0));
