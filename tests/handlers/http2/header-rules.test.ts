import { expect } from 'chai';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import {
  CONTENT_LENGTH_ABSENT,
  CONTENT_LENGTH_INVALID,
  HeaderBlockKind,
  HeaderBlockSummary,
  HeaderRule,
  type HeaderRuleViolation,
  malformedHeaderError,
  parseContentLength,
  validateHeaderBlock,
} from '../../../handlers/http2/connection/header-rules.js';

const GET = [':method', 'GET', ':scheme', 'https', ':path', '/', ':authority', 'example.com'];
const OK = [':status', '200'];

/** One rule broken by one block. */
interface RuleCase {
  readonly title: string;
  readonly kind: HeaderBlockKind;
  readonly fields: readonly string[];
  readonly violation: HeaderRuleViolation;
  readonly isExtendedConnectEnabled?: boolean;
}

const { REQUEST, RESPONSE, TRAILERS } = HeaderBlockKind;

const RULE_CASES: RuleCase[] = [
  { title: 'an empty field name', kind: REQUEST, fields: [...GET, '', 'x'], violation: HeaderRule.EMPTY_NAME },
  {
    title: 'an uppercase field name',
    kind: REQUEST,
    fields: [...GET, 'Content-Type', 'text/plain'],
    violation: HeaderRule.UPPERCASE_NAME,
  },
  {
    title: 'a space in a field name',
    kind: REQUEST,
    fields: [...GET, 'x y', '1'],
    violation: HeaderRule.INVALID_NAME_CHARACTER,
  },
  {
    title: 'a control character in a field name',
    kind: RESPONSE,
    fields: [...OK, 'x\u0001', '1'],
    violation: HeaderRule.INVALID_NAME_CHARACTER,
  },
  {
    title: 'DEL in a field name',
    kind: RESPONSE,
    fields: [...OK, 'x\u007f', '1'],
    violation: HeaderRule.INVALID_NAME_CHARACTER,
  },
  {
    title: 'an octet above 0x7f in a field name',
    kind: RESPONSE,
    fields: [...OK, 'caf\u00e9', '1'],
    violation: HeaderRule.INVALID_NAME_CHARACTER,
  },
  {
    title: 'a colon inside a regular field name',
    kind: RESPONSE,
    fields: [...OK, 'x:y', '1'],
    violation: HeaderRule.INVALID_NAME_CHARACTER,
  },
  {
    title: 'NUL in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\u0000b'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'CR in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\rb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'LF in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\nb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'LF in a pseudo-header value',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'https', ':path', '/a\nb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'SOH (0x01) in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\u0001b'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'ESC (0x1b) in a request field value',
    kind: REQUEST,
    fields: [...GET, 'x', 'a\u001bb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'DEL in a field value',
    kind: TRAILERS,
    fields: ['x', 'a\u007fb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'a vertical tab in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\u000bb'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'a code unit above 0xFF in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'caf\u20ac'],
    violation: HeaderRule.INVALID_VALUE_CHARACTER,
  },
  {
    title: 'a leading space in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', ' a'],
    violation: HeaderRule.VALUE_WHITESPACE,
  },
  {
    title: 'a trailing tab in a field value',
    kind: RESPONSE,
    fields: [...OK, 'x', 'a\t'],
    violation: HeaderRule.VALUE_WHITESPACE,
  },
  {
    title: 'connection',
    kind: REQUEST,
    fields: [...GET, 'connection', 'close'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'keep-alive',
    kind: RESPONSE,
    fields: [...OK, 'keep-alive', 'timeout=5'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'proxy-connection',
    kind: REQUEST,
    fields: [...GET, 'proxy-connection', 'keep-alive'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'transfer-encoding',
    kind: RESPONSE,
    fields: [...OK, 'transfer-encoding', 'chunked'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'upgrade',
    kind: REQUEST,
    fields: [...GET, 'upgrade', 'h2c'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'connection-specific fields in trailers',
    kind: TRAILERS,
    fields: ['transfer-encoding', 'chunked'],
    violation: HeaderRule.CONNECTION_SPECIFIC_FIELD,
  },
  {
    title: 'te other than "trailers"',
    kind: REQUEST,
    fields: [...GET, 'te', 'gzip'],
    violation: HeaderRule.TE_NOT_TRAILERS,
  },
  {
    title: 'a pseudo-header after a regular field',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'https', 'accept', '*/*', ':path', '/'],
    violation: HeaderRule.PSEUDO_AFTER_REGULAR,
  },
  {
    title: 'a pseudo-header in trailers',
    kind: TRAILERS,
    fields: [':status', '200'],
    violation: HeaderRule.PSEUDO_IN_TRAILERS,
  },
  {
    title: 'an undefined pseudo-header',
    kind: REQUEST,
    fields: [...GET, ':foo', 'x'],
    violation: HeaderRule.UNKNOWN_PSEUDO,
  },
  {
    title: ':status in a request',
    kind: REQUEST,
    fields: [...GET, ':status', '200'],
    violation: HeaderRule.UNKNOWN_PSEUDO,
  },
  {
    title: ':method in a response',
    kind: RESPONSE,
    fields: [...OK, ':method', 'GET'],
    violation: HeaderRule.UNKNOWN_PSEUDO,
  },
  {
    title: ':protocol without extended CONNECT',
    kind: REQUEST,
    fields: [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      'https',
      ':path',
      '/chat',
      ':authority',
      'example.com',
    ],
    violation: HeaderRule.PROTOCOL_NOT_ENABLED,
  },
  {
    title: 'a repeated :path',
    kind: REQUEST,
    fields: [...GET, ':path', '/again'],
    violation: HeaderRule.DUPLICATE_PSEUDO,
  },
  {
    title: 'a repeated :status',
    kind: RESPONSE,
    fields: [...OK, ':status', '204'],
    violation: HeaderRule.DUPLICATE_PSEUDO,
  },
  {
    title: 'a space in :method',
    kind: REQUEST,
    fields: [':method', 'GE T', ':scheme', 'https', ':path', '/'],
    violation: HeaderRule.INVALID_METHOD,
  },
  {
    title: 'an empty :method',
    kind: REQUEST,
    fields: [':method', '', ':scheme', 'https', ':path', '/'],
    violation: HeaderRule.INVALID_METHOD,
  },
  {
    title: 'a separator in :method',
    kind: REQUEST,
    fields: [':method', 'GET/1', ':scheme', 'https', ':path', '/'],
    violation: HeaderRule.INVALID_METHOD,
  },
  {
    title: 'an octet above 0x7f in :method',
    kind: REQUEST,
    fields: [':method', 'G\u00c9T', ':scheme', 'https', ':path', '/'],
    violation: HeaderRule.INVALID_METHOD,
  },
  {
    title: 'a request without :method',
    kind: REQUEST,
    fields: [':scheme', 'https', ':path', '/'],
    violation: HeaderRule.MISSING_METHOD,
  },
  {
    title: 'a request without :scheme',
    kind: REQUEST,
    fields: [':method', 'GET', ':path', '/'],
    violation: HeaderRule.MISSING_SCHEME,
  },
  {
    title: 'a request without :path',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'https'],
    violation: HeaderRule.MISSING_PATH,
  },
  {
    title: 'an empty :path for https',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'https', ':path', ''],
    violation: HeaderRule.EMPTY_PATH,
  },
  {
    title: 'a :path without a leading slash for http',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'http', ':path', 'index.html'],
    violation: HeaderRule.EMPTY_PATH,
  },
  {
    title: '* as :path for a method other than OPTIONS',
    kind: REQUEST,
    fields: [':method', 'GET', ':scheme', 'https', ':path', '*'],
    violation: HeaderRule.EMPTY_PATH,
  },
  {
    title: 'CONNECT without :authority',
    kind: REQUEST,
    fields: [':method', 'CONNECT'],
    violation: HeaderRule.CONNECT_FIELDS,
  },
  {
    title: 'CONNECT with :path',
    kind: REQUEST,
    fields: [':method', 'CONNECT', ':authority', 'example.com:443', ':path', '/'],
    violation: HeaderRule.CONNECT_FIELDS,
  },
  {
    title: 'CONNECT with :scheme',
    kind: REQUEST,
    fields: [':method', 'CONNECT', ':authority', 'example.com:443', ':scheme', 'https'],
    violation: HeaderRule.CONNECT_FIELDS,
  },
  {
    title: ':protocol on a method other than CONNECT',
    kind: REQUEST,
    fields: [...GET, ':protocol', 'websocket'],
    violation: HeaderRule.PROTOCOL_FIELDS,
    isExtendedConnectEnabled: true,
  },
  {
    title: 'extended CONNECT whose https :path does not start with /',
    kind: REQUEST,
    fields: [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      'https',
      ':path',
      'chat',
      ':authority',
      'a.test',
    ],
    violation: HeaderRule.EMPTY_PATH,
    isExtendedConnectEnabled: true,
  },
  {
    title: ':protocol in a response',
    kind: RESPONSE,
    fields: [...OK, ':protocol', 'websocket'],
    violation: HeaderRule.UNKNOWN_PSEUDO,
    isExtendedConnectEnabled: true,
  },
  {
    title: 'extended CONNECT without :path',
    kind: REQUEST,
    fields: [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':authority', 'example.com'],
    violation: HeaderRule.PROTOCOL_FIELDS,
    isExtendedConnectEnabled: true,
  },
  {
    title: 'a response without :status',
    kind: RESPONSE,
    fields: ['content-type', 'text/plain'],
    violation: HeaderRule.MISSING_STATUS,
  },
  { title: 'a two-digit :status', kind: RESPONSE, fields: [':status', '20'], violation: HeaderRule.INVALID_STATUS },
  { title: 'a non-numeric :status', kind: RESPONSE, fields: [':status', '2x0'], violation: HeaderRule.INVALID_STATUS },
  {
    title: ':status 101',
    kind: RESPONSE,
    fields: [':status', '101', 'upgrade-insecure', '1'],
    violation: HeaderRule.SWITCHING_PROTOCOLS,
  },
  {
    title: 'a negative content-length',
    kind: RESPONSE,
    fields: [...OK, 'content-length', '-1'],
    violation: HeaderRule.INVALID_CONTENT_LENGTH,
  },
  {
    title: 'content-length fields that differ',
    kind: RESPONSE,
    fields: [...OK, 'content-length', '1', 'content-length', '2'],
    violation: HeaderRule.INVALID_CONTENT_LENGTH,
  },
];

describe('HTTP/2 header block rules (RFC 9113 §8)', () => {
  describe('malformed blocks: one row per rule', () => {
    for (const rule of RULE_CASES) {
      it(`rejects ${rule.title} as "${rule.violation}"`, () => {
        expect(validateHeaderBlock(rule.fields, rule.kind, rule.isExtendedConnectEnabled ?? false)).to.equal(
          rule.violation,
        );
      });
    }

    it('has a row for every rule', () => {
      const covered = new Set(RULE_CASES.map((rule) => rule.violation));
      expect([...covered].sort()).to.deep.equal(Object.values(HeaderRule).sort());
    });
  });

  describe('well-formed blocks', () => {
    const validCases: {
      title: string;
      kind: HeaderBlockKind;
      fields: readonly string[];
      isExtendedConnectEnabled?: boolean;
    }[] = [
      {
        title: 'a GET request with regular fields',
        kind: REQUEST,
        fields: [...GET, 'accept', '*/*', 'user-agent', 'sluice/0.1'],
      },
      {
        title: 'a request without :authority',
        kind: REQUEST,
        fields: [':method', 'GET', ':scheme', 'https', ':path', '/a?b=c'],
      },
      {
        title: 'an OPTIONS * request',
        kind: REQUEST,
        fields: [':method', 'OPTIONS', ':scheme', 'https', ':path', '*', ':authority', 'example.com'],
      },
      { title: 'a request with te: trailers', kind: REQUEST, fields: [...GET, 'te', 'trailers'] },
      { title: 'a CONNECT request', kind: REQUEST, fields: [':method', 'CONNECT', ':authority', 'example.com:443'] },
      {
        title: 'an extended CONNECT request',
        kind: REQUEST,
        fields: [
          ':method',
          'CONNECT',
          ':protocol',
          'websocket',
          ':scheme',
          'https',
          ':path',
          '/chat',
          ':authority',
          'example.com',
        ],
        isExtendedConnectEnabled: true,
      },
      {
        title: 'a non-http scheme with any path',
        kind: REQUEST,
        fields: [':method', 'GET', ':scheme', 'foo', ':path', 'bar'],
      },
      {
        title: 'a response with obs-text and inner spaces in a value',
        kind: RESPONSE,
        fields: [...OK, 'x-text', 'caf\u00e9 au lait', 'x-empty', ''],
      },
      {
        title: 'HTAB inside a value and visible ASCII up to ~',
        kind: RESPONSE,
        fields: [...OK, 'x-tab', 'a\tb', 'x-visible', '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'],
      },
      {
        title: 'a method made of every kind of token character',
        kind: REQUEST,
        fields: [':method', "M-SEARCH!#$%&'*+.^_`|~09az", ':scheme', 'https', ':path', '/'],
      },
      {
        title: 'an informational response',
        kind: RESPONSE,
        fields: [':status', '103', 'link', '</style.css>; rel=preload'],
      },
      { title: 'trailers', kind: TRAILERS, fields: ['grpc-status', '0', 'grpc-message', 'ok'] },
      { title: 'empty trailers', kind: TRAILERS, fields: [] },
      {
        title: 'repeated equal content-length fields',
        kind: RESPONSE,
        fields: [...OK, 'content-length', '42', 'content-length', '42'],
      },
    ];
    for (const valid of validCases) {
      it(`accepts ${valid.title}`, () => {
        expect(validateHeaderBlock(valid.fields, valid.kind, valid.isExtendedConnectEnabled ?? false)).to.equal(null);
      });
    }
  });

  describe('summary', () => {
    it('fills method, status and content-length in the same pass and resets between blocks', () => {
      const summary = new HeaderBlockSummary();
      expect(validateHeaderBlock([...GET, 'content-length', '12'], REQUEST, false, summary)).to.equal(null);
      expect(summary.method).to.equal('GET');
      expect(summary.status).to.equal(-1);
      expect(summary.contentLength).to.equal(12);
      expect(validateHeaderBlock([':status', '204'], RESPONSE, false, summary)).to.equal(null);
      expect(summary.method).to.equal('');
      expect(summary.status).to.equal(204);
      expect(summary.contentLength).to.equal(CONTENT_LENGTH_ABSENT);
    });
  });

  describe('malformedHeaderError', () => {
    it('is a stream error PROTOCOL_ERROR on the stream, naming the rule', () => {
      const error = malformedHeaderError(5, HeaderRule.UPPERCASE_NAME);
      expect(error).to.be.instanceOf(Http2StreamError);
      expect(error.errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
      expect(error.streamId).to.equal(5);
      expect(error.code).to.equal('HTTP2_PROTOCOL_ERROR');
      expect(error.message).to.contain(HeaderRule.UPPERCASE_NAME);
    });
  });

  describe('parseContentLength', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['42', 42],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
      ['42, 42', 42],
      ['42,42 ,  42', 42],
      ['', CONTENT_LENGTH_INVALID],
      ['-1', CONTENT_LENGTH_INVALID],
      ['+1', CONTENT_LENGTH_INVALID],
      ['1.5', CONTENT_LENGTH_INVALID],
      ['0x10', CONTENT_LENGTH_INVALID],
      ['42, 43', CONTENT_LENGTH_INVALID],
      ['42,', CONTENT_LENGTH_INVALID],
      [',42', CONTENT_LENGTH_INVALID],
      ['4 2', CONTENT_LENGTH_INVALID],
      ['9007199254740992', CONTENT_LENGTH_INVALID],
    ];
    for (const [value, expected] of cases) {
      it(`parses ${JSON.stringify(value)} as ${expected}`, () => {
        expect(parseContentLength(value)).to.equal(expected);
      });
    }
  });
});
