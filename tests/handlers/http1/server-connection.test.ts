/**
 * Http1ServerConnection on the testing channel: framing of responses, keep-alive and close,
 * pipelining and its bound, read back-pressure, timers in virtual time, parse errors,
 * 100-continue, graceful drain.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TestingChannel, type TestingChannelOptions } from '../../../lib/index.js';
import {
  HTTP1_SERVER_DEFAULTS,
  Http1ServerConnection,
  MessageParser,
  type Http1ServerConnectionOptions,
  type Http1ServerStream,
} from '../../../handlers/http1/index.js';

interface Served {
  test: TestingChannel;
  connection: Http1ServerConnection;
  requests: Http1ServerStream[];
  errors: string[];
}

function serve(
  onRequest: (stream: Http1ServerStream) => void = () => {},
  options: Partial<Http1ServerConnectionOptions> = {},
  channelOptions: TestingChannelOptions = {},
): Served {
  const requests: Http1ServerStream[] = [];
  const errors: string[] = [];
  const connection = new Http1ServerConnection({
    onError: (error) => errors.push(error.code),
    ...options,
    onRequest: (stream) => {
      requests.push(stream);
      onRequest(stream);
    },
  });
  const test = new TestingChannel([connection], { autoCompleteWrites: true, ...channelOptions });
  return { test, connection, requests, errors };
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

function respondOk(stream: Http1ServerStream, body = 'ok'): void {
  stream.respond(200, ['content-length', String(body.length)]);
  stream.write(Buffer.from(body));
  stream.end();
}

function expectBalanced(test: TestingChannel): void {
  if (!test.isShutDown) test.shutdown();
  expect(test.messagePool.outstanding).to.equal(0);
}

describe('http1 Http1ServerConnection', () => {
  describe('responses', () => {
    it('answers a GET with Content-Length and keeps the connection open', () => {
      const { test, requests } = serve((stream) => respondOk(stream));
      test.pushRead(GET);
      expect(requests[0].method).to.equal('GET');
      expect(requests[0].headers).to.deep.equal(['Host', 'a']);
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });

    it('chunks a body of unknown length to an HTTP/1.1 peer, with trailers', () => {
      const { test } = serve((stream) => {
        stream.respond(200, ['x-a', 'b']);
        stream.write(Buffer.from('hello'));
        stream.end(['x-sum', '5']);
      });
      test.pushRead(GET);
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\nx-a: b\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n',
      );
      expectBalanced(test);
    });

    it('sends an HTTP/1.0 peer a close-delimited body, drops trailers and closes', () => {
      const { test } = serve((stream) => {
        stream.respond(200);
        stream.write(Buffer.from('old'));
        stream.end(['x-dropped', '1']);
      });
      test.pushRead('GET / HTTP/1.0\r\n\r\n');
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nold');
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError).to.equal(null);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('keeps an HTTP/1.0 connection alive only when asked, saying keep-alive', () => {
      const { test } = serve((stream) => respondOk(stream));
      test.pushRead('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok',
      );
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });

    it('adds no second Connection field to an HTTP/1.0 keep-alive response that has one', () => {
      const { test } = serve((stream) =>
        stream.respond(200, ['connection', 'Keep-Alive', 'content-length', '0'], true),
      );
      test.pushRead('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n',
      );
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });

    it('writes no body for HEAD, 204 and 304, running the write callbacks', () => {
      let callbacks = 0;
      const { test } = serve((stream) => {
        const status = stream.target === '/204' ? 204 : stream.target === '/304' ? 304 : 200;
        stream.respond(status, status === 200 ? ['content-length', '4'] : []);
        stream.write(Buffer.from('body'), () => callbacks++);
        stream.end();
      });
      test.pushRead(
        'HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n' +
          'HTTP/1.1 204 No Content\r\n\r\n' +
          'HTTP/1.1 304 Not Modified\r\n\r\n',
      );
      expect(callbacks).to.equal(3);
      expectBalanced(test);
    });

    it('refuses Transfer-Encoding from the application and a body beyond Content-Length', () => {
      const codes: string[] = [];
      const { test } = serve((stream) => {
        try {
          stream.respond(200, ['transfer-encoding', 'chunked']);
        } catch (error) {
          codes.push((error as { code: string }).code);
        }
        stream.respond(200, ['content-length', '1']);
        try {
          stream.write(Buffer.from('too long'));
        } catch (error) {
          codes.push((error as { code: string }).code);
        }
        try {
          stream.respond(200);
        } catch (error) {
          codes.push((error as { code: string }).code);
        }
        stream.write(Buffer.from('x'));
        stream.end();
      });
      test.pushRead(GET);
      expect(codes).to.deep.equal(['HTTP1_FRAMING_FIELD', 'HTTP1_CONTENT_LENGTH_MISMATCH', 'HTTP1_INVALID_STATE']);
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx');
      expectBalanced(test);
    });

    it('refuses a field value with CR or LF (response splitting) before writing anything', () => {
      let code = '';
      const { test } = serve((stream) => {
        try {
          stream.respond(200, ['x-a', 'b\r\nset-cookie: evil']);
        } catch (error) {
          code = (error as { code: string }).code;
        }
        respondOk(stream);
      });
      test.pushRead(GET);
      expect(code).to.equal('HTTP1_INVALID_OUTGOING_FIELD_VALUE');
      expect(test.takeWritten().toString()).to.not.include('evil');
      expectBalanced(test);
    });

    it('refuses a reason phrase with CR or LF before writing anything (the head is written unchecked)', () => {
      let code = '';
      const { test } = serve((stream) => {
        try {
          stream.respond(200, [], false, 'OK\r\nset-cookie: evil');
        } catch (error) {
          code = (error as { code: string }).code;
        }
        respondOk(stream);
      });
      test.pushRead(GET);
      expect(code).to.equal('HTTP1_INVALID_OUTGOING_START_LINE');
      expect(test.takeWritten().toString()).to.not.include('evil');
      expectBalanced(test);
    });

    it('writes the fields as they were at respond, whatever the application does to its list after', () => {
      const { test } = serve((stream) => {
        const fields = ['x-a', 'b', 'content-length', '1'];
        stream.respond(200, fields);
        // Checked at respond and written later: a later change must neither show nor split.
        fields[1] = 'evil\r\nset-cookie: x';
        stream.write(Buffer.from('x'));
        stream.end();
      });
      test.pushRead(GET);
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\nx-a: b\r\ncontent-length: 1\r\n\r\nx');
      expectBalanced(test);
    });

    it('checks a field list again when it differs from the last one checked', () => {
      const codes: string[] = [];
      const { test } = serve((stream) => {
        try {
          stream.respond(200, stream.target === '/bad' ? ['x-a', 'b\nc'] : ['x-a', 'b', 'content-length', '0']);
        } catch (error) {
          codes.push((error as { code: string }).code);
          respondOk(stream);
          return;
        }
        stream.end();
      });
      test.pushRead(GET);
      test.pushRead(Buffer.from('GET /bad HTTP/1.1\r\nhost: a\r\n\r\n'));
      test.pushRead(GET);
      expect(codes).to.deep.equal(['HTTP1_INVALID_OUTGOING_FIELD_VALUE']);
      expectBalanced(test);
    });

    it('sends 1xx interim responses before the final one, but not to HTTP/1.0', () => {
      const { test } = serve((stream) => {
        stream.sendInformational(103, ['link', '</a.css>; rel=preload']);
        respondOk(stream);
      });
      test.pushRead(GET);
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      );
      test.pushRead('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 200 OK/);
      expectBalanced(test);
    });

    it('writes a body larger than a pooled message in several messages, one in flight at a time', () => {
      const big = randomBytes(600 * 1024 + 3);
      let drained = 0;
      const { test } = serve(
        (stream) => {
          stream.handler = {
            onDrain: () => {
              drained++;
              stream.end(['x-t', '1']);
            },
          };
          stream.respond(200);
          expect(stream.write(big)).to.equal(false);
        },
        {},
        { autoCompleteWrites: false },
      );
      test.pushRead(GET);
      const messages: Buffer[] = [];
      for (let round = 0; round < 100 && test.pendingWriteCount > 0; round++) {
        expect(test.pendingWriteCount).to.equal(1);
        messages.push(...test.takeWrittenMessages());
        test.completeWrites();
      }
      expect(messages.length).to.be.above(2);
      const body: Buffer[] = [];
      let trailers: string[] = [];
      const parser = new MessageParser('response', {
        onField: () => {},
        onHeadComplete: () => {},
        onBody: (data, start, end) => body.push(Buffer.from(data.subarray(start, end))),
        onTrailerField: (name, value) => (trailers = [name, value]),
        onMessageComplete: () => {},
      });
      for (const message of messages) parser.execute(message);
      expect(Buffer.concat(body).equals(big)).to.equal(true);
      expect(trailers).to.deep.equal(['x-t', '1']);
      expect(drained).to.equal(1);
      expectBalanced(test);
    });

    it('completes write callbacks when the bytes are handed over, in order', () => {
      const order: string[] = [];
      const { test } = serve(
        (stream) => {
          stream.respond(200);
          stream.write(Buffer.from('a'), () => order.push('a'));
          stream.write(Buffer.from('b'), () => order.push('b'));
          stream.end(null, () => order.push('end'));
        },
        {},
        { autoCompleteWrites: false },
      );
      test.pushRead(GET);
      expect(order).to.deep.equal(['a', 'b', 'end']);
      expect(test.pendingWriteCount).to.equal(1);
      test.flushWrites();
      expectBalanced(test);
    });
  });

  describe('keep-alive and close', () => {
    it('closes after the response when the request says Connection: close', () => {
      const { test } = serve((stream) => respondOk(stream));
      test.pushRead('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
      );
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes after a response the application marks Connection: close, reading nothing after it', () => {
      const { test, requests } = serve((stream) => {
        stream.respond(200, ['connection', 'close', 'content-length', '0'], true);
      });
      test.pushRead(GET + GET);
      expect(requests).to.have.length(1);
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
      );
      expect(test.isShutDown).to.equal(true);
    });

    it('closes an idle keep-alive connection after idleTimeoutMs (virtual time)', () => {
      const { test } = serve((stream) => respondOk(stream), { idleTimeoutMs: 1000 });
      test.pushRead(GET);
      test.advance(999);
      expect(test.isShutDown).to.equal(false);
      test.pushRead(GET);
      test.advance(999);
      expect(test.isShutDown).to.equal(false);
      test.advance(2);
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError).to.equal(null);
    });

    it('does not time out while a response is pending', () => {
      const { test, requests } = serve(() => {}, { idleTimeoutMs: 1000 });
      test.pushRead(GET);
      test.advance(5000);
      expect(test.isShutDown).to.equal(false);
      respondOk(requests[0]);
      test.runUntilIdle();
      test.advance(1001);
      expect(test.isShutDown).to.equal(true);
    });
  });

  describe('the writer an idle connection gives back', () => {
    /** The connection's outgoing task, or null while it holds none (a private field). */
    function writerOf(connection: Http1ServerConnection): unknown {
      return (connection as unknown as { outgoing: unknown }).outgoing;
    }

    it('gives its writer back after one request, keeps it through a series and while a write is in flight, gives it back after a second idle, and counts every write', () => {
      const { test, connection } = serve((stream) => respondOk(stream), {}, { autoCompleteWrites: false });
      expect(writerOf(connection)).to.equal(null);
      test.pushRead(GET);
      test.runUntilIdle();
      expect(writerOf(connection)).to.not.equal(null);
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
      test.completeWrites();
      test.runUntilIdle();
      // One request so far: most such connections carry no other, so the writer goes back now.
      expect(writerOf(connection)).to.equal(null);
      test.pushRead(GET);
      test.runUntilIdle();
      const writer = writerOf(connection);
      expect(writer).to.not.equal(null);
      test.completeWrites();
      test.runUntilIdle();
      // A series: idle, but not for long yet, the connection keeps its writer for the next request.
      expect(writerOf(connection)).to.equal(writer);
      test.pushRead(GET);
      test.runUntilIdle();
      expect(writerOf(connection)).to.equal(writer);
      // Not idle while its write is in flight, however long that takes.
      test.advance(5000);
      expect(writerOf(connection)).to.equal(writer);
      test.completeWrites();
      test.runUntilIdle();
      test.advance(999);
      expect(writerOf(connection)).to.equal(writer);
      test.advance(1);
      expect(writerOf(connection)).to.equal(null);
      const statistics = connection.gatherStatistics();
      expect(statistics.messagesWritten).to.equal(3);
      expect(statistics.bytesWritten).to.equal(3 * 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'.length);
      expectBalanced(test);
    });

    it('gives the writer it gave back to the next connection with output, bound to that connection', () => {
      const first = serve((stream) => respondOk(stream, 'one'));
      first.test.pushRead(GET);
      expect(first.test.takeWritten().toString()).to.match(/one$/);
      const given = writerOf(first.connection);
      first.test.advance(1000);
      expect(writerOf(first.connection)).to.equal(null);
      const second = serve((stream) => respondOk(stream, 'two'));
      second.test.pushRead(GET);
      expect(writerOf(second.connection)).to.equal(given);
      expect(second.test.takeWritten().toString()).to.match(/two$/);
      // The first connection's next response goes to its own peer, not to the second's.
      first.test.pushRead(GET);
      expect(first.test.takeWritten().toString()).to.match(/one$/);
      expect(second.test.takeWritten().length).to.equal(0);
      expectBalanced(first.test);
      expectBalanced(second.test);
    });
  });

  describe('the deadlines an idle connection gives back', () => {
    /** The connection's deadlines, or null while it holds none (a private field). */
    function deadlinesOf(connection: Http1ServerConnection): unknown {
      return (connection as unknown as { deadlines: unknown }).deadlines;
    }

    it('gives them back after one request, keeps them through a series and gives them back after a second idle', () => {
      const { test, connection } = serve((stream) => respondOk(stream), { idleTimeoutMs: 5000 });
      test.pushRead(GET);
      // One request so far: most such connections carry no other.
      expect(deadlinesOf(connection)).to.equal(null);
      test.pushRead(GET);
      const deadlines = deadlinesOf(connection);
      expect(deadlines).to.not.equal(null);
      test.advance(999);
      test.pushRead(GET);
      expect(deadlinesOf(connection)).to.equal(deadlines);
      test.advance(1000);
      expect(deadlinesOf(connection)).to.equal(null);
      expect(test.isShutDown).to.equal(false);
      test.advance(4000);
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError).to.equal(null);
    });

    it('times the next request head again once they were given back (slowloris after an idle gap)', () => {
      const { test, connection, errors } = serve((stream) => respondOk(stream), {
        idleTimeoutMs: 60_000,
        headerTimeoutMs: 500,
      });
      test.pushRead(GET);
      test.advance(2000);
      expect(deadlinesOf(connection)).to.equal(null);
      test.pushRead('GET / HTTP/1.1\r\n');
      expect(deadlinesOf(connection)).to.not.equal(null);
      test.advance(499);
      expect(test.isShutDown).to.equal(false);
      test.advance(1);
      expect(test.isShutDown).to.equal(true);
      expect(errors).to.deep.equal(['HTTP1_HEADER_TIMEOUT']);
    });

    it('without an idle timeout, never closes an idle connection but still gives them back', () => {
      const { test, connection } = serve((stream) => respondOk(stream), { idleTimeoutMs: 0 });
      test.pushRead(GET);
      test.advance(3_600_000);
      expect(test.isShutDown).to.equal(false);
      expect(deadlinesOf(connection)).to.equal(null);
      test.pushRead(GET);
      expect(test.takeWritten().toString()).to.match(/ok(HTTP\/1\.1 200 OK[^]*ok)$/);
      expectBalanced(test);
    });

    it('a closed connection leaves no idle timer behind', () => {
      const { test } = serve((stream) => respondOk(stream), { idleTimeoutMs: 5000 });
      test.pushRead(GET);
      test.shutdown();
      expect(test.loop.nextDeadline).to.equal(undefined);
    });
  });

  describe('header timeout (slowloris)', () => {
    it('closes with HTTP1_HEADER_TIMEOUT when a head does not arrive within headerTimeoutMs of its first byte', () => {
      const { test, requests, errors } = serve(() => {}, { headerTimeoutMs: 500, idleTimeoutMs: 0 });
      test.pushRead('GET / HTTP/1.1\r\n');
      test.advance(300);
      test.pushRead('Host: a\r\n');
      test.advance(199);
      expect(test.isShutDown).to.equal(false);
      test.advance(2);
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError?.code).to.equal('HTTP1_HEADER_TIMEOUT');
      expect(errors).to.deep.equal(['HTTP1_HEADER_TIMEOUT']);
      expect(requests).to.have.length(0);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('does not count the time between requests', () => {
      const { test, requests } = serve((stream) => respondOk(stream), { headerTimeoutMs: 500, idleTimeoutMs: 0 });
      test.pushRead(GET);
      test.advance(10_000);
      test.pushRead('GET / HTTP/1.1\r\nHost: a\r\n');
      test.advance(400);
      test.pushRead('\r\n');
      test.advance(1000);
      expect(requests).to.have.length(2);
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });
  });

  describe('pipelining', () => {
    it('writes responses in request order whatever order the application answers in', () => {
      const { test, requests } = serve();
      test.pushRead('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(requests.map((stream) => stream.target)).to.deep.equal(['/1', '/2']);
      respondOk(requests[1], 'two');
      test.runUntilIdle();
      expect(test.takeWritten().length).to.equal(0);
      respondOk(requests[0], 'one');
      test.runUntilIdle();
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\none' + 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\ntwo',
      );
      expectBalanced(test);
    });

    it('stops reading at maxPipelinedRequests and holds the read window until a response completes', () => {
      const { test, requests } = serve(() => {}, { maxPipelinedRequests: 2 });
      test.pushRead(GET + GET + GET + GET);
      expect(requests).to.have.length(2);
      // The unread requests' bytes are not returned to the window.
      expect(test.slot.windowSize).to.be.below(HTTP1_SERVER_DEFAULTS.readWindowSize);
      respondOk(requests[0]);
      test.runUntilIdle();
      expect(requests).to.have.length(3);
      respondOk(requests[1]);
      respondOk(requests[2]);
      test.runUntilIdle();
      expect(requests).to.have.length(4);
      respondOk(requests[3]);
      test.runUntilIdle();
      expect(
        test
          .takeWritten()
          .toString()
          .match(/HTTP\/1\.1 200/g),
      ).to.have.length(4);
      expect(test.slot.windowSize).to.equal(HTTP1_SERVER_DEFAULTS.readWindowSize);
      expectBalanced(test);
    });
  });

  describe('request bodies and back-pressure', () => {
    it('delivers a chunked request body with trailers, then onEnd', () => {
      const events: string[] = [];
      const { test } = serve((stream) => {
        stream.handler = {
          onData: (_s, data, start, end) => events.push(`data:${Buffer.from(data.subarray(start, end)).toString()}`),
          onTrailers: (_s, trailers) => events.push(`trailers:${trailers.join('=')}`),
          onEnd: () => {
            events.push('end');
            respondOk(stream);
          },
          onClose: (_s, error) => events.push(`close:${String(error)}`),
        };
      });
      test.pushRead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n');
      expect(events).to.deep.equal(['data:abc', 'trailers:X-T=1', 'end', 'close:null']);
      expectBalanced(test);
    });

    it('answers before the body ends, reads the rest, then serves the next request', () => {
      const events: string[] = [];
      const { test, requests } = serve((stream) => {
        stream.handler = {
          onData: (_s, data, start, end) =>
            events.push(`${stream.target}:${Buffer.from(data.subarray(start, end)).toString()}`),
          onClose: (_s, error) => events.push(`${stream.target}:close:${error?.code ?? 'null'}`),
        };
        respondOk(stream);
      });
      test.pushRead('POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc');
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      test.pushRead('def' + 'GET /b HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(requests.map((stream) => stream.target)).to.deep.equal(['/a', '/b']);
      expect(events).to.deep.equal(['/a:abc', '/a:def', '/a:close:null', '/b:close:null']);
      expectBalanced(test);
    });

    it('in manual window mode, stops the socket until the application returns credit', () => {
      let received = 0;
      let stream!: Http1ServerStream;
      const { test } = serve(
        (s) => {
          stream = s;
          s.handler = { onData: (_s, _d, start, end) => (received += end - start) };
        },
        { isManualWindow: true, readWindowSize: 1024 },
      );
      const body = Buffer.alloc(8192, 0x61);
      test.pushRead(Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8192\r\n\r\n'), body]));
      expect(received).to.be.at.most(1024);
      expect(test.bufferedReadBytes).to.be.above(0);
      for (let round = 0; round < 100 && received < 8192; round++) {
        stream.updateWindow(received);
        test.runUntilIdle();
      }
      expect(received).to.equal(8192);
      respondOk(stream);
      test.runUntilIdle();
      expectBalanced(test);
    });
  });

  describe('parse errors', () => {
    const cases: [string, string, number][] = [
      ['a bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
      [
        'Content-Length with Transfer-Encoding',
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
        400,
      ],
      ['an unknown transfer coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
      ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
      ['a missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ];
    for (const [name, request, status] of cases) {
      it(`answers ${name} with ${status} and Connection: close, the application seeing nothing`, () => {
        const { test, requests, errors } = serve((stream) => respondOk(stream));
        test.pushRead(request);
        const written = test.takeWritten().toString();
        expect(written).to.match(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(written).to.include('connection: close\r\n');
        expect(requests).to.have.length(0);
        expect(errors).to.have.length(1);
        expect(test.isShutDown).to.equal(true);
        expect(test.messagePool.outstanding).to.equal(0);
      });
    }

    it('answers 414, 431 and 413 for the limits', () => {
      const expectations: [string, Partial<Http1ServerConnectionOptions>, number][] = [
        [`GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, { parser: { maxStartLineLength: 50 } }, 414],
        [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(200)}\r\n\r\n`, { parser: { maxHeaderBlockSize: 100 } }, 431],
        ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n', { parser: { maxBodySize: 10 } }, 413],
      ];
      for (const [request, options, status] of expectations) {
        const { test } = serve(() => {}, options);
        test.pushRead(request);
        expect(test.takeWritten().toString()).to.match(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(test.isShutDown).to.equal(true);
      }
    });

    it('answers a bad request after the responses pipelined before it, and never the request after it', () => {
      const { test, requests } = serve((stream) => respondOk(stream));
      test.pushRead(GET + 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' + GET);
      expect(requests).to.have.length(1);
      const written = test.takeWritten().toString();
      expect(written.match(/HTTP\/1\.1 /g)).to.have.length(2);
      expect(written).to.match(/^HTTP\/1\.1 200 OK[\s\S]*okHTTP\/1\.1 400 /);
      expect(test.isShutDown).to.equal(true);
    });

    it('fails the exchange whose chunked body is malformed', () => {
      let closedWith = '';
      const { test } = serve((stream) => {
        stream.handler = { onClose: (_s, error) => (closedWith = error?.code ?? 'null') };
      });
      test.pushRead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      expect(closedWith).to.equal('HTTP1_INVALID_CHUNK_SIZE');
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 400 /);
      expect(test.isShutDown).to.equal(true);
    });
  });

  describe('100-continue', () => {
    const EXPECT = 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n';

    it('sends 100 Continue when the application reads the body', () => {
      const { test } = serve((stream) => {
        stream.handler = { onData: () => {}, onEnd: () => respondOk(stream) };
      });
      test.pushRead(EXPECT);
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 100 Continue\r\n\r\n');
      test.pushRead('abc');
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      expectBalanced(test);
    });

    it('sends no 100 for a final status given without reading, keeping a small announced body drainable', () => {
      const { test, requests } = serve((stream) => respondOk(stream));
      test.pushRead(EXPECT);
      expect(test.takeWritten().toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      test.pushRead('abc' + GET);
      expect(requests).to.have.length(2);
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });

    it('closes after the response when the unread body is larger than maxDrainBodySize or chunked', () => {
      const { test } = serve((stream) => respondOk(stream), { maxDrainBodySize: 2 });
      test.pushRead(EXPECT);
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
      );
      expect(test.isShutDown).to.equal(true);
    });
  });

  describe('graceful drain', () => {
    it('closes an idle connection at once', () => {
      const { test, connection } = serve((stream) => respondOk(stream));
      test.pushRead(GET);
      connection.close();
      test.runUntilIdle();
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError).to.equal(null);
    });

    it('finishes the exchanges in flight, the last response saying Connection: close', () => {
      const { test, connection, requests } = serve();
      test.pushRead(GET + GET);
      connection.close();
      test.pushRead(GET);
      expect(requests).to.have.length(2);
      respondOk(requests[0]);
      respondOk(requests[1]);
      test.runUntilIdle();
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' +
          'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
      );
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });
    it('reads the body of the request in progress and says close on its response', () => {
      const { test, connection, requests } = serve();
      test.pushRead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab');
      connection.close();
      test.pushRead('cd' + GET);
      expect(requests).to.have.length(1);
      respondOk(requests[0]);
      test.runUntilIdle();
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
      );
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('on a channel shutdown, writes the responses given whole and fails the exchanges behind them', () => {
      const closed: string[] = [];
      const { test, requests } = serve(
        (stream) =>
          (stream.handler = { onClose: (_s, error) => closed.push(`${stream.target}:${error?.code ?? 'null'}`) }),
        {},
        { autoCompleteWrites: false },
      );
      test.pushRead(
        'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      respondOk(requests[0], 'one');
      test.runUntilIdle();
      expect(test.pendingWriteCount).to.equal(1);
      respondOk(requests[1], 'two');
      requests[2].respond(200);
      test.channel.shutdown(null);
      test.runUntilIdle();
      test.flushWrites();
      const written = test.takeWritten().toString();
      expect(written).to.include('one');
      expect(written).to.include('two');
      expect(closed).to.deep.equal(['/1:null', '/3:HTTP1_CONNECTION_CLOSED', '/2:null']);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });

  describe('CONNECT', () => {
    it('answers a CONNECT request and closes after the response (no tunnel here)', () => {
      const { test, requests } = serve((stream) => stream.respond(405, ['content-length', '0'], true));
      test.pushRead('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnel bytes');
      expect(requests.map((stream) => stream.method)).to.deep.equal(['CONNECT']);
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
      );
      expect(test.isShutDown).to.equal(true);
    });
  });

  describe('failures', () => {
    it('closes the connection when onRequest throws, and fails open exchanges on shutdown', () => {
      const closed: string[] = [];
      const { test } = serve((stream) => {
        stream.handler = { onClose: (_s, error) => closed.push(error?.code ?? 'null') };
        if (stream.target === '/throw') throw new Error('boom');
      });
      test.pushRead('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /throw HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(test.isShutDown).to.equal(true);
      expect(closed).to.deep.equal(['HTTP1_CALLBACK_THREW', 'HTTP1_CALLBACK_THREW']);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes the connection when a write callback throws', () => {
      let closedWith = '';
      const { test } = serve((stream) => {
        stream.handler = { onClose: (_s, error) => (closedWith = error?.code ?? 'null') };
        stream.respond(200);
        stream.write(Buffer.from('x'), () => {
          throw new Error('callback');
        });
      });
      test.pushRead(GET);
      expect(closedWith).to.equal('HTTP1_CALLBACK_THREW');
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes the connection when the application resets an exchange', () => {
      let closedWith = '';
      const { test, requests } = serve((stream) => {
        stream.handler = { onClose: (_s, error) => (closedWith = error?.code ?? 'null') };
      });
      test.pushRead(GET);
      requests[0].reset();
      test.runUntilIdle();
      expect(closedWith).to.equal('HTTP1_CONNECTION_CLOSED');
      expect(test.isShutDown).to.equal(true);
    });

    it('fails a request cut short by the peer closing; a later respond throws HTTP1_CONNECTION_CLOSED', () => {
      let closedWith = '';
      const { test, requests } = serve((stream) => {
        stream.handler = { onClose: (_s, error) => (closedWith = error?.code ?? 'null') };
      });
      test.pushRead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
      test.peerClose();
      expect(closedWith).to.equal('IO_SOCKET_CLOSED');
      expect(() => requests[0].respond(200))
        .to.throw()
        .with.property('code', 'HTTP1_CONNECTION_CLOSED');
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });
});
