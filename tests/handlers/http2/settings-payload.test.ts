/**
 * The SETTINGS payload read on its own (shared by the frame decoder and the h2c upgrade) and the
 * strict base64url decoding of an `HTTP2-Settings` field (RFC 7540 §3.2.1, RFC 4648 §5).
 */
import { expect } from 'chai';
import { ErrorCode, SettingId } from '../../../handlers/http2/wire/constants.js';
import { decodeHttp2SettingsField, readSettingsPayload } from '../../../handlers/http2/wire/settings-payload.js';

function payload(...pairs: [number, number][]): Buffer {
  const bytes = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    bytes.writeUInt16BE(id, 6 * i);
    bytes.writeUInt32BE(value, 6 * i + 2);
  });
  return bytes;
}

describe('http2 settings payload', () => {
  describe('decodeHttp2SettingsField', () => {
    it('decodes what base64url without padding encodes, for every length', () => {
      for (let length = 1; length <= 20; length++) {
        const bytes = Buffer.from(Array.from({ length }, (_unused, i) => (i * 97 + 251) & 0xff));
        const decoded = decodeHttp2SettingsField(bytes.toString('base64url'));
        expect(decoded === null ? null : Buffer.from(decoded).equals(bytes), `${length} bytes`).to.equal(true);
      }
    });

    it('decodes the URL-safe characters - and _', () => {
      expect(Buffer.from(decodeHttp2SettingsField('-_8')!)).to.deep.equal(Buffer.from([0xfb, 0xff]));
    });

    const refused: [string, string][] = [
      ['an empty value (token68 has one character at least)', ''],
      ['padding', 'AAMAAABkAA=='],
      ['a lone padding character', 'AAMAAABkAAQ='],
      ['the + of base64 (not base64url)', 'AA+A'],
      ['the / of base64 (not base64url)', 'AA/A'],
      ['whitespace', 'AAMA AABk'],
      ['a length one more than a multiple of 4', 'AAMAA'],
      ['bits set past the last byte (two characters)', 'AB'],
      ['bits set past the last byte (three characters)', 'AAB'],
      ['a character above U+007F', 'AAMé'],
    ];
    for (const [what, value] of refused) {
      it(`refuses ${what}`, () => {
        expect(decodeHttp2SettingsField(value)).to.equal(null);
      });
    }
  });

  describe('readSettingsPayload', () => {
    it('reads known settings as id/value pairs and skips unknown ones (RFC 9113 §6.5.2)', () => {
      const out: number[] = [99];
      const bytes = payload(
        [SettingId.MAX_CONCURRENT_STREAMS, 100],
        [0x70, 5],
        [SettingId.INITIAL_WINDOW_SIZE, 1 << 20],
      );
      expect(readSettingsPayload(bytes, 0, bytes.length, false, out)).to.equal(null);
      expect(out).to.deep.equal([SettingId.MAX_CONCURRENT_STREAMS, 100, SettingId.INITIAL_WINDOW_SIZE, 1 << 20]);
    });

    it('reads an empty payload', () => {
      expect(readSettingsPayload(Buffer.alloc(0), 0, 0, false, [])).to.equal(null);
    });

    const violations: [string, Buffer, boolean, number][] = [
      ['a length that is not a multiple of 6', Buffer.alloc(4), false, ErrorCode.FRAME_SIZE_ERROR],
      ['ENABLE_PUSH of 2', payload([SettingId.ENABLE_PUSH, 2]), false, ErrorCode.PROTOCOL_ERROR],
      ['ENABLE_PUSH of 1 from a server', payload([SettingId.ENABLE_PUSH, 1]), true, ErrorCode.PROTOCOL_ERROR],
      [
        'INITIAL_WINDOW_SIZE above 2^31-1',
        payload([SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]),
        false,
        ErrorCode.FLOW_CONTROL_ERROR,
      ],
      ['MAX_FRAME_SIZE below 2^14', payload([SettingId.MAX_FRAME_SIZE, 16_383]), false, ErrorCode.PROTOCOL_ERROR],
      ['MAX_FRAME_SIZE above 2^24-1', payload([SettingId.MAX_FRAME_SIZE, 2 ** 24]), false, ErrorCode.PROTOCOL_ERROR],
      [
        'ENABLE_CONNECT_PROTOCOL of 2',
        payload([SettingId.ENABLE_CONNECT_PROTOCOL, 2]),
        false,
        ErrorCode.PROTOCOL_ERROR,
      ],
    ];
    for (const [what, bytes, isFromServer, errorCode] of violations) {
      it(`refuses ${what} with error code ${errorCode}`, () => {
        const out: number[] = [];
        const valid = payload([SettingId.HEADER_TABLE_SIZE, 0]);
        const all = Buffer.concat([valid, bytes]);
        expect(readSettingsPayload(all, 0, all.length, isFromServer, out)?.errorCode).to.equal(errorCode);
      });
    }
  });
});
