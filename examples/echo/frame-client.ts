/**
 * The client side of the echo example: an application handler that writes frames and reads
 * whole frames back, and a function that connects one.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  ClientBootstrap,
  SluiceError,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type EventLoopGroup,
  type IoMessage,
  type SocketOptions,
} from '../../handlers/index.js';
import { FrameTag, FramingErrors, LengthPrefixFramer, type LengthPrefixFramerOptions } from './length-prefix-framer.js';

/** Options of a {@link FrameClientHandler}; see {@link FRAME_CLIENT_DEFAULTS}. */
export interface FrameClientOptions {
  /**
   * Payload bytes of received frames the client holds before the application takes them with
   * `readFrame()`: its read window. Must be at least the longest frame expected.
   */
  readWindow?: number;
}

/** Defaults of {@link FrameClientOptions}. */
export const FRAME_CLIENT_DEFAULTS: Readonly<Required<FrameClientOptions>> = Object.freeze({
  readWindow: 64 * 1024,
});

/** What a pending `sendFrame` waits on, carried in the message's `userData`. */
interface PendingSend {
  resolve(): void;
  reject(error: SluiceError): void;
}

/** What a pending `readFrame` waits on. */
interface PendingRead {
  resolve(frame: Buffer): void;
  reject(error: SluiceError): void;
}

/**
 * FrameClientHandler is the application end of a client pipeline behind a
 * {@link LengthPrefixFramer}: `sendFrame` writes one frame, `readFrame` returns the next whole
 * frame received.
 *
 * Back-pressure: the read window is opened again only as the application takes frames with
 * `readFrame`, so a client that stops reading stops the socket instead of buffering without
 * bound.
 */
export class FrameClientHandler implements ChannelHandler {
  private readonly readWindow: number;
  private slot: ChannelSlot | null = null;
  private readonly receivedFrames: Buffer[] = [];
  private readonly waitingReaders: PendingRead[] = [];
  private partialChunks: Buffer[] = [];
  private isReadClosed = false;
  /** One completion function for every write; the per-send state rides in `userData`. */
  private readonly onFrameWritten = (_channel: Channel, message: IoMessage, error: SluiceError | null): void => {
    const pending = message.userData as PendingSend;
    if (error === null) pending.resolve();
    else pending.reject(error);
  };

  /** Creates a client handler; see {@link FrameClientOptions}. */
  constructor(options: FrameClientOptions = {}) {
    const settings = { ...FRAME_CLIENT_DEFAULTS, ...options };
    if (!(settings.readWindow > 0)) throw new RangeError('readWindow must be positive');
    this.readWindow = settings.readWindow;
  }

  /**
   * Writes `payload` as one frame. Resolves once the frame reached the socket; rejects with
   * `FRAMING_FRAME_TOO_LARGE` when it does not fit one message, or with the channel's error.
   */
  sendFrame(payload: Uint8Array | string): Promise<void> {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const slot = this.slot;
    if (slot === null || slot.channel.isShuttingDown) {
      return Promise.reject(new SluiceError(ChannelErrors.SHUT_DOWN, 'the client channel is not open'));
    }
    const message = slot.acquireMaxMessageForWrite();
    if (message.append(bytes) !== bytes.length) {
      const capacity = message.capacity;
      message.release();
      return Promise.reject(new SluiceError(FramingErrors.FRAME_TOO_LARGE, `a frame holds at most ${capacity} bytes`));
    }
    return new Promise<void>((resolve, reject) => {
      message.userData = { resolve, reject } satisfies PendingSend;
      message.onCompletion = this.onFrameWritten;
      try {
        slot.sendMessage(message, ChannelDirection.WRITE);
      } catch (error) {
        message.release();
        reject(error);
      }
    });
  }

  /**
   * The next whole frame received. Rejects with the channel's shutdown error (or
   * `CHANNEL_SHUT_DOWN`) once the channel has closed and no frame is left.
   */
  readFrame(): Promise<Buffer> {
    const frame = this.receivedFrames.shift();
    if (frame !== undefined) {
      this.slot?.incrementReadWindow(frame.length);
      return Promise.resolve(frame);
    }
    if (this.isReadClosed) return Promise.reject(this.closedError());
    return new Promise<Buffer>((resolve, reject) => this.waitingReaders.push({ resolve, reject }));
  }

  /** Remembers the slot. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  /** Collects the chunks of a frame (copied: the message goes back to the pool at once). */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const tag = message.tag;
    if ((tag & FrameTag.START) !== 0) this.partialChunks = [];
    this.partialChunks.push(Buffer.from(message.data.subarray(0, message.length)));
    message.release();
    if ((tag & FrameTag.END) === 0) return;
    // Joining chunks is the application's business, outside the pipeline's hot path.
    const frame = this.partialChunks.length === 1 ? this.partialChunks[0] : Buffer.concat(this.partialChunks);
    this.partialChunks = [];
    const reader = this.waitingReaders.shift();
    if (reader !== undefined) {
      slot.incrementReadWindow(frame.length);
      reader.resolve(frame);
    } else {
      this.receivedFrames.push(frame);
    }
  }

  /** Nothing is right of the application end. */
  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'the frame client must be the last slot');
  }

  /** Nothing is right of the application end. */
  incrementReadWindow(): void {}

  /** READ: readers waiting for a frame that cannot come are rejected. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isReadClosed = true;
      this.partialChunks = [];
      const failure = error ?? this.closedError();
      for (const reader of this.waitingReaders.splice(0)) reader.reject(failure);
    }
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** See {@link FrameClientOptions.readWindow}. */
  initialWindowSize(): number {
    return this.readWindow;
  }

  /** Nothing is added to writes. */
  messageOverhead(): number {
    return 0;
  }

  private closedError(): SluiceError {
    return (
      this.slot?.channel.shutdownError ?? new SluiceError(ChannelErrors.SHUT_DOWN, 'the client channel has closed')
    );
  }
}

/** Options of {@link connectFrameClient}. */
export interface ConnectFrameClientOptions {
  /** Server host (TCP); 127.0.0.1 by default. */
  host?: string;
  /** Server port (TCP). */
  port?: number;
  /** Unix socket path, instead of host and port. */
  path?: string;
  /** Loops for the channel; the process default otherwise. */
  loopGroup?: EventLoopGroup;
  /** Socket options (connect timeout, …). */
  socketOptions?: SocketOptions;
  /** Options of the framer. */
  framer?: LengthPrefixFramerOptions;
  /** Options of the client handler. */
  client?: FrameClientOptions;
}

/** A connected frame client: the channel and its application end. */
export interface FrameClientConnection {
  /** The channel: socket → framer → client. */
  readonly channel: Channel;
  /** The application end. */
  readonly client: FrameClientHandler;
}

/**
 * Connects to a length-prefixed frame server (such as the echo server) and resolves once the
 * channel socket → {@link LengthPrefixFramer} → {@link FrameClientHandler} is set up.
 */
export async function connectFrameClient(options: ConnectFrameClientOptions): Promise<FrameClientConnection> {
  const client = new FrameClientHandler(options.client);
  const bootstrap = new ClientBootstrap(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {});
  const channel = await bootstrap.connect({
    ...(options.path !== undefined
      ? { path: options.path }
      : { host: options.host ?? '127.0.0.1', port: options.port ?? 0 }),
    ...(options.socketOptions !== undefined ? { socketOptions: options.socketOptions } : {}),
    pipeline: (ready) => {
      ready.appendHandler(new LengthPrefixFramer(options.framer));
      ready.appendHandler(client);
    },
  });
  return { channel, client };
}
