/**
 * The convenient server (`createServer` / `ServerStream`) against the response rules, over a real
 * loopback socket with `node:http2` as the client: `date` on final responses (RFC 9110 §6.6.1),
 * clean 204 and 304 responses (§6.4.1, §8.6), no 101 (RFC 9113 §8.6), coded errors for bad
 * statuses, and arguments checked before anything is sent.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import { createServer, type Http2ServerListener, type ServerStream } from '../../../handlers/http2/api/server.js';
import { codeOf, thrownCode } from '../../support/error-codes.js';
import {
  closeNode,
  connectNode,
  expectMessagePoolDrained,
  readNodeResponse,
  rejection,
  type NodeResponse,
} from './node-peer.js';

const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
const OWN_DATE = 'Tue, 01 Jan 2002 00:00:00 GMT';

describe('HTTP/2 convenient server: response rules (node:http2 client)', function () {
  this.timeout(30_000);
  /** What each handler saw, by path: the codes of refused calls, then whether it had responded. */
  const seen = new Map<string, (string | boolean)[]>();
  const handlerErrors: unknown[] = [];

  async function route(stream: ServerStream): Promise<void> {
    const record = (...items: (string | boolean)[]): void =>
      void seen.set(stream.path, [...(seen.get(stream.path) ?? []), ...items]);
    switch (stream.path) {
      case '/no-content':
        stream.respond(204, { 'content-length': '5', 'x-kept': 'yes' });
        await stream.write('not content');
        await stream.end('nor this');
        return;
      case '/not-modified':
        stream.respond(304, { 'content-length': '42', etag: '"v1"' });
        await stream.end('not content');
        return;
      case '/own-date':
        stream.respond(200, { date: OWN_DATE });
        await stream.end('ok');
        return;
      case '/hints':
        stream.informational(103, { link: '</a.css>; rel=preload', 'content-length': '7' });
        await stream.end('after hints');
        return;
      case '/bad-write':
        record(codeOf(await rejection(stream.write(123 as unknown as string))), stream.hasResponded);
        stream.respond(201);
        await stream.end('recovered');
        return;
      case '/bad-end':
        record(codeOf(await rejection(stream.end(123 as unknown as string))));
        record(codeOf(await rejection(stream.end('x', { 'x-sum': 'a\u0001' }))));
        record(codeOf(await rejection(stream.end('x', { ':status': '200' }))), stream.hasResponded);
        await stream.end('recovered', { 'x-sum': 'abc' });
        return;
      case '/bad-send':
        record(codeOf(await rejection(stream.send(42 as unknown as string))), stream.hasResponded);
        await stream.end('recovered');
        return;
      case '/bad-respond':
        record(thrownCode(() => stream.respond(200, { 'x-note': 'a\u0001b' })));
        record(thrownCode(() => stream.respond(200, { 'x-note': 'a\u007f' }, { endStream: true })));
        record(
          thrownCode(() => stream.respond(200, { 'x-note': ' padded' })),
          stream.hasResponded,
        );
        stream.respond(200, { 'x-note': 'fine' });
        await stream.end('recovered');
        return;
      case '/statuses':
        record(thrownCode(() => stream.informational(101)));
        record(thrownCode(() => stream.informational(200)));
        record(thrownCode(() => stream.informational(99)));
        record(thrownCode(() => stream.respond(101)));
        record(thrownCode(() => stream.respond({ ':status': 101 })));
        record(thrownCode(() => stream.respond(100)));
        record(stream.hasResponded);
        stream.informational(103);
        stream.respond(200);
        await stream.end('recovered');
        return;
      default:
        await stream.end('hello');
    }
  }

  const server = createServer({ onError: (error) => handlerErrors.push(error) }, route);
  const dateless = createServer({ sendDate: false }, (stream) => stream.end('no date'));
  let listener: Http2ServerListener;
  let datelessListener: Http2ServerListener;
  let client: http2.ClientHttp2Session;
  const clientErrors: unknown[] = [];

  before(async () => {
    listener = await server.listen({ port: 0 });
    datelessListener = await dateless.listen({ port: 0 });
    client = await connectNode(`http://127.0.0.1:${listener.port}`);
    client.on('error', (error) => clientErrors.push(error));
  });

  after(async () => {
    await closeNode(client);
    await server.close();
    await dateless.close();
    expect(clientErrors, 'the client session saw no error').to.deep.equal([]);
    expect(handlerErrors, 'no handler failed').to.deep.equal([]);
    await expectMessagePoolDrained();
  });

  function get(path: string, method = 'GET'): Promise<NodeResponse> {
    return readNodeResponse(client.request({ ':method': method, ':path': path }, { endStream: true }));
  }

  it('a 204 response is clean: no body, no content-length, a date, no reset', async () => {
    const response = await get('/no-content');
    expect(response.rstCode).to.equal(0);
    expect(response.headers[':status']).to.equal(204);
    expect(response.headers['content-length']).to.equal(undefined);
    expect(response.headers['x-kept']).to.equal('yes');
    expect(response.headers['date']).to.match(IMF_FIXDATE);
    expect(response.body.length).to.equal(0);
  });

  it('a 304 response is clean: no body, the application content-length kept, a date, no reset', async () => {
    const response = await get('/not-modified');
    expect(response.rstCode).to.equal(0);
    expect(response.headers[':status']).to.equal(304);
    expect(response.headers['content-length']).to.equal('42');
    expect(response.headers['etag']).to.equal('"v1"');
    expect(response.headers['date']).to.match(IMF_FIXDATE);
    expect(response.body.length).to.equal(0);
  });

  it('the session stays usable after 204 and 304 responses', async () => {
    const responses = await Promise.all([get('/no-content'), get('/not-modified'), get('/')]);
    expect(responses.map((response) => response.rstCode)).to.deep.equal([0, 0, 0]);
    expect(responses[2].body.toString()).to.equal('hello');
  });

  it('sends date on final responses from the system calendar, and keeps a date the handler gives', async () => {
    const plain = await get('/');
    expect(plain.headers['date']).to.match(IMF_FIXDATE);
    expect(Math.abs(Date.parse(String(plain.headers['date'])) - Date.now())).to.be.below(60_000);
    const head = await get('/', 'HEAD');
    expect(head.headers['date']).to.match(IMF_FIXDATE);
    const own = await get('/own-date');
    expect(own.headers['date']).to.equal(OWN_DATE);
  });

  it('sends no date with sendDate: false', async () => {
    const datelessClient = await connectNode(`http://127.0.0.1:${datelessListener.port}`);
    try {
      const response = await readNodeResponse(datelessClient.request({ ':path': '/' }, { endStream: true }));
      expect(response.body.toString()).to.equal('no date');
      expect(response.headers['date']).to.equal(undefined);
    } finally {
      await closeNode(datelessClient);
    }
  });

  it('a 1xx response carries neither content-length nor date', async () => {
    const request = client.request({ ':path': '/hints' }, { endStream: true });
    const informational: http2.IncomingHttpHeaders[] = [];
    request.on('headers', (headers) => informational.push(headers));
    const response = await readNodeResponse(request);
    expect(informational).to.have.length(1);
    expect(informational[0][':status']).to.equal(103);
    expect(informational[0]['content-length']).to.equal(undefined);
    expect(informational[0]['date']).to.equal(undefined);
    expect(response.body.toString()).to.equal('after hints');
  });

  it('write(123) rejects with HTTP2_INVALID_BODY before responding; respond() still works', async () => {
    const response = await get('/bad-write');
    expect(seen.get('/bad-write')).to.deep.equal(['HTTP2_INVALID_BODY', false]);
    expect(response.headers[':status']).to.equal(201);
    expect(response.body.toString()).to.equal('recovered');
  });

  it('end() with a bad chunk or bad trailers rejects before responding, with HTTP2_INVALID_BODY / HTTP2_INVALID_HEADERS', async () => {
    const response = await get('/bad-end');
    expect(seen.get('/bad-end')).to.deep.equal([
      'HTTP2_INVALID_BODY',
      'HTTP2_INVALID_HEADERS',
      'HTTP2_INVALID_HEADERS',
      false,
    ]);
    expect(response.headers[':status']).to.equal(200);
    expect(response.body.toString()).to.equal('recovered');
    expect(response.trailers['x-sum']).to.equal('abc');
  });

  it('send() of something that is not a body rejects with HTTP2_INVALID_BODY before responding', async () => {
    const response = await get('/bad-send');
    expect(seen.get('/bad-send')).to.deep.equal(['HTTP2_INVALID_BODY', false]);
    expect(response.body.toString()).to.equal('recovered');
  });

  it('respond() with a control character or edge whitespace in a value throws HTTP2_INVALID_HEADERS and sends nothing', async () => {
    const response = await get('/bad-respond');
    expect(seen.get('/bad-respond')).to.deep.equal([
      'HTTP2_INVALID_HEADERS',
      'HTTP2_INVALID_HEADERS',
      'HTTP2_INVALID_HEADERS',
      false,
    ]);
    expect(response.headers['x-note']).to.equal('fine');
    expect(response.body.toString()).to.equal('recovered');
  });

  it('informational(101|200|99), respond(101|100) throw HTTP2_INVALID_HEADERS and send nothing', async () => {
    const request = client.request({ ':path': '/statuses' }, { endStream: true });
    const informational: number[] = [];
    request.on('headers', (headers) => informational.push(Number(headers[':status'])));
    const response = await readNodeResponse(request);
    expect(seen.get('/statuses')).to.deep.equal([...Array<string>(6).fill('HTTP2_INVALID_HEADERS'), false]);
    expect(informational).to.deep.equal([103]);
    expect(response.headers[':status']).to.equal(200);
    expect(response.body.toString()).to.equal('recovered');
  });
});
