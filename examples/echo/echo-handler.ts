/**
 * The echo handler: the application end of the echo server's pipeline.
 *
 * @module
 */
import {
  ChannelDirection,
  SluiceError,
  asSluiceError,
  ChannelErrors,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';
import { FrameTag, FramingErrors } from './length-prefix-framer.js';

/** Options of an {@link EchoHandler}; see {@link ECHO_HANDLER_DEFAULTS}. */
export interface EchoHandlerOptions {
  /**
   * Payload bytes the handler accepts before echoes are written: its read window. It must be
   * at least the framer's longest frame, or a frame could never be completed.
   */
  readWindow?: number;
}

/** Defaults of {@link EchoHandlerOptions}: four 16 KiB messages in flight. */
export const ECHO_HANDLER_DEFAULTS: Readonly<Required<EchoHandlerOptions>> = Object.freeze({
  readWindow: 64 * 1024,
});

/**
 * EchoHandler sends every frame it reads back to the peer, whole and in order. It sits right of
 * a {@link LengthPrefixFramer}: it collects the chunks of one frame (marked with
 * {@link FrameTag}) into one write message, and writes it when the frame ends.
 *
 * Back-pressure: the handler opens its read window again only when an echo has been written to
 * the socket (its `onCompletion`), so a peer that does not read its echoes stops the server
 * reading from it — the socket pauses instead of memory growing.
 */
export class EchoHandler implements ChannelHandler {
  private readonly readWindow: number;
  /** The frame being collected; owned by this handler until written. */
  private pendingEcho: IoMessage | null = null;
  /** Frames echoed (completed writes). */
  private framesEchoedCount = 0;
  /** Created once: a completion closure per message would allocate on the hot path. */
  private readonly onEchoWritten = (channel: Channel, message: IoMessage, error: SluiceError | null): void =>
    this.handleEchoWritten(channel, message, error);
  private slot: ChannelSlot | null = null;

  /** Creates an echo handler; see {@link EchoHandlerOptions}. */
  constructor(options: EchoHandlerOptions = {}) {
    const settings = { ...ECHO_HANDLER_DEFAULTS, ...options };
    if (!(settings.readWindow > 0)) throw new RangeError('readWindow must be positive');
    this.readWindow = settings.readWindow;
  }

  /** Frames echoed so far (writes the socket reported done). */
  get framesEchoed(): number {
    return this.framesEchoedCount;
  }

  /** Remembers the slot. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  /** Adds the chunk to the frame being echoed; writes the frame when its last chunk arrives. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const tag = message.tag;
    try {
      if ((tag & FrameTag.START) !== 0) {
        this.dropPendingEcho();
        this.pendingEcho = slot.acquireMaxMessageForWrite();
      }
      const echo = this.pendingEcho;
      if (echo === null) {
        throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'a frame chunk arrived without a frame start');
      }
      if (echo.append(message.data, 0, message.length) !== message.length) {
        throw new SluiceError(
          FramingErrors.FRAME_TOO_LARGE,
          `a frame longer than ${echo.capacity} bytes cannot be echoed`,
        );
      }
    } catch (thrown) {
      this.dropPendingEcho();
      slot.channel.shutdown(asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
    } finally {
      message.release();
    }
    if ((tag & FrameTag.END) !== 0 && this.pendingEcho !== null) this.writeEcho(slot);
  }

  /** Nothing is right of the application end. */
  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the echo handler must be the last slot');
  }

  /** Nothing is right of the application end, so nothing opens this window but the handler itself. */
  incrementReadWindow(): void {}

  /** Drops a half-collected frame; completes at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) this.dropPendingEcho();
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** See {@link EchoHandlerOptions.readWindow}. */
  initialWindowSize(): number {
    return this.readWindow;
  }

  /** Writes nothing of its own around the payload. */
  messageOverhead(): number {
    return 0;
  }

  /** Returns a half-collected frame to the pool. */
  destroy(): void {
    this.dropPendingEcho();
    this.slot = null;
  }

  private writeEcho(slot: ChannelSlot): void {
    const echo = this.pendingEcho!;
    this.pendingEcho = null;
    echo.onCompletion = this.onEchoWritten;
    // The payload length, to reopen the window by exactly what this frame took from it; the
    // framer in front changes the message's length to add its prefix.
    echo.userData = echo.length;
    try {
      slot.sendMessage(echo, ChannelDirection.WRITE);
    } catch (thrown) {
      echo.release();
      slot.channel.shutdown(asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
    }
  }

  private handleEchoWritten(_channel: Channel, message: IoMessage, error: SluiceError | null): void {
    if (error !== null) return;
    this.framesEchoedCount++;
    const payloadLength = message.userData as number;
    this.slot?.incrementReadWindow(payloadLength);
  }

  private dropPendingEcho(): void {
    const echo = this.pendingEcho;
    this.pendingEcho = null;
    echo?.release();
  }
}
