/**
 * The idle-timeout plugin: closes a connection that has seen no traffic for a while.
 *
 * @module
 */
import {
  ChannelDirection,
  log,
  LogLevel,
  SluiceError,
  Task,
  TaskStatus,
  type ChannelSlot,
  type IoMessage,
} from '../../lib/index.js';
import { PluginErrors } from './plugin-errors.js';
import type { FactoryPluginSpec } from './registry.js';
import { PassThroughHandler } from '../../lib/pass-through-handler.js';

/** Options of an {@link IdleTimeoutHandler}; defaults in {@link IDLE_TIMEOUT_DEFAULTS}. */
export interface IdleTimeoutOptions {
  /** Close the connection after this many ms without the watched traffic. */
  timeoutMs?: number;
  /** Which traffic counts as activity: reads, writes, or both. */
  watch?: 'reads' | 'writes' | 'both';
}

/** Defaults of {@link IdleTimeoutOptions}: one minute without reads or writes. */
export const IDLE_TIMEOUT_DEFAULTS: Readonly<Required<IdleTimeoutOptions>> = Object.freeze({
  timeoutMs: 60_000,
  watch: 'both',
});

/** The registry name of the idle-timeout plugin. */
export const IDLE_TIMEOUT_PLUGIN_NAME = 'idle-timeout';

/**
 * IdleTimeoutHandler shuts its channel down with `PLUGIN_IDLE_TIMEOUT` once no read or write
 * (see {@link IdleTimeoutOptions.watch}) has passed through it for `timeoutMs`. Traffic passes
 * unchanged ({@link PassThroughHandler}).
 *
 * The timer is one channel task, so it follows the loop's clock (virtual time in tests) and is
 * canceled with the channel. Activity only stores the loop time — no timer is touched per
 * message; when the task fires early because of activity, it re-arms itself for the remaining
 * time, reusing the same task (no allocation). The timer stops when shutdown starts.
 *
 * @example
 * ```ts
 * const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 1000 })]);
 * test.advance(1000);
 * expect(test.shutdownError?.code).to.equal(PluginErrors.IDLE_TIMEOUT.code);
 * ```
 */
export class IdleTimeoutHandler extends PassThroughHandler {
  /** The timeout in ms. */
  readonly timeoutMs: number;
  private readonly isWatchingReads: boolean;
  private readonly isWatchingWrites: boolean;
  private lastActivityAt = 0;
  private readonly timeoutTask = new Task((status) => this.onTimer(status), 'idle-timeout');

  /** Creates the handler; throws `PLUGIN_INVALID_OPTIONS` for a non-positive timeout. */
  constructor(options: IdleTimeoutOptions = {}) {
    super();
    const settings = { ...IDLE_TIMEOUT_DEFAULTS, ...options };
    if (!(settings.timeoutMs > 0)) {
      throw new SluiceError(
        PluginErrors.INVALID_OPTIONS,
        `plugin '${IDLE_TIMEOUT_PLUGIN_NAME}': option 'timeoutMs' must be positive`,
      );
    }
    this.timeoutMs = settings.timeoutMs;
    this.isWatchingReads = settings.watch !== 'writes';
    this.isWatchingWrites = settings.watch !== 'reads';
  }

  /** Starts the timer. */
  override installed(slot: ChannelSlot): void {
    super.installed(slot);
    this.lastActivityAt = slot.channel.loop.now();
    slot.channel.scheduleTaskAt(this.timeoutTask, this.lastActivityAt + this.timeoutMs);
  }

  /** A read is activity. */
  protected override observeRead(slot: ChannelSlot, _message: IoMessage): void {
    if (this.isWatchingReads) this.lastActivityAt = slot.channel.loop.now();
  }

  /** A write is activity. */
  protected override observeWrite(slot: ChannelSlot, _message: IoMessage): void {
    if (this.isWatchingWrites) this.lastActivityAt = slot.channel.loop.now();
  }

  /** Stops the timer when shutdown starts. */
  protected override observeShutdown(slot: ChannelSlot, direction: ChannelDirection): void {
    if (direction === ChannelDirection.READ) slot.channel.unscheduleTask(this.timeoutTask);
  }

  private onTimer(status: TaskStatus): void {
    const slot = this.slot;
    if (status === TaskStatus.CANCELED || slot === null) return;
    const channel = slot.channel;
    if (channel.isShuttingDown) return;
    const deadline = this.lastActivityAt + this.timeoutMs;
    const now = channel.loop.now();
    if (now < deadline) {
      channel.scheduleTaskAt(this.timeoutTask, deadline);
      return;
    }
    if (log.level >= LogLevel.DEBUG) {
      log.log(LogLevel.DEBUG, 'plugins', `channel ${channel.id}: idle for ${now - this.lastActivityAt} ms, closing`);
    }
    channel.shutdown(new SluiceError(PluginErrors.IDLE_TIMEOUT, `no ${this.describeWatch()} for ${this.timeoutMs} ms`));
  }

  private describeWatch(): string {
    if (this.isWatchingReads && this.isWatchingWrites) return 'reads or writes';
    return this.isWatchingReads ? 'reads' : 'writes';
  }
}

/** The registration of the idle-timeout plugin (function form), as the registry's built-ins use it. */
export const IDLE_TIMEOUT_PLUGIN: FactoryPluginSpec<IdleTimeoutOptions> = Object.freeze<
  FactoryPluginSpec<IdleTimeoutOptions>
>({
  defaults: IDLE_TIMEOUT_DEFAULTS,
  validate: {
    timeoutMs: { type: 'number', min: 1 },
    watch: { type: 'string', oneOf: ['reads', 'writes', 'both'] },
  },
  factory: (options: Readonly<IdleTimeoutOptions>) => new IdleTimeoutHandler(options),
});
