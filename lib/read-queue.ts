/**
 * Bytes from outside the channel waiting for the read window to their right.
 *
 * @module
 */
import { ChannelDirection } from './channel-handler.js';
import type { ChannelSlot } from './channel-slot.js';
import { ChannelErrors, asSluiceError } from './errors.js';
import { IoMessage } from './io-message.js';
import { SmallFifo } from './small-fifo.js';

/**
 * Chunks of at least this many bytes are sent right as they are, wrapped in a message of their
 * own, instead of being copied into a pooled one: the source gives each read its own memory (a
 * socket's `'data'` chunk, TLS plaintext), and above this size the copy costs more than a
 * message object.
 */
export const READ_WRAP_MIN_BYTES = 16 * 1024;

/**
 * ReadQueue holds the bytes a handler received from outside the channel — a socket's reads, a
 * TLS session's plaintext — until the read window of the slot to its right lets them through,
 * and sends them right in messages (never more than the window, never more than a data
 * message): small chunks copied into pooled messages, chunks of {@link READ_WRAP_MIN_BYTES} or
 * more wrapped as they are. The handler pauses its source while the queue is not empty, so the
 * queue holds at most what the source delivered before the pause. A source must not reuse a
 * chunk's memory once it gave it (Node's sockets never do).
 */
export class ReadQueue extends SmallFifo<Buffer> {
  private bytes = 0;

  /** Bytes waiting. */
  get byteLength(): number {
    return this.bytes;
  }

  /** True when nothing waits. */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** Queues a chunk (kept, not copied, until it is sent). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pushItem(chunk);
    this.bytes += chunk.length;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.clearItems();
    this.bytes = 0;
  }

  /**
   * Sends right from `slot` as much as the window allows; returns the bytes sent, or -1 when
   * the neighbour refused a message — the message is released and the channel shuts down with
   * `CHANNEL_HANDLER_FAILED`. Stops at once when the channel is shutting down, unless
   * `isDuringShutdown` (a handler delivering what it holds before its read side completes).
   */
  deliver(slot: ChannelSlot, isDuringShutdown = false): number {
    const channel = slot.channel;
    const pool = channel.messagePool;
    let sent = 0;
    while (this.size > 0 && (isDuringShutdown || !channel.isShuttingDown) && slot.adjacentRight !== null) {
      const window = slot.downstreamReadWindow();
      if (window <= 0) break;
      const chunk = this.peekItem()!;
      const count = Math.min(chunk.length, window, pool.dataMessageSize);
      let message: IoMessage;
      if (count >= READ_WRAP_MIN_BYTES) {
        message = IoMessage.wrap(count === chunk.length ? chunk : chunk.subarray(0, count));
      } else {
        message = pool.acquire(count);
        message.append(chunk, 0, count);
      }
      if (count === chunk.length) this.shiftItem();
      else this.replaceFirstItem(chunk.subarray(count));
      this.bytes -= count;
      try {
        slot.sendMessage(message, ChannelDirection.READ);
      } catch (thrown) {
        message.release();
        channel.shutdown(asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
        return -1;
      }
      sent += count;
    }
    return sent;
  }
}
