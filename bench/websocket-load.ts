/**
 * One WebSocket echo load run, in its own process so it can be pinned to a core:
 * `node websocket-load.js PORT PATH CONNECTIONS IN_FLIGHT MESSAGES SIZE` opens CONNECTIONS
 * WebSocket connections (an HTTP/1.1 upgrade each), keeps IN_FLIGHT binary messages of SIZE
 * bytes in flight on each — a new one for every echo that comes back — until MESSAGES echoes
 * have arrived, then prints one JSON line `{ "messages": n, "seconds": s, "failed": f }`.
 *
 * The client is raw sockets with one pre-masked frame sent again and again — the replies to the
 * echoes of one read in one write — and reads only frame headers: its own CPU per message is a
 * small fraction of any server's, so the server under test is what limits the rate. The same client drives every server in a comparison.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const [portText, path = '/', connectionsText, inFlightText, messagesText, sizeText] = process.argv.slice(2);
const port = Number(portText);
const connectionCount = Number(connectionsText);
const inFlight = Number(inFlightText);
const total = Number(messagesText);
const size = Number(sizeText);

/** A client frame (FIN, binary, masked) carrying `size` bytes; masked once, sent as it is every time. */
function maskedBinaryFrame(length: number): Buffer {
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.alloc(headerLength + 4 + length);
  frame[0] = 0x82;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headerLength);
  const payload = randomBytes(length);
  for (let i = 0; i < length; i++) frame[headerLength + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

const FRAME = maskedBinaryFrame(size);
let sent = 0;
let received = 0;
let failed = 0;
let open = connectionCount;
let startedAt = 0n;

/**
 * Counts the server's frames in a byte stream split anywhere: reads each header, skips its
 * payload. A message is a frame with FIN and a data or continuation opcode.
 */
class FrameCounter {
  private pending = Buffer.alloc(0);
  private skip = 0;

  /** Returns how many whole messages `chunk` completed. */
  feed(chunk: Buffer): number {
    let data = chunk;
    if (this.skip >= data.length) {
      this.skip -= data.length;
      return 0;
    }
    data = data.subarray(this.skip);
    this.skip = 0;
    if (this.pending.length > 0) data = Buffer.concat([this.pending, data]);
    let at = 0;
    let messages = 0;
    while (data.length - at >= 2) {
      const first = data[at];
      const second = data[at + 1] & 0x7f;
      const headerLength = second < 126 ? 2 : second === 126 ? 4 : 10;
      if (data.length - at < headerLength) break;
      const length =
        second < 126 ? second : second === 126 ? data.readUInt16BE(at + 2) : Number(data.readBigUInt64BE(at + 2));
      const opcode = first & 0x0f;
      if ((first & 0x80) !== 0 && opcode < 0x8) messages++;
      at += headerLength;
      if (data.length - at < length) {
        this.skip = length - (data.length - at);
        at = data.length;
        break;
      }
      at += length;
    }
    this.pending = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
    return messages;
  }
}

function finish(): void {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  process.stdout.write(`${JSON.stringify({ messages: received, seconds, failed })}\n`);
  process.exit(0);
}

/** `FRAME` repeated k times, k up to the messages in flight: the replies to one read go in one write. */
const BATCHES: Buffer[] = [Buffer.alloc(0)];

/** Sends up to `count` more messages (fewer once MESSAGES were sent) in one write. */
function sendMore(socket: net.Socket, count: number): void {
  const n = Math.min(count, total - sent);
  if (n <= 0) return;
  sent += n;
  while (BATCHES.length <= n) BATCHES.push(Buffer.concat([BATCHES[BATCHES.length - 1], FRAME]));
  socket.write(BATCHES[n]);
}

function openConnection(onReady: (socket: net.Socket) => void): void {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const key = randomBytes(16).toString('base64');
  let head = '';
  let isUpgraded = false;
  const counter = new FrameCounter();
  socket.on('connect', () =>
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  socket.on('data', (chunk: Buffer) => {
    let data = chunk;
    if (!isUpgraded) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.startsWith('HTTP/1.1 101')) {
        failed++;
        socket.destroy();
        return;
      }
      isUpgraded = true;
      data = chunk.subarray(chunk.length - (head.length - end - 4));
      onReady(socket);
    }
    const echoed = counter.feed(data);
    if (echoed === 0) return;
    received += echoed;
    if (received >= total) finish();
    sendMore(socket, echoed);
  });
  socket.on('error', () => {
    failed++;
  });
  socket.on('close', () => {
    if (--open === 0 && received < total) finish();
  });
}

let ready = 0;
const sockets: net.Socket[] = [];
for (let i = 0; i < connectionCount; i++) {
  openConnection((socket) => {
    sockets.push(socket);
    if (++ready < connectionCount) return;
    // Everyone upgraded: start the clock and fill every connection's window.
    startedAt = process.hrtime.bigint();
    for (const each of sockets) sendMore(each, inFlight);
  });
}
setTimeout(() => {
  failed++;
  finish();
}, 120_000).unref();
