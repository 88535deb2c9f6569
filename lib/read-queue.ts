/**
 * Bytes from outside the channel waiting for the read window to their right.
 *
 * @module
 */
import { ChannelDirection } from './channel-handler.js';
import type { ChannelSlot } from './channel-slot.js';
import { ChannelErrors, asSluiceError } from './errors.js';
import { SmallFifo } from './small-fifo.js';

/**
 * ReadQueue holds the bytes a handler received from outside the channel — a socket's reads, a
 * TLS session's plaintext — until the read window of the slot to its right lets them through,
 * and sends them right in pooled messages (never more than the window, never more than a data
 * message). The handler pauses its source while the queue is not empty, so the queue holds at
 * most what the source delivered before the pause.
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
      const message = pool.acquire(count);
      message.append(chunk, 0, count);
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
