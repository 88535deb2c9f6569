/**
 * The line codec: turns a byte stream into one message per `\n`-terminated line.
 *
 * @module
 */
import {
  ChannelDirection,
  SluiceError,
  defineErrors,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';
import type { FactoryPluginSpec } from '../../handlers/plugins/index.js';

/** Errors of the line protocol: codes `LINE_…`. */
export const LineErrors = defineErrors('LINE', {
  TOO_LONG: 'a line is longer than the codec accepts',
});

/** Options of a {@link LineCodec}. */
export interface LineCodecOptions {
  /** The longest line accepted, without its newline. */
  maxLineLength: number;
}

const NEWLINE = 0x0a;

/**
 * LineCodec splits what it reads into lines and sends each line right as one message, without
 * its `\n` (and without a trailing `\r`). Writes pass through unchanged: the application ends
 * its lines itself.
 *
 * It is a codec that buffers, and keeps the two window rules such a codec must keep:
 * - **It sends right only within the downstream window** (`slot.canSendRight(size)`). Lines
 *   the right neighbour has no room for wait, in order, until it opens its window — which this
 *   codec hears through its own `incrementReadWindow`.
 * - **It reopens its own window by what it consumed**: the input bytes of each line (newline
 *   included) once that line went right — not when the bytes arrived. So everything it holds
 *   (waiting lines and one partial line) stays within its own window, and a slow application
 *   stops the socket instead of growing this queue.
 *
 * A line is delivered whole, so the right neighbour's window must hold `maxLineLength` bytes;
 * a line longer than that shuts the connection down with `LINE_TOO_LONG` when it arrives.
 */
export class LineCodec implements ChannelHandler {
  private readonly partial: Buffer;
  private partialLength = 0;
  /** Input bytes of the partial line so far (its `\r` included), credited when it is sent. */
  private partialInputBytes = 0;
  /** Complete lines the right neighbour had no window for, oldest first; owned by the codec. */
  private readonly waitingLines: IoMessage[] = [];

  /** Creates a codec for lines of up to `options.maxLineLength` bytes. */
  constructor(private readonly options: LineCodecOptions) {
    this.partial = Buffer.alloc(options.maxLineLength);
  }

  /** Lines waiting for the right neighbour's window. */
  get waitingLineCount(): number {
    return this.waitingLines.length;
  }

  /** Splits the bytes into lines, queues them, sends what the downstream window allows. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const data = message.data;
    const length = message.length;
    try {
      let start = 0;
      for (
        let newline = data.indexOf(NEWLINE, 0);
        newline !== -1 && newline < length;
        newline = data.indexOf(NEWLINE, start)
      ) {
        this.keep(data, start, newline);
        this.partialInputBytes += 1; // the newline
        this.queueLine(slot);
        start = newline + 1;
      }
      this.keep(data, start, length);
    } catch (error) {
      slot.channel.shutdown(error instanceof SluiceError ? error : new SluiceError(LineErrors.TOO_LONG, String(error)));
      return;
    } finally {
      message.release();
    }
    this.sendWaitingLines(slot);
  }

  /** Writes pass through. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  /** The right neighbour opened its window: lines that were waiting for it go now. */
  incrementReadWindow(slot: ChannelSlot): void {
    this.sendWaitingLines(slot);
  }

  /** Drops a partial line and lines not yet delivered; completes at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) this.dropHeldLines();
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Room for a few messages of lines: all the codec ever holds. */
  initialWindowSize(): number {
    return 64 * 1024;
  }

  /** Adds nothing to writes. */
  messageOverhead(): number {
    return 0;
  }

  /** Returns held lines to the pool. */
  destroy(): void {
    this.dropHeldLines();
  }

  private keep(data: Buffer, start: number, end: number): void {
    const count = end - start;
    if (this.partialLength + count > this.options.maxLineLength) {
      throw new SluiceError(LineErrors.TOO_LONG, `a line is longer than ${this.options.maxLineLength} bytes`);
    }
    data.copy(this.partial, this.partialLength, start, end);
    this.partialLength += count;
    this.partialInputBytes += count;
  }

  /** Moves the completed partial line into a message at the end of the waiting queue. */
  private queueLine(slot: ChannelSlot): void {
    let lineLength = this.partialLength;
    if (lineLength > 0 && this.partial[lineLength - 1] === 0x0d) lineLength--;
    const line = slot.channel.messagePool.acquire(Math.max(1, lineLength));
    line.append(this.partial, 0, lineLength);
    // What reading this line took from our window, given back once it went right.
    line.userData = this.partialInputBytes;
    this.partialLength = 0;
    this.partialInputBytes = 0;
    this.waitingLines.push(line);
  }

  /** Sends waiting lines in order while the downstream window holds them; reopens our window by their input. */
  private sendWaitingLines(slot: ChannelSlot): void {
    let consumed = 0;
    // canSendRight, not a bare window comparison: a line longer than the next handler's whole
    // window would wait forever, and the runtime says so (a WARN, counted in the channel's statistics).
    while (this.waitingLines.length > 0 && slot.canSendRight(this.waitingLines[0].length)) {
      const line = this.waitingLines.shift()!;
      const inputBytes = line.userData as number;
      line.userData = null;
      try {
        slot.sendMessage(line, ChannelDirection.READ);
      } catch (error) {
        line.release();
        slot.channel.shutdown(
          error instanceof SluiceError ? error : new SluiceError(LineErrors.TOO_LONG, String(error)),
        );
        return;
      }
      consumed += inputBytes;
    }
    if (consumed > 0) slot.incrementReadWindow(consumed);
  }

  private dropHeldLines(): void {
    this.partialLength = 0;
    this.partialInputBytes = 0;
    for (const line of this.waitingLines.splice(0)) line.release();
  }
}

/** The registration of the codec, in the registry's function form. */
export const LINE_CODEC_PLUGIN: FactoryPluginSpec<LineCodecOptions> = {
  defaults: { maxLineLength: 1024 },
  validate: { maxLineLength: { type: 'integer', min: 1, max: 65_536 } },
  factory: (options) => new LineCodec(options),
};
