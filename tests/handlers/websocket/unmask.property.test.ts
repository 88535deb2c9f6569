/**
 * `unmask` against the definition of RFC 6455 §5.3 (byte i XOR key[(offset + i) mod 4]), for
 * ranges short and long, at every alignment of the underlying buffer, starting anywhere in the
 * key: the word-wise path must give the byte loop's bytes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { unmask } from '../../../handlers/websocket/wire/frame-decoder.js';

describe('websocket unmask (word-wise for long ranges)', () => {
  it('equals the byte-by-byte definition for any range, alignment and key offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 600 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        fc.nat(3),
        fc.nat(),
        fc.nat(),
        (payload, key, bufferShift, offset, cutA, cutB) => {
          // The payload sits at `bufferShift` in a larger buffer, so its byteOffset varies.
          const backing = new Uint8Array(payload.length + 8);
          const bytes = backing.subarray(bufferShift, bufferShift + payload.length);
          bytes.set(payload);
          const start = payload.length === 0 ? 0 : cutA % (payload.length + 1);
          const end = start + (payload.length === 0 ? 0 : cutB % (payload.length - start + 1));
          const expected = Uint8Array.from(payload);
          for (let i = start; i < end; i++) expected[i] ^= key[(offset + i - start) & 3];
          unmask(bytes, start, end, key, offset);
          expect(Buffer.from(bytes).equals(Buffer.from(expected))).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('equals the definition at every 8-byte alignment, key offset and length around the four-word turns', () => {
    const key = Uint8Array.of(0x9a, 0x0f, 0xe1, 0x37);
    for (let shift = 0; shift < 8; shift++) {
      for (let offset = 0; offset < 4; offset++) {
        for (let length = 60; length <= 140; length++) {
          const backing = new Uint8Array(length + 8);
          const bytes = backing.subarray(shift, shift + length);
          for (let i = 0; i < length; i++) bytes[i] = (i * 7 + shift) & 0xff;
          const expected = Uint8Array.from(bytes);
          for (let i = 0; i < length; i++) expected[i] ^= key[(offset + i) & 3];
          unmask(bytes, 0, length, key, offset);
          expect(
            Buffer.from(bytes).equals(Buffer.from(expected)),
            `shift ${shift} offset ${offset} length ${length}`,
          ).to.equal(true);
        }
      }
    }
  });
});
