/**
 * A bounded memory of recently closed streams: how each closed, and what a legal peer may still
 * send on it (the rules are stream-state.ts's; this file is their storage).
 *
 * @module
 */

import { ALL_LATE_ONCE, ClosedBy, LateOnce, lateWindowUpdateCredit, lateWindowUpdateFrames } from './stream-state.js';

export { ClosedBy } from './stream-state.js';

/** The index before the first look-up: shared, so an idle connection allocates nothing. */
const NO_INT32 = new Int32Array(0);
/** The ring before the first closed stream: shared, never written (the first add grows it). */
const NO_ENTRIES: number[] = [];
/**
 * The ring's storage: STRIDE int32s per entry in one array (one per connection, not one per
 * field). A small ring is a plain array of small integers (V8 keeps them inline, 8 octets each,
 * behind a 32-octet array object); a larger one an `Int32Array` (4 octets each, but ≈ 180 octets
 * of typed-array and buffer objects before its first element). An idle connection that closed a
 * stream or two keeps a small ring: −176 octets of heap per idle connection.
 */
type RingStorage = number[] | Int32Array;
/**
 * Each ring entry is STRIDE int32s: the stream id, how it closed with its one-off late frames
 * (`kind | lateOnce << 8`), then the WINDOW_UPDATE frames, WINDOW_UPDATE credit and DATA credit
 * still free.
 */
const STRIDE = 5;
const ID = 0;
const KIND_AND_ONCE = 1;
const WINDOW_FRAMES = 2;
const WINDOW_CREDIT = 3;
const DATA_CREDIT = 4;
/**
 * Entries of the first ring: most connections close few streams before they go idle (an idle
 * client's connection, one), and the ring doubles from here as streams close.
 */
const INITIAL_ENTRIES = 1;
/**
 * The largest ring kept in a plain array. Past it the typed array's 4 octets per int32 beat the
 * plain array's 8, and a connection that closed this many streams is a busy one.
 */
const MAX_PLAIN_ENTRIES = 4;
/**
 * Slots of the id index per ring entry. The index holds each live entry once and, until it is
 * rebuilt, up to one stale pointer per entry: at most half full, so probe runs stay short.
 */
const INDEX_SLOTS_PER_ENTRY = 4;

/**
 * ClosedStreams remembers the last `capacity` closed streams, oldest forgotten first, so memory
 * stays bounded however many streams a connection carries. For each it keeps how the stream
 * closed and what a legal peer may still send on it (see {@link ClosedStreams.add}); the
 * connection asks it whether a late frame is one of those races (free) or not (counted).
 *
 * Adding is on the path of every stream and must be cheap: entries go into a ring in one array
 * (no object per entry, no allocation on steady state; see `RingStorage`) that grows by doubling up to
 * `capacity`, and nothing else happens. Look-ups are for late frames only, rare on most
 * connections: they bring an open-addressed index over the ids (linear probing) up to date with
 * the entries added since the last look-up, then find an entry in O(1) — a flood of late frames
 * never scans the ring. Evicted entries leave stale pointers in the index (a look-up checks the
 * id at the ring position it points to); the index is rebuilt once they are as many as the ring,
 * so its upkeep is O(1) per added entry, and none at all on a connection that never sees a late
 * frame.
 */
export class ClosedStreams {
  /** The ring: {@link STRIDE} int32s per entry (see there). */
  private entries: RingStorage = NO_ENTRIES;
  /** Entries the ring has room for. */
  private slots = 0;
  /** Where the next entry goes; the newest is just before it. */
  private next = 0;
  private count = 0;
  /** Ring position + 1 per slot, 0 for an empty slot; length a power of two; made by the first look-up. */
  private index = NO_INT32;
  /** Entries added and not yet in the index (the newest ones); -1: rebuild the index. */
  private unindexed = -1;
  /** Pointers in the index to entries evicted since it was built. */
  private stalePointers = 0;

  /** Creates a cache of at most `capacity` streams. */
  constructor(private readonly capacity: number) {}

  /**
   * Remembers that `streamId` closed, how, and what a legal peer may still have in flight on it
   * (RFC 9113 §5.1's races): credit for the `dataFramesSent` DATA frames and `dataBytesSent`
   * bytes we sent, and, after our reset, DATA up to the stream's `receiveWindow` and its
   * trailers. O(1) and nothing more: a stream added twice gets a second entry, and look-ups find
   * the newest; {@link ClosedStreams.markReset} updates an entry in place instead.
   */
  add(streamId: number, closedBy: ClosedBy, dataFramesSent = 0, dataBytesSent = 0, receiveWindow = 0): void {
    if (this.capacity <= 0) return;
    if (this.count === this.slots) {
      if (this.count < this.capacity) this.grow();
      else if (this.unindexed >= 0 && this.unindexed < this.count) this.stalePointers++; // the oldest, indexed, gives its place
    }
    const at = this.next;
    const entries = this.entries;
    const base = at * STRIDE;
    entries[base + ID] = streamId;
    entries[base + KIND_AND_ONCE] = closedBy | (ALL_LATE_ONCE << 8);
    entries[base + WINDOW_FRAMES] = clampInt32(lateWindowUpdateFrames(dataFramesSent));
    entries[base + WINDOW_CREDIT] = clampInt32(lateWindowUpdateCredit(dataBytesSent));
    entries[base + DATA_CREDIT] = clampInt32(receiveWindow > 0 ? receiveWindow : 0);
    this.next = at + 1 === this.slots ? 0 : at + 1;
    if (this.count < this.slots) this.count++;
    if (this.unindexed >= 0) this.unindexed++;
  }

  /**
   * We reset `streamId` (a late frame we answered with RST_STREAM): a remembered entry now says
   * so and keeps its allowances; a forgotten stream is remembered anew, with DATA up to
   * `receiveWindow` still free.
   */
  markReset(streamId: number, receiveWindow: number): void {
    const at = this.find(streamId);
    if (at >= 0) {
      const field = at * STRIDE + KIND_AND_ONCE;
      this.entries[field] = (this.entries[field] & ~0xff) | ClosedBy.RESET_SENT;
    } else this.add(streamId, ClosedBy.RESET_SENT, 0, 0, receiveWindow);
  }

  /** How `streamId` closed, or undefined when it is not remembered. */
  get(streamId: number): ClosedBy | undefined {
    const at = this.find(streamId);
    return at < 0 ? undefined : ((this.entries[at * STRIDE + KIND_AND_ONCE] & 0xff) as ClosedBy);
  }

  /** Streams remembered. */
  get size(): number {
    return this.count;
  }

  /**
   * A late WINDOW_UPDATE of `increment` on `streamId`: true (and the allowance shrinks) when it
   * fits what the peer may still return — at most one per DATA frame we sent, plus one, and no
   * more credit than the DATA we sent plus one initial window; false when it does not, or the
   * stream is not remembered.
   */
  takeWindowUpdate(streamId: number, increment: number): boolean {
    const at = this.find(streamId);
    if (at < 0) return false;
    const entries = this.entries;
    const base = at * STRIDE;
    if (entries[base + WINDOW_FRAMES] <= 0 || increment > entries[base + WINDOW_CREDIT]) return false;
    entries[base + WINDOW_FRAMES]--;
    entries[base + WINDOW_CREDIT] -= increment;
    return true;
  }

  /** Late DATA of `length` flow-controlled bytes after our reset: true while it fits the window the peer had. */
  takeData(streamId: number, length: number): boolean {
    const at = this.find(streamId);
    if (at < 0 || length > this.entries[at * STRIDE + DATA_CREDIT]) return false;
    this.entries[at * STRIDE + DATA_CREDIT] -= length;
    return true;
  }

  /** A late RST_STREAM: the first per stream is free. */
  takeRstStream(streamId: number): boolean {
    return this.takeOnce(streamId, LateOnce.RST_STREAM);
  }

  /** The peer's late end (trailers, or an empty END_STREAM DATA frame): the first per stream is free. */
  takeEnd(streamId: number): boolean {
    return this.takeOnce(streamId, LateOnce.END);
  }

  /** A late PRIORITY: the first per stream is free. */
  takePriority(streamId: number): boolean {
    return this.takeOnce(streamId, LateOnce.PRIORITY);
  }

  /** A late PRIORITY_UPDATE for the stream: the first is free. */
  takePriorityUpdate(streamId: number): boolean {
    return this.takeOnce(streamId, LateOnce.PRIORITY_UPDATE);
  }

  private takeOnce(streamId: number, bit: number): boolean {
    const at = this.find(streamId);
    const field = at * STRIDE + KIND_AND_ONCE;
    if (at < 0 || (this.entries[field] & (bit << 8)) === 0) return false;
    this.entries[field] &= ~(bit << 8);
    return true;
  }

  /** The ring position of `streamId`'s newest entry, or -1. */
  private find(streamId: number): number {
    if (this.count === 0) return -1;
    this.updateIndex();
    const index = this.index;
    const mask = index.length - 1;
    for (let slot = homeSlot(streamId, mask); ; slot = (slot + 1) & mask) {
      const entry = index[slot];
      if (entry === 0) return -1;
      // A pointer to a position since reused by another stream is stale: probe on.
      if (this.entries[(entry - 1) * STRIDE + ID] === streamId) return entry - 1;
    }
  }

  /** Indexes the entries added since the last look-up, or rebuilds the index when that is cheaper or due. */
  private updateIndex(): void {
    const pending = this.unindexed;
    if (pending === 0) return;
    if (pending < 0 || pending >= this.count || this.stalePointers + pending > this.slots) {
      this.rebuildIndex();
      return;
    }
    const length = this.slots;
    for (let k = pending; k > 0; k--) this.indexEntry((this.next - k + length) % length);
    this.unindexed = 0;
  }

  /** The index anew from the ring, oldest entry first (so the newest of a stream added twice wins). */
  private rebuildIndex(): void {
    let slots = 16;
    while (slots < this.slots * INDEX_SLOTS_PER_ENTRY) slots *= 2;
    if (this.index.length === slots) this.index.fill(0);
    else this.index = new Int32Array(slots);
    const length = this.slots;
    for (let k = this.count; k > 0; k--) this.indexEntry((this.next - k + length) % length);
    this.unindexed = 0;
    this.stalePointers = 0;
  }

  /** Points the index at ring position `at`; a pointer to an older entry of the same stream is replaced. */
  private indexEntry(at: number): void {
    const index = this.index;
    const entries = this.entries;
    const streamId = entries[at * STRIDE + ID];
    const mask = index.length - 1;
    let slot = homeSlot(streamId, mask);
    for (let entry = index[slot]; entry !== 0; entry = index[slot]!) {
      if (entries[(entry - 1) * STRIDE + ID] === streamId) break;
      slot = (slot + 1) & mask;
    }
    index[slot] = at + 1;
  }

  /** Doubles the ring (while it is full and below capacity, so its oldest entry is at `next`). */
  private grow(): void {
    const slots = Math.min(this.capacity, Math.max(INITIAL_ENTRIES, this.slots * 2));
    const from = this.entries;
    const into: RingStorage =
      slots <= MAX_PLAIN_ENTRIES ? new Array<number>(slots * STRIDE).fill(0) : new Int32Array(slots * STRIDE);
    // Oldest first: [next, end) then [0, next). An element loop: `subarray` would allocate two views.
    const split = this.next * STRIDE;
    let to = 0;
    for (let at = split; at < from.length; at++) into[to++] = from[at];
    for (let at = 0; at < split; at++) into[to++] = from[at];
    this.entries = into;
    this.slots = slots;
    this.next = this.count;
    this.unindexed = -1; // positions moved: the next look-up rebuilds
  }
}

/** The index slot an id starts probing at (multiplicative hashing, high bits folded in: ids are sequential). */
function homeSlot(streamId: number, mask: number): number {
  const hash = Math.imul(streamId, 0x9e3779b1);
  return (hash ^ (hash >>> 16)) & mask;
}

function clampInt32(value: number): number {
  return value > 0x7fffffff ? 0x7fffffff : value;
}
