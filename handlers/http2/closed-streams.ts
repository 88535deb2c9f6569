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

/**
 * ClosedStreams remembers the last `capacity` closed streams and how each closed, oldest
 * forgotten first, so memory stays bounded however many streams a connection carries.
 * Eviction order is kept in a ring of ids, so adding allocates nothing on steady state; the
 * ring grows by doubling up to `capacity`, so an idle connection holds almost nothing.
 */
export class ClosedStreams {
  private readonly entries = new Map<number, ClosedBy>();
  private order = new Int32Array(0);
  private next = 0;

  /** Creates a cache of at most `capacity` streams. */
  constructor(private readonly capacity: number) {}

  /** Remembers that `streamId` closed, and how. */
  add(streamId: number, closedBy: ClosedBy): void {
    const entries = this.entries;
    if (!entries.has(streamId)) {
      if (entries.size >= this.capacity) {
        entries.delete(this.order[this.next]!);
      } else if (entries.size === this.order.length) {
        // Not full yet: the ring holds exactly the ids remembered, oldest at 0; grow it.
        const grown = new Int32Array(Math.min(this.capacity, Math.max(16, this.order.length * 2)));
        grown.set(this.order);
        this.order = grown;
        this.next = entries.size;
      }
      this.order[this.next] = streamId;
      this.next = (this.next + 1) % this.order.length;
    }
    entries.set(streamId, closedBy);
  }

  /** How `streamId` closed, or undefined when it is not remembered. */
  get(streamId: number): ClosedBy | undefined {
    return this.entries.get(streamId);
  }

  /** Streams remembered. */
  get size(): number {
    return this.entries.size;
  }
}
