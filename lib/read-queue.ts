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
    let sent = 0;
    while (this.size > 0) {
      const chunk = this.peekItem()!;
      const count = nextReadSize(slot, chunk.length, isDuringShutdown);
      if (count === 0) break;
      if (count === chunk.length) this.shiftItem();
      else this.replaceFirstItem(chunk.subarray(count));
      this.bytes -= count;
      if (!sendRead(slot, chunk, 0, count)) return -1;
      sent += count;
    }
    return sent;
  }
}

/**
 * Sends right from `slot`, in pooled messages, as much of `chunk` as the read window allows —
 * what {@link ReadQueue.deliver} does, for a handler whose queue is empty: a read the window takes
 * whole needs no queue, so a connection that is never held back by its window never makes one.
 * Returns the bytes of `chunk` sent (the caller queues the rest), or -1 when the neighbour refused
 * a message (released; the channel shuts down with `CHANNEL_HANDLER_FAILED`, and the rest of the
 * chunk is dropped with it).
 */
export function deliverChunk(slot: ChannelSlot, chunk: Buffer): number {
  let sent = 0;
  while (sent < chunk.length) {
    const count = nextReadSize(slot, chunk.length - sent, false);
    if (count === 0) break;
    if (!sendRead(slot, chunk, sent, count)) return -1;
    sent += count;
  }
  return sent;
}

/** How many of `available` bytes the next message right from `slot` may carry; 0 when none may go now. */
function nextReadSize(slot: ChannelSlot, available: number, isDuringShutdown: boolean): number {
  const channel = slot.channel;
  if ((!isDuringShutdown && channel.isShuttingDown) || slot.adjacentRight === null) return 0;
  const window = slot.downstreamReadWindow();
  if (window <= 0) return 0;
  return Math.min(available, window, channel.messagePool.dataMessageSize);
}

/** Sends `count` bytes of `chunk` from `start` right in one pooled message; false when the neighbour refused it. */
function sendRead(slot: ChannelSlot, chunk: Buffer, start: number, count: number): boolean {
  const channel = slot.channel;
  const message = channel.messagePool.acquire(count);
  message.append(chunk, start, start + count);
  try {
    slot.sendMessage(message, ChannelDirection.READ);
  } catch (thrown) {
    message.release();
    channel.shutdown(asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
    return false;
  }
  return true;
}
