/**
 * The WebSocket decoder's fuzz target (`bench/fuzz-websocket.ts`, run by `npm run fuzz`) for a
 * few thousand seeded iterations per role: only coded protocol errors, valid traffic decodes, and
 * mutations reach many different rejections.
 */
import { expect } from 'chai';
import { fuzzWebSocketDecoder, mutateWebSocket, validWebSocketTraffic } from '../../../bench/fuzz-websocket.js';
import type { FuzzRandom } from '../../../bench/fuzz-http1.js';
import { WebSocketProtocolErrors } from '../../../handlers/websocket/errors.js';
import { seededRandom } from './decoder-harness.js';

function fuzzRandom(seed: number): FuzzRandom {
  const next = seededRandom(seed);
  return {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

describe('WebSocket decoder fuzz target (short seeded run)', function () {
  this.timeout(60_000);

  for (const role of ['server', 'client'] as const) {
    it(`${role}: only WebSocketProtocolError codes, valid traffic decodes, mutations are rejected`, () => {
      const random = fuzzRandom(role === 'server' ? 0x3333 : 0x4444);
      const outcomes = new Map<string, number>();
      const count = (outcome: string): void => void outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      for (let i = 0; i < 2000; i++) {
        const valid = validWebSocketTraffic(random, role);
        if (i % 10 === 0) count(`valid:${fuzzWebSocketDecoder(random, valid, role)}`);
        count(fuzzWebSocketDecoder(random, mutateWebSocket(random, valid), role));
        if (i % 20 === 0) count(fuzzWebSocketDecoder(random, random.bytes(random.int(400)), role));
      }
      const codes = new Set<string>(Object.values(WebSocketProtocolErrors).map((definition) => definition.code));
      for (const outcome of outcomes.keys())
        expect(['ok', ...codes], outcome).to.include(outcome.replace(/^valid:/, ''));
      expect(outcomes.get('ok') ?? 0, 'mutated inputs that still decode').to.be.greaterThan(0);
      expect(outcomes.get('valid:ok') ?? 0, 'valid traffic that decodes').to.be.greaterThan(0);
      const rejected = [...outcomes.keys()].filter((outcome) => codes.has(outcome));
      expect(rejected.length, `distinct rejections: ${rejected.join(', ')}`).to.be.at.least(8);
    });
  }
});
