/**
 * A property test of the outgoing-frames task on a fake host (issue 17): random sequences of
 * queued control frames, stream DATA and trailers, window changes and write completions, judged
 * only from the bytes the task wrote — never from its own idea of whether work is left. After
 * the loop runs until idle (writes completing), every queued control frame, every trailer block
 * and every DATA byte the windows allow must be on the wire, in a legal order.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  ChannelDirection,
  TestingChannel,
  systemClock,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
  type SluiceError,
} from '../../../lib/index.js';
import { FRAME_HEADER_LENGTH, FrameFlag, FrameType } from '../../../handlers/http2/wire/constants.js';
import { ControlFrameQueue } from '../../../handlers/http2/connection/control-frame-queue.js';
import { FrameEncoder, writeFrameHeader } from '../../../handlers/http2/wire/frame-encoder.js';
import { Http2Stream, type Http2StreamHost } from '../../../handlers/http2/connection/http2-stream.js';
import {
  OutgoingFramesTask,
  type OutgoingFramesHost,
} from '../../../handlers/http2/connection/outgoing-frames-task.js';
import { addOutbound } from '../../../handlers/http2/connection/flow-window.js';
import type { WriteScheduler, WriteSchedulerFactory } from '../../../handlers/http2/connection/write-scheduler.js';
import { RoundRobinScheduler } from '../../../handlers/http2/connection/round-robin-scheduler.js';
import { Rfc9218Scheduler } from '../../../handlers/http2/connection/rfc9218-scheduler.js';
import { StreamEvent } from '../../../handlers/http2/connection/stream-state.js';

/** Every write scheduler the task may run with: the scenarios run against each. */
const SCHEDULERS: readonly { readonly name: string; readonly make: WriteSchedulerFactory }[] = [
  { name: 'round-robin', make: () => new RoundRobinScheduler() },
  { name: 'RFC 9218', make: () => new Rfc9218Scheduler() },
];

const STREAM_IDS = [1, 3, 5, 7] as const;
/** Byte `i` of every stream's body is `(i * 7 + id) % 256`: a frame out of order shows. */
const patternByte = (id: number, index: number): number => (index * 7 + id) & 0xff;
/** The trailer block the fake host encodes: three bytes naming the stream (no HPACK needed here). */
const trailerBlock = (id: number): Buffer => Buffer.from([0x54, id, 0x54]);

/** Holds a slot for the task: the handler under test is the task, not a connection. */
class SlotHolder implements ChannelHandler {
  slot: ChannelSlot | null = null;
  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }
  processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
    message.release();
  }
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }
  incrementReadWindow(): void {}
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }
  initialWindowSize(): number {
    return 1 << 20;
  }
  messageOverhead(): number {
    return 0;
  }
}

/** A connection reduced to what the task and its streams ask of it. */
class FakeHost implements OutgoingFramesHost, Http2StreamHost {
  readonly controlQueue = new ControlFrameQueue();
  readonly streamHighWaterMark = Number.MAX_SAFE_INTEGER;
  readonly clock = systemClock;
  readonly channelSlot = null;
  readonly isWaitingForGoaway = false;
  readonly peerMaxFrameSize = 16_384;
  readonly task: OutgoingFramesTask;
  readonly failures: SluiceError[] = [];
  private readonly encoder = new FrameEncoder();

  /** The connection send window (the connection keeps it as this field). */
  _outAvailable: number;

  constructor(
    connectionWindow: number,
    readonly minDataSendWindow: number,
    makeScheduler: WriteSchedulerFactory,
  ) {
    this._outAvailable = connectionWindow;
    this.makeScheduler = makeScheduler;
    this.task = new OutgoingFramesTask(this);
  }

  private readonly makeScheduler: WriteSchedulerFactory;

  createWriteScheduler(): WriteScheduler {
    return this.makeScheduler();
  }

  queuePing(sequence: number): void {
    const buffer = this.controlQueue.reserve(FRAME_HEADER_LENGTH + 8);
    this.controlQueue.commit(
      this.encoder.writePing(buffer, this.controlQueue.tail, 0x70696e67, sequence, false) - this.controlQueue.tail,
    );
    this.task.wake();
  }

  queuePingAck(sequence: number): void {
    this.controlQueue.pushPingAck(0x61636b21, sequence);
    this.task.wake();
  }

  queueTrailers(stream: Http2Stream): void {
    const block = trailerBlock(stream.id);
    const buffer = this.controlQueue.reserve(FRAME_HEADER_LENGTH + block.length);
    const start = this.controlQueue.tail;
    const at = writeFrameHeader(
      buffer,
      start,
      block.length,
      FrameType.HEADERS,
      FrameFlag.END_STREAM | FrameFlag.END_HEADERS,
      stream.id,
    );
    block.copy(buffer, at);
    this.controlQueue.commit(at + block.length - start);
    stream._trailers = null;
    stream._markEndSent();
    this.task.wake();
  }

  onEndStreamSent(): void {}
  onStreamCallbackThrew(stream: Http2Stream): void {
    throw new Error(`stream ${stream.id}: a callback threw (the scenarios' callbacks do not)`);
  }
  onMessageSent(): void {}
  onDataWaitingChanged(): void {}
  onControlQueueDrained(): void {}
  finishWriteShutdown(): void {}
  onWriteFailed(error: SluiceError): void {
    this.failures.push(error);
  }
  _streamHasData(stream: Http2Stream): void {
    this.task.addDataStream(stream);
  }
  _sendStreamHeaders(): void {
    throw new Error('not used by the task');
  }
  _resetStream(): void {
    throw new Error('not used by the task');
  }
  _returnStreamCredit(): void {}
  _releaseConcurrencySlot(): void {}
  _setStreamPriority(stream: Http2Stream, rank: number): void {
    this.task.reprioritize(stream, rank);
  }

  _onDataRateChanged(): void {}

  /** What the connection does on WINDOW_UPDATE (RFC 9113 §6.9). */
  addStreamWindow(stream: Http2Stream, increment: number): void {
    expect(addOutbound(stream, increment)).to.equal(true);
    if (stream._hasFrameReady) this.task.addDataStream(stream);
  }

  addConnectionWindow(increment: number): void {
    expect(addOutbound(this, increment)).to.equal(true);
    if (this.task.dataStreamCount > 0) this.task.wake();
  }
}

type Step =
  | { kind: 'ping' }
  | { kind: 'pingAck' }
  | { kind: 'write'; stream: number; size: number; endOnFramed: boolean }
  | { kind: 'end'; stream: number; withTrailers: boolean }
  | { kind: 'streamWindow'; stream: number; increment: number }
  | { kind: 'connectionWindow'; increment: number }
  | { kind: 'priority'; stream: number; urgency: number; incremental: boolean }
  | { kind: 'complete' }
  | { kind: 'run' };

const streamIndex = fc.integer({ min: 0, max: STREAM_IDS.length - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: 'ping' }),
  fc.constant<Step>({ kind: 'pingAck' }),
  fc.record({
    kind: fc.constant('write' as const),
    stream: streamIndex,
    size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 40_000 })),
    // The gRPC responder: once the chunk is framed (inside the task's pass), end with trailers.
    endOnFramed: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('end' as const), stream: streamIndex, withTrailers: fc.boolean() }),
  fc.record({
    kind: fc.constant('streamWindow' as const),
    stream: streamIndex,
    increment: fc.integer({ min: 1, max: 70_000 }),
  }),
  fc.record({ kind: fc.constant('connectionWindow' as const), increment: fc.integer({ min: 1, max: 100_000 }) }),
  // Reprioritization at any moment, waiting in the scheduler or not (RFC 9218).
  fc.record({
    kind: fc.constant('priority' as const),
    stream: streamIndex,
    urgency: fc.integer({ min: 0, max: 7 }),
    incremental: fc.boolean(),
  }),
  fc.constant<Step>({ kind: 'complete' }),
  fc.constant<Step>({ kind: 'run' }),
);

interface Scenario {
  readonly connectionWindow: number;
  readonly minDataSendWindow: number;
  readonly streamWindows: readonly number[];
  readonly dataMessageSize: number;
  readonly steps: readonly Step[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  connectionWindow: fc.integer({ min: 0, max: 100_000 }),
  minDataSendWindow: fc.constantFrom(1, 256),
  streamWindows: fc.array(fc.integer({ min: 0, max: 65_535 }), {
    minLength: STREAM_IDS.length,
    maxLength: STREAM_IDS.length,
  }),
  dataMessageSize: fc.constantFrom(1024, 16 * 1024, 64 * 1024),
  steps: fc.array(step, { maxLength: 60 }),
});

/** One frame as a peer reads it off the wire. */
interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Splits the bytes into frames; a frame cut short fails the test. */
function parseFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes.length - at, 'a whole frame header').to.be.at.least(FRAME_HEADER_LENGTH);
    const length = bytes.readUIntBE(at, 3);
    const end = at + FRAME_HEADER_LENGTH + length;
    expect(end, 'a whole frame payload').to.be.at.most(bytes.length);
    frames.push({
      type: bytes[at + 3],
      flags: bytes[at + 4],
      streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + FRAME_HEADER_LENGTH, end),
    });
    at = end;
  }
  return frames;
}

/** What the test asked of each stream, to judge the output against. */
interface StreamModel {
  readonly stream: Http2Stream;
  written: number;
  isEnded: boolean;
  hasTrailers: boolean;
  windowGranted: number;
}

function runScenario(input: Scenario, makeScheduler: WriteSchedulerFactory): void {
  const host = new FakeHost(input.connectionWindow, input.minDataSendWindow, makeScheduler);
  const holder = new SlotHolder();
  const tc = new TestingChannel([holder], { messagePool: { dataMessageSize: input.dataMessageSize } });
  host.task.attach(holder.slot!, false);
  const models: StreamModel[] = STREAM_IDS.map((id, index) => {
    const window = input.streamWindows[index];
    const stream = new Http2Stream(host, id, false, window, 65_535, false);
    // A stream the peer opened (RFC 9113 §5.1: idle → open), whose response headers went.
    stream._apply(StreamEvent.RECEIVE_HEADERS);
    stream._areHeadersSent = true;
    return { stream, written: 0, isEnded: false, hasTrailers: false, windowGranted: window };
  });
  let connectionGranted = input.connectionWindow;
  let pings = 0;
  let pingAcks = 0;
  const output: Buffer[] = [];
  const take = (): void => {
    output.push(...tc.takeWrittenMessages());
  };

  for (const action of input.steps) {
    const model = 'stream' in action ? models[action.stream] : null;
    switch (action.kind) {
      case 'ping':
        host.queuePing(pings++);
        break;
      case 'pingAck':
        host.queuePingAck(pingAcks++);
        break;
      case 'write': {
        if (model!.isEnded) break;
        const chunk = Buffer.alloc(action.size);
        for (let i = 0; i < chunk.length; i++) chunk[i] = patternByte(model!.stream.id, model!.written + i);
        const writer = model!;
        writer.written += chunk.length;
        if (action.endOnFramed) {
          writer.isEnded = true;
          writer.hasTrailers = true;
          writer.stream.write(chunk, () => writer.stream.end(['grpc-status', '0']));
        } else {
          writer.stream.write(chunk);
        }
        break;
      }
      case 'end':
        if (model!.isEnded) break;
        model!.stream.end(action.withTrailers ? ['x-trailer', String(model!.stream.id)] : undefined);
        model!.isEnded = true;
        model!.hasTrailers = action.withTrailers;
        break;
      case 'streamWindow':
        model!.windowGranted += action.increment;
        host.addStreamWindow(model!.stream, action.increment);
        break;
      case 'connectionWindow':
        connectionGranted += action.increment;
        host.addConnectionWindow(action.increment);
        break;
      case 'priority':
        model!.stream.setPriority({ urgency: action.urgency, incremental: action.incremental });
        break;
      case 'complete':
        tc.completeWrites();
        break;
      case 'run':
        tc.runUntilIdle();
        break;
    }
    take();
  }
  // Quiescence: the loop runs and every write completes, until nothing more is written.
  for (let round = 0; round < 10_000; round++) {
    tc.runUntilIdle();
    take();
    if (tc.pendingWriteCount === 0) break;
    tc.completeWrites();
  }
  expect(tc.pendingWriteCount, 'writes still pending after quiescence').to.equal(0);
  expect(host.failures).to.deep.equal([]);

  judge(parseFrames(Buffer.concat(output)), models, {
    pings,
    pingAcks,
    connectionGranted,
    minDataSendWindow: input.minDataSendWindow,
    host,
  });
  tc.shutdown();
  tc.flushWrites();
  expect(tc.messagePool.outstanding, 'pooled messages outstanding').to.equal(0);
}

function judge(
  frames: readonly Frame[],
  models: readonly StreamModel[],
  expected: { pings: number; pingAcks: number; connectionGranted: number; minDataSendWindow: number; host: FakeHost },
): void {
  const pingsSeen: number[] = [];
  const acksSeen: number[] = [];
  let connectionData = 0;
  const byStream = new Map<number, { data: number; ended: boolean; trailers: number }>();
  for (const model of models) byStream.set(model.stream.id, { data: 0, ended: false, trailers: 0 });
  for (const frame of frames) {
    expect(frame.payload.length, 'frame within the peer max frame size').to.be.at.most(expected.host.peerMaxFrameSize);
    if (frame.type === FrameType.PING) {
      ((frame.flags & FrameFlag.ACK) !== 0 ? acksSeen : pingsSeen).push(frame.payload.readUInt32BE(4));
      continue;
    }
    const seen = byStream.get(frame.streamId);
    expect(seen, `frame for an unknown stream ${frame.streamId}`).to.not.equal(undefined);
    expect(seen!.ended, `a frame on stream ${frame.streamId} after its END_STREAM`).to.equal(false);
    if (frame.type === FrameType.DATA) {
      for (let i = 0; i < frame.payload.length; i++) {
        if (frame.payload[i] !== patternByte(frame.streamId, seen!.data + i)) {
          expect.fail(`stream ${frame.streamId}: byte ${seen!.data + i} out of order`);
        }
      }
      seen!.data += frame.payload.length;
      connectionData += frame.payload.length;
    } else {
      expect(frame.type, 'only PING, DATA and trailers are queued').to.equal(FrameType.HEADERS);
      expect(frame.payload).to.deep.equal(trailerBlock(frame.streamId));
      seen!.trailers++;
    }
    if ((frame.flags & FrameFlag.END_STREAM) !== 0) seen!.ended = true;
  }
  // Every control frame went, in the order queued (PING ACKs may jump ahead of PINGs, not of each other).
  expect(pingsSeen).to.deep.equal(Array.from({ length: expected.pings }, (_, i) => i));
  expect(acksSeen).to.deep.equal(Array.from({ length: expected.pingAcks }, (_, i) => i));
  expect(connectionData, 'DATA within the connection window').to.be.at.most(expected.connectionGranted);
  const connectionLeft = expected.connectionGranted - connectionData;
  for (const model of models) {
    const id = model.stream.id;
    const seen = byStream.get(id)!;
    expect(seen.data, `stream ${id}: DATA within its window`).to.be.at.most(model.windowGranted);
    const isBodyDone = seen.data === model.written;
    if (!isBodyDone) {
      // Bytes are left: only a spent window may hold them back.
      const streamLeft = model.windowGranted - seen.data;
      const isHeld = streamLeft <= 0 || connectionLeft < expected.minDataSendWindow;
      expect(
        isHeld,
        `stream ${id}: ${model.written - seen.data} bytes unsent with windows ${streamLeft}/${connectionLeft}`,
      ).to.equal(true);
    }
    if (model.isEnded && isBodyDone) {
      expect(seen.ended, `stream ${id}: END_STREAM sent once its body is`).to.equal(true);
      expect(seen.trailers, `stream ${id}: trailer blocks`).to.equal(model.hasTrailers ? 1 : 0);
    } else {
      expect(seen.ended, `stream ${id}: no END_STREAM before the end of its body`).to.equal(false);
    }
  }
}

for (const scheduler of SCHEDULERS) {
  describe(`HTTP/2 outgoing-frames task: property (fake host, judged from the output), ${scheduler.name} scheduler`, () => {
    it('writes every control frame, trailer block and DATA byte the windows allow, in a legal order', function () {
      this.timeout(60_000);
      fc.assert(
        fc.property(scenario, (input) => runScenario(input, scheduler.make)),
        { numRuns: 1000 },
      );
    });

    it('sends trailers queued after the task went idle (the gRPC responder pattern)', () => {
      runScenario(
        {
          connectionWindow: 65_535,
          minDataSendWindow: 256,
          streamWindows: [65_535, 0, 0, 0],
          dataMessageSize: 16 * 1024,
          steps: [
            { kind: 'write', stream: 0, size: 5, endOnFramed: false },
            { kind: 'run' },
            { kind: 'complete' },
            { kind: 'run' },
            { kind: 'end', stream: 0, withTrailers: true },
          ],
        },
        scheduler.make,
      );
    });
  });
}
