import { expect } from 'chai';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import type { Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import { StreamState } from '../../../handlers/http2/connection/http2-stream.js';
import {
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  frameNames,
  ofType,
  request,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';
import type { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';

/** Server harness with stream 1 (a GET) answered and fully closed. */
function withClosedStream(): Harness<Http2ServerConnection> {
  const h = serverHarness();
  h.exchange(h.peer.headers(1, GET, { endStream: true }));
  h.received[0].stream.sendHeaders(OK, true);
  h.flush();
  expect(h.received[0].recorder.closeError).to.equal(null);
  return h;
}

describe('HTTP/2 connection: streams', () => {
  describe('identifiers', () => {
    it('client opens streams with odd, increasing identifiers', () => {
      const h = clientHarness();
      const ids = [request(h), request(h), request(h)].map(({ stream }) => stream.id);
      expect(ids).to.deep.equal([1, 3, 5]);
      expect(ofType(h.flush(), FrameType.HEADERS).map((frame) => frame.streamId)).to.deep.equal([1, 3, 5]);
      h.finish();
    });

    it('server accepts client streams with odd identifiers and reports each once', () => {
      const h = serverHarness();
      expectNoErrors(
        h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(5, GET, { endStream: true })),
      );
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([1, 5]);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when a client opens a stream with an even identifier', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.headers(2, GET, { endStream: true })), ErrorCode.PROTOCOL_ERROR);
      expect(h.received).to.have.length(0);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when a server opens a stream with HEADERS (push is disabled)', () => {
      const h = clientHarness();
      expectGoaway(h.exchange(h.peer.headers(2, OK, { endStream: true })), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when peer HEADERS use a lower identifier than one already seen', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(5, GET, { endStream: true }));
      const frames = h.exchange(h.peer.headers(3, GET, { endStream: true }));
      expectGoaway(frames, ErrorCode.PROTOCOL_ERROR, 5);
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([5]);
      expect(h.received[0].recorder.closeCount, 'open streams fail').to.equal(1);
      h.finish();
    });

    it('answers DATA on a lower stream that opening a higher one implicitly closed with RST_STREAM(STREAM_CLOSED)', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(5, GET, { endStream: true }));
      expectRst(h.exchange(h.peer.data(3, 'late')), 3, ErrorCode.STREAM_CLOSED);
      h.finish();
    });
  });

  describe('frames on idle streams', () => {
    const idle: { name: string; frame: (h: Harness<Http2ServerConnection>) => Buffer }[] = [
      { name: 'DATA', frame: (h) => h.peer.data(7, 'x') },
      { name: 'WINDOW_UPDATE', frame: (h) => h.peer.windowUpdate(9, 100) },
      { name: 'RST_STREAM', frame: (h) => h.peer.rstStream(11, ErrorCode.CANCEL) },
      { name: 'WINDOW_UPDATE with increment 0', frame: (h) => h.peer.windowUpdate(13, 0) },
      { name: 'CONTINUATION', frame: (h) => h.peer.continuation(3, Buffer.alloc(0), true) },
    ];
    for (const { name, frame } of idle) {
      it(`sends GOAWAY(PROTOCOL_ERROR) when ${name} arrives on an idle stream`, () => {
        const h = serverHarness();
        h.exchange(h.peer.headers(1, GET, { endStream: true }));
        const frames = h.exchange(frame(h));
        expectGoaway(frames, ErrorCode.PROTOCOL_ERROR, 1);
        expect(ofType(frames, FrameType.RST_STREAM), 'no RST_STREAM on an idle stream (RFC 9113 §6.4)').to.have.length(
          0,
        );
        h.finish();
      });
    }

    it('accepts PRIORITY on an idle stream and ignores it', () => {
      const h = serverHarness();
      expect(h.exchange(h.peer.priority(9, 0))).to.deep.equal([]);
      expectNoErrors(h.exchange(h.peer.headers(9, GET, { endStream: true })));
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([9]);
      h.finish();
    });

    it('refuses a HEADERS frame whose priority makes the stream depend on itself with RST_STREAM(PROTOCOL_ERROR)', () => {
      const h = serverHarness();
      const frames = h.exchange(
        h.peer.headers(3, GET, { endStream: true, priority: { streamDependency: 3, weight: 16, isExclusive: false } }),
      );
      expectRst(frames, 3, ErrorCode.PROTOCOL_ERROR);
      expect(h.received, 'the stream is not opened').to.have.length(0);
      // The header block was still decoded: the HPACK context is in sync for the next request.
      expectNoErrors(h.exchange(h.peer.headers(5, GET, { endStream: true })));
      expect(h.received.map(({ headers }) => headers)).to.deep.equal([GET]);
      h.finish();
    });
  });

  describe('closed streams', () => {
    it('ignores WINDOW_UPDATE and RST_STREAM on a stream closed normally', () => {
      const h = withClosedStream();
      expect(h.exchange(h.peer.windowUpdate(1, 1000), h.peer.rstStream(1, ErrorCode.CANCEL))).to.deep.equal([]);
      expect(h.received[0].recorder.closeCount).to.equal(1);
      h.finish();
    });

    const afterEnd: { name: string; frame: (h: Harness<Http2ServerConnection>) => Buffer }[] = [
      { name: 'DATA', frame: (h) => h.peer.data(1, 'more') },
      { name: 'HEADERS', frame: (h) => h.peer.headers(1, ['x-late', '1'], { endStream: true }) },
    ];
    for (const { name, frame } of afterEnd) {
      it(`answers ${name} after the peer's END_STREAM on a half-closed stream with RST_STREAM(STREAM_CLOSED)`, () => {
        const h = serverHarness();
        h.exchange(h.peer.headers(1, GET, { endStream: true }));
        const recorder = h.received[0].recorder;
        expect(h.received[0].stream.state).to.equal(StreamState.HALF_CLOSED_REMOTE);
        expectRst(h.exchange(frame(h)), 1, ErrorCode.STREAM_CLOSED);
        expect(recorder.closeError).to.be.instanceOf(Http2StreamError);
        expect((recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.STREAM_CLOSED);
        h.finish();
      });

      // On a stream closed by END_STREAM both ways: closed-stream-table.test.ts.
    }

    it('ignores every frame on a stream we reset (DATA, HEADERS, WINDOW_UPDATE, RST_STREAM)', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      const stream = h.received[0].stream;
      stream.reset();
      expectRst(h.flush(), 1, ErrorCode.CANCEL);
      const frames = h.exchange(
        h.peer.data(1, 'in flight'),
        h.peer.headers(1, ['x-trailer', 'value'], { endStream: true }),
        h.peer.windowUpdate(1, 10),
        h.peer.rstStream(1, ErrorCode.CANCEL),
      );
      expect(frameNames(frames)).to.deep.equal([]);
      expect(h.received[0].recorder.closeCount).to.equal(1);
      // The ignored header block was decoded: the next block, which refers to its table entry, decodes.
      expectNoErrors(h.exchange(h.peer.headers(3, [...GET, 'x-trailer', 'value'], { endStream: true })));
      expect(h.received[1].headers).to.deep.equal([...GET, 'x-trailer', 'value']);
      h.finish();
    });

    it('answers a frame on a stream closed long ago (forgotten by the cache) with RST_STREAM(STREAM_CLOSED), not GOAWAY', () => {
      const h = serverHarness({ connection: { maxClosedStreams: 2 } });
      for (const id of [1, 3, 5]) {
        h.exchange(h.peer.headers(id, POST));
        h.received.at(-1)!.stream.reset();
        h.flush();
      }
      // 5 is remembered as reset: ignored. 1 is forgotten: a late frame gets STREAM_CLOSED.
      expect(h.exchange(h.peer.data(5, 'x'))).to.deep.equal([]);
      expectRst(h.exchange(h.peer.data(1, 'x')), 1, ErrorCode.STREAM_CLOSED);
      h.finish();
    });
  });

  describe('concurrency limits', () => {
    it('refuses peer streams beyond our MAX_CONCURRENT_STREAMS with RST_STREAM(REFUSED_STREAM), then accepts once one closes', () => {
      const h = serverHarness({ connection: { maxConcurrentStreams: 2 } });
      const frames = h.exchange(h.peer.headers(1, POST), h.peer.headers(3, POST), h.peer.headers(5, POST));
      expectRst(frames, 5, ErrorCode.REFUSED_STREAM);
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([1, 3]);
      h.received[0].stream.reset();
      h.flush();
      expectNoErrors(h.exchange(h.peer.headers(7, POST)));
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([1, 3, 7]);
      h.finish();
    });

    it('client queues requests beyond the peer MAX_CONCURRENT_STREAMS until a stream closes', () => {
      const h = clientHarness({ peerSettings: [[SettingId.MAX_CONCURRENT_STREAMS, 1]] });
      const first = request(h);
      const second = request(h);
      expect(first.stream.id).to.equal(1);
      expect(second.stream.id, 'waiting: no id yet').to.equal(0);
      expect(h.conn.pendingStreamCount).to.equal(1);
      expect(ofType(h.flush(), FrameType.HEADERS).map((frame) => frame.streamId)).to.deep.equal([1]);
      const frames = h.exchange(h.peer.headers(1, OK, { endStream: true }));
      expect(first.recorder.closeError).to.equal(null);
      expect(second.stream.id).to.equal(3);
      expect(ofType(frames, FrameType.HEADERS).map((frame) => [frame.streamId, frame.headers])).to.deep.equal([
        [3, GET],
      ]);
      expect(h.conn.pendingStreamCount).to.equal(0);
      h.finish();
    });

    it('client opens waiting requests when the peer raises MAX_CONCURRENT_STREAMS', () => {
      const h = clientHarness({ peerSettings: [[SettingId.MAX_CONCURRENT_STREAMS, 0]] });
      const { stream } = request(h);
      expect(ofType(h.flush(), FrameType.HEADERS)).to.have.length(0);
      const frames = h.exchange(h.peer.settings([SettingId.MAX_CONCURRENT_STREAMS, 5]));
      expect(stream.id).to.equal(1);
      expect(ofType(frames, FrameType.HEADERS)).to.have.length(1);
      h.finish();
    });
  });

  describe('message rules', () => {
    const contentLength: { name: string; body: number[] }[] = [
      { name: 'less DATA than content-length', body: [5] },
      { name: 'more DATA than content-length', body: [6, 5] },
    ];
    for (const { name, body } of contentLength) {
      it(`server resets a request with ${name} with RST_STREAM(PROTOCOL_ERROR)`, () => {
        const h = serverHarness();
        const frames = h.exchange(
          h.peer.headers(1, [...POST, 'content-length', '10']),
          ...body.map((size, i) => h.peer.data(1, size, { endStream: i === body.length - 1 })),
        );
        expectRst(frames, 1, ErrorCode.PROTOCOL_ERROR);
        expect(h.received[0].recorder.kinds).to.not.include('end');
        expect((h.received[0].recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
        h.finish();
      });
    }

    it('accepts a request body that matches content-length', () => {
      const h = serverHarness();
      expectNoErrors(
        h.exchange(
          h.peer.headers(1, [...POST, 'content-length', '10']),
          h.peer.data(1, 4),
          h.peer.data(1, 6, { endStream: true }),
        ),
      );
      expect(h.received[0].recorder.kinds).to.deep.equal(['data', 'data', 'end']);
      h.finish();
    });

    it('client resets a response whose body does not match content-length with RST_STREAM(PROTOCOL_ERROR)', () => {
      const h = clientHarness();
      const { recorder } = request(h);
      h.flush();
      const frames = h.exchange(
        h.peer.headers(1, [...OK, 'content-length', '3']),
        h.peer.data(1, 'ab', { endStream: true }),
      );
      expectRst(frames, 1, ErrorCode.PROTOCOL_ERROR);
      expect((recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    const malformed: { name: string; headers: Http2Headers }[] = [
      { name: 'without :path', headers: [':method', 'GET', ':scheme', 'http', ':authority', 'a'] },
      { name: 'with an uppercase field name', headers: [...GET, 'X-Upper', '1'] },
      { name: 'with a connection-specific field', headers: [...GET, 'connection', 'keep-alive'] },
      {
        name: 'with a pseudo-header after a regular field',
        headers: [':method', 'GET', 'x-a', '1', ':scheme', 'http', ':path', '/'],
      },
      { name: 'with te other than trailers', headers: [...GET, 'te', 'gzip'] },
      { name: 'with a response pseudo-header', headers: [...GET, ':status', '200'] },
      { name: 'with an invalid content-length', headers: [...GET, 'content-length', 'ten'] },
    ];
    for (const { name, headers } of malformed) {
      it(`answers a request ${name} with RST_STREAM(PROTOCOL_ERROR) and the connection lives on`, () => {
        const h = serverHarness();
        expectRst(h.exchange(h.peer.headers(1, headers, { endStream: true })), 1, ErrorCode.PROTOCOL_ERROR);
        expect(h.received).to.have.length(0);
        expectNoErrors(h.exchange(h.peer.headers(3, GET, { endStream: true })));
        expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([3]);
        h.finish();
      });
    }

    it('client resets a response without :status with RST_STREAM(PROTOCOL_ERROR)', () => {
      const h = clientHarness();
      const { recorder } = request(h);
      h.flush();
      expectRst(
        h.exchange(h.peer.headers(1, ['content-type', 'text/plain'], { endStream: true })),
        1,
        ErrorCode.PROTOCOL_ERROR,
      );
      expect(recorder.kinds).to.deep.equal(['close']);
      h.finish();
    });
  });

  describe('state machine and message exchange', () => {
    it('client request without body: HEADERS(END_STREAM), half-closed (local), then closed by the response END_STREAM', () => {
      const h = clientHarness();
      const { stream, recorder } = request(h);
      const sent = ofType(h.flush(), FrameType.HEADERS);
      expect(sent.map((frame) => frame.endStream)).to.deep.equal([true]);
      expect(stream.state).to.equal(StreamState.HALF_CLOSED_LOCAL);
      h.exchange(
        h.peer.headers(1, [...OK, 'content-type', 'text/plain']),
        h.peer.data(1, 'hello'),
        h.peer.data(1, ' world', { endStream: true }),
      );
      expect(recorder.kinds).to.deep.equal(['response', 'data', 'data', 'end', 'close']);
      expect(recorder.body.toString()).to.equal('hello world');
      expect(recorder.closeError).to.equal(null);
      expect(stream.state).to.equal(StreamState.CLOSED);
      expect(h.conn.activeStreamCount).to.equal(0);
      h.finish();
    });

    it('server stream: half-closed (remote) after the request END_STREAM, closed when the response ends', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST), h.peer.data(1, 'body', { endStream: true }));
      const { stream, recorder } = h.received[0];
      expect(recorder.kinds).to.deep.equal(['data', 'end']);
      expect(stream.state).to.equal(StreamState.HALF_CLOSED_REMOTE);
      stream.sendHeaders(OK);
      stream.write(Buffer.from('reply'));
      stream.end();
      const frames = h.flush();
      expect(bodyOf(frames, 1).toString()).to.equal('reply');
      expect(ofType(frames, FrameType.DATA).at(-1)!.endStream).to.equal(true);
      expect(stream.state).to.equal(StreamState.CLOSED);
      expect(recorder.closeError).to.equal(null);
      expect(() => stream.write(Buffer.from('x'))).to.throw();
      h.finish();
    });

    it('the peer RST_STREAM closes the stream with its error code; REFUSED_STREAM is retryable', () => {
      const h = clientHarness();
      const refused = request(h);
      const cancelled = request(h);
      h.flush();
      expect(
        h.exchange(h.peer.rstStream(1, ErrorCode.REFUSED_STREAM), h.peer.rstStream(3, ErrorCode.CANCEL)),
      ).to.deep.equal([]);
      const refusedError = refused.recorder.closeError as Http2StreamError;
      const cancelError = cancelled.recorder.closeError as Http2StreamError;
      expect([refusedError.errorCode, refusedError.retryable]).to.deep.equal([ErrorCode.REFUSED_STREAM, true]);
      expect([cancelError.errorCode, cancelError.retryable]).to.deep.equal([ErrorCode.CANCEL, false]);
      h.finish();
    });

    it('sends trailers after the request body (client) and delivers them before onEnd (server)', () => {
      const server = serverHarness();
      server.exchange(
        server.peer.headers(1, POST),
        server.peer.data(1, 'abc'),
        server.peer.headers(1, ['x-checksum', '42'], { endStream: true }),
      );
      expect(server.received[0].recorder.kinds).to.deep.equal(['data', 'trailers', 'end']);
      expect(server.received[0].recorder.events[1].headers).to.deep.equal(['x-checksum', '42']);
      server.finish();

      const client = clientHarness();
      const { stream } = request(client, POST, { isEndStream: false });
      stream.write(Buffer.from('abc'));
      stream.end(['x-checksum', '42']);
      const frames = client.flush();
      const names = frameNames(frames);
      expect(names).to.deep.equal(['HEADERS:1', 'DATA:1', 'HEADERS:1']);
      expect(frames[1].endStream).to.equal(false);
      expect([frames[2].endStream, frames[2].headers]).to.deep.equal([true, ['x-checksum', '42']]);
      client.finish();
    });

    it('sends response trailers (server) and delivers them to the client before onEnd and onClose', () => {
      const server = serverHarness();
      server.exchange(server.peer.headers(1, GET, { endStream: true }));
      const stream = server.received[0].stream;
      stream.sendHeaders(OK);
      stream.write(Buffer.from('data'));
      stream.end(['grpc-status', '0']);
      const frames = server.flush();
      expect(frameNames(frames)).to.deep.equal(['HEADERS:1', 'DATA:1', 'HEADERS:1']);
      expect(frames[2].endStream).to.equal(true);
      expect(server.received[0].recorder.closeError).to.equal(null);
      server.finish();

      const client = clientHarness();
      const { recorder } = request(client);
      client.flush();
      client.exchange(
        client.peer.headers(1, OK),
        client.peer.data(1, 'data'),
        client.peer.headers(1, ['grpc-status', '0'], { endStream: true }),
      );
      expect(recorder.kinds).to.deep.equal(['response', 'data', 'trailers', 'end', 'close']);
      client.finish();
    });

    const badTrailers: { name: string; trailers: Http2Headers; endStream: boolean }[] = [
      { name: 'without END_STREAM', trailers: ['x-t', '1'], endStream: false },
      { name: 'with a pseudo-header', trailers: [':path', '/'], endStream: true },
    ];
    for (const { name, trailers, endStream } of badTrailers) {
      it(`resets a stream whose trailers come ${name} with RST_STREAM(PROTOCOL_ERROR)`, () => {
        const h = serverHarness();
        expectRst(
          h.exchange(h.peer.headers(1, POST), h.peer.headers(1, trailers, { endStream })),
          1,
          ErrorCode.PROTOCOL_ERROR,
        );
        expect(h.received[0].recorder.kinds).to.deep.equal(['close']);
        h.finish();
      });
    }

    it('sends 1xx informational responses before the final one, and the client reports them', () => {
      const server = serverHarness();
      server.exchange(server.peer.headers(1, GET, { endStream: true }));
      const stream = server.received[0].stream;
      stream.sendHeaders([':status', '103', 'link', '</style.css>; rel=preload']);
      stream.sendHeaders(OK, true);
      const frames = server.flush();
      expect(frames.map((frame) => [frame.headers?.[1], frame.endStream])).to.deep.equal([
        ['103', false],
        ['200', true],
      ]);
      expect(() => stream.sendHeaders([':status', '100'])).to.throw();
      server.finish();

      const client = clientHarness();
      const { recorder } = request(client);
      client.flush();
      client.exchange(
        client.peer.headers(1, [':status', '100']),
        client.peer.headers(1, [':status', '103']),
        client.peer.headers(1, OK, { endStream: true }),
      );
      expect(recorder.kinds).to.deep.equal(['informational', 'informational', 'response', 'end', 'close']);
      client.finish();
    });

    it('client resets a 1xx response that carries END_STREAM with RST_STREAM(PROTOCOL_ERROR)', () => {
      const h = clientHarness();
      request(h);
      h.flush();
      expectRst(h.exchange(h.peer.headers(1, [':status', '100'], { endStream: true })), 1, ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('a HEAD response has no body: content-length is not checked against DATA on the client', () => {
      const h = clientHarness();
      const { recorder } = request(h, [
        ':method',
        'HEAD',
        ':scheme',
        'http',
        ':authority',
        'example.test',
        ':path',
        '/',
      ]);
      h.flush();
      expectNoErrors(h.exchange(h.peer.headers(1, [...OK, 'content-length', '1000'], { endStream: true })));
      expect(recorder.kinds).to.deep.equal(['response', 'end', 'close']);
      expect(recorder.closeError).to.equal(null);
      h.finish();
    });

    it('server discards a body written for a HEAD response and still ends the stream', () => {
      const h = serverHarness();
      h.exchange(
        h.peer.headers(1, [':method', 'HEAD', ':scheme', 'http', ':authority', 'example.test', ':path', '/'], {
          endStream: true,
        }),
      );
      const stream = h.received[0].stream;
      stream.sendHeaders([...OK, 'content-length', '5']);
      let written: Error | null | undefined;
      expect(() => stream.write(Buffer.from('hello'), (error) => (written = error))).to.not.throw();
      stream.end();
      const frames: WrittenFrame[] = h.flush();
      expect(written).to.equal(null);
      expect(bodyOf(frames, 1).length).to.equal(0);
      expect(frames.some((frame) => frame.endStream)).to.equal(true);
      expect(h.received[0].recorder.closeError).to.equal(null);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when a server sends PUSH_PROMISE to a client', () => {
      const h = clientHarness();
      const { recorder } = request(h);
      h.flush();
      expectGoaway(h.exchange(h.peer.pushPromise(1, 2, GET)), ErrorCode.PROTOCOL_ERROR, 0);
      expect(recorder.closeCount).to.equal(1);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when a client sends PUSH_PROMISE to a server', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      expectGoaway(h.exchange(h.peer.pushPromise(1, 2, GET)), ErrorCode.PROTOCOL_ERROR, 1);
      h.finish();
    });
  });
});
