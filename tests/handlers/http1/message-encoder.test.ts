import { expect } from 'chai';
import { Http1EncodeErrors } from '../../../handlers/http1/errors.js';
import {
  chunkHeaderLength,
  chunkLength,
  lastChunkLength,
  requestHeadLength,
  responseHeadLength,
  writeChunk,
  writeChunkEnd,
  writeChunkHeader,
  writeLastChunk,
  writeRequestHead,
  writeResponseHead,
} from '../../../handlers/http1/wire/message-encoder.js';
import { SluiceError } from '../../../lib/errors.js';

/** The code of what `action` threw (tests/support is being reworked elsewhere; this stays local). */
function thrownCode(action: () => unknown): string {
  try {
    action();
    return 'none';
  } catch (error) {
    return error instanceof SluiceError ? error.code : `not a SluiceError: ${String(error)}`;
  }
}

/** Runs a write into a buffer sized by `length` plus slack, checks the returned offset, returns the text. */
function written(length: number, write: (buffer: Uint8Array, offset: number) => number): string {
  const buffer = new Uint8Array(length + 10).fill(0x7e);
  const end = write(buffer, 3);
  expect(end, 'returned offset').to.equal(3 + length);
  expect(buffer[2], 'nothing before the offset').to.equal(0x7e);
  expect(buffer[end], 'nothing after the end').to.equal(0x7e);
  return Buffer.from(buffer.subarray(3, end)).toString('latin1');
}

describe('http1 message encoder', () => {
  it('writes a request head with fields in order and case as given', () => {
    const fields = ['Host', 'example.com', 'x-two', 'a', 'x-two', 'b', 'X-Empty', ''];
    const text = written(requestHeadLength('GET', '/p?q=1', fields), (buffer, offset) =>
      writeRequestHead(buffer, offset, 'GET', '/p?q=1', fields),
    );
    expect(text).to.equal('GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nx-two: a\r\nx-two: b\r\nX-Empty: \r\n\r\n');
  });

  it('writes an HTTP/1.0 request and a response with and without a reason', () => {
    expect(written(requestHeadLength('HEAD', '*', []), (b, o) => writeRequestHead(b, o, 'HEAD', '*', [], 0))).to.equal(
      'HEAD * HTTP/1.0\r\n\r\n',
    );
    const fields = ['Content-Length', '0'];
    expect(
      written(responseHeadLength('Not Found', fields), (b, o) => writeResponseHead(b, o, 404, 'Not Found', fields)),
    ).to.equal('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    expect(written(responseHeadLength('', []), (b, o) => writeResponseHead(b, o, 204, '', [], 0))).to.equal(
      'HTTP/1.0 204 \r\n\r\n',
    );
  });

  it('writes chunk headers in lower-case hex, chunks, and the last chunk with trailers', () => {
    expect(written(chunkHeaderLength(1), (b, o) => writeChunkHeader(b, o, 1))).to.equal('1\r\n');
    expect(written(chunkHeaderLength(255), (b, o) => writeChunkHeader(b, o, 255))).to.equal('ff\r\n');
    expect(written(chunkHeaderLength(2 ** 53 - 1), (b, o) => writeChunkHeader(b, o, 2 ** 53 - 1))).to.equal(
      '1fffffffffffff\r\n',
    );
    expect(written(2, (b, o) => writeChunkEnd(b, o))).to.equal('\r\n');
    const data = Buffer.from('xxhello worldxx');
    expect(written(chunkLength(11), (b, o) => writeChunk(b, o, data, 2, 13))).to.equal('b\r\nhello world\r\n');
    expect(written(lastChunkLength(), (b, o) => writeLastChunk(b, o))).to.equal('0\r\n\r\n');
    const trailers = ['Grpc-Status', '0', 'X-Sum', 'abc'];
    expect(written(lastChunkLength(trailers), (b, o) => writeLastChunk(b, o, trailers))).to.equal(
      '0\r\nGrpc-Status: 0\r\nX-Sum: abc\r\n\r\n',
    );
  });

  describe('refuses, writing nothing', () => {
    const rows: [string, (buffer: Uint8Array) => number, string][] = [
      [
        'CRLF in a value (response splitting)',
        (b) => writeResponseHead(b, 0, 200, 'OK', ['Set-Cookie', 'a\r\nX: y']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'a bare LF in a value',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X', 'a\nb']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'a bare CR in a value',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X', 'a\rb']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'NUL in a value',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X', 'a\0b']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'a character above U+00FF in a value',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X', 'caf\u0113']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'CRLF in a trailer value',
        (b) => writeLastChunk(b, 0, ['X', '\r\n\r\nGET / HTTP/1.1']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE.code,
      ],
      [
        'a space in a field name',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X Y', '1']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME.code,
      ],
      [
        'a colon in a field name',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X:', '1']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME.code,
      ],
      [
        'CRLF in a field name',
        (b) => writeResponseHead(b, 0, 200, 'OK', ['X\r\nY', '1']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME.code,
      ],
      [
        'an empty field name',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['', '1']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME.code,
      ],
      [
        'a field list of odd length',
        (b) => writeRequestHead(b, 0, 'GET', '/', ['X']),
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME.code,
      ],
      [
        'a method that is not a token',
        (b) => writeRequestHead(b, 0, 'GET /x', '/', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'a target with a space',
        (b) => writeRequestHead(b, 0, 'GET', '/ HTTP/1.1\r\n', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'an empty target',
        (b) => writeRequestHead(b, 0, 'GET', '', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'a status of 99',
        (b) => writeResponseHead(b, 0, 99, 'x', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'a status of 600',
        (b) => writeResponseHead(b, 0, 600, 'x', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'a fractional status',
        (b) => writeResponseHead(b, 0, 200.5, 'x', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'CRLF in a reason phrase',
        (b) => writeResponseHead(b, 0, 200, 'OK\r\nX: y', []),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
      [
        'HTTP/1.2',
        (b) => writeRequestHead(b, 0, 'GET', '/', [], 2),
        Http1EncodeErrors.INVALID_OUTGOING_START_LINE.code,
      ],
    ];
    for (const [name, write, code] of rows) {
      it(`${name}: ${code}`, () => {
        const buffer = new Uint8Array(256);
        expect(thrownCode(() => write(buffer))).to.equal(code);
        expect(buffer.every((byte) => byte === 0)).to.equal(true);
      });
    }
  });

  it('throws a RangeError instead of truncating when the buffer is too small', () => {
    const buffer = new Uint8Array(10);
    expect(() => writeRequestHead(buffer, 0, 'GET', '/', ['Host', 'h'])).to.throw(RangeError);
    expect(() => writeChunkHeader(buffer, 9, 16)).to.throw(RangeError);
    expect(() => writeLastChunk(buffer, 8)).to.throw(RangeError);
    expect(buffer.every((byte) => byte === 0)).to.equal(true);
    expect(() => writeChunkHeader(buffer, 0, 0))
      .to.throw(SluiceError)
      .with.property('code', 'HTTP1_INVALID_ARGUMENT');
  });
});
