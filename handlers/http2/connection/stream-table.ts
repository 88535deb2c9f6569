/**
 * The table of a connection's open streams, by stream id.
 *
 * @module
 */
import { emptyList, lazyListOf, type LazyList } from '../../../lib/field-layout.js';
import type { Http2Stream } from './http2-stream.js';

/**
 * Slots of the first table: room for 2 streams at the load limit (it doubles from there). An
 * idle connection that carried a request or two keeps it, so it starts small.
 */
const INITIAL_CAPACITY = 4;

/**
 * StreamTable maps stream ids to open streams for one connection. Every request adds and
 * removes an entry, and every frame looks one up, so the table is built for that churn: open
 * addressing over an array of streams, probed by each stream's own id (no array of ids beside
 * it: a typed array costs ≈ 180 bytes of objects, and an idle connection keeps its table),
 * linear probing, deletion by shifting the following entries back (no tombstones). Steady
 * traffic allocates nothing — a `Map` allocates a new hash table every few hundred deletions —
 * and a connection that never carried a stream holds no table at all.
 *
 * Stream ids of one connection are mostly consecutive numbers of one parity, so `id >>> 1`
 * spreads them over consecutive slots. The table doubles at half full and never shrinks (its
 * size is bounded by the concurrent-streams limits).
 */
export class StreamTable {
  /** The streams by slot: a {@link LazyList} until the first stream (then `grow` sizes it). */
  private bySlot: LazyList<Http2Stream | undefined> = emptyList();
  /** Slots in `bySlot` (0 before the first stream). */
  private capacity = 0;
  private mask = -1;
  private count = 0;

  /** Open streams in the table. */
  get size(): number {
    return this.count;
  }

  /** The stream with `id`, or undefined. */
  get(id: number): Http2Stream | undefined {
    if (this.count === 0) return undefined;
    const streams = this.bySlot;
    const mask = this.mask;
    for (let slot = (id >>> 1) & mask; ; slot = (slot + 1) & mask) {
      const found = streams[slot];
      if (found === undefined || found.id === id) return found;
    }
  }

  /** Adds or replaces the stream with `id` (a stream id is never 0). */
  set(id: number, stream: Http2Stream): void {
    if ((this.count + 1) * 2 > this.capacity) this.grow();
    const streams = this.slots();
    const mask = this.mask;
    let slot = (id >>> 1) & mask;
    for (let found = streams[slot]; found !== undefined && found.id !== id; found = streams[slot]) {
      slot = (slot + 1) & mask;
    }
    if (streams[slot] === undefined) this.count++;
    streams[slot] = stream;
  }

  /** Removes the stream with `id`; true when it was there. */
  delete(id: number): boolean {
    if (this.count === 0) return false;
    const streams = this.slots();
    const mask = this.mask;
    let slot = (id >>> 1) & mask;
    for (;;) {
      const found = streams[slot];
      if (found === undefined) return false;
      if (found.id === id) break;
      slot = (slot + 1) & mask;
    }
    // Shift back the entries after it that probed past this slot, so no lookup ever meets a hole
    // before its entry.
    let hole = slot;
    for (
      let next = (hole + 1) & mask, moved = streams[next];
      moved !== undefined;
      next = (next + 1) & mask, moved = streams[next]
    ) {
      const home = (moved.id >>> 1) & mask;
      // The entry at `next` may move into the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysPut) continue;
      streams[hole] = moved;
      hole = next;
    }
    streams[hole] = undefined;
    this.count--;
    return true;
  }

  /** The open streams in id order (creation order), as a new array the caller may keep. */
  values(): Http2Stream[] {
    const result: Http2Stream[] = [];
    const streams = this.bySlot;
    for (let slot = 0; slot < this.capacity; slot++) {
      const stream = streams[slot];
      if (stream !== undefined) result.push(stream);
    }
    return result.sort((a, b) => a.id - b.id);
  }

  /**
   * The streams array, writable: only ever called once `grow` has made the table's own array
   * (`set` grows first; `delete` returns before this while the table is empty). A cast here
   * rather than `lazyPut`: this is the per-request path, and a shared generic helper's stores
   * see every list's element kind (a polymorphic store where this one is monomorphic).
   */
  private slots(): (Http2Stream | undefined)[] {
    return this.bySlot as unknown as (Http2Stream | undefined)[];
  }

  private grow(): void {
    const oldStreams = this.bySlot;
    const oldCapacity = this.capacity;
    const capacity = Math.max(INITIAL_CAPACITY, oldCapacity * 2);
    this.bySlot = lazyListOf(new Array<Http2Stream | undefined>(capacity).fill(undefined));
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < oldCapacity; slot++) {
      const stream = oldStreams[slot];
      if (stream !== undefined) this.set(stream.id, stream);
    }
  }
}
