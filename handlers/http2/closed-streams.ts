/**
 * A bounded memory of recently closed streams.
 *
 * @module
 */

/** How a stream closed, which decides what a late frame on it gets (RFC 9113 §5.1). */
export const ClosedBy = {
  /** Both sides ended normally (END_STREAM each way). */
  END_STREAM: 0,
  /** We sent RST_STREAM: frames the peer sent before seeing it are ignored. */
  RESET_SENT: 1,
  /** The peer sent RST_STREAM. */
  RESET_RECEIVED: 2,
  /** We had ended our side and the peer ended its side: late DATA/HEADERS are STREAM_CLOSED. */
  REMOTE_END_STREAM: 3,
} as const;
/** A {@link ClosedBy} value. */
export type ClosedBy = (typeof ClosedBy)[keyof typeof ClosedBy];

/** The ring before the first closed stream: shared, so an idle connection allocates nothing. */
const NO_IDS = new Int32Array(0);
const NO_KINDS = new Uint8Array(0);

/**
 * ClosedStreams remembers the last `capacity` closed streams and how each closed, oldest
 * forgotten first, so memory stays bounded however many streams a connection carries.
 *
 * Adding is on the path of every stream and must be cheap; looking up is only for frames that
 * arrive on streams already closed, which are rare (and counted as glitches when abusive). So
 * the entries live in a ring — ids and how they closed in two typed arrays, no hashing, no
 * allocation on steady state — and a lookup scans it from the newest entry back. The ring grows
 * by doubling up to `capacity`, so an idle connection holds almost nothing.
 */
export class ClosedStreams {
  private ids = NO_IDS;
  private kinds = NO_KINDS;
  /** Where the next entry goes; the newest is just before it. */
  private next = 0;
  private count = 0;

  /** Creates a cache of at most `capacity` streams. */
  constructor(private readonly capacity: number) {}

  /**
   * Remembers that `streamId` closed, and how. O(1): a stream added again gets a new entry, and
   * lookups find the newest one first.
   */
  add(streamId: number, closedBy: ClosedBy): void {
    if (this.count === this.ids.length && this.count < this.capacity) this.grow();
    this.ids[this.next] = streamId;
    this.kinds[this.next] = closedBy;
    this.next = (this.next + 1) % this.ids.length;
    if (this.count < this.ids.length) this.count++;
  }

  /** How `streamId` closed, or undefined when it is not remembered. */
  get(streamId: number): ClosedBy | undefined {
    const index = this.indexOf(streamId);
    return index < 0 ? undefined : (this.kinds[index] as ClosedBy);
  }

  /** Streams remembered. */
  get size(): number {
    return this.count;
  }

  private indexOf(streamId: number): number {
    const ids = this.ids;
    const length = ids.length;
    for (let scanned = 0, index = this.next - 1; scanned < this.count; scanned++, index--) {
      if (index < 0) index += length;
      if (ids[index] === streamId) return index;
    }
    return -1;
  }

  /** Doubles the ring (while it is full and below capacity, so its oldest entry is at `next`). */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(16, this.ids.length * 2));
    const ids = new Int32Array(size);
    const kinds = new Uint8Array(size);
    // Oldest first: from `next` to the end, then from 0 to `next`.
    const tail = this.ids.length - this.next;
    ids.set(this.ids.subarray(this.next), 0);
    ids.set(this.ids.subarray(0, this.next), tail);
    kinds.set(this.kinds.subarray(this.next), 0);
    kinds.set(this.kinds.subarray(0, this.next), tail);
    this.ids = ids;
    this.kinds = kinds;
    this.next = this.count;
  }
}
