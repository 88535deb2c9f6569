/**
 * A connection's deadlines (handshake, SETTINGS ACK, open header block, write, minimum data
 * rates, keep-alive, idle, graceful close) behind one timer task.
 *
 * @module
 * @internal
 */
import { IoErrors, SluiceError, Task, TaskStatus, type ChannelSlot } from '../../../lib/index.js';
import { UNBOXED_NUMBER_FIELD } from '../../../lib/field-layout.js';
import { Http2ApiErrors, Http2ConnectionError } from '../errors.js';
import { ErrorCode } from '../wire/constants.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { ConnectionShutdown } from './connection-shutdown.js';
import type { FrameDecoder } from '../wire/frame-decoder.js';
import type { Http2Stream } from './http2-stream.js';
import type { PingCallback, PingTracker } from './ping-tracker.js';
import type { SettingsExchange } from './settings-exchange.js';
import type { StreamLifecycle } from './stream-lifecycle.js';
import { Http2DataRates, StreamDataRate, type DataRatesHost } from './data-rate.js';

/**
 * How long a server's graceful close waits for the answer to the PING it sends after its first
 * GOAWAY (RFC 9113 §6.8's two-step close) before it sends the final GOAWAY anyway, ms.
 */
export const GRACEFUL_CLOSE_PING_WAIT_MS = 1000;

/**
 * What the timers need from their connection.
 * @internal
 */
export interface ConnectionTimersHost extends DataRatesHost {
  readonly role: 'client' | 'server';
  readonly options: ResolvedHttp2Options;
  /** The connection's slot (null before installation). */
  readonly channelSlot: ChannelSlot | null;
  /** Whether our SETTINGS wait for an ACK. */
  readonly settings: Pick<SettingsExchange, 'hasPending'>;
  /** Whether a header block is open (no END_HEADERS yet). */
  readonly decoder: Pick<FrameDecoder, 'isInHeaderBlock'>;
  /** The PINGs awaiting their ACK (null before the first). */
  readonly pings: Pick<PingTracker, 'count'> | null;
  /** The open streams, and the peer's that still count (the idle timeout waits for none). */
  readonly lifecycle: Pick<StreamLifecycle, 'streams' | 'closeStream' | 'activePeerStreams'>;
  /**
   * Shutdown: a deadline the peer missed fails the connection (`failConnection`), a write or
   * keep-alive timeout closes it without flushing (`timeOut`), an unanswered graceful-close PING
   * sends the final GOAWAY now (`sendFinalGoaway`), a slow peer is cut (`cutSlowPeer`), an idle
   * connection closes gracefully (`close`).
   */
  readonly ending: Pick<ConnectionShutdown, 'failConnection' | 'timeOut' | 'sendFinalGoaway' | 'cutSlowPeer' | 'close'>;
  /** GOAWAY was received or a graceful close began (read without making the shutdown part). */
  readonly isGoingAway: boolean;
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
 * Server role only: the handshake deadline (the client's preface and SETTINGS within
 * `handshakeTimeoutMs` of the channel's creation, TLS included), the idle timeout (no stream for
 * `idleTimeoutMs`: a graceful close) and the minimum data rates ({@link Http2DataRates}, made by
 * the first thing they time). A client's connections are the pool's to close.
 *
 * @internal
 */
export class ConnectionTimers extends Task {
  private dueAt = UNBOXED_NUMBER_FIELD;
  private settingsDeadline = UNBOXED_NUMBER_FIELD;
  private headerBlockDeadline = UNBOXED_NUMBER_FIELD;
  private keepAliveDueAt = UNBOXED_NUMBER_FIELD;
  private keepAliveAckDeadline = UNBOXED_NUMBER_FIELD;
  /** A graceful close's wait for its PING answer ends here (see {@link GRACEFUL_CLOSE_PING_WAIT_MS}). */
  private closePingDeadline = UNBOXED_NUMBER_FIELD;
  /** The client's preface must be complete by then (server role). */
  private handshakeDeadline = UNBOXED_NUMBER_FIELD;
  /**
   * Since when the connection has had no stream, whole ms (server role); -1: it just became
   * idle and the next message sent (the last stream's end) stamps the time, so a request's close
   * reads no clock.
   */
  private idleSince = 0;
  private isKeepAlivePingOutstanding = false;
  /** The minimum data rates: made by the first thing they time (server role). */
  private rates: Http2DataRates | null = null;
  /**
   * When the last bytes arrived, in whole milliseconds (rounded up): set on every read, so it is
   * kept a small integer that V8 stores inline, not a fraction that needs a box.
   */
  private lastReadAt = 0;

  /** Timers for `host`'s connection; nothing is armed until {@link ConnectionTimers.start}. */
  constructor(private readonly host: ConnectionTimersHost) {
    // The timer task itself, not an object beside it: one object per connection, not two.
    super(ConnectionTimers.run, 'http2-timers');
    this.dueAt = this.settingsDeadline = this.headerBlockDeadline = Infinity;
    this.keepAliveDueAt = this.keepAliveAckDeadline = this.closePingDeadline = this.handshakeDeadline = Infinity;
  }

  /** The task's function, shared by every connection: the task is the timers. */
  private static run(this: void, status: TaskStatus, task: Task): void {
    (task as ConnectionTimers).onTimer(status);
  }

  /**
   * The connection was installed in `slot`: keep-alive starts counting; a server's handshake
   * deadline (from the channel's creation) and idle timeout too.
   */
  start(slot: ChannelSlot): void {
    this.lastReadAt = Math.ceil(slot.channel.loop.now());
    const options = this.host.options;
    const interval = options.keepAliveIntervalMs;
    if (interval > 0) {
      this.keepAliveDueAt = this.lastReadAt + interval;
      this.arm(this.keepAliveDueAt);
    }
    if (this.host.role !== 'server') return;
    if (options.handshakeTimeoutMs > 0) {
      this.handshakeDeadline = slot.channel.createdAtMs + options.handshakeTimeoutMs;
      this.arm(this.handshakeDeadline);
    }
    this.idleSince = this.lastReadAt;
    if (options.idleTimeoutMs > 0) this.arm(this.idleSince + options.idleTimeoutMs);
  }

  /** The client's preface and first SETTINGS arrived: the handshake deadline no longer applies. */
  onHandshakeDone(): void {
    this.handshakeDeadline = Infinity;
  }

  /** A stream closed: with none left, the idle timeout counts from the next message (its end). */
  onStreamClosed(): void {
    if (this.host.lifecycle.streams.size === 0) this.idleSince = -1;
  }

  /** The peer opened `stream` (server): its body may be timed; CONNECT streams are out of the rates. */
  onRequestOpened(stream: Http2Stream, isEndStream: boolean, isConnect: boolean): void {
    if (isConnect && stream._dataRate === null) {
      stream._dataRate = new StreamDataRate();
      stream._dataRate.isExempt = true;
    }
    if (isEndStream || (stream._dataRate === null && this.host.options.minRequestBodyDataRate === null)) return;
    (stream._dataRate ??= new StreamDataRate()).isBodyExpected = true;
    this.onStreamDataRateChanged(stream);
  }

  /** A stream's part in the rates changed (an override, a body reader waiting or not). */
  onStreamDataRateChanged(stream: Http2Stream): void {
    const slot = this.host.channelSlot;
    const rates = this.ratesFor();
    if (slot === null || rates === null) return;
    const now = slot.channel.loop.now();
    if (stream._dataRate?.isExempt === true) rates.onExempted(stream, now);
    this.arm(rates.onReceiveStateChanged(stream, now));
    this.arm(rates.onSendStateChanged(slot));
  }

  /** DATA may have stopped waiting for the peer: the response rate's clock follows. */
  onDataWaitingChanged(): void {
    const slot = this.host.channelSlot;
    const rates = this.sendRates();
    if (slot !== null && rates !== null) this.arm(rates.onSendStateChanged(slot));
  }

  /**
   * The rates, for the response side: made by the first DATA that waits, so a connection that
   * never sends a body (an idle one) carries none.
   */
  private sendRates(): Http2DataRates | null {
    return this.rates ?? (this.host.outgoing.isDataWaiting ? this.ratesFor() : null);
  }

  /** The rates of a server with either rate on, made on first use; null otherwise. */
  private ratesFor(): Http2DataRates | null {
    if (this.rates !== null) return this.rates;
    const options = this.host.options;
    if (
      this.host.role !== 'server' ||
      (options.minResponseDataRate === null && options.minRequestBodyDataRate === null)
    )
      return null;
    return (this.rates = new Http2DataRates(this.host));
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

  /**
   * The task sent a message: the write deadline counts from now, the response rate's clock runs
   * if the message carries DATA (from when it was sent: no clock is read here), and a connection
   * that just became idle is idle from now.
   */
  onMessageSent(): void {
    const sentAt = this.host.outgoing.inFlightSince;
    const timeout = this.host.options.writeTimeoutMs;
    if (timeout > 0) this.arm(sentAt + timeout);
    if (this.idleSince === -1) this.idleSince = sentAt;
    const rates = this.sendRates();
    if (rates !== null && this.host.channelSlot !== null)
      this.arm(rates.onSendStateChanged(this.host.channelSlot, sentAt));
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
    if (this.isScheduled) slot.channel.unscheduleTask(this);
    this.dueAt = deadline;
    slot.channel.scheduleTaskAt(this, deadline);
  }

  /** Checks every deadline, acts on the first that passed, and re-arms for the next. */
  private onTimer(status: TaskStatus): void {
    this.dueAt = Infinity;
    const host = this.host;
    const slot = host.channelSlot;
    if (status !== TaskStatus.RUN_READY || slot === null) return;
    const options = host.options;
    const now = slot.channel.loop.now();
    if (this.handshakeDeadline <= now) {
      // No preface in time (Go's server waits 10 s): nothing was agreed, so nothing is flushed.
      this.handshakeDeadline = Infinity;
      host.ending.timeOut(
        slot,
        new SluiceError(
          IoErrors.HANDSHAKE_TIMEOUT,
          `no HTTP/2 preface within ${options.handshakeTimeoutMs} ms of the connection`,
        ),
      );
      return;
    }
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
    const rateCheckAt = this.rates === null ? Infinity : this.rates.check(slot, now);
    if (rateCheckAt < 0) return; // the connection was cut
    if (this.keepAliveDueAt <= now && !slot.channel.isShuttingDown) this.sendKeepAlive(slot, now);
    this.arm(
      Math.min(
        this.handshakeDeadline,
        this.settingsDeadline,
        this.headerBlockDeadline,
        this.writeDeadline(),
        this.keepAliveAckDeadline,
        this.keepAliveDueAt,
        this.closePingDeadline,
        rateCheckAt,
        this.checkIdle(slot, now),
      ),
    );
  }

  /**
   * The idle timeout (server): a connection with no stream — none open, none whose work the
   * application still holds — for `idleTimeoutMs` closes gracefully (GOAWAY(NO_ERROR), then the
   * final GOAWAY after a PING round trip). Returns when to check next.
   */
  private checkIdle(slot: ChannelSlot, now: number): number {
    const timeout = this.host.options.idleTimeoutMs;
    const host = this.host;
    if (host.role !== 'server' || timeout <= 0 || host.isGoingAway || slot.channel.isShuttingDown) return Infinity;
    const lifecycle = host.lifecycle;
    // A request in flight is never cut: idleness starts over when it ends.
    if (lifecycle.streams.size > 0 || lifecycle.activePeerStreams > 0) this.idleSince = -1;
    if (this.idleSince === -1) {
      this.idleSince = Math.ceil(now);
      return this.idleSince + timeout;
    }
    const dueAt = this.idleSince + timeout;
    if (now < dueAt) return dueAt;
    void host.ending.close();
    return Infinity;
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
