/**
 * The WebSocket connection handler: RFC 6455 (and RFC 7692) in a channel slot once the opening
 * handshake is done.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  IoErrors,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import { CloseCode, Opcode, type DataOpcode } from '../wire/constants.js';
import { perMessageDeflateSide } from '../wire/deflate-negotiation.js';
import { WebSocketFrameDecoder, type WebSocketFrameListener, type WebSocketRole } from '../wire/frame-decoder.js';
import { WebSocketFrameEncoder } from '../wire/frame-encoder.js';
import { PerMessageDeflater, PerMessageInflater } from '../wire/permessage-deflate.js';
import { isValidUtf8 } from '../wire/utf8-validator.js';
import {
  WebSocketConnectionErrors,
  WebSocketEncodeErrors,
  WebSocketProtocolError,
  WebSocketProtocolErrors,
} from '../errors.js';
import { WEBSOCKET_CONNECTION_DEFAULTS, type WebSocketConnectionOptions } from './connection-options.js';
import type { WebSocketConnectionListener } from './connection-listener.js';
import { WebSocketOutgoingTask } from './outgoing-task.js';
import { MAX_FRAME_HEADER, WebSocketSendQueue, type WebSocketSendCallback } from './send-queue.js';

export type { WebSocketSendCallback } from './send-queue.js';

/** Where the close handshake stands (RFC 6455 §7). */
export type WebSocketConnectionState = 'open' | 'closing' | 'closed';

/** One incoming event waiting for its turn (a message being inflated holds the ones behind it). */
interface IncomingEvent {
  isClose: boolean;
  isText: boolean;
  isCompressed: boolean;
  isReady: boolean;
  data: Buffer;
  code: number;
  reason: string;
}

const EMPTY = Buffer.alloc(0);
/** Queued Pings beyond this throw (a Ping is ≤ 125 bytes; the bound keeps a loop from growing memory). */
const MAX_QUEUED_PINGS = 16;

function positive(name: string, value: number | undefined, fallback: number, low: number): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'number' || !Number.isSafeInteger(chosen) || chosen < low) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      `WebSocketConnection ${name}: a whole number ≥ ${low}`,
    );
  }
  return chosen;
}

/** The largest message buffer made before its bytes have come (see `startsAssembly`). */
const MAX_PREALLOCATED_MESSAGE = 1024 * 1024;

/**
 * WebSocketConnection is the {@link ChannelHandler} that speaks WebSocket in a slot after the
 * opening handshake (an HTTP/1.1 upgrade replaced the HTTP handler with it, or an RFC 8441
 * stream adapter sits to its left). Nothing may be written through it from its right: it is the
 * protocol's end, and the application talks to it through {@link WebSocketConnection.send},
 * {@link WebSocketConnection.ping}, {@link WebSocketConnection.close} and its
 * {@link WebSocketConnectionListener}.
 *
 * - **Reading**: frames are decoded as they arrive (split anywhere); whole messages are delivered
 *   to `onMessage` (at most `maxMessageSize`, 1009 beyond); compressed ones are inflated on the
 *   thread pool in order, and a message being inflated holds back what follows it. A Ping is
 *   answered with a Pong at once.
 * - **Read back-pressure**: read credit goes back to the socket only while every complete message
 *   has been consumed; so at most one partial message plus the read window is ever held.
 * - **Writing**: one outgoing task, one pooled message in flight; Pong and Ping first, then data
 *   (large messages as fragments sized to the pooled message), then a Close after the data queued
 *   before it. `send` returns false at the high-water mark and `onDrain` follows.
 * - **Closing** (RFC 6455 §7): see `docs/websocket.md`. 1005 and 1006 are reported, never sent.
 *
 * All methods run on the channel's loop; callbacks are called from channel tasks.
 */
export class WebSocketConnection implements ChannelHandler {
  // Also its outgoing task's host, by shape (checked where the task is created): those members
  // are @internal, so the published types must not name the interface.
  /** Which side this endpoint is. */
  readonly role: WebSocketRole;
  /** Whether permessage-deflate is in use. */
  readonly isPerMessageDeflate: boolean;
  private listener: WebSocketConnectionListener;
  private slot: ChannelSlot | null = null;
  private readonly decoder: WebSocketFrameDecoder;
  private readonly encoder: WebSocketFrameEncoder;
  private readonly deflater: PerMessageDeflater | null;
  private readonly inflater: PerMessageInflater | null;
  private readonly outgoing: WebSocketOutgoingTask;
  private readonly maxMessageSize: number;
  private readonly readWindowSize: number;
  private readonly highWaterMark: number;
  private readonly closeTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly compressionThreshold: number;
  private readonly isManualWindow: boolean;
  private handedOver: Buffer | null;

  // Reading.
  private readonly pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** A one-frame message arriving in several reads, gathered into its final buffer (one copy). */
  private assembly: Buffer | null = null;
  private assemblyAt = 0;
  /** The same for an `onMessageView` listener, in a pooled message: released once delivered. */
  private pooledAssembly: IoMessage | null = null;
  private readonly incoming: IncomingEvent[] = [];
  private isInflating = false;
  private unconsumedMessages = 0;
  private owedCredit = 0;
  private isReadStopped = false;

  // Writing.
  private readonly sendQueue: WebSocketSendQueue;
  /**
   * Frames `sendCopy` wrote straight into a pooled message, whole, ahead of everything queued
   * (only while the queue is empty), for the next write: the payload is copied once.
   */
  private staged: IoMessage | null = null;
  /** Payload bytes in `staged` (they count as buffered). */
  private stagedBytes = 0;
  private needsDrain = false;
  private pendingPong: Buffer | null = null;
  private readonly pendingPings: Buffer[] = [];
  private closeToSend: { code: number | undefined; reason: string } | null = null;
  /** The Close goes before queued data (failing the connection), not after it. */
  private isCloseUrgent = false;
  private isCloseInFlight = false;
  private isCloseWritten = false;

  // Closing.
  private _state: WebSocketConnectionState = 'open';
  private peerCloseCode = 0;
  private peerCloseReason = '';
  private isCloseReceived = false;
  private failure: SluiceError | null = null;
  private isShutDown = false;
  private isReported = false;
  private writeShutdown: { error: SluiceError | null; free: boolean } | null = null;
  /** The READ shutdown, held while messages that arrived whole are still being inflated. */
  private readShutdown: { error: SluiceError | null; free: boolean } | null = null;
  // Tasks are made by their first use: an idle connection without keep-alive holds none of them.
  private closeTimerTask: Task | null = null;
  /** Outgoing messages written so far, and that count when the close timer was last armed. */
  private writesCompleted = 0;
  private writesAtCloseTimer = 0;
  private pingTask: Task | null = null;
  private pongTimeoutTask: Task | null = null;
  private inflateDoneTask: Task | null = null;
  private inflated: { error: WebSocketProtocolError | null; data: Buffer | null } | null = null;

  /** Creates the handler; throws `WEBSOCKET_INVALID_ARGUMENT` on options out of range. */
  constructor(options: WebSocketConnectionOptions) {
    const role = options?.role;
    if (role !== 'server' && role !== 'client') {
      throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, "WebSocketConnection role: 'server' or 'client'");
    }
    const defaults = WEBSOCKET_CONNECTION_DEFAULTS;
    this.role = role;
    this.maxMessageSize = positive('maxMessageSize', options.maxMessageSize, defaults.maxMessageSize, 0);
    this.readWindowSize = positive('readWindowSize', options.readWindowSize, defaults.readWindowSize, 1);
    this.highWaterMark = positive('highWaterMark', options.highWaterMark, defaults.highWaterMark, 1);
    this.closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs, defaults.closeTimeoutMs, 0);
    this.pingIntervalMs = positive('pingIntervalMs', options.pingIntervalMs, defaults.pingIntervalMs, 0);
    this.pongTimeoutMs = positive('pongTimeoutMs', options.pongTimeoutMs, defaults.pongTimeoutMs, 1);
    this.compressionThreshold = positive(
      'compressionThreshold',
      options.compressionThreshold,
      defaults.compressionThreshold,
      0,
    );
    this.isManualWindow = options.isManualWindow === true;
    this.listener = options.listener ?? {};
    const params = options.perMessageDeflate ?? null;
    this.isPerMessageDeflate = params !== null;
    if (params !== null) {
      const side = perMessageDeflateSide(params, role);
      this.deflater =
        side.sendWindowBits === 0
          ? null
          : new PerMessageDeflater({ windowBits: side.sendWindowBits, noContextTakeover: side.sendNoContextTakeover });
      this.inflater = new PerMessageInflater({
        windowBits: side.receiveWindowBits,
        noContextTakeover: side.receiveNoContextTakeover,
        maxMessageSize: this.maxMessageSize,
      });
    } else {
      this.deflater = null;
      this.inflater = null;
    }
    this.decoder = new WebSocketFrameDecoder(new FrameEvents(this), {
      role,
      maxMessageSize: this.maxMessageSize,
      isPerMessageDeflate: params !== null,
    });
    this.encoder = new WebSocketFrameEncoder({ role });
    this.outgoing = new WebSocketOutgoingTask(this);
    this.sendQueue = new WebSocketSendQueue(this.encoder, (error) => this.onCallbackThrew(error));
    this.handedOver =
      options.handedOverBytes !== undefined && options.handedOverBytes.length > 0
        ? Buffer.from(options.handedOverBytes)
        : null;
  }

  private static runCloseTimer(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketConnection).onCloseTimeout();
  }

  private static runPing(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketConnection).onPingInterval();
  }

  private static runPongTimeout(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketConnection).onPongTimeout();
  }

  private static runInflateDone(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketConnection).onInflateDone();
  }

  private static runHandedOver(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketConnection).decodeHandedOver();
  }

  // ---------------------------------------------------------------- application surface

  /** Where the close handshake stands: open, closing (a Close was sent or received), closed. */
  get state(): WebSocketConnectionState {
    return this._state;
  }

  /** Outgoing message bytes queued and not yet written (uncompressed sizes). */
  get bufferedAmount(): number {
    return this.sendQueue.queuedBytes + this.stagedBytes;
  }

  /** The channel slot, once installed. */
  get channelSlot(): ChannelSlot | null {
    return this.slot;
  }

  /** Replaces the callbacks. Set them before the first task turn after installation to see every message. */
  setListener(listener: WebSocketConnectionListener): void {
    this.listener = listener;
  }

  /**
   * Queues a message: `isText` sends a text frame (the bytes must be UTF-8; a string is encoded).
   * `data` is read later (compressed or framed): do not modify it before `callback`. `callback`
   * gets null once the message's last byte was handed to the socket, or
   * `WEBSOCKET_CONNECTION_CLOSED` (or the channel's error) if it never will be. Returns false once
   * queued bytes reach the high-water mark (`onDrain` follows). Throws
   * `WEBSOCKET_CONNECTION_CLOSED` after the close started (nothing is queued then).
   */
  send(data: Uint8Array | string, isText: boolean, callback: WebSocketSendCallback | null = null): boolean {
    this.checkSendable();
    return this.queueMessage(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, isText, callback, null);
  }

  /**
   * {@link WebSocketConnection.send}, except that `data` is copied before the call returns: it may
   * be changed or reused at once — a view from `onMessageView`, a buffer the caller refills.
   * Without a callback, while nothing is queued ahead, the frame is written straight into the
   * pooled message of the next write (one copy; a Ping or Pong queued after it then follows it);
   * otherwise the copy goes into a pooled message queued as `send`'s (larger or compressed
   * messages into a buffer of their own). Returns and throws as `send`.
   */
  sendCopy(data: Uint8Array, isText: boolean, callback: WebSocketSendCallback | null = null): boolean {
    this.checkSendable();
    const pool = this.slot?.channel.messagePool;
    const isCompressing = this.deflater !== null && data.length >= this.compressionThreshold;
    if (pool === undefined || isCompressing || data.length === 0 || data.length > pool.dataMessageSize) {
      return this.queueMessage(Buffer.from(data), isText, callback, null);
    }
    if (callback === null && this.stageFrame(data, isText)) return this.checkHighWater();
    const held = pool.acquire(data.length);
    held.append(data);
    const payload = held.capacity === data.length ? held.data : held.bytes;
    return this.queueMessage(payload, isText, callback, held);
  }

  /**
   * Frames `data` into the staged message when nothing queued goes before it and the frame fits
   * whole (a callback would need the write's completion: those messages take the queue).
   */
  private stageFrame(data: Uint8Array, isText: boolean): boolean {
    const slot = this.slot;
    if (slot === null || !this.sendQueue.isEmpty || this.outgoing.isWritingStopped) return false;
    const frameLength = this.encoder.frameLength(data.length);
    let staged = this.staged;
    if (staged === null) {
      if (frameLength > slot.channel.messagePool.dataMessageSize - slot.upstreamMessageOverhead) return false;
      staged = this.staged = slot.acquireMaxMessageForWrite();
    } else if (frameLength > staged.capacity - staged.length) {
      return false;
    }
    staged.length = this.encoder.writeDataFrame(
      staged.data,
      staged.length,
      isText ? Opcode.TEXT : Opcode.BINARY,
      data,
      0,
      data.length,
    );
    this.stagedBytes += data.length;
    this.outgoing.wake();
    return true;
  }

  /** Drops the staged frames (the connection failed or is over: they will not be written). */
  private dropStaged(): void {
    this.staged?.release();
    this.staged = null;
    this.stagedBytes = 0;
  }

  private checkSendable(): void {
    if (this._state !== 'open' || this.closeToSend !== null || this.isShutDown) {
      throw new SluiceError(WebSocketConnectionErrors.CONNECTION_CLOSED, 'send after the close started');
    }
  }

  private queueMessage(
    payload: Uint8Array,
    isText: boolean,
    callback: WebSocketSendCallback | null,
    held: IoMessage | null,
  ): boolean {
    const isCompressing = this.deflater !== null && payload.length >= this.compressionThreshold;
    const entry = this.sendQueue.push(isText, payload, isCompressing, callback, held);
    if (this.deflater !== null && isCompressing) {
      // The deflater keeps message order; the task writes only from a ready head. (A closure per
      // compressed message: zlib allocates per message anyway.)
      this.deflater.compress(payload, (error, compressed) => {
        if (error !== null || compressed === null) {
          this.failWith(error ?? new SluiceError(WebSocketEncodeErrors.COMPRESSION_FAILED), CloseCode.INTERNAL_ERROR);
          return;
        }
        this.sendQueue.compressed(entry, compressed);
        this.outgoing.wake();
      });
    } else {
      this.outgoing.wake();
    }
    return this.checkHighWater();
  }

  /** `send`'s result: false (and `onDrain` later) once buffered bytes reach the high-water mark. */
  private checkHighWater(): boolean {
    if (this.bufferedAmount >= this.highWaterMark) {
      this.needsDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Queues a Ping with `payload` (≤ 125 bytes, else `WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG`); it goes
   * ahead of queued data. Throws `WEBSOCKET_CONNECTION_CLOSED` once closing, and
   * `WEBSOCKET_INVALID_ARGUMENT` when 16 Pings are already queued.
   */
  ping(payload: Uint8Array = EMPTY): void {
    if (this._state !== 'open' || this.isShutDown) {
      throw new SluiceError(WebSocketConnectionErrors.CONNECTION_CLOSED, 'ping after the close started');
    }
    if (payload.length > 125) {
      throw new SluiceError(WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG, `a ping of ${payload.length} bytes`);
    }
    if (this.pendingPings.length >= MAX_QUEUED_PINGS) {
      throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'too many pings queued');
    }
    this.pendingPings.push(Buffer.from(payload));
    this.outgoing.wake();
  }

  /**
   * Starts the close handshake (RFC 6455 §7.1.2): a Close with `code` (none: an empty Close, which
   * the peer reports as 1005) and `reason` goes after the data already queued; the connection
   * then waits `closeTimeoutMs` for the peer's Close. Throws what the encoder would for a code
   * that may not be sent (1005, 1006, 1015, …) or a reason over 123 bytes. Ignored once closing.
   */
  close(code?: number, reason = ''): void {
    this.encoder.closeFrameLength(code, reason); // validates before any state changes
    if (this._state !== 'open' || this.isShutDown) return;
    this._state = 'closing';
    this.closeToSend = { code, reason };
    this.armCloseTimer();
    this.outgoing.wake();
  }

  /**
   * In manual window mode, says the application consumed one delivered message: once every
   * delivered message is consumed, the read credit held back is returned. Ignored otherwise.
   */
  consumeMessage(): void {
    if (!this.isManualWindow || this.unconsumedMessages === 0) return;
    this.unconsumedMessages--;
    this.returnOwedCredit();
  }

  // ---------------------------------------------------------------- channel handler

  /** Binds the task, starts keep-alive and schedules the handed-over bytes. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.outgoing.attach(slot);
    if (this.pingIntervalMs > 0) {
      this.pingTask = new Task(WebSocketConnection.runPing, 'websocket-ping', this);
      slot.channel.scheduleTaskAfter(this.pingTask, this.pingIntervalMs);
    }
    // On a task, not now: the caller sets callbacks after inserting the handler.
    if (this.handedOver !== null)
      slot.channel.scheduleTaskNow(new Task(WebSocketConnection.runHandedOver, 'websocket-handed-over', this));
  }

  /** Decodes the bytes (after any handed-over bytes); read credit per the window rules. */
  processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
    if (this.handedOver !== null) this.decodeHandedOver();
    const length = message.length;
    if (!this.isReadStopped) {
      try {
        this.decoder.decode(message.data, 0, length);
      } catch (error) {
        message.release();
        this.onDecodeError(error);
        return;
      }
    }
    message.release();
    this.owedCredit += length;
    this.flushIncoming();
    this.returnOwedCredit();
  }

  private decodeHandedOver(): void {
    const bytes = this.handedOver;
    if (bytes === null) return;
    this.handedOver = null;
    try {
      this.decoder.decode(bytes, 0, bytes.length);
    } catch (error) {
      this.onDecodeError(error);
      return;
    }
    this.flushIncoming();
  }

  /** Nothing may be written through the connection from its right. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the WebSocket handler does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Nothing reads to our right; window increments are not used. */
  incrementReadWindow(): void {}

  /** The socket may deliver this much before the application consumes it. */
  initialWindowSize(): number {
    return this.readWindowSize;
  }

  /** Framing is added inside the pooled message; no overhead for handlers to the right. */
  messageOverhead(): number {
    return 0;
  }

  /**
   * READ: stop reading; when the peer closed TCP (or the channel closes without an error) while
   * compressed messages it sent are being inflated, they arrived whole: they — and a Close behind
   * them — are delivered first (bounded by zlib, not by the peer). WRITE: a graceful shutdown of
   * an open connection writes the data queued and a Close (1001 going away) first; with an error,
   * or `free`, it completes at once. Sends not written fail, then `onClose` is reported.
   */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isReadStopped = true;
      const isPeerEnd = error === null || error.code === IoErrors.SOCKET_CLOSED.code;
      if (this.isInflating && isPeerEnd && !free && this.failure === null) {
        this.readShutdown = { error, free };
        return;
      }
      this.failure ??= error;
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    this.isShutDown = true;
    this.unscheduleTimers(slot);
    if (free || error !== null || this.outgoing.isWritingStopped || this.isCloseWritten) {
      this.finishWrite(slot, error, free);
      return;
    }
    if (this._state === 'open') {
      this._state = 'closing';
      this.closeToSend = { code: CloseCode.GOING_AWAY, reason: '' };
    }
    if (!this.hasOutgoingWork() && !this.outgoing.hasMessageInFlight && !this.hasPendingCompression()) {
      this.finishWrite(slot, error, free);
      return;
    }
    this.writeShutdown = { error, free };
    this.outgoing.wake();
  }

  /** Releases zlib and timers. */
  destroy(): void {
    this.deflater?.close();
    this.inflater?.close();
    this.handedOver = null;
    this.releaseAssembly();
    this.dropStaged();
  }

  // ---------------------------------------------------------------- incoming

  /** @internal The decoder's data event (through {@link FrameEvents}). */
  _onFrameData(
    opcode: DataOpcode,
    data: Uint8Array,
    start: number,
    end: number,
    isMessageEnd: boolean,
    isCompressed: boolean,
  ): void {
    // RFC 6455 §5.5.1: nothing after a Close is read; nor after a failure (a callback threw).
    if (this.isReadStopped) return;
    const isText = opcode === Opcode.TEXT;
    if (end > start) {
      // The read message is pooled: what is kept is copied — into the message's own buffer when
      // a one-frame message arrives in several reads (its size is known), else piece by piece.
      // For a view listener that buffer is pooled, and a message whole in this read is not copied.
      const assembly = this.assembly;
      const pooled = this.pooledAssembly;
      if (pooled !== null) {
        pooled.append(data, start, end);
      } else if (assembly !== null) {
        assembly.set(data.subarray(start, end), this.assemblyAt);
        this.assemblyAt += end - start;
      } else if (!isMessageEnd && this.pieces.length === 0 && this.startsAssembly(data, start, end, isCompressed)) {
        // The first piece is in the buffer just made.
      } else if (isMessageEnd && this.pieces.length === 0 && this.isViewDeliverable(isCompressed)) {
        this.deliverView(Buffer.from(data.buffer, data.byteOffset + start, end - start), isText);
        return;
      } else {
        this.pieces.push(Buffer.from(data.subarray(start, end)));
        this.pieceBytes += end - start;
      }
    }
    if (!isMessageEnd) return;
    let whole: Buffer;
    const pooled = this.pooledAssembly;
    if (pooled !== null) {
      this.pooledAssembly = null;
      if (this.isViewDeliverable(isCompressed)) {
        try {
          this.deliverView(pooled.bytes, isText);
        } finally {
          pooled.release();
        }
        return;
      }
      // Something is held ahead of it (or the listener changed): it waits as a copy of its own.
      whole = Buffer.from(pooled.bytes);
      pooled.release();
    } else if (this.assembly !== null) {
      whole = this.assembly;
      this.assembly = null;
    } else if (this.pieces.length === 0 && this.isViewDeliverable(isCompressed)) {
      this.deliverView(EMPTY, isText); // an empty message
      return;
    } else {
      whole =
        this.pieces.length === 0
          ? EMPTY
          : this.pieces.length === 1
            ? this.pieces[0]
            : Buffer.concat(this.pieces, this.pieceBytes);
    }
    this.pieces.length = 0;
    this.pieceBytes = 0;
    this.incoming.push({
      isClose: false,
      isText,
      isCompressed,
      isReady: !isCompressed,
      data: whole,
      code: 0,
      reason: '',
    });
    if (isCompressed) this.startInflating();
  }

  /**
   * Whether a message may go to `onMessageView` now, during the read: the listener has one, the
   * message needs no inflating, and nothing received before it waits (order is kept).
   */
  private isViewDeliverable(isCompressed: boolean): boolean {
    return !isCompressed && this.listener.onMessageView !== undefined && this.incoming.length === 0;
  }

  private deliverView(data: Buffer, isText: boolean): void {
    try {
      this.listener.onMessageView?.(this, data, isText);
    } catch (error) {
      this.onCallbackThrew(error);
    }
  }

  /**
   * Makes the buffer of a one-frame message whose first piece `data[start..end)` just came, when
   * the frame says the rest is on its way, and copies the piece in: up to
   * {@link MAX_PREALLOCATED_MESSAGE} only, so a peer that announces a large frame and trickles it
   * cannot make us hold the whole size up front. For a view listener, a pooled message (up to the
   * pool's data size): reused, no garbage per message.
   */
  private startsAssembly(data: Uint8Array, start: number, end: number, isCompressed: boolean): boolean {
    const left = this.decoder.finalFrameBytesLeft;
    const size = end - start + left;
    if (left <= 0 || size > MAX_PREALLOCATED_MESSAGE) return false;
    const pool = this.slot?.channel.messagePool;
    if (pool !== undefined && size <= pool.dataMessageSize && this.isViewDeliverable(isCompressed)) {
      const pooled = pool.acquire(size);
      pooled.append(data, start, end);
      this.pooledAssembly = pooled;
      return true;
    }
    this.assembly = Buffer.allocUnsafe(size);
    this.assembly.set(data.subarray(start, end), 0);
    this.assemblyAt = end - start;
    return true;
  }

  /** A message being gathered in a pooled message gives it back (failure, shutdown). */
  private releaseAssembly(): void {
    this.pooledAssembly?.release();
    this.pooledAssembly = null;
    this.assembly = null;
  }

  /** @internal The decoder's ping event (through {@link FrameEvents}). */
  _onFramePing(data: Uint8Array, start: number, end: number): void {
    // RFC 6455 §5.5.3: answering only the most recent Ping is allowed.
    if (!this.isCloseWritten && !this.isCloseInFlight) {
      this.pendingPong = Buffer.from(data.subarray(start, end));
      this.outgoing.wake();
    }
    this.callListener('onPing', data.subarray(start, end));
  }

  /** @internal The decoder's pong event (through {@link FrameEvents}). */
  _onFramePong(data: Uint8Array, start: number, end: number): void {
    if (this.pongTimeoutTask?.isScheduled === true) this.slot?.channel.unscheduleTask(this.pongTimeoutTask);
    this.callListener('onPong', data.subarray(start, end));
  }

  /** @internal The decoder's close event (through {@link FrameEvents}). */
  _onFrameClose(code: number, reason: string): void {
    // RFC 6455 §5.5.1: nothing after a Close is read.
    this.isReadStopped = true;
    this.incoming.push({ isClose: true, isText: false, isCompressed: false, isReady: true, data: EMPTY, code, reason });
  }

  private callListener(name: 'onPing' | 'onPong', payload: Uint8Array): void {
    const listener = this.listener;
    if (listener[name] === undefined) return;
    try {
      if (name === 'onPing') listener.onPing?.(this, payload);
      else listener.onPong?.(this, payload);
    } catch (error) {
      this.onCallbackThrew(error);
    }
  }

  private startInflating(): void {
    const inflater = this.inflater;
    if (this.isInflating || inflater === null) return;
    const next = this.incoming.find((event) => !event.isReady && event.isCompressed);
    if (next === undefined) return;
    this.isInflating = true;
    inflater.write(next.data);
    inflater.finish((error, data) => {
      // zlib calls back outside the loop's tasks: continue on one.
      this.inflated = { error, data };
      const slot = this.slot;
      if (slot !== null && !slot.channel.isShutDown)
        slot.channel.scheduleTaskNow(
          (this.inflateDoneTask ??= new Task(WebSocketConnection.runInflateDone, 'websocket-inflated', this)),
        );
    });
  }

  private onInflateDone(): void {
    this.deliverInflated();
    // A READ shutdown waiting for the inflation completes once nothing more is inflating.
    const pending = this.readShutdown;
    const slot = this.slot;
    if (pending === null || slot === null || (this.isInflating && this.failure === null)) return;
    this.readShutdown = null;
    this.failure ??= pending.error;
    slot.onHandlerShutdownComplete(ChannelDirection.READ, pending.error, pending.free);
  }

  private deliverInflated(): void {
    const result = this.inflated;
    this.inflated = null;
    this.isInflating = false;
    if (result === null || this.isShutDown) return;
    const event = this.incoming.find((candidate) => !candidate.isReady && candidate.isCompressed);
    if (event === undefined) return;
    if (result.error !== null || result.data === null) {
      this.fail(result.error ?? new WebSocketProtocolError(WebSocketProtocolErrors.INVALID_COMPRESSED_DATA));
      return;
    }
    if (event.isText && !isValidUtf8(result.data)) {
      this.fail(new WebSocketProtocolError(WebSocketProtocolErrors.INVALID_UTF8, 'inflated text is not UTF-8'));
      return;
    }
    event.data = result.data;
    event.isReady = true;
    this.flushIncoming();
    this.returnOwedCredit();
    this.startInflating();
  }

  /** Delivers ready events in order; a message being inflated holds back the ones behind it. */
  private flushIncoming(): void {
    const incoming = this.incoming;
    while (incoming.length > 0 && incoming[0].isReady && this.failure === null) {
      const event = incoming.shift()!;
      if (event.isClose) {
        this.onCloseReceived(event.code, event.reason);
        continue;
      }
      const listener = this.listener;
      try {
        // A view listener's message is consumed when the call returns (an owned buffer here).
        if (listener.onMessageView !== undefined) listener.onMessageView(this, event.data, event.isText);
        else if (listener.onMessage !== undefined) {
          if (this.isManualWindow) this.unconsumedMessages++;
          listener.onMessage(this, event.data, event.isText);
        }
        // A message nobody listens for is dropped, and counts as consumed.
      } catch (error) {
        this.onCallbackThrew(error);
        return;
      }
    }
  }

  private returnOwedCredit(): void {
    if (this.owedCredit === 0 || this.incoming.length > 0 || this.unconsumedMessages > 0) return;
    const credit = this.owedCredit;
    this.owedCredit = 0;
    if (this.isReadStopped) return; // nothing more is read: the credit is never needed
    this.slot?.incrementReadWindow(credit);
  }

  private onDecodeError(error: unknown): void {
    if (error instanceof WebSocketProtocolError) this.fail(error);
    else this.onCallbackThrew(error);
  }

  private onCallbackThrew(error: unknown): void {
    this.failWith(asSluiceError(error, ChannelErrors.HANDLER_FAILED), CloseCode.INTERNAL_ERROR);
  }

  /** RFC 6455 §7.1.7: fail the connection: send a Close with the error's code, then close. */
  private fail(error: WebSocketProtocolError): void {
    this.failWith(error, error.closeCode);
  }

  private failWith(error: SluiceError, closeCode: number): void {
    if (this.failure !== null || this.isShutDown) return;
    this.failure = error;
    this.isReadStopped = true;
    this.incoming.length = 0;
    this.pieces.length = 0;
    this.releaseAssembly();
    this.dropStaged();
    if (this.isCloseWritten || this.isCloseInFlight) {
      this.slot?.channel.shutdown(error);
      return;
    }
    this._state = 'closing';
    this.closeToSend = { code: closeCode, reason: '' };
    this.isCloseUrgent = true;
    this.armCloseTimer();
    this.outgoing.wake();
  }

  private onCloseReceived(code: number, reason: string): void {
    this.isCloseReceived = true;
    this.peerCloseCode = code;
    this.peerCloseReason = reason;
    if (this._state === 'open') {
      // RFC 6455 §5.5.1: answer with a Close, echoing the code (none for an empty Close).
      this._state = 'closing';
      this.closeToSend = { code: code === CloseCode.NO_STATUS_RECEIVED ? undefined : code, reason: '' };
      this.armCloseTimer();
      this.outgoing.wake();
    } else if (this.isCloseWritten) {
      this.onHandshakeDone();
    }
    if (this.listener.onCloseFrame !== undefined) {
      try {
        this.listener.onCloseFrame(this, code, reason);
      } catch (error) {
        this.onCallbackThrew(error);
      }
    }
  }

  /** Both Close frames went: the server closes TCP first (RFC 6455 §7.1.1); a client waits for it (timer armed). */
  private onHandshakeDone(): void {
    if (this.role === 'server') this.slot?.channel.shutdown(null);
  }

  // ---------------------------------------------------------------- outgoing (task host)

  /** @internal */
  hasOutgoingWork(): boolean {
    // RFC 6455 §5.5.1: nothing follows our Close.
    if (this.isCloseWritten || this.isCloseInFlight) return false;
    if (this.staged !== null) return true;
    if (this.pendingPong !== null || this.pendingPings.length > 0) return true;
    if (this.closeToSend !== null && (this.isCloseUrgent || this.sendQueue.isEmpty)) return true;
    return this.sendQueue.isHeadReady;
  }

  /** @internal */
  outgoingSizeHint(): number {
    return this.isCloseUrgent ? 256 : this.sendQueue.headRemaining + 256;
  }

  /** @internal */
  takeStagedMessage(): IoMessage | null {
    const staged = this.staged;
    this.staged = null;
    this.stagedBytes = 0;
    return staged;
  }

  /** @internal */
  fillOutgoing(target: Uint8Array, start: number, limit: number): number {
    const encoder = this.encoder;
    let offset = start;
    if (this.isCloseWritten || this.isCloseInFlight) return offset;
    const pong = this.pendingPong;
    if (pong !== null) {
      this.pendingPong = null;
      offset = encoder.writePong(target, offset, pong, 0, pong.length);
    }
    while (this.pendingPings.length > 0 && offset + MAX_FRAME_HEADER + 125 <= limit) {
      const ping = this.pendingPings.shift()!;
      offset = encoder.writePing(target, offset, ping, 0, ping.length);
    }
    if (!this.isCloseUrgent) offset = this.sendQueue.fill(target, offset, limit);
    const close = this.closeToSend;
    if (close !== null && (this.isCloseUrgent || this.sendQueue.isEmpty)) {
      const length = encoder.closeFrameLength(close.code, close.reason);
      if (offset + length <= limit) {
        offset = encoder.writeClose(target, offset, close.code, close.reason);
        this.isCloseInFlight = true;
      }
    }
    return offset;
  }

  /** @internal */
  onOutgoingWritten(): void {
    this.sendQueue.onWritten();
    this.writesCompleted++;
    if (this.isCloseInFlight) {
      this.isCloseInFlight = false;
      this.isCloseWritten = true;
      // The wait for the peer's Close starts now that ours is out, whatever the queue before it took.
      this.armCloseTimer(true);
      this.onCloseWritten();
    }
    const slot = this.slot;
    if (this.writeShutdown !== null && slot !== null) {
      if (this.isCloseWritten || (!this.hasOutgoingWork() && !this.hasPendingCompression())) {
        const pending = this.writeShutdown;
        this.writeShutdown = null;
        this.finishWrite(slot, pending.error, pending.free);
      }
      return;
    }
    if (this.needsDrain && this.bufferedAmount < this.highWaterMark && this.failure === null) {
      this.needsDrain = false;
      if (this.listener.onDrain !== undefined) {
        try {
          this.listener.onDrain(this);
        } catch (error) {
          this.onCallbackThrew(error);
        }
      }
    }
  }

  private onCloseWritten(): void {
    const slot = this.slot;
    if (slot === null || this.writeShutdown !== null) return;
    if (this.failure !== null) {
      // RFC 6455 §7.1.7: after failing, close without waiting for the peer's Close.
      slot.channel.shutdown(this.failure);
      return;
    }
    if (this.isCloseReceived) {
      if (this.role === 'server') slot.channel.shutdown(null);
      // A client waits for the server to close TCP; the close timer bounds the wait.
    }
  }

  /** @internal */
  onOutgoingFailed(error: SluiceError): void {
    this.failure ??= error;
    const slot = this.slot;
    if (slot === null) return;
    const pending = this.writeShutdown;
    if (pending !== null) {
      this.writeShutdown = null;
      this.finishWrite(slot, pending.error ?? error, pending.free);
      return;
    }
    slot.channel.shutdown(error);
  }

  private hasPendingCompression(): boolean {
    return this.sendQueue.isHeadCompressing && !this.isCloseUrgent;
  }

  /** The write side is done: fail what was not written, report the close once. */
  private finishWrite(slot: ChannelSlot, error: SluiceError | null, free: boolean): void {
    this.outgoing.isWritingStopped = true;
    this._state = 'closed';
    const closed = error ?? this.failure ?? new SluiceError(WebSocketConnectionErrors.CONNECTION_CLOSED);
    this.dropStaged();
    this.sendQueue.failAll(closed);
    this.report(error);
    if (!slot.isWriteShutDown) slot.onHandlerShutdownComplete(ChannelDirection.WRITE, error, free);
  }

  private report(error: SluiceError | null): void {
    if (this.isReported) return;
    this.isReported = true;
    if (this.listener.onClose === undefined) return;
    const code = this.isCloseReceived ? this.peerCloseCode : CloseCode.ABNORMAL_CLOSURE;
    const reason = this.isCloseReceived ? this.peerCloseReason : '';
    const cause = this.isCloseReceived ? null : (this.failure ?? error);
    try {
      this.listener.onClose(this, code, reason, cause);
    } catch {
      // The connection is over; there is nobody left to tell.
    }
  }

  // ---------------------------------------------------------------- timers

  /**
   * Arms the close timer (restarting it with `isRestart`). Armed when the close handshake starts,
   * it bounds a peer that takes nothing more; while data queued before our Close is still being
   * written, each expiry that saw writes complete re-arms it (see onCloseTimeout); once our Close
   * is written it restarts, so the peer has the whole `closeTimeoutMs` to answer.
   */
  private armCloseTimer(isRestart = false): void {
    const slot = this.slot;
    if (slot === null) return;
    const task = (this.closeTimerTask ??= new Task(WebSocketConnection.runCloseTimer, 'websocket-close-timeout', this));
    if (task.isScheduled) {
      if (!isRestart) return;
      slot.channel.unscheduleTask(task);
    }
    this.writesAtCloseTimer = this.writesCompleted;
    slot.channel.scheduleTaskAfter(task, this.closeTimeoutMs);
  }

  private onCloseTimeout(): void {
    const slot = this.slot;
    if (slot === null || this.isShutDown) return;
    // Our Close still waits behind queued data that the peer is taking: a slow link, not a dead peer.
    if (!this.isCloseWritten && this.writesCompleted !== this.writesAtCloseTimer) {
      this.armCloseTimer();
      return;
    }
    // Both Close frames went and only the TCP close is missing: that is a clean end.
    if (this.isCloseReceived && this.isCloseWritten) {
      slot.channel.shutdown(null);
      return;
    }
    this.failure ??= new SluiceError(
      WebSocketConnectionErrors.CLOSE_TIMEOUT,
      this.isCloseWritten
        ? `no Close from the peer within ${this.closeTimeoutMs} ms`
        : `the peer took none of our data for ${this.closeTimeoutMs} ms, our Close still queued`,
    );
    slot.channel.shutdown(this.failure);
  }

  private onPingInterval(): void {
    const slot = this.slot;
    if (slot === null || this._state !== 'open' || this.isShutDown) return;
    if (this.pendingPings.length < MAX_QUEUED_PINGS) this.pendingPings.push(EMPTY);
    this.outgoing.wake();
    this.pongTimeoutTask ??= new Task(WebSocketConnection.runPongTimeout, 'websocket-pong-timeout', this);
    if (!this.pongTimeoutTask.isScheduled) slot.channel.scheduleTaskAfter(this.pongTimeoutTask, this.pongTimeoutMs);
    slot.channel.scheduleTaskAfter(this.pingTask!, this.pingIntervalMs);
  }

  private onPongTimeout(): void {
    const slot = this.slot;
    if (slot === null || this.isShutDown) return;
    // No Close is sent: the peer is presumed gone (reported as 1006).
    this.failure ??= new SluiceError(
      WebSocketConnectionErrors.PING_TIMEOUT,
      `no pong within ${this.pongTimeoutMs} ms of a keep-alive ping`,
    );
    slot.channel.shutdown(this.failure);
  }

  private unscheduleTimers(slot: ChannelSlot): void {
    const channel = slot.channel;
    if (this.closeTimerTask?.isScheduled === true) channel.unscheduleTask(this.closeTimerTask);
    if (this.pingTask?.isScheduled === true) channel.unscheduleTask(this.pingTask);
    if (this.pongTimeoutTask?.isScheduled === true) channel.unscheduleTask(this.pongTimeoutTask);
  }
}

/**
 * The decoder's listener for one connection: one small object holding the connection, its
 * methods on the prototype — not four closures and their context per connection (an idle
 * WebSocket connection's memory is issue 21's).
 */
class FrameEvents implements WebSocketFrameListener {
  constructor(private readonly connection: WebSocketConnection) {}

  onData(
    opcode: DataOpcode,
    data: Uint8Array,
    start: number,
    end: number,
    _isFrameEnd: boolean,
    isMessageEnd: boolean,
    isCompressed: boolean,
  ): void {
    this.connection._onFrameData(opcode, data, start, end, isMessageEnd, isCompressed);
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.connection._onFramePing(data, start, end);
  }

  onPong(data: Uint8Array, start: number, end: number): void {
    this.connection._onFramePong(data, start, end);
  }

  onClose(code: number, reason: string): void {
    this.connection._onFrameClose(code, reason);
  }
}
