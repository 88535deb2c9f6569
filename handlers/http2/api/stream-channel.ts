/**
 * One HTTP/2 stream as a channel: {@link Http2StreamChannelAdapter} sits in the first slot of a
 * channel of its own and turns the stream's DATA into read messages and written messages into
 * DATA — how an RFC 8441 extended CONNECT (WebSocket over HTTP/2) runs a protocol handler that
 * was written for a socket.
 *
 * @module
 */
import {
  Channel,
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  type ChannelHandler,
  type ChannelOptions,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import { PendingWrites } from '../../../lib/pending-writes.js';
import { ReadQueue } from '../../../lib/read-queue.js';
import { ErrorCode } from '../wire/constants.js';
import { Http2ApiErrors, Http2SessionErrors } from '../errors.js';
import type { Http2Headers } from '../connection/connection-options.js';
import { Http2Stream, type Http2StreamFailure, type Http2StreamHandler } from '../connection/http2-stream.js';

/**
 * Writes handed to the stream, oldest first. The stream frames chunks in order, so one shared
 * callback completes the oldest; an empty message has no bytes to wait for and completes with the
 * one before it.
 */
class StreamWrites extends PendingWrites {
  /** Completes the oldest write, then the empty ones right behind it. */
  completeFramed(channel: Channel | null, error: SluiceError | null): void {
    this.completeOldest(channel, error);
    for (let next = this.peekItem(); next !== undefined && next.length === 0; next = this.peekItem()) {
      this.completeOldest(channel, error);
    }
  }
}

/**
 * Http2StreamChannelAdapter is a {@link ChannelHandler} for the first slot of a channel that
 * carries one {@link Http2Stream} (the stream's connection runs in another channel on the same
 * loop), and the stream's {@link Http2StreamHandler}:
 *
 * - **Reading**: DATA becomes read messages sent right, never more than the right slot's window;
 *   what does not fit waits here. The stream runs in manual window mode and HTTP/2 credit goes
 *   back to the peer (WINDOW_UPDATE) only as the handler to the right opens its window — so the
 *   channel's read back-pressure is the stream's flow control, and at most one stream window
 *   waits here.
 * - **Writing**: a written message becomes DATA; its completion fires once its bytes are framed
 *   (which waits for the peer's flow-control window), so a writer with one message in flight is
 *   throttled by the stream.
 * - **Ending**: the peer's END_STREAM shuts the channel down with `HTTP2_STREAM_ENDED` once what
 *   was read is delivered (a TCP FIN, RFC 8441 §5); a reset or a failed connection shuts it down
 *   with the stream's error. A graceful shutdown ends our side with END_STREAM; one with an error
 *   (unless the peer already ended its side) or with `freeScarceResourcesImmediately` resets the
 *   stream with RST_STREAM(CANCEL).
 *
 * The adapter takes the stream over when constructed — before the channel exists, so DATA, the
 * end or a reset that arrive while the application decides (an asynchronous accept hook) wait
 * for {@link Http2StreamChannelAdapter.openChannel}. The stream's previous handler is still told
 * when the stream closes (`onClose`), so a convenient layer above it learns the end.
 *
 * @example
 * ```ts
 * const adapter = new Http2StreamChannelAdapter(stream); // in onStream, before any DATA
 * stream.sendHeaders([':status', '200']);
 * const channel = adapter.openChannel();
 * channel.appendHandler(new EchoHandler()); // sees the request's DATA as read messages
 * ```
 */
export class Http2StreamChannelAdapter implements ChannelHandler, Http2StreamHandler {
  /** The stream carried. */
  readonly stream: Http2Stream;
  private readonly previousHandler: Http2StreamHandler;
  private slot: ChannelSlot | null = null;
  private readonly reads = new ReadQueue();
  private readonly writes = new StreamWrites();
  private isPeerEnded = false;
  private isStreamClosed = false;
  private closeError: Http2StreamFailure | null = null;
  /** Nothing more is delivered: the read side shut down, or no channel will be opened. */
  private isDiscarding = false;
  private readonly deliverTask: Task;
  private readonly onChunkFramed = (error: Http2StreamFailure | null): void =>
    this.writes.completeFramed(this.slot?.channel ?? null, error);

  /**
   * Takes `stream` over: becomes its handler and switches it to manual window mode. Call it
   * before DATA can arrive (in `onStream`, or in the client's `onResponse`). Throws
   * `HTTP2_INVALID_ARGUMENT` for what is not a stream.
   */
  constructor(stream: Http2Stream) {
    if (!(stream instanceof Http2Stream)) {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'new Http2StreamChannelAdapter(stream): an Http2Stream');
    }
    this.stream = stream;
    this.previousHandler = stream.handler;
    stream.handler = this;
    stream.isManualWindow = true;
    this.isStreamClosed = stream.isClosed;
    this.deliverTask = new Task(Http2StreamChannelAdapter.runDeliver, 'http2-stream-channel-deliver', this);
  }

  private static runDeliver(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as Http2StreamChannelAdapter).deliverPending();
  }

  /** The channel, once {@link Http2StreamChannelAdapter.openChannel} made it. */
  get channel(): Channel | null {
    return this.slot?.channel ?? null;
  }

  /**
   * Makes the channel on the stream's loop with this adapter in its first slot; append the
   * protocol handler right after (what already arrived is delivered on a later turn). Throws
   * `CHANNEL_INVALID_SLOT_OPERATION` when called twice or after {@link Http2StreamChannelAdapter.discard}.
   */
  openChannel(options: ChannelOptions = {}): Channel {
    if (this.slot !== null || this.isDiscarding) {
      throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the stream already has a channel, or was discarded');
    }
    const channel = new Channel(this.stream.loop, options);
    channel.appendHandler(this);
    return channel;
  }

  /**
   * No channel will be opened (the request was refused): DATA is dropped from now on, its credit
   * returned at once so the peer is never stalled by bytes nobody reads.
   */
  discard(): void {
    if (this.slot !== null) return;
    this.isDiscarding = true;
    this.dropReads();
  }

  // ---------------------------------------------------------------- the stream's events

  /** DATA: delivered right while the window allows, the rest kept (copied) until it opens. */
  onData(stream: Http2Stream, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.isDiscarding) {
      stream.updateWindow(length);
      return;
    }
    const slot = this.slot;
    let at = start;
    // Straight from the frame into pooled messages while nothing waits: no copy per DATA frame.
    if (slot !== null && this.reads.isEmpty && slot.adjacentRight !== null && !slot.channel.isShuttingDown) {
      const pool = slot.channel.messagePool;
      while (at < end) {
        const window = slot.downstreamReadWindow();
        if (window <= 0) break;
        const count = Math.min(end - at, window, pool.dataMessageSize);
        const message = pool.acquire(count);
        message.append(data, at, at + count);
        try {
          slot.sendMessage(message, ChannelDirection.READ);
        } catch (thrown) {
          message.release();
          slot.channel.shutdown(asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
          return;
        }
        at += count;
      }
    }
    if (at < end) this.reads.push(Buffer.from(data.subarray(at, end)));
  }

  /**
   * The peer's END_STREAM: the channel ends once what waits is delivered — on a task, so that a
   * reset right behind it (node ends a stream before it resets it) is what the channel reports.
   */
  onEnd(): void {
    this.isPeerEnded = true;
    const slot = this.slot;
    if (slot !== null && !this.deliverTask.isScheduled) slot.channel.scheduleTaskNow(this.deliverTask);
  }

  /** The stream closed: reset, connection failure, or both sides ended. */
  onClose(stream: Http2Stream, error: Http2StreamFailure | null): void {
    this.isStreamClosed = true;
    this.closeError = error;
    try {
      this.previousHandler.onClose?.(stream, error);
    } finally {
      const channel = this.slot?.channel;
      if (channel !== undefined) {
        // A reset loses what waits; a clean close means our side already ended (shutting down).
        if (error !== null) channel.shutdown(error);
        else this.endIfDelivered();
      }
    }
  }

  /** Headers after the final ones are trailers, which a tunnel does not have: ignored. */
  onTrailers(_stream: Http2Stream, _headers: Http2Headers): void {}

  // ---------------------------------------------------------------- channel handler

  /** Remembers the slot; delivers what arrived before the channel existed on a later turn. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    slot.channel.scheduleTaskNow(this.deliverTask);
  }

  /** Nothing is left of the first slot: a read arriving here is a wiring error. */
  processReadMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the HTTP/2 stream adapter must be the first slot');
  }

  /**
   * Queues the message's bytes as DATA; its completion fires once they are framed (or with the
   * stream's error). Throws `CHANNEL_SLOT_SHUT_DOWN` (the sender keeps the message) when the
   * stream can no longer send.
   */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    const stream = this.stream;
    if (!stream.isWritable) {
      throw new SluiceError(ChannelErrors.SLOT_SHUT_DOWN, `HTTP/2 stream ${stream.id} can no longer send`);
    }
    const length = message.length;
    const isFirst = this.writes.size === 0;
    this.writes.push(message);
    if (length === 0) {
      if (isFirst) this.writes.completeOldest(this.slot?.channel ?? null, null);
      return;
    }
    const data = message.data;
    // One view per write at most; a full message goes as it is.
    stream.write(length === data.length ? data : data.subarray(0, length), this.onChunkFramed);
  }

  /** The right slot consumed `size` bytes: as much HTTP/2 credit goes back, and what waits moves on. */
  incrementReadWindow(_slot: ChannelSlot, size: number): void {
    if (!this.isStreamClosed) this.stream.updateWindow(size);
    this.deliverPending();
  }

  /**
   * READ: stop delivering (what waits is dropped, its credit returned). WRITE: END_STREAM when
   * graceful, or when the peer already ended its side; RST_STREAM(CANCEL) with an error or `free`.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isDiscarding = true;
      this.dropReads();
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    const stream = this.stream;
    if (this.isStreamClosed || stream.isClosed) {
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    if (free || (error !== null && !this.isPeerEnded)) {
      // RFC 8441 §5: an abort is RST_STREAM(CANCEL), as a TCP reset.
      stream.reset(ErrorCode.CANCEL);
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    if (!stream.isWritable) {
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    // RFC 8441 §5: an orderly close is END_STREAM, as a TCP FIN; done once it is framed.
    stream.end(undefined, () => {
      if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(direction, error, free);
    });
  }

  /** The first slot takes whatever the right sends. */
  initialWindowSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** DATA framing is added by the stream's connection, in its own channel. */
  messageOverhead(): number {
    return 0;
  }

  /** Fails writes still waiting; a stream neither ended nor reset is reset (CANCEL). */
  destroy(): void {
    this.isDiscarding = true;
    this.dropReads();
    const channel = this.slot?.channel ?? null;
    this.writes.failAll(channel, channel?.shutdownError ?? new SluiceError(ChannelErrors.SHUT_DOWN));
    const stream = this.stream;
    if (!stream.isClosed && stream.isWritable) stream.reset(ErrorCode.CANCEL);
  }

  // ---------------------------------------------------------------- internals

  private deliverPending(): void {
    const slot = this.slot;
    if (slot === null || this.isDiscarding) return;
    if (this.closeError !== null) {
      slot.channel.shutdown(this.closeError);
      return;
    }
    if (this.reads.deliver(slot) < 0) return;
    this.endIfDelivered();
  }

  /** After the peer's END_STREAM (or a clean close), the channel ends once nothing waits. */
  private endIfDelivered(): void {
    const slot = this.slot;
    if (slot === null || !this.reads.isEmpty) return;
    if (this.isPeerEnded || this.isStreamClosed)
      slot.channel.shutdown(new SluiceError(Http2SessionErrors.STREAM_ENDED));
  }

  private dropReads(): void {
    const held = this.reads.byteLength;
    this.reads.clear();
    if (held > 0 && !this.isStreamClosed) this.stream.updateWindow(held);
  }
}
