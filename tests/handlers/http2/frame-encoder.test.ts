import { expect } from 'chai';
import fc from 'fast-check';
import { thrownCode } from '../../support/error-codes.js';
import { ErrorCode, FrameFlag, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import {
  FrameEncoder,
  PING_FRAME_LENGTH,
  PRIORITY_FRAME_LENGTH,
  RST_STREAM_FRAME_LENGTH,
  SETTINGS_ACK_FRAME_LENGTH,
  WINDOW_UPDATE_FRAME_LENGTH,
  dataFrameLength,
  frameLength,
  goawayFrameLength,
  headerBlockFramesLength,
  headersFrameLength,
  pushPromiseFrameLength,
  settingsFrameLength,
  writeFrameHeader,
} from '../../../handlers/http2/wire/frame-encoder.js';

function hexOf(target: Uint8Array, start: number, end: number): string {
  return Buffer.from(target.buffer, target.byteOffset + start, end - start).toString('hex');
}

/** Writes into a 0xEE-filled buffer at offset 3 and returns the hex written, checking the bytes around it are untouched. */
function written(write: (target: Buffer, offset: number) => number, expectedLength: number): string {
  const target = Buffer.alloc(expectedLength + 6, 0xee);
  const end = write(target, 3);
  expect(end - 3, 'returned offset').to.equal(expectedLength);
  expect(hexOf(target, 0, 3)).to.equal('eeeeee');
  expect(hexOf(target, end, target.length)).to.equal('eeeeee');
  return hexOf(target, 3, end);
}

interface ParsedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Splits bytes into frames by their headers; throws if a frame is cut. */
function parseFrames(bytes: Uint8Array): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
    if (at + 9 + length > bytes.length) throw new Error('frame cut at the end of the message');
    const streamId = ((bytes[at + 5] << 24) | (bytes[at + 6] << 16) | (bytes[at + 7] << 8) | bytes[at + 8]) >>> 0;
    frames.push({
      type: bytes[at + 3],
      flags: bytes[at + 4],
      streamId,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return frames;
}

const block = new Uint8Array(100_000).map((_, i) => (i * 7 + 3) & 0xff);

describe('FrameEncoder', () => {
  const encoder = new FrameEncoder();

  describe('frames', () => {
    it('writes a frame header with the reserved bit cleared', () => {
      const target = new Uint8Array(9);
      expect(writeFrameHeader(target, 0, 0x123456, 0xab, 0xcd, 0xffffffff)).to.equal(9);
      expect(hexOf(target, 0, 9)).to.equal('123456abcd7fffffff');
    });

    it('writes DATA copying the caller bytes from an offset', () => {
      const src = new Uint8Array([9, 9, 1, 2, 3, 9]);
      expect(written((t, o) => encoder.writeData(t, o, 1, src, 2, 3, true), dataFrameLength(3))).to.equal(
        '000003000100000001' + '010203',
      );
    });

    it('writes padded DATA with the Pad Length byte and zero padding', () => {
      const src = new Uint8Array([0xaa, 0xbb]);
      expect(written((t, o) => encoder.writeData(t, o, 3, src, 0, 2, false, 2), dataFrameLength(2, 2))).to.equal(
        '000005000800000003' + '02aabb0000',
      );
      expect(written((t, o) => encoder.writeData(t, o, 3, src, 0, 0, true, 0), dataFrameLength(0, 0))).to.equal(
        '000001000900000003' + '00',
      );
    });

    it('writes DATA larger than the small-copy threshold', () => {
      const src = block.subarray(0, 5000);
      const hex = written((t, o) => encoder.writeData(t, o, 5, src, 0, 5000, false), dataFrameLength(5000));
      expect(hex).to.equal('001388000000000005' + hexOf(src, 0, 5000));
    });

    it('writes HEADERS with END_STREAM, END_HEADERS, priority and padding', () => {
      const fragment = new Uint8Array([0x82, 0x86]);
      const priority = { streamDependency: 3, weight: 256, isExclusive: true };
      expect(
        written(
          (t, o) => encoder.writeHeaders(t, o, 5, fragment, 0, 2, true, true, priority, 1),
          headersFrameLength(2, true, 1),
        ),
      ).to.equal('000009012d00000005' + '01' + '80000003ff' + '8286' + '00');
      expect(
        written((t, o) => encoder.writeHeaders(t, o, 5, fragment, 1, 1, false, false), headersFrameLength(1, false)),
      ).to.equal('000001010000000005' + '86');
    });

    it('writes PRIORITY with weight minus one', () => {
      expect(written((t, o) => encoder.writePriority(t, o, 7, 5, 16, false), PRIORITY_FRAME_LENGTH)).to.equal(
        '000005020000000007' + '000000050f',
      );
    });

    it('writes RST_STREAM', () => {
      expect(written((t, o) => encoder.writeRstStream(t, o, 7, ErrorCode.CANCEL), RST_STREAM_FRAME_LENGTH)).to.equal(
        '000004030000000007' + '00000008',
      );
    });

    it('writes SETTINGS pairs in order, and SETTINGS ACK', () => {
      const settings: Array<[number, number]> = [
        [SettingId.MAX_CONCURRENT_STREAMS, 100],
        [SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff],
      ];
      expect(written((t, o) => encoder.writeSettings(t, o, settings), settingsFrameLength(2))).to.equal(
        '00000c040000000000' + '000300000064' + '00047fffffff',
      );
      expect(written((t, o) => encoder.writeSettings(t, o, []), settingsFrameLength(0))).to.equal('000000040000000000');
      expect(written((t, o) => encoder.writeSettingsAck(t, o), SETTINGS_ACK_FRAME_LENGTH)).to.equal(
        '000000040100000000',
      );
    });

    it('writes PUSH_PROMISE with the promised stream id and padding', () => {
      const fragment = new Uint8Array([0x82]);
      expect(
        written((t, o) => encoder.writePushPromise(t, o, 1, 2, fragment, 0, 1, true, 3), pushPromiseFrameLength(1, 3)),
      ).to.equal('000009050c00000001' + '03' + '00000002' + '82' + '000000');
    });

    it('writes PING and PING ACK', () => {
      expect(written((t, o) => encoder.writePing(t, o, 0x01020304, 0xfffefdfc, false), PING_FRAME_LENGTH)).to.equal(
        '000008060000000000' + '01020304fffefdfc',
      );
      expect(written((t, o) => encoder.writePing(t, o, 0, 1, true), PING_FRAME_LENGTH)).to.equal(
        '000008060100000000' + '0000000000000001',
      );
    });

    it('writes GOAWAY with and without debug data', () => {
      const debug = new Uint8Array(Buffer.from('xxbye'));
      expect(
        written((t, o) => encoder.writeGoaway(t, o, 9, ErrorCode.PROTOCOL_ERROR, debug, 2), goawayFrameLength(3)),
      ).to.equal('00000b070000000000' + '00000009' + '00000001' + '627965');
      expect(
        written((t, o) => encoder.writeGoaway(t, o, 0x7fffffff, ErrorCode.NO_ERROR), goawayFrameLength(0)),
      ).to.equal('000008070000000000' + '7fffffff' + '00000000');
    });

    it('writes WINDOW_UPDATE on a stream and on the connection', () => {
      expect(written((t, o) => encoder.writeWindowUpdate(t, o, 0, 65_535), WINDOW_UPDATE_FRAME_LENGTH)).to.equal(
        '000004080000000000' + '0000ffff',
      );
      expect(written((t, o) => encoder.writeWindowUpdate(t, o, 3, 1), WINDOW_UPDATE_FRAME_LENGTH)).to.equal(
        '000004080000000003' + '00000001',
      );
    });

    it('writes CONTINUATION with and without END_HEADERS', () => {
      const fragment = new Uint8Array([1, 2]);
      expect(written((t, o) => encoder.writeContinuation(t, o, 3, fragment, 0, 2, true), frameLength(2))).to.equal(
        '000002090400000003' + '0102',
      );
      expect(written((t, o) => encoder.writeContinuation(t, o, 3, fragment, 0, 0, false), frameLength(0))).to.equal(
        '000000090000000003',
      );
    });

    it('writes an extension frame with raw type and flags', () => {
      const payload = new Uint8Array([5, 6, 7]);
      expect(written((t, o) => encoder.writeFrame(t, o, 0x10, 0xff, 0, payload, 1, 2), frameLength(2))).to.equal(
        '00000210ff00000000' + '0607',
      );
    });

    it('throws a RangeError instead of writing past the end of the target', () => {
      const target = Buffer.alloc(20, 0xee);
      expect(() => encoder.writePing(target, 4, 0, 0, false)).to.throw(RangeError);
      expect(() => encoder.writeData(target, 0, 1, block, 0, 12, false)).to.throw(RangeError);
      expect(hexOf(target, 0, 20)).to.equal('ee'.repeat(20));
    });

    it('throws a RangeError for a payload above the peer max frame size or a bad pad length', () => {
      const target = Buffer.alloc(40_000);
      expect(() => encoder.writeData(target, 0, 1, block, 0, 16_384, false, 0)).to.throw(RangeError);
      expect(() => encoder.writeContinuation(target, 0, 1, block, 0, 16_385, true)).to.throw(RangeError);
      expect(() => encoder.writeData(target, 0, 1, block, 0, 1, false, 256)).to.throw(RangeError);
      expect(encoder.writeData(target, 0, 1, block, 0, 16_384, false)).to.equal(16_393);
    });

    it('holds a settable max frame size within 2^14..2^24-1 (HTTP2_INVALID_ARGUMENT outside)', () => {
      const local = new FrameEncoder();
      expect(local.maxFrameSize).to.equal(16_384);
      local.maxFrameSize = 16_777_215;
      expect(local.maxFrameSize).to.equal(16_777_215);
      expect(thrownCode(() => (local.maxFrameSize = 16_383))).to.equal('HTTP2_INVALID_ARGUMENT');
      expect(thrownCode(() => new FrameEncoder(16_777_216))).to.equal('HTTP2_INVALID_ARGUMENT');
    });

    it('sizes frames exactly as written (fast-check)', () => {
      const target = Buffer.alloc(70_000);
      const big = new FrameEncoder(65_536);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 60_000 }),
          fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
          fc.boolean(),
          (length, pad, hasPriority) => {
            const priority = hasPriority ? { streamDependency: 0, weight: 16, isExclusive: false } : undefined;
            expect(big.writeData(target, 0, 1, block, 0, length, false, pad)).to.equal(dataFrameLength(length, pad));
            expect(big.writeHeaders(target, 0, 1, block, 0, length, false, true, priority, pad)).to.equal(
              headersFrameLength(length, hasPriority, pad),
            );
            expect(big.writePushPromise(target, 0, 1, 2, block, 0, length, true, pad)).to.equal(
              pushPromiseFrameLength(length, pad),
            );
            expect(big.writeGoaway(target, 0, 1, 0, block, 0, length)).to.equal(goawayFrameLength(length));
          },
        ),
        { numRuns: 50 },
      );
    });
  });

  describe('header block splitting', () => {
    it('writes a block within the max frame size as one HEADERS frame with END_HEADERS', () => {
      const splitter = new FrameEncoder();
      const target = Buffer.alloc(20_000);
      const end = splitter.writeHeaderBlock(target, 0, target.length, 1, block.subarray(0, 16_384), 0, true);
      expect(end).to.equal(headerBlockFramesLength(16_384, 16_384));
      expect(splitter.isHeaderBlockComplete).to.equal(true);
      expect(splitter.headerBlockOffset).to.equal(16_384);
      const frames = parseFrames(target.subarray(0, end));
      expect(frames.map((f) => [f.type, f.flags, f.payload.length])).to.deep.equal([
        [FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 16_384],
      ]);
    });

    it('splits a larger block into HEADERS and CONTINUATION frames, END_STREAM on HEADERS and END_HEADERS on the last', () => {
      const splitter = new FrameEncoder();
      const target = Buffer.alloc(60_000);
      const end = splitter.writeHeaderBlock(target, 0, target.length, 3, block.subarray(0, 40_000), 0, true);
      expect(end).to.equal(headerBlockFramesLength(40_000, 16_384));
      const frames = parseFrames(target.subarray(0, end));
      expect(frames.map((f) => [f.type, f.flags, f.streamId, f.payload.length])).to.deep.equal([
        [FrameType.HEADERS, FrameFlag.END_STREAM, 3, 16_384],
        [FrameType.CONTINUATION, 0, 3, 16_384],
        [FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3, 7_232],
      ]);
    });

    it('writes an empty block as one empty HEADERS frame, and nothing when 9 bytes do not fit', () => {
      const splitter = new FrameEncoder();
      const target = Buffer.alloc(9);
      expect(splitter.writeHeaderBlock(target, 1, 9, 1, new Uint8Array(0), 0, false)).to.equal(1);
      expect(splitter.isHeaderBlockComplete).to.equal(false);
      expect(splitter.writeHeaderBlock(target, 0, 9, 1, new Uint8Array(0), 0, false)).to.equal(9);
      expect(splitter.isHeaderBlockComplete).to.equal(true);
      expect(hexOf(target, 0, 9)).to.equal('000000010400000001');
    });

    it('writes no frame when only a header fits, and never past the limit', () => {
      const splitter = new FrameEncoder();
      const target = Buffer.alloc(30, 0xee);
      expect(splitter.writeHeaderBlock(target, 11, 20, 1, block, 0, false)).to.equal(11);
      expect(splitter.headerBlockOffset).to.equal(0);
      expect(splitter.isHeaderBlockComplete).to.equal(false);
      expect(splitter.writeHeaderBlock(target, 10, 20, 1, block, 0, false)).to.equal(20);
      expect(splitter.headerBlockOffset).to.equal(1);
      expect(hexOf(target, 20, 30)).to.equal('ee'.repeat(10));
    });

    it('resumes across messages with whole frames only, for any max frame size and message limit (fast-check)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 100_000 }),
          fc.integer({ min: 16_384, max: 70_000 }),
          fc.integer({ min: 14, max: 40_000 }),
          fc.boolean(),
          (blockLength, maxFrameSize, messageLimit, isPushPromise) => {
            const source = block.subarray(0, blockLength);
            const splitter = new FrameEncoder(maxFrameSize);
            const message = Buffer.alloc(messageLimit + 5, 0xee);
            const frames: ParsedFrame[] = [];
            let progress = 0;
            let messages = 0;
            do {
              const end = isPushPromise
                ? splitter.writePushPromiseBlock(message, 0, messageLimit, 7, 8, source, progress)
                : splitter.writeHeaderBlock(message, 0, messageLimit, 7, source, progress, false);
              // Plain checks in this loop: it runs up to ~20 000 times per case.
              if (end < 1 || end > messageLimit) throw new Error(`message ${messages} ends at ${end}`);
              if (blockLength !== 0 && splitter.headerBlockOffset <= progress) throw new Error('no progress');
              // Whole frames only: parseFrames throws on a cut frame. Copy, the message is reused.
              frames.push(...parseFrames(new Uint8Array(message.subarray(0, end))));
              progress = splitter.headerBlockOffset;
              messages++;
            } while (!splitter.isHeaderBlockComplete);
            expect(hexOf(message, messageLimit, messageLimit + 5), 'nothing written past the limit').to.equal(
              'eeeeeeeeee',
            );
            expect(progress).to.equal(blockLength);
            const firstType = isPushPromise ? FrameType.PUSH_PROMISE : FrameType.HEADERS;
            const shapes = new Set(
              frames.map((frame, i) => {
                const isShapeRight =
                  frame.type === (i === 0 ? firstType : FrameType.CONTINUATION) &&
                  frame.flags === (i === frames.length - 1 ? FrameFlag.END_HEADERS : 0) &&
                  frame.streamId === 7 &&
                  frame.payload.length <= maxFrameSize;
                return isShapeRight
                  ? 'ok'
                  : `frame ${i}: type ${frame.type} flags ${frame.flags} length ${frame.payload.length}`;
              }),
            );
            expect([...shapes]).to.deep.equal(['ok']);
            const reassembled = Buffer.concat(
              frames.map((frame, i) => (i === 0 && isPushPromise ? frame.payload.subarray(4) : frame.payload)),
            );
            if (isPushPromise) expect(hexOf(frames[0].payload, 0, 4)).to.equal('00000008');
            expect(reassembled.equals(source)).to.equal(true);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});
