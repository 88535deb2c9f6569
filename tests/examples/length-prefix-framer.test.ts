import { expect } from 'chai';
import fc from 'fast-check';
import {
  ChannelDirection,
  SluiceError,
  TestingChannel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';
import {
  FRAME_HEADER_SIZE,
  FrameTag,
  FramingErrors,
  LengthPrefixFramer,
} from '../../examples/echo/length-prefix-framer.js';

/** Encodes frames the way a peer would put them on the wire. */
function encodeFrames(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const frame of frames) {
    const header = Buffer.alloc(FRAME_HEADER_SIZE);
    header.writeUInt32BE(frame.length, 0);
    parts.push(header, Buffer.from(frame));
  }
  return Buffer.concat(parts);
}

/**
 * The application side of the framer under test: reassembles frames from tagged chunks,
 * within a read window the test opens, and checks the tags are well formed.
 */
class FrameRecorder implements ChannelHandler {
  slot!: ChannelSlot;
  readonly frames: Buffer[] = [];
  readonly chunkSizes: number[] = [];
  bytesReceived = 0;
  private current: Buffer[] | null = null;

  constructor(private readonly window = Number.MAX_SAFE_INTEGER) {}

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
    const isStart = (message.tag & FrameTag.START) !== 0;
    const isEnd = (message.tag & FrameTag.END) !== 0;
    const bytes = Buffer.from(message.data.subarray(0, message.length));
    this.bytesReceived += message.length;
    this.chunkSizes.push(message.length);
    message.release();
    if (isStart !== (this.current === null)) throw new Error('START must begin exactly each frame');
    this.current ??= [];
    this.current.push(bytes);
    if (isEnd) {
      this.frames.push(Buffer.concat(this.current));
      this.current = null;
    }
  }

  processWriteMessage(): void {
    throw new Error('nothing is right of the recorder');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.window;
  }

  messageOverhead(): number {
    return 0;
  }
}

function frameChannel(recorder: FrameRecorder, framer = new LengthPrefixFramer()): TestingChannel {
  return new TestingChannel([framer, recorder], { autoCompleteWrites: false });
}

function closeAndCheckPool(test: TestingChannel): void {
  test.flushWrites();
  test.shutdown();
  expect(test.isShutDown).to.equal(true);
  expect(test.messagePool.outstanding).to.equal(0);
}

describe('LengthPrefixFramer', () => {
  const sampleFrames = [
    Buffer.alloc(0),
    Buffer.from('a'),
    Buffer.alloc(300, 7),
    Buffer.alloc(16_380, 9),
    Buffer.from('tail'),
  ];

  it('reassembles frames fed whole', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder);
    test.pushRead(encodeFrames(sampleFrames));
    expect(recorder.frames).to.deep.equal(sampleFrames);
    closeAndCheckPool(test);
  });

  it('reassembles frames fed one byte at a time', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder);
    const wire = encodeFrames(sampleFrames);
    for (let offset = 0; offset < wire.length; offset++) test.pushRead(wire.subarray(offset, offset + 1));
    expect(recorder.frames).to.deep.equal(sampleFrames);
    closeAndCheckPool(test);
  });

  it('reassembles frames split anywhere (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, cutSeeds) => {
          const recorder = new FrameRecorder();
          const test = frameChannel(recorder);
          const wire = encodeFrames(frames);
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (wire.length + 1)))].sort((a, b) => a - b);
          let start = 0;
          for (const cut of [...cuts, wire.length]) {
            test.pushRead(wire.subarray(start, cut));
            start = cut;
          }
          expect(recorder.frames.map((frame) => frame.toString('hex'))).to.deep.equal(
            frames.map((frame) => Buffer.from(frame).toString('hex')),
          );
          closeAndCheckPool(test);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never sends right more than the window and passes openings left until everything arrives', () => {
    const frames = [Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(1000, 3)];
    const recorder = new FrameRecorder(100);
    const test = frameChannel(recorder);
    const framerSlot = test.slot;
    test.pushRead(encodeFrames(frames));
    expect(recorder.bytesReceived).to.equal(100);
    for (let round = 0; round < 100 && recorder.frames.length < frames.length; round++) {
      const before = recorder.bytesReceived;
      recorder.slot.incrementReadWindow(100);
      test.runUntilIdle();
      // Each opening of 100 lets exactly 100 more payload bytes through (less at the very end).
      expect(recorder.bytesReceived - before).to.be.at.most(100);
      expect(test.channel.isShuttingDown).to.equal(false);
    }
    expect(recorder.frames).to.deep.equal(frames);
    expect(Math.max(...recorder.chunkSizes)).to.be.at.most(100);
    // Nothing is held, and the framer's window is at least what the right side accepts: the
    // right side can never wait for bytes the framer's window keeps out.
    expect(framerSlot.windowSize).to.be.at.least(recorder.slot.windowSize);
    closeAndCheckPool(test);
  });

  it('holds at most its initial window while the right side is closed', () => {
    const recorder = new FrameRecorder(0);
    const initialWindowSize = 8 * 1024;
    const test = frameChannel(recorder, new LengthPrefixFramer({ initialWindowSize }));
    const wire = encodeFrames(Array.from({ length: 64 }, () => Buffer.alloc(1000, 5)));
    test.pushRead(wire);
    expect(recorder.bytesReceived).to.equal(0);
    // What the framer did not take stays at the socket end (there: the socket pauses).
    expect(wire.length - test.bufferedReadBytes).to.be.at.most(initialWindowSize + FRAME_HEADER_SIZE);
    recorder.slot.incrementReadWindow(64 * 1000);
    test.runUntilIdle();
    expect(recorder.frames.length).to.equal(64);
    expect(test.bufferedReadBytes).to.equal(0);
    closeAndCheckPool(test);
  });

  it('prefixes a written frame in place and fires its completion once', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder);
    const completions: (SluiceError | null)[] = [];
    const message = recorder.slot.acquireMaxMessageForWrite();
    expect(message.capacity).to.equal(test.messagePool.dataMessageSize - FRAME_HEADER_SIZE);
    message.append(Buffer.from('hello'));
    message.onCompletion = (_channel, _message, error) => completions.push(error);
    recorder.slot.sendMessage(message, ChannelDirection.WRITE);
    test.runUntilIdle();
    expect(test.takeWritten()).to.deep.equal(encodeFrames([Buffer.from('hello')]));
    expect(completions).to.deep.equal([]);
    test.completeWrites();
    expect(completions).to.deep.equal([null]);
    closeAndCheckPool(test);
  });

  it('copies a frame with no room for the prefix into a new message that keeps the completion', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder);
    const completions: unknown[] = [];
    const payload = Buffer.alloc(5000, 3);
    const message = recorder.slot.acquireMessageForWrite(payload.length);
    expect(message.capacity).to.equal(payload.length);
    message.append(payload);
    message.userData = 'mine';
    message.onCompletion = (_channel, completed, error) => completions.push([completed.userData, error]);
    recorder.slot.sendMessage(message, ChannelDirection.WRITE);
    expect(message.isReleased).to.equal(true);
    test.completeWrites();
    expect(test.takeWritten()).to.deep.equal(encodeFrames([payload]));
    expect(completions).to.deep.equal([['mine', null]]);
    closeAndCheckPool(test);
  });

  it('leaves a refused write unchanged and owned by the caller', () => {
    const recorder = new FrameRecorder();
    const framer = new LengthPrefixFramer();
    const test = frameChannel(recorder, framer);
    const framerSlot = test.slot;
    test.shutdown();
    const message = test.messagePool.acquire(100);
    message.append(Buffer.from('payload'));
    expect(() => recorder.slot.sendMessage(message, ChannelDirection.WRITE)).to.throw(SluiceError);
    // Sent straight to the framer, as if the channel were still open: the left side refuses.
    expect(() => framer.processWriteMessage(framerSlot, message)).to.throw(SluiceError);
    expect(message.bytes.toString()).to.equal('payload');
    message.release();
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('shuts the channel down with FRAMING_FRAME_TOO_LARGE for a prefix above the limit', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder, new LengthPrefixFramer({ maxFrameLength: 1000 }));
    test.pushRead(encodeFrames([Buffer.alloc(1000)]));
    expect(recorder.frames.length).to.equal(1);
    test.pushRead(encodeFrames([Buffer.alloc(1001)]));
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError?.code).to.equal(FramingErrors.FRAME_TOO_LARGE.code);
    expect(recorder.frames.length).to.equal(1);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('releases held bytes when the channel shuts down mid-frame', () => {
    const recorder = new FrameRecorder(10);
    const test = frameChannel(recorder);
    test.pushRead(encodeFrames([Buffer.alloc(500, 1)]));
    expect(recorder.bytesReceived).to.equal(10);
    expect(test.messagePool.outstanding).to.be.greaterThan(0);
    test.shutdown();
    expect(test.shutdownError).to.equal(null);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('rejects a write that cannot be one frame with FRAMING_FRAME_TOO_LARGE', () => {
    const recorder = new FrameRecorder();
    const test = frameChannel(recorder);
    // A full data message: no room for the prefix, and no larger message to copy it into.
    const payload = Buffer.alloc(test.messagePool.dataMessageSize);
    const message = test.messagePool.acquire(payload.length);
    message.append(payload);
    expect(() => recorder.slot.sendMessage(message, ChannelDirection.WRITE))
      .to.throw(SluiceError)
      .with.property('code', FramingErrors.FRAME_TOO_LARGE.code);
    expect(message.isReleased).to.equal(false);
    message.release();
    closeAndCheckPool(test);
  });
});
