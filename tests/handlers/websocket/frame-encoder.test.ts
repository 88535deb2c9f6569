/**
 * The WebSocket frame encoder: header layouts at the length boundaries, masking by role with keys
 * from the pool, and every refusal made before a byte is written.
 */
import { expect } from 'chai';
import { decodeAllWays, rawFrame } from './decoder-harness.js';
import { WebSocketEncodeErrors } from '../../../handlers/websocket/errors.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import {
  WebSocketFrameEncoder,
  closeReasonLength,
  frameHeaderLength,
} from '../../../handlers/websocket/wire/frame-encoder.js';
import { RandomMaskKeys, type MaskKeySource } from '../../../handlers/websocket/wire/mask-keys.js';
import { SluiceError } from '../../../lib/errors.js';

/** A key source that hands out 1,2,3,4 then 5,6,7,8, … and counts calls. */
class CountingKeys implements MaskKeySource {
  calls = 0;
  nextMaskKey(target: Uint8Array, offset: number): void {
    for (let i = 0; i < 4; i++) target[offset + i] = (this.calls * 4 + i + 1) & 0xff;
    this.calls++;
  }
}

function expectCode(action: () => unknown, code: string): void {
  expect(action).to.throw(SluiceError).with.property('code', code);
}

describe('WebSocket frame encoder', () => {
  const server = new WebSocketFrameEncoder({ role: 'server' });

  for (const length of [0, 125, 126, 65_535, 65_536, 70_000]) {
    it(`server: a ${length}-byte binary frame is laid out as a hand-built one`, () => {
      const payload = Buffer.alloc(length, 0x5a);
      const target = Buffer.alloc(server.frameLength(length));
      const end = server.writeDataFrame(target, 0, Opcode.BINARY, payload);
      expect(end).to.equal(target.length);
      expect(target.equals(rawFrame({ opcode: 2, payload }))).to.equal(true);
      expect(frameHeaderLength(length, false)).to.equal(length < 126 ? 2 : length < 65_536 ? 4 : 10);
    });

    it(`client: a ${length}-byte text frame is masked with the next key and leaves the payload untouched`, () => {
      const keys = new CountingKeys();
      const client = new WebSocketFrameEncoder({ role: 'client', maskKeys: keys });
      const payload = Buffer.alloc(length, 0x61);
      const target = Buffer.alloc(client.frameLength(length) + 3);
      const end = client.writeDataFrame(target, 3, Opcode.TEXT, payload);
      expect(end).to.equal(target.length);
      expect(keys.calls).to.equal(1);
      expect(target.subarray(3).equals(rawFrame({ opcode: 1, payload, mask: [1, 2, 3, 4] }))).to.equal(true);
      expect(payload.every((byte) => byte === 0x61)).to.equal(true);
    });
  }

  it('writes FIN, RSV1 and the continuation opcode as asked', () => {
    const target = Buffer.alloc(16);
    server.writeDataFrame(target, 0, Opcode.TEXT, Buffer.from('ab'), 0, 2, false, true);
    expect(target[0]).to.equal(0x41);
    server.writeDataFrame(target, 0, Opcode.CONTINUATION, Buffer.from('ab'), 0, 2, true);
    expect(target[0]).to.equal(0x80);
  });

  it('writes a sub-range of the payload', () => {
    const target = Buffer.alloc(8);
    const end = server.writeDataFrame(target, 0, Opcode.BINARY, Buffer.from('xxhelloxx'), 2, 7);
    expect(target.subarray(0, end).equals(rawFrame({ opcode: 2, payload: 'hello' }))).to.equal(true);
  });

  it('ping, pong and close frames decode back', () => {
    const client = new WebSocketFrameEncoder({ role: 'client' });
    const target = Buffer.alloc(512);
    let at = client.writePing(target, 0, Buffer.from('are you there'));
    at = client.writePong(target, at);
    at = client.writeClose(target, at, 4000, 'bye ✓ 😀');
    at = client.writeClose(target, at);
    expect(decodeAllWays(target.subarray(0, at), { role: 'server' })).to.deep.equal([
      { kind: 'ping', hex: Buffer.from('are you there').toString('hex') },
      { kind: 'pong', hex: '' },
      { kind: 'close', code: 4000, reason: 'bye ✓ 😀' },
      { kind: 'close', code: 1005, reason: '' },
    ]);
  });

  it('a close reason of 123 UTF-8 bytes fits; 124 is refused', () => {
    const target = Buffer.alloc(200);
    expect(server.writeClose(target, 0, 1000, 'é'.repeat(61) + 'x')).to.equal(2 + 125);
    expectCode(
      () => server.writeClose(target, 0, 1000, 'é'.repeat(62)),
      WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG.code,
    );
    expect(server.closeFrameLength(1000, 'é'.repeat(61) + 'x')).to.equal(127);
  });

  describe('refuses before writing anything', () => {
    const cases: [string, (encoder: WebSocketFrameEncoder, target: Buffer) => unknown, string][] = [
      ['close code 1005', (e, t) => e.writeClose(t, 0, 1005), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      ['close code 1006', (e, t) => e.writeClose(t, 0, 1006), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      ['close code 1015', (e, t) => e.writeClose(t, 0, 1015), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      ['close code 1004', (e, t) => e.writeClose(t, 0, 1004), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      ['close code 2000', (e, t) => e.writeClose(t, 0, 2000), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      ['close code 5000', (e, t) => e.writeClose(t, 0, 5000), WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code],
      [
        'close code 1000.5',
        (e, t) => e.writeClose(t, 0, 1000.5),
        WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE.code,
      ],
      [
        'a reason without a code',
        (e, t) => e.writeClose(t, 0, undefined, 'why'),
        WebSocketEncodeErrors.INVALID_OUTGOING_REASON.code,
      ],
      [
        'a lone high surrogate',
        (e, t) => e.writeClose(t, 0, 1000, 'a\uD800'),
        WebSocketEncodeErrors.INVALID_OUTGOING_REASON.code,
      ],
      [
        'a lone low surrogate',
        (e, t) => e.writeClose(t, 0, 1000, '\uDC00b'),
        WebSocketEncodeErrors.INVALID_OUTGOING_REASON.code,
      ],
      [
        'a 126-byte ping',
        (e, t) => e.writePing(t, 0, Buffer.alloc(126)),
        WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG.code,
      ],
      [
        'a 126-byte pong',
        (e, t) => e.writePong(t, 0, Buffer.alloc(126)),
        WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG.code,
      ],
      [
        'a frame one byte too big',
        (e, t) => e.writeDataFrame(t, 1, Opcode.BINARY, Buffer.alloc(t.length - 2)),
        WebSocketEncodeErrors.BUFFER_TOO_SMALL.code,
      ],
      ['a negative offset', (e, t) => e.writePing(t, -1), WebSocketEncodeErrors.BUFFER_TOO_SMALL.code],
      [
        'a range past the payload',
        (e, t) => e.writeDataFrame(t, 0, Opcode.BINARY, Buffer.alloc(4), 0, 5),
        WebSocketEncodeErrors.INVALID_ARGUMENT.code,
      ],
      [
        'opcode 8 as data',
        (e, t) => e.writeDataFrame(t, 0, 8 as 1, Buffer.alloc(4)),
        WebSocketEncodeErrors.INVALID_ARGUMENT.code,
      ],
      [
        'RSV1 on a continuation',
        (e, t) => e.writeDataFrame(t, 0, Opcode.CONTINUATION, Buffer.alloc(1), 0, 1, true, true),
        WebSocketEncodeErrors.INVALID_ARGUMENT.code,
      ],
    ];
    for (const [label, write, code] of cases) {
      for (const role of ['server', 'client'] as const) {
        it(`${role}: ${label} → ${code}`, () => {
          const keys = new CountingKeys();
          const encoder = new WebSocketFrameEncoder({ role, maskKeys: keys });
          const target = Buffer.alloc(64, 0xee);
          expectCode(() => write(encoder, target), code);
          expect(
            target.every((byte) => byte === 0xee),
            'the target is untouched',
          ).to.equal(true);
          expect(keys.calls, 'no key was drawn').to.equal(0);
        });
      }
    }
  });

  it('closeReasonLength counts UTF-8 bytes and flags lone surrogates', () => {
    expect(closeReasonLength('aé€😀')).to.equal(1 + 2 + 3 + 4);
    expect(closeReasonLength('\uD83D')).to.equal(-1);
  });

  it('rejects a bad role or key source with WEBSOCKET_INVALID_ARGUMENT', () => {
    expectCode(
      () => new WebSocketFrameEncoder({ role: 'peer' as 'server' }),
      WebSocketEncodeErrors.INVALID_ARGUMENT.code,
    );
    expectCode(
      () => new WebSocketFrameEncoder({ maskKeys: {} as MaskKeySource }),
      WebSocketEncodeErrors.INVALID_ARGUMENT.code,
    );
  });

  it('RandomMaskKeys hands out keys from one pool, refilled after 1024 keys', () => {
    const keys = new RandomMaskKeys();
    const seen = new Set<string>();
    const target = Buffer.alloc(4);
    for (let i = 0; i < 3000; i++) {
      keys.nextMaskKey(target, 0);
      seen.add(target.toString('hex'));
    }
    // 3000 random 32-bit keys: a collision or two is possible, hundreds would mean a stuck pool.
    expect(seen.size).to.be.greaterThan(2990);
  });
});
