/**
 * TestingChannel: a real channel on virtual time with capturing end slots, for unit tests of
 * one handler (the idea of Netty's EmbeddedChannel and aws-c-io's testing channel).
 *
 * @module
 */
import { Channel } from '../channel.js';
import { ChannelDirection, type ChannelHandler } from '../channel-handler.js';
import type { ChannelSlot } from '../channel-slot.js';
import { ChannelErrors, IoErrors, SluiceError } from '../errors.js';
import { checkArgument, checkOptionalOptions } from '../argument-checks.js';
import { VirtualEventLoop } from '../event-loop.js';
import { IoMessage } from '../io-message.js';
import { completeWrite } from '../pending-writes.js';
import type { MessagePool, MessagePoolOptions } from '../message-pool.js';

/** Options of a {@link TestingChannel}. */
export interface TestingChannelOptions {
  /** Read window of the application end (how much it accepts before `openReadWindow`); unlimited by default. */
  applicationReadWindow?: number;
  /** Read back-pressure; on by default. */
  enableReadBackPressure?: boolean;
  /** Complete every write as soon as it reaches the socket end; off by default (tests complete writes explicitly). */
  autoCompleteWrites?: boolean;
  /** Pool options of the virtual loop. */
  messagePool?: MessagePoolOptions;
  /** Message overhead the socket end reports (to test overhead arithmetic). */
  socketMessageOverhead?: number;
}

/** One shutdown step seen by an end slot. */
export interface ShutdownStep {
  /** Which end: the socket end or the application end. */
  readonly end: 'socket' | 'application';
  /** Which direction was shut down. */
  readonly direction: ChannelDirection;
  /** The error passed in. */
  readonly error: SluiceError | null;
  /** Whether resources were to be freed immediately. */
  readonly freeScarceResourcesImmediately: boolean;
}

/** The socket end: captures writes until the test completes them; delivers pushed reads within the window. */
class SocketEnd implements ChannelHandler {
  readonly pendingWrites: IoMessage[] = [];
  readonly written: Buffer[] = [];
  private readonly pendingReads: Buffer[] = [];
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;
  slot!: ChannelSlot;

  constructor(
    private readonly owner: TestingChannel,
    private readonly overhead: number,
    private readonly autoComplete: boolean,
  ) {}

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  processReadMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'nothing is left of the socket end');
  }

  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    this.written.push(Buffer.from(message.data.subarray(0, message.length)));
    this.pendingWrites.push(message);
    if (this.autoComplete) this.complete(this.pendingWrites.length, null);
  }

  incrementReadWindow(): void {
    this.deliverReads();
  }

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    this.owner._recordShutdown('socket', direction, error, free);
    if (direction === ChannelDirection.READ) {
      this.pendingReads.length = 0;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.writeShutdown = { error, free };
    if (free) this.complete(this.pendingWrites.length, error ?? new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
    this.maybeFinishWriteShutdown();
  }

  initialWindowSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  messageOverhead(): number {
    return this.overhead;
  }

  pushRead(bytes: Buffer): void {
    this.pendingReads.push(bytes);
    this.deliverReads();
  }

  get bufferedReadBytes(): number {
    return this.pendingReads.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  private deliverReads(): void {
    const slot = this.slot;
    while (this.pendingReads.length > 0 && !slot.channel.isShuttingDown) {
      const window = slot.downstreamReadWindow();
      if (window <= 0) return;
      const chunk = this.pendingReads[0];
      const message = slot.channel.messagePool.acquire(Math.min(chunk.length, window));
      const count = message.append(chunk, 0, Math.min(chunk.length, window));
      if (count === chunk.length) this.pendingReads.shift();
      else this.pendingReads[0] = chunk.subarray(count);
      try {
        slot.sendMessage(message, ChannelDirection.READ);
      } catch (error) {
        message.release();
        throw error;
      }
    }
  }

  complete(count: number, error: SluiceError | null): void {
    const channel = this.slot.channel;
    for (let i = 0; i < count && this.pendingWrites.length > 0; i++) {
      completeWrite(channel, this.pendingWrites.shift()!, error);
    }
    this.maybeFinishWriteShutdown();
  }

  private maybeFinishWriteShutdown(): void {
    const request = this.writeShutdown;
    if (request === null || this.pendingWrites.length > 0 || this.slot.isWriteShutDown) return;
    this.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error, request.free);
  }
}

/** The application end: captures what is read, within a window the test controls; sends writes left. */
class ApplicationEnd implements ChannelHandler {
  readonly read: Buffer[] = [];
  slot!: ChannelSlot;

  constructor(
    private readonly owner: TestingChannel,
    private readonly window: number,
  ) {}

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
    this.read.push(Buffer.from(message.data.subarray(0, message.length)));
    message.release();
  }

  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'nothing is right of the application end');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    this.owner._recordShutdown('application', direction, error, free);
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.window;
  }

  messageOverhead(): number {
    return 0;
  }
}

/**
 * TestingChannel runs a real {@link Channel} on a {@link VirtualEventLoop} with the handlers
 * under test between two capturing ends:
 *
 * ```text
 * [socket end] ⇄ [handler 1] ⇄ … ⇄ [handler n] ⇄ [application end]
 * ```
 *
 * The socket end plays the network: `pushRead` feeds bytes (respecting read windows), writes
 * are captured (`takeWritten`) and stay in flight until `completeWrites`/`failWrites`. The
 * application end records what it reads (`takeRead`) within a window opened by
 * `openReadWindow`, and `pushWrite` sends from the application side. Time moves only with
 * `runUntilIdle`/`advance`. Every call that acts runs the loop until idle afterwards.
 *
 * @example
 * ```ts
 * const test = new TestingChannel([new UppercaseHandler()]);
 * test.pushRead('hello');
 * expect(test.takeRead().toString()).to.equal('HELLO');
 * test.shutdown();
 * expect(test.isShutDown).to.equal(true);
 * expect(test.messagePool.outstanding).to.equal(0);
 * ```
 */
export class TestingChannel {
  /** The virtual loop. */
  readonly loop: VirtualEventLoop;
  /** The real channel. */
  readonly channel: Channel;
  /** The slots of the handlers under test, left to right. */
  readonly handlerSlots: ChannelSlot[] = [];
  /** Shutdown steps the ends saw, in order. */
  readonly shutdownSteps: ShutdownStep[] = [];
  private readonly socketEnd: SocketEnd;
  private readonly applicationEnd: ApplicationEnd;
  private writtenTaken = 0;
  private readTaken = 0;

  /** Builds the channel with `handlers` between the ends and runs setup. */
  constructor(handlers: ChannelHandler | readonly ChannelHandler[] = [], options: TestingChannelOptions = {}) {
    const list: readonly unknown[] = Array.isArray(handlers) ? handlers : [handlers];
    checkArgument(
      list.every(isChannelHandler),
      'new TestingChannel(handlers)',
      'handlers are ChannelHandlers',
      handlers,
    );
    checkOptionalOptions(options, 'new TestingChannel');
    this.loop = new VirtualEventLoop(options.messagePool ? { messagePool: options.messagePool } : {});
    this.channel = new Channel(this.loop, { enableReadBackPressure: options.enableReadBackPressure ?? true });
    this.socketEnd = new SocketEnd(this, options.socketMessageOverhead ?? 0, options.autoCompleteWrites ?? false);
    this.applicationEnd = new ApplicationEnd(this, options.applicationReadWindow ?? Number.MAX_SAFE_INTEGER);
    this.channel.appendHandler(this.socketEnd);
    for (const handler of ([] as ChannelHandler[]).concat(handlers)) {
      this.handlerSlots.push(this.channel.appendHandler(handler));
    }
    this.channel.appendHandler(this.applicationEnd);
    this.loop.runUntilIdle();
  }

  /** The slot of the first handler under test. */
  get slot(): ChannelSlot {
    const slot = this.handlerSlots[0];
    if (slot === undefined)
      throw new SluiceError(ChannelErrors.NO_HANDLER, 'the testing channel has no handler under test');
    return slot;
  }

  /** The socket end's slot (first). */
  get socketSlot(): ChannelSlot {
    return this.socketEnd.slot;
  }

  /** The application end's slot (last). */
  get applicationSlot(): ChannelSlot {
    return this.applicationEnd.slot;
  }

  /** The loop's message pool; `outstanding` should be 0 at the end of every test. */
  get messagePool(): MessagePool {
    return this.loop.messagePool;
  }

  /** Bytes arrive from the network; they are delivered as read windows allow. */
  pushRead(bytes: Uint8Array | string): void {
    this.socketEnd.pushRead(typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes));
    this.runUntilIdle();
  }

  /** Pushed read bytes still waiting for a window. */
  get bufferedReadBytes(): number {
    return this.socketEnd.bufferedReadBytes;
  }

  /** The application writes bytes (in messages of at most the pool's data size), or a message it built. */
  pushWrite(data: Uint8Array | string | IoMessage): void {
    const slot = this.applicationSlot;
    if (data instanceof IoMessage) {
      slot.sendMessage(data, ChannelDirection.WRITE);
    } else {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let offset = 0;
      do {
        const message = slot.acquireMessageForWrite(bytes.length - offset);
        offset += message.append(bytes, offset);
        try {
          slot.sendMessage(message, ChannelDirection.WRITE);
        } catch (error) {
          message.release();
          throw error;
        }
      } while (offset < bytes.length);
    }
    this.runUntilIdle();
  }

  /** Every byte written to the socket end since the last call, completed or not. */
  takeWritten(): Buffer {
    const chunks = this.socketEnd.written.slice(this.writtenTaken);
    this.writtenTaken = this.socketEnd.written.length;
    return Buffer.concat(chunks);
  }

  /** The messages written to the socket end since the last `takeWrittenMessages`, one buffer each. */
  takeWrittenMessages(): Buffer[] {
    const chunks = this.socketEnd.written.slice(this.writtenTaken);
    this.writtenTaken = this.socketEnd.written.length;
    return chunks;
  }

  /** Writes that reached the socket end and are not completed yet. */
  get pendingWriteCount(): number {
    return this.socketEnd.pendingWrites.length;
  }

  /** Completes the oldest `count` pending writes (all by default) successfully, then runs the loop. */
  completeWrites(count = Number.MAX_SAFE_INTEGER): void {
    this.socketEnd.complete(count, null);
    this.runUntilIdle();
  }

  /** Fails the oldest `count` pending writes (all by default) with `error`, then runs the loop. */
  failWrites(error: SluiceError = new SluiceError(IoErrors.BROKEN_PIPE), count = Number.MAX_SAFE_INTEGER): void {
    this.socketEnd.complete(count, error);
    this.runUntilIdle();
  }

  /** Completes writes until none are pending (writes triggered by completions too), bounded to `maxRounds`. */
  flushWrites(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds && this.pendingWriteCount > 0; round++) this.completeWrites();
  }

  /** Every byte the application end read since the last call. */
  takeRead(): Buffer {
    const chunks = this.applicationEnd.read.slice(this.readTaken);
    this.readTaken = this.applicationEnd.read.length;
    return Buffer.concat(chunks);
  }

  /** The application opens its read window by `size`. */
  openReadWindow(size: number): void {
    this.applicationSlot.incrementReadWindow(size);
    this.runUntilIdle();
  }

  /** Starts channel shutdown and runs the loop. */
  shutdown(error: SluiceError | null = null, freeScarceResourcesImmediately = false): void {
    this.channel.shutdown(error, freeScarceResourcesImmediately);
    this.runUntilIdle();
  }

  /** The peer closed the connection: shuts down with `IO_SOCKET_CLOSED` (or `error`). */
  peerClose(error: SluiceError = new SluiceError(IoErrors.SOCKET_CLOSED)): void {
    this.shutdown(error);
  }

  /** True once shutdown completed. */
  get isShutDown(): boolean {
    return this.channel.isShutDown;
  }

  /** The shutdown's first error. */
  get shutdownError(): SluiceError | null {
    return this.channel.shutdownError;
  }

  /** Runs the loop until nothing is ready. */
  runUntilIdle(): void {
    this.loop.runUntilIdle();
  }

  /** Advances virtual time by `ms`, running what falls due. */
  advance(ms: number): void {
    this.loop.advance(ms);
  }

  /** @internal */
  _recordShutdown(
    end: 'socket' | 'application',
    direction: ChannelDirection,
    error: SluiceError | null,
    free: boolean,
  ): void {
    this.shutdownSteps.push({ end, direction, error, freeScarceResourcesImmediately: free });
  }
}

/** Whether `value` has the methods every {@link ChannelHandler} implements. */
function isChannelHandler(value: unknown): boolean {
  const handler = value as Partial<ChannelHandler> | null;
  return (
    typeof handler === 'object' &&
    handler !== null &&
    typeof handler.processReadMessage === 'function' &&
    typeof handler.processWriteMessage === 'function' &&
    typeof handler.incrementReadWindow === 'function' &&
    typeof handler.shutdown === 'function' &&
    typeof handler.initialWindowSize === 'function' &&
    typeof handler.messageOverhead === 'function'
  );
}
