/**
 * Idle timeouts without a timer per connection: the idle connections of a loop that share one
 * timeout wait in one list, in the order they fell idle, under one timer.
 *
 * @module
 * @internal
 */
import type { EventLoop } from './event-loop.js';
import { Task, TaskStatus } from './task.js';

/**
 * The links an {@link IdleTimers} list keeps in each entry (a connection): set by the list only.
 * @internal
 */
export interface IdleEntry {
  /** The entry before this one in its list (a sentinel at the ends); null while not listed. */
  _idlePrev: IdleLink | null;
  /** The entry after this one; null while not listed. */
  _idleNext: IdleLink | null;
  /** The loop time the entry fell idle, whole ms. */
  _idleSince: number;
  /** It has been idle `releaseAfterMs`: it may give back what only a busy connection needs. */
  _onIdleRelease(): void;
  /** It has been idle the whole timeout (it left the list first): it closes. */
  _onIdleTimeout(): void;
}

/** A list's sentinel or an entry: what the links point to. @internal */
export type IdleLink = IdleEntry | IdleSentinel;

/** The head and tail of a circular list: `_idleNext` is the first entry, `_idlePrev` the last. */
class IdleSentinel {
  _idlePrev: IdleLink = this;
  _idleNext: IdleLink = this;
  constructor(readonly owner: IdleTimers) {}

  get isEmpty(): boolean {
    return this._idleNext === this;
  }
}

/**
 * IdleTimers times the idle entries of one loop that share one timeout, the way Node's own timer
 * lists do: an entry falling idle is appended (so each list stays in idle order, oldest first),
 * one leaving idleness unlinks itself, both in constant time with no allocation, and one task
 * runs when the oldest entry is due. An idle connection then holds three fields, not a task in
 * the loop's timer heap.
 *
 * Entries pass two marks. After `releaseAfterMs` of idleness an entry moves to the released list
 * and `_onIdleRelease` runs (a connection gives its deadlines back to a pool: one that is busy
 * again within the mark never does, so a keep-alive connection between quick requests pays
 * nothing). After `timeoutMs` it leaves the list and `_onIdleTimeout` runs.
 *
 * @internal
 */
export class IdleTimers {
  /** Entries idle less than `releaseAfterMs`, oldest first. */
  private readonly fresh = new IdleSentinel(this);
  /** Entries idle `releaseAfterMs` or more (released), oldest first. */
  private readonly released = new IdleSentinel(this);
  private readonly task = new Task(IdleTimers.run, 'idle-timers', this);
  /** When the task is scheduled to run; Infinity while it is not. */
  private dueAt = Infinity;

  private constructor(
    private readonly loop: EventLoop,
    /** How long an entry stays idle before it closes, ms. */
    readonly timeoutMs: number,
    /** How long an entry stays idle before it is released, ms (at most `timeoutMs`). */
    readonly releaseAfterMs: number,
  ) {}

  /** The list last asked for: a server's connections ask for the same one each time they fall idle. */
  private static last: IdleTimers | null = null;

  /**
   * The list of `loop` for `timeoutMs` (made on first use; one per loop and timeout). The
   * release mark is the first caller's.
   */
  static of(loop: EventLoop, timeoutMs: number, releaseAfterMs: number): IdleTimers {
    const last = IdleTimers.last;
    if (last !== null && last.loop === loop && last.timeoutMs === timeoutMs) return last;
    const lists = (loop._idleTimers ??= new Map<number, object>()) as Map<number, IdleTimers>;
    let list = lists.get(timeoutMs);
    if (list === undefined) {
      list = new IdleTimers(loop, timeoutMs, Math.min(releaseAfterMs, timeoutMs));
      lists.set(timeoutMs, list);
    }
    IdleTimers.last = list;
    return list;
  }

  /**
   * `entry` fell idle now: appended to the fresh list (moved there if it was listed). `now` is the
   * loop's time when the caller read it already.
   */
  add(entry: IdleEntry, now: number = this.loop.now()): void {
    IdleTimers.remove(entry);
    entry._idleSince = Math.floor(now);
    append(this.fresh, entry);
    this.arm(entry._idleSince + this.releaseAfterMs);
  }

  /**
   * `entry` is busy again (or closing): unlinked from whichever list holds it. The list's timer
   * stays as it is (an entry busy again soon falls idle again; see `disarmIfEmpty`).
   */
  static remove(entry: IdleEntry): void {
    const prev = entry._idlePrev;
    const next = entry._idleNext;
    if (prev === null || next === null) return;
    prev._idleNext = next;
    next._idlePrev = prev;
    entry._idlePrev = entry._idleNext = null;
  }

  /** True while `entry` is in a list. */
  static isListed(entry: IdleEntry): boolean {
    return entry._idleNext !== null;
  }

  /**
   * Unschedules the timer of an empty list, so that it does not keep the process alive: call it
   * when an entry closes (a busy entry leaving keeps the timer, which then costs nothing when it
   * falls idle again).
   */
  disarmIfEmpty(): void {
    if (!this.fresh.isEmpty || !this.released.isEmpty || this.dueAt === Infinity) return;
    this.loop.unschedule(this.task);
    this.dueAt = Infinity;
  }

  private arm(time: number): void {
    if (time >= this.dueAt) return;
    if (this.task.isScheduled) this.loop.unschedule(this.task);
    this.dueAt = time;
    this.loop.scheduleAt(this.task, time);
  }

  private static run(this: void, status: TaskStatus, task: Task): void {
    const list = task.target as IdleTimers;
    list.dueAt = Infinity;
    if (status === TaskStatus.RUN_READY) list.expire(list.loop.now());
  }

  /** Releases and closes what is due at `now`, then runs again when the next entry is. */
  private expire(now: number): void {
    let firstError: unknown = null;
    let hasError = false;
    const fresh = this.fresh;
    for (let entry = fresh._idleNext; entry !== fresh; entry = fresh._idleNext) {
      const idle = entry as IdleEntry;
      if (idle._idleSince + this.releaseAfterMs > now) break;
      IdleTimers.remove(idle);
      append(this.released, idle);
      try {
        idle._onIdleRelease();
      } catch (error) {
        if (!hasError) firstError = error;
        hasError = true;
      }
    }
    const released = this.released;
    for (let entry = released._idleNext; entry !== released; entry = released._idleNext) {
      const idle = entry as IdleEntry;
      if (idle._idleSince + this.timeoutMs > now) break;
      IdleTimers.remove(idle);
      try {
        idle._onIdleTimeout();
      } catch (error) {
        if (!hasError) firstError = error;
        hasError = true;
      }
    }
    const nextFresh = fresh.isEmpty ? Infinity : (fresh._idleNext as IdleEntry)._idleSince + this.releaseAfterMs;
    const nextReleased = released.isEmpty ? Infinity : (released._idleNext as IdleEntry)._idleSince + this.timeoutMs;
    const next = Math.min(nextFresh, nextReleased);
    if (next !== Infinity) this.arm(next);
    // One entry's failure does not strand the others: they were all handled first.
    if (hasError) throw firstError;
  }
}

/** Appends `entry` at the end of the list `sentinel` heads. */
function append(sentinel: IdleSentinel, entry: IdleEntry): void {
  const last = sentinel._idlePrev;
  entry._idlePrev = last;
  entry._idleNext = sentinel;
  last._idleNext = entry;
  sentinel._idlePrev = entry;
}
