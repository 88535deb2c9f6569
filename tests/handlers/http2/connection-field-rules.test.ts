/**
 * The connection core against the field rules of RFC 9110 §5.5, §9.1 and RFC 9113 §8.2.1, §8.6:
 * malformed incoming fields reset one stream, malformed outgoing ones are refused before a byte
 * is written; no content and no content-length where a status forbids them (RFC 9110 §6.4.1,
 * §8.6).
 */
import { expect } from 'chai';
import type { Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import { StreamState } from '../../../handlers/http2/connection/http2-stream.js';
import {
  ErrorCode,
  FrameType,
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  expectNoErrors,
  expectRst,
  ofType,
  request,
  serverHarness,
  type WrittenFrame,
} from './peer.js';
import { thrownCode } from '../../support/error-codes.js';

/** Asserts that `action` throws a SluiceError with `code`. */
function expectCode(action: () => unknown, code: string): void {
  expect(thrownCode(action)).to.equal(code);
}

/** The header lists written on `streamId`, in order. */
function headerBlocksOf(frames: readonly WrittenFrame[], streamId: number): Http2Headers[] {
  return ofType(frames, FrameType.HEADERS)
    .filter((frame) => frame.streamId === streamId)
    .map((frame) => frame.headers!);
}

describe('HTTP/2 connection: field rules (RFC 9110 §5.5, §9.1; RFC 9113 §8.2.1)', () => {
  describe('incoming requests', () => {
    const malformed: { name: string; headers: Http2Headers }[] = [
      {
        name: 'a method that is not a token',
        headers: [':method', 'GE T', ':scheme', 'http', ':authority', 'a', ':path', '/'],
      },
      { name: 'SOH (0x01) in a field value', headers: [...GET, 'x-note', 'a\u0001b'] },
      { name: 'DEL in a field value', headers: [...GET, 'x-note', 'a\u007f'] },
      {
        name: 'a control character in a pseudo-header value',
        headers: [':method', 'GET', ':scheme', 'http', ':authority', 'a\u0002', ':path', '/'],
      },
      { name: 'a leading space in a field value', headers: [...GET, 'x-note', ' a'] },
      { name: 'a trailing tab in a field value', headers: [...GET, 'x-note', 'a\t'] },
    ];
    for (const { name, headers } of malformed) {
      it(`resets a request with ${name} with RST_STREAM(PROTOCOL_ERROR); a stream in progress goes on`, () => {
        const h = serverHarness();
        expectNoErrors(h.exchange(h.peer.headers(1, POST)));
        expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([1]);
        expectRst(h.exchange(h.peer.headers(3, headers, { endStream: true })), 3, ErrorCode.PROTOCOL_ERROR);
        expect(h.received, 'the malformed request reaches no handler').to.have.length(1);
        // Stream 1 is unaffected: its body arrives and its response goes out.
        const first = h.received[0];
        expectNoErrors(h.exchange(h.peer.data(1, 'body', { endStream: true })));
        expect(first.recorder.kinds).to.deep.equal(['data', 'end']);
        first.stream.sendHeaders(OK);
        first.stream.write(Buffer.from('done'));
        first.stream.end();
        const frames = h.flush();
        expectNoErrors(frames);
        expect(bodyOf(frames, 1).toString()).to.equal('done');
        expect(first.stream.state).to.equal(StreamState.CLOSED);
        h.finish();
      });
    }

    it('resets a request whose trailers carry a control character with RST_STREAM(PROTOCOL_ERROR)', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      expectRst(
        h.exchange(h.peer.headers(1, ['x-checksum', 'a\u0007'], { endStream: true })),
        1,
        ErrorCode.PROTOCOL_ERROR,
      );
      expect((h.received[0].recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });
  });

  describe('incoming responses', () => {
    const malformed: { name: string; headers: Http2Headers }[] = [
      { name: ':status 101', headers: [':status', '101'] },
      { name: 'a control character in a field value', headers: [...OK, 'x-note', 'a\u001fb'] },
    ];
    for (const { name, headers } of malformed) {
      it(`client resets a response with ${name} with RST_STREAM(PROTOCOL_ERROR); another stream goes on`, () => {
        const h = clientHarness();
        const first = request(h);
        const second = request(h);
        h.flush();
        expectRst(h.exchange(h.peer.headers(1, headers)), 1, ErrorCode.PROTOCOL_ERROR);
        expect(first.recorder.kinds).to.deep.equal(['close']);
        expect((first.recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
        expectNoErrors(h.exchange(h.peer.headers(3, OK, { endStream: true })));
        expect(second.recorder.kinds).to.deep.equal(['response', 'end', 'close']);
        expect(second.recorder.closeError).to.equal(null);
        h.finish();
      });
    }
  });

  describe('outgoing lists are refused before anything is written', () => {
    it('a request whose method is not a token throws HTTP2_INVALID_HEADERS and opens no stream', () => {
      const h = clientHarness();
      expectCode(
        () =>
          h.conn.request([':method', 'GE T', ':scheme', 'http', ':authority', 'a', ':path', '/'], {
            isEndStream: true,
          }),
        'HTTP2_INVALID_HEADERS',
      );
      expect(h.flush(), 'nothing written').to.deep.equal([]);
      expect(h.conn.activeStreamCount).to.equal(0);
      // The next request takes stream 1: the refused one used no identifier.
      const { stream } = request(h);
      expect(headerBlocksOf(h.flush(), 1)).to.have.length(1);
      expect(stream.id).to.equal(1);
      h.finish();
    });

    it('a request with a control character in a value throws HTTP2_INVALID_HEADERS', () => {
      const h = clientHarness();
      expectCode(() => h.conn.request([...GET, 'x-note', 'a\u0001b'], { isEndStream: true }), 'HTTP2_INVALID_HEADERS');
      expect(h.flush()).to.deep.equal([]);
      h.finish();
    });

    const badResponses: { name: string; headers: Http2Headers }[] = [
      { name: 'SOH in a value', headers: [...OK, 'x-note', 'a\u0001b'] },
      { name: 'DEL in a value', headers: [...OK, 'x-note', 'a\u007f'] },
      { name: 'a trailing space in a value', headers: [...OK, 'x-note', 'a '] },
      { name: ':status 101', headers: [':status', '101'] },
    ];
    for (const { name, headers } of badResponses) {
      for (const isEndStream of [false, true]) {
        it(`sendHeaders with ${name}${isEndStream ? ' and END_STREAM' : ''} throws HTTP2_INVALID_HEADERS and leaves the stream able to respond`, () => {
          const h = serverHarness();
          h.exchange(h.peer.headers(1, GET, { endStream: true }));
          const { stream } = h.received[0];
          expectCode(() => stream.sendHeaders(headers, isEndStream), 'HTTP2_INVALID_HEADERS');
          expect(h.flush(), 'nothing written').to.deep.equal([]);
          expect(stream.isWritable).to.equal(true);
          stream.sendHeaders(OK, true);
          const frames = h.flush();
          expectNoErrors(frames);
          expect(headerBlocksOf(frames, 1)).to.deep.equal([OK]);
          expect(stream.state).to.equal(StreamState.CLOSED);
          h.finish();
        });
      }
    }

    it('end() with malformed trailers throws HTTP2_INVALID_HEADERS, ends nothing, and a later end() works', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      const { stream } = h.received[0];
      stream.sendHeaders(OK);
      h.flush();
      expectCode(() => stream.end(['x-checksum', 'a\u0001']), 'HTTP2_INVALID_HEADERS');
      expectCode(() => stream.end([':status', '200']), 'HTTP2_INVALID_HEADERS');
      expect(h.flush(), 'nothing written').to.deep.equal([]);
      expect(stream.isWritable).to.equal(true);
      stream.end(['x-checksum', 'abc']);
      const frames = h.flush();
      expect(headerBlocksOf(frames, 1)).to.deep.equal([['x-checksum', 'abc']]);
      expect(stream.state).to.equal(StreamState.CLOSED);
      h.finish();
    });
  });

  describe('no content on 204 and 304, no content-length on 1xx and 204 (RFC 9110 §6.4.1, §8.6)', () => {
    /** A server stream for a GET, ready to answer. */
    function answering(): {
      h: ReturnType<typeof serverHarness>;
      stream: ReturnType<typeof serverHarness>['received'][number]['stream'];
    } {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      return { h, stream: h.received[0].stream };
    }

    for (const status of ['204', '304']) {
      it(`discards bytes written after a ${status} response (their callbacks fire without error)`, () => {
        const { h, stream } = answering();
        stream.sendHeaders([':status', status, 'etag', '"a"']);
        const callbacks: unknown[] = [];
        expect(stream.write(Buffer.from('not content'), (error) => callbacks.push(error))).to.equal(true);
        stream.end();
        const frames = h.flush();
        expectNoErrors(frames);
        expect(callbacks).to.deep.equal([null]);
        expect(bodyOf(frames, 1).length).to.equal(0);
        const data = ofType(frames, FrameType.DATA);
        expect(data.map((frame) => [frame.length, frame.endStream])).to.deep.equal([[0, true]]);
        expect(stream.state).to.equal(StreamState.CLOSED);
        h.finish();
      });
    }

    it('drops bytes queued before a 204 response is sent', () => {
      const { h, stream } = answering();
      const callbacks: unknown[] = [];
      stream.write(Buffer.from('queued early'), (error) => callbacks.push(error));
      stream.sendHeaders([':status', '204'], false);
      expect(callbacks).to.deep.equal([null]);
      expect(stream.bufferedBytes).to.equal(0);
      stream.end();
      const frames = h.flush();
      expect(bodyOf(frames, 1).length).to.equal(0);
      h.finish();
    });

    it('leaves content-length out of a 204 response, every time (the header cache included)', () => {
      const h = serverHarness();
      h.exchange(
        h.peer.headers(1, GET, { endStream: true }),
        h.peer.headers(3, GET, { endStream: true }),
        h.peer.headers(5, GET, { endStream: true }),
      );
      const headers = [':status', '204', 'content-length', '5', 'x-kept', 'yes'];
      for (const { stream } of h.received) stream.sendHeaders(headers, true);
      const frames = h.flush();
      expectNoErrors(frames);
      for (const id of [1, 3, 5])
        expect(headerBlocksOf(frames, id), `stream ${id}`).to.deep.equal([[':status', '204', 'x-kept', 'yes']]);
      h.finish();
    });

    it('leaves content-length out of a 1xx response', () => {
      const { h, stream } = answering();
      stream.sendHeaders([':status', '103', 'content-length', '0', 'link', '</a.css>; rel=preload']);
      stream.sendHeaders([':status', '200', 'content-length', '2']);
      stream.write(Buffer.from('ok'));
      stream.end();
      const frames = h.flush();
      expect(headerBlocksOf(frames, 1)).to.deep.equal([
        [':status', '103', 'link', '</a.css>; rel=preload'],
        [':status', '200', 'content-length', '2'],
      ]);
      expect(bodyOf(frames, 1).toString()).to.equal('ok');
      h.finish();
    });

    it('keeps the content-length an application gives a 304 response', () => {
      const { h, stream } = answering();
      stream.sendHeaders([':status', '304', 'content-length', '1234', 'etag', '"v1"'], true);
      const frames = h.flush();
      expectNoErrors(frames);
      expect(headerBlocksOf(frames, 1)).to.deep.equal([[':status', '304', 'content-length', '1234', 'etag', '"v1"']]);
      h.finish();
    });
  });
});
