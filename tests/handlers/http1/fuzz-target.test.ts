/**
 * The HTTP/1.1 parser's fuzz target (`bench/fuzz-http1.ts`, run by `npm run fuzz`) for a few
 * thousand seeded iterations per role: only coded parse errors, and both outcomes reached.
 */
import { expect } from 'chai';
import { fuzzHttp1Parser, mutateHttp1, validHttp1Traffic, type FuzzRandom } from '../../../bench/fuzz-http1.js';
import { Http1ParseErrors } from '../../../handlers/http1/errors.js';
import { seededRandom } from './parser-harness.js';

function fuzzRandom(seed: number): FuzzRandom {
  const next = seededRandom(seed);
  return {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

describe('http1 parser fuzz target (short seeded run)', function () {
  this.timeout(60_000);

  for (const role of ['request', 'response'] as const) {
    it(`${role}s: only Http1ParseError codes, valid traffic parses, mutations are rejected`, () => {
      const random = fuzzRandom(role === 'request' ? 0x1111 : 0x2222);
      const outcomes = new Map<string, number>();
      const count = (outcome: string): void => void outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      for (let i = 0; i < 1500; i++) {
        const valid = validHttp1Traffic(random, role);
        if (i % 10 === 0) count(`valid:${fuzzHttp1Parser(random, valid, role)}`);
        count(fuzzHttp1Parser(random, mutateHttp1(random, valid), role));
        if (i % 20 === 0) count(fuzzHttp1Parser(random, random.bytes(random.int(400)), role));
      }
      const codes = new Set<string>(Object.values(Http1ParseErrors).map((definition) => definition.code));
      for (const outcome of outcomes.keys()) {
        const plain = outcome.replace(/^valid:/, '');
        expect(['ok', 'stopped', ...codes], outcome).to.include(plain);
      }
      expect(outcomes.get('ok') ?? 0, 'mutated inputs that still parse').to.be.greaterThan(0);
      expect(outcomes.get('valid:ok') ?? 0, 'valid traffic that parses').to.be.greaterThan(0);
      const rejected = [...outcomes.keys()].filter((outcome) => codes.has(outcome));
      expect(rejected.length, `distinct codes reached: ${rejected.join(', ')}`).to.be.greaterThan(8);
    });
  }
});
