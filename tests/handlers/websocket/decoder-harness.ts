/**
 * Runs the WebSocket frame decoder over an input whole, byte by byte and in random splits, and
 * checks every run reports the same events: the one helper every decoder test goes through. Also
 * builds raw frames by hand (independently of the encoder), so tests can write what the encoder
 * refuses to.
 */
import { expect } from 'chai';
import { WebSocketProtocolError } from '../../../handlers/websocket/errors.js';
import {
  WebSocketFrameDecoder,
  type WebSocketFrameDecoderOptions,
  type WebSocketFrameListener,
} from '../../../handlers/websocket/wire/frame-decoder.js';
import type { DataOpcode } from '../../../handlers/websocket/wire/constants.js';

/** One decoded event; a data frame's pieces are merged, so runs split differently compare equal. */
export type DecodedEvent =
  | { kind: 'frame'; opcode: DataOpcode; hex: string; isMessageEnd: boolean; isCompressed: boolean }
  | { kind: 'ping' | 'pong'; hex: string }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; code: string; closeCode: number };

class Recorder implements WebSocketFrameListener {
  readonly events: DecodedEvent[] = [];
  private pending: Buffer[] = [];

  onData(
    opcode: DataOpcode,
    data: Uint8Array,
    start: number,
    end: number,
    isFrameEnd: boolean,
    isMessageEnd: boolean,
    isCompressed: boolean,
  ): void {
    // Plain checks, not chai: this runs once per byte in byte-by-byte runs.
    if (!(start >= 0 && start <= end && end <= data.length))
      throw new Error(`range ${start}..${end} of ${data.length}`);
    if (isMessageEnd && !isFrameEnd) throw new Error('a message ends at a frame end');
    this.pending.push(Buffer.from(data.subarray(start, end)));
    if (!isFrameEnd) return;
    const hex = Buffer.concat(this.pending).toString('hex');
    this.pending = [];
    this.events.push({ kind: 'frame', opcode, hex, isMessageEnd, isCompressed });
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.events.push({ kind: 'ping', hex: Buffer.from(data.subarray(start, end)).toString('hex') });
  }

  onPong(data: Uint8Array, start: number, end: number): void {
    this.events.push({ kind: 'pong', hex: Buffer.from(data.subarray(start, end)).toString('hex') });
  }

  onClose(code: number, reason: string, data: Uint8Array, start: number, end: number): void {
    expect(Buffer.from(data.subarray(start, end)).toString('utf8')).to.equal(reason);
    this.events.push({ kind: 'close', code, reason });
  }
}

/** Decodes `input` cut at `cuts` (increasing offsets) and returns the events. */
export function decodeWithCuts(
  input: Uint8Array,
  cuts: readonly number[],
  options: WebSocketFrameDecoderOptions = {},
): DecodedEvent[] {
  const recorder = new Recorder();
  const decoder = new WebSocketFrameDecoder(recorder, options);
  const bounds = [0, ...cuts, input.length];
  try {
    for (let i = 0; i + 1 < bounds.length; i++) {
      // A fresh copy per chunk: the decoder unmasks in place and must not keep views of earlier chunks.
      const chunk = Uint8Array.from(input.subarray(bounds[i], bounds[i + 1]));
      decoder.decode(chunk);
    }
  } catch (error) {
    if (!(error instanceof WebSocketProtocolError)) throw error;
    recorder.events.push({ kind: 'error', code: error.code, closeCode: error.closeCode });
    expect(decoder.error).to.equal(error);
    expect(() => decoder.decode(Uint8Array.of(0x81)), 'a failed decoder throws the same error')
      .to.throw(WebSocketProtocolError)
      .that.equals(error);
  }
  return recorder.events;
}

/** A small seeded PRNG (mulberry32), so random splits repeat. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random increasing cut offsets inside `length`, pieces of 1 to `maxPiece` bytes. */
export function randomCuts(length: number, random: () => number, maxPiece = 40): number[] {
  const cuts: number[] = [];
  for (let at = 0; at < length;) {
    at += 1 + Math.floor(random() * Math.min(length, maxPiece));
    if (at < length) cuts.push(at);
  }
  return cuts;
}

/**
 * Decodes `input` whole, one byte at a time (inputs up to `byteByByteLimit`), and in `splits`
 * random splits; asserts every run reports the same events and returns them.
 */
export function decodeAllWays(
  input: Uint8Array,
  options: WebSocketFrameDecoderOptions = {},
  splits = 8,
  byteByByteLimit = 70_000,
): DecodedEvent[] {
  const whole = decodeWithCuts(input, [], options);
  if (input.length <= byteByByteLimit) {
    const everyByte = Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => i + 1);
    expect(decodeWithCuts(input, everyByte, options), 'byte by byte').to.deep.equal(whole);
  }
  const random = seededRandom(input.length * 7919 + 17);
  for (let i = 0; i < splits; i++) {
    const cuts = randomCuts(input.length, random);
    expect(decodeWithCuts(input, cuts, options), `split at ${cuts.join(',')}`).to.deep.equal(whole);
  }
  return whole;
}

/** The events' error, or undefined. */
export function errorOf(events: readonly DecodedEvent[]): { code: string; closeCode: number } | undefined {
  const last = events[events.length - 1];
  return last?.kind === 'error' ? { code: last.code, closeCode: last.closeCode } : undefined;
}

/** How to build one raw frame with {@link rawFrame}. */
export interface RawFrame {
  /** The opcode, 0–15. */
  opcode: number;
  /** The payload (unmasked). */
  payload?: Uint8Array | string;
  /** FIN (default true). */
  fin?: boolean;
  /** RSV bits as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  /** The masking key; undefined for an unmasked frame. */
  mask?: readonly number[];
  /** Force the length encoding: 7, 16 or 64 bits (default minimal). */
  lengthBits?: 7 | 16 | 64;
  /** Announce this length instead of the payload's (for limits and 64-bit top-bit cases). */
  announcedLength?: number;
}

/** The masking key tests use for client frames. */
export const TEST_MASK = [0x37, 0xfa, 0x21, 0x3d] as const;

/** Builds one frame byte by byte, per RFC 6455 §5.2, with none of the encoder's checks. */
export function rawFrame(frame: RawFrame): Buffer {
  const payload = typeof frame.payload === 'string' ? Buffer.from(frame.payload) : Buffer.from(frame.payload ?? []);
  const length = frame.announcedLength ?? payload.length;
  const bits = frame.lengthBits ?? (length < 126 ? 7 : length < 65_536 ? 16 : 64);
  const bytes: number[] = [((frame.fin ?? true) ? 0x80 : 0) | ((frame.rsv ?? 0) << 4) | frame.opcode];
  const maskBit = frame.mask === undefined ? 0 : 0x80;
  if (bits === 7) bytes.push(maskBit | length);
  else if (bits === 16) bytes.push(maskBit | 126, length >>> 8, length & 0xff);
  else {
    const high = Math.floor(length / 2 ** 32);
    bytes.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    bytes.push(length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  const masked = Buffer.from(payload);
  if (frame.mask !== undefined) {
    bytes.push(...frame.mask);
    for (let i = 0; i < masked.length; i++) masked[i] ^= frame.mask[i & 3];
  }
  return Buffer.concat([Buffer.from(bytes), masked]);
}

/** A frame as a client sends it to a server: masked with {@link TEST_MASK}. */
export function clientFrame(frame: Omit<RawFrame, 'mask'>): Buffer {
  return rawFrame({ ...frame, mask: TEST_MASK });
}
