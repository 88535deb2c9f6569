/**
 * The round-robin write scheduler: every stream with DATA in turn, priorities aside.
 *
 * @module
 * @internal
 */
import { StreamQueue } from './stream-queue.js';
import type { Http2Stream } from './http2-stream.js';
import type { WriteScheduler } from './write-scheduler.js';

/**
 * RoundRobinScheduler gives every stream with DATA one frame per turn, in the order they became
 * ready: a FIFO the task takes from the front and adds back to the end. It ignores priorities
 * (the connection option `writeScheduler: 'round-robin'`). Closed streams are forgotten lazily
 * (the task drops them when it takes them).
 *
 * @internal
 */
export class RoundRobinScheduler extends StreamQueue implements WriteScheduler {
  /** Appends the stream at the end of the turn order. */
  add(stream: Http2Stream): void {
    this.push(stream);
  }

  /** Takes the stream at the front. */
  next(): Http2Stream | undefined {
    return this.shift();
  }

  /** The stream at the front. */
  peek(): Http2Stream | undefined {
    return this.at(0);
  }

  /** Nothing to do: a closed stream is dropped when the task takes it. */
  remove(): void {}

  /** Nothing to do: priorities do not change the turn order. */
  reprioritize(): void {}

  /** The stream `position` places behind the front. */
  waitingAt(position: number): Http2Stream | undefined {
    return this.at(position);
  }
}
