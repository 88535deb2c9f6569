/**
 * Integration over real loopback sockets against `node:http2`, both directions: the sluice
 * client (convenient layer) against a node server, and a node client against the sluice server.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import { ErrorCode, Http2StreamError } from '../../../handlers/index.js';
import { connect, type Http2Session } from '../../../handlers/http2/api/session.js';
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
  runConcurrently,
  slices,
  startNodeServer,
  writeAll,
  type NodeServer,
} from './node-peer.js';
import { ioTurns, until } from '../../support/waiting.js';
import { sha256 } from '../../support/hashing.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
/**
 * A 100 KiB header block — more than six 16 KiB frames, so it needs CONTINUATION — as five
 * 20 KiB fields (nghttp2 refuses a single field above 64 KiB with COMPRESSION_ERROR).
 */
const BIG_HEADERS: Record<string, string> = Object.fromEntries(
  Array.from({ length: 5 }, (_, index) => [`x-big-${index}`, randomBytes(15 * 1024).toString('base64')]),
);
const BIG_HEADERS_LENGTH = Object.values(BIG_HEADERS).reduce((sum, value) => sum + value.length, 0);

function bigHeadersLength(headers: Record<string, unknown>): number {
  let length = 0;
  for (const name of Object.keys(BIG_HEADERS)) {
    const value = headers[name];
    if (typeof value === 'string') length += value.length;
  }
  return length;
}

function expectBigHeaders(headers: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(BIG_HEADERS)) expect(headers[name]).to.equal(value);
}
const LARGE_HEADER_SETTINGS = { maxHeaderListSize: 4 * MiB };
const SLOW_WINDOW = 64 * 1024;
const SLOW_TOTAL = 8 * MiB;
const SLOW_CHUNK = 16 * 1024;
/** What node may hold beyond the receiver's window: its stream buffer (16 KiB) and a chunk or two. */
const SENDER_MARGIN = 64 * 1024;

function header(headers: http2.IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

describe('sluice client ↔ node:http2 server', function () {
  this.timeout(60_000);
  const held: http2.ServerHttp2Stream[] = [];
  const slowSender = { handed: 0, stream: null as http2.ServerHttp2Stream | null };
  let node: NodeServer;
  let session: Http2Session;

  /** The node server's routes. It always reads the request: node resets unread ones with NO_ERROR before END_STREAM. */
  function route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = header(headers, ':path');
    if (path.startsWith('/small')) {
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`ok ${path}`);
    } else if (path === '/upload') {
      void hashChunks(stream).then(({ sha, length }) => {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ sha, length }));
      });
    } else if (path.startsWith('/download/')) {
      stream.resume();
      stream.respond({ ':status': 200 });
      void writeAll(stream, payload64().subarray(0, Number(path.slice('/download/'.length))), 256 * 1024);
    } else if (path === '/trailers') {
      let requestTrailers: http2.IncomingHttpHeaders = {};
      stream.on('trailers', (trailers) => (requestTrailers = trailers));
      void hashChunks(stream).then(({ length }) => {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () =>
          stream.sendTrailers({ 'x-echo': header(requestTrailers, 'x-request-trailer'), 'x-length': String(length) }),
        );
        stream.end('body before trailers');
      });
    } else if (path === '/big-header') {
      stream.resume();
      stream.respond({ ':status': 200, ...BIG_HEADERS, 'x-request-big-length': String(bigHeadersLength(headers)) });
      stream.end('ok');
    } else if (path === '/reset') {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.write(Buffer.alloc(64 * 1024, 1), () => stream.close(NGHTTP2_CANCEL));
    } else if (path === '/hold') {
      stream.resume();
      held.push(stream);
    } else if (path === '/slow') {
      stream.resume();
      stream.respond({ ':status': 200 });
      slowSender.handed = 0;
      slowSender.stream = stream;
      void writeAll(
        stream,
        payload64().subarray(0, SLOW_TOTAL),
        SLOW_CHUNK,
        (written) => (slowSender.handed = written),
      );
    } else {
      stream.respond({ ':status': 404 });
      stream.end();
    }
  }

  before(async () => {
    node = await startNodeServer({ settings: LARGE_HEADER_SETTINGS, maxSendHeaderBlockLength: 4 * MiB }, route);
    session = await connect(node.url);
  });

  after(async () => {
    await session.close();
    await node.close();
    await expectMessagePoolDrained();
  });

  it('completes 1000 small requests on one connection with 100 in flight', async () => {
    let completed = 0;
    await runConcurrently(1000, 100, async (index) => {
      const response = await session.request({ ':path': `/small/${index}` });
      expect(response.status).to.equal(200);
      expect(await response.body.text()).to.equal(`ok /small/${index}`);
      completed++;
    });
    expect(completed).to.equal(1000);
    expect(node.sessions.size).to.equal(1);
  });

  it('uploads 64 MiB with default windows (SHA-256 matches)', async () => {
    const data = payload64();
    const response = await session.request({}, { method: 'POST', path: '/upload', body: data });
    expect(await response.body.json()).to.deep.equal({ sha: sha256(data), length: data.length });
  });

  it('downloads 64 MiB with default windows (SHA-256 matches)', async () => {
    const data = payload64();
    const response = await session.request({ ':path': `/download/${data.length}` });
    expect(await hashChunks(response.body)).to.deep.equal({ sha: sha256(data), length: data.length });
  });

  it('uploads 64 MiB through a 1 KiB stream window (node initialWindowSize 1024)', async () => {
    const tinyNode = await startNodeServer({ settings: { initialWindowSize: 1024 } }, route);
    const tinySession = await connect(tinyNode.url);
    try {
      const data = payload64();
      const response = await tinySession.request({}, { method: 'POST', path: '/upload', body: slices(data, MiB) });
      expect(await response.body.json()).to.deep.equal({ sha: sha256(data), length: data.length });
    } finally {
      await tinySession.close();
      await tinyNode.close();
    }
  });

  it('downloads 64 MiB through a 1 KiB stream window (sluice initialStreamWindowSize 1024)', async () => {
    const tinySession = await connect(node.url, { http2: { initialStreamWindowSize: 1024 } });
    try {
      const data = payload64();
      const response = await tinySession.request({ ':path': `/download/${data.length}` });
      expect(await hashChunks(response.body)).to.deep.equal({ sha: sha256(data), length: data.length });
    } finally {
      await tinySession.close();
    }
  });

  it('sends request trailers and receives response trailers', async () => {
    const response = await session.request(
      {},
      { method: 'POST', path: '/trailers', body: 'twelve bytes', trailers: { 'x-request-trailer': 'from sluice' } },
    );
    expect(await response.body.text()).to.equal('body before trailers');
    const trailers = await response.trailers;
    expect(trailers['x-echo']).to.equal('from sluice');
    expect(trailers['x-length']).to.equal('12');
  });

  it('sends and receives a 100 KiB header block (CONTINUATION)', async () => {
    const response = await session.request({ ':path': '/big-header', ...BIG_HEADERS });
    expect(response.headers['x-request-big-length']).to.equal(String(BIG_HEADERS_LENGTH));
    expectBigHeaders(response.headers);
    expect(await response.body.text()).to.equal('ok');
  });

  it('fails the response body with Http2StreamError(CANCEL) when node resets mid-stream', async () => {
    const response = await session.request({ ':path': '/reset' });
    expect(response.status).to.equal(200);
    const error = await rejection(response.body.bytes());
    expect(error).to.be.instanceOf(Http2StreamError);
    expect((error as Http2StreamError).errorCode).to.equal(ErrorCode.CANCEL);
    expect(await rejection(response.trailers)).to.equal(error);
    // The connection carries on.
    expect((await session.request({ ':path': '/small/after-reset' })).status).to.equal(200);
  });

  it('on GOAWAY completes streams up to the last id and refuses later and new ones retryably', async () => {
    const goawaySession = await connect(node.url);
    held.length = 0;
    try {
      const requests = Array.from({ length: 5 }, () => goawaySession.request({ ':path': '/hold' }));
      for (const request of requests) request.catch(() => undefined);
      await until(() => held.length === 5, 'five held streams');
      const nodeSession = held[0].session!;
      nodeSession.goaway(NGHTTP2_NO_ERROR, 5);
      await until(() => goawaySession.connection.isGoingAway, 'the GOAWAY');
      const refused = await rejection(goawaySession.request({ ':path': '/small/late' }));
      expect(refused).to.be.instanceOf(Http2StreamError);
      expect((refused as Http2StreamError).retryable).to.equal(true);
      for (const stream of held) {
        if ((stream.id ?? 0) <= 5) {
          stream.respond({ ':status': 200 });
          stream.end(`held ${stream.id}`);
        } else {
          stream.close(NGHTTP2_REFUSED_STREAM);
        }
      }
      const outcomes = await Promise.allSettled(requests);
      for (const [index, outcome] of outcomes.entries()) {
        const id = index * 2 + 1;
        if (id <= 5) {
          expect(outcome.status).to.equal('fulfilled');
          if (outcome.status === 'fulfilled') expect(await outcome.value.body.text()).to.equal(`held ${id}`);
        } else {
          expect(outcome.status).to.equal('rejected');
          if (outcome.status === 'rejected') {
            expect(outcome.reason).to.be.instanceOf(Http2StreamError);
            expect((outcome.reason as Http2StreamError).retryable).to.equal(true);
          }
        }
      }
      // With GOAWAY received and no streams left, the connection closes by itself.
      expect(await goawaySession.closed).to.equal(null);
    } finally {
      goawaySession.destroy();
    }
  });

  it('a paused response body (manual window) keeps what node has handed over within the window', async () => {
    const slowSession = await connect(node.url, { http2: { initialStreamWindowSize: SLOW_WINDOW } });
    try {
      const response = await slowSession.request({ ':path': '/slow' });
      const reader = response.body[Symbol.asyncIterator]();
      const first = await reader.next();
      if (first.done === true) throw new Error('the /slow body ended before its first chunk');
      let consumed = first.value.length;
      // The consumer pauses; node keeps writing for as long as flow control lets it.
      await ioTurns(100);
      const bound = consumed + SLOW_WINDOW + SENDER_MARGIN;
      expect(response.body.bufferedBytes).to.be.at.most(SLOW_WINDOW);
      expect(slowSender.handed).to.be.at.most(bound);
      expect(slowSender.stream!.writableLength).to.be.at.most(SENDER_MARGIN);
      await ioTurns(50);
      expect(slowSender.handed).to.be.at.most(bound);
      for (;;) {
        const step = await reader.next();
        if (step.done === true) break;
        consumed += step.value.length;
      }
      expect(consumed).to.equal(SLOW_TOTAL);
    } finally {
      await slowSession.close();
    }
  });
});

describe('node:http2 client ↔ sluice server', function () {
  this.timeout(60_000);
  const handlerEvents = { resetError: null as unknown, wasAborted: false, isFirstChunkRead: false };
  let release: () => void = () => undefined;
  let released = new Promise<void>((resolve) => (release = resolve));
  let heldCount = 0;
  const slow = { stream: null as ServerStream | null, consumed: 0, resume: (): void => undefined };

  async function route(stream: ServerStream): Promise<void> {
    const path = stream.path;
    if (path.startsWith('/small')) {
      await stream.end(`ok ${path}`);
    } else if (path === '/upload') {
      const { sha, length } = await hashChunks(stream.body);
      stream.respond(200, { 'content-type': 'application/json' });
      await stream.end(JSON.stringify({ sha, length }));
    } else if (path.startsWith('/download/')) {
      stream.respond(200);
      await stream.send(payload64().subarray(0, Number(path.slice('/download/'.length))));
    } else if (path === '/trailers') {
      const body = await stream.body.text();
      const trailers = await stream.trailers;
      stream.respond(200);
      await stream.end(body, { 'x-echo': String(trailers['x-request-trailer']), 'x-length': String(body.length) });
    } else if (path === '/big-header') {
      stream.respond(200, { ...BIG_HEADERS, 'x-request-big-length': String(bigHeadersLength(stream.headers)) });
      await stream.end('ok');
    } else if (path === '/reset-upload') {
      // Read one chunk, then stop reading: the client's END_STREAM stays behind its data, so
      // its reset arrives mid-body.
      const reader = stream.body[Symbol.asyncIterator]();
      await reader.next();
      handlerEvents.isFirstChunkRead = true;
      await stream.closed;
      try {
        while ((await reader.next()).done !== true);
      } catch (error) {
        handlerEvents.resetError = error;
        handlerEvents.wasAborted = stream.signal.aborted;
      }
    } else if (path === '/reset-response') {
      stream.respond(200);
      await stream.write(Buffer.alloc(64 * 1024, 2));
      stream.reset(ErrorCode.CANCEL);
    } else if (path === '/hold') {
      heldCount++;
      await released;
      await stream.end('held');
    } else if (path === '/slow-upload') {
      const reader = stream.body[Symbol.asyncIterator]();
      slow.stream = stream;
      const first = await reader.next();
      if (first.done === true) throw new Error('the /slow-upload body ended before its first chunk');
      slow.consumed = first.value.length;
      await new Promise<void>((resolve) => (slow.resume = resolve));
      for (;;) {
        const step = await reader.next();
        if (step.done === true) break;
        slow.consumed += step.value.length;
      }
      await stream.end(String(slow.consumed));
    } else {
      await stream.end(undefined);
    }
  }

  const server = createServer({}, route);
  let listener: Http2ServerListener;
  let url: string;
  let client: http2.ClientHttp2Session;

  function request(headers: http2.OutgoingHttpHeaders, body?: Uint8Array | string): http2.ClientHttp2Stream {
    const stream = client.request(headers, { endStream: body === undefined });
    stream.on('error', () => undefined);
    if (body !== undefined) stream.end(body);
    return stream;
  }

  before(async () => {
    listener = await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${listener.port}`;
    client = await connectNode(url, { settings: LARGE_HEADER_SETTINGS, maxSendHeaderBlockLength: 4 * MiB });
  });

  after(async () => {
    await closeNode(client);
    await listener.close();
    await server.close();
    await expectMessagePoolDrained();
  });

  it('completes 1000 small requests on one connection with 100 in flight', async () => {
    let completed = 0;
    await runConcurrently(1000, 100, async (index) => {
      const response = await readNodeResponse(request({ ':path': `/small/${index}` }));
      expect(response.headers[':status']).to.equal(200);
      expect(response.body.toString()).to.equal(`ok /small/${index}`);
      completed++;
    });
    expect(completed).to.equal(1000);
    expect(listener.connectionCount).to.equal(1);
  });

  it('receives a 64 MiB upload with default windows (SHA-256 matches)', async () => {
    const data = payload64();
    const response = await readNodeResponse(request({ ':method': 'POST', ':path': '/upload' }, data));
    expect(JSON.parse(response.body.toString())).to.deep.equal({ sha: sha256(data), length: data.length });
  });

  it('serves a 64 MiB download with default windows (SHA-256 matches)', async () => {
    const data = payload64();
    const stream = request({ ':path': `/download/${data.length}` });
    expect(await hashChunks(stream)).to.deep.equal({ sha: sha256(data), length: data.length });
  });

  it('receives a 64 MiB upload through a 1 KiB stream window (sluice initialStreamWindowSize 1024)', async () => {
    const tinyServer = createServer({ http2: { initialStreamWindowSize: 1024 } }, route);
    const tinyListener = await tinyServer.listen({ port: 0 });
    const tinyClient = await connectNode(`http://127.0.0.1:${tinyListener.port}`);
    try {
      const data = payload64();
      const stream = tinyClient.request({ ':method': 'POST', ':path': '/upload' });
      const response = readNodeResponse(stream);
      await writeAll(stream, data, MiB);
      expect(JSON.parse((await response).body.toString())).to.deep.equal({ sha: sha256(data), length: data.length });
    } finally {
      await closeNode(tinyClient);
      await tinyListener.close();
    }
  });

  it('serves a 64 MiB download through a 1 KiB stream window (node initialWindowSize 1024)', async () => {
    const tinyClient = await connectNode(url, { settings: { initialWindowSize: 1024 } });
    try {
      const data = payload64();
      const stream = tinyClient.request({ ':path': `/download/${data.length}` }, { endStream: true });
      expect(await hashChunks(stream)).to.deep.equal({ sha: sha256(data), length: data.length });
    } finally {
      await closeNode(tinyClient);
    }
  });

  it('receives request trailers and sends response trailers', async () => {
    const stream = client.request({ ':method': 'POST', ':path': '/trailers' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-request-trailer': 'from node' }));
    stream.end('from the node client');
    const response = await readNodeResponse(stream);
    expect(response.body.toString()).to.equal('from the node client');
    expect(response.trailers['x-echo']).to.equal('from node');
    expect(response.trailers['x-length']).to.equal('20');
  });

  it('receives and sends a 100 KiB header block (CONTINUATION)', async () => {
    const response = await readNodeResponse(request({ ':path': '/big-header', ...BIG_HEADERS }));
    expect(response.headers['x-request-big-length']).to.equal(String(BIG_HEADERS_LENGTH));
    expectBigHeaders(response.headers);
    expect(response.body.toString()).to.equal('ok');
  });

  it('fails the request body with Http2StreamError(CANCEL) when node resets mid-upload', async () => {
    handlerEvents.resetError = null;
    handlerEvents.isFirstChunkRead = false;
    const stream = client.request({ ':method': 'POST', ':path': '/reset-upload' });
    stream.on('error', () => undefined);
    // More than the stream window (1 MiB): the rest waits for credit the handler does not return.
    stream.write(payload64().subarray(0, 4 * MiB));
    await until(() => handlerEvents.isFirstChunkRead, 'the handler to read a chunk');
    stream.close(NGHTTP2_CANCEL);
    await until(() => handlerEvents.resetError !== null, 'the handler to see the reset');
    expect(handlerEvents.resetError).to.be.instanceOf(Http2StreamError);
    expect((handlerEvents.resetError as Http2StreamError).errorCode).to.equal(ErrorCode.CANCEL);
    expect(handlerEvents.wasAborted).to.equal(true);
  });

  it('node sees RST_STREAM(CANCEL) when the sluice handler resets mid-response', async () => {
    const response = await readNodeResponse(request({ ':path': '/reset-response' }));
    expect(response.rstCode).to.equal(NGHTTP2_CANCEL);
  });

  it('closes gracefully: in-flight streams complete, node may not open new ones', async () => {
    const closingServer = createServer({}, route);
    const closingListener = await closingServer.listen({ port: 0 });
    const closingClient = await connectNode(`http://127.0.0.1:${closingListener.port}`);
    heldCount = 0;
    released = new Promise<void>((resolve) => (release = resolve));
    let isGoawaySeen = false;
    closingClient.on('goaway', () => (isGoawaySeen = true));
    const responses = Array.from({ length: 5 }, () =>
      readNodeResponse(closingClient.request({ ':path': '/hold' }, { endStream: true })),
    );
    await until(() => heldCount === 5, 'five held streams');
    const closed = closingListener.close();
    await until(() => isGoawaySeen, 'the GOAWAY');
    // node refuses to open a stream on a session that received GOAWAY (or it is refused on the wire).
    let refusalCode: unknown;
    try {
      const late = closingClient.request({ ':path': '/small/late' }, { endStream: true });
      refusalCode = (await readNodeResponse(late)).rstCode;
    } catch (error) {
      refusalCode = (error as { code?: string }).code;
    }
    expect([NGHTTP2_REFUSED_STREAM, 'ERR_HTTP2_GOAWAY_SESSION']).to.include(refusalCode);
    release();
    for (const response of await Promise.all(responses)) {
      expect(response.headers[':status']).to.equal(200);
      expect(response.body.toString()).to.equal('held');
    }
    await closed;
    expect(closingListener.connectionCount).to.equal(0);
    closingClient.destroy();
  });

  it('a slow handler reading the upload (manual window) keeps what node has handed over within the window', async () => {
    const slowServer = createServer({ http2: { initialStreamWindowSize: SLOW_WINDOW } }, route);
    const slowListener = await slowServer.listen({ port: 0 });
    const slowClient = await connectNode(`http://127.0.0.1:${slowListener.port}`);
    try {
      slow.stream = null;
      let handed = 0;
      const stream = slowClient.request({ ':method': 'POST', ':path': '/slow-upload' });
      const response = readNodeResponse(stream);
      const writing = writeAll(
        stream,
        payload64().subarray(0, SLOW_TOTAL),
        SLOW_CHUNK,
        (written) => (handed = written),
      );
      await until(() => slow.stream !== null && slow.consumed > 0, 'the first chunk');
      await ioTurns(100);
      const bound = slow.consumed + SLOW_WINDOW + SENDER_MARGIN;
      expect(slow.stream!.body.bufferedBytes).to.be.at.most(SLOW_WINDOW);
      expect(handed).to.be.at.most(bound);
      expect(stream.writableLength).to.be.at.most(SENDER_MARGIN);
      await ioTurns(50);
      expect(handed).to.be.at.most(bound);
      slow.resume();
      await writing;
      expect((await response).body.toString()).to.equal(String(SLOW_TOTAL));
    } finally {
      await closeNode(slowClient);
      await slowListener.close();
    }
  });
});
