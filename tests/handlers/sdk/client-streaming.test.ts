/**
 * The SDK `Client` against a `node:http2` server over loopback (issue 18, items 13 and 14):
 * repeated response fields kept as lists, streaming request and response bodies (retried only
 * when the body can be replayed), and the response size cap.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import { NodeEventLoop, SluiceError } from '../../../handlers/index.js';
import { Client } from '../../../handlers/sdk/index.js';
import { StandardRetryStrategy } from '../../../lib/retry-strategy.js';
import { MiB, hashChunks, payload64, rejection, slices, startNodeServer, type NodeServer } from '../http2/node-peer.js';
import { ioTurns, until } from '../../support/waiting.js';
import { sha256 } from '../../support/hashing.js';

const { NGHTTP2_CANCEL } = http2.constants;
/** The client's stream receive window: a reader that stops holds at most this much. */
const WINDOW = 65_535;

describe('SDK Client bodies and fields, against node:http2', function () {
  this.timeout(20_000);
  const seen = new Map<string, number>();
  const resets: { path: string; rstCode: number }[] = [];
  const uploads = new Map<string, string>();
  let node: NodeServer;
  let client: Client;

  function route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = String(headers[':path']);
    const count = (seen.get(path) ?? 0) + 1;
    seen.set(path, count);
    stream.on('close', () => resets.push({ path, rstCode: stream.rstCode ?? 0 }));
    if (path === '/cookies') {
      stream.resume();
      stream.respond(
        { ':status': 200, 'set-cookie': ['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2'] },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-t': ['1', '2'] }));
      stream.end('cookies');
    } else if (path.startsWith('/upload')) {
      // Reads the whole upload and answers with its length; /upload-503-once* answer 503 the first time.
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.destroyed) return; // the client reset it
        const body = Buffer.concat(chunks);
        uploads.set(path, sha256(body));
        const status = path.startsWith('/upload-503-once') && count === 1 ? 503 : 200;
        stream.respond({ ':status': status, 'x-content-length': String(headers['content-length'] ?? 'none') });
        stream.end(`${body.length}`);
      });
    } else if (path === '/big') {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(payload64().subarray(0, 4 * MiB)); // no content-length: the cap counts bytes
    } else if (path === '/declared') {
      stream.resume();
      stream.respond({ ':status': 200, 'content-length': String(MiB) });
      stream.write(Buffer.alloc(1024));
    } else {
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end(`ok ${path}`);
    }
  }

  before(async () => {
    node = await startNodeServer({}, route);
    const loop = new NodeEventLoop();
    client = new Client({
      origin: node.url,
      protocol: 'h2',
      loop,
      retryStrategy: new StandardRetryStrategy({ loop, scaleMs: 1, maxRetries: 2 }),
      pool: { http2: { initialStreamWindowSize: WINDOW } },
    });
  });
  after(async () => {
    await client.close();
    await node.close();
  });

  it('keeps set-cookie as a list and gives raw headers and trailers with repeated fields apart (item 13)', async () => {
    const response = await client.request({ path: '/cookies' });
    // Joined with ", " the Expires date could not be told from a second cookie (RFC 6265 §3).
    expect(response.headers['set-cookie']).to.deep.equal(['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2']);
    expect(response.headers[':status']).to.equal(undefined);
    expect(response.rawHeaders.filter((_, i) => response.rawHeaders[i - 1] === 'set-cookie')).to.deep.equal([
      'a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT',
      'b=2',
    ]);
    expect(response.rawTrailers).to.deep.equal(['x-t', '1', 'x-t', '2']);
    expect(response.body.toString()).to.equal('cookies');
  });

  it('streams a one-shot async-iterable request body with back-pressure and no content-length (item 14)', async () => {
    const data = payload64().subarray(0, 3 * MiB);
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the body under test; it has nothing to await
    async function* produce(): AsyncGenerator<Uint8Array> {
      yield* slices(data, 50_000);
    }
    const response = await client.request({ method: 'POST', path: '/upload-stream', body: produce() });
    expect(response.status).to.equal(200);
    expect(response.body.toString()).to.equal(String(data.length));
    expect(response.headers['x-content-length']).to.equal('none');
    expect(uploads.get('/upload-stream')).to.equal(sha256(data));
  });

  it('a one-shot body is not retried: a 503 is returned after one attempt', async () => {
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the body under test; it has nothing to await
    async function* produce(): AsyncGenerator<string> {
      yield 'once';
    }
    const retriesBefore = client.metrics.retries;
    const response = await client.request({ method: 'POST', path: '/upload-503-once', body: produce() });
    expect(response.status).to.equal(503);
    expect(response.attempts).to.equal(1);
    expect(client.metrics.retries).to.equal(retriesBefore);
    expect(seen.get('/upload-503-once')).to.equal(1);
  });

  it('an array body is replayable: it gets a content-length and is sent again after a 503', async () => {
    const response = await client.request({
      method: 'POST',
      path: '/upload-503-once-array',
      body: ['ab', Buffer.from('cd')],
    });
    expect(response.status).to.equal(200);
    expect(response.attempts).to.equal(2);
    expect(seen.get('/upload-503-once-array')).to.equal(2);
    expect(response.headers['x-content-length']).to.equal('4');
    expect(response.body.toString()).to.equal('4');
  });

  it('a body source that throws fails with SDK_BODY_SOURCE_FAILED (cause kept) and node sees CANCEL', async () => {
    const cause = new Error('disk gone');
    async function* produce(): AsyncGenerator<string> {
      yield 'partial';
      await ioTurns(2);
      throw cause;
    }
    const error = await rejection(client.request({ method: 'POST', path: '/upload-throws', body: produce() }));
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal('SDK_BODY_SOURCE_FAILED');
    expect((error as SluiceError).cause).to.equal(cause);
    await until(() => resets.some((reset) => reset.path === '/upload-throws'), 'node to close the stream');
    expect(resets.find((reset) => reset.path === '/upload-throws')!.rstCode).to.equal(NGHTTP2_CANCEL);
  });

  it('stream() resolves at the headers and reads the body with back-pressure: buffered bytes stay within the window', async () => {
    const response = await client.stream({ path: '/big' });
    expect(response.status).to.equal(200);
    await ioTurns(30); // the server may send only one stream window while nobody reads
    expect(response.body.bufferedBytes).to.be.at.most(WINDOW);
    expect(response.body.bufferedBytes).to.be.above(0);
    const { sha, length } = await hashChunks(response.body);
    expect(length).to.equal(4 * MiB);
    expect(sha).to.equal(sha256(payload64().subarray(0, 4 * MiB)));
    expect(await response.trailers).to.deep.equal({});
  });

  it('maxResponseBytes: a larger body fails with SDK_RESPONSE_TOO_LARGE, the stream is reset, the connection survives', async () => {
    const opened = client.metrics.connectionsOpened;
    const retriesBefore = client.metrics.retries;
    const bigClosed = resets.filter((reset) => reset.path === '/big').length;
    const error = await rejection(client.request({ path: '/big', maxResponseBytes: 100_000 }));
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal('SDK_RESPONSE_TOO_LARGE');
    expect(client.metrics.retries).to.equal(retriesBefore);
    await until(
      () => resets.filter((reset) => reset.path === '/big').length === bigClosed + 1,
      'node to close the stream',
    );
    expect(resets.filter((reset) => reset.path === '/big')[bigClosed].rstCode).to.equal(NGHTTP2_CANCEL);
    const next = await client.request({ path: '/after-cap' });
    expect(next.body.toString()).to.equal('ok /after-cap');
    expect(client.metrics.connectionsOpened).to.equal(opened);
  });

  it('maxResponseBytes: a larger content-length fails at the headers, also for stream()', async () => {
    const error = await rejection(client.stream({ path: '/declared', maxResponseBytes: 4096 }));
    expect((error as SluiceError).code).to.equal('SDK_RESPONSE_TOO_LARGE');
    expect((error as SluiceError).message).to.contain(String(MiB));
  });

  it('maxResponseBytes while a streamed body is read: the read rejects with SDK_RESPONSE_TOO_LARGE', async () => {
    const response = await client.stream({ path: '/big', maxResponseBytes: 200_000 });
    const error = await rejection(response.body.bytes());
    expect((error as SluiceError).code).to.equal('SDK_RESPONSE_TOO_LARGE');
    expect(await rejection(response.trailers)).to.equal(error);
  });

  it('rejects a body that is not bytes, a string or an iterable with HTTP2_INVALID_BODY before sending', async () => {
    const before = seen.get('/upload-bad') ?? 0;
    const error = await rejection(client.request({ method: 'POST', path: '/upload-bad', body: 42 as never }));
    expect((error as SluiceError).code).to.equal('HTTP2_INVALID_BODY');
    expect(seen.get('/upload-bad') ?? 0).to.equal(before);
  });
});
