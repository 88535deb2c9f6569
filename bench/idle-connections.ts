/**
 * Opens COUNT idle h2c connections to 127.0.0.1:PORT with raw sockets (the client preface, an
 * empty SETTINGS, and an ACK of the server's SETTINGS), prints `ready` when every connection
 * has exchanged SETTINGS, and holds them until stdin closes: `node idle-connections.js PORT COUNT`.
 * Raw sockets keep the client light, so the server's memory is what is measured.
 *
 * @module
 */
import net from 'node:net';

const [portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const PREFACE_AND_SETTINGS = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);

const sockets: net.Socket[] = [];
let ready = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let isAcknowledged = false;
  socket.on('connect', () => socket.write(PREFACE_AND_SETTINGS));
  socket.on('data', () => {
    if (isAcknowledged) return;
    isAcknowledged = true;
    socket.write(SETTINGS_ACK);
    if (++ready === count) process.stdout.write('ready\n');
  });
  sockets.push(socket);
}
process.stdin.on('end', () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
process.stdin.resume();
