/**
 * The table of a connection's open streams, by stream id.
 *
 * @module
 */
import { emptyList, lazyListOf, type LazyList } from '../../../lib/field-layout.js';
import type { Http2Stream } from './http2-stream.js';

/** Slots of the first table: room for 8 streams at the load limit. */
const INITIAL_CAPACITY = 16;
/** The ids of a table that never held a stream (an idle connection's): shared, never written. */
const NO_IDS = new Int32Array(0);

/**
 * StreamTable maps stream ids to open streams for one connection. Every request adds and
 * removes an entry, and every frame looks one up, so the table is built for that churn: open
 * addressing over a typed array of ids, linear probing, deletion by shifting the following
 * entries back (no tombstones). Steady traffic allocates nothing — a `Map` allocates a new
 * hash table every few hundred deletions — and an idle connection holds no table at all.
 *
 * Stream ids of one connection are mostly consecutive numbers of one parity, so `id >>> 1`
 * spreads them over consecutive slots. The table doubles at half full and never shrinks (its
 * size is bounded by the concurrent-streams limits).
 */
export class StreamTable {
  private ids: Int32Array = NO_IDS;
  /** The streams by slot: a {@link LazyList} until the first stream (then `grow` sizes it). */
  private streams: LazyList<Http2Stream | undefined> = emptyList();
  private mask = -1;
  private count = 0;

  /** Open streams in the table. */
  get size(): number {
    return this.count;
  }

  /** The stream with `id`, or undefined. */
  get(id: number): Http2Stream | undefined {
    if (this.count === 0) return undefined;
    const ids = this.ids;
    const mask = this.mask;
    for (let slot = (id >>> 1) & mask; ; slot = (slot + 1) & mask) {
      const found = ids[slot];
      if (found === id) return this.streams[slot];
      if (found === 0) return undefined;
    }
  }

  /** Adds or replaces the stream with `id` (a stream id is never 0). */
  set(id: number, stream: Http2Stream): void {
    if ((this.count + 1) * 2 > this.ids.length) this.grow();
    const ids = this.ids;
    const mask = this.mask;
    let slot = (id >>> 1) & mask;
    while (ids[slot] !== 0 && ids[slot] !== id) slot = (slot + 1) & mask;
    if (ids[slot] === 0) this.count++;
    ids[slot] = id;
    this.slots()[slot] = stream;
  }

  /** Removes the stream with `id`; true when it was there. */
  delete(id: number): boolean {
    if (this.count === 0) return false;
    const ids = this.ids;
    const mask = this.mask;
    let slot = (id >>> 1) & mask;
    for (;;) {
      const found = ids[slot];
      if (found === 0) return false;
      if (found === id) break;
      slot = (slot + 1) & mask;
    }
    // Shift back the entries after it that probed past this slot, so no lookup ever meets a hole
    // before its entry.
    let hole = slot;
    for (let next = (hole + 1) & mask; ids[next] !== 0; next = (next + 1) & mask) {
      const home = (ids[next] >>> 1) & mask;
      // The entry at `next` may move into the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysPut) continue;
      ids[hole] = ids[next]!;
      this.slots()[hole] = this.streams[next];
      hole = next;
    }
    ids[hole] = 0;
    this.slots()[hole] = undefined;
    this.count--;
    return true;
  }

  /** The open streams in id order (creation order), as a new array the caller may keep. */
  values(): Http2Stream[] {
    const result: Http2Stream[] = [];
    const ids = this.ids;
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== 0) result.push(this.streams[slot]!);
    return result.sort((a, b) => a.id - b.id);
  }

  /**
   * The streams array, writable: only ever called once `grow` has made the table's own array
   * (`set` grows first; `delete` returns before this while the table is empty). A cast here
   * rather than `lazyPut`: this is the per-request path, and a shared generic helper's stores
   * see every list's element kind (a polymorphic store where this one is monomorphic).
   */
  private slots(): (Http2Stream | undefined)[] {
    return this.streams as unknown as (Http2Stream | undefined)[];
  }

  private grow(): void {
    const oldIds = this.ids;
    const oldStreams = this.streams;
    const capacity = Math.max(INITIAL_CAPACITY, oldIds.length * 2);
    this.ids = new Int32Array(capacity);
    this.streams = lazyListOf(new Array<Http2Stream | undefined>(capacity).fill(undefined));
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < oldIds.length; slot++) if (oldIds[slot] !== 0) this.set(oldIds[slot], oldStreams[slot]!);
  }
}
