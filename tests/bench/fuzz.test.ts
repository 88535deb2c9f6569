/**
 * A short run of the fuzzer (`bench/fuzz.ts`) in `npm test`, bounded by an iteration count, not
 * by the clock: the same seed and count feed the same inputs on every machine. The frame decoder
 * (both roles), the HPACK decoder and whole connections on the testing channel see them. The
 * three-second run is in `npm run test:hardening`, the long one is `npm run fuzz`.
 */
import { expect } from 'chai';
import { runFuzz } from '../../bench/fuzz.js';

describe('fuzzing (seeded, 4000 iterations)', function () {
  // The count bounds the work; the seconds are only a guard against a hang.
  this.timeout(60_000);

  it('only HTTP/2 errors, no hang, no leak, bounded memory across decoders and connections', () => {
    const stats = runFuzz({ seconds: 50, seed: 0x51c3, maxIterations: 4000 });
    expect(stats.failures, 'failures').to.deep.equal([]);
    expect(Object.values(stats.iterations).reduce((sum, count) => sum + count, 0)).to.equal(4000);
    const outcomes = Object.keys(stats.outcomes);
    // The mutations reach both sides: inputs that decode cleanly and inputs that are rejected.
    expect(outcomes).to.include.members([
      'frame-decoder-server:ok',
      'connection-server:ok',
      'hpack:ok',
      'hpack:HTTP2_COMPRESSION_ERROR',
    ]);
    expect(outcomes.some((key) => key.startsWith('connection-server:HTTP2_'))).to.equal(true);
    expect(outcomes.some((key) => key.startsWith('connection-client:HTTP2_'))).to.equal(true);
  });
});
