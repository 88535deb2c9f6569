/**
 * The HTTP/2 connection core shared by the client and server roles: a channel handler that
 * decodes frames, runs the stream state machine and flow control, and writes through the
 * outgoing-frames task.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  LogLevel,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  log,
  systemClock,
  type ChannelHandler,
  type ChannelSlot,
  type Clock,
  type HandlerStatistics,
  type IoMessage,
} from '../../../lib/index.js';
import {
  UNBOXED_NUMBER_FIELD,
  emptyList,
  lazyPush,
  lazyRemoveAt,
  lazyRemoveFirst,
  type LazyList,
} from '../../../lib/field-layout.js';
import { ClosedBy, ClosedStreams } from './closed-streams.js';
import {
  ErrorCode,
  errorCodeName,
  FrameType,
  frameTypeName,
  INITIAL_CONNECTION_WINDOW_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  SETTINGS_DEFAULTS,
  SettingId,
} from '../wire/constants.js';
import {
  HTTP2_CONNECTION_DEFAULTS,
  type Http2ConnectionOptions,
  type Http2Headers,
  type Http2PeerSettings,
} from './connection-options.js';
import { ControlFrameQueue } from './control-frame-queue.js';
import { EventRateLimit } from './event-rate-limit.js';
import { FrameDecoder, type FrameListener, type FramePriority } from '../wire/frame-decoder.js';
import {
  FrameEncoder,
  PING_FRAME_LENGTH,
  RST_STREAM_FRAME_LENGTH,
  SETTINGS_ACK_FRAME_LENGTH,
  WINDOW_UPDATE_FRAME_LENGTH,
  goawayFrameLength,
  headerBlockFramesLength,
  settingsFrameLength,
} from '../wire/frame-encoder.js';
import {
  CONTENT_LENGTH_ABSENT,
  HeaderBlockKind,
  HeaderBlockSummary,
  malformedHeaderError,
  validateHeaderBlock,
} from './header-rules.js';
import { HEADER_LIST_TOO_LARGE, HpackDecoder } from '../wire/hpack-decoder.js';
import { HpackEncoder } from '../wire/hpack-encoder.js';
import { Http2ApiErrors, Http2ConnectionError, Http2StreamError } from '../errors.js';
import { Http2Stream, StreamState, type Http2StreamFailure, type Http2StreamHost } from './http2-stream.js';
import { LateFrameAnswer, lateFrameAnswer } from './late-frames.js';
import { OutgoingFramesTask, type OutgoingFramesHost } from './outgoing-frames-task.js';
import { RoundRobinScheduler } from './round-robin-scheduler.js';
import type { WriteScheduler } from './write-scheduler.js';
import { StreamTable } from './stream-table.js';
import { isWatchingStreams, publishStreamFinished, publishStreamStarted } from './stream-diagnostics.js';

/** Resolved options: every field present. */
export type ResolvedHttp2Options = typeof HTTP2_CONNECTION_DEFAULTS & Http2ConnectionOptions;

/** Counters an HTTP/2 connection reports each statistics interval. */
export interface Http2Statistics extends HandlerStatistics {
  /** Always `http2`. */
  readonly category: 'http2';
  /** Streams open now. */
  readonly activeStreams: number;
  /** Messages written since the connection started. */
  readonly messagesWritten: number;
  /** Bytes written since the connection started. */
  readonly bytesWritten: number;
  /** Control frames waiting to be written. */
  readonly queuedControlFrames: number;
}

interface OutstandingPing {
  readonly high: number;
  readonly low: number;
  readonly sentAt: number;
  readonly callback: (error: SluiceError | null, rttMs: number) => void;
}

/**
 * How long a server's graceful close waits for the answer to the PING it sends after its first
 * GOAWAY (RFC 9113 §6.8's two-step close) before it sends the final GOAWAY anyway, ms.
 */
export const GRACEFUL_CLOSE_PING_WAIT_MS = 1000;

/** Largest GOAWAY debug data we send. */
const MAX_GOAWAY_DEBUG_LENGTH = 256;
/** Read window of the connection's slot: how much the socket may deliver before we return it. */
const SLOT_READ_WINDOW = 1024 * 1024;

/**
 * Http2Connection is one HTTP/2 connection in a channel slot; {@link Http2ClientConnection} and
 * {@link Http2ServerConnection} are its two roles. It implements RFC 9113: preface and SETTINGS
 * exchange (ours apply when ACKed, with a timeout), the stream state machine, flow control in
 * both directions, PING, GOAWAY, and limits on everything a peer can make it hold.
 *
 * All writes go through one {@link OutgoingFramesTask}. Errors: a violation the peer commits is
 * answered with RST_STREAM (stream errors) or GOAWAY (connection errors) with the RFC code, and
 * surfaces as {@link Http2StreamError} / {@link Http2ConnectionError} through the stream's
 * `onClose` and the connection's `onError`.
 */
export abstract class Http2Connection implements ChannelHandler, FrameListener, Http2StreamHost, OutgoingFramesHost {
  /** `client` or `server`. */
  abstract readonly role: 'client' | 'server';
  /** The settings the peer announced (RFC defaults until its SETTINGS arrive). */
  readonly peerSettings: Http2PeerSettings = {
    headerTableSize: SETTINGS_DEFAULTS.HEADER_TABLE_SIZE,
    enablePush: true,
    // Unlimited (Number.MAX_SAFE_INTEGER, set by the constructor) until the peer says otherwise.
    maxConcurrentStreams: UNBOXED_NUMBER_FIELD,
    initialWindowSize: SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE,
    maxFrameSize: SETTINGS_DEFAULTS.MAX_FRAME_SIZE,
    maxHeaderListSize: UNBOXED_NUMBER_FIELD,
    enableConnectProtocol: false,
  };
  /** @internal */
  readonly controlQueue = new ControlFrameQueue();
  /** @internal */
  connectionSendWindow = INITIAL_CONNECTION_WINDOW_SIZE;
  /** @internal */
  readonly minDataSendWindow: number;
  /** @internal */
  readonly streamHighWaterMark: number;

  /** @internal */
  protected readonly options: ResolvedHttp2Options;
  /** @internal */
  protected slot: ChannelSlot | null = null;
  /** @internal */
  protected readonly streams = new StreamTable();
  /** @internal */
  protected readonly outgoing: OutgoingFramesTask;
  /** @internal Highest stream id the peer opened. */
  protected lastPeerStreamId = 0;
  /** @internal Next id for a stream we open. */
  protected nextLocalStreamId: number;
  /** @internal Streams we opened that are not closed. */
  protected activeLocalStreams = 0;
  /** @internal Streams the peer opened that are not closed. */
  protected activePeerStreams = 0;
  /** @internal Last stream id of the GOAWAY the peer sent, or -1. */
  protected goawayReceivedLastStreamId = -1;
  /** @internal We are closing gracefully: no new streams of ours; done when streams finish. */
  protected isClosing = false;

  private readonly decoder: FrameDecoder;
  private readonly encoder: FrameEncoder;
  /**
   * HPACK contexts and the header caches, made by the first header block in either direction:
   * an idle connection never needs them. See {@link Http2Connection.headerState}.
   */
  private headerStateValue: HeaderState | null = null;
  /**
   * HPACK setting changes that came before the header state was made, kept as the smallest and
   * the last value of each (-1: none). Applying the smallest and then the last gives the state
   * every sequence of changes would have given — a table size update signals exactly those two
   * (RFC 7541 §4.2) — so the late-made state is as if it had existed all along.
   */
  private deferredPeerTableMin = -1;
  private deferredPeerTableLast = -1;
  private deferredOwnTableMin = -1;
  private deferredOwnTableLast = -1;
  private deferredOwnListSize = -1;
  private readonly closedStreams: ClosedStreams;
  private readonly isConnectionWindowManual: boolean;
  // Our SETTINGS waiting for ACK and our PINGs waiting for theirs: empty most of a
  // connection's life (LazyList).
  private pendingLocalSettings: LazyList<number[]> = emptyList();
  private outstandingPings: LazyList<OutstandingPing> = emptyList();
  private connectionReceiveWindow = INITIAL_CONNECTION_WINDOW_SIZE;
  private connectionUnreturnedCredit = 0;
  private readonly connectionWindowTarget: number;
  private localInitialWindowSize: number = SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE;
  private isReadStopped = false;
  private heldReadWindow = 0;
  private hasFailed = false;
  /** `onError` was called (it is called at most once). */
  private isFailureReported = false;
  /** A write or keep-alive timeout closes the connection without flushing anything. */
  private isClosingNow = false;
  private isFinalGoawayQueued = false;
  /** Last stream id announced in our final GOAWAY: peer streams above it are ignored. */
  private goawaySentLastStreamId = MAX_STREAM_ID;
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;
  private pingSequence = 0;
  // The abuse limits, made by the first event each counts: most connections never see one.
  private peerResets: EventRateLimit | null = null;
  private localResets: EventRateLimit | null = null;
  private glitches: EventRateLimit | null = null;
  /**
   * One task serves every deadline of the connection (SETTINGS ACK, open header block, write,
   * keep-alive): it is scheduled at the earliest and re-evaluates all of them when it runs, so a
   * connection holds one timer, and re-arming on the hot path (every write) is a comparison.
   */
  private readonly timerTask: Task;
  // Deadlines on the loop clock, Infinity when none: set rarely, so unboxed (UNBOXED_NUMBER_FIELD;
  // the constructor sets them to Infinity).
  private timerDueAt = UNBOXED_NUMBER_FIELD;
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

  /** Creates the core; `defaultFirstStreamId` is 1 for clients, 2 for servers (RFC 9113 §5.1.1). */
  protected constructor(options: Http2ConnectionOptions, isServer: boolean) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.minDataSendWindow = resolved.minDataSendWindow;
    this.streamHighWaterMark = resolved.streamHighWaterMark;
    this.isConnectionWindowManual = resolved.windowMode === 'manual';
    this.connectionWindowTarget = Math.max(
      INITIAL_CONNECTION_WINDOW_SIZE,
      Math.min(MAX_WINDOW_SIZE, resolved.connectionWindowSize),
    );
    this.nextLocalStreamId = isServer ? 2 : 1;
    this.peerSettings.maxConcurrentStreams = this.peerSettings.maxHeaderListSize = Number.MAX_SAFE_INTEGER;
    this.timerDueAt = this.settingsDeadline = this.headerBlockDeadline = Infinity;
    this.keepAliveDueAt = this.keepAliveAckDeadline = this.closePingDeadline = Infinity;
    this.decoder = new FrameDecoder(this, {
      role: isServer ? 'server' : 'client',
      maxFrameSize: SETTINGS_DEFAULTS.MAX_FRAME_SIZE,
      maxHeaderBlockSize: resolved.maxHeaderBlockSize,
      maxContinuationFrames: resolved.maxContinuationFrames,
    });
    this.encoder = new FrameEncoder();
    this.closedStreams = new ClosedStreams(resolved.maxClosedStreams);
    this.outgoing = new OutgoingFramesTask(this);
    this.timerTask = new Task(Http2Connection.runTimerTask, 'http2-timers', this);
  }

  /** The timer task's function, shared by every connection: the task's target is the connection. */
  private static runTimerTask(this: void, status: TaskStatus, task: Task): void {
    (task.target as Http2Connection).onTimer(status);
  }

  // ---------------------------------------------------------------- channel handler

  /** Starts the connection: queues our SETTINGS (the client's preface first) and the connection window. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.outgoing.attach(slot, this.role === 'client');
    const options = this.options;
    const settings: number[] = [];
    if (this.role === 'client') settings.push(SettingId.ENABLE_PUSH, 0);
    else settings.push(SettingId.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams);
    if (options.initialStreamWindowSize !== SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE) {
      settings.push(SettingId.INITIAL_WINDOW_SIZE, options.initialStreamWindowSize);
    }
    if (options.maxFrameSize !== SETTINGS_DEFAULTS.MAX_FRAME_SIZE)
      settings.push(SettingId.MAX_FRAME_SIZE, options.maxFrameSize);
    if (options.headerTableSize !== SETTINGS_DEFAULTS.HEADER_TABLE_SIZE) {
      settings.push(SettingId.HEADER_TABLE_SIZE, options.headerTableSize);
    }
    settings.push(SettingId.MAX_HEADER_LIST_SIZE, options.maxHeaderListSize);
    this.sendSettings(settings);
    // Streams we create use the window we announce; the peer may use a larger one as soon as it
    // reads it. A smaller one binds the peer only once it ACKs (RFC 9113 §6.5.3): until then the
    // old 65 535 stands, and applyLocalSettings shrinks the windows by the difference.
    this.localInitialWindowSize = Math.max(options.initialStreamWindowSize, SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE);
    const connectionIncrement = this.connectionWindowTarget - INITIAL_CONNECTION_WINDOW_SIZE;
    if (connectionIncrement > 0) {
      this.queueWindowUpdate(0, connectionIncrement);
      this.connectionReceiveWindow += connectionIncrement;
    }
    this.lastReadAt = Math.ceil(slot.channel.loop.now());
    if (options.keepAliveIntervalMs > 0) {
      this.keepAliveDueAt = this.lastReadAt + options.keepAliveIntervalMs;
      this.armTimer(this.keepAliveDueAt);
    }
  }

  /** Decodes the bytes; returns the read window unless too many answers wait to be written. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const length = message.length;
    if (this.isReadStopped) {
      message.release();
      return;
    }
    try {
      this.decoder.decode(message.data, 0, length);
    } catch (error) {
      message.release();
      this.failConnection(error);
      return;
    }
    message.release();
    this.lastReadAt = Math.ceil(slot.channel.loop.now());
    this.checkHeaderBlockTimer(slot);
    if (this.controlQueue.frameCount > this.options.maxQueuedControlFrames) {
      this.failConnection(
        new Http2ConnectionError(
          ErrorCode.ENHANCE_YOUR_CALM,
          `more than ${this.options.maxQueuedControlFrames} control frames queued`,
        ),
      );
      return;
    }
    if (this.controlQueue.frameCount * 2 >= this.options.maxQueuedControlFrames) {
      // The peer is not reading our answers: stop reading until they drain (CVE-2019-9512 family).
      this.heldReadWindow += length;
    } else {
      slot.incrementReadWindow(length);
    }
  }

  /** A header block left open (no END_HEADERS yet) must complete in time (CONTINUATION slow-drip). */
  private checkHeaderBlockTimer(slot: ChannelSlot): void {
    const timeout = this.options.headerBlockTimeoutMs;
    if (timeout <= 0) return;
    if (!this.decoder.isInHeaderBlock) {
      this.headerBlockDeadline = Infinity;
    } else if (this.headerBlockDeadline === Infinity) {
      this.headerBlockDeadline = slot.channel.loop.now() + timeout;
      this.armTimer(this.headerBlockDeadline);
    }
  }

  /** @internal The task sent a message: the write deadline counts from now. */
  onMessageSent(): void {
    const timeout = this.options.writeTimeoutMs;
    if (timeout > 0) this.armTimer(this.outgoing.inFlightSince + timeout);
  }

  /** When the message in flight times out, or Infinity. */
  private writeDeadline(): number {
    const timeout = this.options.writeTimeoutMs;
    return timeout > 0 && this.outgoing.hasMessageInFlight ? this.outgoing.inFlightSince + timeout : Infinity;
  }

  /** Makes the timer task run no later than `deadline`. */
  private armTimer(deadline: number): void {
    const slot = this.slot;
    if (slot === null || deadline >= this.timerDueAt || deadline === Infinity) return;
    if (this.timerTask.isScheduled) slot.channel.unscheduleTask(this.timerTask);
    this.timerDueAt = deadline;
    slot.channel.scheduleTaskAt(this.timerTask, deadline);
  }

  /** Checks every deadline, acts on the first that passed, and re-arms for the next. */
  private onTimer(status: TaskStatus): void {
    this.timerDueAt = Infinity;
    const slot = this.slot;
    if (status !== TaskStatus.RUN_READY || slot === null) return;
    const now = slot.channel.loop.now();
    if (this.settingsDeadline <= now) {
      this.settingsDeadline = Infinity;
      if (this.pendingLocalSettings.length > 0) {
        this.failConnection(
          new Http2ConnectionError(
            ErrorCode.SETTINGS_TIMEOUT,
            `no SETTINGS ACK within ${this.options.settingsTimeoutMs} ms`,
          ),
        );
        return;
      }
    }
    if (this.headerBlockDeadline <= now) {
      this.headerBlockDeadline = Infinity;
      if (this.decoder.isInHeaderBlock) {
        this.failConnection(
          new Http2ConnectionError(
            ErrorCode.ENHANCE_YOUR_CALM,
            `header block not completed within ${this.options.headerBlockTimeoutMs} ms`,
          ),
        );
        return;
      }
    }
    if (this.writeDeadline() <= now) {
      // The peer is not reading: nothing more can be written, so close without flushing.
      const waited = Math.round(now - this.outgoing.inFlightSince);
      this.timeOut(
        slot,
        new SluiceError(Http2ApiErrors.WRITE_TIMEOUT, `a write waited ${waited} ms for the peer to read`),
      );
      return;
    }
    if (this.keepAliveAckDeadline <= now) {
      this.keepAliveAckDeadline = Infinity;
      if (this.isKeepAlivePingOutstanding) {
        this.timeOut(
          slot,
          new SluiceError(Http2ApiErrors.PING_TIMEOUT, `no PING ACK within ${this.options.keepAliveTimeoutMs} ms`),
        );
        return;
      }
    }
    if (this.closePingDeadline <= now) {
      // The peer did not answer the close's PING in time: announce the last stream now.
      this.closePingDeadline = Infinity;
      this.sendFinalGoaway();
    }
    if (this.keepAliveDueAt <= now && !slot.channel.isShuttingDown) this.sendKeepAlive(slot, now);
    this.armTimer(
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
    const interval = this.options.keepAliveIntervalMs;
    const idleFor = now - this.lastReadAt;
    if (
      idleFor < interval ||
      this.isKeepAlivePingOutstanding ||
      this.outstandingPings.length >= this.options.maxOutstandingPings
    ) {
      this.keepAliveDueAt = now + Math.max(1, interval - idleFor);
      return;
    }
    this.isKeepAlivePingOutstanding = true;
    this.keepAliveDueAt = Infinity;
    this.keepAliveAckDeadline = now + this.options.keepAliveTimeoutMs;
    this.ping((error) => {
      this.isKeepAlivePingOutstanding = false;
      this.keepAliveAckDeadline = Infinity;
      if (error !== null || slot.channel.isShuttingDown) return;
      this.keepAliveDueAt = slot.channel.loop.now() + interval;
      this.armTimer(this.keepAliveDueAt);
    });
  }

  /** A write or keep-alive timeout: fail everything and close without flushing. */
  private timeOut(slot: ChannelSlot, error: SluiceError): void {
    this.outgoing.isWritingStopped = true;
    this.hasFailed = true;
    this.failEverything(error, true);
    this.closeNow(slot, error);
  }

  /**
   * Fails every open stream and pending ping with `error` and, when `isReported`, tells
   * `onError` — once per connection: a failure that follows another (a write failing on a socket
   * a timeout destroyed, a GOAWAY the peer never read) is a consequence, not a second error.
   */
  private failEverything(error: SluiceError, isReported: boolean): void {
    this.failAllStreams(error);
    this.rejectPendingPings(error);
    if (!isReported || this.isFailureReported) return;
    this.isFailureReported = true;
    this.options.onError?.(error);
  }

  /**
   * Shuts the channel down without flushing. Hardening fix: when a graceful shutdown already
   * began (e.g. GOAWAY(ENHANCE_YOUR_CALM) waiting behind a write the peer never reads),
   * `channel.shutdown(error, true)` is ignored, so a connection whose peer never reads stayed
   * open forever; finish our write side now instead, asking the slots to our left to free at once.
   */
  private closeNow(slot: ChannelSlot, error: SluiceError): void {
    this.isClosingNow = true;
    const pending = this.writeShutdown;
    if (pending === null) {
      slot.channel.shutdown(error, true);
      return;
    }
    this.writeShutdown = null;
    this.controlQueue.clear();
    if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error ?? error, true);
  }

  /** Counts a frame that did no useful work; too many is abuse (GOAWAY(ENHANCE_YOUR_CALM)). */
  private countGlitch(what: string): void {
    this.glitches ??= new EventRateLimit(this.options.maxGlitchesPerInterval, this.options.abuseIntervalMs);
    if (!this.glitches.take(this.now())) {
      throw new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `too many frames doing no work (${what})`);
    }
  }

  private now(): number {
    return this.slot === null ? 0 : this.slot.channel.loop.now();
  }

  /** Nothing may be written through an HTTP/2 connection from its right: it is the protocol's end. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the HTTP/2 handler does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Nothing reads to our right; window increments are not used. */
  incrementReadWindow(): void {}

  /** The socket may deliver this much before we have returned it. */
  initialWindowSize(): number {
    return SLOT_READ_WINDOW;
  }

  /** HTTP/2 adds no per-message overhead to the slots on its left. */
  messageOverhead(): number {
    return 0;
  }

  /**
   * READ: stop decoding. WRITE: stop DATA, fail open streams, send GOAWAY (unless one is out)
   * and finish once it is written; with `free`, stop at once.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isReadStopped = true;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.failEverything(error ?? new SluiceError(Http2ApiErrors.CONNECTION_CLOSED), false);
    if (free || this.outgoing.isWritingStopped) {
      this.outgoing.isWritingStopped = true;
      this.controlQueue.clear();
      // After a write or keep-alive timeout nothing will flush: the socket must close, not wait.
      slot.onHandlerShutdownComplete(direction, error, free || this.isClosingNow);
      return;
    }
    if (!this.isFinalGoawayQueued) {
      const code =
        error instanceof Http2ConnectionError
          ? error.errorCode
          : error === null
            ? ErrorCode.NO_ERROR
            : ErrorCode.INTERNAL_ERROR;
      this.queueGoaway(this.lastPeerStreamId, code, error?.message ?? '');
    }
    this.writeShutdown = { error, free };
    this.outgoing.wake();
  }

  /** Counters for the statistics interval. */
  gatherStatistics(): Http2Statistics {
    return {
      category: 'http2',
      activeStreams: this.streams.size,
      messagesWritten: this.outgoing.messagesWritten,
      bytesWritten: this.outgoing.bytesWritten,
      queuedControlFrames: this.controlQueue.frameCount,
    };
  }

  // ---------------------------------------------------------------- public API

  /** Streams open now. */
  get activeStreamCount(): number {
    return this.streams.size;
  }

  /** The channel this connection runs in (null before installation). */
  get channelSlot(): ChannelSlot | null {
    return this.slot;
  }

  /** The clock of the event loop this connection runs in (the system clock before installation). */
  get clock(): Clock {
    return this.slot === null ? systemClock : this.slot.channel.loop.clock;
  }

  /** True once GOAWAY was received or a graceful close began. */
  get isGoingAway(): boolean {
    return this.isClosing || this.goawayReceivedLastStreamId >= 0;
  }

  /**
   * Sends a PING; `callback` gets the round-trip time in ms (loop clock) or an error if the
   * connection closes first. Throws `HTTP2_TOO_MANY_PINGS` beyond `maxOutstandingPings`.
   */
  ping(callback: (error: SluiceError | null, rttMs: number) => void): void {
    this.assertOpen();
    if (this.outstandingPings.length >= this.options.maxOutstandingPings)
      throw new SluiceError(Http2ApiErrors.TOO_MANY_PINGS);
    const high = 0x736c7563; // "sluc"
    const low = ++this.pingSequence >>> 0;
    this.outstandingPings = lazyPush(this.outstandingPings, {
      high,
      low,
      sentAt: this.slot!.channel.loop.now(),
      callback,
    });
    const buffer = this.controlQueue.reserve(PING_FRAME_LENGTH);
    this.controlQueue.commit(
      this.encoder.writePing(buffer, this.controlQueue.tail, high, low, false) - this.controlQueue.tail,
    );
    this.outgoing.wake();
  }

  /**
   * Closes gracefully (RFC 9113 §6.8): no new streams are accepted beyond those already begun,
   * in-flight streams finish, then the channel shuts down. A server first announces GOAWAY with
   * the largest id, then after one round trip (PING) — or {@link GRACEFUL_CLOSE_PING_WAIT_MS} at
   * most — the real last stream id. Resolves when the channel has shut down.
   */
  close(): Promise<SluiceError | null> {
    const slot = this.slot;
    if (slot === null) return Promise.resolve(null);
    if (!this.isClosing && !slot.channel.isShuttingDown) {
      this.isClosing = true;
      if (this.role === 'server') {
        this.queueGoaway(MAX_STREAM_ID, ErrorCode.NO_ERROR, '', false);
        this.ping(() => this.sendFinalGoaway());
        // A peer that never answers (silent, or not speaking HTTP/2 at all) must not hold the
        // close open: after the wait the final GOAWAY goes anyway. Streams the peer opens later
        // are above its last stream id, so the peer knows to send them elsewhere.
        this.closePingDeadline = slot.channel.loop.now() + GRACEFUL_CLOSE_PING_WAIT_MS;
        this.armTimer(this.closePingDeadline);
      } else {
        this.sendFinalGoaway();
      }
    }
    return slot.channel.whenShutdown;
  }

  /** Ends the connection now: GOAWAY(`errorCode`) and shutdown; streams fail with the error. */
  abort(errorCode: number = ErrorCode.CANCEL, message = 'connection aborted by the application'): void {
    this.failConnection(new Http2ConnectionError(errorCode, message));
  }

  /** Called by the channel after shutdown: drops queued frames, then reports `onClose`. */
  destroy(): void {
    this.controlQueue.clear();
    this.outgoing.isWritingStopped = true;
    this.options.onClose?.(this.slot?.channel.shutdownError ?? null);
  }

  private sendFinalGoaway(): void {
    if (this.isFinalGoawayQueued || this.slot === null || this.slot.channel.isShuttingDown) return;
    this.queueGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR, '');
    this.maybeFinishClosing();
  }

  /** @internal Shuts the channel down once a graceful close has no streams left. */
  protected maybeFinishClosing(): void {
    const slot = this.slot;
    if (slot === null || this.streams.size > 0 || this.hasPendingLocalStreams()) return;
    if ((this.isClosing && this.isFinalGoawayQueued) || this.goawayReceivedLastStreamId >= 0)
      slot.channel.shutdown(null);
  }

  /** @internal Local streams waiting for a concurrency slot (client). */
  protected hasPendingLocalStreams(): boolean {
    return false;
  }

  /** @internal */
  protected assertOpen(): void {
    if (this.slot === null || this.slot.channel.isShuttingDown || this.hasFailed) {
      throw new SluiceError(Http2ApiErrors.CONNECTION_CLOSED);
    }
  }

  // ---------------------------------------------------------------- local streams

  /** @internal Opens a local stream now (the caller checked limits) and queues its HEADERS. */
  protected openLocalStream(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    const id = this.nextLocalStreamId;
    this.nextLocalStreamId += 2;
    stream._assignId(id, this.peerSettings.initialWindowSize, this.localInitialWindowSize);
    this.streams.set(id, stream);
    this.activeLocalStreams++;
    if (isEndStream) {
      stream._isEndQueued = true;
      stream._isEndSent = true;
      stream.state = StreamState.HALF_CLOSED_LOCAL;
    }
    stream._areHeadersSent = true;
    this.queueHeaderBlock(id, headers, isEndStream);
    publishStreamStarted(this.slot!.channel.id, id, 'local');
    if (stream._pendingBytes > 0 || (stream._isEndQueued && !stream._isEndSent)) this.outgoing.addDataStream(stream);
  }

  /** @internal Creates a stream object for this connection. */
  protected newStream(id: number, isLocal: boolean): Http2Stream {
    return new Http2Stream(
      this,
      id,
      isLocal,
      this.peerSettings.initialWindowSize,
      this.localInitialWindowSize,
      this.options.windowMode === 'manual',
    );
  }

  /** @internal Whether another local stream id is available (RFC 9113 §5.1.1). */
  protected get hasStreamIdsLeft(): boolean {
    return this.nextLocalStreamId <= MAX_STREAM_ID;
  }

  // ---------------------------------------------------------------- stream host

  /** @internal */
  _streamHasData(stream: Http2Stream): void {
    if (stream.id === 0 || !stream._areHeadersSent) return; // not opened yet: sent once it opens
    this.outgoing.addDataStream(stream);
  }

  /** @internal */
  _sendStreamHeaders(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    this.assertOpen();
    const kind = stream._hasSentFinalHeaders
      ? HeaderBlockKind.TRAILERS
      : stream.isLocal
        ? HeaderBlockKind.REQUEST
        : HeaderBlockKind.RESPONSE;
    const state = this.headerState();
    const encoder = state.encoder;
    const cache = state.sentHeaders;
    if (kind === cache.kind && encoder.generation === cache.generation && cache.matches(headers)) {
      // The same list again with the HPACK table unchanged: the bytes already sent are valid.
      if (cache.status >= 200) markFinalResponseSent(stream, cache.status);
      this.queueEncodedHeaderBlock(stream.id, cache.block, isEndStream);
    } else {
      // Everything is checked before anything changes: a refused block leaves no trace.
      const violation = validateHeaderBlock(headers, kind, false, SUMMARY);
      if (violation !== null)
        throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, `stream ${stream.id}: ${violation}`);
      const status = SUMMARY.status;
      const isResponse = kind === HeaderBlockKind.RESPONSE;
      if (isResponse && status < 200 && isEndStream) {
        throw new SluiceError(
          Http2ApiErrors.INVALID_HEADERS,
          `stream ${stream.id}: a 1xx response cannot end the stream`,
        );
      }
      if (isResponse && status >= 200) markFinalResponseSent(stream, status);
      // RFC 9110 §8.6: no content-length on a 1xx or 204 response. A 304's describes the
      // representation it validates and is kept. Rare: the copy costs nothing on the common path.
      const sentHeaders =
        isResponse && SUMMARY.contentLength !== CONTENT_LENGTH_ABSENT && (status < 200 || status === 204)
          ? withoutField(headers, 'content-length')
          : headers;
      const generation = encoder.generation;
      const block = encoder.encode(sentHeaders);
      // An encoding that left the table as it was can be sent again while it stays so.
      if (encoder.generation === generation) cache.remember(headers, kind, generation, status, block);
      this.queueEncodedHeaderBlock(stream.id, block, isEndStream);
    }
    if (isEndStream) this.onEndStreamSent(stream);
    else if (stream._pendingBytes > 0 || stream._isEndQueued) this.outgoing.addDataStream(stream);
  }

  /** @internal The application resets its stream (not counted as peer abuse). */
  _resetStream(stream: Http2Stream, error: Http2StreamError): void {
    this.resetStream(stream, error, false);
  }

  /** @internal The application finished with a closed stream whose slot it held. */
  _releaseConcurrencySlot(stream: Http2Stream): void {
    if (!stream._isSlotHeldAfterClose) return;
    stream._isSlotHeldAfterClose = false;
    this.activePeerStreams--;
  }

  /** @internal Manual-mode credit the application returned. */
  _returnStreamCredit(stream: Http2Stream, size: number): void {
    if (stream.state === StreamState.CLOSED) return;
    this.returnStreamCredit(stream, size);
    if (this.isConnectionWindowManual) this.returnConnectionCredit(size);
  }

  // ---------------------------------------------------------------- outgoing host

  /** @internal */
  get peerMaxFrameSize(): number {
    return this.encoder.maxFrameSize;
  }

  /** @internal */
  get isWaitingForGoaway(): boolean {
    return this.writeShutdown !== null;
  }

  /** @internal */
  queueTrailers(stream: Http2Stream): void {
    const trailers = stream._trailers!;
    stream._trailers = null;
    this.queueHeaderBlock(stream.id, trailers, true);
    stream._markEndSent();
    this.onEndStreamSent(stream);
  }

  /** @internal Our END_STREAM is out: OPEN → HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE → CLOSED. */
  onEndStreamSent(stream: Http2Stream): void {
    if (stream._thrown !== null) {
      // Its end callback threw.
      this.onStreamCallbackThrew(stream);
      return;
    }
    if (stream.state === StreamState.OPEN) stream.state = StreamState.HALF_CLOSED_LOCAL;
    else if (stream.state === StreamState.HALF_CLOSED_REMOTE) this.closeStream(stream, null, ClosedBy.END_STREAM);
  }

  /** @internal */
  onStreamCallbackThrew(stream: Http2Stream): void {
    const thrown = stream._thrown;
    stream._thrown = null;
    this.failStreamCallback(stream, thrown, 'a write callback or onDrain');
  }

  /**
   * An application callback of `stream` threw `thrown`: that stream alone is reset with
   * RST_STREAM(INTERNAL_ERROR) — its `onClose` gets the error, which carries what was thrown as
   * its cause — and the failure is logged (WARN, subject `http2-stream`). The connection and its
   * other streams go on, as in Netty, where an exception in one stream's handler fails that
   * stream. A callback that throws on a stream already closed is only logged.
   */
  private failStreamCallback(stream: Http2Stream, thrown: unknown, callback: string): void {
    const detail = describeThrown(thrown);
    const error = new Http2StreamError(
      stream.id,
      ErrorCode.INTERNAL_ERROR,
      `stream ${stream.id}: ${callback} threw: ${detail}`,
      { cause: thrown },
    );
    if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'http2-stream', error.message);
    this.resetStream(stream, error, false);
  }

  /** @internal */
  onControlQueueDrained(): void {
    const held = this.heldReadWindow;
    if (held > 0 && this.controlQueue.frameCount * 2 < this.options.maxQueuedControlFrames && this.slot !== null) {
      this.heldReadWindow = 0;
      this.slot.incrementReadWindow(held);
    }
  }

  /** @internal */
  finishWriteShutdown(): void {
    const request = this.writeShutdown;
    const slot = this.slot;
    if (request === null || slot === null || slot.isWriteShutDown || this.outgoing.hasMessageInFlight) return;
    this.writeShutdown = null;
    this.outgoing.isWritingStopped = true;
    slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error, request.free);
  }

  /** @internal DATA goes round-robin across streams (RFC 9218 priorities would plug in here). */
  createWriteScheduler(): WriteScheduler {
    return new RoundRobinScheduler();
  }

  /** @internal */
  onWriteFailed(error: SluiceError): void {
    this.outgoing.isWritingStopped = true;
    this.controlQueue.clear();
    if (this.writeShutdown !== null) {
      this.failEverything(error, false);
      const request = this.writeShutdown;
      this.writeShutdown = null;
      if (this.slot !== null && !this.slot.isWriteShutDown) {
        this.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error ?? error, request.free);
      }
      return;
    }
    this.hasFailed = true;
    this.failEverything(error, true);
    this.slot?.channel.shutdown(error);
  }

  // ---------------------------------------------------------------- frame listener

  /** @internal DATA, RFC 9113 §6.1 and flow control §6.9. */
  onData(
    streamId: number,
    data: Uint8Array,
    start: number,
    end: number,
    flowControlledLength: number,
    _isFrameEnd: boolean,
    isEndStream: boolean,
  ): void {
    if (flowControlledLength > this.connectionReceiveWindow) {
      throw new Http2ConnectionError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowControlledLength} bytes exceeds the connection receive window of ${this.connectionReceiveWindow}`,
      );
    }
    this.connectionReceiveWindow -= flowControlledLength;
    // An empty DATA frame that does not end the stream does nothing (CVE-2019-9518).
    if (flowControlledLength === 0 && !isEndStream && _isFrameEnd) this.countGlitch('empty DATA');
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      // The connection window still counts it (RFC 9113 §6.9); nobody will consume it.
      this.returnConnectionCredit(flowControlledLength);
      this.onFrameForMissingStream(streamId, FrameType.DATA, flowControlledLength, isEndStream);
      return;
    }
    if (stream.state === StreamState.HALF_CLOSED_REMOTE) {
      this.returnConnectionCredit(flowControlledLength);
      this.resetStream(
        stream,
        new Http2StreamError(streamId, ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM (RFC 9113 §5.1)'),
      );
      return;
    }
    if (flowControlledLength > stream._receiveWindow) {
      this.returnConnectionCredit(flowControlledLength);
      this.resetStream(
        stream,
        new Http2StreamError(
          streamId,
          ErrorCode.FLOW_CONTROL_ERROR,
          `DATA exceeds the stream receive window of ${stream._receiveWindow}`,
        ),
      );
      return;
    }
    stream._receiveWindow -= flowControlledLength;
    const dataLength = end - start;
    const padding = flowControlledLength - dataLength;
    if (padding > 0) {
      // Padding is never delivered: its credit goes back at once.
      this.returnStreamCredit(stream, padding);
      this.returnConnectionCredit(padding);
    }
    if (dataLength > 0) {
      stream._receivedBodyBytes += dataLength;
      if (stream._expectedContentLength >= 0 && stream._receivedBodyBytes > stream._expectedContentLength) {
        this.returnConnectionCredit(dataLength);
        this.resetStream(
          stream,
          new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, 'DATA exceeds content-length (RFC 9113 §8.1.1)'),
        );
        return;
      }
      if (stream.isManualWindow) stream._heldCredit += dataLength;
      // With END_STREAM the peer sends no more on the stream: its credit is not worth a WINDOW_UPDATE.
      else if (!isEndStream) this.returnStreamCredit(stream, dataLength);
      if (!this.isConnectionWindowManual || !stream.isManualWindow) this.returnConnectionCredit(dataLength);
      try {
        stream.handler.onData?.(stream, data, start, end);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onData');
      }
      if (stream.state === StreamState.CLOSED) return;
    }
    if (isEndStream) this.onRemoteEnd(stream);
  }

  /** @internal A complete header block, RFC 9113 §6.2, §8. */
  onHeaders(
    streamId: number,
    block: Uint8Array,
    start: number,
    end: number,
    isEndStream: boolean,
    _priority: FramePriority | null,
  ): void {
    // Decode first, always: the HPACK context must stay in sync even for refused streams (§4.3).
    const fields = this.headerState().decoder.decode(block, start, end);
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.onHeadersForStream(stream, fields, isEndStream);
      return;
    }
    if (this.isPeerStreamId(streamId) && streamId > this.lastPeerStreamId) {
      this.onNewPeerStream(streamId, fields, isEndStream);
      return;
    }
    this.onFrameForMissingStream(streamId, FrameType.HEADERS);
  }

  /**
   * @internal PRIORITY is parsed and ignored (RFC 9113 §5.3.2 deprecates the scheme); a flood is
   * a glitch. One on a recently closed stream is free (§5.1 allows it in every state).
   */
  onPriority(streamId: number): void {
    if (this.streams.get(streamId) !== undefined || this.isIdleStream(streamId)) this.countGlitch('PRIORITY');
    else this.onFrameForMissingStream(streamId, FrameType.PRIORITY);
  }

  /** @internal Frames of unknown types are ignored (RFC 9113 §5.5); a flood is a glitch. */
  onUnknownFrame(): void {
    this.countGlitch('unknown frame type');
  }

  /** @internal RST_STREAM, RFC 9113 §6.4. */
  onRstStream(streamId: number, errorCode: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      this.onFrameForMissingStream(streamId, FrameType.RST_STREAM);
      return;
    }
    // Rapid Reset (CVE-2023-44487): opening and resetting streams costs the peer nothing. Only
    // resets that close a stream count; a late one on a closed stream is the table's business.
    this.peerResets ??= new EventRateLimit(this.options.maxPeerResetsPerInterval, this.options.abuseIntervalMs);
    if (!this.peerResets.take(this.now())) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.options.maxPeerResetsPerInterval} RST_STREAM frames received`,
      );
    }
    const error = new Http2StreamError(streamId, errorCode, `stream reset by the peer`, {
      retryable: errorCode === ErrorCode.REFUSED_STREAM,
    });
    this.closeStream(stream, error, ClosedBy.RESET_RECEIVED);
  }

  /** @internal SETTINGS, RFC 9113 §6.5. */
  onSettings(settings: readonly number[], isAck: boolean): void {
    if (isAck) {
      // An ACK with nothing awaiting one is ignored (and the shared empty list is frozen).
      const pending = this.pendingLocalSettings;
      if (pending.length === 0) return;
      const settings = pending[0];
      this.pendingLocalSettings = lazyRemoveFirst(pending);
      this.applyLocalSettings(settings);
      if (this.pendingLocalSettings.length === 0) this.settingsDeadline = Infinity;
      return;
    }
    if (settings.length / 2 > this.options.maxSettingsEntries) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `SETTINGS with more than ${this.options.maxSettingsEntries} entries`,
      );
    }
    const peer = this.peerSettings;
    for (let i = 0; i < settings.length; i += 2) {
      const value = settings[i + 1];
      switch (settings[i]) {
        case SettingId.HEADER_TABLE_SIZE:
          peer.headerTableSize = value;
          this.applyHpackSetting(DeferredHpackSetting.PEER_TABLE_SIZE, value);
          break;
        case SettingId.ENABLE_PUSH:
          peer.enablePush = value === 1;
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          peer.maxConcurrentStreams = value;
          break;
        case SettingId.INITIAL_WINDOW_SIZE:
          this.applyPeerInitialWindowSize(value);
          break;
        case SettingId.MAX_FRAME_SIZE:
          peer.maxFrameSize = value;
          this.encoder.maxFrameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          peer.maxHeaderListSize = value;
          break;
        case SettingId.ENABLE_CONNECT_PROTOCOL:
          peer.enableConnectProtocol = value === 1;
          break;
      }
    }
    const buffer = this.controlQueue.reserve(SETTINGS_ACK_FRAME_LENGTH);
    this.controlQueue.commit(this.encoder.writeSettingsAck(buffer, this.controlQueue.tail) - this.controlQueue.tail);
    this.outgoing.wake();
    this.onPeerSettingsApplied();
    this.options.onRemoteSettings?.(peer);
  }

  /** @internal The client rejects PUSH_PROMISE: it announced SETTINGS_ENABLE_PUSH = 0 (RFC 9113 §8.4). */
  onPushPromise(): void {
    throw new Http2ConnectionError(
      ErrorCode.PROTOCOL_ERROR,
      'PUSH_PROMISE received although push is disabled (RFC 9113 §8.4)',
    );
  }

  /** @internal PING, RFC 9113 §6.7: answer at once (ahead of other frames), or match our own. */
  onPing(opaqueHigh: number, opaqueLow: number, isAck: boolean): void {
    if (!isAck) {
      this.controlQueue.pushPingAck(opaqueHigh, opaqueLow);
      this.outgoing.wake();
      return;
    }
    const pings = this.outstandingPings;
    for (let i = 0; i < pings.length; i++) {
      const ping = pings[i];
      if (ping.high === opaqueHigh && ping.low === opaqueLow) {
        this.outstandingPings = lazyRemoveAt(pings, i);
        ping.callback(null, (this.slot?.channel.loop.now() ?? ping.sentAt) - ping.sentAt);
        return;
      }
    }
    // An ACK for nothing we sent is ignored.
  }

  /** @internal GOAWAY, RFC 9113 §6.8. */
  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void {
    const previous = this.goawayReceivedLastStreamId;
    this.goawayReceivedLastStreamId = previous < 0 ? lastStreamId : Math.min(previous, lastStreamId);
    const debug = Buffer.from(debugData.subarray(start, end));
    // Observers hear of the GOAWAY before the refused streams fail, so a retry of one of them
    // (the SDK's stream manager resends at once) never picks this connection again.
    this.options.onGoaway?.(lastStreamId, errorCode, debug);
    this.onGoawayReceived();
    for (const stream of this.streams.values()) {
      if (stream.isLocal && stream.id > this.goawayReceivedLastStreamId) {
        // Never processed by the peer: safe to retry elsewhere.
        this.closeStream(
          stream,
          new Http2StreamError(
            stream.id,
            ErrorCode.REFUSED_STREAM,
            `not processed: the peer sent GOAWAY with last stream ${lastStreamId}`,
            {
              retryable: true,
            },
          ),
          ClosedBy.RESET_RECEIVED,
        );
      }
    }
    if (errorCode !== ErrorCode.NO_ERROR) {
      // RFC 9113 §5.4.1: GOAWAY with an error code ends the connection. The peer should close
      // it, but one that does not (node:http2 after a COMPRESSION_ERROR) must not leave the
      // streams at or below its last id waiting forever. Our GOAWAY does not echo its error.
      this.queueGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR, '');
      const detail = debug.length > 0 ? `: ${debug.toString('latin1')}` : '';
      this.failConnection(
        new Http2ConnectionError(errorCode, `the peer sent GOAWAY(${errorCodeName(errorCode)})${detail}`),
      );
      return;
    }
    this.maybeFinishClosing();
  }

  /** @internal WINDOW_UPDATE, RFC 9113 §6.9. */
  onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) {
      if (this.connectionSendWindow + increment > MAX_WINDOW_SIZE) {
        throw new Http2ConnectionError(
          ErrorCode.FLOW_CONTROL_ERROR,
          'connection send window above 2^31-1 (RFC 9113 §6.9.1)',
        );
      }
      this.connectionSendWindow += increment;
      if (this.outgoing.dataStreamCount > 0) this.outgoing.wake();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      this.onFrameForMissingStream(streamId, FrameType.WINDOW_UPDATE, increment);
      return;
    }
    if (stream._sendWindow + increment > MAX_WINDOW_SIZE) {
      this.resetStream(
        stream,
        new Http2StreamError(
          streamId,
          ErrorCode.FLOW_CONTROL_ERROR,
          'stream send window above 2^31-1 (RFC 9113 §6.9.1)',
        ),
      );
      return;
    }
    stream._sendWindow += increment;
    if (stream._hasFrameReady) this.outgoing.addDataStream(stream);
  }

  /** @internal A stream error the decoder found in a frame. */
  onStreamError(error: Http2StreamError): void {
    const streamId = error.streamId;
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.resetStream(stream, error);
      return;
    }
    if (this.isIdleStream(streamId)) {
      // RFC 9113 §5.1: on an idle stream only HEADERS and PRIORITY may arrive; anything else (here a
      // WINDOW_UPDATE with increment 0, which the decoder reports as a stream error) is a connection
      // PROTOCOL_ERROR, and RST_STREAM must not be sent for an idle stream (§6.4).
      if (error.frameType === FrameType.WINDOW_UPDATE) {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `WINDOW_UPDATE on idle stream ${streamId} (RFC 9113 §5.1)`,
        );
      }
      // A HEADERS or PRIORITY that depends on itself: the reset stream counts as opened and reset, so
      // the header block the decoder delivers next is decoded and ignored instead of opening it.
      if (this.isPeerStreamId(streamId)) this.lastPeerStreamId = streamId;
    }
    this.resetClosedStream(streamId, error.errorCode);
  }

  // ---------------------------------------------------------------- receive helpers

  /** @internal Peer-initiated ids: odd for a server's peer, even for a client's (RFC 9113 §5.1.1). */
  protected isPeerStreamId(streamId: number): boolean {
    return (streamId & 1) === (this.role === 'server' ? 1 : 0);
  }

  /** An idle stream: never opened by either side (RFC 9113 §5.1). */
  private isIdleStream(streamId: number): boolean {
    return this.isPeerStreamId(streamId) ? streamId > this.lastPeerStreamId : streamId >= this.nextLocalStreamId;
  }

  /**
   * A frame for a stream we do not track: on an idle stream a connection PROTOCOL_ERROR (RFC 9113
   * §5.1); on a peer stream above the last id of our GOAWAY ignored (§6.8); on a closed stream the
   * answer of the closed-stream table ({@link lateFrameAnswer}). `amount` is a DATA frame's
   * flow-controlled length or a WINDOW_UPDATE's increment.
   */
  private onFrameForMissingStream(streamId: number, frameType: number, amount = 0, isEndStream = false): void {
    if (this.isIdleStream(streamId)) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `${frameTypeName(frameType)} on idle stream ${streamId} (RFC 9113 §5.1)`,
      );
    }
    const isPeerStream = this.isPeerStreamId(streamId);
    if (isPeerStream && streamId > this.goawaySentLastStreamId) return;
    const name = frameTypeName(frameType);
    switch (lateFrameAnswer(frameType, this.closedStreams.get(streamId), !isPeerStream)) {
      case LateFrameAnswer.IGNORE:
        if (!this.isLegalLateFrame(streamId, frameType, amount, isEndStream))
          this.countGlitch(`${name} on a closed stream, beyond what a peer may still send`);
        return;
      case LateFrameAnswer.IGNORE_COUNTED:
        this.countGlitch(`${name} on a closed stream`);
        return;
      case LateFrameAnswer.STREAM_ERROR:
        this.resetClosedStream(streamId, ErrorCode.STREAM_CLOSED);
        return;
      case LateFrameAnswer.CONNECTION_ERROR:
        throw new Http2ConnectionError(ErrorCode.STREAM_CLOSED, `${name} on closed stream ${streamId} (RFC 9113 §5.1)`);
      default:
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `HEADERS opening stream ${streamId} below the highest stream id ${this.lastPeerStreamId} (RFC 9113 §5.1.1)`,
        );
    }
  }

  /**
   * Whether a late frame the table ignores is within what a legal peer may still have sent
   * (see {@link ClosedStreams}): credit for our DATA, DATA its window allowed after our reset,
   * one end (trailers or an empty END_STREAM), one RST_STREAM, one PRIORITY.
   */
  private isLegalLateFrame(streamId: number, frameType: number, amount: number, isEndStream: boolean): boolean {
    const closed = this.closedStreams;
    switch (frameType) {
      case FrameType.DATA:
        // An empty DATA frame without END_STREAM was counted already (onData).
        return amount > 0 ? closed.takeData(streamId, amount) : !isEndStream || closed.takeEnd(streamId);
      case FrameType.HEADERS:
        return closed.takeEnd(streamId);
      case FrameType.WINDOW_UPDATE:
        return closed.takeWindowUpdate(streamId, amount);
      case FrameType.RST_STREAM:
        return closed.takeRstStream(streamId);
      case FrameType.PRIORITY:
        return closed.takePriority(streamId);
      default:
        return false;
    }
  }

  /** MadeYouReset (CVE-2025-8671): resets the peer makes us send are bounded like its own. */
  private countLocalReset(): void {
    this.localResets ??= new EventRateLimit(this.options.maxLocalResetsPerInterval, this.options.abuseIntervalMs);
    if (!this.localResets.take(this.now())) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `peer caused more than ${this.options.maxLocalResetsPerInterval} stream resets`,
      );
    }
  }

  private onNewPeerStream(
    streamId: number,
    fields: string[] | typeof HEADER_LIST_TOO_LARGE,
    isEndStream: boolean,
  ): void {
    this.lastPeerStreamId = streamId;
    if (streamId > this.goawaySentLastStreamId) return; // after our final GOAWAY: ignored (§6.8)
    if (this.role === 'client') {
      // A server cannot open streams without PUSH_PROMISE, which the client disabled.
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `server opened stream ${streamId} with HEADERS (RFC 9113 §8.4)`,
      );
    }
    if (fields === HEADER_LIST_TOO_LARGE) {
      this.refuseStream(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (this.activePeerStreams >= this.options.maxConcurrentStreams) {
      // RFC 9113 §5.1.2: REFUSED_STREAM tells the client it may retry.
      this.refuseStream(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    const summary = SUMMARY;
    const lastValidRequest = this.headerState().receivedRequest;
    // A request whose decoded fields are the very strings of the last valid request (repeated
    // requests decode to the same table entries) is valid too: compare, do not re-validate.
    if (!lastValidRequest.matches(fields)) {
      const violation = validateHeaderBlock(fields, HeaderBlockKind.REQUEST, false, summary);
      if (violation !== null) {
        this.refuseStream(streamId, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      lastValidRequest.remember(fields, summary);
    } else {
      summary.method = lastValidRequest.method;
      summary.contentLength = lastValidRequest.contentLength;
    }
    const stream = this.newStream(streamId, false);
    stream._expectedContentLength = summary.contentLength;
    stream._isHead = summary.method === 'HEAD';
    stream._discardsWrites = stream._isHead;
    stream._hasFinalHeaders = true;
    this.streams.set(streamId, stream);
    this.activePeerStreams++;
    if (isEndStream) stream.state = StreamState.HALF_CLOSED_REMOTE;
    publishStreamStarted(this.slot!.channel.id, streamId, 'remote');
    try {
      this.options.onStream?.(stream, fields, isEndStream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onStream');
      return;
    }
    if (isEndStream && stream.state !== StreamState.CLOSED && this.checkContentLengthAtEnd(stream))
      this.callOnEnd(stream);
  }

  /**
   * RST_STREAM for a stream that is not open — closed (a late frame with a stream error) or idle
   * (a stream error in the frame that would have opened it): from now on, what the peer sent
   * before it sees our reset is ignored, up to a window of DATA.
   */
  private resetClosedStream(streamId: number, errorCode: number): void {
    this.countLocalReset();
    this.queueRstStream(streamId, errorCode);
    this.closedStreams.markReset(streamId, this.localInitialWindowSize);
  }

  private refuseStream(streamId: number, errorCode: number): void {
    this.countLocalReset();
    this.queueRstStream(streamId, errorCode);
    // The request's body may be in flight, up to the window the stream would have had.
    this.closedStreams.add(streamId, ClosedBy.RESET_SENT, 0, 0, this.localInitialWindowSize);
  }

  private onHeadersForStream(
    stream: Http2Stream,
    fields: string[] | typeof HEADER_LIST_TOO_LARGE,
    isEndStream: boolean,
  ): void {
    const streamId = stream.id;
    if (stream.state === StreamState.HALF_CLOSED_REMOTE) {
      this.resetStream(
        stream,
        new Http2StreamError(streamId, ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM (RFC 9113 §5.1)'),
      );
      return;
    }
    if (fields === HEADER_LIST_TOO_LARGE) {
      this.resetStream(
        stream,
        new Http2StreamError(
          streamId,
          ErrorCode.REFUSED_STREAM,
          'header list larger than SETTINGS_MAX_HEADER_LIST_SIZE',
        ),
      );
      return;
    }
    const summary = SUMMARY;
    if (stream._hasFinalHeaders) {
      // Trailers: must end the stream and carry no pseudo-headers (RFC 9113 §8.1).
      const violation = isEndStream
        ? validateHeaderBlock(fields, HeaderBlockKind.TRAILERS, false, summary)
        : 'trailers without END_STREAM (RFC 9113 §8.1)';
      if (violation !== null) {
        this.resetStream(
          stream,
          new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, `malformed header block: ${violation}`),
        );
        return;
      }
      try {
        stream.handler.onTrailers?.(stream, fields);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onTrailers');
      }
      if (stream.state !== StreamState.CLOSED) this.onRemoteEnd(stream);
      return;
    }
    const violation = validateHeaderBlock(fields, HeaderBlockKind.RESPONSE, false, summary);
    if (violation !== null) {
      this.resetStream(stream, malformedHeaderError(streamId, violation));
      return;
    }
    if (summary.status < 200) {
      if (isEndStream) {
        this.resetStream(
          stream,
          new Http2StreamError(
            streamId,
            ErrorCode.PROTOCOL_ERROR,
            'informational response with END_STREAM (RFC 9113 §8.1)',
          ),
        );
        return;
      }
      try {
        stream.handler.onInformational?.(stream, fields);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onInformational');
      }
      return;
    }
    stream._hasFinalHeaders = true;
    // A response to HEAD, or 204/304, has no content whatever content-length says (RFC 9110 §8.6).
    stream._expectedContentLength =
      stream._isHead || summary.status === 204 || summary.status === 304
        ? summary.contentLength === CONTENT_LENGTH_ABSENT
          ? -1
          : 0
        : summary.contentLength;
    try {
      stream.handler.onResponse?.(stream, fields, isEndStream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onResponse');
    }
    if (isEndStream && stream.state !== StreamState.CLOSED) this.onRemoteEnd(stream);
  }

  /** The peer ended its side (END_STREAM). */
  private onRemoteEnd(stream: Http2Stream): void {
    if (!this.checkContentLengthAtEnd(stream)) return;
    if (stream.state === StreamState.OPEN) {
      stream.state = StreamState.HALF_CLOSED_REMOTE;
      this.callOnEnd(stream);
    } else if (stream.state === StreamState.HALF_CLOSED_LOCAL) {
      this.callOnEnd(stream);
      if (!stream.isClosed) this.closeStream(stream, null, ClosedBy.REMOTE_END_STREAM);
    }
  }

  private callOnEnd(stream: Http2Stream): void {
    try {
      stream.handler.onEnd?.(stream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onEnd');
    }
  }

  /** content-length must equal the body received (RFC 9113 §8.1.1); resets and returns false otherwise. */
  private checkContentLengthAtEnd(stream: Http2Stream): boolean {
    const expected = stream._expectedContentLength;
    if (expected >= 0 && expected !== stream._receivedBodyBytes) {
      this.resetStream(
        stream,
        new Http2StreamError(
          stream.id,
          ErrorCode.PROTOCOL_ERROR,
          `body of ${stream._receivedBodyBytes} bytes but content-length ${expected} (RFC 9113 §8.1.1)`,
        ),
      );
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- settings

  private sendSettings(settings: number[]): void {
    if (this.pendingLocalSettings.length >= this.options.maxPendingSettings) {
      throw new SluiceError(Http2ApiErrors.CONNECTION_CLOSED, 'too many SETTINGS waiting for ACK');
    }
    const pairs: [number, number][] = [];
    for (let i = 0; i < settings.length; i += 2) pairs.push([settings[i], settings[i + 1]]);
    const length = settingsFrameLength(pairs.length);
    const buffer = this.controlQueue.reserve(length);
    this.controlQueue.commit(
      this.encoder.writeSettings(buffer, this.controlQueue.tail, pairs) - this.controlQueue.tail,
    );
    this.pendingLocalSettings = lazyPush(this.pendingLocalSettings, settings);
    // Until the ACK, accept frames as large as either value (the peer may not have applied it).
    for (let i = 0; i < settings.length; i += 2) {
      if (settings[i] === SettingId.MAX_FRAME_SIZE && settings[i + 1] > this.decoder.maxFrameSize)
        this.decoder.maxFrameSize = settings[i + 1]!;
    }
    const slot = this.slot!;
    if (this.settingsDeadline === Infinity) {
      this.settingsDeadline = slot.channel.loop.now() + this.options.settingsTimeoutMs;
      this.armTimer(this.settingsDeadline);
    }
    this.outgoing.wake();
  }

  /** Our SETTINGS were acknowledged: apply them to what we enforce (RFC 9113 §6.5.3). */
  private applyLocalSettings(settings: number[]): void {
    for (let i = 0; i < settings.length; i += 2) {
      const value = settings[i + 1];
      switch (settings[i]) {
        case SettingId.MAX_FRAME_SIZE:
          this.decoder.maxFrameSize = value;
          break;
        case SettingId.HEADER_TABLE_SIZE:
          this.applyHpackSetting(DeferredHpackSetting.OWN_TABLE_SIZE, value);
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.applyHpackSetting(DeferredHpackSetting.OWN_HEADER_LIST_SIZE, value);
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          // RFC 9113 §6.9.2: the peer shifts every stream window by the difference when it
          // applies the setting; do the same to our receive windows (they may go negative).
          const delta = value - this.localInitialWindowSize;
          this.localInitialWindowSize = value;
          if (delta === 0) break;
          for (const stream of this.streams.values()) {
            stream._receiveWindow += delta;
            stream._windowTarget = Math.max(1, stream._windowTarget + delta);
            // Credit held back for batching under the old, larger target may now be due: with
            // nothing more arriving, nothing else would send it and the stream would stall.
            this.returnStreamCredit(stream, 0);
          }
          break;
        }
      }
    }
  }

  /** RFC 9113 §6.9.2: a new INITIAL_WINDOW_SIZE shifts every stream's send window, maybe below zero. */
  private applyPeerInitialWindowSize(value: number): void {
    const delta = value - this.peerSettings.initialWindowSize;
    this.peerSettings.initialWindowSize = value;
    if (delta === 0) return;
    for (const stream of this.streams.values()) {
      if (stream._sendWindow + delta > MAX_WINDOW_SIZE) {
        throw new Http2ConnectionError(
          ErrorCode.FLOW_CONTROL_ERROR,
          `INITIAL_WINDOW_SIZE change overflows stream ${stream.id}'s window`,
        );
      }
      stream._sendWindow += delta;
      if (delta > 0 && stream._hasFrameReady) this.outgoing.addDataStream(stream);
    }
  }

  /** @internal The peer's settings changed (the client may open waiting streams). */
  protected onPeerSettingsApplied(): void {}

  /** @internal GOAWAY arrived (the client fails its waiting streams). */
  protected onGoawayReceived(): void {}

  /** @internal A stream closed (the client may open a waiting one). */
  protected onStreamClosed(_stream: Http2Stream): void {}

  // ---------------------------------------------------------------- flow-control credit

  /** Returns connection receive credit, batching WINDOW_UPDATE (RFC 9113 §6.9). */
  private returnConnectionCredit(size: number): void {
    this.connectionUnreturnedCredit += size;
    if (this.connectionUnreturnedCredit >= this.connectionWindowTarget * this.options.windowUpdateRatio) {
      const increment = this.connectionUnreturnedCredit;
      this.connectionUnreturnedCredit = 0;
      this.connectionReceiveWindow += increment;
      this.queueWindowUpdate(0, increment);
    }
  }

  private returnStreamCredit(stream: Http2Stream, size: number): void {
    stream._unreturnedCredit += size;
    if (stream.state === StreamState.HALF_CLOSED_REMOTE || stream.state === StreamState.CLOSED) {
      stream._unreturnedCredit = 0; // the peer sends no more on it
      return;
    }
    if (stream._unreturnedCredit >= stream._windowTarget * this.options.windowUpdateRatio) {
      const increment = stream._unreturnedCredit;
      stream._unreturnedCredit = 0;
      stream._receiveWindow += increment;
      this.queueWindowUpdate(stream.id, increment);
    }
  }

  // ---------------------------------------------------------------- closing streams and the connection

  /**
   * Sends RST_STREAM for `stream` and closes it with `error` (RFC 9113 §5.4.2). Resets the
   * peer caused count toward `maxLocalResetsPerInterval`.
   */
  private resetStream(stream: Http2Stream, error: Http2StreamError, isPeerCaused = true): void {
    if (stream.state === StreamState.CLOSED) return;
    if (isPeerCaused) this.countLocalReset();
    if (stream.id !== 0) this.queueRstStream(stream.id, error.errorCode);
    this.closeStream(stream, error, ClosedBy.RESET_SENT);
  }

  /** @internal Closes a stream once: forgets it, fails its writes, tells the application. */
  protected closeStream(stream: Http2Stream, error: Http2StreamFailure | null, closedBy: ClosedBy): void {
    if (stream.state === StreamState.CLOSED) return;
    stream.state = StreamState.CLOSED;
    if (stream.id !== 0 && this.streams.delete(stream.id)) {
      this.closedStreams.add(stream.id, closedBy, stream._dataFramesSent, stream._dataBytesSent, stream._receiveWindow);
      if (this.slot !== null && isWatchingStreams()) {
        const isReset = error instanceof Http2StreamError;
        publishStreamFinished(
          this.slot.channel.id,
          stream.id,
          error === null ? 'end-stream' : isReset ? 'reset' : 'connection-closed',
          isReset ? error.errorCode : null,
        );
      }
      if (stream.isLocal) this.activeLocalStreams--;
      // A peer stream the application still works on keeps its concurrency slot until the work
      // ends, so opening and resetting streams cannot start unbounded work (Rapid Reset).
      else if (stream._concurrencyHolds === 0) this.activePeerStreams--;
      else stream._isSlotHeldAfterClose = true;
    }
    // Manual-mode credit the application still holds is released with the stream.
    if (stream._heldCredit > 0 && this.isConnectionWindowManual) this.returnConnectionCredit(stream._heldCredit);
    stream._heldCredit = 0;
    if (error !== null) stream._failWrites(error);
    try {
      stream.handler.onClose?.(stream, error);
    } catch (thrown) {
      stream._thrown ??= thrown;
    }
    if (stream._thrown !== null) {
      // Nothing left to reset: the stream is closed. Report it and go on.
      const thrown = stream._thrown;
      stream._thrown = null;
      if (log.level >= LogLevel.WARN) {
        log.log(
          LogLevel.WARN,
          'http2-stream',
          `stream ${stream.id}: a callback threw while it closed: ${describeThrown(thrown)}`,
        );
      }
    }
    this.onStreamClosed(stream);
    this.maybeFinishClosing();
  }

  private failAllStreams(error: SluiceError): void {
    for (const stream of this.streams.values()) {
      const failure =
        error instanceof Http2ConnectionError || error instanceof Http2StreamError
          ? error
          : asSluiceError(error, ChannelErrors.SHUT_DOWN);
      this.closeStream(stream, failure, ClosedBy.RESET_SENT);
    }
  }

  private rejectPendingPings(error: SluiceError): void {
    const pings = this.outstandingPings;
    this.outstandingPings = emptyList();
    for (const ping of pings) ping.callback(error, 0);
  }

  /**
   * Ends the connection with a connection error: GOAWAY with its code and the last stream we
   * processed, streams fail, the channel shuts down (RFC 9113 §5.4.1).
   */
  private failConnection(thrown: unknown): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.isReadStopped = true;
    const error =
      thrown instanceof Http2ConnectionError
        ? thrown
        : new Http2ConnectionError(ErrorCode.INTERNAL_ERROR, `internal error: ${describeThrown(thrown)}`, {
            cause: thrown,
          });
    if (log.level >= LogLevel.DEBUG)
      log.log(LogLevel.DEBUG, 'http2-connection', `connection error ${error.code}: ${error.message}`);
    if (!this.outgoing.isWritingStopped) this.queueGoaway(this.lastPeerStreamId, error.errorCode, error.message);
    this.failEverything(error, true);
    this.slot?.channel.shutdown(error);
  }

  // ---------------------------------------------------------------- control frames

  /** HEADERS (+ CONTINUATION) for `streamId`, HPACK-encoded now so the table order matches the wire order. */
  private queueHeaderBlock(streamId: number, headers: Http2Headers, isEndStream: boolean): void {
    this.queueEncodedHeaderBlock(streamId, this.headerState().encoder.encode(headers), isEndStream);
  }

  /** The header state, made (and brought up to date with deferred settings) on first use. */
  private headerState(): HeaderState {
    let state = this.headerStateValue;
    if (state !== null) return state;
    state = new HeaderState(this.options);
    this.headerStateValue = state;
    if (this.deferredPeerTableMin >= 0) {
      state.apply(DeferredHpackSetting.PEER_TABLE_SIZE, this.deferredPeerTableMin);
      state.apply(DeferredHpackSetting.PEER_TABLE_SIZE, this.deferredPeerTableLast);
    }
    if (this.deferredOwnTableMin >= 0) {
      state.apply(DeferredHpackSetting.OWN_TABLE_SIZE, this.deferredOwnTableMin);
      state.apply(DeferredHpackSetting.OWN_TABLE_SIZE, this.deferredOwnTableLast);
    }
    if (this.deferredOwnListSize >= 0) state.apply(DeferredHpackSetting.OWN_HEADER_LIST_SIZE, this.deferredOwnListSize);
    return state;
  }

  /** Applies an HPACK setting now, or keeps it for when the header state is made. */
  private applyHpackSetting(setting: DeferredHpackSetting, value: number): void {
    if (this.headerStateValue !== null) {
      this.headerStateValue.apply(setting, value);
    } else if (setting === DeferredHpackSetting.PEER_TABLE_SIZE) {
      this.deferredPeerTableMin = this.deferredPeerTableMin < 0 ? value : Math.min(this.deferredPeerTableMin, value);
      this.deferredPeerTableLast = value;
    } else if (setting === DeferredHpackSetting.OWN_TABLE_SIZE) {
      this.deferredOwnTableMin = this.deferredOwnTableMin < 0 ? value : Math.min(this.deferredOwnTableMin, value);
      this.deferredOwnTableLast = value;
    } else {
      this.deferredOwnListSize = value;
    }
  }

  private queueEncodedHeaderBlock(streamId: number, block: Uint8Array, isEndStream: boolean): void {
    const frameSize = this.encoder.maxFrameSize;
    const length = headerBlockFramesLength(block.length, frameSize);
    const queue = this.controlQueue;
    const buffer = queue.reserve(length);
    const start = queue.tail;
    const end = this.encoder.writeHeaderBlock(buffer, start, start + length, streamId, block, 0, isEndStream);
    queue.commit(end - start, Math.max(1, Math.ceil(block.length / frameSize)));
    this.outgoing.wake();
  }

  private queueRstStream(streamId: number, errorCode: number): void {
    const queue = this.controlQueue;
    const buffer = queue.reserve(RST_STREAM_FRAME_LENGTH);
    queue.commit(this.encoder.writeRstStream(buffer, queue.tail, streamId, errorCode) - queue.tail);
    this.outgoing.wake();
  }

  private queueWindowUpdate(streamId: number, increment: number): void {
    const queue = this.controlQueue;
    const buffer = queue.reserve(WINDOW_UPDATE_FRAME_LENGTH);
    queue.commit(this.encoder.writeWindowUpdate(buffer, queue.tail, streamId, increment) - queue.tail);
    this.outgoing.wake();
  }

  /** GOAWAY (RFC 9113 §6.8); `isFinal` false for the first of a graceful pair. */
  private queueGoaway(lastStreamId: number, errorCode: number, debug: string, isFinal = true): void {
    if (this.isFinalGoawayQueued) return;
    if (isFinal) {
      this.isFinalGoawayQueued = true;
      this.goawaySentLastStreamId = lastStreamId;
    }
    const debugData = Buffer.from(debug.slice(0, MAX_GOAWAY_DEBUG_LENGTH), 'utf8').subarray(0, MAX_GOAWAY_DEBUG_LENGTH);
    const queue = this.controlQueue;
    const buffer = queue.reserve(goawayFrameLength(debugData.length));
    queue.commit(this.encoder.writeGoaway(buffer, queue.tail, lastStreamId, errorCode, debugData) - queue.tail);
    this.outgoing.wake();
  }
}

/** Resolved options per options object: the connections made with one object share one copy. */
const resolvedOptions = new WeakMap<Http2ConnectionOptions, ResolvedHttp2Options>();

/** The defaults with `options` over them, made once per options object. */
function resolveOptions(options: Http2ConnectionOptions): ResolvedHttp2Options {
  let resolved = resolvedOptions.get(options);
  if (resolved === undefined) {
    resolved = Object.freeze({ ...HTTP2_CONNECTION_DEFAULTS, ...stripUndefined(options) });
    resolvedOptions.set(options, resolved);
  }
  return resolved;
}

/** Copies only the defined fields, so `undefined` never overrides a default. */
function stripUndefined<T extends object>(options: T): Partial<T> {
  const result: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) result[key] = options[key];
  return result;
}

/** HPACK setting changes a connection may have to defer; see `Http2Connection.deferredHpackSettings`. */
const enum DeferredHpackSetting {
  /** The peer's SETTINGS_HEADER_TABLE_SIZE: our encoder's table limit. */
  PEER_TABLE_SIZE,
  /** Our acknowledged SETTINGS_HEADER_TABLE_SIZE: our decoder's table limit. */
  OWN_TABLE_SIZE,
  /** Our acknowledged SETTINGS_MAX_HEADER_LIST_SIZE: our decoder's list limit. */
  OWN_HEADER_LIST_SIZE,
}

/**
 * What a connection needs once header blocks flow: both HPACK contexts (RFC 7541 §2.2) and the
 * caches that let repeated header lists skip work.
 */
class HeaderState {
  readonly encoder: HpackEncoder;
  readonly decoder: HpackDecoder;
  /** The last header list we sent, encoded. */
  readonly sentHeaders = new EncodedHeaderCache();
  /** The last request we received that passed validation. */
  readonly receivedRequest = new ValidatedRequestCache();

  constructor(options: ResolvedHttp2Options) {
    this.encoder = new HpackEncoder({ sensitiveHeaderNames: options.sensitiveHeaderNames });
    this.decoder = new HpackDecoder({ maxHeaderListSize: options.maxHeaderListSize });
  }

  apply(setting: DeferredHpackSetting, value: number): void {
    if (setting === DeferredHpackSetting.PEER_TABLE_SIZE) this.encoder.applyPeerHeaderTableSize(value);
    else if (setting === DeferredHpackSetting.OWN_TABLE_SIZE) this.decoder.setMaxTableSize(value);
    else this.decoder.setMaxHeaderListSize(value);
  }
}

/**
 * What validation learned of the header list it checked last. One serves every connection:
 * validation and the reads of its result happen in one synchronous step.
 */
const SUMMARY = new HeaderBlockSummary();

/** What the two caches hold before their first use: shared, so idle connections allocate nothing. */
const NO_FIELDS: readonly string[] = Object.freeze([]);
const NO_BLOCK = Buffer.alloc(0);

/**
 * The last header list sent whose encoding did not change the HPACK table: while the table
 * stays unchanged, sending an equal list again reuses its bytes and skips validation and
 * encoding — the common case of a server answering with constant headers. Equality is checked
 * field by field against a copy (cheap: equal strings are usually the same strings), so an
 * application that reuses and edits one array is still encoded correctly.
 */
class EncodedHeaderCache {
  private headers: readonly string[] = NO_FIELDS;
  kind = -1;
  generation = -1;
  status = -1;
  block: Buffer = NO_BLOCK;

  matches(headers: Http2Headers): boolean {
    return isSameFieldList(this.headers, headers);
  }

  remember(headers: Http2Headers, kind: number, generation: number, status: number, block: Uint8Array): void {
    this.headers = headers.slice();
    this.kind = kind;
    this.generation = generation;
    this.status = status;
    if (this.block.length !== block.length) this.block = Buffer.allocUnsafe(block.length);
    this.block.set(block);
  }
}

/** The last request header list that passed validation, with what validation learned of it. */
class ValidatedRequestCache {
  private fields: readonly string[] = NO_FIELDS;
  method = '';
  contentLength = -1;

  /** True when `fields` holds the same strings, in order. */
  matches(fields: readonly string[]): boolean {
    return this.fields.length > 0 && isSameFieldList(this.fields, fields);
  }

  remember(fields: readonly string[], summary: HeaderBlockSummary): void {
    this.fields = fields.slice();
    this.method = summary.method;
    this.contentLength = summary.contentLength;
  }
}

/**
 * Our final response headers are out. A 204 or 304 response has no content (RFC 9110 §6.4.1,
 * RFC 9113 §8.1.1): what the application writes is discarded, as for HEAD.
 */
function markFinalResponseSent(stream: Http2Stream, status: number): void {
  stream._hasSentFinalHeaders = true;
  if (status === 204 || status === 304) {
    stream._discardsWrites = true;
    if (stream._pendingBytes > 0) stream._discardQueuedWrites();
  }
}

/** A copy of `headers` without the fields named `name`. */
function withoutField(headers: Http2Headers, name: string): string[] {
  const result: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] !== name) result.push(headers[i], headers[i + 1]);
  return result;
}

/** Equal header lists, element by element (equal strings are usually the same strings: cheap). */
function isSameFieldList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What an application threw, as text, without throwing again (`String` throws on a null-prototype object). */
function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  try {
    return String(thrown);
  } catch {
    return typeof thrown;
  }
}
