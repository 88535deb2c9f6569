/**
 * A floor, not a server: the least a Node program can do to answer h2load's small GETs over
 * h2c. It reads with `'data'` events and writes with `socket.write` like any Node server, and
 * does no HTTP/2 beyond finding frame boundaries: SETTINGS are acknowledged, every HEADERS frame
 * is answered with the same pre-encoded `:status: 200` and small body, everything else is
 * ignored (no HPACK decoding, no flow control, no validation). The bench measures it at c1 m1
 * to show how much of that workload's round trip any Node server can influence.
 *
 * With `BODY_BYTES=N` in the environment it answers every HEADERS with N bytes instead, as
 * 16 KiB DATA frames (the frame size every peer accepts) whose payloads are views of one
 * pre-built block: per frame a 9-byte header and a view, all handed to one corked (gathered)
 * write, no copy of the body. The bench measures it beside the download rows: the most a Node
 * program writing through `net.Socket` gets out of the same responses with no HTTP/2 work.
 *
 * @module
 */
import net from 'node:net';
import { announce, SMALL_BODY } from './routes.js';

const FRAME_HEADER = 9;
const PREFACE_LENGTH = 24;
const SETTINGS = 0x4;
const HEADERS = 0x1;
const ACK = 0x1;

const DATA = 0x0;
const END_STREAM = 0x1;
const MAX_FRAME_PAYLOAD = 16_384;
/** Body bytes per response: the small body unless BODY_BYTES says otherwise. */
const BODY_BYTES = Number(process.env['BODY_BYTES'] ?? 0);
/** The payload every full DATA frame points into (its contents do not matter to h2load). */
const PAYLOAD_BLOCK = Buffer.alloc(MAX_FRAME_PAYLOAD, 0x61);

const SERVER_SETTINGS = Buffer.from([0, 0, 0, SETTINGS, 0, 0, 0, 0, 0]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, SETTINGS, ACK, 0, 0, 0, 0]);

/** HEADERS (`:status: 200`, static table index 8) and DATA with END_STREAM, for `streamId`. */
function response(streamId: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER + 1 + FRAME_HEADER + SMALL_BODY.length);
  bytes.writeUIntBE(1, 0, 3);
  bytes[3] = HEADERS;
  bytes[4] = 0x4; // END_HEADERS
  bytes.writeUInt32BE(streamId, 5);
  bytes[9] = 0x88;
  bytes.writeUIntBE(SMALL_BODY.length, 10, 3);
  bytes[13] = 0x0; // DATA
  bytes[14] = 0x1; // END_STREAM
  bytes.writeUInt32BE(streamId, 15);
  SMALL_BODY.copy(bytes, 19);
  return bytes;
}

/**
 * Writes HEADERS and BODY_BYTES of DATA for `streamId` as one gathered write: the frame headers
 * of a response in one small buffer, each payload a view of {@link PAYLOAD_BLOCK}.
 */
function writeLargeResponse(socket: net.Socket, streamId: number): void {
  const frames = Math.max(1, Math.ceil(BODY_BYTES / MAX_FRAME_PAYLOAD));
  const headers = Buffer.allocUnsafe(FRAME_HEADER + 1 + frames * FRAME_HEADER);
  headers.writeUIntBE(1, 0, 3);
  headers[3] = HEADERS;
  headers[4] = 0x4; // END_HEADERS
  headers.writeUInt32BE(streamId, 5);
  headers[9] = 0x88; // :status: 200
  socket.cork();
  socket.write(headers.subarray(0, FRAME_HEADER + 1));
  let remaining = BODY_BYTES;
  for (let frame = 0; frame < frames; frame++) {
    const length = Math.min(remaining, MAX_FRAME_PAYLOAD);
    remaining -= length;
    const at = FRAME_HEADER + 1 + frame * FRAME_HEADER;
    headers.writeUIntBE(length, at, 3);
    headers[at + 3] = DATA;
    headers[at + 4] = remaining === 0 ? END_STREAM : 0;
    headers.writeUInt32BE(streamId, at + 5);
    socket.write(headers.subarray(at, at + FRAME_HEADER));
    if (length > 0) socket.write(length === MAX_FRAME_PAYLOAD ? PAYLOAD_BLOCK : PAYLOAD_BLOCK.subarray(0, length));
  }
  socket.uncork();
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.write(SERVER_SETTINGS);
  let pending: Buffer = Buffer.alloc(0);
  let hasPreface = false;
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    if (!hasPreface) {
      if (pending.length < PREFACE_LENGTH) return;
      hasPreface = true;
      offset = PREFACE_LENGTH;
    }
    const answers: Buffer[] = [];
    while (pending.length - offset >= FRAME_HEADER) {
      const length = pending.readUIntBE(offset, 3);
      if (pending.length - offset < FRAME_HEADER + length) break;
      const type = pending[offset + 3];
      const streamId = pending.readUInt32BE(offset + 5) & 0x7fffffff;
      if (type === SETTINGS && (pending[offset + 4] & ACK) === 0) answers.push(SETTINGS_ACK);
      else if (type === HEADERS && BODY_BYTES > 0) {
        if (answers.length > 0) socket.write(Buffer.concat(answers.splice(0)));
        writeLargeResponse(socket, streamId);
      } else if (type === HEADERS) answers.push(response(streamId));
      offset += FRAME_HEADER + length;
    }
    pending = pending.subarray(offset);
    if (answers.length > 0) socket.write(answers.length === 1 ? answers[0] : Buffer.concat(answers));
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0);
});
process.on('SIGTERM', () => process.exit(0));
