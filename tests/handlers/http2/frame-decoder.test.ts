import { expect } from 'chai';
import fc from 'fast-check';
import { thrownCode } from '../../support/error-codes.js';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  SettingId,
} from '../../../handlers/http2/wire/constants.js';
import {
  FRAME_DECODER_DEFAULTS,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameListener,
  type FramePriority,
} from '../../../handlers/http2/wire/frame-decoder.js';
import { FrameEncoder, type PriorityFields } from '../../../handlers/http2/wire/frame-encoder.js';
import { Http2ConnectionError, Http2StreamError } from '../../../handlers/http2/errors.js';
import { rawFrame } from '../../support/raw-frames.js';

// ---- helpers: record events, run every input whole, byte by byte and in random splits --------

/** One decoded event, with bytes as hex so runs compare with deep equality. */
type DecodedEvent = { readonly kind: string } & Record<string, unknown>;

function hex(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('hex');
}

/**
 * Records listener calls. DATA pieces of one frame are concatenated into one event at the frame
 * end, so runs with different splits compare equal; the recorder also checks the DATA contract
 * (no other event inside a frame's pieces, END_STREAM only on the last piece).
 */
class Recorder implements FrameListener {
  readonly events: DecodedEvent[] = [];
  private pieceStreamId = -1;
  private pieceHex = '';
  private pieceFlow = 0;

  onData(
    streamId: number,
    data: Uint8Array,
    start: number,
    end: number,
    flowControlledLength: number,
    isFrameEnd: boolean,
    isEndStream: boolean,
  ): void {
    if (this.pieceStreamId !== -1 && this.pieceStreamId !== streamId)
      throw new Error('DATA pieces of two streams interleave');
    if (isEndStream && !isFrameEnd) throw new Error('END_STREAM before the last piece');
    if (start < 0 || start > end || end > data.length) throw new Error(`bad range ${start}..${end} of ${data.length}`);
    this.pieceStreamId = streamId;
    this.pieceHex += hex(data, start, end);
    this.pieceFlow += flowControlledLength;
    if (!isFrameEnd) return;
    this.events.push({
      kind: 'data',
      streamId,
      data: this.pieceHex,
      flowControlledLength: this.pieceFlow,
      endStream: isEndStream,
    });
    this.pieceStreamId = -1;
    this.pieceHex = '';
    this.pieceFlow = 0;
  }

  onHeaders(
    streamId: number,
    block: Uint8Array,
    start: number,
    end: number,
    isEndStream: boolean,
    priority: FramePriority | null,
  ): void {
    this.push({
      kind: 'headers',
      streamId,
      block: hex(block, start, end),
      endStream: isEndStream,
      priority: priority === null ? null : { ...priority },
    });
  }

  onPriority(streamId: number, streamDependency: number, weight: number, isExclusive: boolean): void {
    this.push({ kind: 'priority', streamId, streamDependency, weight, isExclusive });
  }

  onRstStream(streamId: number, errorCode: number): void {
    this.push({ kind: 'rstStream', streamId, errorCode });
  }

  onSettings(settings: readonly number[], isAck: boolean): void {
    this.push({ kind: 'settings', settings: [...settings], isAck });
  }

  onPushPromise(streamId: number, promisedStreamId: number, block: Uint8Array, start: number, end: number): void {
    this.push({ kind: 'pushPromise', streamId, promisedStreamId, block: hex(block, start, end) });
  }

  onPing(opaqueHigh: number, opaqueLow: number, isAck: boolean): void {
    this.push({ kind: 'ping', opaqueHigh, opaqueLow, isAck });
  }

  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void {
    this.push({ kind: 'goaway', lastStreamId, errorCode, debugData: hex(debugData, start, end) });
  }

  onWindowUpdate(streamId: number, increment: number): void {
    this.push({ kind: 'windowUpdate', streamId, increment });
  }

  onStreamError(error: Http2StreamError): void {
    expect(error).to.be.instanceOf(Http2StreamError);
    this.push({ kind: 'streamError', streamId: error.streamId, errorCode: error.errorCode });
  }

  onUnknownFrame(type: number, flags: number, streamId: number, payload: Uint8Array, start: number, end: number): void {
    this.push({ kind: 'unknown', type, flags, streamId, payload: hex(payload, start, end) });
  }

  onPriorityUpdate(streamId: number, value: Uint8Array, start: number, end: number): void {
    this.push({ kind: 'priorityUpdate', streamId, value: Buffer.from(value.subarray(start, end)).toString('latin1') });
  }

  /** Ends a run: DATA of a truncated frame is kept as one `partialData` event. */
  finish(): void {
    if (this.pieceStreamId === -1) return;
    this.events.push({
      kind: 'partialData',
      streamId: this.pieceStreamId,
      data: this.pieceHex,
      flowControlledLength: this.pieceFlow,
    });
  }

  private push(event: DecodedEvent): void {
    if (this.pieceStreamId !== -1) throw new Error(`${event.kind} inside a DATA frame`);
    this.events.push(event);
  }
}

/** A recorder without `onUnknownFrame`, to check extension frames are skipped. */
class RecorderWithoutUnknown extends Recorder {}
Object.defineProperty(RecorderWithoutUnknown.prototype, 'onUnknownFrame', { value: undefined });

/** A recorder without `onPriorityUpdate`, to check the frame is checked and dropped. */
class RecorderWithoutPriorityUpdate extends Recorder {}
Object.defineProperty(RecorderWithoutPriorityUpdate.prototype, 'onPriorityUpdate', { value: undefined });

/** The server role, past the client preface, without requiring SETTINGS first. */
const SERVER: FrameDecoderOptions = { role: 'server', requireSettingsFirst: false };

interface DecodeResult {
  events: DecodedEvent[];
  /** The connection error decode() threw, or null. */
  connectionError: number | null;
}

/** Test options: most tests do not start with the peer's SETTINGS preface. */
const LOOSE: FrameDecoderOptions = { requireSettingsFirst: false };

function decodeWithCuts(
  input: Uint8Array,
  options: FrameDecoderOptions,
  cuts: readonly number[],
  listener = new Recorder(),
): DecodeResult {
  const decoder = new FrameDecoder(listener, options);
  let previous = 0;
  try {
    for (const cut of [...cuts, input.length]) {
      decoder.decode(input.subarray(previous, cut));
      previous = cut;
    }
  } catch (error) {
    if (!(error instanceof Http2ConnectionError)) throw error;
    // The decoder stays failed: every later call throws the same error.
    expect(decoder.error).to.equal(error);
    expect(() => decoder.decode(new Uint8Array([0])))
      .to.throw(Http2ConnectionError)
      .that.equals(error);
    listener.finish();
    return { events: listener.events, connectionError: error.errorCode };
  }
  listener.finish();
  return { events: listener.events, connectionError: null };
}

/** mulberry32: a small seeded generator so random splits are reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCuts(length: number, seed: number): number[] {
  const random = seededRandom(seed);
  const cuts: number[] = [];
  let at = 0;
  while (at < length) {
    // Mostly small pieces, sometimes empty ones, sometimes large.
    const r = random();
    at += r < 0.1 ? 0 : r < 0.8 ? 1 + Math.floor(random() * 12) : 1 + Math.floor(random() * 4096);
    if (at < length) cuts.push(at);
  }
  return cuts;
}

/**
 * Decodes `input` whole, one byte at a time and in `randomSplits` seeded random splits, asserts
 * every run saw identical events and errors, and returns the result.
 */
function decodeEverySplit(
  input: Uint8Array,
  options: FrameDecoderOptions = LOOSE,
  randomSplits = 5,
  seed = 1,
): DecodeResult {
  const whole = decodeWithCuts(input, options, []);
  const byteCuts: number[] = [];
  for (let i = 1; i < input.length; i++) byteCuts.push(i);
  expect(decodeWithCuts(input, options, byteCuts), 'fed one byte at a time').to.deep.equal(whole);
  for (let i = 0; i < randomSplits; i++) {
    const cuts = randomCuts(input.length, seed + i);
    expect(decodeWithCuts(input, options, cuts), `random split, seed ${seed + i}`).to.deep.equal(whole);
  }
  return whole;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

function setting(id: number, value: number): number[] {
  return [id >>> 8, id & 0xff, ...u32(value)];
}

const encoder = new FrameEncoder(MAX_MAX_FRAME_SIZE);
const scratch = Buffer.alloc(1 << 20);

/** Encodes with `write` into scratch space and returns a copy of the bytes. */
function encode(write: (target: Buffer, offset: number) => number): Uint8Array {
  const end = write(scratch, 0);
  return new Uint8Array(scratch.subarray(0, end));
}

function bytes(length: number, seed = 7): Uint8Array {
  const random = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const PING = rawFrame(FrameType.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
const PING_EVENT = { kind: 'ping', opaqueHigh: 0x01020304, opaqueLow: 0x05060708, isAck: false };

// ---- tests ---------------------------------------------------------------------------------

describe('FrameDecoder', () => {
  describe('valid frames', () => {
    it('delivers a DATA frame with its flow-controlled length and END_STREAM', () => {
      const payload = bytes(300);
      const input = encode((t, o) => encoder.writeData(t, o, 1, payload, 0, payload.length, true));
      expect(decodeEverySplit(input)).to.deep.equal({
        events: [{ kind: 'data', streamId: 1, data: hex(payload, 0, 300), flowControlledLength: 300, endStream: true }],
        connectionError: null,
      });
    });

    it('delivers a padded DATA frame without the padding, counting the padding for flow control', () => {
      const payload = bytes(40);
      const input = encode((t, o) => encoder.writeData(t, o, 3, payload, 0, 40, false, 17));
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'data', streamId: 3, data: hex(payload, 0, 40), flowControlledLength: 40 + 1 + 17, endStream: false },
      ]);
    });

    it('delivers empty DATA frames, padded or not, with END_STREAM', () => {
      const input = concat(
        encode((t, o) => encoder.writeData(t, o, 5, scratch, 0, 0, true)),
        encode((t, o) => encoder.writeData(t, o, 7, scratch, 0, 0, true, 0)),
        encode((t, o) => encoder.writeData(t, o, 9, scratch, 0, 0, false, 3)),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'data', streamId: 5, data: '', flowControlledLength: 0, endStream: true },
        { kind: 'data', streamId: 7, data: '', flowControlledLength: 1, endStream: true },
        { kind: 'data', streamId: 9, data: '', flowControlledLength: 4, endStream: false },
      ]);
    });

    it('delivers DATA split across chunks as several pieces, END_STREAM only on the last', () => {
      const payload = bytes(1000);
      const input = encode((t, o) => encoder.writeData(t, o, 1, payload, 0, 1000, true, 5));
      const pieces: Array<[number, number, boolean, boolean]> = [];
      const listener = new (class extends Recorder {
        override onData(
          streamId: number,
          data: Uint8Array,
          start: number,
          end: number,
          flow: number,
          isFrameEnd: boolean,
          isEndStream: boolean,
        ): void {
          pieces.push([end - start, flow, isFrameEnd, isEndStream]);
          super.onData(streamId, data, start, end, flow, isFrameEnd, isEndStream);
        }
      })();
      decodeWithCuts(input, LOOSE, [100, 600, input.length - 2], listener);
      expect(pieces).to.deep.equal([
        [90, 91, false, false], // 9 header bytes, the Pad Length byte, 90 data bytes
        [500, 500, false, false],
        [410, 410, false, false],
        [0, 5, true, true], // the padding ends the frame
      ]);
    });

    it('delivers DATA straight from the chunk, without copying', () => {
      const payload = bytes(64);
      const input = encode((t, o) => encoder.writeData(t, o, 1, payload, 0, 64, false));
      let seen: Uint8Array | null = null;
      const listener = new (class extends Recorder {
        override onData(
          streamId: number,
          data: Uint8Array,
          start: number,
          end: number,
          flow: number,
          isFrameEnd: boolean,
          isEndStream: boolean,
        ): void {
          seen = data;
          super.onData(streamId, data, start, end, flow, isFrameEnd, isEndStream);
        }
      })();
      new FrameDecoder(listener, LOOSE).decode(input);
      expect(seen).to.equal(input);
    });

    it('delivers a HEADERS block with END_STREAM, priority and padding', () => {
      const block = bytes(100);
      const priority: PriorityFields = { streamDependency: 3, weight: 256, isExclusive: true };
      const input = encode((t, o) => encoder.writeHeaders(t, o, 5, block, 0, 100, true, true, priority, 9));
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'headers', streamId: 5, block: hex(block, 0, 100), endStream: true, priority: { ...priority } },
      ]);
    });

    it('reassembles HEADERS + CONTINUATION frames into one block', () => {
      const block = bytes(50);
      const input = concat(
        encode((t, o) => encoder.writeHeaders(t, o, 1, block, 0, 20, false, false, undefined, 2)),
        encode((t, o) => encoder.writeContinuation(t, o, 1, block, 20, 0, false)),
        encode((t, o) => encoder.writeContinuation(t, o, 1, block, 20, 30, true)),
        PING,
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'headers', streamId: 1, block: hex(block, 0, 50), endStream: false, priority: null },
        PING_EVENT,
      ]);
    });

    it('delivers an empty header block', () => {
      const input = concat(
        rawFrame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1),
        rawFrame(FrameType.HEADERS, 0, 3),
        rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'headers', streamId: 1, block: '', endStream: true, priority: null },
        { kind: 'headers', streamId: 3, block: '', endStream: false, priority: null },
      ]);
    });

    it('delivers a PUSH_PROMISE block with its promised stream', () => {
      const block = bytes(30);
      const input = concat(
        encode((t, o) => encoder.writePushPromise(t, o, 1, 2, block, 0, 10, false, 4)),
        encode((t, o) => encoder.writeContinuation(t, o, 1, block, 10, 20, true)),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'pushPromise', streamId: 1, promisedStreamId: 2, block: hex(block, 0, 30) },
      ]);
    });

    it('delivers PRIORITY, RST_STREAM, PING, GOAWAY and WINDOW_UPDATE frames', () => {
      const debug = bytes(20);
      const input = concat(
        encode((t, o) => encoder.writePriority(t, o, 3, 1, 1, false)),
        encode((t, o) => encoder.writeRstStream(t, o, 3, ErrorCode.CANCEL)),
        encode((t, o) => encoder.writePing(t, o, 0xffffffff, 7, true)),
        encode((t, o) => encoder.writeGoaway(t, o, 9, ErrorCode.ENHANCE_YOUR_CALM, debug)),
        encode((t, o) => encoder.writeWindowUpdate(t, o, 0, 0x7fffffff)),
        encode((t, o) => encoder.writeWindowUpdate(t, o, 3, 1)),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'priority', streamId: 3, streamDependency: 1, weight: 1, isExclusive: false },
        { kind: 'rstStream', streamId: 3, errorCode: ErrorCode.CANCEL },
        { kind: 'ping', opaqueHigh: 0xffffffff, opaqueLow: 7, isAck: true },
        { kind: 'goaway', lastStreamId: 9, errorCode: ErrorCode.ENHANCE_YOUR_CALM, debugData: hex(debug, 0, 20) },
        { kind: 'windowUpdate', streamId: 0, increment: 0x7fffffff },
        { kind: 'windowUpdate', streamId: 3, increment: 1 },
      ]);
    });

    it('delivers SETTINGS in order, ignoring unknown settings, and SETTINGS ACK', () => {
      const input = concat(
        rawFrame(FrameType.SETTINGS, 0, 0, [
          ...setting(SettingId.HEADER_TABLE_SIZE, 0),
          ...setting(0x99, 12345),
          ...setting(SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff),
          ...setting(SettingId.MAX_FRAME_SIZE, 16_777_215),
          ...setting(SettingId.ENABLE_PUSH, 0),
          ...setting(SettingId.MAX_HEADER_LIST_SIZE, 0xffffffff),
          ...setting(SettingId.HEADER_TABLE_SIZE, 100),
        ]),
        rawFrame(FrameType.SETTINGS, 0, 0),
        encode((t, o) => encoder.writeSettingsAck(t, o)),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        {
          kind: 'settings',
          settings: [1, 0, 4, 0x7fffffff, 5, 16_777_215, 2, 0, 6, 0xffffffff, 1, 100],
          isAck: false,
        },
        { kind: 'settings', settings: [], isAck: false },
        { kind: 'settings', settings: [], isAck: true },
      ]);
    });

    it('ignores undefined flags', () => {
      const input = concat(
        rawFrame(FrameType.PING, 0xfe, 0, [0, 0, 0, 0, 0, 0, 0, 1]),
        rawFrame(FrameType.WINDOW_UPDATE, 0xff, 1, u32(10)),
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'ping', opaqueHigh: 0, opaqueLow: 1, isAck: false },
        { kind: 'windowUpdate', streamId: 1, increment: 10 },
      ]);
    });

    it('ignores the reserved bit of stream identifiers and window increments', () => {
      const input = concat(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(0x8000_0005)));
      input[5] |= 0x80;
      expect(decodeEverySplit(input).events).to.deep.equal([{ kind: 'windowUpdate', streamId: 0, increment: 5 }]);
    });

    it('passes unknown frame types to onUnknownFrame, or skips them without it', () => {
      const input = concat(rawFrame(0x20, 0x3, 7, [9, 8, 7]), rawFrame(0xff, 0, 0), PING);
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'unknown', type: 0x20, flags: 3, streamId: 7, payload: '090807' },
        { kind: 'unknown', type: 0xff, flags: 0, streamId: 0, payload: '' },
        PING_EVENT,
      ]);
      expect(decodeWithCuts(input, LOOSE, [12], new RecorderWithoutUnknown()).events).to.deep.equal([PING_EVENT]);
    });

    it('delivers PRIORITY_UPDATE (RFC 9218 §7.1) whole and split, ignoring the reserved bit', () => {
      const input = concat(
        CONNECTION_PREFACE,
        encode((t, o) => encoder.writePriorityUpdate(t, o, 5, 'u=0, i')),
        rawFrame(FrameType.PRIORITY_UPDATE, 0xff, 0, [...u32(0x8000_0007), ...Buffer.from('u=7')]),
        rawFrame(FrameType.PRIORITY_UPDATE, 0, 0, u32(9)),
        PING,
      );
      expect(decodeEverySplit(input, SERVER).events).to.deep.equal([
        { kind: 'priorityUpdate', streamId: 5, value: 'u=0, i' },
        { kind: 'priorityUpdate', streamId: 7, value: 'u=7' },
        { kind: 'priorityUpdate', streamId: 9, value: '' },
        PING_EVENT,
      ]);
      expect(
        decodeWithCuts(input, SERVER, [30, 31], new RecorderWithoutPriorityUpdate()).events,
        'without onPriorityUpdate: checked and dropped',
      ).to.deep.equal([PING_EVENT]);
    });

    it('accepts the client preface and a first SETTINGS frame in the server role', () => {
      const input = concat(
        CONNECTION_PREFACE,
        rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.ENABLE_PUSH, 0)),
        PING,
      );
      expect(decodeEverySplit(input, { role: 'server' }).events).to.deep.equal([
        { kind: 'settings', settings: [2, 0], isAck: false },
        PING_EVENT,
      ]);
    });

    it('accepts a first SETTINGS frame in the client role, with defaults', () => {
      expect(FRAME_DECODER_DEFAULTS.requireSettingsFirst).to.equal(true);
      const input = concat(rawFrame(FrameType.SETTINGS, 0, 0), PING);
      expect(decodeEverySplit(input, {}).events).to.deep.equal([
        { kind: 'settings', settings: [], isAck: false },
        PING_EVENT,
      ]);
    });

    it('accepts frames up to a raised max frame size', () => {
      const payload = bytes(20_000);
      const input = encode((t, o) => encoder.writeData(t, o, 1, payload, 0, payload.length, false));
      expect(decodeEverySplit(input, { ...LOOSE, maxFrameSize: 20_000 }, 2).events).to.have.length(1);
      const decoder = new FrameDecoder(new Recorder(), LOOSE);
      expect(() => decoder.decode(input)).to.throw(Http2ConnectionError);
      const raised = new FrameDecoder(new Recorder(), LOOSE);
      raised.maxFrameSize = 20_000;
      expect(() => raised.decode(input)).not.to.throw();
    });

    it('rejects a max frame size outside 2^14..2^24-1 with HTTP2_INVALID_ARGUMENT', () => {
      const decoder = new FrameDecoder(new Recorder(), LOOSE);
      expect(thrownCode(() => (decoder.maxFrameSize = 16_383))).to.equal('HTTP2_INVALID_ARGUMENT');
      expect(thrownCode(() => (decoder.maxFrameSize = 16_777_216))).to.equal('HTTP2_INVALID_ARGUMENT');
      expect(thrownCode(() => new FrameDecoder(new Recorder(), { maxFrameSize: 1.5e4 }))).to.equal(
        'HTTP2_INVALID_ARGUMENT',
      );
    });

    it('reports whether it sits between frames', () => {
      const decoder = new FrameDecoder(new Recorder(), LOOSE);
      expect(decoder.isAtFrameBoundary).to.equal(true);
      decoder.decode(PING.subarray(0, 10));
      expect(decoder.isAtFrameBoundary).to.equal(false);
      decoder.decode(PING.subarray(10));
      expect(decoder.isAtFrameBoundary).to.equal(true);
      decoder.decode(rawFrame(FrameType.HEADERS, 0, 1, [0x82]));
      expect(decoder.isAtFrameBoundary).to.equal(false);
    });

    it('accepts a header block of exactly maxHeaderBlockSize bytes in maxContinuationFrames CONTINUATIONs', () => {
      const block = bytes(40);
      const input = concat(
        rawFrame(FrameType.HEADERS, 0, 1, block.subarray(0, 10)),
        rawFrame(FrameType.CONTINUATION, 0, 1, block.subarray(10, 20)),
        rawFrame(FrameType.CONTINUATION, 0, 1, block.subarray(20, 30)),
        rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, block.subarray(30)),
      );
      const options = { ...LOOSE, maxHeaderBlockSize: 40, maxContinuationFrames: 3 };
      expect(decodeEverySplit(input, options).events).to.deep.equal([
        { kind: 'headers', streamId: 1, block: hex(block, 0, 40), endStream: false, priority: null },
      ]);
    });
  });

  describe('invalid frames', () => {
    interface ConnectionCase {
      name: string;
      input: Uint8Array;
      options?: FrameDecoderOptions;
      connectionError: number;
    }
    interface StreamCase {
      name: string;
      input: Uint8Array;
      options?: FrameDecoderOptions;
      streamError: { streamId: number; errorCode: number };
    }
    const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM } = ErrorCode;
    const openBlock = rawFrame(FrameType.HEADERS, 0, 1, [0x82]);
    const connectionCases: ConnectionCase[] = [
      {
        name: 'rejects a wrong client preface with connection PROTOCOL_ERROR',
        input: concat(CONNECTION_PREFACE.subarray(0, 20), new Uint8Array([0x0d, 0x0a, 0x0d, 0x0b])),
        options: { role: 'server' },
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects an HTTP/1.1 request in place of the preface with connection PROTOCOL_ERROR',
        input: new Uint8Array(Buffer.from('GET / HTTP/1.1\r\n\r\n')),
        options: { role: 'server', requireSettingsFirst: false },
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects a first frame other than SETTINGS with connection PROTOCOL_ERROR',
        input: PING,
        options: {},
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS ACK as the first frame with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, FrameFlag.ACK, 0),
        options: {},
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects a frame larger than SETTINGS_MAX_FRAME_SIZE with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.DATA, 0, 1, new Uint8Array(16_385)),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects an unknown frame larger than SETTINGS_MAX_FRAME_SIZE with connection FRAME_SIZE_ERROR',
        input: rawFrame(0x42, 0, 0, new Uint8Array(16_385)).subarray(0, 20),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects DATA on stream 0 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.DATA, 0, 0, [1]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects HEADERS on stream 0 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.HEADERS, 4, 0, [0x82]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PRIORITY on stream 0 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.PRIORITY, 0, 0, [0, 0, 0, 1, 0]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects RST_STREAM on stream 0 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.RST_STREAM, 0, 0, u32(8)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PUSH_PROMISE on stream 0 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.PUSH_PROMISE, 4, 0, u32(2)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects CONTINUATION on stream 0 inside a header block with connection PROTOCOL_ERROR',
        input: concat(openBlock, rawFrame(FrameType.CONTINUATION, 4, 0)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS on a stream with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 1),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PING on a stream with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.PING, 0, 1, new Uint8Array(8)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects GOAWAY on a stream with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.GOAWAY, 0, 3, new Uint8Array(8)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects a 7-byte PING with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.PING, 0, 0, new Uint8Array(7)),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 9-byte PING ACK with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.PING, 1, 0, new Uint8Array(9)),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 3-byte RST_STREAM with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.RST_STREAM, 0, 1, [0, 0, 8]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 5-byte RST_STREAM with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.RST_STREAM, 0, 1, [0, 0, 0, 8, 0]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 3-byte WINDOW_UPDATE with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.WINDOW_UPDATE, 0, 1, [0, 0, 1]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 5-byte WINDOW_UPDATE on stream 0 with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 0, 1, 0]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects a 7-byte GOAWAY with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(7)),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects SETTINGS of 5 bytes with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, [0, 1, 0, 0, 0]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects SETTINGS ACK with a payload with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.SETTINGS, FrameFlag.ACK, 0, setting(SettingId.ENABLE_PUSH, 0)),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects DATA padding as long as the payload with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.DATA, FrameFlag.PADDED, 1, [3, 0, 0]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects DATA padding longer than the payload with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.DATA, FrameFlag.PADDED, 1, [200, 1, 2, 3]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PADDED DATA without a Pad Length byte with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.DATA, FrameFlag.PADDED, 1),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects HEADERS padding longer than the fragment room with connection PROTOCOL_ERROR',
        input: rawFrame(
          FrameType.HEADERS,
          FrameFlag.PADDED | FrameFlag.PRIORITY | FrameFlag.END_HEADERS,
          1,
          [2, 0, 0, 0, 0, 16, 0x82],
        ),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PUSH_PROMISE padding longer than the fragment room with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.PUSH_PROMISE, FrameFlag.PADDED | FrameFlag.END_HEADERS, 1, [1, ...u32(2)]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects HEADERS too short for its priority fields with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.HEADERS, FrameFlag.PRIORITY | FrameFlag.END_HEADERS, 1, [0, 0, 0]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects PUSH_PROMISE too short for the promised stream id with connection FRAME_SIZE_ERROR',
        input: rawFrame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, [0, 0, 2]),
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects SETTINGS_ENABLE_PUSH of 2 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.ENABLE_PUSH, 2)),
        options: { role: 'server', requireSettingsFirst: false },
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS_ENABLE_PUSH of 1 from a server with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.ENABLE_PUSH, 1)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 with connection FLOW_CONTROL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.INITIAL_WINDOW_SIZE, 0x8000_0000)),
        connectionError: FLOW_CONTROL_ERROR,
      },
      {
        name: 'rejects SETTINGS_MAX_FRAME_SIZE below 2^14 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.MAX_FRAME_SIZE, 16_383)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS_MAX_FRAME_SIZE above 2^24-1 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, [
          ...setting(SettingId.HEADER_TABLE_SIZE, 1),
          ...setting(SettingId.MAX_FRAME_SIZE, 16_777_216),
        ]),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects SETTINGS_ENABLE_CONNECT_PROTOCOL of 2 with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.SETTINGS, 0, 0, setting(SettingId.ENABLE_CONNECT_PROTOCOL, 2)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects WINDOW_UPDATE with increment 0 on the connection with connection PROTOCOL_ERROR',
        input: rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(0)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects CONTINUATION after DATA with connection PROTOCOL_ERROR',
        input: concat(
          rawFrame(FrameType.DATA, 0, 1, [1]),
          rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, [0x82]),
        ),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects CONTINUATION after a complete header block with connection PROTOCOL_ERROR',
        input: concat(
          rawFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, [0x82]),
          rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, [0x82]),
        ),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects CONTINUATION on another stream than its HEADERS with connection PROTOCOL_ERROR',
        input: concat(openBlock, rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3, [0x82])),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects DATA between HEADERS and CONTINUATION with connection PROTOCOL_ERROR',
        input: concat(
          openBlock,
          rawFrame(FrameType.DATA, 0, 1, [1]),
          rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1),
        ),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PING between HEADERS and CONTINUATION with connection PROTOCOL_ERROR',
        input: concat(openBlock, PING),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects HEADERS between PUSH_PROMISE and CONTINUATION with connection PROTOCOL_ERROR',
        input: concat(
          rawFrame(FrameType.PUSH_PROMISE, 0, 1, u32(2)),
          rawFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1),
        ),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects an unknown frame type inside a header block with connection PROTOCOL_ERROR',
        input: concat(openBlock, rawFrame(0x30, 0, 1), rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1)),
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects more CONTINUATION frames than maxContinuationFrames, empty ones too, with connection ENHANCE_YOUR_CALM',
        input: concat(
          openBlock,
          rawFrame(FrameType.CONTINUATION, 0, 1),
          rawFrame(FrameType.CONTINUATION, 0, 1),
          rawFrame(FrameType.CONTINUATION, 0, 1),
        ),
        options: { ...LOOSE, maxContinuationFrames: 2 },
        connectionError: ENHANCE_YOUR_CALM,
      },
      {
        name: 'rejects a header block larger than maxHeaderBlockSize with connection ENHANCE_YOUR_CALM',
        input: concat(
          rawFrame(FrameType.HEADERS, 0, 1, new Uint8Array(30)),
          rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, new Uint8Array(11)),
        ),
        options: { ...LOOSE, maxHeaderBlockSize: 40 },
        connectionError: ENHANCE_YOUR_CALM,
      },
      {
        name: 'rejects PUSH_PROMISE received by a server with connection PROTOCOL_ERROR',
        input: concat(
          CONNECTION_PREFACE,
          rawFrame(FrameType.SETTINGS, 0, 0),
          rawFrame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, u32(2)),
        ),
        options: { role: 'server' },
        connectionError: PROTOCOL_ERROR,
      },
    ];
    connectionCases.push(
      {
        name: 'rejects PRIORITY_UPDATE on a stream other than 0 with connection PROTOCOL_ERROR (RFC 9218 §7.1)',
        input: concat(CONNECTION_PREFACE, rawFrame(FrameType.PRIORITY_UPDATE, 0, 3, [...u32(3), 0x75, 0x3d, 0x31])),
        options: SERVER,
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PRIORITY_UPDATE for stream 0 with connection PROTOCOL_ERROR (RFC 9218 §7.1)',
        input: concat(CONNECTION_PREFACE, rawFrame(FrameType.PRIORITY_UPDATE, 0, 0, [...u32(0x8000_0000), 0x69])),
        options: SERVER,
        connectionError: PROTOCOL_ERROR,
      },
      {
        name: 'rejects PRIORITY_UPDATE shorter than 4 bytes with connection FRAME_SIZE_ERROR (RFC 9113 §4.2)',
        input: concat(CONNECTION_PREFACE, rawFrame(FrameType.PRIORITY_UPDATE, 0, 0, [0, 0, 1])),
        options: SERVER,
        connectionError: FRAME_SIZE_ERROR,
      },
      {
        name: 'rejects PRIORITY_UPDATE received by a client with connection PROTOCOL_ERROR (RFC 9218 §7.1)',
        input: rawFrame(FrameType.PRIORITY_UPDATE, 0, 0, [...u32(1), 0x75, 0x3d, 0x31]),
        connectionError: PROTOCOL_ERROR,
      },
    );
    const streamCases: StreamCase[] = [
      {
        name: 'rejects a 4-byte PRIORITY with stream FRAME_SIZE_ERROR and goes on',
        input: rawFrame(FrameType.PRIORITY, 0, 3, [0, 0, 0, 1]),
        streamError: { streamId: 3, errorCode: FRAME_SIZE_ERROR },
      },
      {
        name: 'rejects a 6-byte PRIORITY with stream FRAME_SIZE_ERROR and goes on',
        input: rawFrame(FrameType.PRIORITY, 0, 5, [0, 0, 0, 1, 0, 0]),
        streamError: { streamId: 5, errorCode: FRAME_SIZE_ERROR },
      },
      {
        name: 'rejects an empty PRIORITY with stream FRAME_SIZE_ERROR and goes on',
        input: rawFrame(FrameType.PRIORITY, 0, 5),
        streamError: { streamId: 5, errorCode: FRAME_SIZE_ERROR },
      },
      {
        name: 'rejects a PRIORITY frame making a stream depend on itself with stream PROTOCOL_ERROR',
        input: rawFrame(FrameType.PRIORITY, 0, 7, [0x80, 0, 0, 7, 0]),
        streamError: { streamId: 7, errorCode: ErrorCode.PROTOCOL_ERROR },
      },
      {
        name: 'rejects WINDOW_UPDATE with increment 0 on a stream with stream PROTOCOL_ERROR',
        input: rawFrame(FrameType.WINDOW_UPDATE, 0, 9, u32(0)),
        streamError: { streamId: 9, errorCode: ErrorCode.PROTOCOL_ERROR },
      },
    ];

    for (const testCase of connectionCases) {
      it(testCase.name, () => {
        const result = decodeEverySplit(testCase.input, testCase.options ?? LOOSE);
        expect(result.connectionError).to.equal(testCase.connectionError);
        // The error is a connection error: nothing after it is decoded.
        expect(decodeEverySplit(concat(testCase.input, PING), testCase.options ?? LOOSE)).to.deep.equal(result);
      });
    }

    for (const testCase of streamCases) {
      it(testCase.name, () => {
        const result = decodeEverySplit(concat(testCase.input, PING), testCase.options ?? LOOSE);
        expect(result).to.deep.equal({
          events: [{ kind: 'streamError', ...testCase.streamError }, PING_EVENT],
          connectionError: null,
        });
      });
    }

    it('rejects HEADERS making its stream depend on itself with stream PROTOCOL_ERROR, still delivering the block', () => {
      const input = concat(
        rawFrame(FrameType.HEADERS, FrameFlag.PRIORITY, 3, [0, 0, 0, 3, 15, 0x82]),
        rawFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3, [0x84]),
        PING,
      );
      expect(decodeEverySplit(input).events).to.deep.equal([
        { kind: 'streamError', streamId: 3, errorCode: ErrorCode.PROTOCOL_ERROR },
        {
          kind: 'headers',
          streamId: 3,
          block: '8284',
          endStream: false,
          priority: { streamDependency: 3, weight: 16, isExclusive: false },
        },
        PING_EVENT,
      ]);
    });

    it('reports frames before a connection error and none after it', () => {
      const input = concat(
        PING,
        rawFrame(FrameType.DATA, 0, 1, [0xaa, 0xbb]),
        rawFrame(FrameType.DATA, 0, 0, [1]),
        PING,
      );
      expect(decodeEverySplit(input)).to.deep.equal({
        events: [PING_EVENT, { kind: 'data', streamId: 1, data: 'aabb', flowControlledLength: 2, endStream: false }],
        connectionError: ErrorCode.PROTOCOL_ERROR,
      });
    });

    it('lets listener exceptions propagate unchanged', () => {
      const failure = new TypeError('listener bug');
      const listener = new (class extends Recorder {
        override onPing(): void {
          throw failure;
        }
      })();
      expect(() => new FrameDecoder(listener, LOOSE).decode(PING))
        .to.throw(TypeError)
        .that.equals(failure);
    });
  });

  describe('round trips (fast-check)', () => {
    const streamId = fc.integer({ min: 1, max: 0x7fffffff });
    const padLength = fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined });
    const payload = fc.uint8Array({ maxLength: 600 });
    const options = { numRuns: 40 };

    /** Encodes with `write`, decodes every split (fewer random splits to bound time) and returns events. */
    function roundTrip(
      write: (target: Buffer, offset: number) => number,
      decodeOptions: FrameDecoderOptions = LOOSE,
    ): DecodedEvent[] {
      const result = decodeEverySplit(encode(write), decodeOptions, 1, 99);
      expect(result.connectionError).to.equal(null);
      return result.events;
    }

    it('round-trips DATA frames', () => {
      fc.assert(
        fc.property(streamId, payload, fc.boolean(), padLength, (id, data, isEndStream, pad) => {
          const events = roundTrip((t, o) => encoder.writeData(t, o, id, data, 0, data.length, isEndStream, pad));
          expect(events).to.deep.equal([
            {
              kind: 'data',
              streamId: id,
              data: hex(data, 0, data.length),
              flowControlledLength: data.length + (pad === undefined ? 0 : pad + 1),
              endStream: isEndStream,
            },
          ]);
        }),
        options,
      );
    });

    it('round-trips HEADERS frames with priority and padding', () => {
      const priority = fc.option(
        fc.record({
          streamDependency: fc.integer({ min: 0, max: 0x7fffffff }),
          weight: fc.integer({ min: 1, max: 256 }),
          isExclusive: fc.boolean(),
        }),
        { nil: undefined },
      );
      fc.assert(
        fc.property(streamId, payload, fc.boolean(), priority, padLength, (id, block, isEndStream, fields, pad) => {
          fc.pre(fields === undefined || fields.streamDependency !== id);
          const events = roundTrip((t, o) =>
            encoder.writeHeaders(t, o, id, block, 0, block.length, isEndStream, true, fields, pad),
          );
          expect(events).to.deep.equal([
            {
              kind: 'headers',
              streamId: id,
              block: hex(block, 0, block.length),
              endStream: isEndStream,
              priority: fields === undefined ? null : { ...fields },
            },
          ]);
        }),
        options,
      );
    });

    it('round-trips PRIORITY frames', () => {
      fc.assert(
        fc.property(
          streamId,
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer({ min: 1, max: 256 }),
          fc.boolean(),
          (id, dependency, weight, isExclusive) => {
            fc.pre(dependency !== id);
            expect(roundTrip((t, o) => encoder.writePriority(t, o, id, dependency, weight, isExclusive))).to.deep.equal(
              [{ kind: 'priority', streamId: id, streamDependency: dependency, weight, isExclusive }],
            );
          },
        ),
        options,
      );
    });

    it('round-trips RST_STREAM frames', () => {
      fc.assert(
        fc.property(streamId, fc.integer({ min: 0, max: 0xffffffff }), (id, code) => {
          expect(roundTrip((t, o) => encoder.writeRstStream(t, o, id, code))).to.deep.equal([
            { kind: 'rstStream', streamId: id, errorCode: code },
          ]);
        }),
        options,
      );
    });

    it('round-trips SETTINGS frames, dropping unknown settings, and SETTINGS ACK', () => {
      const known = fc.oneof(
        fc.tuple(fc.constant<number>(SettingId.HEADER_TABLE_SIZE), fc.integer({ min: 0, max: 0xffffffff })),
        fc.tuple(fc.constant<number>(SettingId.ENABLE_PUSH), fc.constant(0)),
        fc.tuple(fc.constant<number>(SettingId.MAX_CONCURRENT_STREAMS), fc.integer({ min: 0, max: 0xffffffff })),
        fc.tuple(fc.constant<number>(SettingId.INITIAL_WINDOW_SIZE), fc.integer({ min: 0, max: 0x7fffffff })),
        fc.tuple(fc.constant<number>(SettingId.MAX_FRAME_SIZE), fc.integer({ min: 16_384, max: 16_777_215 })),
        fc.tuple(fc.constant<number>(SettingId.MAX_HEADER_LIST_SIZE), fc.integer({ min: 0, max: 0xffffffff })),
        fc.tuple(fc.constant<number>(SettingId.ENABLE_CONNECT_PROTOCOL), fc.integer({ min: 0, max: 1 })),
        fc.tuple(fc.constant<number>(SettingId.NO_RFC7540_PRIORITIES), fc.integer({ min: 0, max: 1 })),
      );
      const unknown = fc.tuple(fc.integer({ min: 10, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }));
      fc.assert(
        fc.property(fc.array(fc.oneof(known, unknown), { maxLength: 20 }), fc.boolean(), (settings, isAck) => {
          const write = isAck
            ? (t: Buffer, o: number) => encoder.writeSettingsAck(t, o)
            : (t: Buffer, o: number) => encoder.writeSettings(t, o, settings);
          const expected = isAck ? [] : settings.filter(([id]) => id < 10 && id !== 7).flat();
          expect(roundTrip(write)).to.deep.equal([{ kind: 'settings', settings: expected, isAck }]);
        }),
        options,
      );
    });

    it('round-trips PUSH_PROMISE frames', () => {
      fc.assert(
        fc.property(streamId, streamId, payload, padLength, (id, promised, block, pad) => {
          expect(
            roundTrip((t, o) => encoder.writePushPromise(t, o, id, promised, block, 0, block.length, true, pad)),
          ).to.deep.equal([
            { kind: 'pushPromise', streamId: id, promisedStreamId: promised, block: hex(block, 0, block.length) },
          ]);
        }),
        options,
      );
    });

    it('round-trips PING frames', () => {
      const uint32 = fc.integer({ min: 0, max: 0xffffffff });
      fc.assert(
        fc.property(uint32, uint32, fc.boolean(), (high, low, isAck) => {
          expect(roundTrip((t, o) => encoder.writePing(t, o, high, low, isAck))).to.deep.equal([
            { kind: 'ping', opaqueHigh: high, opaqueLow: low, isAck },
          ]);
        }),
        options,
      );
    });

    it('round-trips GOAWAY frames with debug data', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer({ min: 0, max: 0xffffffff }),
          payload,
          (last, code, debug) => {
            expect(roundTrip((t, o) => encoder.writeGoaway(t, o, last, code, debug))).to.deep.equal([
              { kind: 'goaway', lastStreamId: last, errorCode: code, debugData: hex(debug, 0, debug.length) },
            ]);
          },
        ),
        options,
      );
    });

    it('round-trips WINDOW_UPDATE frames on streams and the connection', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer({ min: 1, max: 0x7fffffff }),
          (id, increment) => {
            expect(roundTrip((t, o) => encoder.writeWindowUpdate(t, o, id, increment))).to.deep.equal([
              { kind: 'windowUpdate', streamId: id, increment },
            ]);
          },
        ),
        options,
      );
    });

    it('round-trips CONTINUATION frames after HEADERS', () => {
      fc.assert(
        fc.property(streamId, fc.array(payload, { minLength: 1, maxLength: 4 }), (id, fragments) => {
          const whole = concat(...fragments);
          const events = roundTrip((t, o) => {
            let at = encoder.writeHeaders(
              t,
              o,
              id,
              fragments[0],
              0,
              fragments[0].length,
              false,
              fragments.length === 1,
            );
            for (let i = 1; i < fragments.length; i++) {
              at = encoder.writeContinuation(
                t,
                at,
                id,
                fragments[i],
                0,
                fragments[i].length,
                i === fragments.length - 1,
              );
            }
            return at;
          });
          expect(events).to.deep.equal([
            { kind: 'headers', streamId: id, block: hex(whole, 0, whole.length), endStream: false, priority: null },
          ]);
        }),
        options,
      );
    });

    it('round-trips unknown frame types', () => {
      fc.assert(
        fc.property(
          // 0x10 is PRIORITY_UPDATE (RFC 9218), known to the decoder.
          fc.integer({ min: 10, max: 255 }).filter((type) => type !== FrameType.PRIORITY_UPDATE),
          fc.integer({ min: 0, max: 255 }),
          fc.integer({ min: 0, max: 0x7fffffff }),
          payload,
          (type, flags, id, data) => {
            expect(roundTrip((t, o) => encoder.writeFrame(t, o, type, flags, id, data, 0, data.length))).to.deep.equal([
              { kind: 'unknown', type, flags, streamId: id, payload: hex(data, 0, data.length) },
            ]);
          },
        ),
        options,
      );
    });

    it('reassembles header blocks split for any max frame size and any message limit', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 70_000 }),
          fc.integer({ min: 16_384, max: 40_000 }),
          fc.integer({ min: 14, max: 20_000 }),
          fc.boolean(),
          fc.boolean(),
          (blockLength, maxFrameSize, messageLimit, isPushPromise, isEndStream) => {
            const block = bytes(blockLength, blockLength);
            const splitter = new FrameEncoder(maxFrameSize);
            const messages: Uint8Array[] = [PING];
            let progress = 0;
            do {
              const message = Buffer.alloc(messageLimit);
              const end = isPushPromise
                ? splitter.writePushPromiseBlock(message, 0, messageLimit, 1, 2, block, progress)
                : splitter.writeHeaderBlock(message, 0, messageLimit, 1, block, progress, isEndStream);
              expect(end, 'every message makes progress').to.be.greaterThan(0);
              messages.push(message.subarray(0, end));
              progress = splitter.headerBlockOffset;
            } while (!splitter.isHeaderBlockComplete);
            messages.push(PING);
            const input = concat(...messages);
            const decodeOptions = { ...LOOSE, maxFrameSize: MAX_MAX_FRAME_SIZE, maxContinuationFrames: 100_000 };
            // Message boundaries are cut points too, as the socket would deliver them.
            const result = decodeEverySplit(input, decodeOptions, 1, blockLength);
            const headerEvent = isPushPromise
              ? { kind: 'pushPromise', streamId: 1, promisedStreamId: 2, block: hex(block, 0, blockLength) }
              : {
                  kind: 'headers',
                  streamId: 1,
                  block: hex(block, 0, blockLength),
                  endStream: isEndStream,
                  priority: null,
                };
            expect(result).to.deep.equal({ events: [PING_EVENT, headerEvent, PING_EVENT], connectionError: null });
          },
        ),
        { numRuns: 25 },
      );
    });
  });

  describe('arbitrary input', () => {
    /** A frame with a random header, consistent length and random payload: reaches deep states. */
    const randomFrame = fc
      .record({
        type: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 10, max: 255 })),
        flags: fc.oneof(fc.constantFrom(0, 1, 4, 5, 8, 0x20, 0x24, 0x2d), fc.integer({ min: 0, max: 255 })),
        streamId: fc.oneof(fc.constantFrom(0, 1, 3), fc.integer({ min: 0, max: 0x7fffffff })),
        payload: fc.uint8Array({ maxLength: 40 }),
      })
      .map(({ type, flags, streamId, payload }) => rawFrame(type, flags, streamId, payload));
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(randomFrame, { maxLength: 8 }).map((frames) => concat(...frames)),
      fc.array(randomFrame, { maxLength: 8 }).map((frames) => concat(CONNECTION_PREFACE, ...frames)),
    );
    const decodeOptions = fc.record({
      role: fc.constantFrom<'client' | 'server'>('client', 'server'),
      requireSettingsFirst: fc.boolean(),
      maxHeaderBlockSize: fc.integer({ min: 0, max: 100 }),
      maxContinuationFrames: fc.integer({ min: 0, max: 3 }),
    });

    it('never throws anything but Http2ConnectionError, and decodes every split alike', () => {
      fc.assert(
        fc.property(input, decodeOptions, fc.integer({ min: 1, max: 1000 }), (bytesIn, options, seed) => {
          // decodeWithCuts rethrows anything that is not an Http2ConnectionError.
          const whole = decodeWithCuts(bytesIn, options, []);
          expect(decodeWithCuts(bytesIn, options, randomCuts(bytesIn.length, seed))).to.deep.equal(whole);
        }),
        { numRuns: 300 },
      );
    });

    it('fails a frame-header-only stream of random bytes only with Http2ConnectionError', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 9, maxLength: 64 }), (bytesIn) => {
          const decoder = new FrameDecoder(new Recorder(), LOOSE);
          try {
            decoder.decode(bytesIn);
          } catch (error) {
            expect(error).to.be.instanceOf(Http2ConnectionError);
            expect(Object.values(ErrorCode)).to.include((error as Http2ConnectionError).errorCode);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
