/**
 * Incremental UTF-8 validation (RFC 3629 §4, as RFC 6455 §8.1 requires of text messages):
 * fed a message in pieces split anywhere, it fails on the first byte that cannot belong to a
 * valid sequence, not at the message's end.
 *
 * The state is three small numbers: how many continuation bytes are still due, and the range
 * the next one must fall in. The lead byte narrows that range so the forms RFC 3629 forbids are
 * refused at their second byte: overlongs (`E0 80..9F`, `F0 80..8F`, `C0`, `C1`), UTF-16
 * surrogates (`ED A0..BF`) and code points above U+10FFFF (`F4 90..BF`, `F5..FF`). ASCII runs take
 * a fast path. Nothing is allocated.
 *
 * @module
 */
import { SluiceError } from '../../../lib/errors.js';
import { WebSocketEncodeErrors } from '../errors.js';

/**
 * Utf8Validator checks one text stream at a time, incrementally. Feed every piece with
 * {@link Utf8Validator.update}; at the message's end {@link Utf8Validator.isComplete} says whether
 * a sequence was left truncated. {@link Utf8Validator.reset} starts the next message.
 */
export class Utf8Validator {
  /** Continuation bytes still due in the current sequence. */
  private pending = 0;
  /** The smallest byte the next continuation may be. */
  private low = 0x80;
  /** The largest byte the next continuation may be. */
  private high = 0xbf;

  /**
   * Validates `bytes[start..end)` as the next piece of the stream. Returns -1 when every byte may
   * belong to valid UTF-8, or the index (in `bytes`) of the first byte that cannot; after a
   * failure the validator must be reset before further use.
   */
  update(bytes: Uint8Array, start: number, end: number): number {
    let pending = this.pending;
    let low = this.low;
    let high = this.high;
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      if (pending === 0) {
        if (byte < 0x80) continue;
        if (byte >= 0xc2 && byte <= 0xdf) {
          pending = 1;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          pending = 2;
          // E0: A0..BF (no overlong); ED: 80..9F (no surrogates).
          if (byte === 0xe0) low = 0xa0;
          else if (byte === 0xed) high = 0x9f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          pending = 3;
          // F0: 90..BF (no overlong); F4: 80..8F (nothing above U+10FFFF).
          if (byte === 0xf0) low = 0x90;
          else if (byte === 0xf4) high = 0x8f;
        } else {
          // 80..C1 (stray continuation, overlong 2-byte lead) and F5..FF.
          return this.fail(i);
        }
      } else {
        if (byte < low || byte > high) return this.fail(i);
        pending--;
        low = 0x80;
        high = 0xbf;
      }
    }
    this.pending = pending;
    this.low = low;
    this.high = high;
    return -1;
  }

  /** Whether the bytes so far end on a character boundary (no sequence left truncated). */
  get isComplete(): boolean {
    return this.pending === 0;
  }

  /** Forgets the current stream, ready for the next message. */
  reset(): void {
    this.pending = 0;
    this.low = 0x80;
    this.high = 0xbf;
  }

  private fail(index: number): number {
    this.reset();
    return index;
  }
}

// One validator per call would allocate; a module-level one is safe because update() and reset()
// run to completion without calling out.
const scratchValidator = new Utf8Validator();

/**
 * Whether `bytes[start..end)` is complete, valid UTF-8 (RFC 3629). Allocates nothing. Throws
 * `WEBSOCKET_INVALID_ARGUMENT` unless `bytes` is a Uint8Array and `0 ≤ start ≤ end ≤ bytes.length`.
 */
export function isValidUtf8(bytes: Uint8Array, start = 0, end = bytes?.length): boolean {
  if (
    !(bytes instanceof Uint8Array) ||
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    start > end ||
    end > bytes.length
  ) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'isValidUtf8(bytes, start, end): a Uint8Array and a range within it',
    );
  }
  scratchValidator.reset();
  const ok = scratchValidator.update(bytes, start, end) === -1 && scratchValidator.isComplete;
  scratchValidator.reset();
  return ok;
}
