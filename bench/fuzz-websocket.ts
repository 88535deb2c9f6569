/**
 * The WebSocket frame decoder as a target of `npm run fuzz` (`bench/fuzz.ts` round-robins over it
 * in both roles): valid traffic written with the project's encoder (fragmented text and binary,
 * control frames between fragments, close frames), WebSocket-aware mutations (opcode, RSV, FIN
 * and MASK bits, 16/64-bit lengths, UTF-8 breakers), random options and random splits.
 *
 * The only exception allowed out of the decoder is a {@link WebSocketProtocolError}; the listener
 * checks what it is given (ranges inside the chunk, control payloads ≤ 125 bytes, close codes that
 * may travel). Hangs and memory growth are caught by the fuzz loop's per-iteration budget and
 * memory sampling.
 *
 * @module
 */
import type { FuzzRandom } from './fuzz-http1.js';
import { WebSocketProtocolError } from '../handlers/websocket/errors.js';
import { Opcode, isSendableCloseCode, type DataOpcode } from '../handlers/websocket/wire/constants.js';
import {
  WebSocketFrameDecoder,
  type WebSocketFrameListener,
  type WebSocketRole,
} from '../handlers/websocket/wire/frame-decoder.js';
import { WebSocketFrameEncoder } from '../handlers/websocket/wire/frame-encoder.js';

const TEXTS = ['', 'hello', 'κόσμε', '😀 ok', 'x'.repeat(130), 'é'.repeat(40)];
/** Bytes spliced in by the mutations: what UTF-8 and framing bugs are made of. */
const INTERESTING = [
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf0, 0x9f],
  [0xff],
  [0x7e, 0x00, 0x7d],
  [0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
  [0x88, 0x01, 0x03],
  [0x88, 0x02, 0x03, 0xed],
  [0x80, 0x00],
  [0x09, 0x00],
].map((bytes) => Buffer.from(bytes));

/** Frames a peer of `decoderRole` would receive: written by the other role's encoder. */
export function validWebSocketTraffic(random: FuzzRandom, decoderRole: WebSocketRole): Buffer {
  const encoder = new WebSocketFrameEncoder({ role: decoderRole === 'server' ? 'client' : 'server' });
  const parts: Buffer[] = [];
  const frame = (length: number, write: (target: Buffer) => number): void => {
    const target = Buffer.allocUnsafe(encoder.frameLength(length));
    if (write(target) !== target.length) throw new Error('the encoder wrote less than frameLength said');
    parts.push(target);
  };
  for (let messages = 1 + random.int(4); messages > 0; messages--) {
    const isText = random.chance(0.5);
    const payload = isText
      ? Buffer.from(TEXTS[random.int(TEXTS.length)])
      : random.bytes(random.chance(0.05) ? random.int(70_000) : random.int(300));
    const fragments = 1 + random.int(3);
    const size = Math.ceil(payload.length / fragments);
    for (let i = 0; i < fragments; i++) {
      const start = Math.min(payload.length, i * size);
      const end = Math.min(payload.length, start + size);
      const opcode = i > 0 ? Opcode.CONTINUATION : isText ? Opcode.TEXT : Opcode.BINARY;
      const isFinal = i === fragments - 1;
      frame(end - start, (t) => encoder.writeDataFrame(t, 0, opcode, payload, start, end, isFinal, false));
      if (!isFinal && random.chance(0.3)) {
        const data = random.bytes(random.int(126));
        frame(data.length, (t) => (random.chance(0.5) ? encoder.writePing(t, 0, data) : encoder.writePong(t, 0, data)));
      }
    }
  }
  if (random.chance(0.3)) {
    // The payload length of the close frame: its frame length less that of an empty frame.
    const closePayload = encoder.closeFrameLength(1000, 'bye') - encoder.frameLength(0);
    frame(closePayload, (t) => encoder.writeClose(t, 0, 1000, 'bye'));
  }
  return Buffer.concat(parts);
}

/** Mutates valid traffic: bit flips, byte edits, truncations, deletions, duplications, header edits, splices. */
export function mutateWebSocket(random: FuzzRandom, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  for (let edits = 1 + random.int(3); edits > 0; edits--) {
    if (bytes.length === 0) return random.bytes(random.int(40));
    const at = random.int(bytes.length);
    switch (random.int(8)) {
      case 0:
        bytes[at] ^= 1 << random.int(8);
        break;
      case 1:
        bytes[at] = random.int(256);
        break;
      case 2:
        bytes = bytes.subarray(0, at);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(40))]);
        break;
      case 4: {
        const piece = bytes.subarray(at, at + 1 + random.int(100));
        bytes = Buffer.concat([bytes.subarray(0, at), piece, piece, bytes.subarray(at + piece.length)]);
        break;
      }
      case 5:
        // The first byte of the traffic is a frame header: opcode, RSV and FIN edits.
        bytes[0] = (bytes[0] & 0x80) | (random.int(8) << 4) | random.int(16);
        break;
      case 6:
        // Mask bit or length field of the first frame.
        if (bytes.length > 1) bytes[1] = random.chance(0.5) ? bytes[1] ^ 0x80 : (bytes[1] & 0x80) | random.int(128);
        break;
      default:
        bytes = Buffer.concat([bytes.subarray(0, at), INTERESTING[random.int(INTERESTING.length)], bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** Checks what the decoder reports, touching every byte range. */
class CheckingListener implements WebSocketFrameListener {
  touched = 0;

  onData(opcode: DataOpcode, data: Uint8Array, start: number, end: number): void {
    if (opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) throw new Error(`data with opcode ${String(opcode)}`);
    this.checkRange(data, start, end);
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.checkRange(data, start, end);
    if (end - start > 125) throw new Error(`a ${end - start}-byte ping`);
  }

  onPong(data: Uint8Array, start: number, end: number): void {
    this.checkRange(data, start, end);
    if (end - start > 125) throw new Error(`a ${end - start}-byte pong`);
  }

  onClose(code: number, reason: string, data: Uint8Array, start: number, end: number): void {
    this.checkRange(data, start, end);
    if (code !== 1005 && !isSendableCloseCode(code)) throw new Error(`close code ${code} delivered`);
    this.touched += reason.length;
  }

  private checkRange(data: Uint8Array, start: number, end: number): void {
    if (!(start >= 0 && start <= end && end <= data.length))
      throw new Error(`range ${start}..${end} of ${data.length}`);
    if (end > start) this.touched += data[start] & 1;
  }
}

/** Splits `bytes` into 1–4 chunks, or single bytes for short inputs now and then. */
function split(random: FuzzRandom, bytes: Buffer): Buffer[] {
  if (bytes.length <= 512 && random.chance(0.1)) return Array.from(bytes, (byte) => Buffer.from([byte]));
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 1 + random.int(4); i > 1 && at < bytes.length; i--) {
    const end = at + random.int(bytes.length - at + 1);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

/**
 * Feeds `input` to a decoder of `role` with random options and splits. Returns the outcome: `ok`
 * or the error code. Throws anything else that escaped, or an `Error` for a broken contract.
 */
export function fuzzWebSocketDecoder(random: FuzzRandom, input: Buffer, role: WebSocketRole): string {
  const decoder = new WebSocketFrameDecoder(new CheckingListener(), {
    role,
    maxMessageSize: random.chance(0.3) ? random.int(2000) : undefined,
    isPerMessageDeflate: random.chance(0.3),
    validateUtf8: random.chance(0.9),
  });
  try {
    for (const chunk of split(random, input)) decoder.decode(chunk);
    return 'ok';
  } catch (error) {
    if (error instanceof WebSocketProtocolError) {
      if (decoder.error !== error)
        throw new Error(`${error.code} thrown but not kept as the decoder's error`, { cause: error });
      if (![1002, 1007, 1009].includes(error.closeCode))
        throw new Error(`${error.code} with close code ${error.closeCode}`, { cause: error });
      return error.code;
    }
    throw error;
  }
}
