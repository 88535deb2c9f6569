/**
 * The RFC 9218 write scheduler: DATA by urgency, then non-incremental streams one at a time in
 * stream-id order, then incremental streams in turn.
 *
 * @module
 * @internal
 */
import type { Http2Stream } from './http2-stream.js';
import { DEFAULT_RANK, RANK_COUNT, RANK_MASK } from './priority.js';
import { StreamQueue } from './stream-queue.js';
import type { WriteScheduler } from './write-scheduler.js';

/** The lowest set bit's index of a non-zero 32-bit `mask`. */
function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** The bits of the ranks more urgent than the default one. */
const BEFORE_DEFAULT = (1 << DEFAULT_RANK) - 1;

/**
 * Rfc9218Scheduler serves streams by their RFC 9218 priority (RFC 9218 §10): lower urgency
 * first; within one urgency, non-incremental streams before incremental ones, the
 * non-incremental one at a time in ascending stream id (the order the client made its requests)
 * and the incremental ones in turn, one frame each.
 *
 * A stream's rank (`urgency * 2 + incremental`, see `priority.ts`) names one of sixteen queues.
 * The scheduler is itself the queue of the default rank (`u=3`, non-incremental) — where every
 * stream of a connection without priority signals waits, so such a connection costs about what
 * round-robin does: a rank test and an id comparison more per frame. The other fifteen queues
 * are made by their first stream, with a bit per queue that holds streams. Non-incremental
 * queues keep stream-id order ({@link StreamQueue.pushInIdOrder}: a stream taken and put back
 * while its id is still the lowest goes back to the front); incremental queues are FIFOs. A
 * stream blocked on its flow window or with nothing ready is not here (the task takes it out
 * until it can write), so it holds back nobody. Closed streams are forgotten lazily, as in the
 * round-robin scheduler.
 *
 * @internal
 */
export class Rfc9218Scheduler extends StreamQueue implements WriteScheduler {
  /** The queues of the other ranks (index: rank), made with the first stream of any. */
  private queues: (StreamQueue | null)[] | null = null;
  /** Bit `rank` set while that other rank's queue holds streams. */
  private occupied = 0;
  /** Streams waiting in the other ranks' queues. */
  private elsewhere = 0;

  /** Streams waiting. */
  override get size(): number {
    return this.tail - this.head + this.elsewhere;
  }

  /** Queues the stream under its rank. */
  add(stream: Http2Stream): void {
    const rank = stream._priority & RANK_MASK;
    if (rank === DEFAULT_RANK) {
      this.pushInIdOrder(stream);
      return;
    }
    const queues = (this.queues ??= Array.from({ length: RANK_COUNT }, () => null));
    const queue = (queues[rank] ??= new StreamQueue());
    if ((rank & 1) === 0) queue.pushInIdOrder(stream);
    else queue.push(stream);
    this.occupied |= 1 << rank;
    this.elsewhere++;
  }

  /** Takes the front of the most urgent queue. */
  next(): Http2Stream | undefined {
    const occupied = this.occupied;
    if (occupied === 0 || ((occupied & BEFORE_DEFAULT) === 0 && this.head !== this.tail)) return this.shift();
    const rank = lowestBit(occupied);
    const queue = this.queues![rank]!;
    const stream = queue.shift();
    this.elsewhere--;
    if (queue.size === 0) this.occupied &= ~(1 << rank);
    return stream;
  }

  /** The front of the most urgent queue. */
  peek(): Http2Stream | undefined {
    return this.waitingAt(0);
  }

  /** Nothing to do: a closed stream is dropped when the task takes it. */
  remove(): void {}

  /** Moves a waiting stream from the queue of `previousRank` to its new one. */
  reprioritize(stream: Http2Stream, previousRank: number): void {
    const rank = previousRank & RANK_MASK;
    if (rank === DEFAULT_RANK) {
      if (!this.delete(stream)) return;
    } else {
      const queue = this.queues?.[rank];
      if (queue === null || queue === undefined || !queue.delete(stream)) return;
      this.elsewhere--;
      if (queue.size === 0) this.occupied &= ~(1 << rank);
    }
    this.add(stream);
  }

  /** The stream `position` places behind the front, across the queues in rank order. */
  waitingAt(position: number): Http2Stream | undefined {
    if (this.occupied === 0) return this.at(position);
    // Every occupied queue in rank order, the default one (this) in its place.
    for (let mask = this.occupied | (this.head !== this.tail ? 1 << DEFAULT_RANK : 0); mask !== 0; mask &= mask - 1) {
      const rank = lowestBit(mask);
      const queue: StreamQueue = rank === DEFAULT_RANK ? this : this.queues![rank]!;
      const count = rank === DEFAULT_RANK ? this.tail - this.head : queue.size;
      if (position < count) return queue.at(position);
      position -= count;
    }
    return undefined;
  }
}
