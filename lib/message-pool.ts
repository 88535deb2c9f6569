/**
 * A per-loop pool of messages in two size classes.
 *
 * @module
 */
import { IoErrors, SluiceError } from './errors.js';
import { IoMessage } from './io-message.js';

/** Options of a {@link MessagePool}; see {@link MESSAGE_POOL_DEFAULTS}. */
export interface MessagePoolOptions {
  /** Capacity of small (control) messages, bytes. */
  smallMessageSize?: number;
  /** Capacity of data messages, bytes; bounds the bytes one write moves. */
  dataMessageSize?: number;
  /** Small messages kept for reuse; more are freed on release. */
  smallTargetCount?: number;
  /** Data messages kept for reuse; more are freed on release. */
  dataTargetCount?: number;
}

/**
 * Defaults of {@link MessagePoolOptions}. With one message in flight per connection, the data
 * size bounds bulk throughput: measured with `npm run bench` (1 MiB downloads, c4 m4), 16 KiB
 * messages reached 0.6× node:http2, 64 KiB 0.5–1.0×, 256 KiB ≈ 1.0× with fewer, larger writes;
 * larger sizes bought nothing more. TLS splits a message into records itself. 64 data messages
 * are kept for reuse (16 MiB at most per loop).
 */
export const MESSAGE_POOL_DEFAULTS: Readonly<Required<MessagePoolOptions>> = Object.freeze({
  smallMessageSize: 1024,
  dataMessageSize: 256 * 1024,
  smallTargetCount: 256,
  dataTargetCount: 64,
});

/** Counters of a {@link MessagePool}, cumulative since creation or the last reset. */
export interface MessagePoolStatistics {
  /** Messages handed out. */
  acquired: number;
  /** Of those, how many were recycled rather than allocated. */
  reused: number;
  /** Of those, how many needed fresh memory. */
  allocated: number;
  /** Messages returned. */
  released: number;
  /** Returned messages dropped because the pool already held its target count. */
  freed: number;
  /** Messages handed out and not yet returned (not reset by resets). */
  outstanding: number;
}

/**
 * MessagePool recycles messages and their memory. Each event loop has one; channels on that
 * loop acquire from it. Acquiring from an empty pool allocates; releasing beyond the target
 * count lets the memory go.
 *
 * A request larger than the data size gets a data message (capacity = data size): callers
 * that need more send several messages.
 */
export class MessagePool {
  /** Capacity of small messages. */
  readonly smallMessageSize: number;
  /** Capacity of data messages. */
  readonly dataMessageSize: number;
  private readonly targetCounts: [number, number];
  private readonly free: [IoMessage[], IoMessage[]] = [[], []];
  private readonly counters: MessagePoolStatistics = {
    acquired: 0,
    reused: 0,
    allocated: 0,
    released: 0,
    freed: 0,
    outstanding: 0,
  };

  /** Creates a pool; see {@link MESSAGE_POOL_DEFAULTS}. */
  constructor(options: MessagePoolOptions = {}) {
    const settings = { ...MESSAGE_POOL_DEFAULTS, ...options };
    if (!(settings.smallMessageSize > 0 && settings.dataMessageSize >= settings.smallMessageSize)) {
      throw new SluiceError(IoErrors.INVALID_OPTIONS, 'message pool sizes must be positive, data ≥ small');
    }
    this.smallMessageSize = settings.smallMessageSize;
    this.dataMessageSize = settings.dataMessageSize;
    this.targetCounts = [settings.smallTargetCount, settings.dataTargetCount];
  }

  /**
   * Hands out a message whose capacity is `min(sizeHint, dataMessageSize)`, except that small
   * requests get a whole small message (`smallMessageSize`): the capacity is never less than
   * asked up to the data size, and never more than asked above the small size.
   * The caller owns it until it sends or releases it.
   */
  acquire(sizeHint: number): IoMessage {
    const sizeClass = sizeHint <= this.smallMessageSize ? 0 : 1;
    const capacity =
      sizeClass === 0 ? this.smallMessageSize : sizeHint >= this.dataMessageSize ? this.dataMessageSize : sizeHint;
    const counters = this.counters;
    counters.acquired++;
    counters.outstanding++;
    let message = this.free[sizeClass].pop();
    if (message !== undefined) {
      counters.reused++;
    } else {
      counters.allocated++;
      const block = Buffer.allocUnsafeSlow(sizeClass === 0 ? this.smallMessageSize : this.dataMessageSize);
      message = new IoMessage(block, this, sizeClass);
    }
    message._reset(capacity);
    return message;
  }

  /** The largest message this pool hands out less `overhead` bytes: `acquire(dataMessageSize - overhead)`. */
  acquireMax(overhead = 0): IoMessage {
    return this.acquire(this.dataMessageSize - overhead);
  }

  /** @internal Called by {@link IoMessage.release}. */
  _recycle(message: IoMessage): void {
    const counters = this.counters;
    counters.released++;
    counters.outstanding--;
    const list = this.free[message._sizeClass]!;
    if (list.length < this.targetCounts[message._sizeClass]!) list.push(message);
    else counters.freed++;
  }

  /** A copy of the counters. */
  statistics(): MessagePoolStatistics {
    return { ...this.counters };
  }

  /** Messages handed out and not yet released. */
  get outstanding(): number {
    return this.counters.outstanding;
  }

  /** Zeroes the cumulative counters (not `outstanding`). */
  resetStatistics(): void {
    const counters = this.counters;
    counters.acquired = counters.reused = counters.allocated = counters.released = counters.freed = 0;
  }
}
