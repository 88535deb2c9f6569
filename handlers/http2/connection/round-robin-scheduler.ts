/**
 * The default write scheduler: round-robin over the streams with DATA.
 *
 * @module
 * @internal
 */
import { emptyList, lazyPut, type LazyList } from '../../../lib/field-layout.js';
import type { Http2Stream } from './http2-stream.js';
import type { WriteScheduler } from './write-scheduler.js';

/**
 * RoundRobinScheduler gives every stream with DATA one frame per turn, in the order they became
 * ready: a FIFO the task takes from the front and adds back to the end. Streams sit at
 * [head, tail) of an array that keeps its length when the list empties (setting `length` is a
 * V8 runtime call) and is compacted only when its dead front grows large; it is a
 * {@link LazyList}, so a connection that never sent DATA holds no array. Closed streams are forgotten lazily (the task drops
 * them when it takes them).
 *
 * @internal
 */
export class RoundRobinScheduler implements WriteScheduler {
  private streams: LazyList<Http2Stream | undefined> = emptyList();
  private head = 0;
  private tail = 0;

  /** Streams waiting. */
  get size(): number {
    return this.tail - this.head;
  }

  /** Appends the stream at the end of the turn order. */
  add(stream: Http2Stream): void {
    this.streams = lazyPut(this.streams, this.tail++, stream);
  }

  /** Takes the stream at the front. */
  next(): Http2Stream | undefined {
    if (this.head === this.tail) return undefined;
    const stream = this.streams[this.head];
    this.streams = lazyPut(this.streams, this.head++, undefined);
    this.compact();
    return stream;
  }

  /** The stream at the front. */
  peek(): Http2Stream | undefined {
    return this.head === this.tail ? undefined : this.streams[this.head];
  }

  /** Nothing to do: a closed stream is dropped when the task takes it. */
  remove(): void {}

  /** The stream `position` places behind the front. */
  waitingAt(position: number): Http2Stream | undefined {
    const index = this.head + position;
    return index < this.tail ? this.streams[index] : undefined;
  }

  private compact(): void {
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      // Rare (a long-lived backlog): move the live streams to the front one by one.
      let streams = this.streams;
      const count = this.tail - this.head;
      for (let i = 0; i < count; i++) streams = lazyPut(streams, i, streams[this.head + i]);
      for (let i = count; i < this.tail; i++) streams = lazyPut(streams, i, undefined);
      this.streams = streams;
      this.head = 0;
      this.tail = count;
    }
  }
}
