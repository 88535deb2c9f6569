/**
 * Round trips: random sequences of messages (text and binary, fragmented at random, with control
 * frames between fragments) written by the encoder in one role decode back, in random splits, to
 * the same frames in the other role.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeWithCuts, randomCuts, seededRandom, type DecodedEvent } from './decoder-harness.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import type { WebSocketRole } from '../../../handlers/websocket/wire/frame-decoder.js';

type Control = { kind: 'ping' | 'pong'; payload: Uint8Array } | { kind: 'close'; code: number; reason: string };

interface Message {
  isText: boolean;
  /** The message's fragments; text fragments may split characters. */
  fragments: Uint8Array[];
  /** Control frames sent after each fragment but the last. */
  between: (Control | null)[];
}

const control: fc.Arbitrary<Control> = fc.oneof(
  fc.record({ kind: fc.constantFrom('ping' as const, 'pong' as const), payload: fc.uint8Array({ maxLength: 125 }) }),
  fc.record({
    kind: fc.constant('close' as const),
    code: fc.constantFrom(1000, 1001, 1011, 3000, 4999),
    reason: fc.string({ unit: 'grapheme', maxLength: 20 }).filter((text) => Buffer.byteLength(text) <= 123),
  }),
);

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let last = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(last, point));
    last = point;
  }
  pieces.push(bytes.subarray(last));
  return pieces;
}

const message: fc.Arbitrary<Message> = fc
  .record({
    isText: fc.boolean(),
    text: fc.string({ unit: 'binary', maxLength: 300 }),
    binary: fc.uint8Array({ maxLength: 70_000 }),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    controls: fc.array(fc.option(control, { nil: null }), { maxLength: 5 }),
  })
  .map(({ isText, text, binary, cuts, controls }) => {
    const bytes = isText ? Buffer.from(text) : binary;
    const fragments = splitAt(bytes, cuts);
    const between = fragments.slice(1).map((_, i) => controls[i] ?? null);
    return { isText, fragments, between };
  });

function encode(messages: Message[], role: WebSocketRole): { wire: Buffer; expected: DecodedEvent[] } {
  const encoder = new WebSocketFrameEncoder({ role });
  const parts: Buffer[] = [];
  const expected: DecodedEvent[] = [];
  const write = (length: number, writer: (target: Buffer) => number): void => {
    const target = Buffer.alloc(encoder.frameLength(length));
    expect(writer(target)).to.equal(target.length);
    parts.push(target);
  };
  for (const { isText, fragments, between } of messages) {
    fragments.forEach((fragment, i) => {
      const opcode = i === 0 ? (isText ? Opcode.TEXT : Opcode.BINARY) : Opcode.CONTINUATION;
      const isFinal = i === fragments.length - 1;
      write(fragment.length, (t) => encoder.writeDataFrame(t, 0, opcode, fragment, 0, fragment.length, isFinal));
      const hex = Buffer.from(fragment).toString('hex');
      expected.push({ kind: 'frame', opcode: isText ? 1 : 2, hex, isMessageEnd: isFinal, isCompressed: false });
      const next = between[i];
      if (isFinal || next === null || next === undefined) return;
      if (next.kind === 'close') {
        const payloadLength = encoder.closeFrameLength(next.code, next.reason) - encoder.frameLength(0);
        write(payloadLength, (t) => encoder.writeClose(t, 0, next.code, next.reason));
        expected.push({ kind: 'close', code: next.code, reason: next.reason });
      } else {
        const isPing = next.kind === 'ping';
        write(next.payload.length, (t) =>
          isPing ? encoder.writePing(t, 0, next.payload) : encoder.writePong(t, 0, next.payload),
        );
        expected.push({ kind: next.kind, hex: Buffer.from(next.payload).toString('hex') });
      }
    });
  }
  return { wire: Buffer.concat(parts), expected };
}

describe('WebSocket encoder → decoder round trips (fast-check)', function () {
  this.timeout(120_000);
  for (const role of ['client', 'server'] as const) {
    const peer: WebSocketRole = role === 'client' ? 'server' : 'client';
    it(`${role} frames decode back in the ${peer} role, in random splits`, () => {
      fc.assert(
        fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.integer(), (messages, seed) => {
          const { wire, expected } = encode(messages, role);
          const cuts = randomCuts(wire.length, seededRandom(seed));
          expect(decodeWithCuts(wire, [], { role: peer })).to.deep.equal(expected);
          expect(decodeWithCuts(wire, cuts, { role: peer })).to.deep.equal(expected);
        }),
        { numRuns: 150 },
      );
    });
  }
});
