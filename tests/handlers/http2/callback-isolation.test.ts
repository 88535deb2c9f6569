/**
 * An application callback that throws fails its own stream — RST_STREAM(INTERNAL_ERROR), its
 * `onClose` gets the error — and nothing else: no GOAWAY, the other streams and the next
 * requests on the connection go on (issue 18, item 2). Both roles, every callback, and over a
 * real socket against node:http2.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import type { Listener } from '../../../lib/index.js';
import { ErrorCode, FrameType } from '../../../handlers/http2/wire/constants.js';
import { listenHttp2 } from '../../../handlers/http2/api/bootstrap.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import type { Http2Stream, Http2StreamHandler } from '../../../handlers/http2/connection/http2-stream.js';
import { closeNode, connectNode, readNodeResponse } from './node-peer.js';
import { GET, OK, POST, bodyOf, clientHarness, expectRst, ofType, request, serverHarness } from './peer.js';

const boom = (): never => {
  throw new Error('application bug');
};

/** The error the stream's onClose got: INTERNAL_ERROR with what was thrown as its cause. */
function expectInternalError(error: unknown): void {
  expect(error).to.be.instanceOf(Http2StreamError);
  expect((error as Http2StreamError).errorCode).to.equal(ErrorCode.INTERNAL_ERROR);
  expect(((error as Http2StreamError).cause as Error).message).to.equal('application bug');
}

describe('HTTP/2 connection: a throwing callback fails only its stream', () => {
  const serverCallbacks: {
    name: string;
    handler: Http2StreamHandler;
    frames: (h: ReturnType<typeof serverHarness>) => Buffer[];
  }[] = [
    { name: 'onData', handler: { onData: boom }, frames: (h) => [h.peer.data(1, 'x')] },
    { name: 'onEnd', handler: { onEnd: boom }, frames: (h) => [h.peer.data(1, 'x', { endStream: true })] },
    {
      name: 'onTrailers',
      handler: { onTrailers: boom },
      frames: (h) => [h.peer.headers(1, ['x-t', '1'], { endStream: true })],
    },
  ];
  for (const { name, handler, frames } of serverCallbacks) {
    it(`server: ${name} throws → RST_STREAM(INTERNAL_ERROR) on that stream; another stream is answered`, () => {
      let closeError: unknown;
      const h = serverHarness({
        connection: {
          onStream: (stream) => {
            if (stream.id === 1) stream.handler = { ...handler, onClose: (_s, error) => (closeError = error) };
          },
        },
      });
      h.exchange(h.peer.headers(1, POST), h.peer.headers(3, GET, { endStream: true }));
      const written = h.exchange(...frames(h));
      expectRst(written, 1, ErrorCode.INTERNAL_ERROR);
      expectInternalError(closeError);
      const other = h.received[1].stream;
      other.sendHeaders(OK);
      other.write(Buffer.from('still here'));
      other.end();
      expect(bodyOf(h.flush(), 3).toString()).to.equal('still here');
      expect(h.connectionErrors).to.deep.equal([]);
      h.finish();
    });
  }

  it('server: a callback that throws something String() cannot print (a null-prototype object) still costs only its stream', () => {
    const h = serverHarness({
      connection: {
        onStream: (stream) => {
          stream.handler = {
            onData: () => {
              // eslint-disable-next-line @typescript-eslint/only-throw-error -- the test is about a thrown non-Error
              throw Object.create(null) as object;
            },
          };
        },
      },
    });
    h.exchange(h.peer.headers(1, POST));
    expectRst(h.exchange(h.peer.data(1, 'x')), 1, ErrorCode.INTERNAL_ERROR);
    expect(h.connectionErrors).to.deep.equal([]);
    h.finish();
  });

  it('server: onStream throws → that stream is reset, the next stream is served', () => {
    let calls = 0;
    const h = serverHarness({
      connection: {
        onStream: (stream) => {
          if (++calls === 1) boom();
          stream.sendHeaders(OK, true);
        },
      },
    });
    expectRst(h.exchange(h.peer.headers(1, GET, { endStream: true })), 1, ErrorCode.INTERNAL_ERROR);
    const frames = h.exchange(h.peer.headers(3, GET, { endStream: true }));
    expect(ofType(frames, FrameType.HEADERS).map((frame) => frame.streamId)).to.deep.equal([3]);
    expect(h.tc.isShutDown).to.equal(false);
    h.finish();
  });

  it('server: a write callback that throws (fired by the outgoing-frames task) resets its stream, not the connection', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
    const [first, second] = h.received;
    first.stream.sendHeaders(OK);
    first.stream.write(Buffer.from('framed, then the callback throws'), boom);
    second.stream.sendHeaders(OK);
    second.stream.write(Buffer.from('fine'));
    second.stream.end();
    const frames = h.flush();
    // The DATA frame is whole on the wire, then the reset.
    expect(bodyOf(frames, 1).toString()).to.equal('framed, then the callback throws');
    expectRst(frames, 1, ErrorCode.INTERNAL_ERROR);
    expect(bodyOf(frames, 3).toString()).to.equal('fine');
    expectInternalError(first.recorder.closeError);
    expect(h.connectionErrors).to.deep.equal([]);
    h.finish();
  });

  it('server: onDrain and the end callback that throw reset their stream only', () => {
    const h = serverHarness({ connection: { streamHighWaterMark: 10 } });
    h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
    const [first, second] = h.received;
    first.stream.handler = {
      ...first.recorder,
      onDrain: boom,
      onClose: first.recorder.onClose.bind(first.recorder),
    };
    first.stream.sendHeaders(OK);
    expect(first.stream.write(Buffer.alloc(100, 1))).to.equal(false);
    second.stream.sendHeaders(OK);
    second.stream.end(undefined, boom);
    const frames = h.flush();
    // Stream 3's END_STREAM (an empty DATA frame) went out before its callback threw; each
    // stream is reset on its own account, the connection is not.
    const resets = ofType(frames, FrameType.RST_STREAM).map((frame) => [frame.streamId, frame.errorCode]);
    expect(resets).to.have.deep.members([
      [1, ErrorCode.INTERNAL_ERROR],
      [3, ErrorCode.INTERNAL_ERROR],
    ]);
    expectInternalError(first.recorder.closeError);
    expect(ofType(frames, FrameType.GOAWAY)).to.have.length(0);
    expect(h.connectionErrors).to.deep.equal([]);
    h.finish();
  });

  it('server: onClose that throws is reported and nothing else happens', () => {
    const h = serverHarness({ connection: { onStream: (stream) => (stream.handler = { onClose: boom }) } });
    h.exchange(h.peer.headers(1, GET, { endStream: true }));
    h.received[0].stream.sendHeaders(OK, true);
    const frames = h.flush();
    expect(ofType(frames, FrameType.RST_STREAM)).to.have.length(0);
    expect(ofType(frames, FrameType.GOAWAY)).to.have.length(0);
    expect(h.conn.activeStreamCount).to.equal(0);
    h.finish();
  });

  const clientCallbacks: {
    name: string;
    handler: Http2StreamHandler;
    frames: (h: ReturnType<typeof clientHarness>) => Buffer[];
  }[] = [
    { name: 'onResponse', handler: { onResponse: boom }, frames: (h) => [h.peer.headers(1, OK)] },
    {
      name: 'onInformational',
      handler: { onInformational: boom },
      frames: (h) => [h.peer.headers(1, [':status', '103'])],
    },
    { name: 'onData', handler: { onData: boom }, frames: (h) => [h.peer.headers(1, OK), h.peer.data(1, 'x')] },
  ];
  for (const { name, handler, frames } of clientCallbacks) {
    it(`client: ${name} throws → RST_STREAM(INTERNAL_ERROR) on that request; the next request completes`, () => {
      const h = clientHarness();
      let closeError: unknown;
      h.conn.request(GET, {
        isEndStream: true,
        handler: { ...handler, onClose: (_s: Http2Stream, error) => (closeError = error) },
      });
      h.flush();
      expectRst(h.exchange(...frames(h)), 1, ErrorCode.INTERNAL_ERROR);
      expectInternalError(closeError);
      const next = request(h);
      h.flush();
      h.exchange(h.peer.headers(3, OK), h.peer.data(3, 'ok', { endStream: true }));
      expect(next.recorder.closeError).to.equal(null);
      expect(h.connectionErrors).to.deep.equal([]);
      h.finish();
    });
  }
});

describe('a throwing low-level handler over a real socket (node:http2 client)', () => {
  let listener: Listener;
  let client: http2.ClientHttp2Session;

  before(async () => {
    listener = await listenHttp2({
      host: '127.0.0.1',
      port: 0,
      http2: {
        onStream: (stream, headers) => {
          const path = headers[headers.indexOf(':path') + 1];
          stream.handler = {
            onEnd: () => {
              if (path === '/throw') boom();
              stream.sendHeaders(OK);
              stream.write(Buffer.from(`served ${path}`));
              stream.end();
            },
          };
        },
      },
    });
    client = await connectNode(`http://127.0.0.1:${listener.port}`);
  });
  after(async () => {
    await closeNode(client);
    await listener.close();
  });

  it('resets the throwing stream with INTERNAL_ERROR and serves the next request on the same connection', async () => {
    const failed = await readNodeResponse(client.request({ ':path': '/throw' }, { endStream: true }));
    expect(failed.rstCode).to.equal(http2.constants.NGHTTP2_INTERNAL_ERROR);
    const served = await readNodeResponse(client.request({ ':path': '/next' }, { endStream: true }));
    expect(served.headers[':status']).to.equal(200);
    expect(served.body.toString()).to.equal('served /next');
    expect(client.destroyed).to.equal(false);
  });
});
