/**
 * The line server's application handler.
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

/** Options of a {@link LineServerHandler}. */
export interface LineServerOptions {
  /** Put before every reply. */
  prefix: string;
}

/**
 * LineServerHandler answers each line with the line in upper case (after `prefix`), and `QUIT`
 * with `BYE`, after which it closes the connection once the reply is written.
 *
 * It is a decorated plugin: the registry builds one per connection, injecting its options and
 * the connection's channel.
 */
@plugin<LineServerOptions>('line-server', {
  defaults: { prefix: '' },
  validate: { prefix: { type: 'string' } },
})
export class LineServerHandler implements ChannelHandler {
  /** Closes the connection once BYE is written; one closure per handler, not per message. */
  private readonly closeAfterWrite = (channel: Channel): void => channel.shutdown();

  /** Created by the registry per connection. */
  constructor(
    @inject(PLUGIN_OPTIONS_TOKEN) private readonly options: LineServerOptions,
    readonly channel: Channel,
  ) {}

  /** Answers one line. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const line = message.data.toString('utf8', 0, message.length);
    message.release();
    const isQuit = line === 'QUIT';
    const reply = slot.acquireMessageForWrite(this.options.prefix.length + line.length * 3 + 8);
    reply.length = reply.data.write(`${this.options.prefix}${isQuit ? 'BYE' : line.toUpperCase()}\n`, 0, 'utf8');
    if (isQuit) reply.onCompletion = this.closeAfterWrite;
    slot.sendMessage(reply, ChannelDirection.WRITE);
  }

  /** Nothing is right of it. */
  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the line server must be the last slot');
  }

  /** Nothing is right of it. */
  incrementReadWindow(): void {}

  /** Completes at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Accepts every line at once. */
  initialWindowSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** Adds nothing. */
  messageOverhead(): number {
    return 0;
  }
}
