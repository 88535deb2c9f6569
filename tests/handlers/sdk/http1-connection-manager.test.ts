import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { IoErrors, NodeEventLoop, SluiceError, type Channel } from '../../../handlers/index.js';
import { connectHttp1 } from '../../../handlers/http1/index.js';
import { Client, SdkErrors } from '../../../handlers/sdk/index.js';
import type { Http1ConnectionFactory } from '../../../handlers/sdk/http1-connection-manager.js';
import { HostResolver } from '../../../lib/host-resolver.js';
import { StandardRetryStrategy } from '../../../lib/retry-strategy.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { ioTurns, until } from '../../support/waiting.js';

/** What the node:http server saw. */
interface Seen {
  connections: net.Socket[];
  requests: { method: string; path: string; body: string; connection: number; nthOnConnection: number }[];
}

interface NodeHttpServer {
  server: http.Server;
  port: number;
  seen: Seen;
}

type Route = (request: http.IncomingMessage, response: http.ServerResponse, nthOnConnection: number) => void;

/** A node:http keep-alive server recording every connection and request (with its body) before `route` answers it. */
async function startNodeHttp(route: Route): Promise<NodeHttpServer> {
  const seen: Seen = { connections: [], requests: [] };
  const counts = new Map<net.Socket, number>();
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const socket = request.socket;
      const nth = (counts.get(socket) ?? 0) + 1;
      counts.set(socket, nth);
      seen.requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        body: Buffer.concat(chunks).toString(),
        connection: seen.connections.indexOf(socket),
        nthOnConnection: nth,
      });
      route(request, response, nth);
    });
  });
  server.on('connection', (socket: net.Socket) => seen.connections.push(socket));
  const port = await listenOnLoopback(server);
  return { server, port, seen };
}

function ok(response: http.ServerResponse, text: string): void {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

describe('Http1ConnectionManager through Client against node:http (loopback)', () => {
  let node: NodeHttpServer | null = null;
  let client: Client | null = null;
  afterEach(async () => {
    await client?.close();
    client = null;
    if (node !== null) {
      node.server.closeAllConnections();
      await closeServer(node.server);
      node = null;
    }
  });

  function makeClient(port: number, options: Partial<ConstructorParameters<typeof Client>[0]> = {}, maxRetries = 2) {
    const loop = new NodeEventLoop();
    client = new Client({
      origin: `http://127.0.0.1:${port}`,
      loop,
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries, scaleMs: 1 }),
      ...options,
    });
    return client;
  }

  it('speaks HTTP/1.1 to an http:// origin by default and reuses one keep-alive connection for sequential requests', async () => {
    node = await startNodeHttp((request, response) => ok(response, `${request.method} ${request.url}`));
    const c = makeClient(node.port);
    for (let i = 0; i < 5; i++) {
      const response = await c.request({ path: `/item/${i}`, headers: { 'x-test': 'yes' } });
      expect(response.status).to.equal(200);
      expect(response.body.toString()).to.equal(`GET /item/${i}`);
      expect(response.headers['content-type']).to.equal('text/plain');
      expect(response.rawHeaders.slice(0, 2)).to.deep.equal([':status', '200']);
    }
    const put = await c.request({ method: 'PUT', path: '/kv', body: 'teal' });
    expect(put.body.toString()).to.equal('PUT /kv');
    expect(c.connectionManager.protocol).to.equal('http/1.1');
    expect(node.seen.connections).to.have.length(1);
    expect(node.seen.requests.map((r) => r.nthOnConnection)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(node.seen.requests[5].body).to.equal('teal');
    expect(c.metrics.connectionsOpened).to.equal(1);
  });

  it('opens at most maxConnections, queues the other requests and sends them as connections free up', async () => {
    const held: http.ServerResponse[] = [];
    node = await startNodeHttp((_request, response) => held.push(response));
    const c = makeClient(node.port, { pool: { maxConnections: 2 } });
    const responses = Array.from({ length: 6 }, (_, i) => c.request({ path: `/q/${i}` }));
    await until(() => held.length === 2, 'two requests at the server');
    await ioTurns(20); // the chance to open a third connection, which it must not take
    expect(node.seen.connections).to.have.length(2);
    expect(held).to.have.length(2);
    expect(c.metrics.streamsQueued).to.equal(4);
    expect(c.metrics.streamsActive).to.equal(2);
    let answered = 0;
    while (answered < 6) {
      await until(() => held.length > 0, 'a held request');
      ok(held.shift()!, `answer ${answered++}`);
    }
    const bodies = (await Promise.all(responses)).map((r) => r.status);
    expect(bodies).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(node.seen.connections).to.have.length(2);
    expect(node.seen.requests.map((r) => r.path)).to.deep.equal(['/q/0', '/q/1', '/q/2', '/q/3', '/q/4', '/q/5']);
  });

  it('fails a request waiting beyond maxPendingAcquisitions with SDK_TOO_MANY_PENDING_ACQUISITIONS', async () => {
    const held: http.ServerResponse[] = [];
    node = await startNodeHttp((_request, response) => held.push(response));
    const c = makeClient(node.port, { pool: { maxConnections: 1, maxPendingAcquisitions: 1 } }, 0);
    const first = c.request({ path: '/1' });
    await until(() => held.length === 1, 'the first request');
    const second = c.request({ path: '/2' });
    const third = c.request({ path: '/3' });
    const error = await third.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal(SdkErrors.TOO_MANY_PENDING_ACQUISITIONS.code);
    ok(held.shift()!, 'one');
    await until(() => held.length === 1, 'the second request');
    ok(held.shift()!, 'two');
    expect((await first).body.toString()).to.equal('one');
    expect((await second).body.toString()).to.equal('two');
  });

  it('fails a request that waited longer than acquireTimeoutMs with SDK_ACQUIRE_TIMEOUT', async () => {
    const held: http.ServerResponse[] = [];
    node = await startNodeHttp((_request, response) => held.push(response));
    const c = makeClient(node.port, { pool: { maxConnections: 1, acquireTimeoutMs: 20 } }, 0);
    const first = c.request({ path: '/1' });
    const waiting = c.request({ path: '/2' });
    const error = await waiting.then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as SluiceError).code).to.equal(SdkErrors.ACQUIRE_TIMEOUT.code);
    await until(() => held.length === 1, 'the first request');
    ok(held.shift()!, 'one');
    expect((await first).status).to.equal(200);
    expect(node.seen.requests).to.have.length(1);
  });

  it('closes a connection idle for idleTimeoutMs and opens a fresh one for the next request', async () => {
    node = await startNodeHttp((_request, response) => ok(response, 'ok'));
    const c = makeClient(node.port, { pool: { idleTimeoutMs: 30 } });
    await c.request({ path: '/a' });
    await until(() => c.metrics.connectionsCulled === 1, 'the idle connection to be culled');
    await until(
      () => node!.seen.connections[0].destroyed || node!.seen.connections[0].readableEnded,
      'the server to see the close',
    );
    expect(c.metrics.connectionsOpen).to.equal(0);
    await c.request({ path: '/b' });
    expect(node.seen.connections).to.have.length(2);
    expect(node.seen.requests.map((r) => [r.path, r.connection])).to.deep.equal([
      ['/a', 0],
      ['/b', 1],
    ]);
  });

  it('retries an idempotent request on a new connection when the server closes the kept-alive connection after reading it; a sent POST is not retried', async () => {
    // The second request on any connection is read, then its connection is closed unanswered.
    node = await startNodeHttp((request, response, nth) => {
      if (nth === 2) request.socket.destroy();
      else ok(response, `${request.method} ${nth}`);
    });
    const c = makeClient(node.port);
    await c.request({ path: '/warm' });
    const get = await c.request({ path: '/again' });
    expect(get.status).to.equal(200);
    expect(get.attempts).to.equal(2);
    expect(node.seen.requests.filter((r) => r.path === '/again')).to.have.length(2);

    // The POST is the second request on the second connection: read, then its connection closes.
    const error = await c.request({ method: 'POST', path: '/order', body: 'one pizza' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SluiceError);
    expect(node.seen.requests.filter((r) => r.path === '/order')).to.have.length(1);
    expect(c.metrics.retries).to.equal(1);
  });

  it('resends a POST that provably never left: its kept-alive connection shut down before any byte of it was written', async () => {
    node = await startNodeHttp((request, response) => ok(response, `${request.method} ${request.url}`));
    const channels: Channel[] = [];
    const port = node.port;
    const connect: Http1ConnectionFactory = (events) =>
      connectHttp1({
        host: '127.0.0.1',
        port,
        http1: {
          isManualWindow: true,
          onReusable: () => events.onReusable(),
          onClose: (_connection, error) => events.onClose(error),
        },
        pipeline: (channel) => channels.push(channel),
      });
    const c = makeClient(port, { pool: { http1Connect: connect } }, 0);
    await c.request({ path: '/warm' });
    expect(channels).to.have.length(1);
    // The server's FIN arrived: the socket handler started the channel's shutdown (it runs on
    // the next turn), and in this same turn, before the pool hears of it, the POST is put on the
    // connection: its head would be written on a later turn still, so none of it ever leaves.
    channels[0].shutdown(new SluiceError(IoErrors.SOCKET_CLOSED, 'the peer closed the connection'));
    const post = c.request({ method: 'POST', path: '/order', body: 'one pizza' });
    const response = await post;
    expect(response.body.toString()).to.equal('POST /order');
    expect(response.attempts).to.equal(1);
    expect(c.metrics.streamsRetried).to.equal(1);
    expect(channels).to.have.length(2);
    expect(node.seen.requests.filter((r) => r.path === '/order').map((r) => [r.body, r.connection])).to.deep.equal([
      ['one pizza', 1],
    ]);
  });

  it('retries a POST whose connection could not be set up (nothing was sent)', async () => {
    node = await startNodeHttp((request, response) => ok(response, `${request.method} ${request.url}`));
    // 127.0.0.2 refuses (the server listens on 127.0.0.1 only); the resolver then offers 127.0.0.1.
    const resolver = new HostResolver({
      lookup: () =>
        Promise.resolve([
          { address: '127.0.0.2', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]),
    });
    const c = makeClient(node.port, { origin: `http://origin.test:${node.port}`, resolver });
    const response = await c.request({ method: 'POST', path: '/order', body: 'one pizza' });
    expect(response.status).to.equal(200);
    expect(response.attempts).to.equal(2);
    expect(node.seen.requests.map((r) => [r.path, r.body])).to.deep.equal([['/order', 'one pizza']]);
  });

  it('close(): waiting requests fail with SDK_MANAGER_CLOSED, the in-flight one finishes, then every connection closes', async () => {
    const held: http.ServerResponse[] = [];
    node = await startNodeHttp((_request, response) => held.push(response));
    const c = makeClient(node.port, { pool: { maxConnections: 1 } }, 0);
    const first = c.request({ path: '/1' });
    const second = c.request({ path: '/2' }).then(
      () => null,
      (e: unknown) => e,
    );
    await until(() => held.length === 1, 'the first request');
    const closed = c.close();
    client = null;
    expect(((await second) as SluiceError).code).to.equal(SdkErrors.MANAGER_CLOSED.code);
    ok(held.shift()!, 'finished');
    expect((await first).body.toString()).to.equal('finished');
    await closed;
    await until(() => node!.seen.connections[0].destroyed || node!.seen.connections[0].readableEnded, 'the close');
  });
});
