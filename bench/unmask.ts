/**
 * A micro-benchmark of WebSocket unmasking (RFC 6455 §5.3) over one 64 KiB payload, the receive
 * cost that dominates a large message: the decoder's `unmask` (64-bit words, four a turn)
 * against the loops it replaced — 32-bit words eight a turn, one a turn — and a byte loop, at an
 * aligned and an unaligned start.
 * `node dist/bench/unmask.js [rounds]`; prints µs per 64 KiB, the best of five batches.
 *
 * @module
 */
import { unmask } from '../handlers/websocket/wire/frame-decoder.js';

type Unmask = (bytes: Uint8Array, start: number, end: number, mask: Uint8Array, offset: number) => void;

const SIZE = 65_536;
const rounds = Number(process.argv[2] ?? 5000);
const buffer = new Uint8Array(SIZE + 64).fill(7);
const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);

/** XORs `words` 32-bit words of `view` with `word`. */
type XorWords = (view: Int32Array, words: number, word: number) => void;

/** One a turn: the decoder's first word-wise loop. */
function oneATurn(view: Int32Array, words: number, word: number): void {
  for (let k = 0; k < words; k++) view[k] ^= word;
}

/** Eight a turn: the decoder's loop before it took 64-bit words. */
function eightATurn(view: Int32Array, words: number, word: number): void {
  let k = 0;
  for (const unrolled = words & ~7; k < unrolled; k += 8) {
    view[k] ^= word;
    view[k + 1] ^= word;
    view[k + 2] ^= word;
    view[k + 3] ^= word;
    view[k + 4] ^= word;
    view[k + 5] ^= word;
    view[k + 6] ^= word;
    view[k + 7] ^= word;
  }
  for (; k < words; k++) view[k] ^= word;
}

/** Unmasking through 32-bit words over the 4-byte-aligned middle, XORed by `xorWords`. */
function int32Unmask(xorWords: XorWords): Unmask {
  return (bytes, start, end, key, offset) => {
    let i = start;
    let j = offset & 3;
    while (((bytes.byteOffset + i) & 3) !== 0 && i < end) {
      bytes[i++] ^= key[j];
      j = (j + 1) & 3;
    }
    const words = (end - i) >>> 2;
    const word = key[j] | (key[(j + 1) & 3] << 8) | (key[(j + 2) & 3] << 16) | (key[(j + 3) & 3] << 24);
    xorWords(new Int32Array(bytes.buffer, bytes.byteOffset + i, words), words, word);
    for (i += words << 2; i < end; i++) {
      bytes[i] ^= key[j];
      j = (j + 1) & 3;
    }
  };
}

/** The definition, a byte at a time. */
function byteLoop(bytes: Uint8Array, start: number, end: number, key: Uint8Array, offset: number): void {
  for (let i = start, j = offset & 3; i < end; i++, j = (j + 1) & 3) bytes[i] ^= key[j];
}

function microsPerPayload(run: Unmask, start: number): number {
  let best = Infinity;
  for (let batch = 0; batch < 5; batch++) {
    const began = process.hrtime.bigint();
    for (let round = 0; round < rounds; round++) run(buffer, start, start + SIZE, mask, round & 3);
    best = Math.min(best, Number(process.hrtime.bigint() - began) / 1000 / rounds);
  }
  return best;
}

const variants: [string, Unmask][] = [
  ['unmask (64-bit words)', unmask],
  ['32-bit, eight a turn', int32Unmask(eightATurn)],
  ['32-bit, one a turn', int32Unmask(oneATurn)],
  ['byte loop', byteLoop],
];
for (const [name, run] of variants) {
  for (const start of [0, 14]) {
    process.stdout.write(
      `${name.padEnd(24)} start ${String(start).padStart(2)}  ${microsPerPayload(run, start).toFixed(1)} µs / 64 KiB\n`,
    );
  }
}
