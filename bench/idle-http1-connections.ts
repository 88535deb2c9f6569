/**
 * Opens COUNT HTTP/1.1 keep-alive connections to 127.0.0.1:PORT with raw sockets, sends one GET
 * on each and reads its response, prints `ready` once every connection has had its answer, and
 * holds them idle until stdin closes: `node idle-http1-connections.js PORT COUNT`. Raw sockets
 * keep the client light, so the server's memory is what is measured.
 *
 * @module
 */
import net from 'node:net';

const [portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);

const sockets: net.Socket[] = [];
let ready = 0;
/** Connect a few hundred at a time, so the listen backlog never overflows. */
let opened = 0;
function openMore(): void {
  const batchEnd = Math.min(count, opened + 200);
  for (; opened < batchEnd; opened++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    let isAnswered = false;
    socket.on('connect', () => socket.write(REQUEST));
    socket.on('data', () => {
      if (isAnswered) return;
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
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
process.stdin.resume();
