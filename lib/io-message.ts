/**
 * Pooled I/O messages: the unit of data that moves through a channel.
 *
 * @module
 */
import { ChannelErrors, SluiceError } from './errors.js';
import type { Channel } from './channel.js';
import type { MessagePool } from './message-pool.js';

/**
 * Called once when a written message has reached the socket (`error` null) or could not be
 * written (`error` says why). It runs before the message returns to its pool: do not keep the
 * message.
 */
export type MessageCompletion = (channel: Channel, message: IoMessage, error: SluiceError | null) => void;

/**
 * IoMessage carries bytes through a channel. Its memory belongs to a {@link MessagePool}; the
 * handler that holds a message owns it and must either pass it on (`slot.sendMessage`) or
 * release it (`message.release()`), exactly once.
 *
 * `data` is a view of `capacity` bytes over pooled memory; `length` says how many are in use.
 * After release, touching `data` throws `CHANNEL_MESSAGE_RELEASED`.
 *
 * @example
 * ```ts
 * const message = slot.acquireMessageForWrite(5);
 * message.append(Buffer.from('hello'));
 * slot.sendMessage(message, ChannelDirection.WRITE);
 * ```
 */
export class IoMessage {
  /** Bytes in use, from offset 0 of `data`. */
  length = 0;
  /** How many bytes of `data` a reader has consumed (for handlers that consume partially). */
  copyMark = 0;
  /** A number for the application or a handler to classify messages; 0 by default. */
  tag = 0;
  /** Fired once the message reached the socket, or failed; see {@link MessageCompletion}. */
  onCompletion: MessageCompletion | null = null;
  /** Anything the sender wants back in `onCompletion`. */
  userData: unknown = null;

  /** @internal The whole pooled block. */
  readonly _block: Buffer;
  /** @internal The view handed out as `data` (cached to avoid a view per acquire). */
  _view: Buffer;
  /** @internal */
  _released = false;
  /** @internal The pool it returns to; null for messages that wrap foreign memory. */
  readonly _pool: MessagePool | null;
  /** @internal Size class index in the pool. */
  readonly _sizeClass: number;

  /** @internal Messages come from {@link MessagePool.acquire}. */
  constructor(block: Buffer, pool: MessagePool | null, sizeClass: number) {
    this._block = block;
    this._view = block;
    this._pool = pool;
    this._sizeClass = sizeClass;
  }

  /** The message's bytes: `capacity` long, the first `length` in use. */
  get data(): Buffer {
    if (this._released) throw new SluiceError(ChannelErrors.MESSAGE_RELEASED);
    return this._view;
  }

  /** How many bytes the message can hold. */
  get capacity(): number {
    return this._view.length;
  }

  /** Bytes still free after `length`. */
  get remaining(): number {
    return this._view.length - this.length;
  }

  /** True once the message went back to its pool. */
  get isReleased(): boolean {
    return this._released;
  }

  /** The bytes in use, as a view (allocates a view; hot paths use `data` and `length`). */
  get bytes(): Buffer {
    return this.data.subarray(0, this.length);
  }

  /**
   * Copies as much of `source` (from `sourceOffset`) as fits after `length`, and returns how
   * many bytes were copied.
   */
  append(source: Uint8Array, sourceOffset = 0, sourceEnd = source.length): number {
    const view = this.data;
    const count = Math.min(sourceEnd - sourceOffset, view.length - this.length);
    if (count <= 0) return 0;
    // Fix (bench/channel): `subarray` allocated a view per append, the largest cost of a small
    // message. Copy the whole source without a view; copy short ranges byte by byte.
    const target = this.length;
    if (sourceOffset === 0 && count === source.length) {
      view.set(source, target);
    } else if (count <= 64) {
      for (let index = 0; index < count; index++) view[target + index] = source[sourceOffset + index]!;
    } else {
      view.set(source.subarray(sourceOffset, sourceOffset + count), target);
    }
    this.length += count;
    return count;
  }

  /**
   * Returns the message to its pool. The caller must own the message; releasing twice throws
   * `CHANNEL_MESSAGE_RELEASED`.
   */
  release(): void {
    if (this._released) throw new SluiceError(ChannelErrors.MESSAGE_RELEASED, 'message released twice');
    this._released = true;
    this.onCompletion = null;
    this.userData = null;
    if (this._pool !== null) this._pool._recycle(this);
  }

  /** @internal Readies a recycled message for its next owner. */
  _reset(capacity: number): void {
    this._released = false;
    this.length = 0;
    this.copyMark = 0;
    this.tag = 0;
    if (this._view.length !== capacity) {
      this._view = capacity === this._block.length ? this._block : this._block.subarray(0, capacity);
    }
  }

  /**
   * Wraps bytes that do not come from a pool (no copy). Releasing it only marks it released.
   * For tests and for handlers that receive memory from elsewhere.
   */
  static wrap(bytes: Uint8Array): IoMessage {
    const block = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const message = new IoMessage(block, null, -1);
    message.length = block.length;
    return message;
  }
}
