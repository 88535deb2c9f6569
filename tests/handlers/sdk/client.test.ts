import { expect } from 'chai';
import net from 'node:net';
import {
  Http2ServerConnection,
  NodeEventLoop,
  ServerBootstrap,
  SluiceError,
  listenHttp2,
  type Http2Stream,
  type Listener,
} from '../../../handlers/index.js';
import { Client, SdkErrors, type ClientRetryEvent } from '../../../handlers/sdk/index.js';
import { RetryErrorType, StandardRetryStrategy } from '../../../lib/retry-strategy.js';
import { pem } from '../tls/tls-test-kit.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';

/** Per-connection bookkeeping of the test server. */
interface ServerConnectionStats {
  active: number;
  maxActive: number;
  streams: number;
  isClosing: boolean;
}

interface TestServer {
  listener: Listener;
  connections: ServerConnectionStats[];
  refused: number;
}

/**
 * An h2c sluice server limiting MAX_CONCURRENT_STREAMS to `maxConcurrentStreams`; it answers
 * every request with 200 and its path on a later turn. With `goawayEvery`, every that-many-th
 * stream (counted over all connections) is refused with REFUSED_STREAM and its connection
 * closes gracefully (GOAWAY); streams arriving on a closing connection are refused too.
 */
async function startServer(maxConcurrentStreams: number, goawayEvery = 0): Promise<TestServer> {
  const server: TestServer = { listener: null as unknown as Listener, connections: [], refused: 0 };
  let total = 0;
  server.listener = await new ServerBootstrap().listen({
    host: '127.0.0.1',
    port: 0,
    pipeline: (channel) => {
      const stats: ServerConnectionStats = { active: 0, maxActive: 0, streams: 0, isClosing: false };
      server.connections.push(stats);
      const connection: Http2ServerConnection = new Http2ServerConnection({
        maxConcurrentStreams,
        onStream: (stream, headers) => {
          const isGoawayTurn = goawayEvery > 0 && ++total % goawayEvery === 0;
          if (stats.isClosing || isGoawayTurn) {
            // REFUSED_STREAM: never processed, safe to retry (RFC 9113 §8.7).
            server.refused++;
            stream.reset(0x7);
            if (isGoawayTurn) {
              stats.isClosing = true;
              void connection.close();
            }
            return;
          }
          stats.streams++;
          stats.active++;
          stats.maxActive = Math.max(stats.maxActive, stats.active);
          stream.handler = { onClose: () => stats.active-- };
          const path = headers[headers.indexOf(':path') + 1] ?? '/';
          setImmediate(() => {
            if (stream.isClosed) return;
            stream.sendHeaders([':status', '200', 'content-type', 'text/plain']);
            stream.write(Buffer.from(path));
            stream.end();
          });
        },
      });
      channel.appendHandler(connection);
    },
  });
  return server;
}

/** Runs `count` tasks with at most `width` in flight. */
async function pool<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) results[index] = await task(index);
  };
  await Promise.all(Array.from({ length: width }, () => worker()));
  return results;
}

function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length];
}

describe('Client (loopback integration)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('sends 2000 requests, 200 at a time, over several connections none above MAX_CONCURRENT_STREAMS 10', async () => {
    const server = await startServer(10);
    cleanups.push(() => server.listener.close());
    const client = new Client({
      origin: `http://127.0.0.1:${server.listener.port}`,
      protocol: 'h2',
      pool: { maxConnections: 8 },
    });
    cleanups.push(() => client.close());
    const responses = await pool(2000, 200, (index) => client.request({ path: `/item/${index}` }));
    expect(
      responses.every((response, index) => response.status === 200 && response.body.toString() === `/item/${index}`),
    ).to.equal(true);
    const perConnectionMax = server.connections.map((stats) => stats.maxActive);
    expect(server.connections.length).to.be.within(2, 8);
    expect(Math.max(...perConnectionMax)).to.be.at.most(10);
    expect(server.connections.reduce((sum, stats) => sum + stats.streams, 0)).to.equal(2000);
    expect(client.metrics).to.include({ requests: 2000, retries: 0, streamsQueued: 0, streamsActive: 0 });
    expect(client.metrics.maxStreamsPerConnection).to.be.at.most(10);
  });

  it('loses no request when the server sends GOAWAY every 500 streams: refused ones are resent and counted', async () => {
    const server = await startServer(10, 500);
    cleanups.push(() => server.listener.close());
    const client = new Client({
      origin: `http://127.0.0.1:${server.listener.port}`,
      protocol: 'h2',
      pool: { maxConnections: 4 },
    });
    cleanups.push(() => client.close());
    const responses = await pool(2000, 200, (index) => client.request({ path: `/g/${index}` }));
    expect(responses.filter((response) => response.status === 200)).to.have.length(2000);
    const metrics = client.metrics;
    expect(metrics.goawaysReceived).to.be.at.least(4);
    expect(server.refused).to.be.at.least(4);
    // Each refused stream was resent (plus any the client itself found above a GOAWAY's last id).
    expect(metrics.streamsRetried).to.be.at.least(server.refused);
    expect(metrics.retries).to.equal(0);
    expect(server.connections.reduce((sum, stats) => sum + stats.streams, 0)).to.equal(2000);
    expect(server.connections.length).to.be.at.least(4);
  });

  it('retries 503 twice with backoff on the loop, then returns the 200 (three attempts)', async () => {
    let seen = 0;
    const listener = await listenHttp2({
      host: '127.0.0.1',
      port: 0,
      http2: {
        onStream: (stream: Http2Stream) => {
          seen++;
          if (seen <= 2) stream.sendHeaders([':status', '503', 'retry-after', '0'], true);
          else {
            stream.sendHeaders([':status', '200']);
            stream.end();
          }
        },
      },
    });
    cleanups.push(() => listener.close());
    const loop = new NodeEventLoop();
    const retries: (ClientRetryEvent & { seenWhenScheduled: number; pendingTasks: number })[] = [];
    const client = new Client({
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      loop,
      retryStrategy: new StandardRetryStrategy({ loop, scaleMs: 40, maxRetries: 2, random: sequence(0.5, 0.75) }),
      onRetry: (event) => retries.push({ ...event, seenWhenScheduled: seen, pendingTasks: loop.pendingTaskCount }),
    });
    cleanups.push(() => client.close());
    const response = await client.request({ path: '/flaky' });
    expect(response.status).to.equal(200);
    expect(response.attempts).to.equal(3);
    expect(seen).to.equal(3);
    // Full jitter with the seeded random: 0.5 × 40 and 0.75 × 80.
    expect(retries.map((event) => [event.attempt, event.status, event.errorType, event.delayMs])).to.deep.equal([
      [1, 503, RetryErrorType.THROTTLING, 20],
      [2, 503, RetryErrorType.THROTTLING, 60],
    ]);
    // Each backoff was a task on the loop, and the next attempt went only after it.
    expect(retries.map((event) => event.seenWhenScheduled)).to.deep.equal([1, 2]);
    for (const event of retries) expect(event.pendingTasks).to.be.at.least(1);
    const bucket = client.retryStrategy as StandardRetryStrategy;
    expect(bucket.availableTokens(`http://127.0.0.1:${listener.port}`)).to.equal(495);
  });

  it('fails with SDK_FIRST_BYTE_TIMEOUT when no response comes, and with SDK_REQUEST_ABORTED on abort', async () => {
    const listener = await listenHttp2({ host: '127.0.0.1', port: 0, http2: { onStream: () => undefined } });
    cleanups.push(() => listener.close());
    const loop = new NodeEventLoop();
    const client = new Client({
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      loop,
      firstByteTimeoutMs: 30,
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries: 1, scaleMs: 1 }),
    });
    cleanups.push(() => client.close());
    const timedOut = await client.request({ path: '/hang' }).catch((error: unknown) => error);
    expect((timedOut as SluiceError).code).to.equal(SdkErrors.FIRST_BYTE_TIMEOUT.code);
    expect(client.metrics.retries).to.equal(1);
    const controller = new AbortController();
    const pending = client.request({ path: '/hang', signal: controller.signal }).catch((error: unknown) => error);
    setImmediate(() => controller.abort(new Error('user gave up')));
    const aborted = (await pending) as SluiceError;
    expect(aborted.code).to.equal(SdkErrors.REQUEST_ABORTED.code);
    expect((aborted.cause as Error).message).to.equal('user gave up');
  });

  describe('through an HTTP CONNECT proxy', () => {
    /** A loopback CONNECT proxy requiring `user:secret`; it counts the tunnels it opened. */
    async function startProxy(): Promise<{
      server: net.Server;
      port: number;
      tunnels: () => number;
      refused: () => number;
    }> {
      let tunnels = 0;
      let refused = 0;
      const sockets = new Set<net.Socket>();
      const server = net.createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => undefined);
        let head = Buffer.alloc(0);
        const onData = (chunk: Buffer): void => {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          client.off('data', onData);
          const lines = head.subarray(0, end).toString('latin1').split('\r\n');
          const [method, authority] = lines[0].split(' ');
          const auth = lines.find((line) => line.toLowerCase().startsWith('proxy-authorization:'));
          const expected = `Basic ${Buffer.from('user:secret').toString('base64')}`;
          if (method !== 'CONNECT' || auth === undefined || auth.slice(auth.indexOf(':') + 1).trim() !== expected) {
            refused++;
            client.end(
              'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
            );
            return;
          }
          const port = Number(authority.slice(authority.lastIndexOf(':') + 1));
          // Only loopback: the origin name `localhost` is pinned to 127.0.0.1.
          const upstream = net.connect({ host: '127.0.0.1', port }, () => {
            tunnels++;
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            const rest = head.subarray(end + 4);
            if (rest.length > 0) upstream.write(rest);
            client.pipe(upstream);
            upstream.pipe(client);
          });
          sockets.add(upstream);
          upstream.on('close', () => sockets.delete(upstream));
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
        };
        client.on('data', onData);
      });
      const port = await listenOnLoopback(server);
      cleanups.push(() => {
        for (const socket of sockets) socket.destroy();
        return closeServer(server);
      });
      return { server, port, tunnels: () => tunnels, refused: () => refused };
    }

    async function startTlsServer(): Promise<Listener> {
      const listener = await listenHttp2({
        host: '127.0.0.1',
        port: 0,
        tls: { cert: pem.serverCert, key: pem.serverKey },
        http2: {
          onStream: (stream, headers) => {
            stream.sendHeaders([':status', '200']);
            stream.write(Buffer.from(`secure ${headers[headers.indexOf(':path') + 1]}`));
            stream.end();
          },
        },
      });
      cleanups.push(() => listener.close());
      return listener;
    }

    it('tunnels h2 over TLS through the proxy (socket → tunnel → TLS → HTTP/2 in one channel)', async () => {
      const proxy = await startProxy();
      const listener = await startTlsServer();
      const client = new Client({
        origin: `https://localhost:${listener.port}`,
        tls: { ca: pem.ca },
        proxy: `http://user:secret@127.0.0.1:${proxy.port}`,
      });
      cleanups.push(() => client.close());
      const responses = await Promise.all([client.request({ path: '/a' }), client.request({ path: '/b' })]);
      expect(responses.map((response) => response.body.toString())).to.deep.equal(['secure /a', 'secure /b']);
      expect(proxy.tunnels()).to.equal(1);
    });

    it('uses HTTPS_PROXY when asked to, and not for hosts in NO_PROXY', async () => {
      const proxy = await startProxy();
      const listener = await startTlsServer();
      const origin = `https://localhost:${listener.port}`;
      const env = { HTTPS_PROXY: `http://user:secret@127.0.0.1:${proxy.port}` };
      const proxied = new Client({ origin, tls: { ca: pem.ca }, useEnvironmentProxy: true, env });
      cleanups.push(() => proxied.close());
      expect((await proxied.request({ path: '/env' })).body.toString()).to.equal('secure /env');
      expect(proxy.tunnels()).to.equal(1);
      // `localhost` resolves to 127.0.0.1 or ::1; the server listens on 127.0.0.1, so connect there.
      const direct = new Client({
        origin: `https://127.0.0.1:${listener.port}`,
        tls: { ca: pem.ca, servername: 'localhost' },
        useEnvironmentProxy: true,
        env: { ...env, NO_PROXY: 'example.com,127.0.0.1' },
      });
      cleanups.push(() => direct.close());
      expect((await direct.request({ path: '/direct' })).status).to.equal(200);
      expect(proxy.tunnels()).to.equal(1);
    });

    it('fails with SDK_PROXY_AUTHENTICATION_FAILED on a wrong proxy password, without retrying', async () => {
      const proxy = await startProxy();
      const listener = await startTlsServer();
      const client = new Client({
        origin: `https://localhost:${listener.port}`,
        tls: { ca: pem.ca },
        proxy: { host: '127.0.0.1', port: proxy.port, username: 'user', password: 'wrong' },
      });
      cleanups.push(() => client.close());
      const error = (await client.request({ path: '/' }).catch((thrown: unknown) => thrown)) as SluiceError;
      expect(error).to.be.instanceOf(SluiceError);
      expect(error.code).to.equal(SdkErrors.PROXY_AUTHENTICATION_FAILED.code);
      expect(proxy.refused()).to.equal(1);
      expect(client.metrics.retries).to.equal(0);
    });
  });
});
