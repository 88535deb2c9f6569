/**
 * A first-in first-out queue shaped for queues that are almost always empty or hold one item.
 *
 * @module
 */

/** Items consumed from the overflow array before it is compacted (when half of it is spent). */
const COMPACT_AFTER = 1024;

/**
 * SmallFifo is the base of the per-connection queues (a socket's writes in flight, its reads
 * waiting for a window): most of the time they hold nothing or one item, so the first item
 * lives in a field and an array exists only while a second one waits. An idle connection then
 * holds no array, and the common push-one-take-one pays no array bookkeeping (no `shift()`, no
 * `length = 0`, which V8 runs in its runtime, not in optimised code).
 *
 * Subclasses expose the operations under their own names.
 */
export class SmallFifo<T> {
  /** The oldest item; undefined when the queue is empty. */
  private first: T | undefined = undefined;
  /** The items after the first, oldest at `overflowHead`; null while at most one item waits. */
  private overflow: (T | undefined)[] | null = null;
  private overflowHead = 0;
  /** Items waiting. */
  private count = 0;

  /** Items waiting. */
  get size(): number {
    return this.count;
  }

  /** Adds `item` at the tail. */
  protected pushItem(item: T): void {
    if (this.count++ === 0) {
      this.first = item;
      return;
    }
    if (this.overflow === null) this.overflow = [];
    this.overflow.push(item);
  }

  /** The oldest item, or undefined. */
  protected peekItem(): T | undefined {
    return this.first;
  }

  /** Replaces the oldest item (a partly consumed chunk, say); the queue must not be empty. */
  protected replaceFirstItem(item: T): void {
    this.first = item;
  }

  /** Removes and returns the oldest item, or undefined. */
  protected shiftItem(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.first;
    if (--this.count === 0) {
      this.first = undefined;
      return item;
    }
    const overflow = this.overflow!;
    this.first = overflow[this.overflowHead];
    overflow[this.overflowHead++] = undefined;
    if (this.overflowHead === overflow.length) {
      // Drained: let the array go; a later burst makes a new one.
      this.overflow = null;
      this.overflowHead = 0;
    } else if (this.overflowHead > COMPACT_AFTER && this.overflowHead * 2 > overflow.length) {
      overflow.splice(0, this.overflowHead);
      this.overflowHead = 0;
    }
    return item;
  }

  /** Drops every item. */
  protected clearItems(): void {
    this.first = undefined;
    this.overflow = null;
    this.overflowHead = 0;
    this.count = 0;
  }
}
