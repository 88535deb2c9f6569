/**
 * Event loops: where every task of a channel runs.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { systemClock, VirtualClock, type Clock } from './clock.js';
import { ChannelErrors, IoErrors, SluiceError } from './errors.js';
import { checkOptionalOptions, checkRequiredOptions } from './argument-checks.js';
import { MessagePool, type MessagePoolOptions } from './message-pool.js';
import { Task, TaskStatus } from './task.js';
import { TimerHeap } from './timer-heap.js';

/** Options shared by every {@link EventLoop}. */
export interface EventLoopOptions {
  /** The clock; the system's monotonic clock by default. */
  clock?: Clock;
  /** Options of the loop's message pool. */
  messagePool?: MessagePoolOptions;
}

/**
 * EventLoop runs tasks, one at a time, never re-entrantly. All work of a channel happens on its
 * loop. Two implementations share this interface: {@link NodeEventLoop} (real time, on Node's
 * own loop) and {@link VirtualEventLoop} (virtual time, for tests).
 *
 * Ordering: tasks scheduled with `scheduleNow` run in FIFO order on a later turn — a task
 * scheduled while a turn runs goes to the next turn; timed tasks run in deadline order (FIFO
 * for equal deadlines) once due.
 */
export abstract class EventLoop {
  /** The loop's clock. */
  readonly clock: Clock;
  /** Messages for the channels on this loop. */
  readonly messagePool: MessagePool;
  /**
   * @internal The channels of this loop with read-window increments to deliver (see
   * `lib/channel.ts`), made by the first; typed loosely so the loop does not depend on channels.
   */
  _channelWindowUpdates: object | null = null;
  /** @internal The loop's idle-timeout lists by timeout (see `lib/idle-timers.ts`), made by the first. */
  _idleTimers: Map<number, object> | null = null;

  // The ready queue and the spare pair it swaps with each turn. Entries past `readyCount` are
  // stale: the arrays are never truncated, so their backing stores are allocated once, not on
  // every turn (truncating a V8 array to length 0 drops its storage).
  private readyTasks: (Task | null)[] = [];
  private readyTickets: number[] = [];
  private readyCount = 0;
  private spareTasks: (Task | null)[] = [];
  private spareTickets: number[] = [];
  private nextTicket = 1;
  private nextSequence = 1;
  /** @internal */
  protected readonly timers = new TimerHeap();
  private turnDepth = 0;

  /** Creates a loop; subclasses decide how turns are triggered. */
  protected constructor(options: EventLoopOptions) {
    checkRequiredOptions(options, 'event loop');
    this.clock = options.clock ?? systemClock;
    this.messagePool = new MessagePool(options.messagePool);
  }

  /** The loop clock's current time, ms. */
  now(): number {
    return this.clock.now();
  }

  /** Tasks waiting to run (ready and timed). */
  get pendingTaskCount(): number {
    let ready = 0;
    const tasks = this.readyTasks;
    const tickets = this.readyTickets;
    for (let i = 0; i < this.readyCount; i++) {
      const task = tasks[i]!;
      if (task._sequence === tickets[i] && task._state === 1) ready++;
    }
    return ready + this.timers.size;
  }

  /**
   * Runs `task` on a later turn with `RUN_READY` — never synchronously. Throws
   * `CHANNEL_INVALID_SLOT_OPERATION` if the task is already scheduled.
   */
  scheduleNow(task: Task): void {
    this.assertIdle(task);
    this.enqueueReady(task);
    this.wake();
  }

  /** Runs `task` once the clock reaches `timeMs` (ms on the loop clock's scale). */
  scheduleAt(task: Task, timeMs: number): void {
    this.assertIdle(task);
    task._state = 2;
    task._dueAt = timeMs;
    task._sequence = this.nextSequence++;
    this.timers.push(task);
    if (this.timers.peek() === task) this.armTimer(timeMs);
  }

  /** Runs `task` after `delayMs` milliseconds. */
  scheduleAfter(task: Task, delayMs: number): void {
    this.scheduleAt(task, this.clock.now() + Math.max(0, delayMs));
  }

  /**
   * Cancels `task`: if it is scheduled, it is removed and run at once (synchronously) with
   * `CANCELED`. Canceling a task that is not scheduled does nothing.
   */
  cancel(task: Task): void {
    if (task._state === 0) return;
    this.unschedule(task);
    task._run(TaskStatus.CANCELED);
  }

  /**
   * Marks the start of an I/O callback (a transport's read, say). Until the matching
   * {@link EventLoop.endIoCallback}, tasks scheduled with `scheduleNow` wait; when the outermost
   * callback ends they run right away, on the same turn of Node's loop — as aws-c-io runs its
   * ready tasks after each batch of I/O events — instead of on a later `setImmediate`, which
   * would cost one more poll of the operating system per event. The base loop does nothing.
   */
  beginIoCallback(): void {}

  /** Ends what {@link EventLoop.beginIoCallback} began; runs the tasks it held back. */
  endIoCallback(): void {}

  /** @internal True while a turn runs. */
  protected get isInTurn(): boolean {
    return this.turnDepth > 0;
  }

  /** @internal Removes a scheduled task without running it. */
  unschedule(task: Task): void {
    if (task._state === 2) {
      this.timers.remove(task);
      // Fix (echo example work): a canceled timed task (e.g. the connect timeout) left its Node
      // timer armed, keeping the process alive until the old deadline. Drop it when no timed task
      // is left.
      if (this.timers.size === 0) this.disarmTimer();
    }
    // A ready-queue entry is skipped once its ticket no longer matches.
    task._sequence = 0;
    task._state = 0;
  }

  private assertIdle(task: Task): void {
    if (task._state !== 0) {
      throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, `task '${task.name}' is already scheduled`);
    }
  }

  private enqueueReady(task: Task): void {
    const ticket = this.nextTicket++;
    task._state = 1;
    task._sequence = ticket;
    const index = this.readyCount++;
    this.readyTasks[index] = task;
    this.readyTickets[index] = ticket;
  }

  /** @internal True when a turn has work. */
  protected get hasReadyTasks(): boolean {
    return this.readyCount > 0;
  }

  /** @internal Moves every due timed task into the ready queue, in deadline order. */
  protected collectDueTimers(now: number): void {
    const timers = this.timers;
    for (let next = timers.peek(); next !== undefined && next._dueAt <= now; next = timers.peek()) {
      timers.pop();
      next._state = 0;
      this.enqueueReady(next);
    }
  }

  /**
   * @internal Runs every task that was ready when the turn began; tasks scheduled meanwhile
   * wait for the next turn. Returns the first error a task threw, after running the rest.
   */
  protected runTurn(): unknown {
    if (this.turnDepth > 0) throw new SluiceError(IoErrors.INVALID_OPTIONS, 'event loop turns cannot nest');
    const tasks = this.readyTasks;
    const tickets = this.readyTickets;
    const count = this.readyCount;
    this.readyTasks = this.spareTasks;
    this.readyTickets = this.spareTickets;
    this.readyCount = 0;
    let firstError: unknown = undefined;
    this.turnDepth++;
    try {
      for (let i = 0; i < count; i++) {
        const task = tasks[i]!;
        tasks[i] = null;
        if (task._sequence !== tickets[i] || task._state !== 1) continue;
        task._state = 0;
        task._sequence = 0;
        try {
          task._run(TaskStatus.RUN_READY);
        } catch (error) {
          if (firstError === undefined) firstError = error ?? new Error('task threw a nullish value');
        }
      }
    } finally {
      this.turnDepth--;
      this.spareTasks = tasks;
      this.spareTickets = tickets;
    }
    return firstError;
  }

  /** @internal A ready task exists: make sure a turn will run. */
  protected abstract wake(): void;
  /** @internal The earliest timed task changed to `timeMs`. */
  protected abstract armTimer(timeMs: number): void;
  /** @internal No timed task is left: release whatever `armTimer` holds. */
  protected disarmTimer(): void {}
}

/** The longest busy-poll window a {@link NodeEventLoop} accepts, µs (one second). */
export const MAX_BUSY_POLL_MICROS = 1_000_000;

/** Options of a {@link NodeEventLoop}. */
export interface NodeEventLoopOptions extends EventLoopOptions {
  /**
   * Busy-poll window, µs; 0 (off) by default. After each I/O callback (a socket read) the loop
   * keeps Node's loop polling the operating system without sleeping for this long, so an answer
   * that arrives within the window is picked up without the cost of waking a sleeping thread.
   * Like Linux's `SO_BUSY_POLL` and Netty's busy-wait select strategy, it trades CPU for
   * latency: request/response traffic on one connection gets faster (2.2–2.7× the requests per
   * second with one request in flight in `npm run bench`, for the same CPU per request), but
   * the core stays busy for up to the window after every read, even when nothing follows. Worth
   * it for a process that owns its core and serves latency-bound traffic; leave it off otherwise. At most
   * {@link MAX_BUSY_POLL_MICROS}; anything else throws `IO_INVALID_OPTIONS`.
   */
  busyPollMicros?: number;
}

/**
 * NodeEventLoop runs on Node's own loop: it drains its ready queue in one `setImmediate` turn
 * and keeps a single Node timer for the earliest deadline. An idle loop holds no Node handle,
 * so it never keeps the process alive by itself; a pending timed task does (like `setTimeout`),
 * and so does a busy-poll window (see {@link NodeEventLoopOptions.busyPollMicros}) until it ends.
 *
 * A task that throws does not stop the others of its turn; the first error is rethrown after
 * the turn, as an uncaught exception (a thrown task is a bug, not a network event).
 */
export class NodeEventLoop extends EventLoop {
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = Infinity;
  private readonly onImmediate = (): void => this.runReadyTurn();
  private readonly onTimer = (): void => this.fireTimers();
  private ioCallbackDepth = 0;
  private hasDeferredWake = false;
  private readonly busyPollMs: number;
  private lastIoCallbackAtMs = 0;
  private busyPoll: NodeJS.Immediate | null = null;
  private readonly onBusyPoll = (): void => this.continueBusyPoll();

  /** Creates a loop on Node's event loop. */
  constructor(options: NodeEventLoopOptions = {}) {
    super(options);
    const micros = options.busyPollMicros ?? 0;
    if (!Number.isFinite(micros) || micros < 0 || micros > MAX_BUSY_POLL_MICROS) {
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        `busyPollMicros must be between 0 and ${MAX_BUSY_POLL_MICROS}, not ${micros}`,
      );
    }
    this.busyPollMs = micros / 1000;
  }

  /** True while a busy-poll window keeps Node's loop from sleeping. */
  get isBusyPolling(): boolean {
    return this.busyPoll !== null;
  }

  protected wake(): void {
    if (this.immediate !== null) return;
    if (this.ioCallbackDepth > 0) {
      this.hasDeferredWake = true;
      return;
    }
    this.immediate = setImmediate(this.onImmediate);
  }

  override beginIoCallback(): void {
    this.ioCallbackDepth++;
  }

  override endIoCallback(): void {
    if (--this.ioCallbackDepth > 0) return;
    if (this.busyPollMs > 0) this.startBusyPoll();
    if (!this.hasDeferredWake) return;
    this.hasDeferredWake = false;
    // Inside a turn (a task delivered buffered reads) the tasks wait for the next turn as usual.
    if (this.isInTurn) this.wake();
    else this.runReadyTurn();
  }

  protected armTimer(timeMs: number): void {
    if (this.timer !== null) {
      if (this.timerDueAt <= timeMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueAt = timeMs;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(timeMs - this.clock.now())));
  }

  protected override disarmTimer(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.timerDueAt = Infinity;
  }

  private fireTimers(): void {
    this.timer = null;
    this.timerDueAt = Infinity;
    this.collectDueTimers(this.clock.now());
    const next = this.timers.peek();
    if (next !== undefined) this.armTimer(next._dueAt);
    this.runReadyTurn();
  }

  // A pending immediate makes libuv poll with a zero timeout instead of sleeping; each poll
  // re-arms it until the window since the last I/O callback has passed. Real time, not the
  // loop's clock: a test clock that stands still must not spin forever.
  private startBusyPoll(): void {
    this.lastIoCallbackAtMs = performance.now();
    if (this.busyPoll === null) this.busyPoll = setImmediate(this.onBusyPoll);
  }

  private continueBusyPoll(): void {
    this.busyPoll =
      performance.now() - this.lastIoCallbackAtMs < this.busyPollMs ? setImmediate(this.onBusyPoll) : null;
  }

  private runReadyTurn(): void {
    this.immediate = null;
    if (!this.hasReadyTasks) return;
    const error = this.runTurn();
    if (this.hasReadyTasks) this.wake();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a task threw, rethrown unchanged
    if (error !== undefined) throw error;
  }
}

/** Options of a {@link VirtualEventLoop}. */
export interface VirtualEventLoopOptions extends Omit<EventLoopOptions, 'clock'> {
  /** Virtual start time, ms; 0 by default. */
  startTimeMs?: number;
  /** Turns `runUntilIdle` runs before it decides the loop never idles; 100 000 by default. */
  maxTurns?: number;
}

/**
 * VirtualEventLoop runs only when told to, on a {@link VirtualClock}: tests drive it with
 * `runUntilIdle()` and `advance(ms)` and get the same order every run. A task that throws
 * makes `runUntilIdle`/`advance` throw after the turn completes.
 */
export class VirtualEventLoop extends EventLoop {
  /** The virtual clock this loop runs on. */
  readonly virtualClock: VirtualClock;
  private readonly maxTurns: number;

  /** Creates a loop standing at virtual time `startTimeMs`. */
  constructor(options: VirtualEventLoopOptions = {}) {
    checkOptionalOptions(options, 'new VirtualEventLoop');
    const clock = new VirtualClock(options.startTimeMs ?? 0);
    super({ ...options, clock });
    this.virtualClock = clock;
    this.maxTurns = options.maxTurns ?? 100_000;
  }

  protected wake(): void {}
  protected armTimer(): void {}

  /** Runs turns until no task is ready at the current virtual time. Returns the turns run. */
  runUntilIdle(): number {
    let turns = 0;
    for (;;) {
      this.collectDueTimers(this.clock.now());
      if (!this.hasReadyTasks) return turns;
      if (++turns > this.maxTurns) {
        throw new SluiceError(IoErrors.INVALID_OPTIONS, `loop still busy after ${this.maxTurns} turns`);
      }
      const error = this.runTurn();
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a task threw, rethrown unchanged
      if (error !== undefined) throw error;
    }
  }

  /** Moves virtual time forward by `ms`, running every task that falls due, in order. */
  advance(ms: number): void {
    const target = this.clock.now() + ms;
    this.runUntilIdle();
    for (let next = this.timers.peek(); next !== undefined && next._dueAt <= target; next = this.timers.peek()) {
      this.virtualClock.setTime(next._dueAt);
      this.runUntilIdle();
    }
    this.virtualClock.setTime(target);
    this.runUntilIdle();
  }

  /** The deadline of the earliest timed task, or undefined. */
  get nextDeadline(): number | undefined {
    return this.timers.peek()?._dueAt;
  }
}

/** Options of an {@link EventLoopGroup}. */
export interface EventLoopGroupOptions extends NodeEventLoopOptions {
  /** How many loops; 1 by default (scale across cores with one process per core). */
  loopCount?: number;
}

/**
 * EventLoopGroup hands out loops round-robin. In Node all loops of a process share one thread;
 * more than one loop only separates pools and queues. Scale across cores with one process per
 * core (`node:cluster`), each with its own group.
 */
export class EventLoopGroup {
  /** The loops. */
  readonly loops: readonly EventLoop[];
  private nextIndex = 0;

  /** Creates `loopCount` Node-backed loops, or wraps loops given (e.g. virtual ones for tests). */
  constructor(options: EventLoopGroupOptions | readonly EventLoop[] = {}) {
    checkOptionalOptions(options, 'new EventLoopGroup');
    if (Array.isArray(options)) {
      this.loops = [...(options as readonly EventLoop[])];
    } else {
      const settings = options as EventLoopGroupOptions;
      const count = settings.loopCount ?? 1;
      this.loops = Array.from({ length: count }, () => new NodeEventLoop(settings));
    }
    if (this.loops.length === 0) throw new SluiceError(IoErrors.INVALID_OPTIONS, 'an event loop group needs a loop');
  }

  /** The next loop, round-robin. */
  next(): EventLoop {
    const loop = this.loops[this.nextIndex];
    this.nextIndex = (this.nextIndex + 1) % this.loops.length;
    return loop;
  }
}

let defaultGroup: EventLoopGroup | null = null;

/** The process-wide group used when none is given: one Node-backed loop, created on first use. */
export function defaultEventLoopGroup(): EventLoopGroup {
  defaultGroup ??= new EventLoopGroup();
  return defaultGroup;
}
