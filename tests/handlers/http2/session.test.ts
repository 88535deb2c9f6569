/**
 * The convenient HTTP/2 layer — `connect` / `Http2Session` and `createServer` / `ServerStream`
 * — over real loopback sockets, against `node:http2` and against itself.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { ErrorCode, Http2StreamError, SluiceError } from '../../../handlers/index.js';
import { connect } from '../../../handlers/http2/api/session.js';
import { createServer, type Http2ServerListener, type ServerStream } from '../../../handlers/http2/api/server.js';
import {
  MiB,
  closeNode,
  connectNode,
  expectMessagePoolDrained,
  hashChunks,
  payload64,
  readNodeResponse,
  rejection,
  slices,
  unhandledRejections,
  useNodeServerSession,
} from './node-peer.js';
import { ioTurns, until } from '../../support/waiting.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { sha256 } from '../../support/hashing.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;
// dist/tests/handlers/http2 → the fixtures in the source tree.
const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);

describe('HTTP/2 convenient client (connect) against node:http2', function () {
  this.timeout(30_000);
  const closedStreams: { path: string; rstCode: number }[] = [];
  const openedPaths: string[] = [];
  const uploads: { path: string; body: string }[] = [];

  function route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = String(headers[':path']);
    openedPaths.push(path);
    stream.on('close', () => closedStreams.push({ path, rstCode: stream.rstCode ?? 0 }));
    if (path === '/never') {
      stream.resume(); // holds the response until the client gives up
    } else if (path === '/stream') {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.write(Buffer.alloc(32 * 1024, 7)); // and never ends
    } else if (path === '/collect') {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        uploads.push({ path, body: Buffer.concat(chunks).toString() });
        stream.respond({ ':status': 200 });
        stream.end(String(Buffer.concat(chunks).length));
      });
    } else if (path === '/head') {
      stream.resume();
      stream.respond({ ':status': 200, 'content-length': '1234', 'content-type': 'text/plain' }, { endStream: true });
    } else if (path === '/early-hints') {
      stream.resume();
      stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' });
      stream.respond({ ':status': 200, 'set-cookie': ['a=1', 'b=2'] });
      stream.end('final');
    } else if (path === '/big') {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(payload64().subarray(0, 4 * MiB));
    } else {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(`ok ${path}`);
    }
  }

  const peers = useNodeServerSession(route, true);

  it('fills in :method, :scheme, :authority and :path and reads the body as text', async () => {
    const response = await peers.session.request();
    expect(response.status).to.equal(200);
    expect(response.headers[':status']).to.equal('200');
    expect(await response.body.text()).to.equal('ok /');
    expect(await response.trailers).to.deep.equal({});
    expect(response.streamId % 2).to.equal(1);
  });

  it('aborting before the response resets the stream with CANCEL (node sees code 8) and rejects with the reason', async () => {
    const controller = new AbortController();
    const response = peers.session.request({ ':path': '/never' }, { signal: controller.signal });
    await until(() => openedPaths.includes('/never'), 'node to receive the request');
    const reason = new Error('user gave up');
    controller.abort(reason);
    expect(await rejection(response)).to.equal(reason);
    await until(() => closedStreams.some((closed) => closed.path === '/never'), 'node to see the reset');
    expect(closedStreams.find((closed) => closed.path === '/never')!.rstCode).to.equal(NGHTTP2_CANCEL);
  });

  it('aborting while the body is read rejects the read with the reason; node sees CANCEL', async () => {
    const controller = new AbortController();
    const response = await peers.session.request({ ':path': '/stream' }, { signal: controller.signal });
    const reader = response.body[Symbol.asyncIterator]();
    expect((await reader.next()).done).to.equal(false);
    controller.abort();
    const error = await rejection(
      reader
        .next()
        .then(() => reader.next())
        .then(() => reader.next()),
    );
    expect((error as Error).name).to.equal('AbortError');
    expect(await rejection(response.trailers)).to.equal(error);
    await until(() => closedStreams.some((closed) => closed.path === '/stream'), 'node to see the reset');
    expect(closedStreams.find((closed) => closed.path === '/stream')!.rstCode).to.equal(NGHTTP2_CANCEL);
  });

  it('an already aborted signal rejects at once without opening a stream', async () => {
    const before = peers.session.connection.gatherStatistics().messagesWritten;
    const error = await rejection(peers.session.request({ ':path': '/not-sent' }, { signal: AbortSignal.abort() }));
    expect((error as Error).name).to.equal('AbortError');
    expect(peers.session.connection.gatherStatistics().messagesWritten).to.equal(before);
  });

  it('an aborted signal without a reason rejects with HTTP2_ABORTED', async () => {
    // AbortController always sets a reason; signals made by other code may not.
    const signal = {
      aborted: true,
      reason: undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    } as unknown as AbortSignal;
    const error = await rejection(peers.session.request({ ':path': '/not-sent' }, { signal }));
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal('HTTP2_ABORTED');
  });

  it('sends an async-iterable body of strings and bytes in order', async () => {
    async function* parts(): AsyncGenerator<string | Uint8Array> {
      yield 'alpha,';
      await ioTurns(1);
      yield Buffer.from('beta,');
      yield new Uint8Array([0x67, 0x61, 0x6d, 0x6d, 0x61]); // "gamma"
    }
    const response = await peers.session.request({ ':path': '/collect' }, { method: 'POST', body: parts() });
    expect(await response.body.text()).to.equal('16');
    expect(uploads.at(-1)!.body).to.equal('alpha,beta,gamma');
  });

  it('sends a sync iterable body and a flat header list', async () => {
    const response = await peers.session.request([':method', 'PUT', ':path', '/collect', 'x-flat', 'yes'], {
      body: ['one', 'two'],
    });
    expect(await response.body.text()).to.equal('6');
    expect(uploads.at(-1)!.body).to.equal('onetwo');
  });

  it('a body source that throws rejects the request with its error and resets the stream with CANCEL', async () => {
    const failure = new Error('source broke');
    async function* failing(): AsyncGenerator<string> {
      yield 'partial';
      await ioTurns(2);
      throw failure;
    }
    const before = closedStreams.length;
    expect(await rejection(peers.session.request({ ':path': '/never' }, { method: 'POST', body: failing() }))).to.equal(
      failure,
    );
    await until(() => closedStreams.length > before, 'node to see the reset');
    expect(closedStreams.at(-1)!.rstCode).to.equal(NGHTTP2_CANCEL);
  });

  it('leaving for-await early resets the response stream with CANCEL', async () => {
    const response = await peers.session.request({ ':path': '/big' });
    const before = closedStreams.length;
    let firstChunkLength = 0;
    for await (const chunk of response.body) {
      firstChunkLength = chunk.length;
      break;
    }
    expect(firstChunkLength, 'a first chunk before leaving').to.be.above(0);
    await until(() => closedStreams.length > before, 'node to see the stream close');
    expect(closedStreams.at(-1)!.path).to.equal('/big');
    expect(closedStreams.at(-1)!.rstCode).to.equal(NGHTTP2_CANCEL);
    expect(response.body.bodyUsed).to.equal(true);
  });

  it('a HEAD response has headers and an empty body whatever content-length says', async () => {
    const response = await peers.session.request({ ':path': '/head' }, { method: 'HEAD' });
    expect(response.status).to.equal(200);
    expect(response.headers['content-length']).to.equal('1234');
    expect((await response.body.bytes()).length).to.equal(0);
  });

  it('passes 1xx informational responses to onInformational before the final response', async () => {
    const informational: { status: number; link: unknown }[] = [];
    const response = await peers.session.request(
      { ':path': '/early-hints' },
      { onInformational: (status, headers) => informational.push({ status, link: headers['link'] }) },
    );
    expect(informational).to.deep.equal([{ status: 103, link: '</style.css>; rel=preload' }]);
    expect(response.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(await response.body.text()).to.equal('final');
  });

  it('a body is read once: a second reader gets HTTP2_BODY_USED', async () => {
    const response = await peers.session.request({ ':path': '/once' });
    expect(await response.body.text()).to.equal('ok /once');
    const error = await rejection(response.body.text());
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal('HTTP2_BODY_USED');
  });

  it('rejects a malformed header list with HTTP2_INVALID_HEADERS and keeps the session usable', async () => {
    const error = await rejection(peers.session.request({ ':path': '/x', connection: 'keep-alive' }));
    expect((error as SluiceError).code).to.equal('HTTP2_INVALID_HEADERS');
    expect((await peers.session.request({ ':path': '/still-fine' })).status).to.equal(200);
  });

  it('ping resolves with a round-trip time', async () => {
    expect(await peers.session.ping())
      .to.be.a('number')
      .and.at.least(0);
  });

  it('rejects unsupported URL schemes', async () => {
    const error = await rejection(connect('ftp://127.0.0.1:21/'));
    expect((error as SluiceError).code).to.equal('HTTP2_UNSUPPORTED_SCHEME');
  });

  it('a request on a closed session is refused retryably', async () => {
    const closing = await connect(peers.node.url);
    await closing.close();
    expect(closing.isClosed).to.equal(true);
    const error = await rejection(closing.request({ ':path': '/late' }));
    expect(error).to.be.instanceOf(Http2StreamError);
    expect((error as Http2StreamError).retryable).to.equal(true);
    expect((error as Http2StreamError).errorCode).to.equal(ErrorCode.REFUSED_STREAM);
  });
});

describe('HTTP/2 convenient server (createServer)', function () {
  this.timeout(30_000);
  const handlerErrors: unknown[] = [];
  const unhandled = unhandledRejections();
  const paused = { stream: null as ServerStream | null, framed: 0, isDone: false };
  const lateWrite = { error: null as unknown, isClosedError: false };

  async function route(stream: ServerStream): Promise<void> {
    switch (stream.path) {
      case '/echo': {
        stream.respond(200, { 'content-type': 'application/octet-stream' });
        for await (const chunk of stream.body) await stream.write(chunk);
        const trailers = await stream.trailers;
        await stream.end(undefined, { 'x-echo-trailer': String(trailers['x-request-trailer']) });
        return;
      }
      case '/head': {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '11' });
        await stream.write('not sent');
        await stream.end('not sent');
        return;
      }
      case '/hints': {
        stream.informational(103, { link: '</app.js>; rel=preload' });
        await stream.end('after hints');
        return;
      }
      case '/throw':
        throw new Error('handler threw');
      case '/reject-after-respond':
        stream.respond(200);
        await stream.write('partial');
        throw new Error('handler failed mid-response');
      case '/paused-client': {
        paused.stream = stream;
        stream.respond(200);
        for (const chunk of slices(payload64().subarray(0, 8 * MiB), 16 * 1024)) {
          await stream.write(chunk);
          paused.framed += chunk.length;
        }
        await stream.end();
        paused.isDone = true;
        return;
      }
      case '/write-after-reset': {
        stream.respond(200);
        await stream.closed;
        lateWrite.error = await rejection(stream.write('too late'));
        lateWrite.isClosedError = stream.isClosed;
        void stream.write('ignored, never awaited');
        void stream.end();
        return;
      }
      case '/ignore-body':
        await stream.end('answered without reading');
        return;
      default:
        await stream.end(`${stream.method} ${stream.path} ${stream.authority}`);
    }
  }

  const server = createServer({ onError: (error) => handlerErrors.push(error) }, route);
  let listener: Http2ServerListener;
  let url: string;
  let client: http2.ClientHttp2Session;

  before(async () => {
    unhandled.start();
    listener = await server.listen({ port: 0 });
    url = `http://127.0.0.1:${listener.port}`;
    client = await connectNode(url);
  });

  after(async () => {
    await closeNode(client);
    await server.close();
    expect(unhandled.stop()).to.deep.equal([]);
    await expectMessagePoolDrained();
  });

  it('sluice client ↔ sluice server: streams 8 MiB through /echo with trailers both ways', async () => {
    const session = await connect(url);
    try {
      const data = payload64().subarray(0, 8 * MiB);
      const response = await session.request(
        { 'content-type': 'application/octet-stream' },
        { method: 'POST', path: '/echo', body: slices(data, 100_000), trailers: { 'x-request-trailer': 'ping' } },
      );
      expect(await hashChunks(response.body)).to.deep.equal({ sha: sha256(data), length: data.length });
      expect((await response.trailers)['x-echo-trailer']).to.equal('ping');
    } finally {
      await session.close();
    }
  });

  it('gives the handler method, path, authority and headers', async () => {
    const response = await readNodeResponse(
      client.request({ ':path': '/info?x=1', 'x-custom': 'v' }, { endStream: true }),
    );
    expect(response.body.toString()).to.equal(`GET /info?x=1 127.0.0.1:${listener.port}`);
  });

  it('a response to HEAD carries no body: writes are discarded without error', async () => {
    const response = await readNodeResponse(
      client.request({ ':method': 'HEAD', ':path': '/head' }, { endStream: true }),
    );
    expect(response.headers[':status']).to.equal(200);
    expect(response.headers['content-length']).to.equal('11');
    expect(response.body.length).to.equal(0);
    expect(response.rstCode).to.equal(0);
  });

  it('sends 1xx informational responses before the final one', async () => {
    const stream = client.request({ ':path': '/hints' }, { endStream: true });
    const informational: http2.IncomingHttpHeaders[] = [];
    stream.on('headers', (headers) => informational.push(headers));
    const response = await readNodeResponse(stream);
    expect(informational.map((headers) => headers[':status'])).to.deep.equal([103]);
    expect(informational[0]['link']).to.equal('</app.js>; rel=preload');
    expect(response.body.toString()).to.equal('after hints');
  });

  it('a handler that throws before responding answers 500 and reports the error', async () => {
    const before = handlerErrors.length;
    const response = await readNodeResponse(client.request({ ':path': '/throw' }, { endStream: true }));
    expect(response.headers[':status']).to.equal(500);
    expect((handlerErrors[before] as Error).message).to.equal('handler threw');
  });

  it('a handler that fails after responding resets the stream with INTERNAL_ERROR', async () => {
    const response = await readNodeResponse(client.request({ ':path': '/reject-after-respond' }, { endStream: true }));
    expect(response.rstCode).to.equal(NGHTTP2_INTERNAL_ERROR);
  });

  it('write() after the client reset rejects (handled) and later writes are ignored', async () => {
    lateWrite.error = null;
    const stream = client.request({ ':path': '/write-after-reset' }, { endStream: true });
    stream.on('error', () => undefined);
    stream.on('response', () => stream.close(NGHTTP2_CANCEL));
    await until(() => lateWrite.error !== null, 'the late write');
    expect(lateWrite.isClosedError).to.equal(true);
    expect(lateWrite.error).to.be.instanceOf(Http2StreamError);
    expect((lateWrite.error as Http2StreamError).errorCode).to.equal(ErrorCode.CANCEL);
  });

  it('answering without reading the request body stops the upload with RST_STREAM(NO_ERROR)', async () => {
    const stream = client.request({ ':method': 'POST', ':path': '/ignore-body' });
    stream.write(payload64().subarray(0, 4 * MiB));
    const response = await readNodeResponse(stream);
    expect(response.headers[':status']).to.equal(200);
    expect(response.body.toString()).to.equal('answered without reading');
    expect(response.rstCode).to.equal(0);
  });

  it('awaiting write() holds the handler while a paused client pushes back: bufferedBytes stays bounded', async () => {
    const pausedClient = await connectNode(url);
    try {
      paused.stream = null;
      paused.framed = 0;
      paused.isDone = false;
      const stream = pausedClient.request({ ':path': '/paused-client' }, { endStream: true });
      stream.pause();
      await until(() => paused.stream !== null && paused.framed > 0, 'the first write');
      await ioTurns(100);
      // node's 64 KiB stream window plus a chunk: the rest waits in our write, not in memory.
      const bound = 64 * 1024 + 16 * 1024;
      expect(paused.isDone).to.equal(false);
      expect(paused.framed).to.be.at.most(bound);
      expect(paused.stream!.bufferedBytes).to.be.at.most(64 * 1024 + 16 * 1024);
      stream.resume();
      expect(await hashChunks(stream)).to.deep.equal({
        sha: sha256(payload64().subarray(0, 8 * MiB)),
        length: 8 * MiB,
      });
      expect(paused.isDone).to.equal(true);
    } finally {
      await closeNode(pausedClient);
    }
  });
});

describe('HTTP/2 convenient layer over TLS (https:)', function () {
  this.timeout(30_000);
  const ca = readFileSync(new URL('ca-cert.pem', fixtures));
  const cert = readFileSync(new URL('server-cert.pem', fixtures));
  const key = readFileSync(new URL('server-key.pem', fixtures));

  it('connect(https://…) negotiates h2 with a node:http2 secure server', async () => {
    const server = http2.createSecureServer({ cert, key });
    server.on('stream', (stream, headers) => {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(`secure ${String(headers[':scheme'])} ${String(headers[':authority'])}`);
    });
    const port = await listenOnLoopback(server);
    const session = await connect(`https://127.0.0.1:${port}`, { tls: { ca, servername: 'localhost' } });
    try {
      const response = await session.request({ ':path': '/' });
      expect(await response.body.text()).to.equal(`secure https 127.0.0.1:${port}`);
    } finally {
      await session.close();
      await closeServer(server);
    }
  });

  it('createServer({ tls }) serves a node:http2 client over TLS and closes gracefully', async () => {
    const server = createServer({ tls: { cert, key } }, (stream) => stream.end(`secure ${stream.scheme}`));
    const listener = await server.listen({ port: 0 });
    const client = http2.connect(`https://127.0.0.1:${listener.port}`, { ca, servername: 'localhost' });
    client.on('error', () => undefined);
    try {
      const response = await readNodeResponse(client.request({ ':path': '/' }, { endStream: true }));
      expect(response.body.toString()).to.equal('secure https');
    } finally {
      await closeNode(client);
      await listener.close();
    }
  });
});
