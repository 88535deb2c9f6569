/**
 * Shared pieces of the TLS tests: fixtures, a recording application handler, polling helpers.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../handlers/index.js';

// dist/tests/handlers/tls → the source fixtures folder (fixtures are not copied by tsc).
const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../tests/fixtures/tls');

/** Reads one PEM fixture from tests/fixtures/tls. */
export function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}

/** The fixture set, loaded once. */
export const pem = {
  ca: fixture('ca-cert.pem'),
  serverCert: fixture('server-cert.pem'),
  serverKey: fixture('server-key.pem'),
  otherServerCert: fixture('other-server-cert.pem'),
  otherServerKey: fixture('other-server-key.pem'),
  clientCert: fixture('client-cert.pem'),
  clientKey: fixture('client-key.pem'),
  otherClientCert: fixture('other-client-cert.pem'),
  otherClientKey: fixture('other-client-key.pem'),
};

/** Hex SHA-256 of `data`. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Polls `predicate` once per 1 ms timer turn; throws (instead of hanging) after `maxTurns`. */
export async function until(predicate: () => boolean, what: string, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets Node run `count` rounds of I/O and immediates. */
export async function ioTurns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The application end of the tests: records what it reads (as a running hash and byte count,
 * or whole when asked), opens its window as it reads — at once, or on a later turn to play a
 * slow consumer — and writes buffers in pooled messages, counting completions.
 */
export class RecordingApp implements ChannelHandler {
  slot: ChannelSlot | null = null;
  bytesReceived = 0;
  readonly chunks: Buffer[] = [];
  completions = 0;
  completionErrors = 0;
  private readonly hash = createHash('sha256');
  private readonly onWritten = (_channel: Channel, _message: IoMessage, error: SluiceError | null): void => {
    this.completions++;
    if (error !== null) this.completionErrors++;
  };

  constructor(
    private readonly window = Number.MAX_SAFE_INTEGER,
    private readonly windowOpening: 'at-once' | 'later' = 'at-once',
    private readonly isKeepingChunks = true,
  ) {}

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
    this.onRead(slot, length);
  }

  /** Opens the window for what was read (at once or on a later turn). */
  protected onRead(slot: ChannelSlot, length: number): void {
    if (this.windowOpening === 'at-once') slot.incrementReadWindow(length);
    else setImmediate(() => slot.incrementReadWindow(length));
  }

  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'nothing is right of the test application');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.window;
  }

  messageOverhead(): number {
    return 0;
  }

  /** Writes `bytes` in the largest messages the slot allows; returns how many messages. */
  write(bytes: Uint8Array): number {
    const slot = this.slot!;
    let offset = 0;
    let count = 0;
    do {
      const message = slot.acquireMessageForWrite(bytes.length - offset);
      offset += message.append(bytes, offset);
      message.onCompletion = this.onWritten;
      slot.sendMessage(message, ChannelDirection.WRITE);
      count++;
    } while (offset < bytes.length);
    return count;
  }

  /** Hex SHA-256 of everything read so far (ends the running hash: call once). */
  digest(): string {
    return this.hash.digest('hex');
  }

  /** Everything read, when chunks are kept. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Echoes every read back (the sluice side of server tests). */
export class EchoApp extends RecordingApp {
  constructor() {
    super(Number.MAX_SAFE_INTEGER, 'at-once', false);
  }

  override processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const copy = Buffer.from(message.data.subarray(0, message.length));
    super.processReadMessage(slot, message);
    this.write(copy);
  }
}
