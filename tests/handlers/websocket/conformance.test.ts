/**
 * The RFC 6455 requirements on a receiver as a table, in the categories of the Autobahn
 * testsuite (framing, pings/pongs, reserved bits, opcodes, fragmentation, UTF-8, limits, close
 * handling, compression flags). Every case runs in both roles (masked client frames to a server,
 * unmasked server frames to a client), and each input is decoded whole, byte by byte and in random
 * splits through {@link decodeAllWays}.
 */
import { expect } from 'chai';
import { decodeAllWays, errorOf, rawFrame, TEST_MASK, type DecodedEvent, type RawFrame } from './decoder-harness.js';
import { WebSocketProtocolError, WebSocketProtocolErrors } from '../../../handlers/websocket/errors.js';
import {
  WebSocketFrameDecoder,
  type WebSocketFrameDecoderOptions,
  type WebSocketRole,
} from '../../../handlers/websocket/wire/frame-decoder.js';

type FrameBuilder = (frame: RawFrame) => Buffer;

interface ConformanceCase {
  /** Autobahn-style category. */
  category: string;
  /** What the case checks, named for the behaviour. */
  name: string;
  /** The frames, built with the role's masking. */
  frames: (frame: FrameBuilder) => Buffer[];
  /** Decoder options besides the role. */
  options?: WebSocketFrameDecoderOptions;
  /** The events expected (an error last, if any). */
  expected: DecodedEvent[];
}

const P = WebSocketProtocolErrors;
const hex = (text: string | Buffer): string => Buffer.from(text).toString('hex');
const text = (payload: string | Buffer, isMessageEnd = true): DecodedEvent => ({
  kind: 'frame',
  opcode: 1,
  hex: hex(payload),
  isMessageEnd,
  isCompressed: false,
});
const binary = (payload: Buffer, isMessageEnd = true): DecodedEvent => ({
  kind: 'frame',
  opcode: 2,
  hex: hex(payload),
  isMessageEnd,
  isCompressed: false,
});
const failure = (definition: { code: string; closeCode: number }): DecodedEvent => ({
  kind: 'error',
  code: definition.code,
  closeCode: definition.closeCode,
});
const bytes = (length: number, seed = 1): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));
const hexBytes = (...values: number[]): Buffer => Buffer.from(values);

const CASES: ConformanceCase[] = [
  // 1: framing
  ...[0, 1, 125, 126, 127, 128, 65_535, 65_536, 200_000].flatMap((length): ConformanceCase[] => [
    {
      category: 'framing',
      name: `a text message of ${length} bytes`,
      frames: (f) => [f({ opcode: 1, payload: 'x'.repeat(length) })],
      expected: [text('x'.repeat(length))],
    },
    {
      category: 'framing',
      name: `a binary message of ${length} bytes`,
      frames: (f) => [f({ opcode: 2, payload: bytes(length) })],
      expected: [binary(bytes(length))],
    },
  ]),
  {
    category: 'framing',
    name: 'several messages in one input',
    frames: (f) => [f({ opcode: 1, payload: 'a' }), f({ opcode: 2, payload: bytes(3) }), f({ opcode: 1, payload: '' })],
    expected: [text('a'), binary(bytes(3)), text('')],
  },
  {
    category: 'framing',
    name: 'a 16-bit length under 126 is not minimal (1002)',
    frames: (f) => [f({ opcode: 2, payload: bytes(100), lengthBits: 16 })],
    expected: [failure(P.INVALID_LENGTH)],
  },
  {
    category: 'framing',
    name: 'a 64-bit length under 65536 is not minimal (1002)',
    frames: (f) => [f({ opcode: 2, payload: bytes(300), lengthBits: 64 })],
    expected: [failure(P.INVALID_LENGTH)],
  },
  {
    category: 'framing',
    name: 'a 64-bit length with its top bit set (1002)',
    frames: (f) => [f({ opcode: 2, announcedLength: 2 ** 63, lengthBits: 64 })],
    expected: [failure(P.INVALID_LENGTH)],
  },
  // 2: pings and pongs
  {
    category: 'pings/pongs',
    name: 'an empty ping',
    frames: (f) => [f({ opcode: 9 })],
    expected: [{ kind: 'ping', hex: '' }],
  },
  {
    category: 'pings/pongs',
    name: 'a ping with 125 bytes of binary payload',
    frames: (f) => [f({ opcode: 9, payload: bytes(125) })],
    expected: [{ kind: 'ping', hex: hex(bytes(125)) }],
  },
  {
    category: 'pings/pongs',
    name: 'a ping with 126 bytes (1002)',
    frames: (f) => [f({ opcode: 9, payload: bytes(126) })],
    expected: [failure(P.CONTROL_TOO_LONG)],
  },
  {
    category: 'pings/pongs',
    name: 'a fragmented ping (1002)',
    frames: (f) => [f({ opcode: 9, payload: 'ab', fin: false })],
    expected: [failure(P.FRAGMENTED_CONTROL)],
  },
  {
    category: 'pings/pongs',
    name: 'an unsolicited pong is delivered',
    frames: (f) => [f({ opcode: 10, payload: 'unsolicited' })],
    expected: [{ kind: 'pong', hex: hex('unsolicited') }],
  },
  {
    category: 'pings/pongs',
    name: 'ten pings in a row',
    frames: (f) => Array.from({ length: 10 }, (_, i) => f({ opcode: 9, payload: `ping ${i}` })),
    expected: Array.from({ length: 10 }, (_, i): DecodedEvent => ({ kind: 'ping', hex: hex(`ping ${i}`) })),
  },
  // 3: reserved bits
  ...[1, 2, 3, 4, 5, 6, 7].map((rsv): ConformanceCase => ({
    category: 'reserved bits',
    name: `RSV ${rsv.toString(2).padStart(3, '0')} on a text frame without an extension (1002)`,
    frames: (f) => [f({ opcode: 1, payload: 'hi', rsv })],
    expected: [failure(P.RESERVED_BITS)],
  })),
  {
    category: 'reserved bits',
    name: 'RSV1 on a ping, even with permessage-deflate (1002)',
    frames: (f) => [f({ opcode: 9, rsv: 4 })],
    options: { isPerMessageDeflate: true },
    expected: [failure(P.RESERVED_BITS)],
  },
  {
    category: 'reserved bits',
    name: 'RSV2 with permessage-deflate (1002)',
    frames: (f) => [f({ opcode: 2, payload: 'x', rsv: 2 })],
    options: { isPerMessageDeflate: true },
    expected: [failure(P.RESERVED_BITS)],
  },
  {
    category: 'reserved bits',
    name: 'RSV1 on the first frame with permessage-deflate marks the message compressed',
    frames: (f) => [f({ opcode: 1, payload: 'ab', rsv: 4, fin: false }), f({ opcode: 0, payload: 'cd' })],
    options: { isPerMessageDeflate: true },
    expected: [
      { kind: 'frame', opcode: 1, hex: hex('ab'), isMessageEnd: false, isCompressed: true },
      { kind: 'frame', opcode: 1, hex: hex('cd'), isMessageEnd: true, isCompressed: true },
    ],
  },
  {
    category: 'reserved bits',
    name: 'RSV1 on a continuation frame, even with permessage-deflate (1002)',
    frames: (f) => [f({ opcode: 1, payload: 'ab', rsv: 4, fin: false }), f({ opcode: 0, payload: 'cd', rsv: 4 })],
    options: { isPerMessageDeflate: true },
    expected: [
      { kind: 'frame', opcode: 1, hex: hex('ab'), isMessageEnd: false, isCompressed: true },
      failure(P.RESERVED_BITS),
    ],
  },
  // 4: opcodes
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((opcode): ConformanceCase => ({
    category: 'opcodes',
    name: `reserved opcode 0x${opcode.toString(16)} (1002)`,
    frames: (f) => [f({ opcode: 1, payload: 'before' }), f({ opcode, payload: 'x' })],
    expected: [text('before'), failure(P.UNKNOWN_OPCODE)],
  })),
  // 5: fragmentation
  {
    category: 'fragmentation',
    name: 'a text message in two fragments',
    frames: (f) => [f({ opcode: 1, payload: 'frag', fin: false }), f({ opcode: 0, payload: 'ment' })],
    expected: [text('frag', false), text('ment')],
  },
  {
    category: 'fragmentation',
    name: 'a binary message in many empty and one-byte fragments',
    frames: (f) => [
      f({ opcode: 2, fin: false }),
      f({ opcode: 0, payload: 'a', fin: false }),
      f({ opcode: 0, fin: false }),
      f({ opcode: 0, payload: 'b' }),
    ],
    expected: [
      binary(Buffer.alloc(0), false),
      binary(Buffer.from('a'), false),
      binary(Buffer.alloc(0), false),
      binary(Buffer.from('b')),
    ],
  },
  {
    category: 'fragmentation',
    name: 'pings and a pong between fragments',
    frames: (f) => [
      f({ opcode: 1, payload: 'one ', fin: false }),
      f({ opcode: 9, payload: 'p' }),
      f({ opcode: 0, payload: 'two ', fin: false }),
      f({ opcode: 10 }),
      f({ opcode: 0, payload: 'three' }),
    ],
    expected: [
      text('one ', false),
      { kind: 'ping', hex: hex('p') },
      text('two ', false),
      { kind: 'pong', hex: '' },
      text('three'),
    ],
  },
  {
    category: 'fragmentation',
    name: 'a close between fragments is delivered',
    frames: (f) => [f({ opcode: 1, payload: 'a', fin: false }), f({ opcode: 8, payload: hexBytes(0x03, 0xe8) })],
    expected: [text('a', false), { kind: 'close', code: 1000, reason: '' }],
  },
  {
    category: 'fragmentation',
    name: 'a continuation with no message open (1002)',
    frames: (f) => [f({ opcode: 0, payload: 'orphan' })],
    expected: [failure(P.UNEXPECTED_CONTINUATION)],
  },
  {
    category: 'fragmentation',
    name: 'a continuation after a complete message (1002)',
    frames: (f) => [f({ opcode: 1, payload: 'done' }), f({ opcode: 0, payload: 'more' })],
    expected: [text('done'), failure(P.UNEXPECTED_CONTINUATION)],
  },
  {
    category: 'fragmentation',
    name: 'a new text frame while a fragmented message is open (1002)',
    frames: (f) => [f({ opcode: 1, payload: 'a', fin: false }), f({ opcode: 1, payload: 'b' })],
    expected: [text('a', false), failure(P.EXPECTED_CONTINUATION)],
  },
  {
    category: 'fragmentation',
    name: 'a new binary frame while a fragmented text message is open (1002)',
    frames: (f) => [f({ opcode: 1, payload: 'a', fin: false }), f({ opcode: 2, payload: 'b', fin: false })],
    expected: [text('a', false), failure(P.EXPECTED_CONTINUATION)],
  },
  // 6: UTF-8
  ...[
    ['ASCII', 'Hello-µ@ßöäüàá-UTF-8!!'],
    ['two, three and four-byte characters', 'κόσμε \u{10FFFF} \u{1F600} \uFFFF \u0080 \u07FF \u0800 \uD7FF \uE000'],
  ].map(([label, value]): ConformanceCase => ({
    category: 'UTF-8',
    name: `valid text (${label}) in fragments of one byte`,
    frames: (f) => {
      const payload = Buffer.from(value);
      return [...payload].map((byte, i) =>
        f({ opcode: i === 0 ? 1 : 0, payload: Buffer.of(byte), fin: i === payload.length - 1 }),
      );
    },
    expected: [...Buffer.from(value)].map((byte, i, all) => text(Buffer.of(byte), i === all.length - 1)),
  })),
  ...(
    [
      ['a stray continuation byte', [0x80]],
      ['an overlong 2-byte NUL (C0 80)', [0xc0, 0x80]],
      ['C1 (overlong lead)', [0xc1, 0xbf]],
      ['an overlong 3-byte (E0 9F BF)', [0xe0, 0x9f, 0xbf]],
      ['an overlong 4-byte (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf]],
      ['a high surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
      ['a low surrogate (ED BF BF)', [0xed, 0xbf, 0xbf]],
      ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
      ['F5', [0xf5, 0x80, 0x80, 0x80]],
      ['FE', [0xfe]],
      ['FF', [0xff]],
      ['a lead byte followed by ASCII', [0xce, 0x41]],
    ] as const
  ).flatMap(([label, invalid]): ConformanceCase[] => [
    {
      category: 'UTF-8',
      name: `invalid text: ${label} (1007)`,
      frames: (f) => [f({ opcode: 1, payload: Buffer.from([0x6f, 0x6b, ...invalid, 0x6f, 0x6b]) })],
      expected: [failure(P.INVALID_UTF8)],
    },
    {
      category: 'UTF-8',
      name: `invalid text split over fragments: ${label} (1007 in the fragment that holds it)`,
      frames: (f) => [
        f({ opcode: 1, payload: Buffer.from([0xce, 0xba]), fin: false }),
        f({ opcode: 0, payload: Buffer.from([0x6f, ...invalid]), fin: false }),
        f({ opcode: 0, payload: 'never read' }),
      ],
      expected: [text(Buffer.from([0xce, 0xba]), false), failure(P.INVALID_UTF8)],
    },
  ]),
  {
    category: 'UTF-8',
    name: 'a character split across fragments is valid',
    frames: (f) => [
      f({ opcode: 1, payload: Buffer.from([0xf0, 0x9f]), fin: false }),
      f({ opcode: 0, payload: Buffer.from([0x98]), fin: false }),
      f({ opcode: 0, payload: Buffer.from([0x80]) }),
    ],
    expected: [text(Buffer.from([0xf0, 0x9f]), false), text(Buffer.from([0x98]), false), text(Buffer.from([0x80]))],
  },
  {
    category: 'UTF-8',
    name: 'a message ending inside a character (1007)',
    frames: (f) => [f({ opcode: 1, payload: Buffer.from([0x61, 0xe2, 0x82]) })],
    expected: [failure(P.INVALID_UTF8)],
  },
  {
    category: 'UTF-8',
    name: 'a fragmented message ending inside a character (1007)',
    frames: (f) => [
      f({ opcode: 1, payload: Buffer.from([0xe2]), fin: false }),
      f({ opcode: 0, payload: Buffer.from([0x82]) }),
    ],
    expected: [text(Buffer.from([0xe2]), false), failure(P.INVALID_UTF8)],
  },
  {
    category: 'UTF-8',
    name: 'binary messages are not checked',
    frames: (f) => [f({ opcode: 2, payload: Buffer.from([0xff, 0xc0, 0xed, 0xa0]) })],
    expected: [binary(Buffer.from([0xff, 0xc0, 0xed, 0xa0]))],
  },
  {
    category: 'UTF-8',
    name: 'validation can be turned off',
    frames: (f) => [f({ opcode: 1, payload: Buffer.from([0xff]) })],
    options: { validateUtf8: false },
    expected: [text(Buffer.from([0xff]))],
  },
  // 9: limits
  {
    category: 'limits',
    name: 'a message at the limit is delivered',
    frames: (f) => [f({ opcode: 2, payload: bytes(1000) })],
    options: { maxMessageSize: 1000 },
    expected: [binary(bytes(1000))],
  },
  {
    category: 'limits',
    name: 'a frame announcing more than the limit fails before its payload (1009)',
    frames: (f) => [f({ opcode: 2, announcedLength: 1001 })],
    options: { maxMessageSize: 1000 },
    expected: [failure(P.MESSAGE_TOO_LARGE)],
  },
  {
    category: 'limits',
    name: 'fragments adding up to more than the limit (1009)',
    frames: (f) => [f({ opcode: 1, payload: 'x'.repeat(600), fin: false }), f({ opcode: 0, payload: 'x'.repeat(401) })],
    options: { maxMessageSize: 1000 },
    expected: [text('x'.repeat(600), false), failure(P.MESSAGE_TOO_LARGE)],
  },
  {
    category: 'limits',
    name: 'the limit counts per message, not per connection',
    frames: (f) => [f({ opcode: 1, payload: 'x'.repeat(800) }), f({ opcode: 1, payload: 'y'.repeat(800) })],
    options: { maxMessageSize: 1000 },
    expected: [text('x'.repeat(800)), text('y'.repeat(800))],
  },
  {
    category: 'limits',
    name: 'a 2^62-byte frame fails on its header (1009)',
    frames: (f) => [f({ opcode: 2, announcedLength: 2 ** 62, lengthBits: 64 })],
    expected: [failure(P.MESSAGE_TOO_LARGE)],
  },
  // 12/13: compression (the frame layer's part: RSV1 and what it marks; inflating is permessage-deflate.test.ts)
  {
    category: 'compression',
    name: 'a compressed message in three fragments marks every fragment compressed',
    frames: (f) => [
      f({ opcode: 2, payload: bytes(10), rsv: 4, fin: false }),
      f({ opcode: 0, payload: bytes(5), fin: false }),
      f({ opcode: 0, payload: bytes(1) }),
    ],
    options: { isPerMessageDeflate: true },
    expected: [
      { kind: 'frame', opcode: 2, hex: hex(bytes(10)), isMessageEnd: false, isCompressed: true },
      { kind: 'frame', opcode: 2, hex: hex(bytes(5)), isMessageEnd: false, isCompressed: true },
      { kind: 'frame', opcode: 2, hex: hex(bytes(1)), isMessageEnd: true, isCompressed: true },
    ],
  },
  {
    category: 'compression',
    name: 'compressed and uncompressed messages alternate, with a ping inside a compressed one',
    frames: (f) => [
      f({ opcode: 1, payload: 'zz', rsv: 4, fin: false }),
      f({ opcode: 9, payload: 'p' }),
      f({ opcode: 0, payload: 'zz' }),
      f({ opcode: 1, payload: 'plain' }),
    ],
    options: { isPerMessageDeflate: true },
    expected: [
      { kind: 'frame', opcode: 1, hex: hex('zz'), isMessageEnd: false, isCompressed: true },
      { kind: 'ping', hex: hex('p') },
      { kind: 'frame', opcode: 1, hex: hex('zz'), isMessageEnd: true, isCompressed: true },
      text('plain'),
    ],
  },
  {
    category: 'compression',
    name: 'compressed text is not checked as UTF-8 by the decoder (it is compressed bytes)',
    frames: (f) => [f({ opcode: 1, payload: hexBytes(0xff, 0xc0), rsv: 4 })],
    options: { isPerMessageDeflate: true },
    expected: [{ kind: 'frame', opcode: 1, hex: 'ffc0', isMessageEnd: true, isCompressed: true }],
  },
  {
    category: 'compression',
    name: 'RSV1 on a close with permessage-deflate (1002)',
    frames: (f) => [f({ opcode: 8, rsv: 4 })],
    options: { isPerMessageDeflate: true },
    expected: [failure(P.RESERVED_BITS)],
  },
  {
    category: 'compression',
    name: 'a compressed message without permessage-deflate (1002)',
    frames: (f) => [f({ opcode: 2, payload: 'x', rsv: 4 })],
    expected: [failure(P.RESERVED_BITS)],
  },
  {
    category: 'compression',
    name: 'the limit counts the compressed bytes of a compressed message (1009)',
    frames: (f) => [f({ opcode: 2, payload: bytes(60), rsv: 4, fin: false }), f({ opcode: 0, payload: bytes(50) })],
    options: { isPerMessageDeflate: true, maxMessageSize: 100 },
    expected: [
      { kind: 'frame', opcode: 2, hex: hex(bytes(60)), isMessageEnd: false, isCompressed: true },
      failure(P.MESSAGE_TOO_LARGE),
    ],
  },
  // 7: close handling
  {
    category: 'close handling',
    name: 'an empty close reports 1005',
    frames: (f) => [f({ opcode: 8 })],
    expected: [{ kind: 'close', code: 1005, reason: '' }],
  },
  {
    category: 'close handling',
    name: 'a close with a 1-byte payload (1002)',
    frames: (f) => [f({ opcode: 8, payload: hexBytes(0x03) })],
    expected: [failure(P.INVALID_CLOSE_PAYLOAD)],
  },
  {
    category: 'close handling',
    name: 'a close with a code and a 123-byte UTF-8 reason',
    frames: (f) => [
      f({ opcode: 8, payload: Buffer.concat([hexBytes(0x03, 0xe8), Buffer.from('é'.repeat(61) + 'x')]) }),
    ],
    expected: [{ kind: 'close', code: 1000, reason: 'é'.repeat(61) + 'x' }],
  },
  {
    category: 'close handling',
    name: 'a close with a reason that is not UTF-8 (1007)',
    frames: (f) => [f({ opcode: 8, payload: hexBytes(0x03, 0xe8, 0x61, 0xce, 0xff) })],
    expected: [failure(P.INVALID_UTF8)],
  },
  {
    category: 'close handling',
    name: 'a close with a 124-byte payload (1002)',
    frames: (f) => [f({ opcode: 8, payload: Buffer.concat([hexBytes(0x03, 0xe8), Buffer.alloc(124, 0x61)]) })],
    expected: [failure(P.CONTROL_TOO_LONG)],
  },
  {
    category: 'close handling',
    name: 'a fragmented close (1002)',
    frames: (f) => [f({ opcode: 8, payload: hexBytes(0x03, 0xe8), fin: false })],
    expected: [failure(P.FRAGMENTED_CONTROL)],
  },
  ...[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999].map(
    (code): ConformanceCase => ({
      category: 'close handling',
      name: `close code ${code} is accepted`,
      frames: (f) => [f({ opcode: 8, payload: hexBytes(code >>> 8, code & 0xff, 0x6f, 0x6b) })],
      expected: [{ kind: 'close', code, reason: 'ok' }],
    }),
  ),
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65_535].map((code): ConformanceCase => ({
    category: 'close handling',
    name: `close code ${code} never travels (1002)`,
    frames: (f) => [f({ opcode: 8, payload: hexBytes(code >>> 8, code & 0xff) })],
    expected: [failure(P.INVALID_CLOSE_CODE)],
  })),
];

function builderFor(role: WebSocketRole): FrameBuilder {
  // A server reads what a client sends (masked); a client reads a server's unmasked frames.
  return role === 'server' ? (frame) => rawFrame({ ...frame, mask: TEST_MASK }) : (frame) => rawFrame(frame);
}

describe('WebSocket frame decoder conformance (whole, byte by byte, random splits)', function () {
  this.timeout(120_000);
  const categories = [...new Set(CASES.map((testCase) => testCase.category))];
  for (const category of categories) {
    describe(category, () => {
      for (const testCase of CASES.filter((c) => c.category === category)) {
        for (const role of ['server', 'client'] as const) {
          it(`${role}: ${testCase.name}`, () => {
            const input = Buffer.concat(testCase.frames(builderFor(role)));
            const events = decodeAllWays(input, { role, ...testCase.options }, 4);
            expect(events).to.deep.equal(testCase.expected);
          });
        }
      }
    });
  }

  describe('masking', () => {
    it('server: an unmasked client frame fails with 1002', () => {
      expect(errorOf(decodeAllWays(rawFrame({ opcode: 1, payload: 'x' }), { role: 'server' }))).to.deep.equal({
        code: P.UNMASKED_FRAME.code,
        closeCode: 1002,
      });
    });

    it('client: a masked server frame fails with 1002', () => {
      const input = rawFrame({ opcode: 1, payload: 'x', mask: TEST_MASK });
      expect(errorOf(decodeAllWays(input, { role: 'client' }))).to.deep.equal({
        code: P.MASKED_FRAME.code,
        closeCode: 1002,
      });
    });

    it('server: an unmasked control frame between masked fragments fails with 1002', () => {
      const input = Buffer.concat([
        rawFrame({ opcode: 1, payload: 'a', fin: false, mask: TEST_MASK }),
        rawFrame({ opcode: 9 }),
      ]);
      expect(errorOf(decodeAllWays(input, { role: 'server' }))?.code).to.equal(P.UNMASKED_FRAME.code);
    });

    it('unmasks with the key position carried across chunks and frames', () => {
      const mask = [1, 2, 3, 4];
      const payload = bytes(1031, 7);
      const input = Buffer.concat([
        rawFrame({ opcode: 2, payload: payload.subarray(0, 5), fin: false, mask }),
        rawFrame({ opcode: 0, payload: payload.subarray(5), mask: [9, 8, 7, 6] }),
      ]);
      const events = decodeAllWays(input, { role: 'server' }, 16);
      expect(events.map((event) => (event.kind === 'frame' ? event.hex : '')).join('')).to.equal(hex(payload));
    });
  });

  describe('UTF-8 fails on the first invalid byte', () => {
    it('throws 1007 as soon as the invalid byte arrives, long before the frame ends', () => {
      const input = rawFrame({ opcode: 1, announcedLength: 10_000, payload: Buffer.from([0x61, 0x62, 0xc0]) });
      // Only the header and the three bytes: the rest of the 10 000-byte frame never arrives.
      const events = decodeAllWays(input, { role: 'client' });
      expect(errorOf(events)?.code).to.equal(P.INVALID_UTF8.code);
    });

    for (const split of [1, 2, 3]) {
      it(`a 4-byte sequence cut after its byte ${split} fails in the chunk holding the bad continuation`, () => {
        const header = rawFrame({ opcode: 1, announcedLength: 100 });
        const payload = Buffer.from([0xf0, 0x9f, 0x98, 0x41]);
        const decoder = new WebSocketFrameDecoder(
          { onData: () => {}, onPing: () => {}, onPong: () => {}, onClose: () => {} },
          { role: 'client' },
        );
        decoder.decode(Buffer.concat([header, payload.subarray(0, split)]));
        expect(decoder.error).to.equal(null);
        expect(() => decoder.decode(Buffer.from(payload.subarray(split))))
          .to.throw(WebSocketProtocolError)
          .with.property('closeCode', 1007);
      });
    }
  });

  describe('decoder state', () => {
    it('isAtFrameBoundary and isInMessage follow the input', () => {
      const decoder = new WebSocketFrameDecoder(
        { onData: () => {}, onPing: () => {}, onPong: () => {}, onClose: () => {} },
        { role: 'client' },
      );
      expect([decoder.isAtFrameBoundary, decoder.isInMessage]).to.deep.equal([true, false]);
      const first = rawFrame({ opcode: 1, payload: 'ab', fin: false });
      decoder.decode(first.subarray(0, 3));
      expect([decoder.isAtFrameBoundary, decoder.isInMessage]).to.deep.equal([false, true]);
      decoder.decode(Buffer.from(first.subarray(3)));
      expect([decoder.isAtFrameBoundary, decoder.isInMessage]).to.deep.equal([true, true]);
      decoder.decode(rawFrame({ opcode: 0, payload: 'c' }));
      expect([decoder.isAtFrameBoundary, decoder.isInMessage]).to.deep.equal([true, false]);
    });

    it('an exception from the listener propagates out of decode()', () => {
      const decoder = new WebSocketFrameDecoder(
        {
          onData: () => {
            throw new RangeError('application bug');
          },
          onPing: () => {},
          onPong: () => {},
          onClose: () => {},
        },
        { role: 'client' },
      );
      expect(() => decoder.decode(rawFrame({ opcode: 2, payload: 'x' }))).to.throw(RangeError, 'application bug');
    });
  });

  it('the table covers every Autobahn-style category', () => {
    expect(categories).to.include.members([
      'framing',
      'pings/pongs',
      'reserved bits',
      'opcodes',
      'fragmentation',
      'UTF-8',
      'limits',
      'close handling',
      'compression',
    ]);
  });
});
