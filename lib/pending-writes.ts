/**
 * Completing written messages: what the handler that writes to the outside world (a socket, a
 * TLS session) owes each message it accepted.
 *
 * @module
 */
import type { Channel } from './channel.js';
import type { SluiceError } from './errors.js';
import type { IoMessage } from './io-message.js';
import { SmallFifo } from './small-fifo.js';

/**
 * Fires a written message's `onCompletion` (once, with `error` or null) and returns the message
 * to its pool — in that order, and the release happens even if the callback throws. `channel`
 * null (the handler was already detached) skips the callback.
 */
export function completeWrite(channel: Channel | null, message: IoMessage, error: SluiceError | null): void {
  const completion = message.onCompletion;
  try {
    if (completion !== null && channel !== null) completion(channel, message, error);
  } finally {
    message.release();
  }
}

/**
 * PendingWrites is the FIFO of messages a handler handed to something that reports writes done
 * in order (Node's `socket.write` callbacks): complete the oldest as each report comes, or fail
 * them all when the writer goes away. `size` tells how many wait.
 */
export class PendingWrites extends SmallFifo<IoMessage> {
  /** Adds a message whose write was started. */
  push(message: IoMessage): void {
    this.pushItem(message);
  }

  /** Completes the oldest message with `error` (null: written); false when none waits. */
  completeOldest(channel: Channel | null, error: SluiceError | null): boolean {
    const message = this.shiftItem();
    if (message === undefined) return false;
    completeWrite(channel, message, error);
    return true;
  }

  /** Completes every waiting message with `error`, oldest first. */
  failAll(channel: Channel | null, error: SluiceError): void {
    while (this.completeOldest(channel, error));
  }
}
