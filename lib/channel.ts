/**
 * Channels: a connection as a doubly linked list of slots, running on one event loop.
 *
 * @module
 */
import { ChannelDirection, type ChannelHandler } from './channel-handler.js';
import { ChannelSlot, UNLIMITED_WINDOW } from './channel-slot.js';
import { publishConnectionClosed, publishConnectionOpened } from './diagnostics.js';
import { ChannelErrors, SluiceError, asSluiceError } from './errors.js';
import { checkArgument, checkOptionalOptions } from './argument-checks.js';
import type { EventLoop } from './event-loop.js';
import { withFlag } from './field-layout.js';
import { log, LogLevel } from './logging.js';
import type { MessagePool } from './message-pool.js';
import type { ChannelStatisticsOptions, HandlerStatistics } from './statistics.js';
import { Task, TaskStatus } from './task.js';

/** Options of a {@link Channel}. */
export interface ChannelOptions {
  /** Read back-pressure through slot windows; on by default. Off, every window reads as unlimited. */
  enableReadBackPressure?: boolean;
  /** Called on a later loop turn once the channel is set up (before that, no task of it has run). */
  onSetupCompleted?: (channel: Channel) => void;
  /** Called once, after both shutdown phases, with the first error (null for a clean shutdown). */
  onShutdownCompleted?: (channel: Channel, error: SluiceError | null) => void;
  /** Gather handler statistics on an interval. */
  statistics?: ChannelStatisticsOptions;
}

/** Lifecycle of a channel. */
export const ChannelState = {
  /** Created; the setup task has not run yet. */
  SETTING_UP: 0,
  /** Set up and running. */
  ACTIVE: 1,
  /** `shutdown` was called; the phases are running. */
  SHUTTING_DOWN: 2,
  /** Both phases are done; handlers are destroyed. */
  SHUT_DOWN: 3,
} as const;
/** A {@link ChannelState} value. */
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];

let nextChannelId = 1;

// The bits of a channel's flags, and its state in two of them.
const FREE_IMMEDIATELY = 1;
const SETUP_COMPLETE = 2;
const IN_WINDOW_PASS = 4;
const WINDOW_UPDATE_QUEUED = 8;
const READ_BACK_PRESSURE = 16;
const STATE_SHIFT = 5;
const STATE_MASK = 3 << STATE_SHIFT;

/**
 * Channel is one connection: slots from the socket (first) to the application (last), all
 * work on one event loop.
 *
 * Shutdown runs once, in two phases: the read direction from the first slot to the last, then
 * the write direction from the last back to the first. When the first slot's write side is
 * done, pending channel tasks run `CANCELED`, `onShutdownCompleted` and `whenShutdown` receive
 * the first error, and every handler is destroyed.
 *
 * @example
 * ```ts
 * const channel = new Channel(loop);
 * channel.appendHandler(new LengthPrefixFramer());
 * channel.appendHandler(new EchoHandler());
 * await channel.whenSetup;
 * ```
 */
export class Channel {
  /** A process-unique id, for logs. */
  readonly id: number = nextChannelId++;
  /** The loop all of this channel's work runs on. */
  readonly loop: EventLoop;
  /**
   * Loop time the channel was created, whole ms: when its connection was accepted or connected.
   * Handshake deadlines count from it, whichever handler enforces them.
   */
  readonly createdAtMs: number;

  /** The first slot (the socket side), or null when empty. */
  first: ChannelSlot | null = null;
  /** The last slot (the application side), or null when empty. */
  last: ChannelSlot | null = null;

  private shutdownErrorValue: SluiceError | null = null;
  /**
   * Five booleans and the state as bits of one small integer (read and written through the
   * accessors below): a server holds thousands of channels, and a field costs 8 octets where a
   * bit costs none.
   */
  private flags = 0;
  private readonly options: ChannelOptions;
  // What most channels never need (promises someone awaits, window stalls) is made on first use,
  // in one object: a server holds thousands of channels.
  private rare: ChannelRareState | null = null;
  private pendingTasksHead: Task | null = null;

  /** Creates a channel on `loop`; setup completes on a later turn. */
  constructor(loop: EventLoop, options: ChannelOptions = {}) {
    checkArgument(
      typeof (loop as Partial<EventLoop> | null)?.scheduleNow === 'function',
      'new Channel(loop)',
      'loop is an EventLoop',
      loop,
    );
    checkOptionalOptions(options, 'new Channel');
    this.loop = loop;
    this.createdAtMs = Math.floor(loop.now());
    this.options = options;
    if (options.enableReadBackPressure ?? true) this.flags = READ_BACK_PRESSURE;
    this.scheduleTaskNow(new Task((status) => this.completeSetup(status), 'channel-setup'));
  }

  /** Whether read windows limit what handlers may send right (see {@link ChannelOptions.enableReadBackPressure}). */
  get isReadBackPressureEnabled(): boolean {
    return (this.flags & READ_BACK_PRESSURE) !== 0;
  }

  private get stateValue(): ChannelState {
    return ((this.flags & STATE_MASK) >> STATE_SHIFT) as ChannelState;
  }

  private set stateValue(state: ChannelState) {
    this.flags = (this.flags & ~STATE_MASK) | (state << STATE_SHIFT);
  }

  /** Shutdown was asked to free scarce resources at once (flush nothing). */
  private get freeImmediately(): boolean {
    return (this.flags & FREE_IMMEDIATELY) !== 0;
  }

  private set freeImmediately(value: boolean) {
    this.flags = withFlag(this.flags, FREE_IMMEDIATELY, value);
  }

  private get isSetupComplete(): boolean {
    return (this.flags & SETUP_COMPLETE) !== 0;
  }

  private set isSetupComplete(value: boolean) {
    this.flags = withFlag(this.flags, SETUP_COMPLETE, value);
  }

  /** @internal Waiting in its loop's {@link WindowUpdates}: a bit, not a task per channel. */
  get _isWindowUpdateQueued(): boolean {
    return (this.flags & WINDOW_UPDATE_QUEUED) !== 0;
  }

  /** @internal */
  set _isWindowUpdateQueued(value: boolean) {
    this.flags = withFlag(this.flags, WINDOW_UPDATE_QUEUED, value);
  }

  /** Window increments are being passed left: the pass schedules what is left over itself. */
  private get isInWindowPass(): boolean {
    return (this.flags & IN_WINDOW_PASS) !== 0;
  }

  private set isInWindowPass(value: boolean) {
    this.flags = withFlag(this.flags, IN_WINDOW_PASS, value);
  }

  /** Resolves on a later turn once setup completed. */
  get whenSetup(): Promise<Channel> {
    const waiters = (this.rare ??= new ChannelRareState());
    if (waiters.setup === null) {
      waiters.setup = this.isSetupComplete
        ? Promise.resolve(this)
        : new Promise<Channel>((resolve) => (waiters.resolveSetup = resolve));
    }
    return waiters.setup;
  }

  /** Resolves (never rejects) with the shutdown's first error, or null, once shutdown completed. */
  get whenShutdown(): Promise<SluiceError | null> {
    const waiters = (this.rare ??= new ChannelRareState());
    if (waiters.shutdown === null) {
      waiters.shutdown =
        this.stateValue === ChannelState.SHUT_DOWN
          ? Promise.resolve(this.shutdownErrorValue)
          : new Promise<SluiceError | null>((resolve) => (waiters.resolveShutdown = resolve));
    }
    return waiters.shutdown;
  }

  /** Where the channel is in its life. */
  get state(): ChannelState {
    return this.stateValue;
  }

  /** True from the call to `shutdown` on. */
  get isShuttingDown(): boolean {
    return this.stateValue >= ChannelState.SHUTTING_DOWN;
  }

  /** True once shutdown completed. */
  get isShutDown(): boolean {
    return this.stateValue === ChannelState.SHUT_DOWN;
  }

  /** The first error of the shutdown, once one is known. */
  get shutdownError(): SluiceError | null {
    return this.shutdownErrorValue;
  }

  /** The loop's message pool. */
  get messagePool(): MessagePool {
    return this.loop.messagePool;
  }

  /** Appends a handler in a new last slot. */
  appendHandler(handler: ChannelHandler): ChannelSlot {
    return this._insert(handler, this.last, null);
  }

  /** Slots from first to last. */
  slots(): ChannelSlot[] {
    const result: ChannelSlot[] = [];
    for (let slot = this.first; slot !== null; slot = slot.adjacentRight) result.push(slot);
    return result;
  }

  /**
   * Starts shutdown (once; later calls are ignored). The phases run on later turns. With
   * `freeScarceResourcesImmediately`, handlers close at once and flush nothing.
   */
  shutdown(error: SluiceError | null = null, freeScarceResourcesImmediately = false): void {
    if (this.stateValue >= ChannelState.SHUTTING_DOWN) return;
    this.stateValue = ChannelState.SHUTTING_DOWN;
    this.shutdownErrorValue = error;
    this.freeImmediately = freeScarceResourcesImmediately;
    if (log.level >= LogLevel.DEBUG) {
      log.log(LogLevel.DEBUG, 'channel', `channel ${this.id} shutting down: ${error?.code ?? 'no error'}`);
    }
    this.loop.scheduleNow(new Task(() => this.startShutdown(), 'channel-shutdown'));
  }

  /** Runs `task` on a later turn; on a channel that has shut down it runs at once with `CANCELED`. */
  scheduleTaskNow(task: Task): void {
    if (this.trackTask(task)) this.loop.scheduleNow(task);
  }

  /** Runs `task` at loop time `timeMs`; canceled when the channel shuts down first. */
  scheduleTaskAt(task: Task, timeMs: number): void {
    if (this.trackTask(task)) this.loop.scheduleAt(task, timeMs);
  }

  /** Runs `task` after `delayMs`; canceled when the channel shuts down first. */
  scheduleTaskAfter(task: Task, delayMs: number): void {
    if (this.trackTask(task)) this.loop.scheduleAfter(task, delayMs);
  }

  /** Cancels a pending channel task: it runs at once with `CANCELED`. */
  cancelTask(task: Task): void {
    this.loop.cancel(task);
  }

  /** Removes a pending channel task without running it (for timers a handler re-arms). */
  unscheduleTask(task: Task): void {
    if (task._state === 0) return;
    this.loop.unschedule(task);
    this.taskWillRun(task);
  }

  /** Returns true when the task should be scheduled. */
  private trackTask(task: Task): boolean {
    if (this.stateValue === ChannelState.SHUT_DOWN) {
      task._run(TaskStatus.CANCELED);
      return false;
    }
    task._owner = this;
    const head = this.pendingTasksHead;
    task._ownerPrev = null;
    task._ownerNext = head;
    if (head !== null) head._ownerPrev = task;
    this.pendingTasksHead = task;
    return true;
  }

  /** @internal Unlinks a task that is about to run. */
  taskWillRun(task: Task): void {
    const prev = task._ownerPrev;
    const next = task._ownerNext;
    if (prev !== null) prev._ownerNext = next;
    else if (this.pendingTasksHead === task) this.pendingTasksHead = next;
    if (next !== null) next._ownerPrev = prev;
    task._ownerPrev = task._ownerNext = null;
    task._owner = null;
  }

  private completeSetup(status: TaskStatus): void {
    if (status === TaskStatus.CANCELED) return;
    if (this.stateValue === ChannelState.SETTING_UP) this.stateValue = ChannelState.ACTIVE;
    const statistics = this.options.statistics;
    if (statistics !== undefined) {
      const task = new Task((status, self) => this.gatherStatistics(status, self, statistics), 'channel-statistics');
      this.scheduleTaskAfter(task, statistics.intervalMs);
    }
    this.isSetupComplete = true;
    publishConnectionOpened(this);
    this.rare?.resolveSetup?.(this);
    this.options.onSetupCompleted?.(this);
  }

  /** @internal Creates a slot for `handler` between `left` and `right` (either may be null). */
  _insert(handler: ChannelHandler, left: ChannelSlot | null, right: ChannelSlot | null): ChannelSlot {
    if (this.stateValue === ChannelState.SHUT_DOWN)
      throw new SluiceError(ChannelErrors.SHUT_DOWN, 'cannot add a handler to a channel that has shut down');
    const slot = new ChannelSlot(this);
    slot.adjacentLeft = left;
    slot.adjacentRight = right;
    if (left !== null) left.adjacentRight = slot;
    else this.first = slot;
    if (right !== null) right.adjacentLeft = slot;
    else this.last = slot;
    slot._handler = handler;
    slot.windowSize = this.isReadBackPressureEnabled ? handler.initialWindowSize() : UNLIMITED_WINDOW;
    this.recomputeOverheads();
    handler.installed?.(slot);
    return slot;
  }

  /** @internal Unlinks `slot`, optionally destroying its handler. */
  _remove(slot: ChannelSlot, destroyHandler: boolean): void {
    if (slot.channel !== this)
      throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'slot belongs to another channel');
    const left = slot.adjacentLeft;
    const right = slot.adjacentRight;
    if (left !== null) left.adjacentRight = right;
    else if (this.first === slot) this.first = right;
    if (right !== null) right.adjacentLeft = left;
    else if (this.last === slot) this.last = left;
    slot.adjacentLeft = slot.adjacentRight = null;
    this.recomputeOverheads();
    const handler = slot._handler;
    if (destroyHandler && handler !== null) {
      slot._handler = null;
      handler.destroy?.();
    }
  }

  private recomputeOverheads(): void {
    let overhead = 0;
    for (let slot = this.first; slot !== null; slot = slot.adjacentRight) {
      slot.upstreamMessageOverhead = overhead;
      if (slot._handler !== null) overhead += slot._handler.messageOverhead();
    }
  }

  /** @internal */
  _scheduleWindowUpdate(): void {
    if (this.isInWindowPass || this._isWindowUpdateQueued) return;
    this._isWindowUpdateQueued = true;
    WindowUpdates.of(this.loop).add(this);
  }

  /**
   * @internal One pass right to left: increments a handler passes on during the pass are
   * delivered in the same pass, so an opening travels to the socket in one task.
   */
  _runWindowUpdates(status: TaskStatus): void {
    if (status === TaskStatus.CANCELED || this.isShutDown) return;
    this.isInWindowPass = true;
    let leftOver = false;
    try {
      for (let slot = this.last; slot !== null; slot = slot.adjacentLeft) {
        const increment = slot._pendingWindowIncrement;
        if (increment === 0) continue;
        slot._pendingWindowIncrement = 0;
        const left = slot.adjacentLeft;
        // A handler whose read side has shut down reads no more: it is not told.
        if (left !== null && left._handler !== null && !left._isReadShutDown)
          left._handler.incrementReadWindow(left, increment);
      }
      for (let slot = this.last; slot !== null; slot = slot.adjacentLeft) {
        if (slot._pendingWindowIncrement !== 0 && slot.adjacentLeft !== null) leftOver = true;
      }
    } finally {
      this.isInWindowPass = false;
    }
    if (leftOver) this._scheduleWindowUpdate();
  }

  private startShutdown(): void {
    const first = this.first;
    if (first === null) {
      this.finishShutdown();
      return;
    }
    this.shutDownHandler(first, ChannelDirection.READ, this.shutdownErrorValue);
  }

  private shutDownHandler(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null): void {
    if (direction === ChannelDirection.READ) slot._readShutdownStarted = true;
    else slot._writeShutdownStarted = true;
    const handler = slot._handler;
    if (handler === null) {
      this._onHandlerShutdownComplete(slot, direction, error, this.freeImmediately);
      return;
    }
    try {
      handler.shutdown(slot, direction, error, this.freeImmediately);
    } catch (thrown) {
      // A handler that throws from shutdown is treated as done, with its error recorded, so the
      // rest of the channel still shuts down and releases its resources.
      const failure = asSluiceError(thrown, ChannelErrors.HANDLER_FAILED);
      if (log.level >= LogLevel.ERROR) log.log(LogLevel.ERROR, 'channel', `handler shutdown threw: ${failure.message}`);
      if (!(direction === ChannelDirection.READ ? slot._isReadShutDown : slot._isWriteShutDown)) {
        this.freeImmediately = true;
        this._onHandlerShutdownComplete(slot, direction, error ?? failure, true);
      }
    }
  }

  /** @internal See {@link ChannelSlot.onHandlerShutdownComplete}. */
  _onHandlerShutdownComplete(
    slot: ChannelSlot,
    direction: ChannelDirection,
    error: SluiceError | null,
    free: boolean,
  ): void {
    const isRead = direction === ChannelDirection.READ;
    if (isRead ? slot._isReadShutDown : slot._isWriteShutDown) {
      throw new SluiceError(
        ChannelErrors.SHUTDOWN_ALREADY_COMPLETE,
        `${isRead ? 'read' : 'write'} shutdown reported twice`,
      );
    }
    if (!(isRead ? slot._readShutdownStarted : slot._writeShutdownStarted)) {
      throw new SluiceError(
        ChannelErrors.INVALID_SLOT_OPERATION,
        `${isRead ? 'read' : 'write'} shutdown completed before the channel asked for it; call channel.shutdown()`,
      );
    }
    if (isRead) slot._isReadShutDown = true;
    else slot._isWriteShutDown = true;
    if (error !== null && this.shutdownErrorValue === null) this.shutdownErrorValue = error;
    if (free) this.freeImmediately = true;
    const propagated = this.shutdownErrorValue;
    if (isRead) {
      const right = slot.adjacentRight;
      if (right !== null) this.shutDownHandler(right, ChannelDirection.READ, propagated);
      else this.shutDownHandler(slot, ChannelDirection.WRITE, propagated);
    } else {
      const left = slot.adjacentLeft;
      if (left !== null) this.shutDownHandler(left, ChannelDirection.WRITE, propagated);
      else this.loop.scheduleNow(new Task(() => this.finishShutdown(), 'channel-shutdown-complete'));
    }
  }

  private finishShutdown(): void {
    if (this.stateValue === ChannelState.SHUT_DOWN) return;
    this.stateValue = ChannelState.SHUT_DOWN;
    // Pending channel tasks run CANCELED so their owners release what they hold.
    for (let task = this.pendingTasksHead; task !== null; task = this.pendingTasksHead) {
      this.loop.unschedule(task);
      task._run(TaskStatus.CANCELED);
    }
    const error = this.shutdownErrorValue;
    if (log.level >= LogLevel.DEBUG) {
      log.log(LogLevel.DEBUG, 'channel', `channel ${this.id} shut down: ${error?.code ?? 'no error'}`);
    }
    try {
      publishConnectionClosed(this, error);
      this.options.onShutdownCompleted?.(this, error);
    } finally {
      this.rare?.resolveShutdown?.(error);
      for (let slot = this.first; slot !== null; slot = slot.adjacentRight) {
        const handler = slot._handler;
        slot._handler = null;
        handler?.destroy?.();
      }
    }
  }

  /** Times a handler found a message larger than the whole read window of the slot to its right (see {@link ChannelSlot.canSendRight}). */
  get windowStalls(): number {
    return this.rare?.windowStallCount ?? 0;
  }

  /** @internal See {@link ChannelSlot.canSendRight}: counted always, logged once per channel. */
  _onWindowStall(slot: ChannelSlot, size: number, window: number, whole: number): void {
    if ((this.rare ??= new ChannelRareState()).windowStallCount++ > 0 || log.level < LogLevel.WARN) return;
    const slots = this.slots();
    const index = slots.indexOf(slot);
    const name = (handler: ChannelHandler | null | undefined): string => handler?.constructor.name ?? 'none';
    log.log(
      LogLevel.WARN,
      'channel',
      `channel ${this.id}: slot ${index} (${name(slot._handler)}) holds a ${size}-byte message for slot ${index + 1} ` +
        `(${name(slots[index + 1]?._handler)}), whose whole read window is ${whole} (now ${window}): unless that handler ` +
        `opens its window beyond ${whole}, the channel stalls — give it a window of at least ${size}, or send the message in pieces`,
    );
  }

  private gatherStatistics(status: TaskStatus, task: Task, options: ChannelStatisticsOptions): void {
    if (status === TaskStatus.CANCELED || this.isShuttingDown) return;
    const handlers: HandlerStatistics[] = [];
    for (let slot = this.first; slot !== null; slot = slot.adjacentRight) {
      const handler = slot._handler;
      const sample = handler?.gatherStatistics?.();
      if (sample) handlers.push(sample);
      handler?.resetStatistics?.();
    }
    options.onSample({
      timeMs: this.loop.now(),
      intervalMs: options.intervalMs,
      handlers,
      windowStalls: this.windowStalls,
    });
    this.scheduleTaskAfter(task, options.intervalMs);
  }
}

/**
 * What a channel holds only once it is needed: its promises, made when someone first awaits it,
 * and its count of window stalls (most channels never have either).
 */
class ChannelRareState {
  setup: Promise<Channel> | null = null;
  resolveSetup: ((channel: Channel) => void) | null = null;
  shutdown: Promise<SluiceError | null> | null = null;
  resolveShutdown: ((error: SluiceError | null) => void) | null = null;
  windowStallCount = 0;
}

/**
 * The channels of one loop with read-window increments to deliver, and the one task that
 * delivers them in a later turn (the order they were queued in). Every channel of a busy server
 * passes increments after its reads; a task per channel would stay with each idle connection
 * (112 B), where a flag costs nothing. A channel that shut down meanwhile is passed over by its
 * own check.
 */
class WindowUpdates {
  // The queue and the spare it swaps with each pass, entries past the count cleared: the arrays
  // are never truncated, so their storage is allocated once, not on every pass (truncating a V8
  // array to length 0 drops its storage).
  private queued: (Channel | null)[] = [];
  private queuedCount = 0;
  private spare: (Channel | null)[] = [];
  private readonly task: Task;

  private constructor(private readonly loop: EventLoop) {
    this.task = new Task(WindowUpdates.runTask, 'channel-window-updates', this);
  }

  /** The queue of `loop`, made on first use (kept by the loop: no lookup per read). */
  static of(loop: EventLoop): WindowUpdates {
    return (loop._channelWindowUpdates ??= new WindowUpdates(loop)) as WindowUpdates;
  }

  add(channel: Channel): void {
    this.queued[this.queuedCount++] = channel;
    if (!this.task.isScheduled) this.loop.scheduleNow(this.task);
  }

  private static runTask(this: void, status: TaskStatus, task: Task): void {
    (task.target as WindowUpdates).run(status);
  }

  /** Delivers every queued channel's increments; channels queued during the pass wait for the next turn. */
  private run(status: TaskStatus): void {
    const channels = this.queued;
    const count = this.queuedCount;
    this.queued = this.spare;
    this.queuedCount = 0;
    let firstError: unknown = undefined;
    for (let i = 0; i < count; i++) {
      const channel = channels[i]!;
      channels[i] = null;
      channel._isWindowUpdateQueued = false;
      // One channel's failing handler must not strand the others' increments: the loop gets the
      // first error once all ran, as it does for its own tasks.
      try {
        channel._runWindowUpdates(status);
      } catch (error) {
        firstError ??= error ?? new Error('a window update threw a nullish value');
      }
    }
    this.spare = channels;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a handler threw, rethrown unchanged
    if (firstError !== undefined) throw firstError;
  }
}
