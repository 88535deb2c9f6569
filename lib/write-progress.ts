/**
 * A deadline for writes that make no progress, for the handler that writes to the outside world.
 *
 * @module
 */
import type { Channel } from './channel.js';
import { Task, TaskStatus } from './task.js';

/**
 * What a {@link WriteProgressDeadline} needs from the handler it guards.
 * @internal
 */
export interface WriteProgressHost {
  /** True while a write (or the flush of a graceful close) waits for the peer to take it. */
  readonly isWaitingForWrite: boolean;
  /** Nothing moved for the whole deadline: fail the writes and close. */
  onWriteTimeout(): void;
}

/**
 * WriteProgressDeadline closes a connection whose writes stop moving: while a write waits, the
 * next progress (a write completing) must come within `timeoutMs` of the last. Its owner calls
 * {@link WriteProgressDeadline.onProgress} when writes start waiting and after each completion
 * while more wait; that reads the clock and, unless the timer is already set, sets it — so
 * back-to-back writes set it once per deadline, not once per write. The timer re-checks when it
 * fires and goes quiet once nothing waits.
 *
 * @internal
 */
export class WriteProgressDeadline {
  private readonly task: Task;
  private channel: Channel | null = null;
  /** Loop time of the last progress, whole ms. */
  private progressAt = 0;

  /** A deadline of `timeoutMs` (more than 0) for `host`'s writes. */
  constructor(
    private readonly host: WriteProgressHost,
    readonly timeoutMs: number,
  ) {
    this.task = new Task(WriteProgressDeadline.run, 'write-progress-deadline', this);
  }

  private static run(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WriteProgressDeadline).check();
  }

  /** The channel whose loop times the writes. */
  attach(channel: Channel): void {
    this.channel = channel;
  }

  /** A write started waiting, or one completed and more wait: the deadline counts from now. */
  onProgress(): void {
    const channel = this.channel;
    if (channel === null) return;
    this.progressAt = Math.ceil(channel.loop.now());
    if (!this.task.isScheduled) channel.scheduleTaskAt(this.task, this.progressAt + this.timeoutMs);
  }

  /** Stops timing (the writer is gone). */
  stop(): void {
    if (this.task.isScheduled) this.channel?.unscheduleTask(this.task);
  }

  private check(): void {
    const channel = this.channel;
    if (channel === null || !this.host.isWaitingForWrite) return;
    const dueAt = this.progressAt + this.timeoutMs;
    if (channel.loop.now() >= dueAt) this.host.onWriteTimeout();
    else channel.scheduleTaskAt(this.task, dueAt);
  }
}
