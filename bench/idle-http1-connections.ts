/**
 * Opens COUNT HTTP/1.1 keep-alive connections to 127.0.0.1:PORT with raw sockets, sends one GET
 * on each and reads its response — or, with `websocket`, a WebSocket upgrade and its 101 — prints
 * `ready` once every connection has had its answer, and holds them idle until stdin closes
 * (printing `closed` for every connection the server closes meanwhile, which voids a memory
 * figure): `node idle-http1-connections.js PORT COUNT [websocket]`. Raw sockets keep the client light, so
 * the server's memory is what is measured.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const [portText, countText, mode] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const isWebSocket = mode === 'websocket';

/** The request each connection sends (a fresh key per WebSocket upgrade). */
function request(): string {
  if (!isWebSocket) return `GET / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`;
  return (
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

const sockets: net.Socket[] = [];
let ready = 0;
/** Connect a few hundred at a time, so the listen backlog never overflows. */
let opened = 0;
function openMore(): void {
  const batchEnd = Math.min(count, opened + 200);
  for (; opened < batchEnd; opened++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.on('close', () => process.stdout.write('closed\n'));
    let isAnswered = false;
    socket.on('connect', () => socket.write(request()));
    socket.on('data', (chunk: Buffer) => {
      if (isAnswered) return;
      if (isWebSocket && !chunk.toString('latin1').startsWith('HTTP/1.1 101')) return;
      isAnswered = true;
      ready++;
      if (ready === count) process.stdout.write('ready\n');
      else if (ready === opened) openMore();
    });
    sockets.push(socket);
  }
}
openMore();
process.stdin.on('end', () => {
  for (const socket of sockets) socket.removeAllListeners('close').destroy();
  process.exit(0);
});
process.stdin.resume();
