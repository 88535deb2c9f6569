/**
 * The convenient HTTP/2 layer for streaming protocols (issue 18, items 1 and 9–12), over real
 * loopback sockets against `node:http2`: request options checked before anything is sent,
 * trailers-only responses, raw trailers, the writable request side of `session.stream`, and a
 * server stream the peer reset reporting the reset from every call.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import { ErrorCode, Http2StreamError, SluiceError } from '../../../handlers/index.js';
import { connect } from '../../../handlers/http2/api/session.js';
import { createServer, type Http2ServerListener, type ServerStream } from '../../../handlers/http2/api/server.js';
import { MiB, closeNode, connectNode, payload64, rejection, slices, useNodeServerSession } from './node-peer.js';
import { ioTurns, until } from '../../support/waiting.js';

const { NGHTTP2_CANCEL } = http2.constants;

function expectCode(error: unknown, code: string): void {
  expect(error).to.be.instanceOf(SluiceError);
  expect((error as SluiceError).code).to.equal(code);
}

describe('HTTP/2 convenient client for streaming protocols, against node:http2', function () {
  this.timeout(20_000);
  const openedPaths: string[] = [];
  const held: { stream: http2.ServerHttp2Stream | null; received: number } = { stream: null, received: 0 };

  function route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = String(headers[':path']);
    openedPaths.push(path);
    if (path === '/trailers-only') {
      // gRPC's Trailers-Only: one HEADERS frame with END_STREAM.
      stream.resume();
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' },
        { endStream: true },
      );
    } else if (path === '/repeated-trailers') {
      stream.resume();
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-list': ['a, b', 'c'], 'grpc-status': '0' }));
      stream.end('body');
    } else if (path === '/echo') {
      // Echoes every chunk as it arrives; the request's trailers come back with an x-echo- prefix.
      let requestTrailers: http2.IncomingHttpHeaders = {};
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('trailers', (trailers) => (requestTrailers = trailers));
      stream.on('data', (chunk: Buffer) => stream.write(chunk));
      stream.on('end', () => stream.end());
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'x-echo-checksum': String(requestTrailers['x-checksum']) }),
      );
    } else if (path === '/hold') {
      // Reads nothing until the test resumes it: the client's writes must wait.
      stream.pause();
      held.stream = stream;
      stream.on('data', (chunk: Buffer) => (held.received += chunk.length));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(String(held.received));
      });
    } else if (path === '/reset') {
      stream.on('data', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    } else {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(`ok ${path}`);
    }
  }

  const peers = useNodeServerSession(route);

  describe('request options are checked before anything is sent (item 1)', () => {
    const table: { name: string; init: unknown; code: string }[] = [
      { name: 'a signal that is a plain object', init: { signal: {} }, code: 'HTTP2_INVALID_OPTIONS' },
      { name: 'a signal that is a string', init: { signal: 'stop' }, code: 'HTTP2_INVALID_OPTIONS' },
      { name: 'options that are null', init: null, code: 'HTTP2_INVALID_OPTIONS' },
      { name: 'a numeric method', init: { method: 5 }, code: 'HTTP2_INVALID_OPTIONS' },
      { name: 'a path that is an object', init: { path: { a: 1 } }, code: 'HTTP2_INVALID_OPTIONS' },
      {
        name: 'an onInformational that is not a function',
        init: { onInformational: true },
        code: 'HTTP2_INVALID_OPTIONS',
      },
      { name: 'trailers that are a number', init: { trailers: 7 }, code: 'HTTP2_INVALID_OPTIONS' },
      { name: 'a numeric body', init: { method: 'POST', body: 42 }, code: 'HTTP2_INVALID_BODY' },
    ];
    for (const { name, init, code } of table) {
      it(`rejects ${name} with ${code}, sends nothing, and the next request on the session succeeds`, async () => {
        const before = openedPaths.length;
        const error = await rejection(peers.session.request({ ':path': '/bad' }, init as never));
        expectCode(error, code);
        const response = await peers.session.request({ ':path': '/after-bad' });
        expect(await response.body.text()).to.equal('ok /after-bad');
        // Only the good request reached the server; the connection is the same one.
        expect(openedPaths.slice(before)).to.deep.equal(['/after-bad']);
        expect(peers.session.isClosed).to.equal(false);
      });
    }

    it('session.stream throws HTTP2_INVALID_OPTIONS synchronously for a bad signal and for a body', () => {
      expect(() => peers.session.stream({ ':path': '/bad' }, { signal: {} as AbortSignal }))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_OPTIONS');
      expect(() => peers.session.stream({ ':path': '/bad' }, { body: 'x' } as never))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_OPTIONS');
    });
  });

  describe('trailers (items 9 and 10)', () => {
    it('a trailers-only response sets isTrailersOnly and resolves trailers to its fields', async () => {
      const response = await peers.session.request({ ':path': '/trailers-only' });
      expect(response.isTrailersOnly).to.equal(true);
      expect(response.status).to.equal(200);
      expect(response.headers['grpc-status']).to.equal('5');
      const trailers = await response.trailers;
      expect(trailers).to.include({
        'content-type': 'application/grpc',
        'grpc-status': '5',
        'grpc-message': 'not found',
      });
      expect(trailers[':status']).to.equal(undefined);
      const raw = await response.rawTrailers;
      expect(raw).to.include.members(['grpc-status', '5', 'grpc-message', 'not found']);
      expect(raw).not.to.include(':status');
      expect(await response.body.text()).to.equal('');
    });

    it('a response with a body is not trailers-only and has empty trailers when none came', async () => {
      const response = await peers.session.request({ ':path': '/plain' });
      expect(response.isTrailersOnly).to.equal(false);
      expect(await response.body.text()).to.equal('ok /plain');
      expect(await response.trailers).to.deep.equal({});
      expect(await response.rawTrailers).to.deep.equal([]);
    });

    it('rawTrailers keeps repeated trailer fields apart, in order', async () => {
      const response = await peers.session.request({ ':path': '/repeated-trailers' });
      expect(await response.body.text()).to.equal('body');
      const raw = await response.rawTrailers;
      const listed: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if (raw[i] === 'x-list') listed.push(raw[i + 1]);
      // Joined, 'a, b' and 'c' could not be told from 'a', 'b', 'c'.
      expect(listed).to.deep.equal(['a, b', 'c']);
      expect((await response.trailers)['grpc-status']).to.equal('0');
      expect(response.isTrailersOnly).to.equal(false);
    });
  });

  describe('session.stream: a writable request side (item 11)', () => {
    it('interleaves both directions: write, read the echo, write again, end with trailers', async () => {
      const call = peers.session.stream(
        { 'content-type': 'application/octet-stream' },
        { method: 'POST', path: '/echo' },
      );
      await call.write('first');
      // The response resolves at its headers while the request is still open.
      const response = await call.response;
      expect(response.status).to.equal(200);
      expect(call.isWritable).to.equal(true);
      const reader = response.body[Symbol.asyncIterator]();
      expect(String((await reader.next()).value)).to.equal('first');
      await call.write(Buffer.from('second'));
      expect(String((await reader.next()).value)).to.equal('second');
      await call.end({ 'x-checksum': 'abc' });
      expect(call.isWritable).to.equal(false);
      expect((await reader.next()).done).to.equal(true);
      expect(await response.trailers).to.deep.equal({ 'x-echo-checksum': 'abc' });
    });

    it('write after end rejects with HTTP2_WRITE_AFTER_END and so does a second end', async () => {
      const call = peers.session.stream({}, { method: 'POST', path: '/echo' });
      await call.end();
      expectCode(await rejection(call.write('late')), 'HTTP2_WRITE_AFTER_END');
      expectCode(await rejection(call.end()), 'HTTP2_WRITE_AFTER_END');
      const response = await call.response;
      expect(await response.body.text()).to.equal('');
    });

    it('write waits while the server does not read: what is buffered stays bounded', async () => {
      held.stream = null;
      held.received = 0;
      const total = 2 * MiB;
      const chunkSize = 16 * 1024;
      const call = peers.session.stream({}, { method: 'POST', path: '/hold' });
      let written = 0;
      let maxBuffered = 0;
      const writing = (async () => {
        for (const chunk of slices(payload64().subarray(0, total), chunkSize)) {
          await call.write(chunk);
          written += chunk.length;
          maxBuffered = Math.max(maxBuffered, call.bufferedBytes);
        }
        await call.end();
      })();
      await until(() => held.stream !== null, 'the held stream');
      await ioTurns(50);
      // Without back-pressure every write would have resolved by now.
      expect(written).to.be.below(total);
      expect(maxBuffered).to.be.at.most(64 * 1024 + chunkSize);
      held.stream!.resume();
      await writing;
      const response = await call.response;
      expect(await response.body.text()).to.equal(String(total));
    });

    it('a server reset reaches response, write and end with the same stream error', async () => {
      const call = peers.session.stream({}, { method: 'POST', path: '/reset' });
      await call.write('provoke');
      const failure = await rejection(call.response);
      expect(failure).to.be.instanceOf(Http2StreamError);
      expect((failure as Http2StreamError).errorCode).to.equal(ErrorCode.INTERNAL_ERROR);
      expect(await rejection(call.write('more'))).to.equal(failure);
      expect(await rejection(call.end())).to.equal(failure);
      expect(call.isWritable).to.equal(false);
    });

    it('an abort signal resets the stream with CANCEL and write rejects with its reason', async () => {
      const controller = new AbortController();
      const call = peers.session.stream({}, { method: 'POST', path: '/echo', signal: controller.signal });
      await call.write('x');
      await call.response;
      const reason = new Error('user left');
      controller.abort(reason);
      await until(() => !call.isWritable, 'the stream to close');
      expect(await rejection(call.write('y'))).to.equal(reason);
    });

    it('on a closed session the stream is refused retryably through its promises', async () => {
      const other = await connect(peers.node.url);
      await other.close();
      const call = other.stream({ ':path': '/x' });
      const error = await rejection(call.response);
      expect(error).to.be.instanceOf(Http2StreamError);
      expect((error as Http2StreamError).retryable).to.equal(true);
      expect(await rejection(call.write('x'))).to.equal(error);
    });
  });
});

describe('ServerStream on a stream the peer reset (item 12)', function () {
  this.timeout(20_000);
  const results: { path: string; errors: unknown[] }[] = [];
  let listener: Http2ServerListener;
  let client: http2.ClientHttp2Session;

  const server = createServer(async (stream: ServerStream) => {
    stream.respond(200);
    await stream.closed;
    const errors: unknown[] = [];
    if (stream.path === '/end-first') {
      errors.push(await rejection(stream.end()));
      errors.push(await rejection(stream.write('late')));
      errors.push(await rejection(stream.end('late')));
    } else {
      errors.push(await rejection(stream.write('late')));
      errors.push(await rejection(stream.end('late')));
      errors.push(await rejection(stream.end()));
    }
    results.push({ path: stream.path, errors });
  });

  before(async () => {
    listener = await server.listen({ host: '127.0.0.1', port: 0 });
    client = await connectNode(`http://127.0.0.1:${listener.port}`);
  });
  after(async () => {
    await closeNode(client);
    await server.close();
  });

  for (const path of ['/end-first', '/write-first']) {
    it(`every call reports the reset (CANCEL), end() included (${path})`, async () => {
      const request = client.request({ ':path': path }, { endStream: true });
      request.on('error', () => undefined);
      request.on('response', () => request.close(NGHTTP2_CANCEL));
      await until(() => results.some((result) => result.path === path), 'the handler to finish');
      const { errors } = results.find((result) => result.path === path)!;
      expect(errors).to.have.length(3);
      for (const error of errors) {
        expect(error).to.be.instanceOf(Http2StreamError);
        expect((error as Http2StreamError).code).to.equal('HTTP2_CANCEL');
        expect((error as Http2StreamError).errorCode).to.equal(ErrorCode.CANCEL);
      }
    });
  }
});
