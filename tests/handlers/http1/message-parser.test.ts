import { expect } from 'chai';
import { Http1ParseErrors } from '../../../handlers/http1/errors.js';
import {
  MESSAGE_PARSER_DEFAULTS,
  MessageParser,
  type MessageListener,
} from '../../../handlers/http1/wire/message-parser.js';
import { errorOf, headsOf, parseAllWays, type ParsedEvent } from './parser-harness.js';

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

describe('http1 MessageParser', () => {
  describe('requests', () => {
    it('parses a GET with fields, case kept and values trimmed', () => {
      const events = parseAllWays(
        'request',
        'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Thing:  two words \t\r\n\r\n',
      );
      expect(events).to.deep.equal([
        { kind: 'field', name: 'Host', value: 'example.com' },
        { kind: 'field', name: 'X-Thing', value: 'two words' },
        {
          kind: 'head',
          head: {
            method: 'GET',
            target: '/a?b=c',
            status: 0,
            reason: '',
            httpMinorVersion: 1,
            bodyKind: 'none',
            contentLength: -1,
            shouldKeepAlive: true,
            expectContinue: false,
            isUpgradeRequested: false,
            fieldCount: 2,
          },
        },
        { kind: 'complete' },
      ]);
    });

    it('delivers a Content-Length body and then the next pipelined request', () => {
      const events = parseAllWays(
        'request',
        'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /q HTTP/1.1\r\nHost: h\r\n\r\n',
      );
      expect(events.filter((e) => e.kind !== 'field')).to.deep.equal([
        { kind: 'head', head: { ...headsOf(events)[0] } },
        { kind: 'body', hex: hex('hello') },
        { kind: 'complete' },
        { kind: 'head', head: { ...headsOf(events)[1] } },
        { kind: 'complete' },
      ]);
      expect(headsOf(events).map((h) => [h.method, h.target, h.bodyKind, h.contentLength])).to.deep.equal([
        ['POST', '/p', 'length', 5],
        ['GET', '/q', 'none', -1],
      ]);
    });

    it('decodes a chunked body with extensions skipped and trailers delivered', () => {
      const events = parseAllWays(
        'request',
        'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '5;name=value;flag\r\nhello\r\n0000A\r\n, world!!!\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n',
      );
      expect(headsOf(events)[0].bodyKind).to.equal('chunked');
      expect(events.slice(-4)).to.deep.equal([
        { kind: 'body', hex: hex('hello, world!!!') },
        { kind: 'trailer', name: 'X-Checksum', value: 'abc' },
        { kind: 'trailer', name: 'X-Other', value: '1' },
        { kind: 'complete' },
      ]);
    });

    it('accepts transfer codings case-insensitively, over several lines, with empty list elements', () => {
      const events = parseAllWays(
        'request',
        'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n0\r\n\r\n',
      );
      expect(errorOf(events)).to.equal(undefined);
      expect(headsOf(events)[0].bodyKind).to.equal('chunked');
    });

    it('ignores a few empty lines before a request line, and rejects many', () => {
      expect(headsOf(parseAllWays('request', '\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'))).to.have.length(1);
      expect(errorOf(parseAllWays('request', '\r\n'.repeat(5) + 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'))?.code).to.equal(
        Http1ParseErrors.INVALID_START_LINE.code,
      );
    });

    it('keeps HTTP/1.0 connections only with Connection: keep-alive, and needs no Host', () => {
      const [plain, kept] = headsOf(
        parseAllWays('request', 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'),
      );
      expect([plain.httpMinorVersion, plain.shouldKeepAlive, kept.shouldKeepAlive]).to.deep.equal([0, false, true]);
    });

    it('ends keep-alive on Connection: close among other options', () => {
      const [head] = headsOf(parseAllWays('request', 'GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n'));
      expect(head.shouldKeepAlive).to.equal(false);
    });

    it('surfaces Expect: 100-continue in HTTP/1.1 only', () => {
      const [v11, v10] = headsOf(
        parseAllWays(
          'request',
          'PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx' +
            'PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\ny',
        ),
      );
      expect([v11.expectContinue, v10.expectContinue]).to.deep.equal([true, false]);
    });

    it('accepts identical repeated Content-Length values as one (RFC 9110 §8.6)', () => {
      const events = parseAllWays(
        'request',
        'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 003\r\n\r\nabc',
      );
      expect(headsOf(events)[0].contentLength).to.equal(3);
      expect(events.slice(-2)).to.deep.equal([{ kind: 'body', hex: hex('abc') }, { kind: 'complete' }]);
    });

    it('accepts the four target forms where the method allows them', () => {
      const events = parseAllWays(
        'request',
        'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n' +
          'GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n' +
          'GET /only?q=|"{}" HTTP/1.1\r\nHost: h\r\n\r\n' +
          'CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n',
      );
      expect(headsOf(events).map((h) => h.target)).to.deep.equal([
        '*',
        'http://example.com/x',
        '/only?q=|"{}"',
        '[::1]:443',
      ]);
    });

    it('interns common methods and keeps extension methods', () => {
      const [a, b] = headsOf(
        parseAllWays('request', 'PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\nDELETE / HTTP/1.1\r\nHost: h\r\n\r\n'),
      );
      expect([a.method, b.method]).to.deep.equal(['PROPFIND', 'DELETE']);
    });

    it('stops after a CONNECT request head and hands back the tunnel bytes', () => {
      const events = parseAllWays(
        'request',
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01tunnel',
      );
      expect(events.slice(-2)).to.deep.equal([
        { kind: 'complete' },
        { kind: 'stopped', rest: hex('\x16\x03\x01tunnel') },
      ]);
    });

    it('reads the body of an accepted upgrade, then stops and hands back the next bytes', () => {
      const input =
        'POST /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nhi\x81\x05hello';
      const events = parseAllWays('request', input, { acceptUpgrade: true });
      expect(headsOf(events)[0].isUpgradeRequested).to.equal(true);
      expect(events.slice(-3)).to.deep.equal([
        { kind: 'body', hex: hex('hi') },
        { kind: 'complete' },
        { kind: 'stopped', rest: hex('\x81\x05hello') },
      ]);
    });

    it('goes on as HTTP/1.1 when the listener declines the upgrade', () => {
      const input =
        'GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n';
      const events = parseAllWays('request', input, { acceptUpgrade: false });
      expect(headsOf(events).map((h) => [h.target, h.isUpgradeRequested])).to.deep.equal([
        ['/', true],
        ['/2', false],
      ]);
    });

    it('does not report an upgrade without Connection: upgrade, nor in HTTP/1.0', () => {
      const events = parseAllWays(
        'request',
        'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\nGET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n',
        { acceptUpgrade: true },
      );
      expect(headsOf(events).map((h) => h.isUpgradeRequested)).to.deep.equal([false, false]);
      expect(events[events.length - 1]).to.deep.equal({ kind: 'complete' });
    });

    it('reports an incomplete message when the input ends inside one, and nothing at a boundary', () => {
      expect(errorOf(parseAllWays('request', 'GET / HTTP/1.1\r\nHost: h\r\n', { finish: true }))?.code).to.equal(
        Http1ParseErrors.INCOMPLETE_MESSAGE.code,
      );
      expect(
        errorOf(
          parseAllWays('request', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nabc', { finish: true }),
        ),
      ).to.deep.equal({ code: Http1ParseErrors.INCOMPLETE_MESSAGE.code, status: 400 });
      expect(errorOf(parseAllWays('request', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', { finish: true }))).to.equal(
        undefined,
      );
    });
  });

  describe('values given again', () => {
    /** Field values and targets of pipelined requests, in order. */
    function valuesOf(input: string): string[] {
      const events = parseAllWays('request', input);
      return events.flatMap((event) =>
        event.kind === 'field' ? [event.value] : event.kind === 'head' ? [event.head.target] : [],
      );
    }

    it('tells a repeated value from one of the same length with other bytes, at every position', () => {
      const request = (host: string, agent: string, target: string): string =>
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${agent}\r\n\r\n`;
      const input =
        request('a.example', 'one/1', '/x') +
        request('a.example', 'one/1', '/x') +
        request('b.example', 'one/2', '/y') +
        request('b.example', 'one/1', '/y') +
        request('b.examplf', 'one/1', '/x');
      expect(valuesOf(input)).to.deep.equal([
        'a.example',
        'one/1',
        '/x',
        'a.example',
        'one/1',
        '/x',
        'b.example',
        'one/2',
        '/y',
        'b.example',
        'one/1',
        '/y',
        'b.examplf',
        'one/1',
        '/x',
      ]);
    });

    it('gives credentials, long values and fields past the sixteenth as sent', () => {
      const many = Array.from({ length: 18 }, (_, i) => `X-${i}: v${i}\r\n`).join('');
      const long = 'z'.repeat(200);
      const request = (token: string): string =>
        `GET / HTTP/1.1\r\nHost: h\r\nAuthorization: ${token}\r\nX-Long: ${long}\r\n${many}\r\n`;
      const values = valuesOf(request('Bearer aaaa') + request('Bearer aaab') + request('Bearer aaab'));
      const expected = (token: string): string[] => [
        'h',
        token,
        long,
        ...Array.from({ length: 18 }, (_, i) => `v${i}`),
        '/',
      ];
      expect(values).to.deep.equal([
        ...expected('Bearer aaaa'),
        ...expected('Bearer aaab'),
        ...expected('Bearer aaab'),
      ]);
    });
  });

  describe('responses', () => {
    it('parses a status line with and without a reason phrase', () => {
      const events = parseAllWays(
        'response',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n',
      );
      expect(headsOf(events).map((h) => [h.status, h.reason, h.method])).to.deep.equal([
        [200, 'OK', 'GET'],
        [404, '', 'GET'],
        [500, '', 'GET'],
      ]);
    });

    it('delimits a body by close, completed by finish()', () => {
      const events = parseAllWays('response', 'HTTP/1.1 200 OK\r\n\r\nall of it\r\n\r\nGET', { finish: true });
      expect(headsOf(events)[0]).to.include({ bodyKind: 'close', shouldKeepAlive: false });
      expect(events.slice(-2)).to.deep.equal([
        { kind: 'body', hex: hex('all of it\r\n\r\nGET') },
        { kind: 'complete' },
      ]);
    });

    it('reads no body for HEAD, 204 and 304, whatever the framing fields say', () => {
      const events = parseAllWays(
        'response',
        'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' +
          'HTTP/1.1 204 No Content\r\n\r\n' +
          'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' +
          'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
        { requestMethods: ['HEAD', 'GET', 'GET', 'GET'] },
      );
      expect(headsOf(events).map((h) => [h.status, h.bodyKind, h.contentLength])).to.deep.equal([
        [200, 'none', 10],
        [204, 'none', -1],
        [304, 'none', -1],
        [200, 'length', 1],
      ]);
      expect(events.filter((e) => e.kind === 'complete')).to.have.length(4);
    });

    it('treats 1xx other than 101 as interim: no completion, the final response follows', () => {
      const events = parseAllWays(
        'response',
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      );
      expect(events.map((e) => e.kind)).to.deep.equal(['head', 'field', 'head', 'field', 'head', 'body', 'complete']);
      expect(headsOf(events).map((h) => h.status)).to.deep.equal([100, 103, 200]);
    });

    it('stops after a 101 and hands back the bytes of the new protocol', () => {
      const events = parseAllWays(
        'response',
        'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi',
      );
      expect(headsOf(events)[0].isUpgradeRequested).to.equal(true);
      expect(events.slice(-2)).to.deep.equal([{ kind: 'complete' }, { kind: 'stopped', rest: hex('\x81\x02hi') }]);
    });

    it('stops after a 2xx to CONNECT, but reads the body of a refusal', () => {
      const tunnel = parseAllWays('response', 'HTTP/1.1 200 Connection Established\r\n\r\nTLS bytes', {
        requestMethods: ['CONNECT'],
      });
      expect(tunnel.slice(-1)).to.deep.equal([{ kind: 'stopped', rest: hex('TLS bytes') }]);
      const refused = parseAllWays('response', 'HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno', {
        requestMethods: ['CONNECT'],
      });
      expect(refused.slice(-2)).to.deep.equal([{ kind: 'body', hex: hex('no') }, { kind: 'complete' }]);
    });

    it('decodes a chunked response with trailers', () => {
      const events = parseAllWays(
        'response',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nGrpc-Status: 0\r\n\r\n',
      );
      expect(events.slice(-3)).to.deep.equal([
        { kind: 'body', hex: hex('abc') },
        { kind: 'trailer', name: 'Grpc-Status', value: '0' },
        { kind: 'complete' },
      ]);
    });

    it('rejects status codes outside 100-599 and malformed status lines', () => {
      for (const line of [
        'HTTP/1.1 099 x',
        'HTTP/1.1 600 x',
        'HTTP/1.1 20 OK',
        'HTTP/1.1 2000',
        'HTTP/1.1  200 OK',
        'HTTP/1.1',
      ]) {
        expect(errorOf(parseAllWays('response', `${line}\r\n\r\n`, {}, 2))?.code, line).to.equal(
          Http1ParseErrors.INVALID_START_LINE.code,
        );
      }
    });
  });

  describe('limits', () => {
    it('answers 414 to a request line over maxStartLineLength, and accepts one at it', () => {
      const line = (length: number): string => `GET /${'a'.repeat(length - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
      const options = { parser: { maxStartLineLength: 100 } };
      expect(errorOf(parseAllWays('request', `${line(100)}\r\nHost: h\r\n\r\n`, options))).to.equal(undefined);
      expect(errorOf(parseAllWays('request', `${line(101)}\r\nHost: h\r\n\r\n`, options))).to.deep.equal({
        code: Http1ParseErrors.START_LINE_TOO_LONG.code,
        status: 414,
      });
    });

    it('answers 431 to a header section over maxHeaderBlockSize, and accepts one at it', () => {
      // "Host: h\r\n" (9) + "X: <n>\r\n" + "\r\n" (2)
      const request = (valueLength: number): string =>
        `GET / HTTP/1.1\r\nHost: h\r\nX: ${'v'.repeat(valueLength)}\r\n\r\n`;
      const options = { parser: { maxHeaderBlockSize: 100 } };
      expect(errorOf(parseAllWays('request', request(100 - 9 - 2 - 5), options))).to.equal(undefined);
      expect(errorOf(parseAllWays('request', request(100 - 9 - 2 - 4), options))).to.deep.equal({
        code: Http1ParseErrors.HEADER_TOO_LARGE.code,
        status: 431,
      });
    });

    it('answers 431 to more than maxFieldCount field lines, in headers and in trailers', () => {
      const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
      const options = { parser: { maxFieldCount: 4 } };
      expect(errorOf(parseAllWays('request', `GET / HTTP/1.1\r\nHost: h\r\n${fields(3)}\r\n`, options))).to.equal(
        undefined,
      );
      expect(errorOf(parseAllWays('request', `GET / HTTP/1.1\r\nHost: h\r\n${fields(4)}\r\n`, options))).to.deep.equal({
        code: Http1ParseErrors.TOO_MANY_FIELDS.code,
        status: 431,
      });
      const chunked = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${fields(5)}\r\n`;
      expect(errorOf(parseAllWays('request', chunked, options))?.code).to.equal(Http1ParseErrors.TOO_MANY_FIELDS.code);
    });

    it('answers 413 to a body over maxBodySize, before the head for Content-Length', () => {
      const options = { parser: { maxBodySize: 10 } };
      const byLength = parseAllWays('request', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n', options);
      expect(headsOf(byLength)).to.have.length(0);
      expect(errorOf(byLength)).to.deep.equal({ code: Http1ParseErrors.BODY_TOO_LARGE.code, status: 413 });
      const chunked = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n';
      expect(errorOf(parseAllWays('request', chunked, options))?.code).to.equal(Http1ParseErrors.BODY_TOO_LARGE.code);
      const byClose = parseAllWays('response', 'HTTP/1.1 200 OK\r\n\r\n0123456789A', options);
      expect(errorOf(byClose)?.code).to.equal(Http1ParseErrors.BODY_TOO_LARGE.code);
      const atLimit =
        'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n';
      expect(errorOf(parseAllWays('request', atLimit, options))).to.equal(undefined);
    });

    it('bounds chunk extensions per message', () => {
      const options = { parser: { maxChunkExtensionsSize: 20 } };
      const body = (ext: string): string =>
        `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1${ext}\r\na\r\n1${ext}\r\nb\r\n0\r\n\r\n`;
      expect(errorOf(parseAllWays('request', body(';abcdefgh'), options))).to.equal(undefined);
      expect(errorOf(parseAllWays('request', body(';abcdefghijk'), options))?.code).to.equal(
        Http1ParseErrors.CHUNK_EXTENSION_TOO_LONG.code,
      );
      expect(errorOf(parseAllWays('request', body(`;${'x'.repeat(200)}`), options, 2))?.code).to.equal(
        Http1ParseErrors.CHUNK_EXTENSION_TOO_LONG.code,
      );
    });

    it('rejects chunk sizes above maxChunkSize', () => {
      const input = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n101\r\n';
      expect(errorOf(parseAllWays('request', input, { parser: { maxChunkSize: 256 } }))?.code).to.equal(
        Http1ParseErrors.INVALID_CHUNK_SIZE.code,
      );
    });

    it('has documented defaults and refuses nonsense options', () => {
      expect(MESSAGE_PARSER_DEFAULTS).to.deep.equal({
        maxStartLineLength: 8192,
        maxHeaderBlockSize: 32_768,
        maxFieldCount: 128,
        maxBodySize: Number.POSITIVE_INFINITY,
        maxChunkSize: Number.MAX_SAFE_INTEGER,
        maxChunkExtensionsSize: 16_384,
      });
      const listener = {} as MessageListener;
      expect(() => new MessageParser('request', listener, { maxFieldCount: -1 })).to.throw(RangeError);
      expect(() => new MessageParser('request', listener, { maxChunkSize: 2 ** 60 })).to.throw(RangeError);
      expect(() => new MessageParser('request', listener, { maxHeaderBlockSize: Number.NaN })).to.throw(RangeError);
    });
  });

  describe('pause', () => {
    it('returns at a message boundary when paused from onMessageComplete, and resumes', () => {
      const seen: string[] = [];
      const parser: MessageParser = new MessageParser('request', {
        onField: () => {},
        onHeadComplete: (head) => void seen.push(head.target),
        onBody: () => {},
        onTrailerField: () => {},
        onMessageComplete: () => parser.pause(),
      });
      const input = Buffer.from('GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
      const first = parser.execute(input);
      expect([first, parser.isPaused, seen]).to.deep.equal([input.indexOf('GET /2'), true, ['/1']]);
      expect(parser.execute(input, first)).to.equal(first);
      parser.resume();
      expect(parser.execute(input, first)).to.equal(input.length);
      expect(seen).to.deep.equal(['/1', '/2']);
      expect(parser.isAtMessageBoundary).to.equal(true);
    });
  });

  it('never reports a head or body for a message it rejects', () => {
    const events: ParsedEvent[] = parseAllWays('request', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(events.map((e) => e.kind)).to.deep.equal(['field', 'error']);
  });
});
