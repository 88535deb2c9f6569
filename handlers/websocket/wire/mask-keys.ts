/**
 * Masking keys for frames a client sends (RFC 6455 §5.3): unpredictable, from a strong source,
 * drawn from a pool filled by one `crypto.randomFillSync` call per 1024 keys rather than one call
 * per frame.
 *
 * @module
 */
import { randomFillSync } from 'node:crypto';

/**
 * MaskKeySource supplies masking keys to a client's {@link WebSocketFrameEncoder}: each call
 * writes the next 4-byte key into `target` at `offset`. It must not allocate per call.
 */
export interface MaskKeySource {
  /** Writes a fresh 4-byte masking key into `target[offset..offset+4)`. */
  nextMaskKey(target: Uint8Array, offset: number): void;
}

/** Keys held per refill of a {@link RandomMaskKeys} pool. */
const KEYS_PER_REFILL = 1024;

/**
 * RandomMaskKeys is the default {@link MaskKeySource}: a pool of 4 KiB of random bytes from
 * `crypto.randomFillSync`, handed out four at a time and refilled in place when spent. One
 * pool serves every connection of a process.
 */
export class RandomMaskKeys implements MaskKeySource {
  private readonly pool = new Uint8Array(KEYS_PER_REFILL * 4);
  private used = this.pool.length;

  /** Writes the next key from the pool, refilling it when spent. */
  nextMaskKey(target: Uint8Array, offset: number): void {
    if (this.used === this.pool.length) {
      randomFillSync(this.pool);
      this.used = 0;
    }
    const pool = this.pool;
    const at = this.used;
    target[offset] = pool[at];
    target[offset + 1] = pool[at + 1];
    target[offset + 2] = pool[at + 2];
    target[offset + 3] = pool[at + 3];
    this.used = at + 4;
  }
}

/** The process-wide pool used when an encoder is given no {@link MaskKeySource}. */
export const DEFAULT_MASK_KEYS: MaskKeySource = new RandomMaskKeys();
