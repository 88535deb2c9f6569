/**
 * The socket handler: the first slot of a channel, over a `net.Socket`.
 *
 * @module
 */
/* eslint-disable @typescript-eslint/unbound-method -- the socket listeners are static functions whose `this` is the
   socket itself (one shared function for every socket instead of closures per socket): unbound by design. */
import type { Socket } from 'node:net';
import {
  ChannelDirection,
  ChannelErrors,
  IoErrors,
  SluiceError,
  log,
  LogLevel,
  CLOSE_FLUSH_TIMEOUT_MS,
  type ChannelHandler,
  type ChannelSlot,
  type HandlerStatistics,
  type IoMessage,
  type TransportHandlerFactory,
  type TransportOptions,
} from '../../lib/index.js';
import { PendingWrites } from '../../lib/pending-writes.js';
import { WriteProgressDeadline } from '../../lib/write-progress.js';
import { ReadQueue, deliverChunk } from '../../lib/read-queue.js';
import { fromNodeSocketError } from '../../lib/socket-errors.js';
import { checkArgument } from '../../lib/argument-checks.js';
import { withFlag } from '../../lib/field-layout.js';

/** Counters a {@link SocketHandler} reports each statistics interval. */
export interface SocketStatistics extends HandlerStatistics {
  /** Always `socket`. */
  readonly category: 'socket';
  /** Bytes read from the socket in the interval. */
  readonly bytesRead: number;
  /** Bytes written to the socket in the interval. */
  readonly bytesWritten: number;
  /** Writes waiting for Node to report them done. */
  readonly writesInFlight: number;
}

/** Options of a {@link SocketHandler}. */
export interface SocketHandlerOptions {
  /**
   * A write the peer does not take for this many ms — no write completes while one waits, or a
   * graceful close cannot flush — fails the writes with `IO_WRITE_TIMEOUT` and closes the socket;
   * 0 or absent: no limit. The bootstrap passes `socketOptions.writeTimeoutMs`.
   */
  writeTimeoutMs?: number;
  /**
   * Without a `writeTimeoutMs`: a graceful close whose flush makes no progress for this many ms
   * (the peer takes none of our data) destroys the socket and ends with `IO_WRITE_TIMEOUT`.
   * Default {@link CLOSE_FLUSH_TIMEOUT_MS} (30 s); 0: no limit.
   */
  closeFlushTimeoutMs?: number;
}

/**
 * After a graceful close has sent our FIN, how long the socket keeps reading (and dropping) what
 * the peer still sends before it is destroyed, ms. Closing a socket with unread input makes the
 * kernel answer with RST, which throws away our own data still in flight — the GOAWAY and last
 * DATA frames the peer was about to read. Go's HTTP/2 server waits one second for the same
 * reason (nginx calls it lingering close); a peer that closes its side ends the wait at once.
 */
export const SOCKET_LINGER_MS = 1000;

/** The property of a socket that names the handler owning it. */
const HANDLER: unique symbol = Symbol('sluice.socketHandler');
/** A socket as the handler's shared listeners see it. */
type OwnedSocket = Socket & { [HANDLER]?: SocketHandler };

// The bits of SocketHandler.flags.
const READING = 1;
const PAUSED = 2;
const READ_SHUT_DOWN = 4;
const WRITE_SHUTTING_DOWN = 8;
const SOCKET_CLOSED = 16;
const PEER_ENDED = 32;
const LINGERING = 64;

/** A graceful write shutdown waiting for the socket to flush. */
interface PendingWriteShutdown {
  readonly slot: ChannelSlot;
  readonly error: SluiceError | null;
  readonly free: boolean;
}

/**
 * What a socket handler needs only once its connection goes wrong or closes: one object made
 * then, instead of fields every idle connection carries for life.
 */
class SocketClosing {
  /** The graceful write shutdown waiting for the flush (null: none waits). */
  pendingWriteShutdown: PendingWriteShutdown | null = null;
  /** The write timeout fired: why the shutdown ends (null until then). */
  writeTimeoutError: SluiceError | null = null;
}

/**
 * SocketHandler connects a channel to a `net.Socket` (or any socket-like duplex with the same
 * events, such as a `tls.TLSSocket`).
 *
 * Reads: bytes become pooled messages sent right, never more than the read window of the slot
 * to its right; at a zero window the socket is paused and resumed when the window opens.
 * Reading starts when `triggerRead()` is called (the bootstrap does it after setup).
 *
 * Writes: each message is handed to `socket.write`; its `onCompletion` fires when Node reports
 * the write done (or failed), then the message returns to the pool.
 *
 * Shutdown: graceful write shutdown ends the socket after pending writes are flushed, then
 * lingers — reads and drops — until the peer's FIN or {@link SOCKET_LINGER_MS}, so that unread
 * input does not make the kernel reset the connection over our last bytes;
 * `freeScarceResourcesImmediately` destroys it and fails pending writes. With a `writeTimeoutMs`,
 * a peer that stops taking our writes — while the channel runs, or while a graceful close waits
 * to flush (a TLS close_notify included) — fails them with `IO_WRITE_TIMEOUT` and the socket is
 * destroyed, so the shutdown ends in bounded time. A peer close shuts the
 * channel down with `IO_SOCKET_CLOSED`; Node errors map to stable codes (ECONNRESET →
 * `IO_CONNECTION_RESET`, EPIPE → `IO_BROKEN_PIPE`, …).
 */
export class SocketHandler implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private readonly inFlight = new PendingWrites();
  /**
   * Bytes read that wait for the window to the right; made the first time a read does not go
   * right whole (a read the window takes goes straight on), and kept once made. Most connections
   * are never held back by their window, and a server holds thousands of them.
   */
  private pendingReads: ReadQueue | null = null;
  /**
   * Seven booleans as bits of one small integer (read and written through the accessors below):
   * a boolean field costs every connection 8 octets, a bit costs none.
   */
  private flags = 0;
  /** Made when a graceful close waits or a write times out (see {@link SocketClosing}). */
  private closing: SocketClosing | null = null;
  private bytesRead = 0;
  private bytesWritten = 0;
  /**
   * The write deadline: from `writeTimeoutMs` (null without one, the default), or made by a
   * graceful close from `closeFlushTimeoutMs`.
   */
  private writeDeadline: WriteProgressDeadline | null;
  private readonly closeFlushTimeoutMs: number;
  // One set of socket listeners serves every handler: Node calls a listener with the socket as
  // `this`, and the socket names its handler. No closures per connection.
  private static onData(this: OwnedSocket, chunk: Buffer): void {
    this[HANDLER]?.handleData(chunk);
  }
  private static onEnd(this: OwnedSocket): void {
    this[HANDLER]?.handleEnd();
  }
  private static onError(this: OwnedSocket, error: Error): void {
    this[HANDLER]?.handleError(error);
  }
  private static onClose(this: OwnedSocket): void {
    this[HANDLER]?.handleClose();
  }
  /** Lingering: what the peer still sends is read and dropped. */
  private static dropData(): void {}
  /** Lingering: the peer closed its side too, so the socket may close without RST. */
  private static endLinger(this: Socket): void {
    this.destroy();
  }
  /**
   * The callback of every `socket.write`: one per handler, not one per write. A bound method, not
   * an arrow: the arrow would hold a context of its own besides (Node calls it with no `this`).
   */
  private readonly onWriteDone: (error?: Error | null) => void = this.completeOldestWrite.bind(this);

  /**
   * Wraps a connected socket. The handler owns it from now on and destroys it on shutdown.
   * Throws `IO_INVALID_OPTIONS` for a `writeTimeoutMs` that is not a number of ms, 0 or more.
   */
  constructor(
    /** The Node socket (owned by the handler). */
    readonly socket: Socket,
    options: SocketHandlerOptions = {},
  ) {
    checkArgument(
      typeof (socket as Partial<Socket> | null)?.on === 'function',
      'new SocketHandler(socket)',
      'socket is a connected net.Socket',
      socket,
    );
    const writeTimeoutMs = options.writeTimeoutMs ?? 0;
    checkArgument(
      typeof writeTimeoutMs === 'number' && Number.isFinite(writeTimeoutMs) && writeTimeoutMs >= 0,
      'new SocketHandler(socket, options)',
      'writeTimeoutMs is a number of ms, 0 or more',
      writeTimeoutMs,
    );
    this.writeDeadline = writeTimeoutMs > 0 ? new WriteProgressDeadline(this, writeTimeoutMs) : null;
    const closeFlushTimeoutMs = options.closeFlushTimeoutMs ?? CLOSE_FLUSH_TIMEOUT_MS;
    checkArgument(
      typeof closeFlushTimeoutMs === 'number' && Number.isFinite(closeFlushTimeoutMs) && closeFlushTimeoutMs >= 0,
      'new SocketHandler(socket, options)',
      'closeFlushTimeoutMs is a number of ms, 0 or more',
      closeFlushTimeoutMs,
    );
    this.closeFlushTimeoutMs = closeFlushTimeoutMs;
    (socket as OwnedSocket)[HANDLER] = this;
    socket.on('error', SocketHandler.onError);
    socket.on('end', SocketHandler.onEnd);
    socket.on('close', SocketHandler.onClose);
    if (socket.destroyed) this.isSocketClosed = true;
  }

  private get isReading(): boolean {
    return (this.flags & READING) !== 0;
  }

  private set isReading(value: boolean) {
    this.flags = withFlag(this.flags, READING, value);
  }

  /** The socket was paused because reads wait for the window. */
  private get isPaused(): boolean {
    return (this.flags & PAUSED) !== 0;
  }

  private set isPaused(value: boolean) {
    this.flags = withFlag(this.flags, PAUSED, value);
  }

  private get isReadShutDown(): boolean {
    return (this.flags & READ_SHUT_DOWN) !== 0;
  }

  private set isReadShutDown(value: boolean) {
    this.flags = withFlag(this.flags, READ_SHUT_DOWN, value);
  }

  private get isWriteShuttingDown(): boolean {
    return (this.flags & WRITE_SHUTTING_DOWN) !== 0;
  }

  private set isWriteShuttingDown(value: boolean) {
    this.flags = withFlag(this.flags, WRITE_SHUTTING_DOWN, value);
  }

  private get isSocketClosed(): boolean {
    return (this.flags & SOCKET_CLOSED) !== 0;
  }

  private set isSocketClosed(value: boolean) {
    this.flags = withFlag(this.flags, SOCKET_CLOSED, value);
  }

  /** The peer ended its side (FIN). */
  private get hasPeerEnded(): boolean {
    return (this.flags & PEER_ENDED) !== 0;
  }

  private set hasPeerEnded(value: boolean) {
    this.flags = withFlag(this.flags, PEER_ENDED, value);
  }

  /** After a graceful close, the socket reads and drops until the peer's FIN (see `linger`). */
  private get isLingering(): boolean {
    return (this.flags & LINGERING) !== 0;
  }

  private set isLingering(value: boolean) {
    this.flags = withFlag(this.flags, LINGERING, value);
  }

  /** Bytes read wait for the window to the right. */
  private get hasPendingReads(): boolean {
    return this.pendingReads !== null && !this.pendingReads.isEmpty;
  }

  /** Remembers the slot. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.writeDeadline?.attach(slot.channel);
  }

  /** Starts reading (once). */
  triggerRead(): void {
    if (this.isReading || this.isReadShutDown) return;
    this.isReading = true;
    this.socket.on('data', SocketHandler.onData);
  }

  /** Nothing is left of the socket; a read arriving here is a wiring error. */
  processReadMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the socket handler must be the first slot');
  }

  /** Writes the message to the socket; completion fires when Node reports it written. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    if (this.isWriteShuttingDown || this.isSocketClosed) {
      throw new SluiceError(ChannelErrors.SLOT_SHUT_DOWN, 'the socket is closed for writing');
    }
    const length = message.length;
    const data = message.data;
    // Writes start waiting: the deadline counts from now (not per write: only when none waited).
    if (this.writeDeadline !== null && this.inFlight.size === 0) this.writeDeadline.onProgress();
    this.inFlight.push(message);
    this.bytesWritten += length;
    // One view per write at most; a full message goes as it is.
    this.socket.write(length === data.length ? data : data.subarray(0, length), this.onWriteDone);
  }

  /** The window to the right opened: deliver what waits, resume the socket. */
  incrementReadWindow(): void {
    this.deliverPendingReads();
  }

  /** See {@link SocketHandler}. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isReadShutDown = true;
      this.pendingReads?.clear();
      if (this.isReading) this.socket.off('data', SocketHandler.onData);
      this.socket.pause();
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.isWriteShuttingDown = true;
    if (free || this.isSocketClosed || this.socket.destroyed) {
      this.socket.destroy();
      this.isSocketClosed = true;
      this.failInFlightWrites(error ?? new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
      slot.onHandlerShutdownComplete(direction, error ?? this.writeTimeoutError, free);
      return;
    }
    // Graceful: FIN after everything queued is flushed, then close. A socket that closes
    // first (peer reset) finishes the shutdown from the 'close' event instead.
    (this.closing ??= new SocketClosing()).pendingWriteShutdown = { slot, error, free };
    if (this.writeDeadline === null && this.closeFlushTimeoutMs > 0) {
      // No write deadline while open (a client's default): the close's flush still gets one.
      this.writeDeadline = new WriteProgressDeadline(this, this.closeFlushTimeoutMs);
      this.writeDeadline.attach(slot.channel);
      this.writeDeadline.onProgress();
    } else if (this.writeDeadline !== null && this.inFlight.size === 0) this.writeDeadline.onProgress();
    this.socket.end(() => this.finishWriteShutdown());
  }

  private finishWriteShutdown(): void {
    const request = this.pendingWriteShutdown;
    if (request === null) return;
    this.closing!.pendingWriteShutdown = null;
    this.linger();
    this.isSocketClosed = true;
    this.failInFlightWrites(request.error ?? new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL));
    if (!request.slot.isWriteShutDown)
      request.slot.onHandlerShutdownComplete(
        ChannelDirection.WRITE,
        request.error ?? this.writeTimeoutError,
        request.free || this.writeTimeoutError !== null,
      );
  }

  /** The graceful write shutdown waiting for the flush, if one waits. */
  private get pendingWriteShutdown(): PendingWriteShutdown | null {
    return this.closing?.pendingWriteShutdown ?? null;
  }

  /** The write timeout fired: why the shutdown ends (null until then). */
  private get writeTimeoutError(): SluiceError | null {
    return this.closing?.writeTimeoutError ?? null;
  }

  /** @internal A write (or a graceful close's flush) waits for the peer. */
  get isWaitingForWrite(): boolean {
    return (this.inFlight.size > 0 || this.pendingWriteShutdown !== null) && !this.isSocketClosed;
  }

  /**
   * @internal Nothing moved for `writeTimeoutMs`: the waiting writes fail with `IO_WRITE_TIMEOUT`
   * and the socket is destroyed. A channel still running shuts down with that error; one already
   * shutting down (a graceful close that cannot flush) finishes from the socket's 'close'.
   */
  onWriteTimeout(): void {
    const error = new SluiceError(
      IoErrors.WRITE_TIMEOUT,
      `no write made progress for ${this.writeDeadline?.timeoutMs ?? 0} ms: the peer does not read`,
    );
    (this.closing ??= new SocketClosing()).writeTimeoutError = error;
    if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'socket', error.message);
    this.failInFlightWrites(error);
    this.slot?.channel.shutdown(error, true);
    this.socket.destroy();
  }

  /** Reads arrive as fast as the socket gives them. */
  initialWindowSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** Nothing is added to writes. */
  messageOverhead(): number {
    return 0;
  }

  /** Bytes read and written in the interval. */
  gatherStatistics(): SocketStatistics {
    return {
      category: 'socket',
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      writesInFlight: this.inFlight.size,
    };
  }

  /** Zeroes the byte counters. */
  resetStatistics(): void {
    this.bytesRead = 0;
    this.bytesWritten = 0;
  }

  /**
   * Our FIN is out: unless the peer already ended its side (or the socket is gone), keep reading
   * and dropping until the peer's FIN or {@link SOCKET_LINGER_MS}, then destroy. The socket no
   * longer belongs to the channel: its handler's listeners go, so the channel finishes now.
   */
  private linger(): void {
    const socket = this.socket;
    (socket as OwnedSocket)[HANDLER] = undefined;
    socket.off('data', SocketHandler.onData);
    socket.off('end', SocketHandler.onEnd);
    socket.off('close', SocketHandler.onClose);
    if (this.hasPeerEnded || this.isSocketClosed || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.isLingering = true;
    socket.on('data', SocketHandler.dropData);
    socket.once('end', SocketHandler.endLinger);
    socket.resume();
    // A timer of its own, not the loop's: the channel is gone. The socket itself stays ref'd:
    // a process that exits while it lingers closes it with unread input, and the kernel's RST
    // throws away the bytes still in flight — the very loss lingering prevents (Go's client saw
    // responses cut on `sluice serve`'s exit). So an exit waits for the peer's FIN, or the linger.
    setTimeout(SocketHandler.endLinger.bind(socket), SOCKET_LINGER_MS).unref();
  }

  /** Destroys the socket (unless it lingers after a graceful close) and drops listeners. */
  destroy(): void {
    this.writeDeadline?.stop();
    this.socket.off('data', SocketHandler.onData);
    this.socket.off('end', SocketHandler.onEnd);
    this.socket.off('close', SocketHandler.onClose);
    if (!this.isLingering) this.socket.destroy();
    // Keep an error listener: a late error on a destroyed socket must not become uncaught.
    this.failInFlightWrites(new SluiceError(ChannelErrors.SHUT_DOWN));
  }

  private handleData(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    const slot = this.slot;
    if (slot === null) {
      this.queueRead(chunk);
      return;
    }
    const loop = slot.channel.loop;
    // What the read schedules (the HTTP/2 response, say) runs as soon as this callback ends.
    loop.beginIoCallback();
    try {
      if (this.isReadShutDown || this.hasPendingReads) {
        this.queueRead(chunk);
        this.deliverPendingReads();
      } else {
        // Nothing waits: the read goes right as it is, and only what the window holds back waits.
        const sent = deliverChunk(slot, chunk);
        if (sent < 0) return;
        if (sent < chunk.length) this.queueRead(sent === 0 ? chunk : chunk.subarray(sent));
        this.afterDelivery(slot);
      }
    } finally {
      loop.endIoCallback();
    }
  }

  private queueRead(chunk: Buffer): void {
    (this.pendingReads ??= new ReadQueue()).push(chunk);
  }

  private deliverPendingReads(): void {
    const slot = this.slot;
    if (slot === null || this.isReadShutDown) return;
    if (this.pendingReads !== null && this.pendingReads.deliver(slot) < 0) return;
    this.afterDelivery(slot);
  }

  /**
   * After a delivery: the socket pauses while reads wait for the window; once none wait, a peer
   * FIN shuts the channel down, or else a paused socket resumes.
   */
  private afterDelivery(slot: ChannelSlot): void {
    const channel = slot.channel;
    if (this.hasPendingReads) {
      if (!this.isPaused) {
        this.isPaused = true;
        this.socket.pause();
      }
    } else if (this.hasPeerEnded) {
      channel.shutdown(new SluiceError(IoErrors.SOCKET_CLOSED));
    } else if (this.isPaused) {
      this.isPaused = false;
      this.socket.resume();
    }
  }

  private handleEnd(): void {
    this.hasPeerEnded = true;
    // Buffered bytes still go to the application before the channel shuts down.
    if (!this.hasPendingReads) this.slot?.channel.shutdown(new SluiceError(IoErrors.SOCKET_CLOSED));
  }

  private handleError(error: Error): void {
    const failure = fromNodeSocketError(error);
    if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'socket', `socket error: ${failure.message}`);
    this.slot?.channel.shutdown(failure);
  }

  private handleClose(): void {
    this.isSocketClosed = true;
    const channel = this.slot?.channel;
    // After a peer FIN, bytes still waiting for a window are delivered before shutdown.
    if (channel !== undefined && (!this.hasPeerEnded || !this.hasPendingReads)) {
      channel.shutdown(new SluiceError(IoErrors.SOCKET_CLOSED));
    }
    this.failInFlightWrites(channel?.shutdownError ?? new SluiceError(IoErrors.SOCKET_CLOSED));
    this.finishWriteShutdown();
  }

  /** A write finished: Node passes null or nothing when it was written. */
  private completeOldestWrite(error?: Error | null): void {
    const failure = error === undefined || error === null ? null : fromNodeSocketError(error);
    if (!this.inFlight.completeOldest(this.slot?.channel ?? null, failure)) return;
    if (failure !== null) this.slot?.channel.shutdown(failure);
    // Progress: the next write waiting has a whole deadline from now.
    else if (this.writeDeadline !== null && this.inFlight.size > 0) this.writeDeadline.onProgress();
  }

  private failInFlightWrites(error: SluiceError): void {
    this.inFlight.failAll(this.slot?.channel ?? null, error);
  }
}

/**
 * The transport factory that makes a {@link SocketHandler} for each connected socket, with the
 * bootstrap's `socketOptions.writeTimeoutMs`.
 */
export const socketTransport: TransportHandlerFactory = (socket: Socket, options?: TransportOptions) =>
  new SocketHandler(socket, options);
