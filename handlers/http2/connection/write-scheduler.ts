/**
 * The seam between the outgoing-frames task and the order in which streams write DATA.
 *
 * @module
 * @internal
 */
import type { Http2Stream } from './http2-stream.js';

/**
 * WriteScheduler decides which stream the outgoing-frames task writes its next DATA frame from,
 * as x/net/http2's `WriteScheduler` does. The task owns the protocol (windows, frame sizes,
 * END_STREAM and trailers); the scheduler owns only the order. A stream is in the scheduler from
 * {@link WriteScheduler.add} until {@link WriteScheduler.next} hands it out; the task adds it back
 * while it has more to write. The task adds a stream at most once at a time (it keeps the
 * stream's `_isInDataList` flag), so an implementation needs no membership check.
 *
 * Hot path: one call per DATA frame. Implementations allocate nothing on steady state, and one
 * connection uses one implementation for its life (the call sites stay monomorphic).
 *
 * @internal
 */
export interface WriteScheduler {
  /** Streams waiting to write. */
  readonly size: number;
  /** The stream has DATA to write: it waits for its turn. */
  add(stream: Http2Stream): void;
  /** Takes the stream whose turn it is (it leaves the scheduler), or undefined when none waits. */
  next(): Http2Stream | undefined;
  /** The stream {@link WriteScheduler.next} would return, left in place; undefined when none waits. */
  peek(): Http2Stream | undefined;
  /**
   * The stream closed. An implementation may forget it lazily: a closed stream it still hands out
   * is dropped by the task, which checks `isClosed` on every stream it takes.
   */
  remove(stream: Http2Stream): void;
  /**
   * The stream's rank (its priority, see `priority.ts`) changed from `previousRank` while it
   * waits: it moves to its new place. A stream {@link WriteScheduler.next} handed out and not yet
   * added back is not waiting: nothing moves, and it is added under its new rank.
   */
  reprioritize(stream: Http2Stream, previousRank: number): void;
  /**
   * The stream at `position` in turn order (0 is the one {@link WriteScheduler.next} would
   * return), or undefined past the last: the task sizes its message from the first few.
   */
  waitingAt(position: number): Http2Stream | undefined;
}

/** Makes a write scheduler for one connection. @internal */
export type WriteSchedulerFactory = () => WriteScheduler;
