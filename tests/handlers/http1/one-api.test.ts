/**
 * The one API over loopback sockets: `createServer(handler)` answers node:http (HTTP/1.1) and
 * node:http2 (prior knowledge) on one TCP port by sniffing, and node:https / node:http2 over TLS
 * by ALPN; `connect(url, { protocol })` picks HTTP/1.1 for `http:` by default, h2 on request, and
 * negotiates by ALPN for `https:`.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import {
  connect,
  createServer,
  Http1Session,
  type HttpServerListener,
  type HttpServerStream,
} from '../../../handlers/http1/index.js';
import { Http2Session } from '../../../handlers/http2/index.js';

const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);
const ca = readFileSync(new URL('ca-cert.pem', fixtures));
const cert = readFileSync(new URL('server-cert.pem', fixtures));
const key = readFileSync(new URL('server-key.pem', fixtures));

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** One handler for both protocols: `/echo` streams the body back with its hash as a trailer. */
async function handler(stream: HttpServerStream): Promise<void> {
  if (stream.path === '/echo') {
    stream.respond(200, { 'content-type': 'application/octet-stream' });
    const hash = createHash('sha256');
    for await (const chunk of stream.body) {
      hash.update(chunk);
      await stream.write(chunk);
    }
    await stream.end(undefined, { 'x-sha256': hash.digest('hex') });
    return;
  }
  stream.respond(200, { 'content-type': 'text/plain', 'x-protocol': stream.protocol });
  await stream.end(`${stream.method} ${stream.path} over ${stream.protocol} (${stream.scheme})\n`);
}

function getWithNodeHttp(port: number, path: string): Promise<{ status: number; protocol: string; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            protocol: String(response.headers['x-protocol']),
            text: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

function h2Request(
  client: http2.ClientHttp2Session,
  path: string,
  body?: Buffer,
): Promise<{ status: number; data: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = client.request({ ':path': path, ':method': body === undefined ? 'GET' : 'POST' });
    let status = 0;
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.on('trailers', (headers: http2.IncomingHttpHeaders) => (trailers = headers));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve({ status, data: Buffer.concat(chunks), trailers }));
    request.on('error', reject);
    request.end(body);
  });
}

describe('one API: createServer(handler) and connect(url, { protocol })', () => {
  let listener: HttpServerListener;
  let tlsListener: HttpServerListener;

  before(async () => {
    listener = await createServer(handler).listen({ port: 0 });
    tlsListener = await createServer({ tls: { cert, key } }, handler).listen({ port: 0 });
  });

  after(async () => {
    await listener.close();
    await tlsListener.close();
  });

  it('answers node:http over HTTP/1.1 on the cleartext port', async () => {
    const response = await getWithNodeHttp(listener.port, '/hello');
    expect(response).to.deep.equal({ status: 200, protocol: 'http/1.1', text: 'GET /hello over http/1.1 (http)\n' });
  });

  it('answers node:http2 with prior knowledge on the same port, and echoes a body with a trailer', async () => {
    const client = http2.connect(`http://127.0.0.1:${listener.port}`);
    try {
      const hello = await h2Request(client, '/hello');
      expect(hello.status).to.equal(200);
      expect(hello.data.toString()).to.equal('GET /hello over h2 (http)\n');
      const body = randomBytes(300_000);
      const echo = await h2Request(client, '/echo', body);
      expect(sha256(echo.data)).to.equal(sha256(body));
      expect(echo.trailers['x-sha256']).to.equal(sha256(body));
    } finally {
      client.close();
    }
  });

  it('tells the HTTP/2 preface from a request line when it arrives a few bytes at a time', async () => {
    const socket = net.connect(listener.port, '127.0.0.1');
    const firstBytes = new Promise<Buffer>((resolve, reject) => {
      socket.once('data', resolve);
      socket.once('error', reject);
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    socket.write(preface.subarray(0, 5));
    socket.write(preface.subarray(5, 11));
    socket.write(preface.subarray(11));
    // The server's first frame is its SETTINGS (type 0x4), not an HTTP/1.1 status line.
    const received = await firstBytes;
    socket.destroy();
    expect(received[3]).to.equal(0x4);
  });

  it('echoes a chunked node:http upload with trailers over HTTP/1.1', async () => {
    const body = randomBytes(500_000);
    const result = await new Promise<{ hash: string; trailer: string | undefined }>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: listener.port, path: '/echo', method: 'POST', agent: false },
        (response) => {
          const hash = createHash('sha256');
          response.on('data', (chunk: Buffer) => hash.update(chunk));
          response.on('end', () => resolve({ hash: hash.digest('hex'), trailer: response.trailers['x-sha256'] }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    expect(result).to.deep.equal({ hash: sha256(body), trailer: sha256(body) });
  });

  it('chooses by ALPN under TLS: h2 for node:http2, http/1.1 for node:https', async () => {
    const client = http2.connect(`https://localhost:${tlsListener.port}`, { ca });
    try {
      const response = await h2Request(client, '/alpn');
      expect(response.data.toString()).to.equal('GET /alpn over h2 (https)\n');
    } finally {
      client.close();
    }
    const text = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: 'localhost', port: tlsListener.port, path: '/alpn', ca, agent: false }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks).toString()));
        })
        .on('error', reject);
    });
    expect(text).to.equal('GET /alpn over http/1.1 (https)\n');
  });

  it("connect('http://…') speaks HTTP/1.1 by default and HTTP/2 with protocol 'h2'", async () => {
    const http1Session = await connect(`http://127.0.0.1:${listener.port}`);
    expect(http1Session).to.be.instanceOf(Http1Session);
    const first = await http1Session.request({ ':path': '/one' });
    expect(first.status).to.equal(200);
    expect(await first.body.text()).to.equal('GET /one over http/1.1 (http)\n');
    const body = randomBytes(200_000);
    const echo = await http1Session.request({}, { method: 'POST', path: '/echo', body });
    expect(sha256(await echo.body.bytes())).to.equal(sha256(body));
    expect((await echo.trailers)['x-sha256']).to.equal(sha256(body));
    await http1Session.close();

    const h2Session = await connect(`http://127.0.0.1:${listener.port}`, { protocol: 'h2' });
    expect(h2Session).to.be.instanceOf(Http2Session);
    const response = await h2Session.request({ ':path': '/two' });
    expect(await response.body.text()).to.equal('GET /two over h2 (http)\n');
    await h2Session.close();
  });

  it('an HTTP/1.1 session runs concurrent requests one after another, and close() waits for them', async () => {
    const session = await connect(`http://127.0.0.1:${listener.port}`);
    const responses = [0, 1, 2].map(async (index) => {
      const response = await session.request({ ':path': `/q${index}` });
      return response.body.text();
    });
    const closed = session.close();
    expect(await Promise.all(responses)).to.deep.equal(
      [0, 1, 2].map((index) => `GET /q${index} over http/1.1 (http)\n`),
    );
    await closed;
    await session.request({ ':path': '/late' }).then(
      () => expect.fail('a request after close() must reject'),
      (error: unknown) => expect(error).to.have.property('code', 'HTTP1_CONNECTION_CLOSED'),
    );
  });

  it("connect('https://…') negotiates h2 by ALPN, and HTTP/1.1 when asked", async () => {
    const negotiated = await connect(`https://localhost:${tlsListener.port}`, { tls: { ca } });
    expect(negotiated.protocol).to.equal('h2');
    const response = await negotiated.request({ ':path': '/x' });
    expect(await response.body.text()).to.equal('GET /x over h2 (https)\n');
    await negotiated.close();
    const http1Session = await connect(`https://localhost:${tlsListener.port}`, { tls: { ca }, protocol: 'http/1.1' });
    expect(http1Session.protocol).to.equal('http/1.1');
    const second = await http1Session.request({ ':path': '/y' });
    expect(await second.body.text()).to.equal('GET /y over http/1.1 (https)\n');
    await http1Session.close();
  });

  it('prefers http/1.1 under TLS when alpnProtocols says so', async () => {
    const preferring = await createServer({ tls: { cert, key }, alpnProtocols: ['http/1.1', 'h2'] }, handler).listen();
    try {
      const session = await connect(`https://localhost:${preferring.port}`, { tls: { ca } });
      expect(session.protocol).to.equal('http/1.1');
      await session.close();
    } finally {
      await preferring.close();
    }
  });
});
