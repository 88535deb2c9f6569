import { expect } from 'chai';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import { NodeEventLoop } from '../../../handlers/index.js';
import { Client, ConnectionManager } from '../../../handlers/sdk/index.js';
import { StandardRetryStrategy } from '../../../lib/retry-strategy.js';
import { pem } from '../tls/tls-test-kit.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';

interface Seen {
  versions: string[];
  connections: number;
}

type TlsServer = (https.Server | http2.Http2SecureServer) & net.Server;

function answer(seen: Seen) {
  return (
    request: http2.Http2ServerRequest | import('node:http').IncomingMessage,
    response: import('node:http').ServerResponse | http2.Http2ServerResponse,
  ): void => {
    seen.versions.push(request.httpVersion);
    const text = `${request.method} ${request.url} over ${request.httpVersion}`;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(text)) });
    response.end(text);
  };
}

describe('ConnectionManager: the version of an https:// origin by ALPN (loopback, node:https and node:http2)', () => {
  let server: TlsServer | null = null;
  let client: Client | null = null;
  afterEach(async () => {
    await client?.close();
    client = null;
    if (server !== null) {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closeServer(server);
      server = null;
    }
  });

  async function start(make: (seen: Seen) => TlsServer): Promise<{ port: number; seen: Seen }> {
    const seen: Seen = { versions: [], connections: 0 };
    server = make(seen);
    server.on('secureConnection', () => seen.connections++);
    return { port: await listenOnLoopback(server), seen };
  }

  function makeClient(port: number, protocol?: 'auto' | 'h2' | 'http/1.1'): Client {
    const loop = new NodeEventLoop();
    client = new Client({
      origin: `https://localhost:${port}`,
      tls: { ca: pem.ca },
      loop,
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries: 0 }),
      ...(protocol !== undefined ? { protocol } : {}),
    });
    return client;
  }

  const tls = { key: pem.serverKey, cert: pem.serverCert };

  it('speaks HTTP/1.1 when node:https picks http/1.1, the negotiating connection serving the first requests', async () => {
    const { port, seen } = await start((s) => https.createServer({ ...tls, ALPNProtocols: ['http/1.1'] }, answer(s)));
    const c = makeClient(port);
    const responses = [await c.request({ path: '/a' }), await c.request({ path: '/b' })];
    expect(responses.map((r) => r.body.toString())).to.deep.equal(['GET /a over 1.1', 'GET /b over 1.1']);
    expect(c.connectionManager.protocol).to.equal('http/1.1');
    expect(seen.connections).to.equal(1);
  });

  it('speaks HTTP/1.1 to a TLS server that selects no protocol', async () => {
    const { port, seen } = await start((s) => https.createServer(tls, answer(s)));
    const c = makeClient(port);
    const response = await c.request({ method: 'PUT', path: '/kv', body: 'teal' });
    expect(response.body.toString()).to.equal('PUT /kv over 1.1');
    expect(c.connectionManager.protocol).to.equal('http/1.1');
    expect(seen.versions).to.deep.equal(['1.1']);
  });

  it('speaks HTTP/2 when a node:http2 allowHTTP1 server picks h2, on the negotiating connection', async () => {
    const { port, seen } = await start((s) => http2.createSecureServer({ ...tls, allowHTTP1: true }, answer(s)));
    const c = makeClient(port);
    const [a, b] = await Promise.all([c.request({ path: '/a' }), c.request({ path: '/b' })]);
    expect([a.body.toString(), b.body.toString()]).to.deep.equal(['GET /a over 2.0', 'GET /b over 2.0']);
    expect(c.connectionManager.protocol).to.equal('h2');
    expect(c.connectionManager.streamManager).to.not.equal(null);
    expect(seen.connections).to.equal(1);
  });

  it("protocol 'http/1.1' offers only http/1.1, so an allowHTTP1 server answers over HTTP/1.1", async () => {
    const { port, seen } = await start((s) => http2.createSecureServer({ ...tls, allowHTTP1: true }, answer(s)));
    const c = makeClient(port, 'http/1.1');
    const response = await c.request({ path: '/one' });
    expect(response.body.toString()).to.equal('GET /one over 1.1');
    expect(seen.versions).to.deep.equal(['1.1']);
  });

  it('requests made while the first connection negotiates wait for it, then all go over the chosen version', async () => {
    const { port } = await start((s) => https.createServer({ ...tls, ALPNProtocols: ['http/1.1'] }, answer(s)));
    const loop = new NodeEventLoop();
    const manager = new ConnectionManager({ host: 'localhost', port, tls: { ca: pem.ca }, loop, maxConnections: 2 });
    expect(manager.protocol).to.equal(null);
    const statuses = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<string>((resolve, reject) => {
            let status = '';
            manager.request({
              headers: [':method', 'GET', ':scheme', 'https', ':authority', `localhost:${port}`, ':path', `/${i}`],
              handler: {
                onResponse: (headers) => (status = headers[1]),
                onClose: (error) => (error === null ? resolve(status) : reject(error)),
              },
            });
          }),
      ),
    );
    expect(statuses).to.deep.equal(['200', '200', '200', '200']);
    expect(manager.protocol).to.equal('http/1.1');
    expect(manager.metrics.connectionsOpened).to.be.at.most(2);
    await manager.close();
  });
});
