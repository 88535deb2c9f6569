/**
 * Every timeout of the SDK {@link Client}, over loopback, each with its stable `SDK_*` code:
 * connect (virtual time), TLS negotiation, proxy answer, first byte, whole request, read idle,
 * an unanswered idle PING (virtual time), and AbortSignal before, during and between attempts. Each test also checks that nothing
 * leaks: the client closes, its loop group's message pool has nothing outstanding and no
 * timer of the request is left on its loop. Timeout values are options, never timing
 * assertions.
 */
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import {
  EventLoopGroup,
  SluiceError,
  StandardRetryStrategy,
  VirtualEventLoop,
  type EventLoop,
} from '../../../lib/index.js';
import { listenHttp2, type Http2Stream } from '../../../handlers/http2/index.js';
import type { Listener } from '../../../lib/index.js';
import { Client, SdkErrors, type ClientOptions, type ClientRetryEvent } from '../../../handlers/sdk/index.js';
import { netServerOnLoopback } from '../../support/loopback.js';
import { ioTurns, until } from '../../support/waiting.js';

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<SluiceError> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  expect(outcome.error).to.be.instanceOf(SluiceError);
  return outcome.error as SluiceError;
}

/** A raw TCP server; `onSocket` gets each accepted socket. `close` destroys them all. */
interface RawServer {
  readonly port: number;
  readonly accepted: () => number;
  close(): Promise<void>;
}

async function rawServer(onSocket?: (socket: net.Socket) => void): Promise<RawServer> {
  const loopback = await netServerOnLoopback(onSocket);
  return { port: loopback.port, accepted: () => loopback.acceptedCount, close: () => loopback.close() };
}

/** Server-side record of what the h2c test server saw. */
interface StreamLog {
  opened: number;
  /** Streams closed by the peer (RST_STREAM) before the server finished them. */
  resetByPeer: number;
}

describe('Client timeouts and cancellation (loopback)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A Node-backed loop group of the client's own, so its pool can be checked after close. */
  function clientGroup(): { group: EventLoopGroup; loop: EventLoop } {
    const group = new EventLoopGroup();
    return { group, loop: group.loops[0] };
  }

  /** A client on `loop` with no retries unless `maxRetries` says otherwise. */
  function makeClient(
    group: EventLoopGroup,
    loop: EventLoop,
    options: Omit<ClientOptions, 'loopGroup' | 'loop'>,
    maxRetries = 0,
  ): Client {
    const client = new Client({
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries, scaleMs: 1 }),
      ...options,
      loopGroup: group,
      loop,
    });
    cleanups.push(() => client.close());
    return client;
  }

  /** Closes the client and checks nothing is left behind on its loop. */
  async function expectClosedCleanly(client: Client, loop: EventLoop): Promise<void> {
    await client.close();
    expect(client.metrics).to.include({
      connectionsOpen: 0,
      connectionsConnecting: 0,
      streamsActive: 0,
      streamsQueued: 0,
    });
    // Releases may land on the turn after the channel's shutdown completes.
    await until(
      () => loop.messagePool.outstanding === 0 && loop.pendingTaskCount === 0,
      'pooled messages and tasks to be released',
      50,
    );
  }

  /**
   * An h2c sluice server on a loop group of its own; `onStream` decides what each request
   * gets. Intervals registered through `every` stop when the stream closes or the server
   * shuts down.
   */
  async function h2cServer(
    onStream: (stream: Http2Stream, every: (ms: number, tick: () => void) => void) => void,
  ): Promise<{ listener: Listener; log: StreamLog }> {
    const log: StreamLog = { opened: 0, resetByPeer: 0 };
    const timers = new Set<NodeJS.Timeout>();
    const listener = await listenHttp2({
      host: '127.0.0.1',
      port: 0,
      loopGroup: new EventLoopGroup(),
      http2: {
        onStream: (stream) => {
          log.opened++;
          const own: NodeJS.Timeout[] = [];
          stream.handler = {
            onClose: (_stream, error) => {
              if (error !== null) log.resetByPeer++;
              for (const timer of own) {
                clearInterval(timer);
                timers.delete(timer);
              }
            },
          };
          onStream(stream, (ms, tick) => {
            const timer = setInterval(() => {
              if (stream.isClosed) return;
              tick();
            }, ms);
            own.push(timer);
            timers.add(timer);
          });
        },
      },
    });
    cleanups.push(async () => {
      for (const timer of timers) clearInterval(timer);
      await listener.close();
    });
    return { listener, log };
  }

  it('fails with SDK_CONNECT_TIMEOUT when the TCP connect does not complete in time (virtual time)', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const loop = new VirtualEventLoop();
    const group = new EventLoopGroup([loop]);
    const connectTimeoutMs = 50;
    // No acquire timeout: the only timed task on the loop is then the socket's connect timeout.
    const client = makeClient(group, loop, {
      origin: `http://127.0.0.1:${server.port}`,
      protocol: 'h2',
      connectTimeoutMs,
      pool: { acquireTimeoutMs: 0 },
    });
    let settled = false;
    const pending = client.request({ path: '/' });
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The connect starts a few microtasks later (the resolver answers an IP literal without I/O);
    // libuv cannot report the connect before this macrotask ends, so the timeout decides.
    let advanced = false;
    for (let turn = 0; turn < 1000 && !settled; turn++) {
      await Promise.resolve();
      if (!advanced && loop.nextDeadline !== undefined) {
        expect(loop.nextDeadline).to.equal(loop.now() + connectTimeoutMs);
        loop.advance(connectTimeoutMs + 1);
        advanced = true;
      }
    }
    expect(advanced, 'the connect timeout was scheduled on the client loop').to.equal(true);
    const error = await rejectionOf(pending);
    expect(error.code).to.equal(SdkErrors.CONNECT_TIMEOUT.code);
    expect((error.cause as SluiceError).code).to.equal('IO_CONNECT_TIMEOUT');
    expect(client.metrics.connectFailures).to.equal(1);
    await client.close();
    expect(client.metrics).to.include({ connectionsOpen: 0, connectionsConnecting: 0, streamsQueued: 0 });
    expect(loop.messagePool.outstanding).to.equal(0);
    expect(loop.pendingTaskCount).to.equal(0);
  });

  it('fails with SDK_TLS_NEGOTIATION_TIMEOUT when the server accepts TCP but never answers the ClientHello', async () => {
    let clientHelloBytes = 0;
    const server = await rawServer((socket) =>
      socket.on('data', (chunk: Buffer) => (clientHelloBytes += chunk.length)),
    );
    cleanups.push(() => server.close());
    const { group, loop } = clientGroup();
    // Connect by address (`localhost` may resolve to ::1 first); the name is kept for SNI.
    const client = makeClient(group, loop, {
      origin: `https://127.0.0.1:${server.port}`,
      tls: { servername: 'localhost' },
      tlsNegotiationTimeoutMs: 100,
    });
    const error = await rejectionOf(client.request({ path: '/' }));
    expect(error.code).to.equal(SdkErrors.TLS_NEGOTIATION_TIMEOUT.code);
    expect((error.cause as SluiceError).code).to.equal('TLS_NEGOTIATION_TIMEOUT');
    expect(server.accepted()).to.equal(1);
    expect(clientHelloBytes).to.be.greaterThan(0);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_CONNECT_TIMEOUT when an HTTP CONNECT proxy accepts but never answers', async () => {
    let connectRequests = 0;
    const proxy = await rawServer((socket) =>
      socket.on(
        'data',
        (chunk: Buffer) => (connectRequests += chunk.toString('latin1').startsWith('CONNECT ') ? 1 : 0),
      ),
    );
    cleanups.push(() => proxy.close());
    const { group, loop } = clientGroup();
    const client = makeClient(group, loop, {
      origin: 'http://127.0.0.1:9',
      protocol: 'h2',
      proxy: `http://127.0.0.1:${proxy.port}`,
      connectTimeoutMs: 100,
    });
    const error = await rejectionOf(client.request({ path: '/' }));
    expect(error.code).to.equal(SdkErrors.CONNECT_TIMEOUT.code);
    expect(connectRequests).to.equal(1);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_FIRST_BYTE_TIMEOUT when the server never answers, retrying per the strategy and resetting each stream', async () => {
    const { listener, log } = await h2cServer(() => undefined);
    const { group, loop } = clientGroup();
    const retries: ClientRetryEvent[] = [];
    const client = makeClient(
      group,
      loop,
      {
        origin: `http://127.0.0.1:${listener.port}`,
        protocol: 'h2',
        firstByteTimeoutMs: 100,
        onRetry: (event) => retries.push(event),
      },
      1,
    );
    const error = await rejectionOf(client.request({ path: '/hang' }));
    expect(error.code).to.equal(SdkErrors.FIRST_BYTE_TIMEOUT.code);
    expect(retries.map((event) => event.error?.code)).to.deep.equal([SdkErrors.FIRST_BYTE_TIMEOUT.code]);
    expect(client.metrics).to.include({ retries: 1, streamsActive: 0 });
    await until(() => log.resetByPeer >= 2, 'the server to see both streams reset', 200);
    expect(log).to.deep.equal({ opened: 2, resetByPeer: 2 });
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_TIMEOUT when the body trickles in slower than the whole-request deadline', async () => {
    const { listener, log } = await h2cServer((stream, every) => {
      stream.sendHeaders([':status', '200']);
      // Never idle for long (well inside readIdleTimeoutMs), never finished within timeoutMs.
      every(20, () => stream.write(Buffer.from('.')));
    });
    const { group, loop } = clientGroup();
    const client = makeClient(
      group,
      loop,
      {
        origin: `http://127.0.0.1:${listener.port}`,
        protocol: 'h2',
        readIdleTimeoutMs: 5_000,
        firstByteTimeoutMs: 5_000,
      },
      3,
    );
    const error = await rejectionOf(client.request({ path: '/trickle', timeoutMs: 250 }));
    expect(error.code).to.equal(SdkErrors.REQUEST_TIMEOUT.code);
    // The deadline ends the call: no retry after it.
    expect(client.metrics.retries).to.equal(0);
    await until(() => log.resetByPeer >= 1, 'the server to see the stream reset', 200);
    expect(log).to.deep.equal({ opened: 1, resetByPeer: 1 });
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_TIMEOUT from the client-wide requestTimeoutMs while the request waits in backoff', async () => {
    const { listener, log } = await h2cServer((stream) => stream.sendHeaders([':status', '503'], true));
    const { group, loop } = clientGroup();
    const client = new Client({
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      loopGroup: group,
      loop,
      requestTimeoutMs: 150,
      // A backoff far beyond the deadline: the deadline must cut it short.
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries: 3, scaleMs: 60_000, random: () => 1 }),
    });
    cleanups.push(() => client.close());
    const error = await rejectionOf(client.request({ path: '/busy' }));
    expect(error.code).to.equal(SdkErrors.REQUEST_TIMEOUT.code);
    expect(log.opened).to.equal(1);
    expect(client.metrics.retries).to.equal(1);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_IDLE_TIMEOUT when the response sends headers and some body, then goes silent', async () => {
    const { listener, log } = await h2cServer((stream) => {
      stream.sendHeaders([':status', '200']);
      stream.write(Buffer.from('partial'));
    });
    const { group, loop } = clientGroup();
    const retries: ClientRetryEvent[] = [];
    const client = makeClient(
      group,
      loop,
      {
        origin: `http://127.0.0.1:${listener.port}`,
        protocol: 'h2',
        readIdleTimeoutMs: 100,
        onRetry: (event) => retries.push(event),
      },
      1,
    );
    const error = await rejectionOf(client.request({ path: '/stall' }));
    expect(error.code).to.equal(SdkErrors.IDLE_TIMEOUT.code);
    // Retried once (transient), then the second attempt stalled the same way.
    expect(retries.map((event) => event.error?.code)).to.deep.equal([SdkErrors.IDLE_TIMEOUT.code]);
    await until(() => log.resetByPeer >= 2, 'the server to see both streams reset', 200);
    expect(log).to.deep.equal({ opened: 2, resetByPeer: 2 });
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_IDLE_TIMEOUT when the headers arrive and no body follows', async () => {
    const { listener } = await h2cServer((stream) => stream.sendHeaders([':status', '200']));
    const { group, loop } = clientGroup();
    const client = makeClient(group, loop, {
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      readIdleTimeoutMs: 100,
    });
    const error = await rejectionOf(client.request({ path: '/headers-only' }));
    expect(error.code).to.equal(SdkErrors.IDLE_TIMEOUT.code);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_ABORTED without sending anything when the signal is already aborted', async () => {
    const { listener, log } = await h2cServer((stream) => {
      stream.sendHeaders([':status', '200']);
      stream.end();
    });
    const { group, loop } = clientGroup();
    const client = makeClient(group, loop, { origin: `http://127.0.0.1:${listener.port}`, protocol: 'h2' });
    const reason = new Error('cancelled up front');
    const error = await rejectionOf(client.request({ path: '/', signal: AbortSignal.abort(reason) }));
    expect(error.code).to.equal(SdkErrors.REQUEST_ABORTED.code);
    expect(error.cause).to.equal(reason);
    expect(client.metrics).to.include({ connectionsOpen: 0, connectionsConnecting: 0, connectionsOpened: 0 });
    expect(log.opened).to.equal(0);
    // The client still works after; a request that completes leaves no abort listener on its
    // signal and no deadline task on the loop (checked after close).
    const controller = new AbortController();
    expect((await client.request({ path: '/after', signal: controller.signal, timeoutMs: 5_000 })).status).to.equal(
      200,
    );
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_ABORTED when the signal fires while the server holds the request, and resets the stream', async () => {
    const controller = new AbortController();
    const reason = new Error('user gave up');
    const { listener, log } = await h2cServer(() => setImmediate(() => controller.abort(reason)));
    const { group, loop } = clientGroup();
    const client = makeClient(
      group,
      loop,
      { origin: `http://127.0.0.1:${listener.port}`, protocol: 'h2', firstByteTimeoutMs: 5_000 },
      3,
    );
    const error = await rejectionOf(client.request({ path: '/held', signal: controller.signal }));
    expect(error.code).to.equal(SdkErrors.REQUEST_ABORTED.code);
    expect(error.cause).to.equal(reason);
    expect(client.metrics.retries).to.equal(0);
    await until(() => log.resetByPeer >= 1, 'the server to see the stream reset', 200);
    expect(log).to.deep.equal({ opened: 1, resetByPeer: 1 });
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_ABORTED when the signal fires mid-body', async () => {
    const controller = new AbortController();
    const { listener, log } = await h2cServer((stream) => {
      stream.sendHeaders([':status', '200']);
      stream.write(Buffer.from('first chunk'));
    });
    const { group, loop } = clientGroup();
    const client = makeClient(group, loop, {
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      readIdleTimeoutMs: 5_000,
    });
    const pending = client.request({ path: '/body', signal: controller.signal });
    await until(() => log.opened >= 1, 'the server to open the stream', 200);
    // Let the headers and the first chunk reach the client before aborting.
    await ioTurns(5);
    controller.abort();
    const error = await rejectionOf(pending);
    expect(error.code).to.equal(SdkErrors.REQUEST_ABORTED.code);
    expect((error.cause as Error).name).to.equal('AbortError');
    await until(() => log.resetByPeer >= 1, 'the server to see the stream reset', 200);
    expect(log.resetByPeer).to.equal(1);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_ABORTED when the signal fires during a retry backoff, without a further attempt', async () => {
    const controller = new AbortController();
    const { listener, log } = await h2cServer((stream) => stream.sendHeaders([':status', '503'], true));
    const { group, loop } = clientGroup();
    const client = new Client({
      origin: `http://127.0.0.1:${listener.port}`,
      protocol: 'h2',
      loopGroup: group,
      loop,
      retryStrategy: new StandardRetryStrategy({ loop, maxRetries: 3, scaleMs: 60_000, random: () => 1 }),
      onRetry: () => setImmediate(() => controller.abort()),
    });
    cleanups.push(() => client.close());
    const error = await rejectionOf(client.request({ path: '/busy', signal: controller.signal }));
    expect(error.code).to.equal(SdkErrors.REQUEST_ABORTED.code);
    expect(log.opened).to.equal(1);
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_REQUEST_TIMEOUT while the connection is still being set up (TLS never answers)', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const { group, loop } = clientGroup();
    const client = makeClient(group, loop, {
      origin: `https://127.0.0.1:${server.port}`,
      tls: { servername: 'localhost' },
      tlsNegotiationTimeoutMs: 300,
    });
    const error = await rejectionOf(client.request({ path: '/', timeoutMs: 50 }));
    expect(error.code).to.equal(SdkErrors.REQUEST_TIMEOUT.code);
    // close() waits for the pending handshake to end (at its own timeout) and leaves nothing.
    await expectClosedCleanly(client, loop);
  });

  it('fails with SDK_CONNECTION_DEAD when a request is sent on an idle connection whose PING then goes unanswered (virtual time)', async () => {
    // A raw h2c peer: it completes the SETTINGS exchange and answers the first request (HEADERS
    // `:status 200` as HPACK static index 8, END_STREAM), then stays silent: no PING ACK, no
    // answer to the second request.
    const seen = { requests: 0, pings: 0 };
    const server = await rawServer((socket) => {
      socket.write(Buffer.from('000000040000000000', 'hex'));
      let pending = Buffer.alloc(0);
      let prefaceLeft = 24;
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const skipped = Math.min(prefaceLeft, pending.length);
        prefaceLeft -= skipped;
        pending = pending.subarray(skipped);
        while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
          const [type, flags] = [pending[3], pending[4]];
          const streamId = pending.readUInt32BE(5) & 0x7fffffff;
          pending = pending.subarray(9 + pending.readUIntBE(0, 3));
          const isAck = (flags & 0x1) !== 0;
          if (type === 0x4 && !isAck) socket.write(Buffer.from('000000040100000000', 'hex'));
          if (type === 0x6 && !isAck) seen.pings++;
          if (type === 0x1 && ++seen.requests === 1) {
            const response = Buffer.from('00000101050000000088', 'hex');
            response.writeUInt32BE(streamId, 5);
            socket.write(response);
          }
        }
      });
    });
    cleanups.push(() => server.close());
    // Connections on a Node loop; the pool's timers (idle PING, PING timeout) on a virtual one.
    const group = new EventLoopGroup();
    const loop = new VirtualEventLoop();
    const client = makeClient(group, loop, {
      origin: `http://127.0.0.1:${server.port}`,
      protocol: 'h2',
      pool: { idlePingIntervalMs: 1_000, pingTimeoutMs: 5_000 },
    });
    expect((await client.request({ path: '/first' })).status).to.equal(200);
    loop.advance(1_000);
    await until(() => seen.pings > 0, 'the idle PING', 500);
    expect(seen.pings).to.equal(1);
    const pending = client.request({ path: '/second' });
    await until(() => seen.requests >= 2, 'the second request', 500);
    expect(seen.requests).to.equal(2);
    loop.advance(5_000);
    const error = await rejectionOf(pending);
    expect(error.code).to.equal(SdkErrors.CONNECTION_DEAD.code);
    expect((error.cause as SluiceError).code).to.equal('HTTP2_NO_ERROR');
    expect(client.metrics).to.include({ connectionsDead: 1, connectionsOpened: 1 });
    await expectClosedCleanly(client, group.loops[0]);
    expect(loop.pendingTaskCount).to.equal(0);
  });
});
