/**
 * A connection's deadlines (SETTINGS ACK, open header block, write, keep-alive, graceful close)
 * behind one timer task.
 *
 * @module
 * @internal
 */
import { SluiceError, Task, TaskStatus, type ChannelSlot } from '../../../lib/index.js';
import { UNBOXED_NUMBER_FIELD } from '../../../lib/field-layout.js';
import { Http2ApiErrors, Http2ConnectionError } from '../errors.js';
import { ErrorCode } from '../wire/constants.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { OutgoingFramesTask } from './outgoing-frames-task.js';
import type { ConnectionShutdown } from './connection-shutdown.js';
import type { FrameDecoder } from '../wire/frame-decoder.js';
import type { PingCallback, PingTracker } from './ping-tracker.js';
import type { SettingsExchange } from './settings-exchange.js';

/**
 * How long a server's graceful close waits for the answer to the PING it sends after its first
 * GOAWAY (RFC 9113 §6.8's two-step close) before it sends the final GOAWAY anyway, ms.
 */
export const GRACEFUL_CLOSE_PING_WAIT_MS = 1000;

/**
 * What the timers need from their connection.
 * @internal
 */
export interface ConnectionTimersHost {
  readonly options: ResolvedHttp2Options;
  /** The connection's slot (null before installation). */
  readonly channelSlot: ChannelSlot | null;
  /** Whether our SETTINGS wait for an ACK. */
  readonly settings: Pick<SettingsExchange, 'hasPending'>;
  /** Whether a header block is open (no END_HEADERS yet). */
  readonly decoder: Pick<FrameDecoder, 'isInHeaderBlock'>;
  /** The outgoing-frames task: whether a message is being written, and since when. */
  readonly outgoing: Pick<OutgoingFramesTask, 'hasMessageInFlight' | 'inFlightSince'>;
  /** The PINGs awaiting their ACK (null before the first). */
  readonly pings: Pick<PingTracker, 'count'> | null;
  /**
   * Shutdown: a deadline the peer missed fails the connection (`failConnection`), a write or
   * keep-alive timeout closes it without flushing (`timeOut`), an unanswered graceful-close PING
   * sends the final GOAWAY now (`sendFinalGoaway`).
   */
  readonly ending: Pick<ConnectionShutdown, 'failConnection' | 'timeOut' | 'sendFinalGoaway'>;
  /** Sends a PING. */
  ping(callback: PingCallback): void;
}

/**
 * ConnectionTimers keeps every deadline of one connection behind one task: it is scheduled at
 * the earliest deadline and re-evaluates all of them when it runs, so a connection holds one
 * timer, and re-arming on the hot path (every write) is a comparison. Deadlines are loop-clock
 * times, Infinity when none; they are set rarely, so they start as
 * {@link UNBOXED_NUMBER_FIELD} (no heap number per field per connection).
 *
 * @internal
 */
export class ConnectionTimers {
  private readonly task: Task;
  private dueAt = UNBOXED_NUMBER_FIELD;
  private settingsDeadline = UNBOXED_NUMBER_FIELD;
  private headerBlockDeadline = UNBOXED_NUMBER_FIELD;
  private keepAliveDueAt = UNBOXED_NUMBER_FIELD;
  private keepAliveAckDeadline = UNBOXED_NUMBER_FIELD;
  /** A graceful close's wait for its PING answer ends here (see {@link GRACEFUL_CLOSE_PING_WAIT_MS}). */
  private closePingDeadline = UNBOXED_NUMBER_FIELD;
  private isKeepAlivePingOutstanding = false;
  /**
   * When the last bytes arrived, in whole milliseconds (rounded up): set on every read, so it is
   * kept a small integer that V8 stores inline, not a fraction that needs a box.
   */
  private lastReadAt = 0;

  /** Timers for `host`'s connection; nothing is armed until {@link ConnectionTimers.start}. */
  constructor(private readonly host: ConnectionTimersHost) {
    this.dueAt = this.settingsDeadline = this.headerBlockDeadline = Infinity;
    this.keepAliveDueAt = this.keepAliveAckDeadline = this.closePingDeadline = Infinity;
    this.task = new Task(ConnectionTimers.run, 'http2-timers', this);
  }

  /** The task's function, shared by every connection: the task's target is the timers. */
  private static run(this: void, status: TaskStatus, task: Task): void {
    (task.target as ConnectionTimers).onTimer(status);
  }

  /** The connection was installed in `slot`: keep-alive starts counting. */
  start(slot: ChannelSlot): void {
    this.lastReadAt = Math.ceil(slot.channel.loop.now());
    const interval = this.host.options.keepAliveIntervalMs;
    if (interval > 0) {
      this.keepAliveDueAt = this.lastReadAt + interval;
      this.arm(this.keepAliveDueAt);
    }
  }

  /**
   * Bytes arrived and were decoded: keep-alive counts from now, and a header block left open (no
   * END_HEADERS yet) must complete in time (CONTINUATION slow-drip).
   */
  onRead(slot: ChannelSlot): void {
    this.lastReadAt = Math.ceil(slot.channel.loop.now());
    const timeout = this.host.options.headerBlockTimeoutMs;
    if (timeout <= 0) return;
    if (!this.host.decoder.isInHeaderBlock) {
      this.headerBlockDeadline = Infinity;
    } else if (this.headerBlockDeadline === Infinity) {
      this.headerBlockDeadline = slot.channel.loop.now() + timeout;
      this.arm(this.headerBlockDeadline);
    }
  }

  /** Our SETTINGS went out at `now`: the ACK is due within `settingsTimeoutMs` (kept if already running). */
  startSettingsWait(now: number): void {
    if (this.settingsDeadline !== Infinity) return;
    this.settingsDeadline = now + this.host.options.settingsTimeoutMs;
    this.arm(this.settingsDeadline);
  }

  /** Every SETTINGS we sent is acknowledged. */
  stopSettingsWait(): void {
    this.settingsDeadline = Infinity;
  }

  /** A graceful close sent its PING at `now`: the final GOAWAY goes at the latest after the wait. */
  startClosePingWait(now: number): void {
    this.closePingDeadline = now + GRACEFUL_CLOSE_PING_WAIT_MS;
    this.arm(this.closePingDeadline);
  }

  /** The task sent a message: the write deadline counts from now. */
  onMessageSent(): void {
    const timeout = this.host.options.writeTimeoutMs;
    if (timeout > 0) this.arm(this.host.outgoing.inFlightSince + timeout);
  }

  /** When the message in flight times out, or Infinity. */
  private writeDeadline(): number {
    const timeout = this.host.options.writeTimeoutMs;
    const outgoing = this.host.outgoing;
    return timeout > 0 && outgoing.hasMessageInFlight ? outgoing.inFlightSince + timeout : Infinity;
  }

  /** Makes the timer task run no later than `deadline`. */
  private arm(deadline: number): void {
    const slot = this.host.channelSlot;
    if (slot === null || deadline >= this.dueAt || deadline === Infinity) return;
    if (this.task.isScheduled) slot.channel.unscheduleTask(this.task);
    this.dueAt = deadline;
    slot.channel.scheduleTaskAt(this.task, deadline);
  }

  /** Checks every deadline, acts on the first that passed, and re-arms for the next. */
  private onTimer(status: TaskStatus): void {
    this.dueAt = Infinity;
    const host = this.host;
    const slot = host.channelSlot;
    if (status !== TaskStatus.RUN_READY || slot === null) return;
    const options = host.options;
    const now = slot.channel.loop.now();
    if (this.settingsDeadline <= now) {
      this.settingsDeadline = Infinity;
      if (host.settings.hasPending) {
        host.ending.failConnection(
          new Http2ConnectionError(
            ErrorCode.SETTINGS_TIMEOUT,
            `no SETTINGS ACK within ${options.settingsTimeoutMs} ms`,
          ),
        );
        return;
      }
    }
    if (this.headerBlockDeadline <= now) {
      this.headerBlockDeadline = Infinity;
      if (host.decoder.isInHeaderBlock) {
        host.ending.failConnection(
          new Http2ConnectionError(
            ErrorCode.ENHANCE_YOUR_CALM,
            `header block not completed within ${options.headerBlockTimeoutMs} ms`,
          ),
        );
        return;
      }
    }
    if (this.writeDeadline() <= now) {
      // The peer is not reading: nothing more can be written, so close without flushing.
      const waited = Math.round(now - host.outgoing.inFlightSince);
      host.ending.timeOut(
        slot,
        new SluiceError(Http2ApiErrors.WRITE_TIMEOUT, `a write waited ${waited} ms for the peer to read`),
      );
      return;
    }
    if (this.keepAliveAckDeadline <= now) {
      this.keepAliveAckDeadline = Infinity;
      if (this.isKeepAlivePingOutstanding) {
        host.ending.timeOut(
          slot,
          new SluiceError(Http2ApiErrors.PING_TIMEOUT, `no PING ACK within ${options.keepAliveTimeoutMs} ms`),
        );
        return;
      }
    }
    if (this.closePingDeadline <= now) {
      // The peer did not answer the close's PING in time: announce the last stream now.
      this.closePingDeadline = Infinity;
      host.ending.sendFinalGoaway();
    }
    if (this.keepAliveDueAt <= now && !slot.channel.isShuttingDown) this.sendKeepAlive(slot, now);
    this.arm(
      Math.min(
        this.settingsDeadline,
        this.headerBlockDeadline,
        this.writeDeadline(),
        this.keepAliveAckDeadline,
        this.keepAliveDueAt,
        this.closePingDeadline,
      ),
    );
  }

  /** A keep-alive PING after `keepAliveIntervalMs` without reads; its ACK must come in time. */
  private sendKeepAlive(slot: ChannelSlot, now: number): void {
    const options = this.host.options;
    const interval = options.keepAliveIntervalMs;
    const idleFor = now - this.lastReadAt;
    if (
      idleFor < interval ||
      this.isKeepAlivePingOutstanding ||
      (this.host.pings?.count ?? 0) >= options.maxOutstandingPings
    ) {
      this.keepAliveDueAt = now + Math.max(1, interval - idleFor);
      return;
    }
    this.isKeepAlivePingOutstanding = true;
    this.keepAliveDueAt = Infinity;
    this.keepAliveAckDeadline = now + options.keepAliveTimeoutMs;
    this.host.ping((error) => {
      this.isKeepAlivePingOutstanding = false;
      this.keepAliveAckDeadline = Infinity;
      if (error !== null || slot.channel.isShuttingDown) return;
      this.keepAliveDueAt = slot.channel.loop.now() + interval;
      this.arm(this.keepAliveDueAt);
    });
  }
}
