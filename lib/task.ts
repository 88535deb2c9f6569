/**
 * Tasks: reusable units of work scheduled on an event loop.
 *
 * @module
 */
import { UNBOXED_NUMBER_FIELD } from './field-layout.js';

/** How a task is being run: normally, or because it was canceled (or its channel shut down). */
export const TaskStatus = {
  /** The task's time came; do the work. */
  RUN_READY: 0,
  /** The task was canceled or its owner shut down; release what it holds, do no work. */
  CANCELED: 1,
} as const;
/** A {@link TaskStatus} value. */
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** The function a task runs; `task` is the task itself so one function can serve many tasks. */
export type TaskFunction = (status: TaskStatus, task: Task) => void;

/**
 * TaskOwner receives notice when one of its tasks runs; channels use it to track their pending
 * tasks so they can cancel them on shutdown.
 *
 * @internal
 */
export interface TaskOwner {
  /** Called just before the task's function runs (either status). */
  taskWillRun(task: Task): void;
}

/**
 * Task is a reusable unit of work. Create it once and schedule it as often as needed: the hot
 * paths of sluice schedule tasks without allocating.
 *
 * A task is scheduled at most once at a time; scheduling a task that is already scheduled
 * throws. Its function runs exactly once per scheduling, with `RUN_READY` or `CANCELED`.
 *
 * @example
 * ```ts
 * const flush = new Task((status) => { if (status === TaskStatus.RUN_READY) writeOut(); }, 'flush');
 * loop.scheduleNow(flush);
 * ```
 */
export class Task {
  /** The work. */
  fn: TaskFunction;
  /** A name for logs and debugging. */
  readonly name: string;
  /**
   * What the function works on, for functions shared by many tasks: a handler makes its task
   * with a function of the module (a static method, say) and itself as the target, instead of
   * a closure per instance. Null unless given.
   */
  readonly target: unknown;

  /** @internal 0 = idle, 1 = in the ready queue, 2 = in the timer heap. */
  _state = 0;
  /** @internal When the task is due, for timed tasks (no box per task: see UNBOXED_NUMBER_FIELD). */
  _dueAt = UNBOXED_NUMBER_FIELD;
  /**
   * @internal In the timer heap, the insertion order that keeps equal deadlines FIFO; in the
   * ready queue, the ticket that matches its entry (an entry whose ticket differs, or whose task
   * is no longer ready, is stale). One field for both: a task is in one at a time, and every
   * connection keeps several tasks.
   */
  _sequence = 0;
  /** @internal Position in the timer heap. */
  _heapIndex = -1;
  /** @internal The owner (a channel) tracking this task while pending. */
  _owner: TaskOwner | null = null;
  /** @internal Intrusive list links used by the owner. */
  _ownerPrev: Task | null = null;
  /** @internal Intrusive list links used by the owner. */
  _ownerNext: Task | null = null;

  /** Creates a task that runs `fn`, optionally with a {@link Task.target} for it. */
  constructor(fn: TaskFunction, name = 'task', target: unknown = null) {
    this.fn = fn;
    this.name = name;
    this.target = target;
    this._dueAt = 0;
  }

  /** True while the task waits in a loop's ready queue or timer heap. */
  get isScheduled(): boolean {
    return this._state !== 0;
  }

  /** @internal Runs the function once, telling the owner first. */
  _run(status: TaskStatus): void {
    const owner = this._owner;
    if (owner !== null) owner.taskWillRun(this);
    this.fn(status, this);
  }
}
