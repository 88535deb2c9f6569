/**
 * The application end of a test channel: the last handler, which records what reaches it
 * (reads, write completions, shutdown) and writes on the test's behalf.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../lib/index.js';

/** When an {@link AppEnd} opens its read window for what it read. */
export type WindowOpening = 'at-once' | 'later' | 'never';

/** Options of an {@link AppEnd}. */
export interface AppEndOptions {
  /** Initial read window, bytes (default: unlimited). */
  window?: number;
  /**
   * Opens the window for what was read at once (default), on a later turn (`setImmediate`: a
   * slow consumer), or never (the test opens it).
   */
  windowOpening?: WindowOpening;
  /** Keeps every chunk read (default true); otherwise only the count and running hash. */
  isKeepingChunks?: boolean;
}

/** One shutdown call the application end received. */
export interface AppEndShutdown {
  readonly direction: ChannelDirection;
  readonly error: SluiceError | null;
}

/**
 * AppEnd is the last handler of a test channel. It records what it reads (chunks, byte count,
 * a running SHA-256), opens its window as told, writes buffers in pooled messages numbered in
 * order and records each message's completions, and records shutdown calls (completing them at
 * once). It owns and releases every message it reads.
 */
export class AppEnd implements ChannelHandler {
  slot: ChannelSlot | null = null;
  readonly chunks: Buffer[] = [];
  bytesReceived = 0;
  /** Completion calls per written message index (a message completes exactly once when all is well). */
  readonly completionCounts: number[] = [];
  /** The error of each written message's first completion. */
  readonly completionErrors: (SluiceError | null)[] = [];
  /** Completion calls with an error, duplicates included. */
  failedCompletions = 0;
  /** Shutdown calls, in order. */
  readonly shutdowns: AppEndShutdown[] = [];
  private readonly window: number;
  private readonly windowOpening: WindowOpening;
  private readonly isKeepingChunks: boolean;
  private readonly hash = createHash('sha256');
  private nextWriteIndex = 0;
  private readonly onWritten = (_channel: Channel, message: IoMessage, error: SluiceError | null): void => {
    const index = message.userData as number;
    this.completionCounts[index] = (this.completionCounts[index] ?? 0) + 1;
    if (this.completionCounts[index] === 1) this.completionErrors[index] = error;
    if (error !== null) this.failedCompletions++;
  };

  constructor(options: AppEndOptions = {}) {
    this.window = options.window ?? Number.MAX_SAFE_INTEGER;
    this.windowOpening = options.windowOpening ?? 'at-once';
    this.isKeepingChunks = options.isKeepingChunks ?? true;
  }

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const bytes = message.data.subarray(0, message.length);
    this.hash.update(bytes);
    if (this.isKeepingChunks) this.chunks.push(Buffer.from(bytes));
    const length = message.length;
    this.bytesReceived += length;
    message.release();
    if (this.windowOpening === 'at-once') slot.incrementReadWindow(length);
    else if (this.windowOpening === 'later') setImmediate(() => slot.incrementReadWindow(length));
  }

  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'nothing is right of the test application');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    this.shutdowns.push({ direction, error });
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.window;
  }

  messageOverhead(): number {
    return 0;
  }

  /** Writes `bytes` in messages as large as the slot allows (at least one); returns how many. */
  write(bytes: Uint8Array): number {
    const slot = this.slot!;
    let offset = 0;
    let count = 0;
    do {
      const message = slot.acquireMessageForWrite(bytes.length - offset);
      offset += message.append(bytes, offset);
      message.onCompletion = this.onWritten;
      message.userData = this.nextWriteIndex++;
      slot.sendMessage(message, ChannelDirection.WRITE);
      count++;
    } while (offset < bytes.length);
    return count;
  }

  /** Messages written so far. */
  get writeCount(): number {
    return this.nextWriteIndex;
  }

  /** Completion calls so far, all messages together. */
  get completions(): number {
    return this.completionCounts.reduce((sum, count) => sum + count, 0);
  }

  /** Everything read (empty unless chunks are kept). */
  get receivedBytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Hex SHA-256 of everything read so far (ends the running hash: call once). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** EchoAppEnd writes back every read (after recording it as {@link AppEnd} does): the sluice side of echo tests. */
export class EchoAppEnd extends AppEnd {
  override processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const copy = Buffer.from(message.data.subarray(0, message.length));
    super.processReadMessage(slot, message);
    this.write(copy);
  }
}
