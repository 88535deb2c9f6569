import { expect } from 'chai';
import fc from 'fast-check';
import hpack from 'hpack.js';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import { Http2ConnectionError } from '../../../handlers/http2/errors.js';
import { HEADER_LIST_TOO_LARGE, HpackDecoder } from '../../../handlers/http2/wire/hpack-decoder.js';
import { HpackEncoder } from '../../../handlers/http2/wire/hpack-encoder.js';

/** Bytes from the RFC's hex dumps (spaces and line breaks ignored). */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Decodes and fails the test on HEADER_LIST_TOO_LARGE. */
function decodeList(decoder: HpackDecoder, block: Uint8Array): string[] {
  const fields = decoder.decode(block);
  if (fields === HEADER_LIST_TOO_LARGE) throw new Error('unexpected HEADER_LIST_TOO_LARGE');
  return fields;
}

function expectConnectionError(action: () => unknown, errorCode: number, messagePart?: string): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a throw').to.be.instanceOf(Http2ConnectionError);
  const error = caught as Http2ConnectionError;
  expect(error.errorCode).to.equal(errorCode);
  if (messagePart !== undefined) expect(error.message).to.contain(messagePart);
}

/** One step of an RFC 7541 Appendix C example: wire bytes, the list, the table after it. */
interface AppendixStep {
  readonly title: string;
  readonly block: string;
  readonly fields: readonly string[];
  readonly table: readonly string[];
  readonly tableSize: number;
}

const DATE_21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const SET_COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';

const REQUEST_1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQUEST_2 = [...REQUEST_1, 'cache-control', 'no-cache'];
const REQUEST_3 = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':path',
  '/index.html',
  ':authority',
  'www.example.com',
  'custom-key',
  'custom-value',
];
const REQUEST_TABLES = [
  { table: [':authority', 'www.example.com'], tableSize: 57 },
  { table: ['cache-control', 'no-cache', ':authority', 'www.example.com'], tableSize: 110 },
  {
    table: ['custom-key', 'custom-value', 'cache-control', 'no-cache', ':authority', 'www.example.com'],
    tableSize: 164,
  },
];
const RESPONSE_1 = [':status', '302', 'cache-control', 'private', 'date', DATE_21, 'location', LOCATION];
const RESPONSE_2 = [':status', '307', 'cache-control', 'private', 'date', DATE_21, 'location', LOCATION];
const RESPONSE_3 = [
  ':status',
  '200',
  'cache-control',
  'private',
  'date',
  DATE_22,
  'location',
  LOCATION,
  'content-encoding',
  'gzip',
  'set-cookie',
  SET_COOKIE,
];
const RESPONSE_TABLES = [
  { table: ['location', LOCATION, 'date', DATE_21, 'cache-control', 'private', ':status', '302'], tableSize: 222 },
  { table: [':status', '307', 'location', LOCATION, 'date', DATE_21, 'cache-control', 'private'], tableSize: 222 },
  { table: ['set-cookie', SET_COOKIE, 'content-encoding', 'gzip', 'date', DATE_22], tableSize: 215 },
];

/** RFC 7541 C.3: requests without Huffman coding. */
const C3: AppendixStep[] = [
  {
    title: 'C.3.1',
    block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    fields: REQUEST_1,
    ...REQUEST_TABLES[0],
  },
  { title: 'C.3.2', block: '8286 84be 5808 6e6f 2d63 6163 6865', fields: REQUEST_2, ...REQUEST_TABLES[1] },
  {
    title: 'C.3.3',
    block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    fields: REQUEST_3,
    ...REQUEST_TABLES[2],
  },
];
/** RFC 7541 C.4: the same requests with Huffman coding. */
const C4: AppendixStep[] = [
  { title: 'C.4.1', block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', fields: REQUEST_1, ...REQUEST_TABLES[0] },
  { title: 'C.4.2', block: '8286 84be 5886 a8eb 1064 9cbf', fields: REQUEST_2, ...REQUEST_TABLES[1] },
  {
    title: 'C.4.3',
    block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    fields: REQUEST_3,
    ...REQUEST_TABLES[2],
  },
];
/** RFC 7541 C.5: responses without Huffman coding, 256-octet table, with eviction. */
const C5: AppendixStep[] = [
  {
    title: 'C.5.1',
    block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a
      3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    fields: RESPONSE_1,
    ...RESPONSE_TABLES[0],
  },
  { title: 'C.5.2', block: '4803 3330 37c1 c0bf', fields: RESPONSE_2, ...RESPONSE_TABLES[1] },
  {
    title: 'C.5.3',
    block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
      54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
      5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
      3d31`,
    fields: RESPONSE_3,
    ...RESPONSE_TABLES[2],
  },
];
/** RFC 7541 C.6: the same responses with Huffman coding. */
const C6: AppendixStep[] = [
  {
    title: 'C.6.1',
    block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e
      919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    fields: RESPONSE_1,
    ...RESPONSE_TABLES[0],
  },
  { title: 'C.6.2', block: '4883 640e ffc1 c0bf', fields: RESPONSE_2, ...RESPONSE_TABLES[1] },
  {
    title: 'C.6.3',
    block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7
      821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed
      4ee5 b106 3d50 07`,
    fields: RESPONSE_3,
    ...RESPONSE_TABLES[2],
  },
];

describe('HPACK (RFC 7541) adapter over hpack.js', () => {
  describe('RFC 7541 Appendix C.2: single field representations', () => {
    const cases = [
      {
        title: 'C.2.1 literal with indexing',
        block: '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
        fields: ['custom-key', 'custom-header'],
        table: ['custom-key', 'custom-header'],
        tableSize: 55,
      },
      {
        title: 'C.2.2 literal without indexing',
        block: '040c 2f73 616d 706c 652f 7061 7468',
        fields: [':path', '/sample/path'],
        table: [],
        tableSize: 0,
      },
      {
        title: 'C.2.3 literal never indexed',
        block: '1008 7061 7373 776f 7264 0673 6563 7265 74',
        fields: ['password', 'secret'],
        table: [],
        tableSize: 0,
      },
      { title: 'C.2.4 indexed field', block: '82', fields: [':method', 'GET'], table: [], tableSize: 0 },
    ];
    for (const testCase of cases) {
      it(`decodes ${testCase.title} to its field and table`, () => {
        const decoder = new HpackDecoder();
        expect(decodeList(decoder, hex(testCase.block))).to.deep.equal(testCase.fields);
        expect(decoder.tableEntries()).to.deep.equal(testCase.table);
        expect(decoder.tableSize).to.equal(testCase.tableSize);
      });
    }

    it('reports the C.2.3 field as never-indexed and the others not', () => {
      const decoder = new HpackDecoder();
      decodeList(decoder, hex('1008 7061 7373 776f 7264 0673 6563 7265 74'));
      expect(decoder.isNeverIndexed(0)).to.equal(true);
      decodeList(decoder, hex('82'));
      expect(decoder.isNeverIndexed(0)).to.equal(false);
    });
  });

  const sequences = [
    { title: 'C.3 requests without Huffman', steps: C3, tableSize: 4096, useHuffman: false },
    { title: 'C.4 requests with Huffman', steps: C4, tableSize: 4096, useHuffman: true },
    {
      title: 'C.5 responses without Huffman (256-octet table, eviction)',
      steps: C5,
      tableSize: 256,
      useHuffman: false,
    },
    { title: 'C.6 responses with Huffman (256-octet table, eviction)', steps: C6, tableSize: 256, useHuffman: true },
  ];
  for (const sequence of sequences) {
    describe(`RFC 7541 Appendix ${sequence.title}`, () => {
      it('decodes every block to the listed fields and dynamic table (entries and size)', () => {
        const decoder = new HpackDecoder({ initialHeaderTableSize: sequence.tableSize });
        for (const step of sequence.steps) {
          expect(decodeList(decoder, hex(step.block)), step.title).to.deep.equal(step.fields);
          expect(decoder.tableEntries(), step.title).to.deep.equal(step.table);
          expect(decoder.tableSize, step.title).to.equal(step.tableSize);
        }
      });

      it('encodes the listed fields back to the RFC bytes and table states', () => {
        const encoder = new HpackEncoder({
          initialHeaderTableSize: sequence.tableSize,
          maxTableSize: sequence.tableSize,
          useHuffman: sequence.useHuffman,
        });
        for (const step of sequence.steps) {
          const block = encoder.encode(step.fields).toString('hex');
          // C.6.2 Huffman-codes "307" although it is no shorter (3 octets either way); we send
          // the raw octets when Huffman is not strictly shorter.
          const expected = step.title === 'C.6.2' ? '4803333037c1c0bf' : hex(step.block).toString('hex');
          expect(block, step.title).to.equal(expected);
          expect(encoder.tableEntries(), step.title).to.deep.equal(step.table);
          expect(encoder.tableSize, step.title).to.equal(step.tableSize);
        }
      });
    });
  }

  describe('dynamic table size updates (RFC 7541 §4.2, §6.3)', () => {
    it('emits a size update at the start of the next block after the table shrinks', () => {
      const encoder = new HpackEncoder();
      encoder.encode(['custom-key', 'custom-value']);
      encoder.applyPeerHeaderTableSize(100);
      const block = encoder.encode([':method', 'GET']);
      // 100 with a 5-bit prefix: 0x3f, then 100 − 31 = 69 = 0x45; then index 2.
      expect(block.toString('hex')).to.equal('3f4582');
      expect(encoder.maxTableSize).to.equal(100);
      expect(encoder.tableEntries()).to.deep.equal(['custom-key', 'custom-value']);
      // The next block carries no update.
      expect(encoder.encode([':method', 'GET']).toString('hex')).to.equal('82');
    });

    it('signals the smallest then the final size when the size changes twice between blocks', () => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder();
      decodeList(decoder, encoder.encode(['custom-key', 'custom-value']));
      encoder.applyPeerHeaderTableSize(0);
      encoder.applyPeerHeaderTableSize(2048);
      const block = encoder.encode([':method', 'GET']);
      // 0 → 0x20; 2048 → 0x3f, 2017 = 0x61 | 0x80, 0x0f.
      expect(block.toString('hex')).to.equal('203fe10f82');
      decodeList(decoder, block);
      expect(decoder.tableEntries()).to.deep.equal([]);
      expect(encoder.tableEntries()).to.deep.equal([]);
      expect(decoder.maxTableSize).to.equal(2048);
    });

    it('signals a larger size once when the peer raises it, capped by maxTableSize', () => {
      const encoder = new HpackEncoder({ maxTableSize: 8192 });
      encoder.applyPeerHeaderTableSize(65_536);
      // 8192 → 0x3f, 8161 = 0xe1 0x3f.
      expect(encoder.encode([]).toString('hex')).to.equal('3fe13f');
    });

    it('signals its own cap in the first block when it is below the protocol default', () => {
      const encoder = new HpackEncoder({ maxTableSize: 0 });
      expect(encoder.encode([':method', 'GET']).toString('hex')).to.equal('2082');
    });

    it('rejects a size update after a header field with COMPRESSION_ERROR', () => {
      const decoder = new HpackDecoder();
      expectConnectionError(() => decoder.decode(hex('8220')), ErrorCode.COMPRESSION_ERROR, 'after a header field');
    });

    it('accepts size updates before the first field', () => {
      const decoder = new HpackDecoder();
      expect(decodeList(decoder, hex('20 3fe10f 82'))).to.deep.equal([':method', 'GET']);
      expect(decoder.maxTableSize).to.equal(2048);
    });

    it('rejects a size update above the SETTINGS_HEADER_TABLE_SIZE we advertised', () => {
      // 4097 → 0x3f, 4066 = 0xe2 0x1f.
      expectConnectionError(
        () => new HpackDecoder().decode(hex('3fe21f')),
        ErrorCode.COMPRESSION_ERROR,
        'above the advertised',
      );
      const decoder = new HpackDecoder();
      decoder.setMaxTableSize(1024);
      expectConnectionError(
        () => decoder.decode(hex('3fe10f')),
        ErrorCode.COMPRESSION_ERROR,
        'above the advertised 1024',
      );
    });

    it('requires a size update in the first block after our advertised size falls below the table size', () => {
      const decoder = new HpackDecoder();
      decoder.setMaxTableSize(1024);
      expectConnectionError(
        () => decoder.decode(hex('82')),
        ErrorCode.COMPRESSION_ERROR,
        'required dynamic table size update',
      );
      const compliant = new HpackDecoder();
      compliant.setMaxTableSize(1024);
      // 1024 → 0x3f, 993 = 0xe1 0x07.
      expect(decodeList(compliant, hex('3fe107 82'))).to.deep.equal([':method', 'GET']);
      expect(decodeList(compliant, hex('82'))).to.deep.equal([':method', 'GET']);
    });
  });

  describe('decoding errors', () => {
    const cases = [
      { title: 'index 0', block: '80' },
      { title: 'an index beyond the table', block: 'be' },
      { title: 'a truncated integer', block: 'ff' },
      { title: 'an integer beyond 2^31 − 1', block: 'ffffffffff0f' },
      { title: 'an integer padded with endless zero continuations', block: 'ff8080808080808000' },
      { title: 'a string running past the block', block: '400a 6375 7374' },
      { title: 'a literal without its string', block: '40' },
      { title: 'Huffman padding longer than 7 bits', block: '4081 ff 00' },
      { title: 'Huffman padding that is not all 1 bits', block: '0081 00 00' },
      { title: 'EOS inside a Huffman string', block: '0084 ffffffff 00' },
    ];
    for (const testCase of cases) {
      it(`throws COMPRESSION_ERROR on ${testCase.title}`, () => {
        expectConnectionError(() => new HpackDecoder().decode(hex(testCase.block)), ErrorCode.COMPRESSION_ERROR);
      });
    }

    it('keeps failing with COMPRESSION_ERROR after a failure (the context is lost)', () => {
      const decoder = new HpackDecoder();
      expectConnectionError(() => decoder.decode(hex('80')), ErrorCode.COMPRESSION_ERROR);
      expectConnectionError(() => decoder.decode(hex('82')), ErrorCode.COMPRESSION_ERROR, 'already failed');
    });

    it('only ever throws Http2ConnectionError(COMPRESSION_ERROR) on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: 4 }), (blocks) => {
          const decoder = new HpackDecoder();
          try {
            for (const block of blocks) decoder.decode(block);
          } catch (error) {
            return error instanceof Http2ConnectionError && error.errorCode === ErrorCode.COMPRESSION_ERROR;
          }
          return true;
        }),
        { numRuns: 300 },
      );
    });

    it('only ever throws Http2ConnectionError(COMPRESSION_ERROR) on corrupted valid blocks', () => {
      const valid = new HpackEncoder().encode([...REQUEST_3, 'cookie', 'a=b', 'user-agent', 'x'.repeat(40)]);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.nat(valid.length),
          (edits, cut) => {
            const block = Buffer.from(valid.subarray(0, cut));
            for (const [position, octet] of edits) if (position < block.length) block[position] = octet;
            try {
              new HpackDecoder().decode(block);
            } catch (error) {
              return error instanceof Http2ConnectionError && error.errorCode === ErrorCode.COMPRESSION_ERROR;
            }
            return true;
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('header list size limit (RFC 9113 §10.5.1)', () => {
    it('returns HEADER_LIST_TOO_LARGE above maxHeaderListSize but keeps the table in step', () => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
      // 2 × (10 + 20 + 32) = 124 octets: over 100, under the 200 hard limit.
      const large = ['custom-key', 'v'.repeat(20), 'other-key1', 'w'.repeat(20)];
      expect(decoder.decode(encoder.encode(large))).to.equal(HEADER_LIST_TOO_LARGE);
      expect(decoder.tableEntries()).to.deep.equal(encoder.tableEntries());
      // The next block indexes the entries the dropped block added.
      const next = encoder.encode(['other-key1', 'w'.repeat(20)]);
      expect(next.length).to.equal(1);
      expect(decodeList(decoder, next)).to.deep.equal(['other-key1', 'w'.repeat(20)]);
    });

    it('accepts a list exactly at maxHeaderListSize', () => {
      const decoder = new HpackDecoder({ maxHeaderListSize: 62 });
      const fields = ['custom-key', 'v'.repeat(20)];
      expect(decodeList(decoder, new HpackEncoder().encode(fields))).to.deep.equal(fields);
    });

    it('ends the connection with ENHANCE_YOUR_CALM above the hard limit', () => {
      const decoder = new HpackDecoder({ maxHeaderListSize: 100, hardMaxHeaderListSize: 150 });
      const fields = ['a', 'x'.repeat(20), 'b', 'x'.repeat(20), 'c', 'x'.repeat(20)];
      expectConnectionError(() => decoder.decode(new HpackEncoder().encode(fields)), ErrorCode.ENHANCE_YOUR_CALM);
    });

    it('counts indexed references to large entries (an HPACK bomb) against the limit', () => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder({ maxHeaderListSize: 4096 });
      decodeList(decoder, encoder.encode(['bomb', 'x'.repeat(1000)]));
      // 9 one-octet references to a 1036-octet entry.
      const block = Buffer.alloc(9, 0xbe);
      expectConnectionError(() => decoder.decode(block), ErrorCode.ENHANCE_YOUR_CALM);
    });
  });

  describe('encoder choices', () => {
    it('never-indexes authorization and proxy-authorization (0x10 pattern on the wire)', () => {
      const encoder = new HpackEncoder();
      const block = encoder.encode(['authorization', 'Basic dXNlcjpwYXNz', 'proxy-authorization', 'Basic eA']);
      // authorization is static index 23: 0x1f then 23 − 15 = 0x08.
      expect(block[0]).to.equal(0x1f);
      expect(block[1]).to.equal(0x08);
      expect(encoder.tableEntries()).to.deep.equal([]);
      const decoder = new HpackDecoder();
      decodeList(decoder, block);
      expect(decoder.isNeverIndexed(0)).to.equal(true);
      expect(decoder.isNeverIndexed(1)).to.equal(true);
    });

    it('reports never-indexed flags per list: a later list with one further on, then one with none', () => {
      const encoder = new HpackEncoder({ sensitiveHeaderNames: ['x-secret'] });
      const decoder = new HpackDecoder();
      expect(decodeList(decoder, encoder.encode(['x-secret', 'a', 'x-plain', 'b']))).to.have.length(4);
      expect([decoder.isNeverIndexed(0), decoder.isNeverIndexed(1)]).to.deep.equal([true, false]);
      decodeList(decoder, encoder.encode(['x-plain', 'b', 'x-other', 'c', 'x-secret', 'd']));
      expect([0, 1, 2].map((field) => decoder.isNeverIndexed(field))).to.deep.equal([false, false, true]);
      // Fewer fields than the list before (the decoder sizes a list by the last one's count).
      expect(decodeList(decoder, encoder.encode(['x-plain', 'b']))).to.deep.equal(['x-plain', 'b']);
      expect([0, 1, 2].map((field) => decoder.isNeverIndexed(field))).to.deep.equal([false, false, false]);
    });

    it('never-indexes a sensitive field even when the same field is already indexed', () => {
      const encoder = new HpackEncoder({ sensitiveHeaderNames: ['x-secret'] });
      const first = encoder.encode(['x-secret', 'token']);
      expect(first[0]).to.equal(0x10); // literal name, never indexed
      expect(encoder.encode(['x-secret', 'token'])[0]).to.equal(0x10);
      expect(encoder.tableEntries()).to.deep.equal([]);
    });

    it('never-indexes cookies shorter than 20 octets and indexes longer ones', () => {
      const encoder = new HpackEncoder();
      // cookie is static index 32: never-indexed 0x1f 0x11; incremental 0x60.
      expect([...encoder.encode(['cookie', 'id=1']).subarray(0, 2)]).to.deep.equal([0x1f, 0x11]);
      expect(encoder.encode(['cookie', 'session=0123456789abcdef'])[0]).to.equal(0x60);
      expect(encoder.tableEntries()).to.deep.equal(['cookie', 'session=0123456789abcdef']);
    });

    it('never-indexes names given for one call only', () => {
      const encoder = new HpackEncoder();
      expect(encoder.encode(['x-token', 'abc'], new Set(['x-token']))[0]).to.equal(0x10);
      expect(encoder.encode(['x-token', 'abc'])[0]).to.equal(0x40);
    });

    it('uses Huffman only when it is strictly shorter than the raw octets', () => {
      const encoder = new HpackEncoder();
      // "www.example.com": 12 octets of Huffman vs 15 raw → H bit set.
      const short = encoder.encode(['x-a', 'www.example.com']);
      expect(short[short.length - 13]).to.equal(0x8c);
      // Control octets have 28-bit codes: raw is shorter.
      const raw = encoder.encode(['x-b', '\u0001\u0002']);
      expect([...raw.subarray(raw.length - 3)]).to.deep.equal([0x02, 0x01, 0x02]);
    });

    it('does not index a field that would fill more than 3/4 of the table', () => {
      const encoder = new HpackEncoder({ initialHeaderTableSize: 256, maxTableSize: 256 });
      encoder.encode(['custom-key', 'custom-value']);
      const block = encoder.encode(['big', 'x'.repeat(200)]);
      expect(block[0]).to.equal(0x00);
      expect(encoder.tableEntries()).to.deep.equal(['custom-key', 'custom-value']);
    });

    it('sends code units above 0xFF as UTF-8 octets instead of truncating them', () => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder();
      const value = 'café ☕ 日本';
      const fields = decodeList(decoder, encoder.encode(['x-utf8', value]));
      expect(Buffer.from(fields[1], 'latin1').toString('utf8')).to.equal(value);
      expect(decoder.tableEntries()).to.deep.equal(encoder.tableEntries());
    });

    it('keeps every octet 0x00–0xFF of a byte string through encode and decode', () => {
      let octets = '';
      for (let octet = 0; octet < 256; octet++) octets += String.fromCharCode(octet);
      const fields = decodeList(new HpackDecoder(), new HpackEncoder().encode(['x-bytes', octets]));
      expect(fields[1]).to.equal(octets);
    });

    it('treats names that are Object.prototype keys as ordinary names', () => {
      const encoder = new HpackEncoder();
      const fields = ['constructor', 'length', '__proto__', 'x', 'tostring', 'valueof'];
      expect(decodeList(new HpackDecoder(), encoder.encode(fields))).to.deep.equal(fields);
    });

    it('keeps the generation while a repeated list encodes to the same indexed bytes', () => {
      const encoder = new HpackEncoder();
      const response = [':status', '200', 'content-type', 'text/plain', 'server', 'sluice'];
      const before = encoder.generation;
      encoder.encode(response);
      const afterFirst = encoder.generation;
      expect(afterFirst).to.not.equal(before);
      const second = Buffer.from(encoder.encode(response));
      expect(encoder.generation).to.equal(afterFirst);
      expect(second.toString('hex')).to.equal('88bfbe');
      expect(encoder.encode(response).toString('hex')).to.equal(second.toString('hex'));
      encoder.applyPeerHeaderTableSize(1024);
      expect(encoder.generation).to.not.equal(afterFirst);
    });

    it('rejects an odd-length header list with TypeError before changing the table', () => {
      const encoder = new HpackEncoder();
      expect(() => encoder.encode(['custom-key', 'v', 'dangling'])).to.throw(TypeError);
      expect(encoder.tableEntries()).to.deep.equal([]);
    });
  });

  describe('round trips (fast-check)', () => {
    const nameArbitrary = fc.oneof(
      fc.constantFrom(':method', ':path', ':status', 'content-type', 'cookie', 'authorization', 'date', 'x-custom'),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-0123456789'), minLength: 1, maxLength: 12 }),
    );
    const valueArbitrary = fc.oneof(
      fc.constantFrom('GET', '/', '200', 'text/html', 'gzip, deflate', ''),
      fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code)), maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    const listArbitrary = fc
      .array(fc.tuple(nameArbitrary, valueArbitrary), { maxLength: 12 })
      .map((pairs) => pairs.flat());
    /** A block to encode, optionally preceded by one or two peer table-size changes. */
    const stepArbitrary = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 4096 }), { maxLength: 2 }),
      fields: listArbitrary,
    });

    /** The byte string the encoder sends for a field (UTF-8 octets above 0xFF). */
    function asSent(text: string): string {
      return Array.from(text).some((char) => char.codePointAt(0)! > 0xff)
        ? Buffer.from(text, 'utf8').toString('latin1')
        : text;
    }

    it('decodes every encoded list with our decoder, tables in step, across table-size changes', () => {
      fc.assert(
        fc.property(
          fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }),
          fc.integer({ min: 0, max: 4096 }),
          (steps, ownCap) => {
            const encoder = new HpackEncoder({ maxTableSize: ownCap });
            const decoder = new HpackDecoder();
            for (const step of steps) {
              for (const size of step.sizes) encoder.applyPeerHeaderTableSize(size);
              const decoded = decodeList(decoder, encoder.encode(step.fields));
              expect(decoded).to.deep.equal(step.fields.map(asSent));
              expect(decoder.tableEntries()).to.deep.equal(encoder.tableEntries());
              expect(decoder.tableSize).to.equal(encoder.tableSize);
            }
          },
        ),
        { numRuns: 200 },
      );
    });

    it("decodes every encoded list with hpack.js's own decompressor stream, across table-size changes", () => {
      fc.assert(
        fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }), (steps) => {
          const encoder = new HpackEncoder();
          const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
          let streamError: Error | null = null;
          decompressor.on('error', (error: Error) => {
            streamError = error;
          });
          for (const step of steps) {
            for (const size of step.sizes) encoder.applyPeerHeaderTableSize(size);
            decompressor.write(Buffer.from(encoder.encode(step.fields)));
            decompressor.execute();
            const decoded: string[] = [];
            for (let header = decompressor.read(); header !== null; header = decompressor.read()) {
              decoded.push(header.name, header.value);
            }
            expect(streamError).to.equal(null);
            expect(decoded).to.deep.equal(step.fields.map(asSent));
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});
