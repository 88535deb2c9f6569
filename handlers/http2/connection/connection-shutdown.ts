/**
 * How a connection ends: GOAWAY in both directions, graceful close, connection errors,
 * timeouts, and the channel's shutdown of our slot.
 *
 * @module
 * @internal
 */
import { ChannelDirection, LogLevel, SluiceError, log, type ChannelSlot } from '../../../lib/index.js';
import { Http2ApiErrors, Http2ConnectionError } from '../errors.js';
import { ErrorCode, MAX_STREAM_ID, errorCodeName } from '../wire/constants.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { ConnectionTimers } from './connection-timers.js';
import type { ControlFrameWriter } from './control-frame-writer.js';
import type { OutgoingFramesTask } from './outgoing-frames-task.js';
import type { PingTracker } from './ping-tracker.js';
import { describeThrown } from '../../../lib/argument-checks.js';
import type { StreamLifecycle } from './stream-lifecycle.js';

/**
 * What shutdown needs from its connection.
 * @internal
 */
export interface ConnectionShutdownHost {
  readonly role: 'client' | 'server';
  /** Last stream id of our final GOAWAY: shutdown sets it when that GOAWAY is queued. */
  goawaySentLastStreamId: number;
  readonly options: ResolvedHttp2Options;
  readonly channelSlot: ChannelSlot | null;
  readonly outgoing: OutgoingFramesTask;
  readonly frames: ControlFrameWriter;
  readonly lifecycle: StreamLifecycle;
  /** The PINGs awaiting ACK (null until the first PING). */
  readonly pings: PingTracker | null;
  readonly timers: ConnectionTimers;
  /** Sends a PING (a server's graceful close measures one round trip). */
  ping(callback: () => void): void;
  /** Local streams wait for a concurrency slot (client). */
  hasPendingLocalStreams(): boolean;
  /** GOAWAY arrived (the client fails its waiting streams). */
  onGoawayReceived(): void;
}

/**
 * ConnectionShutdown is every way one connection ends. A graceful close (RFC 9113 §6.8) stops
 * new streams and finishes the open ones — a server first announces GOAWAY with the largest id
 * and, one PING round trip later, the real last stream. A connection error sends GOAWAY with its
 * code and fails every stream (§5.4.1). A write or keep-alive timeout closes without flushing.
 * When the channel shuts our slot's write side down, GOAWAY goes out first and the write side
 * completes once it is written.
 *
 * @internal
 */
export class ConnectionShutdown {
  /** We are closing gracefully: no new streams of ours; done when streams finish. */
  isClosing = false;
  /** Last stream id of the GOAWAY the peer sent, or -1. */
  goawayReceivedLastStreamId = -1;
  /** Frames are no longer decoded (the read side shut down, or the connection failed). */
  isReadStopped = false;
  /** The connection failed: nothing new may start. */
  hasFailed = false;
  private isFinalGoawayQueued = false;
  /** `onError` was called (it is called at most once). */
  private isFailureReported = false;
  /** A write or keep-alive timeout closes the connection without flushing anything. */
  private isClosingNow = false;
  /** The channel's shutdown of our write side, waiting for GOAWAY to be written. */
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;

  /** Shutdown of one connection. */
  constructor(private readonly host: ConnectionShutdownHost) {}

  // The connection's other parts, reached through the host: no pointer to each per connection.
  private get frames(): ControlFrameWriter {
    return this.host.frames;
  }

  private get lifecycle(): StreamLifecycle {
    return this.host.lifecycle;
  }

  /** True once GOAWAY was received or a graceful close began. */
  get isGoingAway(): boolean {
    return this.isClosing || this.goawayReceivedLastStreamId >= 0;
  }

  /** Shutdown waits for GOAWAY to be written. */
  get isWaitingForGoaway(): boolean {
    return this.writeShutdown !== null;
  }

  /** GOAWAY (RFC 9113 §6.8); `isFinal` false for the first of a graceful pair. */
  queueGoaway(lastStreamId: number, errorCode: number, debug: string, isFinal = true): void {
    if (this.isFinalGoawayQueued) return;
    if (isFinal) {
      this.isFinalGoawayQueued = true;
      this.host.goawaySentLastStreamId = lastStreamId;
    }
    this.frames.goaway(lastStreamId, errorCode, debug);
  }

  /** Begins a graceful close (see {@link ConnectionShutdown}); resolves when the channel has shut down. */
  close(): Promise<SluiceError | null> {
    const slot = this.host.channelSlot;
    if (slot === null) return Promise.resolve(null);
    if (!this.isClosing && !slot.channel.isShuttingDown) {
      this.isClosing = true;
      if (this.host.role === 'server') {
        this.queueGoaway(MAX_STREAM_ID, ErrorCode.NO_ERROR, '', false);
        this.host.ping(() => this.sendFinalGoaway());
        // A peer that never answers (silent, or not speaking HTTP/2 at all) must not hold the
        // close open: after the wait the final GOAWAY goes anyway. Streams the peer opens later
        // are above its last stream id, so the peer knows to send them elsewhere.
        this.host.timers.startClosePingWait(slot.channel.loop.now());
      } else {
        this.sendFinalGoaway();
      }
    }
    return slot.channel.whenShutdown;
  }

  /** The final GOAWAY of a graceful close, with the last stream the peer opened. */
  sendFinalGoaway(): void {
    const slot = this.host.channelSlot;
    if (this.isFinalGoawayQueued || slot === null || slot.channel.isShuttingDown) return;
    this.queueGoaway(this.lifecycle.lastPeerStreamId, ErrorCode.NO_ERROR, '');
    this.maybeFinishClosing();
  }

  /** Shuts the channel down once a graceful close (or the peer's GOAWAY) has no streams left. */
  maybeFinishClosing(): void {
    const slot = this.host.channelSlot;
    if (slot === null || this.lifecycle.streams.size > 0 || this.host.hasPendingLocalStreams()) return;
    if ((this.isClosing && this.isFinalGoawayQueued) || this.goawayReceivedLastStreamId >= 0)
      slot.channel.shutdown(null);
  }

  /** The peer's GOAWAY (RFC 9113 §6.8). */
  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void {
    const previous = this.goawayReceivedLastStreamId;
    this.goawayReceivedLastStreamId = previous < 0 ? lastStreamId : Math.min(previous, lastStreamId);
    const debug = Buffer.from(debugData.subarray(start, end));
    // Observers hear of the GOAWAY before the refused streams fail, so a retry of one of them
    // (the SDK's stream manager resends at once) never picks this connection again.
    this.host.options.onGoaway?.(lastStreamId, errorCode, debug);
    this.host.onGoawayReceived();
    this.lifecycle.refuseAbove(this.goawayReceivedLastStreamId, lastStreamId);
    if (errorCode !== ErrorCode.NO_ERROR) {
      // RFC 9113 §5.4.1: GOAWAY with an error code ends the connection. The peer should close
      // it, but one that does not (node:http2 after a COMPRESSION_ERROR) must not leave the
      // streams at or below its last id waiting forever. Our GOAWAY does not echo its error.
      this.queueGoaway(this.lifecycle.lastPeerStreamId, ErrorCode.NO_ERROR, '');
      const detail = debug.length > 0 ? `: ${debug.toString('latin1')}` : '';
      this.failConnection(
        new Http2ConnectionError(errorCode, `the peer sent GOAWAY(${errorCodeName(errorCode)})${detail}`),
      );
      return;
    }
    this.maybeFinishClosing();
  }

  /**
   * Ends the connection with a connection error: GOAWAY with its code and the last stream we
   * processed, streams fail, the channel shuts down (RFC 9113 §5.4.1). Anything else thrown is
   * an INTERNAL_ERROR.
   */
  failConnection(thrown: unknown): void {
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
    if (!this.host.outgoing.isWritingStopped)
      this.queueGoaway(this.lifecycle.lastPeerStreamId, error.errorCode, error.message);
    this.failEverything(error, true);
    this.host.channelSlot?.channel.shutdown(error);
  }

  /** A write or keep-alive timeout: fail everything and close without flushing. */
  timeOut(slot: ChannelSlot, error: SluiceError): void {
    this.host.outgoing.isWritingStopped = true;
    this.hasFailed = true;
    this.failEverything(error, true);
    this.closeNow(slot, error);
  }

  /**
   * The peer missed a deadline of ours (too slow, or silent): streams fail with `error` and the
   * channel shuts down with it. When our writes still drain (`canWriteGoaway`: only flow-control
   * windows held our DATA) GOAWAY(ENHANCE_YOUR_CALM) goes first; otherwise nothing more can be
   * written and the connection closes at once, as on a write timeout.
   */
  cutSlowPeer(slot: ChannelSlot, error: SluiceError, canWriteGoaway: boolean): void {
    if (!canWriteGoaway) {
      this.timeOut(slot, error);
      return;
    }
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.isReadStopped = true;
    if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'http2-connection', `${error.code}: ${error.message}`);
    this.queueGoaway(this.lifecycle.lastPeerStreamId, ErrorCode.ENHANCE_YOUR_CALM, error.message);
    this.failEverything(error, true);
    slot.channel.shutdown(error);
  }

  /**
   * The channel shuts our write side down: stop DATA, fail open streams, send GOAWAY (unless one
   * is out) and finish once it is written; with `free`, stop at once.
   */
  shutdownWrite(slot: ChannelSlot, error: SluiceError | null, free: boolean): void {
    const outgoing = this.host.outgoing;
    this.failEverything(error ?? new SluiceError(Http2ApiErrors.CONNECTION_CLOSED), false);
    if (free || outgoing.isWritingStopped) {
      outgoing.isWritingStopped = true;
      this.frames.clear();
      // After a write or keep-alive timeout nothing will flush: the socket must close, not wait.
      slot.onHandlerShutdownComplete(ChannelDirection.WRITE, error, free || this.isClosingNow);
      return;
    }
    if (!this.isFinalGoawayQueued) {
      const code =
        error instanceof Http2ConnectionError
          ? error.errorCode
          : error === null
            ? ErrorCode.NO_ERROR
            : ErrorCode.INTERNAL_ERROR;
      this.queueGoaway(this.lifecycle.lastPeerStreamId, code, error?.message ?? '');
    }
    this.writeShutdown = { error, free };
    outgoing.wake();
  }

  /** The task wrote everything: complete a write shutdown that waited for GOAWAY. */
  finishWriteShutdown(): void {
    const request = this.writeShutdown;
    const slot = this.host.channelSlot;
    const outgoing = this.host.outgoing;
    if (request === null || slot === null || slot.isWriteShutDown || outgoing.hasMessageInFlight) return;
    this.writeShutdown = null;
    outgoing.isWritingStopped = true;
    slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error, request.free);
  }

  /** A write failed or could not be sent. */
  onWriteFailed(error: SluiceError): void {
    const slot = this.host.channelSlot;
    this.host.outgoing.isWritingStopped = true;
    this.frames.clear();
    if (this.writeShutdown !== null) {
      this.failEverything(error, false);
      const request = this.writeShutdown;
      this.writeShutdown = null;
      if (slot !== null && !slot.isWriteShutDown) {
        slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error ?? error, request.free);
      }
      return;
    }
    this.hasFailed = true;
    this.failEverything(error, true);
    slot?.channel.shutdown(error);
  }

  /**
   * Fails every open stream and pending ping with `error` and, when `isReported`, tells
   * `onError` — once per connection: a failure that follows another (a write failing on a socket
   * a timeout destroyed, a GOAWAY the peer never read) is a consequence, not a second error.
   */
  private failEverything(error: SluiceError, isReported: boolean): void {
    this.lifecycle.failAll(error);
    this.host.pings?.rejectAll(error);
    if (!isReported || this.isFailureReported) return;
    this.isFailureReported = true;
    this.host.options.onError?.(error);
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
    this.frames.clear();
    if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(ChannelDirection.WRITE, pending.error ?? error, true);
  }
}
