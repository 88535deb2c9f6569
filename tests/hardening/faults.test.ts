/**
 * Transport faults in the middle of HTTP/2 traffic: a peer that resets the TCP connection
 * mid-stream (both roles), a socket destroyed underneath while writes are in flight, and an
 * abrupt close while a graceful GOAWAY is under way. After each: every write completion fired
 * exactly once, every stream closed exactly once and with an error, the connections reported
 * `onClose`, and the loop's message pool has no message outstanding.
 *
 * Each test runs on its own {@link EventLoopGroup}, so its pool counts only its own channels.
 */
import { expect } from 'chai';
import { EventLoopGroup, SluiceError } from '../../lib/index.js';
import { SocketHandler } from '../../handlers/socket/index.js';
import { FrameType } from '../../handlers/http2/wire/constants.js';
import { connectHttp2 } from '../../handlers/http2/api/bootstrap.js';
import type { Http2ClientConnection } from '../../handlers/http2/connection/client-connection.js';
import { Http2ServerConnection } from '../../handlers/http2/connection/server-connection.js';
import type { Http2Stream, Http2StreamFailure } from '../../handlers/http2/connection/http2-stream.js';
import {
  Attacker,
  HostileServer,
  getHeaders,
  postHeaders,
  sleep,
  startTestServer,
  waitUntil,
  type TestServer,
} from './attack-client.js';
import { rawFrame } from '../support/raw-frames.js';
import { until } from '../support/waiting.js';

const CHUNK = Buffer.alloc(16 * 1024, 0x66);

/**
 * FaultLedger records, for every stream and every write, how often its completion fired and
 * with what: the invariants are "each exactly once" and "each stream with an error".
 */
class FaultLedger {
  /** Per write: how often its callback fired, and the first error. */
  readonly writes: { calls: number; error: Http2StreamFailure | null }[] = [];
  /** Per stream: how often onClose fired, and the first error. */
  readonly streams: { calls: number; error: Http2StreamFailure | null | undefined }[] = [];

  /** Registers a stream; returns the onClose to install. */
  track(): (stream: Http2Stream, error: Http2StreamFailure | null) => void {
    const entry: { calls: number; error: Http2StreamFailure | null | undefined } = { calls: 0, error: undefined };
    this.streams.push(entry);
    return (_stream, error) => {
      entry.calls++;
      if (entry.calls === 1) entry.error = error;
    };
  }

  /** Writes `chunk` on `stream` with a tracked callback; returns `write`'s result. */
  write(stream: Http2Stream, chunk: Uint8Array): boolean {
    const entry: { calls: number; error: Http2StreamFailure | null } = { calls: 0, error: null };
    this.writes.push(entry);
    return stream.write(chunk, (error) => {
      entry.calls++;
      if (entry.calls === 1) entry.error = error;
    });
  }

  /** Writes chunks until back-pressure or `limit` writes; continue from `onDrain`. */
  pump(stream: Http2Stream, limit: number): void {
    while (stream.isWritable && this.writes.length < limit) {
      if (!this.write(stream, CHUNK)) return;
    }
  }

  get allClosed(): boolean {
    return this.streams.every((entry) => entry.calls > 0) && this.writes.every((entry) => entry.calls > 0);
  }

  /** The invariants. */
  expectSettled(label: string): void {
    expect(this.streams.length, `${label}: streams`).to.be.greaterThan(0);
    expect(this.writes.length, `${label}: writes`).to.be.greaterThan(0);
    expect(
      this.writes.map((entry) => entry.calls),
      `${label}: each write completion fires once`,
    ).to.deep.equal(this.writes.map(() => 1));
    expect(
      this.streams.map((entry) => entry.calls),
      `${label}: each stream closes once`,
    ).to.deep.equal(this.streams.map(() => 1));
    for (const [index, entry] of this.streams.entries()) {
      expect(entry.error, `${label}: stream ${index} closed with an error`).to.be.instanceOf(SluiceError);
    }
    // Writes still buffered when the fault hit fail; those already framed succeeded.
    expect(
      this.writes.some((entry) => entry.error !== null),
      `${label}: some writes failed`,
    ).to.equal(true);
  }
}

/** A server whose streams read the request body and stream a response of 16 KiB chunks (tracked) until closed. */
async function streamingServer(group: EventLoopGroup, ledger: FaultLedger): Promise<TestServer> {
  return startTestServer({
    loopGroup: group,
    onStream: (stream: Http2Stream) => {
      const onClose = ledger.track();
      stream.handler = { onClose, onDrain: (s) => ledger.pump(s, 100_000) };
      stream.sendHeaders([':status', '200']);
      ledger.pump(stream, 100_000);
    },
  });
}

async function expectPoolDrained(group: EventLoopGroup): Promise<void> {
  const pool = group.loops[0].messagePool;
  await waitUntil(() => pool.outstanding === 0, 3000);
  expect(pool.outstanding, 'pooled messages outstanding').to.equal(0);
}

/** Servers to close after each test, even a failed one (an open listener keeps mocha alive). */
const cleanups: (() => Promise<void>)[] = [];

describe('hardening: transport faults', function () {
  this.timeout(30_000);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('server role: the client resets the TCP connection mid-stream (RST) → every server stream fails once, every write completes once, no message leaks', async () => {
    const group = new EventLoopGroup();
    const ledger = new FaultLedger();
    const server = await streamingServer(group, ledger);
    cleanups.push(() => server.close());
    const attacker = await Attacker.connect(server.port, { settings: [[4, 0x7fff_ffff]] });
    await attacker.send(attacker.peer.windowUpdate(0, 0x7fff_0000));
    for (let id = 1; id <= 9; id += 2) await attacker.send(attacker.peer.headers(id, postHeaders('/upload')));
    await attacker.send(attacker.peer.data(1, 5000));
    await waitUntil(() => attacker.tally.dataBytes > 1024 * 1024, 5000);
    attacker.pauseReading(); // writes back up in the server
    await until(
      () => ledger.writes.some((entry) => entry.calls === 0),
      'server writes waiting behind the paused reader',
    );
    attacker.socket.resetAndDestroy();
    await waitUntil(() => server.closes.length === 1 && ledger.allClosed, 5000);
    ledger.expectSettled('server');
    expect(server.closes.map((close) => close.error?.code)).to.deep.equal(['IO_CONNECTION_RESET']);
    await server.close();
    await expectPoolDrained(group);
  });

  it('client role: the server resets the TCP connection mid-upload (RST) → every client stream fails once, every write completes once, no message leaks', async () => {
    const group = new EventLoopGroup();
    const ledger = new FaultLedger();
    const hostile = await HostileServer.listen((socket, tally) => {
      socket.write(
        Buffer.concat([
          rawFrame(FrameType.SETTINGS, 0, 0),
          rawFrame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0x7f, 0, 0, 0])),
        ]),
      );
      void waitUntil(() => tally.dataFrames > 8, 5000)
        .then(() => {
          socket.pause();
          // Reset with client writes still waiting (expectSettled checks some of them fail).
          return waitUntil(() => ledger.writes.some((entry) => entry.calls === 0), 5000);
        })
        .then(() => socket.resetAndDestroy());
    });
    cleanups.push(() => hostile.close());
    const closes: (SluiceError | null)[] = [];
    const connection = await connectHttp2({
      host: '127.0.0.1',
      port: hostile.port,
      loopGroup: group,
      http2: { onClose: (error) => closes.push(error) },
    });
    for (let i = 0; i < 5; i++) {
      const onClose = ledger.track();
      const stream: Http2Stream = connection.request(postHeaders('/upload'), {
        handler: { onClose, onDrain: (s) => ledger.pump(s, 100_000) },
      });
      ledger.pump(stream, 100_000);
    }
    await waitUntil(() => closes.length === 1 && ledger.allClosed, 5000);
    ledger.expectSettled('client');
    expect(closes.map((error) => error?.code)).to.deep.equal(['IO_CONNECTION_RESET']);
    await hostile.close();
    await expectPoolDrained(group);
  });

  it('socket write error: the client socket is destroyed underneath while writes are in flight → both sides fail every stream once, no message leaks', async () => {
    const group = new EventLoopGroup();
    const serverLedger = new FaultLedger();
    const server = await streamingServer(group, serverLedger);
    cleanups.push(() => server.close());
    const clientLedger = new FaultLedger();
    const closes: (SluiceError | null)[] = [];
    const connection: Http2ClientConnection = await connectHttp2({
      host: '127.0.0.1',
      port: server.port,
      loopGroup: group,
      http2: { onClose: (error) => closes.push(error) },
    });
    const streams: Http2Stream[] = [];
    for (let i = 0; i < 5; i++) {
      const onClose = clientLedger.track();
      const stream = connection.request(postHeaders('/upload'), {
        handler: { onClose, onDrain: (s) => clientLedger.pump(s, 100_000) },
      });
      streams.push(stream);
      clientLedger.pump(stream, 100_000);
    }
    await waitUntil(
      () => serverLedger.writes.length > 100 && clientLedger.writes.some((entry) => entry.calls > 0),
      5000,
    );
    const socketHandler = connection.channelSlot!.channel.first!.handler;
    expect(socketHandler).to.be.instanceOf(SocketHandler);
    (socketHandler as SocketHandler).socket.destroy(
      Object.assign(new Error('simulated write failure'), { code: 'EPIPE' }),
    );
    await waitUntil(
      () => closes.length === 1 && clientLedger.allClosed && serverLedger.allClosed && server.closes.length === 1,
      5000,
    );
    clientLedger.expectSettled('client');
    serverLedger.expectSettled('server');
    expect(closes[0], 'client onClose error').to.be.instanceOf(SluiceError);
    expect(server.closes[0].error, 'server onClose error').to.be.instanceOf(SluiceError);
    await server.close();
    await expectPoolDrained(group);
  });

  it('abrupt close during GOAWAY: the server connection closes gracefully with streams in flight, then the client resets → all streams fail once, close() resolves, no message leaks', async () => {
    const group = new EventLoopGroup();
    const serverLedger = new FaultLedger();
    const server = await streamingServer(group, serverLedger);
    cleanups.push(() => server.close());
    const clientLedger = new FaultLedger();
    const closes: (SluiceError | null)[] = [];
    const connection = await connectHttp2({
      host: '127.0.0.1',
      port: server.port,
      loopGroup: group,
      // A small window keeps the server's responses in flight (its streams cannot finish).
      http2: { initialStreamWindowSize: 16 * 1024, windowMode: 'manual', onClose: (error) => closes.push(error) },
    });
    for (let i = 0; i < 5; i++) {
      const onClose = clientLedger.track();
      const stream = connection.request(i % 2 === 0 ? getHeaders('/') : postHeaders('/upload'), {
        isEndStream: i % 2 === 0,
        // Uploads that cannot finish before the reset (as in the tests above): writes are still
        // buffered when it hits, whatever the timing, so the failure path is always exercised.
        handler: { onClose, onDrain: (s) => clientLedger.pump(s, 100_000) },
      });
      if (i % 2 === 1) clientLedger.pump(stream, 100_000);
    }
    await waitUntil(
      () => serverLedger.streams.length === 5 && clientLedger.writes.some((entry) => entry.calls > 0),
      5000,
    );
    // The server connection closes gracefully (RFC 9113 §6.8): GOAWAY, then it waits for its streams.
    const [channel] = [...server.listener.channels];
    const serverConnection = channel
      .slots()
      .map((slot) => slot.handler)
      .find((handler) => handler instanceof Http2ServerConnection);
    expect(serverConnection, 'the server connection').to.be.instanceOf(Http2ServerConnection);
    const closing = (serverConnection as Http2ServerConnection).close();
    expect(await waitUntil(() => connection.isGoingAway, 2000), 'the client saw the GOAWAY').to.equal(true);
    expect(
      serverLedger.streams.every((entry) => entry.calls === 0),
      'streams still in flight during the GOAWAY',
    ).to.equal(true);
    (connection.channelSlot!.channel.first!.handler as SocketHandler).socket.resetAndDestroy();
    const closed = await Promise.race([closing.then(() => true), sleep(5000).then(() => false)]);
    expect(closed, 'the server connection close() resolved').to.equal(true);
    await waitUntil(() => closes.length === 1 && clientLedger.allClosed && serverLedger.allClosed, 5000);
    clientLedger.expectSettled('client');
    serverLedger.expectSettled('server');
    expect(server.closes, 'server connection closed once').to.have.length(1);
    expect(server.closes[0].error, 'with an error').to.be.instanceOf(SluiceError);
    await server.close();
    await expectPoolDrained(group);
  });
});
