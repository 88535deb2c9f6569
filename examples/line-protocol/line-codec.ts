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
 * It holds at most one partial line (`maxLineLength` bytes); a longer line shuts the connection
 * down with `LINE_TOO_LONG`. The application handlers of this example accept everything at once,
 * so the codec reopens its window by each message's size as soon as it has handled it.
 */
export class LineCodec implements ChannelHandler {
  private readonly partial: Buffer;
  private partialLength = 0;

  /** Creates a codec for lines of up to `options.maxLineLength` bytes. */
  constructor(private readonly options: LineCodecOptions) {
    this.partial = Buffer.alloc(options.maxLineLength);
  }

  /** Splits the bytes into lines; keeps the unfinished tail for the next read. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const data = message.data;
    const length = message.length;
    try {
      let start = 0;
      for (let newline = data.indexOf(NEWLINE, 0); newline !== -1 && newline < length; newline = data.indexOf(NEWLINE, start)) {
        this.keep(data, start, newline);
        this.sendLine(slot);
        start = newline + 1;
      }
      this.keep(data, start, length);
    } catch (error) {
      slot.channel.shutdown(error instanceof SluiceError ? error : new SluiceError(LineErrors.TOO_LONG, String(error)));
    } finally {
      message.release();
    }
    slot.incrementReadWindow(length);
  }

  /** Writes pass through. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  /** The application end never closes its window in this example. */
  incrementReadWindow(): void {}

  /** Drops a partial line; completes at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) this.partialLength = 0;
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Room for a few messages of lines. */
  initialWindowSize(): number {
    return 64 * 1024;
  }

  /** Adds nothing to writes. */
  messageOverhead(): number {
    return 0;
  }

  private keep(data: Buffer, start: number, end: number): void {
    const count = end - start;
    if (this.partialLength + count > this.options.maxLineLength) {
      throw new SluiceError(LineErrors.TOO_LONG, `a line is longer than ${this.options.maxLineLength} bytes`);
    }
    data.copy(this.partial, this.partialLength, start, end);
    this.partialLength += count;
  }

  private sendLine(slot: ChannelSlot): void {
    let lineLength = this.partialLength;
    if (lineLength > 0 && this.partial[lineLength - 1] === 0x0d) lineLength--;
    this.partialLength = 0;
    const line = slot.channel.messagePool.acquire(Math.max(1, lineLength));
    line.append(this.partial, 0, lineLength);
    try {
      slot.sendMessage(line, ChannelDirection.READ);
    } catch (error) {
      line.release();
      throw error;
    }
  }
}

/** The registration of the codec, in the registry's function form. */
export const LINE_CODEC_PLUGIN: FactoryPluginSpec<LineCodecOptions> = {
  defaults: { maxLineLength: 1024 },
  validate: { maxLineLength: { type: 'integer', min: 1, max: 65_536 } },
  factory: (options) => new LineCodec(options),
};
