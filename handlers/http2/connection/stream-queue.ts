/**
 * A queue of streams waiting to write, for the write schedulers.
 *
 * @module
 * @internal
 */
import { emptyList, lazyPut, type LazyList } from '../../../lib/field-layout.js';
import type { Http2Stream } from './http2-stream.js';

/** Dead slots at the front beyond which a queue moves its streams back to the start. */
const COMPACT_AFTER = 1024;

/**
 * StreamQueue holds streams in order at [head, tail) of an array, taken from the front: a FIFO
 * when streams are appended ({@link StreamQueue.push}), or kept in stream-id order
 * ({@link StreamQueue.pushInIdOrder}). The array keeps its length when the queue empties
 * (setting `length` is a V8 runtime call) and is compacted only when its dead front grows large;
 * it is a {@link LazyList}, so a queue that never held a stream holds no array.
 *
 * Hot path: a stream taken from the front and put back — at the end of a FIFO, or at the front of
 * an id-ordered queue when its id is still the lowest — moves no other stream and allocates
 * nothing.
 *
 * @internal
 */
export class StreamQueue {
  private streams: LazyList<Http2Stream | undefined> = emptyList();
  /** The first stream's index (subclasses read the bounds only). */
  protected head = 0;
  /** One past the last stream's index. */
  protected tail = 0;
  /**
   * The id of the stream last appended in id order, so appending in order (the common case)
   * compares with a number rather than loading the last stream. Never below the last stream's
   * id; above it after a removal, when an append takes the slower path, still in order.
   */
  private lastId = 0;

  /** Streams waiting. */
  get size(): number {
    return this.tail - this.head;
  }

  /** Appends the stream at the end. */
  push(stream: Http2Stream): void {
    this.streams = lazyPut(this.streams, this.tail++, stream);
  }

  /** Inserts the stream before the first with a higher id (the queue holds streams in id order). */
  pushInIdOrder(stream: Http2Stream): void {
    const id = stream.id;
    const streams = this.streams;
    const head = this.head;
    const tail = this.tail;
    if (head === tail || this.lastId < id) {
      this.streams = lazyPut(streams, this.tail++, stream);
      this.lastId = id;
    } else if (head > 0 && id < streams[head]!.id) {
      // In front of the lowest: the slot the last `shift` freed.
      this.streams = lazyPut(streams, --this.head, stream);
    } else {
      let low = head;
      let high = tail;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (streams[middle]!.id < id) low = middle + 1;
        else high = middle;
      }
      // Rare (a stream whose id falls between others): shift the higher ones back by one.
      let moved = streams;
      for (let at = tail; at > low; at--) moved = lazyPut(moved, at, moved[at - 1]);
      this.streams = lazyPut(moved, low, stream);
      this.tail = tail + 1;
    }
  }

  /** Takes the stream at the front, or undefined when the queue is empty. */
  shift(): Http2Stream | undefined {
    if (this.head === this.tail) return undefined;
    const stream = this.streams[this.head];
    this.streams = lazyPut(this.streams, this.head++, undefined);
    this.compact();
    return stream;
  }

  /** The stream `position` places behind the front, or undefined past the last. */
  at(position: number): Http2Stream | undefined {
    const index = this.head + position;
    return index < this.tail ? this.streams[index] : undefined;
  }

  /** Removes `stream` wherever it waits (a linear search: for rare changes); false when it is not queued. */
  delete(stream: Http2Stream): boolean {
    let streams = this.streams;
    for (let at = this.head; at < this.tail; at++) {
      if (streams[at] !== stream) continue;
      for (let next = at + 1; next < this.tail; next++) streams = lazyPut(streams, next - 1, streams[next]);
      this.streams = lazyPut(streams, --this.tail, undefined);
      this.compact();
      return true;
    }
    return false;
  }

  private compact(): void {
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.tail) {
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
