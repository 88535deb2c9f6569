/**
 * A per-loop pool of messages in size classes from small control messages to data messages.
 *
 * @module
 */
import { IoErrors, SluiceError } from './errors.js';
import { IoMessage } from './io-message.js';

/** Options of a {@link MessagePool}; see {@link MESSAGE_POOL_DEFAULTS}. */
export interface MessagePoolOptions {
  /** Capacity of small (control) messages, bytes. */
  smallMessageSize?: number;
  /** Capacity of data messages, bytes; bounds the bytes one write moves. Sizes between small and data go in doubling classes. */
  dataMessageSize?: number;
  /** Small messages kept for reuse; more are freed on release. */
  smallTargetCount?: number;
  /** Messages kept for reuse in each class above the small one; more are freed on release. */
  dataTargetCount?: number;
}

/**
 * Defaults of {@link MessagePoolOptions}. With one message in flight per connection, the data
 * size bounds bulk throughput: measured with `npm run bench` (1 MiB downloads, c4 m4), 16 KiB
 * messages reached 0.6× node:http2, 64 KiB 0.5–1.0×, 256 KiB ≈ 1.0× with fewer, larger writes;
 * larger sizes bought nothing more. TLS splits a message into records itself. 64 messages of
 * each class above the small one are kept for reuse (at most ≈ 32 MiB per loop: 16 MiB of data
 * blocks, 16 MiB of the classes between).
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
 * Blocks come in size classes: the small size, then doubling up to the data size (1, 2, 4 …
 * 256 KiB by default). A size hint gets a block of the smallest class that holds it, so 400
 * pending 16 KiB frames hold 400 × 16 KiB, not 400 whole data blocks. The small class keeps
 * `smallTargetCount` messages for reuse, every other class `dataTargetCount`.
 *
 * A request larger than the data size gets a data message (capacity = data size): callers
 * that need more send several messages.
 */
export class MessagePool {
  /** Capacity of small messages. */
  readonly smallMessageSize: number;
  /** Capacity of data messages. */
  readonly dataMessageSize: number;
  /** Block size of each class, ascending: the small size, doublings, the data size. */
  private readonly classSizes: readonly number[];
  private readonly targetCounts: readonly number[];
  private readonly free: IoMessage[][];
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
    const sizes = [settings.smallMessageSize];
    for (let size = settings.smallMessageSize * 2; size < settings.dataMessageSize; size *= 2) sizes.push(size);
    if (settings.dataMessageSize > settings.smallMessageSize) sizes.push(settings.dataMessageSize);
    this.classSizes = sizes;
    this.targetCounts = sizes.map((_, index) => (index === 0 ? settings.smallTargetCount : settings.dataTargetCount));
    this.free = sizes.map(() => []);
  }

  /**
   * Hands out a message whose capacity is `min(sizeHint, dataMessageSize)`, except that small
   * requests get a whole small message (`smallMessageSize`): the capacity is never less than
   * asked up to the data size, and never more than asked above the small size. Its block is of
   * the smallest size class that holds it.
   * The caller owns it until it sends or releases it.
   */
  acquire(sizeHint: number): IoMessage {
    const sizes = this.classSizes;
    const last = sizes.length - 1;
    let sizeClass = 0;
    while (sizeClass < last && sizeHint > sizes[sizeClass]) sizeClass++;
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
      const block = Buffer.allocUnsafeSlow(sizes[sizeClass]);
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
    const list = this.free[message._sizeClass];
    if (list.length < this.targetCounts[message._sizeClass]) list.push(message);
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
