/**
 * A short, seeded run of the fuzzer (`bench/fuzz.ts`) in `npm run test:hardening`: three
 * seconds of wall-clock time over the frame decoder (both roles), the HPACK decoder and whole
 * connections on the testing channel. `npm test` runs a fixed iteration count instead
 * (`tests/bench/fuzz.test.ts`); the long run is `npm run fuzz`.
 */
import { expect } from 'chai';
import { formatFuzzStats, runFuzz } from '../../bench/fuzz.js';

describe('hardening: fuzzing (short seeded run)', function () {
  this.timeout(30_000);

  it('only HTTP/2 errors, no hang, no leak, bounded memory across decoders and connections', () => {
    const stats = runFuzz({ seconds: 3, seed: 0x51c3, maxIterations: 200_000 });
    console.log(formatFuzzStats(stats));
    expect(stats.failures, 'failures').to.deep.equal([]);
    for (const [target, count] of Object.entries(stats.iterations))
      expect(count, `${target} iterations`).to.be.greaterThan(100);
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
