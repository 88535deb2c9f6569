/**
 * The base class of handlers that forward traffic unchanged: loggers, counters, timeouts.
 *
 * @module
 */
import { ChannelDirection, type ChannelHandler } from './channel-handler.js';
import type { ChannelSlot } from './channel-slot.js';
import type { SluiceError } from './errors.js';
import type { IoMessage } from './io-message.js';
import { Task, TaskStatus } from './task.js';
import { ChannelSlot as ChannelSlotClass } from './channel-slot.js';
import { checkArgument } from './argument-checks.js';

/**
 * PassThroughHandler forwards every message both ways, unchanged and at once, and lets a
 * subclass look at each one first (`observeRead`, `observeWrite`, `observeShutdown`). It is the
 * base of the idle-timeout, rate-limiter, frame-logger and diagnostics plugins, and of a user's
 * own observing plugins; used as it is, it is a plain pass-through.
 *
 * Windows: a pass-through forwards each read at once, so its read window must never exceed the
 * window of the handler to its right, which it cannot see when it is installed (pipelines are
 * built left to right). It therefore starts with a window of 0 and, on the first channel task
 * and whenever the right neighbour opens its window, raises its own window to exactly the
 * right neighbour's ({@link matchRightWindow}). Reads lower both windows equally, so they stay
 * equal; nothing is buffered and nothing is delayed beyond the first turn after installation.
 *
 * @example
 * ```ts
 * class ByteCounter extends PassThroughHandler {
 *   bytesRead = 0;
 *   protected override observeRead(_slot: ChannelSlot, message: IoMessage): void {
 *     this.bytesRead += message.length;
 *   }
 * }
 * ```
 */
export class PassThroughHandler implements ChannelHandler {
  /** The slot, once installed; null after destroy. */
  protected slot: ChannelSlot | null = null;
  private readonly windowSyncTask = new Task((status) => {
    if (status === TaskStatus.RUN_READY && this.slot !== null) matchWindow(this.slot);
  }, 'pass-through-window-sync');

  /** Remembers the slot and schedules the first window match; subclasses calling `super.installed` keep that. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    slot.channel.scheduleTaskNow(this.windowSyncTask);
  }

  /** Shows the message to `observeRead`, then sends it right. The message is not changed. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    this.observeRead(slot, message);
    slot.sendMessage(message, ChannelDirection.READ);
  }

  /** Shows the message to `observeWrite`, then sends it left. The message is not changed. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    this.observeWrite(slot, message);
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  /** The right neighbour opened its window: open ours to match it (never beyond it). */
  incrementReadWindow(slot: ChannelSlot, _size: number): void {
    matchWindow(slot);
  }

  /** Calls `observeShutdown`, then completes the direction at once. */
  shutdown(
    slot: ChannelSlot,
    direction: ChannelDirection,
    error: SluiceError | null,
    freeScarceResourcesImmediately: boolean,
  ): void {
    this.observeShutdown(slot, direction, error);
    slot.onHandlerShutdownComplete(direction, error, freeScarceResourcesImmediately);
  }

  /** 0: the window opens to the right neighbour's on the first task (see the class comment). */
  initialWindowSize(): number {
    return 0;
  }

  /** A pass-through adds nothing to messages. */
  messageOverhead(): number {
    return 0;
  }

  /** Forgets the slot. */
  destroy(): void {
    this.slot = null;
  }

  /**
   * Sees a read message before it moves on. It must not change, keep or release the message, and
   * should not throw (a throw rejects the message back to the left neighbour).
   */
  protected observeRead(_slot: ChannelSlot, _message: IoMessage): void {}

  /** Sees a write message before it moves on; the same rules as {@link PassThroughHandler.observeRead}. */
  protected observeWrite(_slot: ChannelSlot, _message: IoMessage): void {}

  /** Sees each shutdown direction before it completes. */
  protected observeShutdown(_slot: ChannelSlot, _direction: ChannelDirection, _error: SluiceError | null): void {}
}

/**
 * Opens `slot`'s read window up to the window of the slot to its right, never beyond: what a
 * handler that forwards every read at once may accept. Does nothing when the windows already
 * match or back-pressure is off. Throws `IO_INVALID_OPTIONS` when `slot` is not a channel slot.
 */
export function matchRightWindow(slot: ChannelSlot): void {
  checkArgument(slot instanceof ChannelSlotClass, 'matchRightWindow(slot)', 'slot is a ChannelSlot', slot);
  matchWindow(slot);
}

/** {@link matchRightWindow} without the check, for the pass-through's own calls. */
function matchWindow(slot: ChannelSlot): void {
  const gap = slot.downstreamReadWindow() - slot.windowSize;
  if (gap > 0) slot.incrementReadWindow(gap);
}
