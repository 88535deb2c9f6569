/**
 * The rate-limiter plugin: a token bucket per connection that limits how fast a peer's bytes
 * are read, through read windows instead of buffers.
 *
 * @module
 */
import {
  asSluiceError,
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  Task,
  TaskStatus,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../lib/index.js';
import { PluginErrors } from './plugin-errors.js';
import type { FactoryPluginSpec } from './registry.js';

/** Options of a {@link RateLimiterHandler}; defaults in {@link RATE_LIMITER_DEFAULTS}. */
export interface RateLimiterOptions {
  /** Sustained read rate, bytes per second (required). */
  bytesPerSecond: number;
  /** Bucket size: the most bytes a peer may send at once after being quiet; `bytesPerSecond` when not given. */
  burstBytes?: number;
  /** How often the bucket is topped up while a peer waits for window, ms. */
  refillIntervalMs?: number;
  /** Also limit writes to this many bytes per second (writes wait in a queue); unlimited when not given. */
  writeBytesPerSecond?: number;
  /** Bucket size for writes; `writeBytesPerSecond` when not given. */
  writeBurstBytes?: number;
}

/** Defaults of the optional {@link RateLimiterOptions}. */
export const RATE_LIMITER_DEFAULTS: Readonly<Pick<Required<RateLimiterOptions>, 'refillIntervalMs'>> = Object.freeze({
  refillIntervalMs: 50,
});

/** The registry name of the rate-limiter plugin. */
export const RATE_LIMITER_PLUGIN_NAME = 'rate-limiter';

/**
 * RateLimiterHandler limits the rate at which a connection reads (and optionally writes) with a
 * token bucket per connection.
 *
 * Reads are never buffered: every read passes right at once. The limit is on the window the
 * handler opens to its left — it grants the left neighbour (the socket) window only out of
 * tokens, so a peer that sends faster finds the window closed and the socket pauses (TCP then
 * pushes back on the peer). Tokens granted but not yet used count against the bucket, so an
 * idle connection cannot save up more than `burstBytes`. The window granted never exceeds the
 * window of the handler to the right. The refill runs as a channel task only while the left side
 * waits for tokens; an idle connection with a full bucket has no timer.
 *
 * Writes, when `writeBytesPerSecond` is set, wait in a queue until the bucket allows them (a
 * message larger than the bucket goes once the bucket is full, and the debt is repaid before the
 * next). Their completions are delayed accordingly, which is what slows a producer down. On a
 * graceful shutdown queued writes are sent at once; with `freeScarceResourcesImmediately` they
 * fail with `CHANNEL_SHUTDOWN_NOT_GRACEFUL`.
 *
 * @example
 * ```ts
 * const test = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1000 })]);
 * test.pushRead(Buffer.alloc(3000));
 * expect(test.takeRead().length).to.equal(1000); // the first second's burst
 * test.advance(1000);
 * expect(test.takeRead().length).to.equal(1000);
 * ```
 */
export class RateLimiterHandler implements ChannelHandler {
  private readonly readRate: number;
  private readonly readBurst: number;
  private readonly refillIntervalMs: number;
  private readonly writeRate: number;
  private readonly writeBurst: number;
  private slot: ChannelSlot | null = null;
  private readTokens: number;
  private readRefilledAt = 0;
  private readonly readRefillTask = new Task((status) => this.onReadRefill(status), 'rate-limiter-read');
  private writeTokens: number;
  private writeRefilledAt = 0;
  private readonly queuedWrites: IoMessage[] = [];
  private readonly writeTask = new Task((status) => this.onWriteTask(status), 'rate-limiter-write');
  private bytesReadCount = 0;

  /** Creates the limiter; throws `PLUGIN_INVALID_OPTIONS` for rates or sizes that are not positive. */
  constructor(options: RateLimiterOptions) {
    const settings = { ...RATE_LIMITER_DEFAULTS, ...options };
    this.readRate = positive('bytesPerSecond', settings.bytesPerSecond);
    this.readBurst = positive('burstBytes', settings.burstBytes ?? settings.bytesPerSecond);
    this.refillIntervalMs = positive('refillIntervalMs', settings.refillIntervalMs);
    this.writeRate =
      settings.writeBytesPerSecond === undefined
        ? Infinity
        : positive('writeBytesPerSecond', settings.writeBytesPerSecond);
    this.writeBurst = positive(
      'writeBurstBytes',
      settings.writeBurstBytes ?? (Number.isFinite(this.writeRate) ? this.writeRate : 1),
    );
    this.readTokens = this.readBurst;
    this.writeTokens = this.writeBurst;
  }

  /** Bytes read through this handler so far. */
  get bytesRead(): number {
    return this.bytesReadCount;
  }

  /** Writes waiting for tokens. */
  get queuedWriteCount(): number {
    return this.queuedWrites.length;
  }

  /** Remembers the slot; the first window is granted on the first channel task (the right neighbour exists by then). */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    const now = slot.channel.loop.now();
    this.readRefilledAt = now;
    this.writeRefilledAt = now;
    slot.channel.scheduleTaskNow(this.readRefillTask);
  }

  /** Passes the read right at once; the bytes were paid for when the window was granted. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const length = message.length;
    slot.sendMessage(message, ChannelDirection.READ);
    this.bytesReadCount += length;
    // Used window leaves room in the bucket: top it up later.
    this.scheduleReadRefill(slot, this.refillIntervalMs);
  }

  /** Passes the write left, or queues it until the write bucket allows it. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    if (!Number.isFinite(this.writeRate)) {
      slot.sendMessage(message, ChannelDirection.WRITE);
      return;
    }
    this.refillWrites(slot.channel.loop.now());
    if (this.queuedWrites.length === 0 && this.canWrite(message.length)) {
      this.writeTokens -= message.length;
      slot.sendMessage(message, ChannelDirection.WRITE);
      return;
    }
    this.queuedWrites.push(message);
    this.scheduleWrites(slot);
  }

  /** The right neighbour opened its window: grant what the bucket allows. */
  incrementReadWindow(slot: ChannelSlot, _size: number): void {
    this.grantReadWindow(slot);
  }

  /** Stops the refill on READ; on WRITE sends (or, freeing immediately, fails) queued writes, then completes. */
  shutdown(
    slot: ChannelSlot,
    direction: ChannelDirection,
    error: SluiceError | null,
    freeScarceResourcesImmediately: boolean,
  ): void {
    if (direction === ChannelDirection.READ) {
      slot.channel.unscheduleTask(this.readRefillTask);
    } else {
      slot.channel.unscheduleTask(this.writeTask);
      if (freeScarceResourcesImmediately)
        this.failQueuedWrites(slot, error ?? new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
      else this.sendQueuedWrites(slot, Infinity);
    }
    slot.onHandlerShutdownComplete(direction, error, freeScarceResourcesImmediately);
  }

  /** 0: window is granted out of tokens once the right neighbour is known. */
  initialWindowSize(): number {
    return 0;
  }

  /** Adds nothing to messages. */
  messageOverhead(): number {
    return 0;
  }

  /** Fails anything still queued (only possible if the channel was torn down without shutdown). */
  destroy(): void {
    if (this.slot !== null && this.queuedWrites.length > 0) {
      this.failQueuedWrites(this.slot, new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
    }
    this.slot = null;
  }

  private refillReads(now: number): void {
    const elapsed = now - this.readRefilledAt;
    this.readRefilledAt = now;
    if (elapsed <= 0) return;
    const granted = this.slot === null ? 0 : this.slot.windowSize;
    // Granted, unused window is part of the bucket: an idle peer cannot bank more than a burst.
    const room = Math.max(0, this.readBurst - granted);
    this.readTokens = Math.min(room, this.readTokens + (elapsed * this.readRate) / 1000);
  }

  private grantReadWindow(slot: ChannelSlot): void {
    const channel = slot.channel;
    if (!channel.isReadBackPressureEnabled || channel.isShuttingDown) return;
    this.refillReads(channel.loop.now());
    const gap = slot.downstreamReadWindow() - slot.windowSize;
    if (gap <= 0) return;
    const grant = Math.floor(Math.min(this.readTokens, gap));
    if (grant > 0) {
      this.readTokens -= grant;
      slot.incrementReadWindow(grant);
    }
    // The left still wants window: top up later, unless the bucket is full (granted window
    // unused), in which case only a read (processReadMessage) makes room again.
    if (grant < gap && this.readTokens + slot.windowSize < this.readBurst)
      this.scheduleReadRefill(slot, this.refillIntervalMs);
  }

  private scheduleReadRefill(slot: ChannelSlot, delayMs: number): void {
    const channel = slot.channel;
    if (this.readRefillTask.isScheduled || channel.isShuttingDown || !channel.isReadBackPressureEnabled) return;
    channel.scheduleTaskAfter(this.readRefillTask, delayMs);
  }

  private onReadRefill(status: TaskStatus): void {
    if (status === TaskStatus.CANCELED || this.slot === null) return;
    this.grantReadWindow(this.slot);
  }

  private refillWrites(now: number): void {
    const elapsed = now - this.writeRefilledAt;
    this.writeRefilledAt = now;
    if (elapsed > 0) this.writeTokens = Math.min(this.writeBurst, this.writeTokens + (elapsed * this.writeRate) / 1000);
  }

  /** A message may go when the bucket holds its length, or is full for one larger than the bucket. */
  private canWrite(length: number): boolean {
    return this.writeTokens >= Math.min(length, this.writeBurst);
  }

  private scheduleWrites(slot: ChannelSlot): void {
    const head = this.queuedWrites[0];
    if (head === undefined || this.writeTask.isScheduled || slot.channel.isShutDown) return;
    const missing = Math.min(head.length, this.writeBurst) - this.writeTokens;
    slot.channel.scheduleTaskAfter(this.writeTask, Math.max(1, Math.ceil((missing * 1000) / this.writeRate)));
  }

  private onWriteTask(status: TaskStatus): void {
    const slot = this.slot;
    if (slot === null) return;
    if (status === TaskStatus.CANCELED) {
      this.failQueuedWrites(slot, new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
      return;
    }
    this.refillWrites(slot.channel.loop.now());
    this.sendQueuedWrites(slot, this.writeRate);
    this.scheduleWrites(slot);
  }

  /** Sends queued writes while the bucket allows (all of them when `rate` is Infinity). */
  private sendQueuedWrites(slot: ChannelSlot, rate: number): void {
    const queue = this.queuedWrites;
    // Bounded by the queue length: each pass removes one message or stops.
    while (queue.length > 0) {
      const message = queue[0];
      if (Number.isFinite(rate) && !this.canWrite(message.length)) return;
      queue.shift();
      this.writeTokens -= message.length;
      try {
        slot.sendMessage(message, ChannelDirection.WRITE);
      } catch (thrown) {
        const error = asSluiceError(thrown, ChannelErrors.HANDLER_FAILED);
        completeWithError(slot, message, error);
        this.failQueuedWrites(slot, error);
        slot.channel.shutdown(error);
        return;
      }
    }
  }

  private failQueuedWrites(slot: ChannelSlot, error: SluiceError): void {
    const queue = this.queuedWrites.splice(0);
    for (const message of queue) completeWithError(slot, message, error);
  }
}

function completeWithError(slot: ChannelSlot, message: IoMessage, error: SluiceError): void {
  const completion = message.onCompletion;
  try {
    completion?.(slot.channel, message, error);
  } finally {
    message.release();
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) {
    throw new SluiceError(
      PluginErrors.INVALID_OPTIONS,
      `plugin '${RATE_LIMITER_PLUGIN_NAME}': option '${name}' must be positive, got ${value}`,
    );
  }
  return value;
}

/** The registration of the rate-limiter plugin (function form), as the registry's built-ins use it. */
export const RATE_LIMITER_PLUGIN: FactoryPluginSpec<RateLimiterOptions> = Object.freeze<
  FactoryPluginSpec<RateLimiterOptions>
>({
  defaults: RATE_LIMITER_DEFAULTS,
  validate: {
    bytesPerSecond: { type: 'number', required: true, min: 1 },
    burstBytes: { type: 'number', min: 1 },
    refillIntervalMs: { type: 'number', min: 1 },
    writeBytesPerSecond: { type: 'number', min: 1 },
    writeBurstBytes: { type: 'number', min: 1 },
  },
  factory: (options: Readonly<RateLimiterOptions>) => new RateLimiterHandler(options),
});
