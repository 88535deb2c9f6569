/**
 * A bounded memory of recently closed streams: how each closed, and what a legal peer may still
 * send on it.
 *
 * @module
 */

/** How a stream closed, which decides what a late frame on it gets (RFC 9113 §5.1). */
export const ClosedBy = {
  /** Both sides ended normally, our END_STREAM last (the peer had ended its side before). */
  END_STREAM: 0,
  /** We sent RST_STREAM: frames the peer sent before seeing it are ignored. */
  RESET_SENT: 1,
  /** The peer sent RST_STREAM. */
  RESET_RECEIVED: 2,
  /** Both sides ended normally, the peer's END_STREAM last (we had ended our side before). */
  REMOTE_END_STREAM: 3,
} as const;
/** A {@link ClosedBy} value. */
export type ClosedBy = (typeof ClosedBy)[keyof typeof ClosedBy];

/**
 * A WINDOW_UPDATE may also raise a window the peer wants larger, not only return credit; one
 * initial window (RFC 9113 §6.9.2) of such slack per stream covers a raise that crossed the close.
 */
const WINDOW_RAISE_SLACK = 65_535;

/** One-off late frames a legal peer may send once per stream (bits of an entry's flags). */
const LateOnce = {
  /** A RST_STREAM crossing the END_STREAM or reset that closed the stream. */
  RST_STREAM: 1,
  /** The peer's trailers (or an empty END_STREAM DATA frame) in flight when we reset. */
  END: 2,
  /** A PRIORITY frame (RFC 9113 §5.1 allows PRIORITY in every state). */
  PRIORITY: 4,
} as const;
const ALL_LATE_ONCE = LateOnce.RST_STREAM | LateOnce.END | LateOnce.PRIORITY;

/** The arrays before the first closed stream: shared, so an idle connection allocates nothing. */
const NO_INT32 = new Int32Array(0);
const NO_UINT8 = new Uint8Array(0);
/** Slots of the id index per entry: at most half full, so probe runs stay short. */
const INDEX_LOAD = 2;

/**
 * ClosedStreams remembers the last `capacity` closed streams, oldest forgotten first, so memory
 * stays bounded however many streams a connection carries. For each it keeps how the stream
 * closed and what a legal peer may still send on it (see {@link ClosedStreams.add}); the
 * connection asks it whether a late frame is one of those races (free) or not (counted).
 *
 * Entries live in a ring of typed arrays (no object per entry, no allocation on steady state)
 * that grows by doubling up to `capacity`; an open-addressed index over the ids (linear probing,
 * deletion by backward shift) finds an entry in O(1), so a flood of late frames never scans the
 * ring.
 */
export class ClosedStreams {
  private ids = NO_INT32;
  private kinds = NO_UINT8;
  /** One-off late frames still free (`LateOnce` bits). */
  private lateOnce = NO_UINT8;
  /** Late WINDOW_UPDATE frames still free. */
  private windowFrames = NO_INT32;
  /** Late WINDOW_UPDATE credit still free, bytes. */
  private windowCredit = NO_INT32;
  /** Late DATA still free after our reset, bytes. */
  private dataCredit = NO_INT32;
  /** Ring position + 1 of each id, 0 for an empty slot; length a power of two. */
  private index = NO_INT32;
  /** Where the next entry goes; the newest is just before it. */
  private next = 0;
  private count = 0;

  /** Creates a cache of at most `capacity` streams. */
  constructor(private readonly capacity: number) {}

  /**
   * Remembers that `streamId` closed, how, and what a legal peer may still have in flight on it
   * (RFC 9113 §5.1's races): credit for the `dataFramesSent` DATA frames and `dataBytesSent`
   * bytes we sent, and, after our reset, DATA up to the stream's `receiveWindow` and its
   * trailers. A stream added again (a late DATA we answered with RST_STREAM) keeps its entry,
   * with the new way it closed.
   */
  add(streamId: number, closedBy: ClosedBy, dataFramesSent = 0, dataBytesSent = 0, receiveWindow = 0): void {
    if (this.capacity <= 0) return;
    let at = this.find(streamId);
    if (at < 0) {
      if (this.count === this.ids.length) {
        if (this.count < this.capacity) this.grow();
        else this.unindex(this.next); // full: the oldest entry gives its place
      }
      at = this.next;
      this.ids[at] = streamId;
      this.indexEntry(at);
      this.next = (at + 1) % this.ids.length;
      if (this.count < this.ids.length) this.count++;
      this.lateOnce[at] = ALL_LATE_ONCE;
      this.windowFrames[at] = clampInt32(dataFramesSent + 1);
      this.windowCredit[at] = clampInt32(dataBytesSent + WINDOW_RAISE_SLACK);
      this.dataCredit[at] = clampInt32(Math.max(0, receiveWindow));
    }
    this.kinds[at] = closedBy;
  }

  /** How `streamId` closed, or undefined when it is not remembered. */
  get(streamId: number): ClosedBy | undefined {
    const at = this.find(streamId);
    return at < 0 ? undefined : (this.kinds[at] as ClosedBy);
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
    if (at < 0 || this.windowFrames[at]! <= 0 || increment > this.windowCredit[at]!) return false;
    this.windowFrames[at]!--;
    this.windowCredit[at]! -= increment;
    return true;
  }

  /** Late DATA of `length` flow-controlled bytes after our reset: true while it fits the window the peer had. */
  takeData(streamId: number, length: number): boolean {
    const at = this.find(streamId);
    if (at < 0 || length > this.dataCredit[at]!) return false;
    this.dataCredit[at]! -= length;
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

  private takeOnce(streamId: number, bit: number): boolean {
    const at = this.find(streamId);
    if (at < 0 || (this.lateOnce[at]! & bit) === 0) return false;
    this.lateOnce[at]! &= ~bit;
    return true;
  }

  /** The ring position of `streamId`, or -1. */
  private find(streamId: number): number {
    const index = this.index;
    if (index.length === 0) return -1;
    const mask = index.length - 1;
    for (let slot = homeSlot(streamId, mask); ; slot = (slot + 1) & mask) {
      const entry = index[slot]!;
      if (entry === 0) return -1;
      if (this.ids[entry - 1] === streamId) return entry - 1;
    }
  }

  private indexEntry(at: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let slot = homeSlot(this.ids[at]!, mask);
    while (index[slot] !== 0) slot = (slot + 1) & mask;
    index[slot] = at + 1;
  }

  /** Removes the ring entry `at` from the index, shifting later probes back over the gap. */
  private unindex(at: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let gap = homeSlot(this.ids[at]!, mask);
    while (index[gap] !== at + 1) gap = (gap + 1) & mask;
    for (let slot = (gap + 1) & mask; index[slot] !== 0; slot = (slot + 1) & mask) {
      const home = homeSlot(this.ids[index[slot]! - 1]!, mask);
      // The entry may move into the gap unless its home lies cyclically in (gap, slot].
      const staysPut = gap <= slot ? gap < home && home <= slot : gap < home || home <= slot;
      if (staysPut) continue;
      index[gap] = index[slot]!;
      gap = slot;
    }
    index[gap] = 0;
  }

  /** Doubles the ring (while it is full and below capacity, so its oldest entry is at `next`). */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(16, this.ids.length * 2));
    this.ids = reorder(this.ids, new Int32Array(size), this.next);
    this.kinds = reorder(this.kinds, new Uint8Array(size), this.next);
    this.lateOnce = reorder(this.lateOnce, new Uint8Array(size), this.next);
    this.windowFrames = reorder(this.windowFrames, new Int32Array(size), this.next);
    this.windowCredit = reorder(this.windowCredit, new Int32Array(size), this.next);
    this.dataCredit = reorder(this.dataCredit, new Int32Array(size), this.next);
    this.next = this.count;
    let slots = 16;
    while (slots < size * INDEX_LOAD) slots *= 2;
    this.index = new Int32Array(slots);
    for (let at = 0; at < this.count; at++) this.indexEntry(at);
  }
}

/** Copies a full ring into `into`, oldest (at `oldest`) first. */
function reorder<T extends Int32Array | Uint8Array>(from: T, into: T, oldest: number): T {
  into.set(from.subarray(oldest), 0);
  into.set(from.subarray(0, oldest), from.length - oldest);
  return into;
}

/** The index slot an id starts probing at (multiplicative hashing, high bits folded in: ids are sequential). */
function homeSlot(streamId: number, mask: number): number {
  const hash = Math.imul(streamId, 0x9e3779b1);
  return (hash ^ (hash >>> 16)) & mask;
}

function clampInt32(value: number): number {
  return value > 0x7fffffff ? 0x7fffffff : value;
}
