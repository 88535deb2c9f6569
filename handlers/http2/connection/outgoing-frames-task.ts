/**
 * The outgoing-frames task: the one place an HTTP/2 connection writes.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  Task,
  TaskStatus,
  asSluiceError,
  type Channel,
  type ChannelSlot,
  type IoMessage,
  type SluiceError,
} from '../../../lib/index.js';
import { withFlag } from '../../../lib/field-layout.js';
import { CONNECTION_PREFACE, FRAME_HEADER_LENGTH, FrameFlag, FrameType } from '../wire/constants.js';
import { writeFrameHeader } from '../wire/frame-encoder.js';
import type { ControlFrameQueue } from './control-frame-queue.js';
import { isRateTimed } from './data-rate.js';
import { takeOutbound, type OutboundWindowFields } from './flow-window.js';
import type { Http2Stream } from './http2-stream.js';
import { RANK_MASK } from './priority.js';
import type { WriteScheduler } from './write-scheduler.js';

/**
 * What the task needs from its connection.
 * @internal
 */
export interface OutgoingFramesHost extends OutboundWindowFields {
  readonly controlQueue: ControlFrameQueue;
  readonly minDataSendWindow: number;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly peerMaxFrameSize: number;
  /** Shutdown waits for GOAWAY: write control frames only, then finish. */
  readonly isWaitingForGoaway: boolean;
  /** Encodes the stream's trailers (HEADERS with END_STREAM) into the control queue. */
  queueTrailers(stream: Http2Stream): void;
  /** The stream's END_STREAM went out on a DATA frame. */
  onEndStreamSent(stream: Http2Stream): void;
  /** A write callback or `onDrain` of the stream threw (its `_thrown`): reset that stream alone. */
  onStreamCallbackThrew(stream: Http2Stream): void;
  /** A message went to the socket (arms the write timeout). */
  onMessageSent(): void;
  /**
   * DATA may have stopped waiting for the peer (a message was written, the task went idle, a
   * stalled stream left): the minimum response rate's clock pauses when nothing waits.
   */
  onDataWaitingChanged(): void;
  /** Called after the queue shrank, so held reads can resume. */
  onControlQueueDrained(): void;
  /** Nothing is left to write and shutdown waits: complete the write side. */
  finishWriteShutdown(): void;
  /** A write failed or could not be sent: shut the connection down with it. */
  onWriteFailed(error: SluiceError): void;
  /** Makes the scheduler that orders the connection's DATA (called once, when the first stream has DATA). */
  createWriteScheduler(): WriteScheduler;
}

/**
 * Test-only switches that re-plant fixed bugs, so the deterministic simulator's tests can show
 * it finds them (tests/sim). Never set outside those tests.
 * @internal
 */
export const plantedBugs = {
  /**
   * The trailers stall of issue 17: a pass that writes nothing (step 3) and a write completion
   * go inactive without re-checking for frames queued meanwhile (while the task was active,
   * `wake` did nothing), so those frames wait for some unrelated frame to wake the task.
   */
  skipQueuedWorkRecheck: false,
};

/**
 * The scheduler of a connection none of whose streams has had DATA yet: always empty, shared by
 * every such connection. `add` is never called on it (the task makes the real one first).
 */
const NO_DATA_YET: WriteScheduler = Object.freeze({
  size: 0,
  add(): void {
    throw new Error('NO_DATA_YET.add: the task makes its scheduler before the first add');
  },
  next: (): undefined => undefined,
  peek: (): undefined => undefined,
  remove(): void {},
  reprioritize(): void {},
  waitingAt: (): undefined => undefined,
});

/** The bits of an {@link OutgoingFramesTask}'s flags. */
const enum TaskFlag {
  WRITING_STOPPED = 1,
  ACTIVE = 2,
  MESSAGE_IN_FLIGHT = 4,
  TIMED_DATA_IN_FLIGHT = 8,
  PREFACE_PENDING = 16,
}

/**
 * OutgoingFramesTask writes for one connection, as DESIGN.md prescribes:
 *
 * 1. If writing has stopped, return.
 * 2. Work exists if control frames are queued, or streams have DATA, the connection send window
 *    is at least a small minimum, and shutdown is not waiting for GOAWAY.
 * 3. No work: go inactive; if shutdown waits for GOAWAY, finish it.
 * 4. Fill the largest message the slot allows: queued control frames first (PING ACKs ahead of
 *    them at a frame boundary), then, once the queue is empty, DATA from the streams the
 *    `WriteScheduler` hands out (round-robin by default: one frame per stream per pass); a
 *    stream whose window is spent leaves the scheduler until WINDOW_UPDATE; a stream with nothing
 *    ready leaves it until it writes again (never polled).
 * 5. Send the message and stop; its completion schedules the task again (scheduled, not called,
 *    so other channels get their turn). One message in flight.
 * 6. On failure, release the message and shut the connection down.
 *
 * Anything that queues a frame or makes a stream writable calls {@link OutgoingFramesTask.wake}.
 * Hot path: no allocation per frame or per message (the task, its callbacks and the scheduler
 * are reused; the callbacks are shared by every connection).
 */
export class OutgoingFramesTask extends Task {
  /**
   * The task's five booleans as bits of one small integer ({@link TaskFlag}; read and written
   * through the accessors below): every connection keeps its task, and a boolean field costs 8
   * octets where a bit costs none.
   */
  private flags = 0;
  /** Messages (not frames) written since creation, for statistics. */
  messagesWritten = 0;
  /** Bytes written since creation. */
  bytesWritten = 0;
  /**
   * Streams with DATA held by their spent flow-control window (RFC 9113 §6.9), not counting those
   * out of the minimum rates: DATA waiting for the peer, for the response rate's clock.
   */
  private windowStalledCount = 0;
  /** Bytes of the message in flight. */
  private messageLength = 0;
  /** When the message in flight was sent, whole ms rounded up: an inline small integer, no box. */
  private messageSentAt = 0;
  /**
   * The streams with DATA to write, and the order they write in: a shared empty scheduler until
   * the first stream has DATA, so an idle connection holds none (48 bytes each).
   */
  private scheduler: WriteScheduler = NO_DATA_YET;
  private slot: ChannelSlot | null = null;

  /** Creates the task for a connection; DATA goes in the order of the host's write scheduler. */
  constructor(private readonly host: OutgoingFramesHost) {
    // The task itself, not an object beside it: one object per connection, not two.
    super(OutgoingFramesTask.runTask, 'http2-outgoing-frames');
  }

  /** Writing stopped for good (write failure or immediate shutdown). */
  get isWritingStopped(): boolean {
    return (this.flags & TaskFlag.WRITING_STOPPED) !== 0;
  }

  set isWritingStopped(value: boolean) {
    this.flags = withFlag(this.flags, TaskFlag.WRITING_STOPPED, value);
  }

  /** The task is scheduled or running, or waits for the message in flight to complete. */
  private get isActive(): boolean {
    return (this.flags & TaskFlag.ACTIVE) !== 0;
  }

  private set isActive(value: boolean) {
    this.flags = withFlag(this.flags, TaskFlag.ACTIVE, value);
  }

  private get isMessageInFlight(): boolean {
    return (this.flags & TaskFlag.MESSAGE_IN_FLIGHT) !== 0;
  }

  private set isMessageInFlight(value: boolean) {
    this.flags = withFlag(this.flags, TaskFlag.MESSAGE_IN_FLIGHT, value);
  }

  /** The message in flight carries DATA of a stream the response rate times. */
  private get isTimedDataInFlight(): boolean {
    return (this.flags & TaskFlag.TIMED_DATA_IN_FLIGHT) !== 0;
  }

  private set isTimedDataInFlight(value: boolean) {
    this.flags = withFlag(this.flags, TaskFlag.TIMED_DATA_IN_FLIGHT, value);
  }

  /** The client's connection preface goes first. */
  private get isPrefacePending(): boolean {
    return (this.flags & TaskFlag.PREFACE_PENDING) !== 0;
  }

  private set isPrefacePending(value: boolean) {
    this.flags = withFlag(this.flags, TaskFlag.PREFACE_PENDING, value);
  }

  /** The task's function, shared by every connection: the task is the instance. */
  private static runTask(this: void, status: TaskStatus, task: Task): void {
    (task as OutgoingFramesTask).run(status);
  }

  /** The completion of every message the task sends, shared: the message's `userData` is the task. */
  private static onWriteComplete(this: void, channel: Channel, message: IoMessage, error: SluiceError | null): void {
    (message.userData as OutgoingFramesTask).handleWriteComplete(channel, error);
  }

  /** Binds the task to the connection's slot; the client also sends the connection preface first. */
  attach(slot: ChannelSlot, sendsPreface: boolean): void {
    this.slot = slot;
    this.isPrefacePending = sendsPreface;
  }

  /** True while a message is being written. */
  get hasMessageInFlight(): boolean {
    return this.isMessageInFlight;
  }

  /** Loop time the message in flight was sent, in whole milliseconds (rounded up). */
  get inFlightSince(): number {
    return this.messageSentAt;
  }

  /** Bytes of the message in flight (0 when none). */
  get inFlightLength(): number {
    return this.isMessageInFlight ? this.messageLength : 0;
  }

  /** Bytes the socket has taken: every message written, but the one in flight. */
  get bytesAccepted(): number {
    return this.bytesWritten - this.inFlightLength;
  }

  /**
   * DATA waits for the peer: streams are queued to write (the connection window may hold them),
   * a timed stream waits for its window, or the message in flight carries timed DATA.
   */
  get isDataWaiting(): boolean {
    return (
      this.scheduler.size > 0 || this.windowStalledCount > 0 || (this.isMessageInFlight && this.isTimedDataInFlight)
    );
  }

  /** A stream with DATA waits for its window: counted, unless it is out of the rates. */
  private markStalled(stream: Http2Stream): void {
    if (stream._isWindowStalled || !isRateTimed(stream)) return;
    stream._isWindowStalled = true;
    this.windowStalledCount++;
  }

  /** The stream no longer waits for its window (credit came, it closed, or it left the rates). */
  releaseStall(stream: Http2Stream): void {
    if (!stream._isWindowStalled) return;
    stream._isWindowStalled = false;
    if (--this.windowStalledCount === 0) this.host.onDataWaitingChanged();
  }

  /** Streams waiting in the scheduler. */
  get dataStreamCount(): number {
    return this.scheduler.size;
  }

  /**
   * The stream closed: it leaves the scheduler (which may forget it lazily, see
   * `WriteScheduler.remove`).
   */
  removeDataStream(stream: Http2Stream): void {
    this.releaseStall(stream);
    if (!stream._isInDataList) return;
    stream._isInDataList = false;
    this.scheduler.remove(stream);
  }

  /**
   * Gives the stream the rank `rank` (its priority, `priority.ts`); a stream waiting in the
   * scheduler moves to its new place.
   */
  reprioritize(stream: Http2Stream, rank: number): void {
    const previous = stream._priority;
    if ((previous & RANK_MASK) === rank) return;
    stream._priority = (previous & ~RANK_MASK) | rank;
    if (stream._isInDataList) this.scheduler.reprioritize(stream, previous & RANK_MASK);
  }

  /**
   * Puts a stream in the scheduler (once) and wakes the task. A stream whose body is all framed
   * and whose end is due needs no flow-control window: its end (trailers, or an empty DATA frame
   * with END_STREAM) is queued as a control frame now, so it never waits in the scheduler behind
   * streams held by a spent connection window.
   */
  addDataStream(stream: Http2Stream): void {
    if (stream._isWindowStalled) {
      // Credit came (WINDOW_UPDATE, a SETTINGS change): it waits in the scheduler now.
      stream._isWindowStalled = false;
      this.windowStalledCount--;
    }
    if (stream._pendingBytes === 0 && stream._isEndQueued && !stream._isEndSent) {
      this.queueEnd(stream);
      return;
    }
    if (!stream._isInDataList) {
      stream._isInDataList = true;
      if (this.scheduler === NO_DATA_YET) this.scheduler = this.host.createWriteScheduler();
      this.scheduler.add(stream);
    }
    this.wake();
  }

  /** Queues the stream's END_STREAM after its last DATA: its trailers, or an empty DATA frame. */
  private queueEnd(stream: Http2Stream): void {
    const host = this.host;
    if (stream._trailers !== null) {
      host.queueTrailers(stream);
    } else {
      const queue = host.controlQueue;
      const buffer = queue.reserve(FRAME_HEADER_LENGTH);
      queue.commit(
        writeFrameHeader(buffer, queue.tail, 0, FrameType.DATA, FrameFlag.END_STREAM, stream.id) - queue.tail,
      );
      stream._markEndSent();
      host.onEndStreamSent(stream);
    }
    this.wake();
  }

  /** Makes sure the task will run: schedules it unless it is already scheduled or a write is in flight. */
  wake(): void {
    if (this.isActive || this.slot === null || this.isWritingStopped) return;
    this.isActive = true;
    this.slot.channel.scheduleTaskNow(this);
  }

  /** Step 2: anything to write now. */
  private hasWork(): boolean {
    return this.isPrefacePending || !this.host.controlQueue.isEmpty || this.hasDataWork();
  }

  private hasDataWork(): boolean {
    const host = this.host;
    if (host.isWaitingForGoaway || this.scheduler.size === 0) return false;
    return host._outAvailable >= host.minDataSendWindow || this.headNeedsLittle();
  }

  /**
   * Below the minimum connection window the head stream may still go when it can finish within
   * what is left (no stall on its last bytes), or leave the list when its own window is spent
   * (so it does not hold back the streams behind it).
   */
  private headNeedsLittle(): boolean {
    const stream = this.scheduler.peek()!;
    return stream._pendingBytes <= this.host._outAvailable || stream._outAvailable <= 0 || stream.isClosed;
  }

  private run(status: TaskStatus): void {
    if (status === TaskStatus.CANCELED) {
      this.isActive = false;
      return;
    }
    const slot = this.slot;
    const host = this.host;
    if (slot === null || this.isWritingStopped) {
      this.isActive = false;
      return;
    }
    const queue = host.controlQueue;
    const isDataWork = this.hasDataWork();
    if (!this.isPrefacePending && queue.isEmpty && !isDataWork) {
      this.idle();
      return;
    }
    let message: IoMessage | null = null;
    this.isTimedDataInFlight = false;
    try {
      message = this.acquireMessage(slot, queue, isDataWork);
      const target = message.data;
      const limit = message.capacity;
      let offset = 0;
      if (this.isPrefacePending) {
        // RFC 9113 §3.4: the client preface precedes every frame.
        target.set(CONNECTION_PREFACE, 0);
        offset = CONNECTION_PREFACE.length;
        this.isPrefacePending = false;
      }
      for (;;) {
        const before = offset;
        offset = queue.copyInto(target, offset, limit);
        // DATA may queue control frames (a stream's trailers once its body is framed): a pass
        // that queued some has work left even when it wrote no byte.
        const queuedBeforeData = queue.byteLength;
        if (queuedBeforeData === 0 && this.hasDataWork()) offset = this.writeData(target, offset, limit);
        const didQueue = queue.byteLength > queuedBeforeData;
        if (offset >= limit || (offset === before && !didQueue) || (queue.isEmpty && !this.hasDataWork())) break;
      }
      host.onControlQueueDrained();
      if (offset === 0) {
        message.release();
        message = null;
        this.idle();
        return;
      }
      message.length = offset;
      message.onCompletion = OutgoingFramesTask.onWriteComplete;
      message.userData = this;
      this.isMessageInFlight = true;
      this.messageLength = offset;
      this.messageSentAt = Math.ceil(slot.channel.loop.now());
      this.messagesWritten++;
      this.bytesWritten += offset;
      const sending = message;
      message = null;
      try {
        slot.sendMessage(sending, ChannelDirection.WRITE);
        host.onMessageSent();
      } catch (error) {
        // Not accepted: we still own it.
        this.isMessageInFlight = false;
        sending.release();
        throw error;
      }
    } catch (error) {
      message?.release();
      this.isActive = false;
      this.isWritingStopped = true;
      host.onWriteFailed(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  /**
   * Step 3, the only way a pass ends without a message: go inactive — unless work was queued
   * while the pass ran. `wake` does nothing while the task is active, so a frame queued during a
   * pass (trailers the DATA scheduler encodes, a callback's write) is seen only here; going
   * inactive over it would leave it unsent until some unrelated frame woke the task. Then the
   * task runs again (scheduled, not looped: the next pass sizes its message for what waits).
   */
  private idle(): void {
    const slot = this.slot!;
    if (!plantedBugs.skipQueuedWorkRecheck && this.hasWork()) {
      slot.channel.scheduleTaskNow(this);
      return;
    }
    this.isActive = false;
    this.host.onDataWaitingChanged();
    if (this.host.isWaitingForGoaway) this.host.finishWriteShutdown();
  }

  /**
   * A small message when everything waiting fits in one (control frames and small bodies — the
   * common case of small responses), else the largest the slot allows. Idle connections and
   * small exchanges then touch 1 KiB, not a whole data message.
   */
  private acquireMessage(slot: ChannelSlot, queue: ControlFrameQueue, isDataWork: boolean): IoMessage {
    const small = slot.channel.messagePool.smallMessageSize;
    let needed = queue.byteLength + (this.isPrefacePending ? CONNECTION_PREFACE.length : 0);
    if (isDataWork) {
      const scheduler = this.scheduler;
      for (let position = 0, stream = scheduler.peek(); stream !== undefined && needed <= small;) {
        needed += FRAME_HEADER_LENGTH + stream._pendingBytes;
        stream = scheduler.waitingAt(++position);
      }
    }
    return needed <= small ? slot.acquireMessageForWrite(needed) : slot.acquireMaxMessageForWrite();
  }

  /**
   * DATA in the scheduler's order: each pass offers one frame to every stream waiting at its
   * start; passes go on until space or windows run out.
   */
  private writeData(target: Buffer, offset: number, limit: number): number {
    const host = this.host;
    const scheduler = this.scheduler;
    let madeProgress = true;
    let hasTimedData = false;
    while (madeProgress) {
      madeProgress = false;
      let count = scheduler.size;
      while (count-- > 0) {
        const space = limit - offset - FRAME_HEADER_LENGTH;
        if (space < 0) return offset;
        const stream = scheduler.next()!;
        if (stream.isClosed || stream._isEndSent) {
          stream._isInDataList = false;
          continue;
        }
        if (stream._pendingBytes === 0) {
          // Its end is queued as a control frame when due (addDataStream), never from here.
          stream._isInDataList = false;
          continue;
        }
        if (stream._outAvailable <= 0) {
          // Waits for WINDOW_UPDATE (RFC 9113 §6.9.1); the connection re-adds it.
          stream._isInDataList = false;
          this.markStalled(stream);
          continue;
        }
        const connectionWindow = host._outAvailable;
        if (connectionWindow <= 0 || space === 0) {
          scheduler.add(stream);
          return offset;
        }
        let payload = stream._outAvailable < connectionWindow ? stream._outAvailable : connectionWindow;
        if (payload > space) payload = space;
        if (payload > host.peerMaxFrameSize) payload = host.peerMaxFrameSize;
        const start = offset;
        offset = stream._writeDataFrame(target, offset, payload);
        takeOutbound(host, offset - start - FRAME_HEADER_LENGTH);
        madeProgress = true;
        if (!hasTimedData) hasTimedData = isRateTimed(stream);
        // A write callback that threw costs its own stream, not the connection.
        if (stream._thrown !== null) host.onStreamCallbackThrew(stream);
        if (stream.isClosed) {
          stream._isInDataList = false;
        } else if (stream._isEndSent) {
          stream._isInDataList = false;
          host.onEndStreamSent(stream);
        } else if (stream._needsTrailers) {
          stream._isInDataList = false;
          host.queueTrailers(stream);
        } else if (stream._hasFrameReady) {
          scheduler.add(stream);
        } else {
          stream._isInDataList = false;
          // Its window is spent with bytes left: they wait for the peer's WINDOW_UPDATE.
          if (stream._pendingBytes > 0) this.markStalled(stream);
        }
        // The frame queued control frames (its stream's trailers, or the END_STREAM an end()
        // in a write callback queues): they go next, right behind it, ahead of other streams'
        // DATA — a response is complete as soon as its last bytes are out.
        if (!host.controlQueue.isEmpty) return offset;
      }
      if (host._outAvailable < host.minDataSendWindow && !(scheduler.size > 0 && this.headNeedsLittle())) break;
    }
    if (hasTimedData) this.isTimedDataInFlight = true;
    return offset;
  }

  private handleWriteComplete(channel: Channel, error: SluiceError | null): void {
    this.isMessageInFlight = false;
    if (error === null) this.host.onDataWaitingChanged();
    if (error !== null) {
      this.isActive = false;
      this.isWritingStopped = true;
      this.host.onWriteFailed(error);
      return;
    }
    if (this.isWritingStopped) {
      this.isActive = false;
      return;
    }
    // Nothing waits (the common end of a response): go inactive now instead of spending a loop
    // turn to find that out — step 3 without a shutdown to finish. Anything queued later wakes
    // the task.
    if ((plantedBugs.skipQueuedWorkRecheck || !this.hasWork()) && !this.host.isWaitingForGoaway) {
      this.isActive = false;
      return;
    }
    // Scheduled, not called: other channels on the loop get their turn first.
    channel.scheduleTaskNow(this);
  }
}
