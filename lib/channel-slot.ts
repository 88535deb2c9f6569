/**
 * Channel slots: the places handlers sit in a channel, and the only way handlers talk.
 *
 * @module
 */
import type { Channel } from './channel.js';
import { MAX_INLINE_INTEGER, withFlag } from './field-layout.js';
import { ChannelDirection, type ChannelHandler } from './channel-handler.js';
import { ChannelErrors, SluiceError } from './errors.js';
import type { IoMessage } from './io-message.js';

/**
 * The read window reported when back-pressure is off, and by a slot whose window is unlimited:
 * one of 2^31 − 1 bytes or more (more than any handler holds back). Reads do not reduce an
 * unlimited window.
 */
export const UNLIMITED_WINDOW = Number.MAX_SAFE_INTEGER;

/**
 * How a slot stores an unlimited window: a slot kept its window as UNLIMITED_WINDOW itself
 * (the socket's, for one), which made the field a double and gave every slot a 16-byte heap
 * number for life.
 */
const STORED_UNLIMITED_WINDOW = MAX_INLINE_INTEGER;

// The bits of ChannelSlot._shutdownBits.
const READ_SHUT_DOWN = 1;
const WRITE_SHUT_DOWN = 2;
const READ_SHUTDOWN_STARTED = 4;
const WRITE_SHUTDOWN_STARTED = 8;

/**
 * ChannelSlot connects one handler to its neighbours. Handlers receive their slot in every
 * call and use it to send messages, open windows, acquire messages and report shutdown.
 * Slots are created by the channel (`channel.appendHandler`, `slot.insertRight`, …).
 */
export class ChannelSlot {
  /** The channel this slot belongs to. */
  readonly channel: Channel;
  /** The slot to the left (toward the socket), or null for the first slot. */
  adjacentLeft: ChannelSlot | null = null;
  /** The slot to the right (toward the application), or null for the last slot. */
  adjacentRight: ChannelSlot | null = null;
  /** @internal The read window as stored: at most `STORED_UNLIMITED_WINDOW`, which stands for unlimited. */
  _window = 0;
  /** Sum of the message overheads of every handler to the left of this slot. */
  upstreamMessageOverhead = 0;

  /** @internal */
  _handler: ChannelHandler | null = null;
  /** @internal Window increments not yet told to the left neighbour. */
  _pendingWindowIncrement = 0;
  /**
   * @internal The four shutdown flags below as bits of one field: a channel keeps a slot per
   * handler for life, and four boolean fields cost 32 octets where one small integer costs 8.
   */
  _shutdownBits = 0;

  /** @internal Slots come from the channel. */
  constructor(channel: Channel) {
    this.channel = channel;
  }

  /**
   * This slot's read window: bytes its handler still accepts from the left. Reduced by each
   * read message it receives, raised by `incrementReadWindow`. A window of 2^31 − 1 or more is
   * unlimited: it reads as {@link UNLIMITED_WINDOW}, and reads do not reduce it.
   */
  get windowSize(): number {
    const window = this._window;
    return window === STORED_UNLIMITED_WINDOW ? UNLIMITED_WINDOW : window;
  }

  /** Sets the read window; 2^31 − 1 or more makes it unlimited. */
  set windowSize(size: number) {
    this._window = size < STORED_UNLIMITED_WINDOW ? size : STORED_UNLIMITED_WINDOW;
  }

  /** @internal This handler finished shutting down its read side. */
  get _isReadShutDown(): boolean {
    return (this._shutdownBits & READ_SHUT_DOWN) !== 0;
  }

  /** @internal */
  set _isReadShutDown(value: boolean) {
    this._shutdownBits = withFlag(this._shutdownBits, READ_SHUT_DOWN, value);
  }

  /** @internal This handler finished shutting down its write side. */
  get _isWriteShutDown(): boolean {
    return (this._shutdownBits & WRITE_SHUT_DOWN) !== 0;
  }

  /** @internal */
  set _isWriteShutDown(value: boolean) {
    this._shutdownBits = withFlag(this._shutdownBits, WRITE_SHUT_DOWN, value);
  }

  /** @internal Shutdown of the read side was started on this handler. */
  get _readShutdownStarted(): boolean {
    return (this._shutdownBits & READ_SHUTDOWN_STARTED) !== 0;
  }

  /** @internal */
  set _readShutdownStarted(value: boolean) {
    this._shutdownBits = withFlag(this._shutdownBits, READ_SHUTDOWN_STARTED, value);
  }

  /** @internal Shutdown of the write side was started on this handler. */
  get _writeShutdownStarted(): boolean {
    return (this._shutdownBits & WRITE_SHUTDOWN_STARTED) !== 0;
  }

  /** @internal */
  set _writeShutdownStarted(value: boolean) {
    this._shutdownBits = withFlag(this._shutdownBits, WRITE_SHUTDOWN_STARTED, value);
  }

  /** The handler in this slot. */
  get handler(): ChannelHandler {
    if (this._handler === null) throw new SluiceError(ChannelErrors.NO_HANDLER);
    return this._handler;
  }

  /** True once this slot's handler finished shutting down its read side. */
  get isReadShutDown(): boolean {
    return this._isReadShutDown;
  }

  /** True once this slot's handler finished shutting down its write side. */
  get isWriteShutDown(): boolean {
    return this._isWriteShutDown;
  }

  /**
   * Sends a message to the neighbour in `direction`: READ to the right neighbour's
   * `processReadMessage`, WRITE to the left neighbour's `processWriteMessage`. Synchronous.
   *
   * On success the neighbour owns the message. On error nothing changed and the caller still
   * owns it: `CHANNEL_INVALID_MESSAGE_LENGTH` when `length` is not a whole number from 0 to the
   * message's capacity, `CHANNEL_READ_WINDOW_EXCEEDED` when a read is larger than the right slot's window,
   * `CHANNEL_NO_ADJACENT_SLOT`, `CHANNEL_MESSAGE_RELEASED`, `CHANNEL_SHUT_DOWN` after the
   * channel finished shutting down, `CHANNEL_SLOT_SHUT_DOWN` when the receiving side of the
   * neighbour has already shut down.
   */
  sendMessage(message: IoMessage, direction: ChannelDirection): void {
    if (message._released) throw new SluiceError(ChannelErrors.MESSAGE_RELEASED, 'cannot send a released message');
    const length = message.length;
    // Checked once here rather than on every write into `data`: a length past what the message
    // holds would send the rest of a pooled block — stale bytes of other messages.
    if ((length | 0) !== length || length < 0 || length > message.capacity) {
      throw new SluiceError(
        ChannelErrors.INVALID_MESSAGE_LENGTH,
        `message length ${length} is not a whole number from 0 to its capacity ${message.capacity}`,
      );
    }
    const channel = this.channel;
    if (channel.isShutDown)
      throw new SluiceError(ChannelErrors.SHUT_DOWN, 'cannot send on a channel that has shut down');
    if (direction === ChannelDirection.READ) {
      const right = this.adjacentRight;
      if (right === null) throw new SluiceError(ChannelErrors.NO_ADJACENT_SLOT, 'no slot to the right to read into');
      if (right._isReadShutDown) {
        throw new SluiceError(ChannelErrors.SLOT_SHUT_DOWN, 'the right slot has shut down its read side');
      }
      if (channel.isReadBackPressureEnabled) {
        const window = right._window;
        if (length > window) {
          throw new SluiceError(
            ChannelErrors.READ_WINDOW_EXCEEDED,
            `read of ${length} bytes exceeds the right slot's window of ${window}`,
          );
        }
        if (window !== STORED_UNLIMITED_WINDOW) right._window = window - length;
      }
      right.handler.processReadMessage(right, message);
    } else {
      const left = this.adjacentLeft;
      if (left === null) throw new SluiceError(ChannelErrors.NO_ADJACENT_SLOT, 'no slot to the left to write into');
      if (left._isWriteShutDown) {
        throw new SluiceError(ChannelErrors.SLOT_SHUT_DOWN, 'the left slot has shut down its write side');
      }
      left.handler.processWriteMessage(left, message);
    }
  }

  /**
   * Opens this slot's read window by `size` bytes. The left neighbour hears of it through its
   * `incrementReadWindow` on a later channel task (increments are batched). Ignored when
   * back-pressure is off, once the left neighbour's read side has shut down, or after the
   * channel shut down. During the READ phase of a shutdown windows still open, so a handler
   * holding data (e.g. TLS plaintext after the peer's FIN) can deliver it before it completes.
   */
  incrementReadWindow(size: number): void {
    if (!(size > 0)) return;
    const channel = this.channel;
    if (!channel.isReadBackPressureEnabled || channel.isShutDown) return;
    if (this.adjacentLeft !== null && this.adjacentLeft._isReadShutDown) return;
    this.windowSize = this._window + size;
    this._pendingWindowIncrement += size;
    channel._scheduleWindowUpdate();
  }

  /** The read window of the slot to the right: how much this handler may send right now. */
  downstreamReadWindow(): number {
    if (!this.channel.isReadBackPressureEnabled) return UNLIMITED_WINDOW;
    const right = this.adjacentRight;
    return right === null ? 0 : right.windowSize;
  }

  /**
   * Whether a message of `size` bytes may go right now: `size ≤ downstreamReadWindow()`. For
   * handlers that must deliver whole messages (a codec's decoded frame or line) and wait for the
   * window otherwise.
   *
   * When it may not, and `size` is more than the right handler's whole read window (its
   * `initialWindowSize()`), the message can go only if that handler opens its window beyond it —
   * and one that reopens by what it consumed never does: the channel would stall with nothing
   * said. The first time on a channel this logs a WARN (subject `channel`) naming the slot, the
   * window and the size; every time, the channel counts it ({@link Channel.windowStalls}, and
   * `windowStalls` in statistics samples).
   */
  canSendRight(size: number): boolean {
    const window = this.downstreamReadWindow();
    if (size <= window) return true;
    const right = this.adjacentRight;
    const whole = right?._handler?.initialWindowSize();
    if (whole !== undefined && size > whole) this.channel._onWindowStall(this, size, window, whole);
    return false;
  }

  /**
   * A message for writing with capacity `min(sizeHint, pool data size − upstream overhead)`.
   * The caller owns it.
   */
  acquireMessageForWrite(sizeHint: number): IoMessage {
    const pool = this.channel.messagePool;
    const max = pool.dataMessageSize - this.upstreamMessageOverhead;
    return pool.acquire(sizeHint < max ? sizeHint : max);
  }

  /** The largest message a write from this slot can be: pool data size less every overhead to the left. */
  acquireMaxMessageForWrite(): IoMessage {
    const pool = this.channel.messagePool;
    return pool.acquire(pool.dataMessageSize - this.upstreamMessageOverhead);
  }

  /** Shuts the whole channel down (see `Channel.shutdown`). */
  shutdown(error: SluiceError | null = null, freeScarceResourcesImmediately = false): void {
    this.channel.shutdown(error, freeScarceResourcesImmediately);
  }

  /**
   * The handler reports that its `direction` side finished shutting down; the channel moves
   * on to the next handler. Reporting a direction twice throws
   * `CHANNEL_SHUTDOWN_ALREADY_COMPLETE` and changes nothing.
   */
  onHandlerShutdownComplete(
    direction: ChannelDirection,
    error: SluiceError | null,
    freeScarceResourcesImmediately: boolean,
  ): void {
    this.channel._onHandlerShutdownComplete(this, direction, error, freeScarceResourcesImmediately);
  }

  /** Puts a new handler in a new slot right of this one. */
  insertRight(handler: ChannelHandler): ChannelSlot {
    return this.channel._insert(handler, this, this.adjacentRight);
  }

  /** Puts a new handler in a new slot left of this one. */
  insertLeft(handler: ChannelHandler): ChannelSlot {
    return this.channel._insert(handler, this.adjacentLeft, this);
  }

  /** Takes this slot out of the channel; its handler is destroyed. */
  remove(): void {
    this.channel._remove(this, true);
  }

  /** Replaces this slot's handler by `handler` in a new slot at the same place; the old handler is destroyed. */
  replace(handler: ChannelHandler): ChannelSlot {
    const slot = this.channel._insert(handler, this.adjacentLeft, this);
    this.channel._remove(this, true);
    return slot;
  }
}
