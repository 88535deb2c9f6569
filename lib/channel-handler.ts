/**
 * The handler contract: what every slot's occupant implements.
 *
 * @module
 */
import type { ChannelSlot } from './channel-slot.js';
import type { SluiceError } from './errors.js';
import type { IoMessage } from './io-message.js';
import type { HandlerStatistics } from './statistics.js';

/** Which way data or shutdown moves: READ from the socket toward the application (left → right), WRITE back (right → left). */
export const ChannelDirection = {
  /** From the socket toward the application. */
  READ: 0,
  /** From the application toward the socket. */
  WRITE: 1,
} as const;
/** A {@link ChannelDirection} value. */
export type ChannelDirection = (typeof ChannelDirection)[keyof typeof ChannelDirection];

/**
 * ChannelHandler is the contract every handler implements — sluice's own (socket, TLS, HTTP/2)
 * and a user's plugin alike. All calls happen on the channel's event loop.
 *
 * Ownership: a handler that accepts a message (its `process*Message` returns normally) owns it
 * and must pass it on with `slot.sendMessage` or `message.release()`, exactly once. If it
 * throws, it must not have done either: the sender still owns the message.
 */
export interface ChannelHandler {
  /**
   * A message moves right (from the socket toward the application) into this handler. Called
   * synchronously by the left neighbour's `sendMessage`; `message.length` never exceeds this
   * slot's read window when back-pressure is on (the window was already reduced by it).
   */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void;

  /**
   * A message moves left (toward the socket) into this handler. The leftmost handler completes
   * it: fires `message.onCompletion` once the bytes are written (or failed), then releases it.
   */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void;

  /**
   * The handler to the right opened this slot's read window by `size` bytes (already added to
   * `slot.windowSize`). Called from a channel task, never re-entrantly from `sendMessage`. A
   * pass-through handler usually calls `slot.incrementReadWindow(size)` to propagate it left.
   */
  incrementReadWindow(slot: ChannelSlot, size: number): void;

  /**
   * Shut down one direction. READ runs first, left to right; WRITE then runs right to left.
   * The handler calls `slot.onHandlerShutdownComplete(direction, error, free)` when that side
   * is done — synchronously or later (e.g. once a GOAWAY is written). With
   * `freeScarceResourcesImmediately`, flush nothing and close now.
   */
  shutdown(
    slot: ChannelSlot,
    direction: ChannelDirection,
    error: SluiceError | null,
    freeScarceResourcesImmediately: boolean,
  ): void;

  /** The read window this handler's slot starts with: how many bytes it accepts before it opens more. */
  initialWindowSize(): number;

  /** Bytes this handler adds to each message written through it (e.g. TLS record overhead). */
  messageOverhead(): number;

  /** Called once when the handler is placed in a slot, before any other call. */
  installed?(slot: ChannelSlot): void;

  /** Counters for the channel's statistics interval; null when there is nothing to report. */
  gatherStatistics?(): HandlerStatistics | null;

  /** Zero the counters after a statistics interval. */
  resetStatistics?(): void;

  /** Start (or resume) producing reads; the socket handler starts reading when the bootstrap calls it after setup. */
  triggerRead?(): void;

  /** Release everything; called once after the channel shut down or the slot was removed. */
  destroy?(): void;
}
