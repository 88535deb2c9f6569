/**
 * The request-smuggling table (RFC 9112 §3.2, §6.1, §6.3, §11.2): one row per defence, each with
 * the exact code and the status a server answers. Every row is fed whole, byte by byte and in
 * random splits; a rejected request never reaches the listener as a head, and nothing after it is
 * parsed.
 */
import { expect } from 'chai';
import { Http1ParseErrors } from '../../../handlers/http1/errors.js';
import { errorOf, headsOf, parseAllWays } from './parser-harness.js';

interface Row {
  /** What the row defends against. */
  readonly name: string;
  /** The request bytes (latin-1). */
  readonly input: string;
  /** The expected code. */
  readonly code: string;
  /** The expected status. */
  readonly status: number;
  /** The rule breaks inside the body: the head was legitimately delivered. */
  readonly isInBody?: boolean;
}

const E = Http1ParseErrors;
const POST = 'POST / HTTP/1.1\r\nHost: h\r\n';
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;
const NEXT = 'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n';

const ROWS: readonly Row[] = [
  // RFC 9112 §6.1, §11.2: Content-Length with Transfer-Encoding, in either order.
  {
    name: 'Content-Length then Transfer-Encoding (CL.TE)',
    input: `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`,
    ...E.CONTENT_LENGTH_WITH_TRANSFER_ENCODING,
  },
  {
    name: 'Transfer-Encoding then Content-Length (TE.CL)',
    input: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    ...E.CONTENT_LENGTH_WITH_TRANSFER_ENCODING,
  },
  // RFC 9112 §6.3, RFC 9110 §8.6: Content-Length values.
  {
    name: 'two differing Content-Length lines',
    input: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    ...E.CONFLICTING_CONTENT_LENGTH,
  },
  {
    name: 'a Content-Length list of differing values',
    input: `${POST}Content-Length: 5, 6\r\n\r\n`,
    ...E.CONFLICTING_CONTENT_LENGTH,
  },
  { name: 'a Content-Length with a letter', input: `${POST}Content-Length: 5a\r\n\r\n`, ...E.INVALID_CONTENT_LENGTH },
  { name: 'a negative Content-Length', input: `${POST}Content-Length: -1\r\n\r\n`, ...E.INVALID_CONTENT_LENGTH },
  { name: 'a signed Content-Length', input: `${POST}Content-Length: +5\r\n\r\n`, ...E.INVALID_CONTENT_LENGTH },
  { name: 'a hexadecimal Content-Length', input: `${POST}Content-Length: 0x10\r\n\r\n`, ...E.INVALID_CONTENT_LENGTH },
  { name: 'an empty Content-Length', input: `${POST}Content-Length:\r\n\r\n`, ...E.INVALID_CONTENT_LENGTH },
  {
    name: 'a Content-Length with inner space',
    input: `${POST}Content-Length: 1 2\r\n\r\n`,
    ...E.INVALID_CONTENT_LENGTH,
  },
  {
    name: 'a Content-Length list with an empty element',
    input: `${POST}Content-Length: 5,\r\n\r\n`,
    ...E.INVALID_CONTENT_LENGTH,
  },
  {
    name: 'a Content-Length above 2^53-1',
    input: `${POST}Content-Length: 9007199254740992\r\n\r\n`,
    ...E.INVALID_CONTENT_LENGTH,
  },
  // RFC 9112 §6.1, §6.3, §7: Transfer-Encoding.
  {
    name: 'chunked not the final coding',
    input: `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n`,
    ...E.CHUNKED_NOT_FINAL,
  },
  {
    name: 'a Transfer-Encoding without chunked',
    input: `${POST}Transfer-Encoding: gzip\r\n\r\n`,
    ...E.CHUNKED_NOT_FINAL,
  },
  {
    name: 'an obfuscated chunked (xchunked)',
    input: `${POST}Transfer-Encoding: xchunked\r\n\r\n`,
    ...E.CHUNKED_NOT_FINAL,
  },
  {
    name: 'a chunked with parameters',
    input: `${POST}Transfer-Encoding: chunked;q=1\r\n\r\n`,
    ...E.CHUNKED_NOT_FINAL,
  },
  {
    name: 'a second Transfer-Encoding line after chunked',
    input: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`,
    ...E.CHUNKED_NOT_FINAL,
  },
  {
    name: 'an unknown coding before chunked',
    input: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n`,
    ...E.UNKNOWN_TRANSFER_CODING,
  },
  {
    name: 'chunked applied twice',
    input: `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n`,
    ...E.INVALID_TRANSFER_ENCODING,
  },
  { name: 'an empty Transfer-Encoding', input: `${POST}Transfer-Encoding: \r\n\r\n`, ...E.INVALID_TRANSFER_ENCODING },
  {
    name: 'Transfer-Encoding in HTTP/1.0',
    input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ...E.INVALID_TRANSFER_ENCODING,
  },
  // RFC 9112 §7.1: chunk sizes and framing.
  { name: 'a non-hex chunk size', input: `${CHUNKED}g\r\n`, ...E.INVALID_CHUNK_SIZE, isInBody: true },
  {
    name: 'a 0x-prefixed chunk size',
    input: `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`,
    ...E.INVALID_CHUNK_SIZE,
    isInBody: true,
  },
  { name: 'a negative chunk size', input: `${CHUNKED}-1\r\n`, ...E.INVALID_CHUNK_SIZE, isInBody: true },
  {
    name: 'a chunk size after whitespace',
    input: `${CHUNKED} 5\r\nhello\r\n`,
    ...E.INVALID_CHUNK_SIZE,
    isInBody: true,
  },
  { name: 'an empty chunk size', input: `${CHUNKED}\r\n`, ...E.INVALID_CHUNK_SIZE, isInBody: true },
  {
    name: 'a chunk size of 2^53 (overflow)',
    input: `${CHUNKED}20000000000000\r\n`,
    ...E.INVALID_CHUNK_SIZE,
    isInBody: true,
  },
  {
    name: 'a chunk size of 2^64 (wraps in 64-bit parsers)',
    input: `${CHUNKED}10000000000000005\r\nhello\r\n0\r\n\r\n`,
    ...E.INVALID_CHUNK_SIZE,
    isInBody: true,
  },
  {
    name: 'chunk data longer than its size',
    input: `${CHUNKED}3\r\nhello\r\n0\r\n\r\n`,
    ...E.INVALID_CHUNK,
    isInBody: true,
  },
  {
    name: 'a control byte in a chunk extension',
    input: `${CHUNKED}3;a=\x01\r\nabc\r\n`,
    ...E.INVALID_CHUNK,
    isInBody: true,
  },
  // RFC 9112 §2.2: line endings.
  { name: 'a bare LF ending the request line', input: 'GET / HTTP/1.1\nHost: h\r\n\r\n', ...E.BARE_LF },
  { name: 'a bare LF ending a field line', input: 'GET / HTTP/1.1\r\nHost: h\n\r\n', ...E.BARE_LF },
  { name: 'a bare LF ending the header section', input: 'GET / HTTP/1.1\r\nHost: h\r\n\n', ...E.BARE_LF },
  { name: 'a bare LF after a chunk size', input: `${CHUNKED}5\nhello\r\n0\r\n\r\n`, ...E.BARE_LF, isInBody: true },
  { name: 'a bare LF after chunk data', input: `${CHUNKED}5\r\nhello\n0\r\n\r\n`, ...E.BARE_LF, isInBody: true },
  { name: 'a bare CR in a field value', input: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n', ...E.BARE_CR },
  { name: 'a bare CR as a line ending', input: 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n', ...E.BARE_CR },
  { name: 'a bare CR in the request line', input: 'GET /\r HTTP/1.1\r\nHost: h\r\n\r\n', ...E.BARE_CR },
  { name: 'a bare CR after chunk data', input: `${CHUNKED}5\r\nhello\rX`, ...E.BARE_CR, isInBody: true },
  // RFC 9112 §5.1, §5.2: field lines.
  { name: 'obs-fold', input: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', ...E.OBS_FOLD },
  { name: 'obs-fold with a tab', input: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n', ...E.OBS_FOLD },
  { name: 'whitespace before the first field', input: 'GET / HTTP/1.1\r\n Host: h\r\n\r\n', ...E.OBS_FOLD },
  {
    name: 'whitespace between a field name and its colon',
    input: `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    ...E.WHITESPACE_BEFORE_COLON,
  },
  {
    name: 'a tab between a field name and its colon',
    input: 'GET / HTTP/1.1\r\nHost\t: h\r\n\r\n',
    ...E.WHITESPACE_BEFORE_COLON,
  },
  { name: 'NUL in a field value', input: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n', ...E.INVALID_FIELD_VALUE },
  {
    name: 'a control byte in a field value',
    input: 'GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n',
    ...E.INVALID_FIELD_VALUE,
  },
  { name: 'DEL in a field value', input: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n', ...E.INVALID_FIELD_VALUE },
  {
    name: 'a non-token byte in a field name',
    input: 'GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n',
    ...E.INVALID_FIELD_NAME,
  },
  { name: 'a non-ASCII field name', input: 'GET / HTTP/1.1\r\nHost: h\r\nX\xe9: 1\r\n\r\n', ...E.INVALID_FIELD_NAME },
  { name: 'an empty field name', input: 'GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n', ...E.INVALID_FIELD_NAME },
  {
    name: 'a field line without a colon',
    input: 'GET / HTTP/1.1\r\nHost: h\r\nX-Broken\r\n\r\n',
    ...E.INVALID_FIELD_NAME,
  },
  // RFC 9112 §3: method and target.
  { name: 'a method with a non-token byte', input: 'G(ET / HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_METHOD },
  { name: 'an empty method', input: ' / HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_METHOD },
  { name: 'a target with DEL', input: 'GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'a target with a non-ASCII byte', input: 'GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'a target with a tab', input: 'GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'a target with a fragment', input: 'GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'an empty target', input: 'GET  HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'asterisk-form for GET', input: 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'a target in no form', input: 'GET example.com HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'CONNECT to a path', input: 'CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'CONNECT without a port', input: 'CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_TARGET },
  { name: 'a space inside the target', input: 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_START_LINE },
  { name: 'a request line without a version', input: 'GET /\r\nHost: h\r\n\r\n', ...E.INVALID_START_LINE },
  // RFC 9112 §3.2: Host.
  { name: 'an HTTP/1.1 request without Host', input: 'GET / HTTP/1.1\r\nX: y\r\n\r\n', ...E.MISSING_HOST },
  { name: 'two Host lines', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', ...E.REPEATED_HOST },
  { name: 'two identical Host lines', input: 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', ...E.REPEATED_HOST },
  { name: 'two Host lines in HTTP/1.0', input: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', ...E.REPEATED_HOST },
  // RFC 9112 §2.3, RFC 9110 §15.6.6: versions.
  { name: 'HTTP/2.0 in a request line', input: 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', ...E.UNSUPPORTED_VERSION },
  { name: 'the HTTP/2 preface', input: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', ...E.UNSUPPORTED_VERSION },
  { name: 'HTTP/1.2', input: 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', ...E.UNSUPPORTED_VERSION },
  { name: 'HTTP/0.9', input: 'GET / HTTP/0.9\r\n\r\n', ...E.UNSUPPORTED_VERSION },
  { name: 'a lower-case version', input: 'GET / http/1.1\r\nHost: h\r\n\r\n', ...E.INVALID_START_LINE },
  { name: 'a two-digit minor version', input: 'GET / HTTP/1.10\r\nHost: h\r\n\r\n', ...E.INVALID_START_LINE },
];

describe('http1 request smuggling defences', () => {
  for (const row of ROWS) {
    it(`rejects ${row.name} with ${row.code} (${row.status})`, () => {
      const events = parseAllWays('request', row.input + NEXT);
      expect(errorOf(events)).to.deep.equal({ code: row.code, status: row.status });
      expect(events.some((event) => event.kind === 'complete')).to.equal(false);
      expect(headsOf(events)).to.have.length(row.isInBody === true ? 1 : 0);
      expect(JSON.stringify(events)).not.to.include('smuggled');
    });
  }

  it('never lets a second request carried in the body of a CL + TE request reach the listener', () => {
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
    const body = `0\r\n\r\n${smuggled}`;
    // A front end honouring Content-Length forwards all of it as one body; one honouring
    // Transfer-Encoding sees the body end at "0\r\n\r\n" and the admin request after it.
    const input = `POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
    const events = parseAllWays('request', input);
    expect(errorOf(events)?.code).to.equal(E.CONTENT_LENGTH_WITH_TRANSFER_ENCODING.code);
    expect(headsOf(events)).to.deep.equal([]);
    expect(JSON.stringify(events)).not.to.include('admin');
  });

  it('never lets a second request hidden behind obs-fold reach the listener', () => {
    const input = `${POST}X: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${NEXT}`;
    const events = parseAllWays('request', input);
    expect(errorOf(events)?.code).to.equal(E.OBS_FOLD.code);
    expect(headsOf(events)).to.deep.equal([]);
  });

  it('covers every parse error of the table except the limits and the truncated message', () => {
    const covered = new Set(ROWS.map((row) => row.code));
    const elsewhere = [
      E.START_LINE_TOO_LONG,
      E.HEADER_TOO_LARGE,
      E.TOO_MANY_FIELDS,
      E.BODY_TOO_LARGE,
      E.CHUNK_EXTENSION_TOO_LONG,
      E.INCOMPLETE_MESSAGE,
    ].map((definition) => definition.code);
    const missing = Object.values(E)
      .map((definition) => definition.code)
      .filter((code) => !covered.has(code) && !elsewhere.includes(code));
    expect(missing).to.deep.equal([]);
  });

  it('applies the same framing rules to responses', () => {
    const response = (fields: string): string => `HTTP/1.1 200 OK\r\n${fields}\r\n`;
    const cases: [string, string][] = [
      [response('Content-Length: 1\r\nTransfer-Encoding: chunked\r\n'), E.CONTENT_LENGTH_WITH_TRANSFER_ENCODING.code],
      [response('Content-Length: 1\r\nContent-Length: 2\r\n'), E.CONFLICTING_CONTENT_LENGTH.code],
      [response('Transfer-Encoding: gzip\r\n'), E.CHUNKED_NOT_FINAL.code],
      [response('X: a\r\n b\r\n'), E.OBS_FOLD.code],
      ['HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', E.BARE_LF.code],
      ['HTTP/2.0 200 OK\r\n\r\n', E.UNSUPPORTED_VERSION.code],
    ];
    for (const [input, code] of cases)
      expect(errorOf(parseAllWays('response', input, {}, 2))?.code, input).to.equal(code);
  });
});
