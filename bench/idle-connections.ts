/**
 * Opens COUNT idle h2c connections to 127.0.0.1:PORT with raw sockets, each carrying one request
 * before it goes idle (issue 25 measures memory "after one request"): the client preface and an
 * empty SETTINGS; on the server's first bytes an ACK of its SETTINGS and `GET /` on stream 1,
 * encoded as nghttp2's clients do (`:path`, `:authority` and `user-agent` as literals with
 * incremental indexing, so the server's HPACK decoder keeps them in its dynamic table). Prints
 * `ready` when every connection has seen its response end (and `closed` for every connection the
 * server closes, which voids a measurement), and holds them until stdin closes:
 * `node idle-connections.js PORT COUNT`. Pass `settings-only` as a third argument to stop after
 * the SETTINGS exchange instead. Raw sockets keep the client light, so the server's memory is
 * what is measured.
 *
 * @module
 */
import net from 'node:net';

const [portText, countText, mode] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const isSettingsOnly = mode === 'settings-only';

const PREFACE_AND_SETTINGS = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
const FRAME_HEADER_LENGTH = 9;
const END_STREAM = 0x1;

/** A header field as a literal with incremental indexing whose name is static-table entry `nameIndex` (RFC 7541 §6.2.1). */
function indexedLiteral(nameIndex: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40 | nameIndex, value.length]), Buffer.from(value, 'latin1')]);
}

/** HEADERS on stream 1 (END_STREAM | END_HEADERS): GET / at 127.0.0.1:PORT. */
function requestFrame(): Buffer {
  const block = Buffer.concat([
    Buffer.from([0x82, 0x86]), // :method GET, :scheme http
    indexedLiteral(4, '/'),
    indexedLiteral(1, `127.0.0.1:${port}`),
    indexedLiteral(58, 'sluice-bench-idle/1'),
  ]);
  const header = Buffer.from([0, 0, block.length, 1, 0x5, 0, 0, 0, 1]);
  return Buffer.concat([header, block]);
}

const REQUEST = requestFrame();
const sockets: net.Socket[] = [];
let ready = 0;

function markReady(): void {
  if (++ready === count) process.stdout.write('ready\n');
}

/** Whether `bytes` (the server's frames so far) hold a HEADERS or DATA frame ending stream 1. */
function hasResponseEnded(bytes: Buffer): boolean {
  for (let offset = 0; offset + FRAME_HEADER_LENGTH <= bytes.length;) {
    const length = bytes.readUIntBE(offset, 3);
    const type = bytes[offset + 3];
    const flags = bytes[offset + 4];
    const streamId = bytes.readUInt32BE(offset + 5) & 0x7fffffff;
    if (streamId === 1 && (type === 0 || type === 1) && (flags & END_STREAM) !== 0) return true;
    offset += FRAME_HEADER_LENGTH + length;
  }
  return false;
}

for (let i = 0; i < count; i++) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  // The measurement is void if the server closes idle connections (an idle timeout): say so.
  socket.on('close', () => process.stdout.write('closed\n'));
  let received = Buffer.alloc(0);
  let state: 'settings' | 'response' | 'idle' = 'settings';
  socket.on('connect', () => socket.write(PREFACE_AND_SETTINGS));
  socket.on('data', (chunk: Buffer) => {
    if (state === 'idle') return;
    if (state === 'settings') {
      if (isSettingsOnly) {
        socket.write(SETTINGS_ACK);
        state = 'idle';
        markReady();
        return;
      }
      socket.write(Buffer.concat([SETTINGS_ACK, REQUEST]));
      state = 'response';
    }
    received = Buffer.concat([received, chunk]);
    if (hasResponseEnded(received)) {
      received = Buffer.alloc(0);
      state = 'idle';
      markReady();
    }
  });
  sockets.push(socket);
}
process.stdin.on('end', () => {
  for (const socket of sockets) socket.removeAllListeners('close').destroy();
  process.exit(0);
});
process.stdin.resume();
