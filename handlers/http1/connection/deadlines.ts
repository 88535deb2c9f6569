/**
 * The deadlines of an HTTP/1.1 server connection for stalled, silent and slow peers: the
 * handshake (the first request line), the minimum response rate and the minimum request-body
 * rate.
 *
 * @module
 * @internal
 */
import { IoErrors, SluiceError, Task, type ChannelSlot, type TaskStatus } from '../../../lib/index.js';
import { DataRateClock } from '../../../lib/data-rate.js';
import { UNBOXED_NUMBER_FIELD } from '../../../lib/field-layout.js';
import { Http1ConnectionErrors, Http1ParseError } from '../errors.js';
import type { Http1ServerSettings } from './server-settings.js';
import type { Http1ServerStream } from './server-stream.js';

/**
 * What the deadlines need from their connection.
 * @internal
 */
export interface Http1DeadlinesHost {
  /** The exchange whose response is being written (the oldest unfinished), or undefined. */
  readonly respondingStream: Http1ServerStream | undefined;
  /** The exchange whose request body is being read, or null. */
  readonly readingStream: Http1ServerStream | null;
  /** Body credit returns only as the application reads (`isManualWindow`). */
  readonly isManualWindow: boolean;
  /** A message is being written. */
  readonly hasMessageInFlight: boolean;
  /** Bytes handed to the socket since the connection began. */
  readonly bytesWritten: number;
  /** Fails the request being read with `error` (its status answered with `Connection: close` if no response began). */
  _rejectRequest(error: Http1ParseError): void;
  /** A connection-level failure for `onError`. */
  _reportError(error: SluiceError): void;
  /** The connection's timer ran (these deadlines are its task): check what is due. */
  _onTimer(status: TaskStatus): void;
}

/** Deadlines given back by idle connections, bound to none; at most {@link SPARE_DEADLINES_LIMIT}. */
const spareDeadlines: Http1ServerDeadlines[] = [];
const SPARE_DEADLINES_LIMIT = 64;

/** The host of deadlines waiting to be taken: they never run. */
const NO_HOST: Http1DeadlinesHost = {
  respondingStream: undefined,
  readingStream: null,
  isManualWindow: false,
  hasMessageInFlight: false,
  bytesWritten: 0,
  _rejectRequest() {},
  _reportError() {},
  _onTimer() {},
};

/** The request-body rate's answer when no response began: 408 (RFC 9110 §15.5.9), then close. */
const BODY_TOO_SLOW = Object.freeze({ ...IoErrors.RECEIVE_RATE_TOO_LOW, status: 408 });

/**
 * Http1ServerDeadlines times one HTTP/1.1 server connection's peer while it is busy (the idle
 * timeout is the loop's `IdleTimers` list's, `lib/idle-timers.ts`):
 *
 * - **Header**: a request head must arrive whole within `headerTimeoutMs` of its first byte, else
 *   the connection closes at once with `HTTP1_HEADER_TIMEOUT` (slowloris).
 * - **Handshake**: the first request line must arrive within `handshakeTimeoutMs` of the
 *   channel's creation (TLS included), else the connection closes with `IO_HANDSHAKE_TIMEOUT`.
 * - **Response rate**: one {@link DataRateClock}, running only while response bytes wait for the
 *   peer (buffered, or in the write in flight); it starts when the application gives output and
 *   pauses when a completed write leaves nothing waiting. A write in flight also has its own
 *   allowance of its size at the rate (its progress shows only when it completes). Late: the
 *   connection closes at once with `IO_SEND_RATE_TOO_LOW` (the peer is not reading).
 * - **Request-body rate**: one clock for the body being read, running only while the
 *   application reads — as bytes are delivered without `isManualWindow`, with it only while
 *   the convenient body's reader waits. Late: the request fails with `IO_RECEIVE_RATE_TOO_LOW`,
 *   answered 408 with `Connection: close` if no response began.
 *
 * An exchange set to `setMinDataRate(null)` takes part in neither rate. The clocks are made when
 * first needed. The deadlines are also the connection's timer task (one object per connection,
 * not two), due at the earliest deadline: its run asks the connection, which lets `check` act on
 * what is late. Deadlines are whole ms, Infinity when off.
 *
 * @internal
 */
export class Http1ServerDeadlines extends Task {
  // Started as UNBOXED_NUMBER_FIELD (set to Infinity by the constructor), so no connection
  // carries a heap-number box per field for life.
  /** The request head being read is due by then. */
  headerDeadline = UNBOXED_NUMBER_FIELD;
  /** When the timer is scheduled to run; -Infinity once stopped for good. */
  private timerDueAt = UNBOXED_NUMBER_FIELD;
  /** The first request line is due by then; Infinity once it came (or without a limit). */
  private handshakeDeadline = UNBOXED_NUMBER_FIELD;
  private sendClock: DataRateClock | null = null;
  /** Bytes the socket took (written and completed) when the last write completed. */
  private acceptedBytes = 0;
  /**
   * When the socket last made progress (a write completed, or output began waiting), whole ms:
   * the write in flight is timed from it. Kept an integer so its stores need no heap number.
   */
  private progressAt = 0;
  private receiveClock: DataRateClock | null = null;
  /** The exchange whose body `receiveClock` times. */
  private timedBody: Http1ServerStream | null = null;

  /** Deadlines with the limits of `settings`. */
  constructor(
    private host: Http1DeadlinesHost,
    private settings: Http1ServerSettings,
  ) {
    super(Http1ServerDeadlines.runTimer, 'http1-timers');
    this.handshakeDeadline = this.headerDeadline = this.timerDueAt = Infinity;
  }

  /** Deadlines for `host`: ones given back by another connection, or new ones. */
  static take(host: Http1DeadlinesHost, settings: Http1ServerSettings): Http1ServerDeadlines {
    const deadlines = spareDeadlines.pop();
    if (deadlines === undefined) return new Http1ServerDeadlines(host, settings);
    deadlines.host = host;
    deadlines.settings = settings;
    if (deadlines.sendClock !== null && deadlines.sendClock.rate !== settings.responseRate) deadlines.sendClock = null;
    return deadlines;
  }

  /**
   * Gives back the deadlines of a connection that is idle (nothing waits for the peer, no body is
   * read): its timer is unscheduled and every count starts over for the next connection.
   */
  static give(deadlines: Http1ServerDeadlines, slot: ChannelSlot | null): void {
    if (deadlines.isScheduled) slot?.channel.unscheduleTask(deadlines);
    if (deadlines.isScheduled || spareDeadlines.length >= SPARE_DEADLINES_LIMIT) return;
    deadlines.host = NO_HOST;
    deadlines.handshakeDeadline = deadlines.headerDeadline = deadlines.timerDueAt = Infinity;
    deadlines.sendClock?.reset();
    deadlines.acceptedBytes = deadlines.progressAt = 0;
    deadlines.receiveClock = deadlines.timedBody = null;
    spareDeadlines.push(deadlines);
  }

  private static runTimer(this: void, status: TaskStatus, task: Task): void {
    const deadlines = task as Http1ServerDeadlines;
    if (deadlines.timerDueAt !== -Infinity) deadlines.timerDueAt = Infinity;
    deadlines.host._onTimer(status);
  }

  /** A request head began: it must be whole within `headerTimeoutMs`. */
  armHeader(slot: ChannelSlot): void {
    if (this.settings.headerTimeoutMs <= 0) return;
    this.headerDeadline = Math.ceil(slot.channel.loop.now()) + this.settings.headerTimeoutMs;
    this.arm(slot, this.headerDeadline);
  }

  /** The timer never runs again (the connection shut down, switched protocols or was removed). */
  stop(slot: ChannelSlot | null): void {
    if (this.isScheduled) slot?.channel.unscheduleTask(this);
    this.timerDueAt = -Infinity;
  }

  /** Makes the timer run no later than `deadline`. */
  private arm(slot: ChannelSlot, deadline: number): void {
    if (deadline >= this.timerDueAt) return;
    if (this.isScheduled) slot.channel.unscheduleTask(this);
    this.timerDueAt = deadline;
    slot.channel.scheduleTaskAt(this, deadline);
  }

  /** True until the first request line came, while there is a limit: the idle timeout waits. */
  get isHandshakePending(): boolean {
    return this.handshakeDeadline !== Infinity;
  }

  /** The connection was installed: the handshake deadline counts from the channel's creation. */
  start(slot: ChannelSlot): void {
    if (this.settings.handshakeTimeoutMs <= 0) return;
    this.handshakeDeadline = slot.channel.createdAtMs + this.settings.handshakeTimeoutMs;
    this.arm(slot, this.handshakeDeadline);
  }

  /** Bytes were parsed; `hasStartLine` once a request line was read whole. */
  onParsed(hasStartLine: boolean): void {
    if (hasStartLine) this.handshakeDeadline = Infinity;
  }

  /** The application gave `stream` output: response bytes wait for the peer, the clock runs. */
  onOutput(slot: ChannelSlot, stream: Http1ServerStream): void {
    const rate = this.settings.responseRate;
    if (rate === null || stream._isRateExempt || this.sendClock?.isRunning === true) return;
    const now = slot.channel.loop.now();
    const clock = (this.sendClock ??= new DataRateClock(rate));
    if (!this.host.hasMessageInFlight) this.acceptedBytes = this.host.bytesWritten;
    this.progressAt = Math.ceil(now);
    clock.resume(now, this.acceptedBytes);
    this.arm(slot, clock.nextCheckAt(now, this.acceptedBytes));
  }

  /**
   * A write completed at `now` (the loop's time): the socket took its bytes; with nothing more
   * waiting the clock pauses.
   */
  onWriteCompleted(now: number): void {
    const clock = this.sendClock;
    if (clock === null) return;
    this.acceptedBytes = this.host.bytesWritten;
    if (!clock.isRunning) return;
    this.progressAt = Math.ceil(now);
    if (!this.isOutputWaiting()) clock.pause(now);
  }

  /** The request body of `stream` began (after `onRequest`): it is timed while the application reads it. */
  onBodyStarted(slot: ChannelSlot, stream: Http1ServerStream): void {
    this.timedBody = stream;
    this.receiveClock = null;
    this.onReadStateChanged(slot, stream);
  }

  /** `stream`'s reader began or stopped waiting, or its rate changed: its body clock follows. */
  onReadStateChanged(slot: ChannelSlot, stream: Http1ServerStream): void {
    const now = slot.channel.loop.now();
    if (stream._isRateExempt) this.sendClock?.pause(now);
    if (stream !== this.timedBody) return;
    const rate = stream._receiveRate ?? this.settings.requestBodyRate;
    const isTimed =
      rate !== null &&
      !stream._isRateExempt &&
      this.host.readingStream === stream &&
      (!this.host.isManualWindow || stream._isReadWaiting);
    let clock = this.receiveClock;
    if (!isTimed || rate === null) {
      clock?.pause(now);
      return;
    }
    if (clock === null || clock.rate !== rate) clock = this.receiveClock = new DataRateClock(rate);
    clock.resume(now, stream._bodyBytesReceived);
    this.arm(slot, clock.nextCheckAt(now, stream._bodyBytesReceived));
  }

  /** The connection's timer fired at `now`: acts on what is late, and runs again when the next deadline is due. */
  check(slot: ChannelSlot, now: number): void {
    if (this.headerDeadline <= now) {
      this.headerDeadline = Infinity;
      const limit = this.settings.headerTimeoutMs;
      const error = new SluiceError(
        Http1ConnectionErrors.HEADER_TIMEOUT,
        `no whole request head within ${limit} ms of its first byte`,
      );
      this.close(slot, error);
      return;
    }
    if (this.handshakeDeadline <= now) {
      this.handshakeDeadline = Infinity;
      this.close(
        slot,
        new SluiceError(
          IoErrors.HANDSHAKE_TIMEOUT,
          `no request line within ${this.settings.handshakeTimeoutMs} ms of the connection`,
        ),
      );
      return;
    }
    const sendNext = this.checkSend(slot, now);
    if (sendNext < 0) return;
    const next = Math.min(sendNext, this.checkReceive(now), this.handshakeDeadline, this.headerDeadline);
    if (next !== Infinity) this.arm(slot, next);
  }

  private checkSend(slot: ChannelSlot, now: number): number {
    const clock = this.sendClock;
    if (clock === null || !clock.isRunning) return Infinity;
    if (!this.isOutputWaiting()) {
      clock.pause(now);
      return Infinity;
    }
    const bytes = this.acceptedBytes;
    if (!clock.isLate(now, bytes)) return clock.nextCheckAt(now, bytes);
    const inFlight = this.host.bytesWritten - bytes;
    if (inFlight > 0) {
      // The write in flight shows no progress until it completes: it has its own allowance.
      const dueAt = Math.ceil(this.progressAt + clock.timeFor(inFlight));
      if (now < dueAt) return dueAt;
    }
    const rate = clock.rate;
    this.close(
      slot,
      new SluiceError(
        IoErrors.SEND_RATE_TOO_LOW,
        `the peer took the response slower than ${rate.bytesPerSecond} B/s (after a ${rate.graceMs} ms grace)`,
      ),
    );
    return -1;
  }

  private checkReceive(now: number): number {
    const clock = this.receiveClock;
    const stream = this.timedBody;
    if (clock === null || stream === null || !clock.isRunning) return Infinity;
    if (this.host.readingStream !== stream || stream.isClosed) {
      clock.pause(now);
      this.timedBody = this.receiveClock = null;
      return Infinity;
    }
    const bytes = stream._bodyBytesReceived;
    if (!clock.isLate(now, bytes)) return clock.nextCheckAt(now, bytes);
    this.timedBody = this.receiveClock = null;
    const rate = clock.rate;
    this.host._rejectRequest(
      new Http1ParseError(
        BODY_TOO_SLOW,
        `the request body came slower than ${rate.bytesPerSecond} B/s (after a ${rate.graceMs} ms grace)`,
      ),
    );
    return Infinity;
  }

  /** Response bytes wait for the peer: a write in flight, or output of a timed exchange buffered. */
  private isOutputWaiting(): boolean {
    if (this.host.hasMessageInFlight) return true;
    const stream = this.host.respondingStream;
    return stream !== undefined && !stream._isRateExempt && stream._outgoing.hasWork;
  }

  /** Reports `error` and closes at once: nothing more can usefully be written. */
  private close(slot: ChannelSlot, error: SluiceError): void {
    this.host._reportError(error);
    slot.channel.shutdown(error, true);
  }
}
