/** The workloads' seeded bodies and the hashing of what arrives. */
import { createHash, type Hash } from 'node:crypto';
import { SeededRandom, type InvariantChecker, type SluiceError } from '../../lib/index.js';

/** The seeded body of an exchange's upload (direction 0) or download (1). */
export function bodyBytes(seed: number, index: number, direction: number, size: number): Buffer {
  return Buffer.from(new SeededRandom((seed * 131 + index * 2 + direction) | 0).fill(new Uint8Array(size)));
}

/** The hex SHA-256 of `data`. */
export function hashOf(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Bytes received on one side of an exchange, hashed as they come. */
export class Received {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes so far. */
  length = 0;
  /** Adds `data[start..end)`. */
  add(data: Uint8Array, start: number, end: number): void {
    this.hash.update(data.subarray(start, end));
    this.length += end - start;
  }
  /** The hex SHA-256 of everything added (once). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Where a body goes: an HTTP/2 or HTTP/1.1 stream of either end. */
export interface BodySink {
  readonly isClosed: boolean;
  write(chunk: Uint8Array, callback: (error: SluiceError | null) => void): boolean;
}

/**
 * Writes `body` in `chunkSize` pieces, one at a time (the next from the previous one's callback,
 * each of which must fire once), then calls `end` unless the stream closed meanwhile.
 */
export function sendBody(
  sink: BodySink,
  body: Buffer,
  chunkSize: number,
  checker: InvariantChecker,
  label: string,
  end: () => void,
): void {
  const writeFrom = (offset: number): void => {
    if (sink.isClosed) return;
    if (offset >= body.length) {
      end();
      return;
    }
    const next = Math.min(body.length, offset + chunkSize);
    sink.write(
      body.subarray(offset, next),
      checker.once(`${label} write@${offset}`, (error: SluiceError | null) => {
        if (error !== null) checker.checkTyped(error, `${label} write`);
        else writeFrom(next);
      }),
    );
  };
  writeFrom(0);
}
