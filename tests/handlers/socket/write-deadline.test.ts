/**
 * The socket handler's write-progress deadline (`socketOptions.writeTimeoutMs`) over loopback:
 * a peer that never reads cannot hold a raw pipeline, a graceful shutdown, or a TLS close_notify
 * open for longer than the deadline.
 */
import { expect } from 'chai';
import net from 'node:net';
import tls from 'node:tls';
import {
  Channel,
  EventLoopGroup,
  IoErrors,
  SOCKET_OPTIONS_DEFAULTS,
  ServerBootstrap,
  SocketHandler,
  type SocketOptions,
  TlsHandler,
  type Listener,
} from '../../../handlers/index.js';
import { AppEnd, EchoAppEnd } from '../../support/app-end.js';
import { until } from '../../support/waiting.js';
import { pem } from '../tls/tls-test-kit.js';

const MiB = 1024 * 1024;
/** More than loopback's send and receive buffers hold together, so writes must stall. */
const STALLING_BYTES = 32 * MiB;

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null | undefined)?.code;
}

describe('SocketHandler write deadline over loopback', function () {
  this.timeout(60_000);
  let group: EventLoopGroup;
  let listener: Listener | null;
  let peers: net.Socket[];

  beforeEach(() => {
    group = new EventLoopGroup();
    listener = null;
    peers = [];
  });

  afterEach(async () => {
    for (const peer of peers) peer.destroy();
    await listener?.close();
  });

  /** A peer that connects and never reads (and ignores its socket errors). */
  function silentReader(port: number): net.Socket {
    const peer = net.connect(port, '127.0.0.1');
    peer.on('error', () => undefined);
    peer.pause();
    peers.push(peer);
    return peer;
  }

  /** Every message the application wrote completed exactly once; those that failed, with IO_WRITE_TIMEOUT. */
  function expectCompletedOnce(app: AppEnd): void {
    expect(app.completionCounts.length, 'messages written').to.equal(app.writeCount);
    expect(
      app.completionCounts.every((count) => count === 1),
      'each completion once',
    ).to.equal(true);
    const codes = new Set(app.completionErrors.filter((error) => error !== null).map((error) => error.code));
    expect([...codes]).to.deep.equal([IoErrors.WRITE_TIMEOUT.code]);
  }

  /**
   * Listens with a 300 ms write deadline; `install` builds each accepted channel's pipeline,
   * `onAcceptSetup` runs once it is set up. Returns the channels as they are accepted.
   */
  async function listenWithDeadline(
    install: (channel: Channel) => void,
    onAcceptSetup?: (channel: Channel) => void,
    socketOptions: SocketOptions = { writeTimeoutMs: 300 },
  ): Promise<Channel[]> {
    const channels: Channel[] = [];
    listener = await new ServerBootstrap({ loopGroup: group }).listen({
      host: '127.0.0.1',
      port: 0,
      socketOptions,
      pipeline: (channel) => {
        channels.push(channel);
        install(channel);
      },
      ...(onAcceptSetup !== undefined ? { onAcceptSetup } : {}),
    });
    return channels;
  }

  /** The first channel ends with IO_WRITE_TIMEOUT (waited for, bounded) and the pool is balanced. */
  async function expectWriteTimeout(channels: Channel[], what: string): Promise<void> {
    await until(() => channels[0]?.isShutDown === true, what, 30_000);
    expect(codeOf(channels[0].shutdownError)).to.equal(IoErrors.WRITE_TIMEOUT.code);
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  }

  it('closes an echo pipeline whose peer never reads with IO_WRITE_TIMEOUT; another connection is served meanwhile', async () => {
    const apps: EchoAppEnd[] = [];
    const channels = await listenWithDeadline((channel) => {
      apps.push(new EchoAppEnd({ isKeepingChunks: false }));
      channel.appendHandler(apps[apps.length - 1]);
    });
    const stuck = silentReader(listener!.port);
    const chunk = Buffer.alloc(MiB, 0x73);
    for (let sent = 0; sent < STALLING_BYTES; sent += MiB) stuck.write(chunk);
    await expectWriteTimeout(channels, 'the stuck echo channel to close');
    expectCompletedOnce(apps[0]);
    // A peer that reads is echoed in full while, and after, the stuck one is cut.
    const reader = net.connect(listener!.port, '127.0.0.1');
    peers.push(reader);
    let echoed = 0;
    reader.on('data', (data: Buffer) => (echoed += data.length));
    reader.write(Buffer.alloc(64 * 1024, 0x72));
    await until(() => echoed === 64 * 1024, 'the second connection to be echoed', 10_000);
  });

  it('ends a graceful shutdown toward a peer that never reads with IO_WRITE_TIMEOUT', async () => {
    const apps: AppEnd[] = [];
    const channels = await listenWithDeadline(
      (channel) => {
        apps.push(new AppEnd());
        channel.appendHandler(apps[apps.length - 1]);
      },
      (channel) => {
        // Everything at once, then a graceful close: FIN only after all of it is flushed.
        apps[0].write(Buffer.alloc(STALLING_BYTES, 0x77));
        channel.shutdown(null);
      },
    );
    silentReader(listener!.port);
    await expectWriteTimeout(channels, 'the graceful shutdown to end');
    expectCompletedOnce(apps[0]);
  });

  it('without a writeTimeoutMs, still ends a graceful shutdown toward a peer that never reads after closeFlushTimeoutMs', async () => {
    const apps: AppEnd[] = [];
    const channels = await listenWithDeadline(
      (channel) => {
        apps.push(new AppEnd());
        channel.appendHandler(apps[apps.length - 1]);
      },
      (channel) => {
        apps[0].write(Buffer.alloc(STALLING_BYTES, 0x66));
        channel.shutdown(null);
      },
      { writeTimeoutMs: 0, closeFlushTimeoutMs: 300 },
    );
    silentReader(listener!.port);
    await expectWriteTimeout(channels, 'the graceful shutdown to end by closeFlushTimeoutMs');
    expectCompletedOnce(apps[0]);
  });

  it('bounds a TLS close_notify the peer never reads (TLS handler slot)', async () => {
    const apps: AppEnd[] = [];
    const channels = await listenWithDeadline((channel) =>
      channel.appendHandler(
        new TlsHandler({
          role: 'server',
          cert: pem.serverCert,
          key: pem.serverKey,
          onNegotiated: (slot) => {
            const app = new AppEnd();
            apps.push(app);
            slot.insertRight(app);
            // Once the handler is ready for plaintext (after this callback returns).
            setImmediate(() => {
              app.write(Buffer.alloc(STALLING_BYTES, 0x74));
              slot.channel.shutdown(null);
            });
          },
        }),
      ),
    );
    const peer = tls.connect({ port: listener!.port, host: '127.0.0.1', ca: pem.ca, servername: 'localhost' });
    peer.on('error', () => undefined);
    peer.once('secureConnect', () => peer.pause());
    peers.push(peer);
    await expectWriteTimeout(channels, 'the TLS shutdown to end');
    expect(apps[0].completions, 'every write completed').to.equal(apps[0].writeCount);
  });

  it('is off by default (the flush of a graceful close is bounded at 30 s), and refuses a timeout that is not a number of ms', () => {
    expect([SOCKET_OPTIONS_DEFAULTS.writeTimeoutMs, SOCKET_OPTIONS_DEFAULTS.closeFlushTimeoutMs]).to.deep.equal([
      0, 30_000,
    ]);
    const socket = new net.Socket();
    expect(() => new SocketHandler(socket, { writeTimeoutMs: -1 }))
      .to.throw()
      .with.property('code', IoErrors.INVALID_OPTIONS.code);
    expect(() => new SocketHandler(socket, { closeFlushTimeoutMs: Number.NaN }))
      .to.throw()
      .with.property('code', IoErrors.INVALID_OPTIONS.code);
    const handler = new SocketHandler(socket);
    expect(handler.isWaitingForWrite).to.equal(false);
    socket.destroy();
  });
});
