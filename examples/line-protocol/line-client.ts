/**
 * The line client's application handler.
 *
 * @module
 */
import {
  Channel,
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';
import { inject, plugin, PLUGIN_OPTIONS_TOKEN } from '../../handlers/plugins/index.js';

/** Options of a {@link LineClientHandler}. */
export interface LineClientOptions {
  /** The lines to send, one at a time, each after the reply to the previous one. */
  lines: string[];
  /** Called with each line sent and the reply received. */
  onExchange: (sent: string, received: string) => void;
}

/**
 * LineClientHandler sends its lines one by one, waiting for each reply, and closes the
 * connection after the last reply. A decorated plugin: options and channel are injected.
 */
@plugin<LineClientOptions>('line-client', {
  validate: {
    lines: {
      type: 'array',
      required: true,
      check: (lines) =>
        lines.every((line) => typeof line === 'string' && !line.includes('\n'))
          ? undefined
          : 'must be strings without newlines',
    },
    onExchange: { type: 'function', required: true },
  },
})
export class LineClientHandler implements ChannelHandler {
  private next = 0;

  /** Created by the registry per connection. */
  constructor(
    @inject(PLUGIN_OPTIONS_TOKEN) private readonly options: LineClientOptions,
    readonly channel: Channel,
  ) {}

  /** Sends the first line. */
  installed(slot: ChannelSlot): void {
    this.sendNext(slot);
  }

  /** A reply: report it, then send the next line or close. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const reply = message.data.toString('utf8', 0, message.length);
    message.release();
    this.options.onExchange(this.options.lines[this.next - 1] ?? '', reply);
    if (this.next < this.options.lines.length) this.sendNext(slot);
    else slot.channel.shutdown();
  }

  /** Nothing is right of it. */
  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the line client must be the last slot');
  }

  /** Nothing is right of it. */
  incrementReadWindow(): void {}

  /** Completes at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Accepts every reply at once. */
  initialWindowSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** Adds nothing. */
  messageOverhead(): number {
    return 0;
  }

  private sendNext(slot: ChannelSlot): void {
    const line = this.options.lines[this.next++];
    if (line === undefined) {
      slot.channel.shutdown();
      return;
    }
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    const message = slot.acquireMessageForWrite(bytes.length);
    message.append(bytes);
    slot.sendMessage(message, ChannelDirection.WRITE);
  }
}
