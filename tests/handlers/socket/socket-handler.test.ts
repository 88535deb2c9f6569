import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  Channel,
  ChannelDirection,
  ChannelErrors,
  ClientBootstrap,
  EventLoopGroup,
  IoErrors,
  ServerBootstrap,
  SluiceError,
  SocketHandler,
  VirtualEventLoop,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
  type Listener,
  type SocketStatistics,
} from '../../../handlers/index.js';
import { AppEnd, EchoAppEnd } from '../../support/app-end.js';
import { closeServer } from '../../support/loopback.js';
import { ioTurns, until } from '../../support/waiting.js';
import { sha256 } from '../../support/hashing.js';

function socketHandlerOf(channel: Channel): SocketHandler {
  const handler = channel.first?.handler;
  if (!(handler instanceof SocketHandler)) throw new Error('the first slot holds no SocketHandler');
  return handler;
}

describe('SocketHandler over loopback', function () {
  let group: EventLoopGroup;
  let channels: Channel[];
  let servers: net.Server[];
  let peerSockets: net.Socket[];
  let listeners: Listener[];

  /** A node:net server whose accepted sockets are kept for the test (and cleaned up after). */
  async function netServer(
    onConnection: (socket: net.Socket) => void,
    listenOn: net.ListenOptions = { host: '127.0.0.1', port: 0 },
  ): Promise<net.Server> {
    const server = net.createServer((socket) => {
      peerSockets.push(socket);
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenOn, () => resolve());
    });
    return server;
  }

  function portOf(server: net.Server): number {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not a TCP server');
    return address.port;
  }

  async function connect(
    app: ChannelHandler,
    endpoint: { host?: string; port?: number; path?: string },
    onShutdown?: (channel: Channel, error: SluiceError | null) => void,
  ): Promise<Channel> {
    const channel = await new ClientBootstrap({ loopGroup: group }).connect({
      ...endpoint,
      pipeline: (ready) => ready.appendHandler(app),
      ...(onShutdown !== undefined ? { onShutdown } : {}),
    });
    channels.push(channel);
    return channel;
  }

  beforeEach(() => {
    group = new EventLoopGroup();
    channels = [];
    servers = [];
    peerSockets = [];
    listeners = [];
  });

  afterEach(async () => {
    for (const channel of channels) channel.shutdown(null, true);
    await Promise.all(channels.map((channel) => channel.whenShutdown));
    await Promise.all(listeners.map((listener) => listener.close()));
    for (const socket of peerSockets) socket.destroy();
    await Promise.all(servers.map(closeServer));
    // Every message a test's channels acquired went back to the pool.
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  });

  it('reports a peer reset mid-transfer to onShutdown and whenShutdown as IO_CONNECTION_RESET', async () => {
    // The peer resets as soon as the transfer has started. (It must have no write of its own
    // pending: libuv then falls back to a plain close, and the client would see a FIN.)
    const server = await netServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const app = new AppEnd();
    let shutdownError: SluiceError | null | undefined;
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) }, (_channel, error) => {
      shutdownError = error;
    });
    const messages = app.write(randomBytes(4 * 1024 * 1024));
    const error = await channel.whenShutdown;
    expect(error?.code).to.equal(IoErrors.CONNECTION_RESET.code);
    expect(shutdownError?.code).to.equal(IoErrors.CONNECTION_RESET.code);
    expect(app.completionCounts).to.deep.equal(new Array<number>(messages).fill(1));
  });

  it('a graceful close delivers every byte to a peer that is still writing (linger: no RST over our last bytes)', async () => {
    // The peer sends while we close: its bytes sit unread in our socket. Closing a socket with
    // unread input makes the kernel send RST, which discards our data still in flight — so the
    // handler reads and drops until the peer's FIN (or SOCKET_LINGER_MS) before destroying it.
    const payload = randomBytes(1024 * 1024);
    let peer: net.Socket | null = null;
    const server = await netServer((socket) => {
      peer = socket;
      socket.pause(); // reads nothing until our close has begun
    });
    const app = new AppEnd();
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    await until(() => peer !== null, 'the peer to accept');
    const noise = Buffer.alloc(16 * 1024, 0x6e);
    const noisy = setInterval(() => peer!.write(noise), 1);
    try {
      await until(() => app.bytesReceived > 64 * 1024, 'the peer noise to arrive');
      app.write(payload);
      channel.shutdown(null);
      await channel.whenShutdown;
      // Only now does the peer read: our whole payload, then our FIN — never ECONNRESET.
      const chunks: Buffer[] = [];
      const ended = new Promise<Error | null>((resolve) => {
        peer!.on('data', (chunk: Buffer) => chunks.push(chunk));
        peer!.once('end', () => resolve(null));
        peer!.once('error', (error) => resolve(error));
      });
      peer!.resume();
      expect(await ended).to.equal(null);
      expect(sha256(Buffer.concat(chunks))).to.equal(sha256(payload));
    } finally {
      clearInterval(noisy);
    }
  });

  it('rejects a connection to a closed loopback port with IO_CONNECTION_REFUSED', async () => {
    const probe = await netServer(() => undefined);
    const port = portOf(probe);
    await new Promise((resolve) => probe.close(resolve));
    let setupError: SluiceError | null = null;
    const failure = await new ClientBootstrap({ loopGroup: group })
      .connect({
        host: '127.0.0.1',
        port,
        onSetup: (error) => {
          setupError = error;
        },
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).to.be.instanceOf(SluiceError);
    expect((failure as SluiceError).code).to.equal(IoErrors.CONNECTION_REFUSED.code);
    expect(setupError).to.equal(failure);
  });

  it('rejects with IO_CONNECT_TIMEOUT when the timeout task fires before the connect completes (virtual time)', async () => {
    const server = await netServer(() => undefined);
    const loop = new VirtualEventLoop();
    const connectTimeoutMs = 1000;
    const attempt = new ClientBootstrap({ loopGroup: new EventLoopGroup([loop]) }).connect({
      host: '127.0.0.1',
      port: portOf(server),
      socketOptions: { connectTimeoutMs },
    });
    // Synchronously: libuv cannot have reported the connect yet, so the timeout decides.
    loop.advance(connectTimeoutMs + 1);
    const failure = await attempt.then(
      () => null,
      (error: unknown) => error,
    );
    expect((failure as SluiceError).code).to.equal(IoErrors.CONNECT_TIMEOUT.code);
    expect(loop.messagePool.outstanding).to.equal(0);
    expect(loop.pendingTaskCount).to.equal(0);
  });

  it('pauses the socket at a zero read window and resumes it when the window opens', async () => {
    const payload = randomBytes(64 * 1024);
    const server = await netServer((socket) => socket.write(payload));
    const app = new AppEnd({ window: 0, windowOpening: 'never' });
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const socketHandler = socketHandlerOf(channel);
    await until(() => socketHandler.socket.isPaused(), 'the socket to pause');
    await ioTurns(20);
    expect(app.bytesReceived).to.equal(0);
    expect(socketHandler.socket.isPaused()).to.equal(true);

    app.slot!.incrementReadWindow(payload.length);
    await until(() => app.bytesReceived === payload.length, 'the payload to arrive');
    expect(sha256(app.receivedBytes)).to.equal(sha256(payload));
    expect(socketHandler.socket.isPaused()).to.equal(false);
  });

  it('delivers what a partly open window takes at once and the rest in order as it opens, again after it closes', async () => {
    const first = randomBytes(64 * 1024);
    const second = randomBytes(32 * 1024);
    let peer: net.Socket | null = null;
    const server = await netServer((socket) => {
      peer = socket;
      socket.write(first);
    });
    const app = new AppEnd({ window: 1000, windowOpening: 'never' });
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const socketHandler = socketHandlerOf(channel);
    await until(() => socketHandler.socket.isPaused(), 'the socket to pause');
    await ioTurns(20);
    expect(app.bytesReceived).to.equal(1000);

    app.slot!.incrementReadWindow(first.length - 1000);
    await until(() => app.bytesReceived === first.length, 'the first payload to arrive');
    await until(() => !socketHandler.socket.isPaused(), 'the socket to resume');

    // The window is spent again: the next bytes wait, and go as the window reopens, in order.
    peer!.write(second);
    await until(() => socketHandler.socket.isPaused(), 'the socket to pause again');
    await ioTurns(20);
    expect(app.bytesReceived).to.equal(first.length);
    app.slot!.incrementReadWindow(10);
    await until(() => app.bytesReceived === first.length + 10, 'ten more bytes');
    app.slot!.incrementReadWindow(second.length - 10);
    await until(() => app.bytesReceived === first.length + second.length, 'the second payload to arrive');
    expect(sha256(app.receivedBytes)).to.equal(sha256(Buffer.concat([first, second])));
    expect(socketHandler.socket.isPaused()).to.equal(false);
  });

  it('delivers bytes held behind a closed window before shutting down on a peer FIN', async () => {
    const payload = randomBytes(64 * 1024);
    const server = await netServer((socket) => socket.end(payload));
    const app = new AppEnd({ window: 0, windowOpening: 'never' });
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const socketHandler = socketHandlerOf(channel);
    await until(() => socketHandler.socket.isPaused(), 'the socket to pause');
    await ioTurns(20);
    expect(channel.isShuttingDown).to.equal(false);
    app.slot!.incrementReadWindow(payload.length);
    const error = await channel.whenShutdown;
    expect(error?.code).to.equal(IoErrors.SOCKET_CLOSED.code);
    expect(sha256(app.receivedBytes)).to.equal(sha256(payload));
  });

  it('fires each write completion exactly once, with null when the bytes were written', async () => {
    const payload = randomBytes(1024 * 1024 + 17);
    let serverBytes = 0;
    const server = await netServer((socket) => socket.on('data', (chunk: Buffer) => (serverBytes += chunk.length)));
    const app = new AppEnd();
    await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const messages = app.write(payload);
    await until(
      () => app.completionCounts.length === messages && app.completionCounts.every((count) => count >= 1),
      'every completion',
    );
    await until(() => serverBytes === payload.length, 'the peer to read everything');
    expect(app.completionCounts).to.deep.equal(new Array<number>(messages).fill(1));
    expect(app.completionErrors).to.deep.equal(new Array<null>(messages).fill(null));
  });

  it('fires each write completion exactly once, with an error for writes the peer reset prevented', async () => {
    // The peer never reads, so most of the 8 MiB cannot leave the process before the reset.
    const server = await netServer((socket) => socket.pause());
    const app = new AppEnd();
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const messages = app.write(randomBytes(8 * 1024 * 1024));
    await until(() => peerSockets.length === 1, 'the peer to accept');
    peerSockets[0].resetAndDestroy();
    const error = await channel.whenShutdown;
    expect([IoErrors.CONNECTION_RESET.code, IoErrors.BROKEN_PIPE.code]).to.include(error?.code);
    expect(app.completionCounts).to.deep.equal(new Array<number>(messages).fill(1));
    const firstFailure = app.completionErrors.findIndex((completion) => completion !== null);
    expect(firstFailure).to.be.greaterThan(-1);
    // Writes complete in order: successes first, then every write after the reset fails.
    expect(app.completionErrors.slice(firstFailure).every((completion) => completion instanceof SluiceError)).to.equal(
      true,
    );
  });

  it('flushes every pending write before FIN on graceful shutdown', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const serverChunks: Buffer[] = [];
    let serverEnded = false;
    const server = await netServer((socket) => {
      socket.on('data', (chunk: Buffer) => serverChunks.push(chunk));
      socket.on('end', () => (serverEnded = true));
    });
    const app = new AppEnd();
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const messages = app.write(payload);
    channel.shutdown();
    const error = await channel.whenShutdown;
    expect(error).to.equal(null);
    await until(() => serverEnded, 'the peer to see FIN');
    expect(sha256(Buffer.concat(serverChunks))).to.equal(sha256(payload));
    expect(app.completionCounts).to.deep.equal(new Array<number>(messages).fill(1));
    expect(app.completionErrors).to.deep.equal(new Array<null>(messages).fill(null));
  });

  it('destroys the socket at once and fails pending writes on an immediate shutdown', async () => {
    let peerClosed = false;
    let peerBytes = 0;
    const server = await netServer((socket) => {
      socket.pause();
      socket.on('data', (chunk: Buffer) => (peerBytes += chunk.length));
      socket.on('close', () => (peerClosed = true));
    });
    const app = new AppEnd();
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const socketHandler = socketHandlerOf(channel);
    const payload = randomBytes(8 * 1024 * 1024);
    const messages = app.write(payload);
    channel.shutdown(null, true);
    await channel.whenShutdown;
    expect(socketHandler.socket.destroyed).to.equal(true);
    expect(app.completionCounts).to.deep.equal(new Array<number>(messages).fill(1));
    expect(
      app.completionErrors.some((completion) => completion?.code === ChannelErrors.SHUTDOWN_NOT_GRACEFUL.code),
    ).to.equal(true);
    await until(() => peerSockets.length === 1, 'the peer to accept');
    peerSockets[0].resume();
    await until(() => peerClosed, 'the peer to see the close');
    expect(peerBytes).to.be.lessThan(payload.length);
  });

  it('counts bytes read and written in its statistics', async () => {
    const server = await netServer((socket) => socket.pipe(socket));
    const app = new AppEnd();
    const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
    const socketHandler = socketHandlerOf(channel);
    const payload = randomBytes(100_000);
    app.write(payload);
    await until(() => app.bytesReceived === payload.length, 'the echo');
    const statistics: SocketStatistics = socketHandler.gatherStatistics();
    expect(statistics.category).to.equal('socket');
    expect(statistics.bytesWritten).to.equal(payload.length);
    expect(statistics.bytesRead).to.equal(payload.length);
    socketHandler.resetStatistics();
    expect(socketHandler.gatherStatistics()).to.include({ bytesRead: 0, bytesWritten: 0 });
  });

  describe('address families', () => {
    async function expectEchoFrom(endpoint: { host?: string; path?: string; port?: number }): Promise<void> {
      const app = new AppEnd();
      await connect(app, endpoint);
      const payload = randomBytes(50_000);
      app.write(payload);
      await until(() => app.bytesReceived === payload.length, 'the echo');
      expect(sha256(app.receivedBytes)).to.equal(sha256(payload));
    }

    function unixPath(name: string): string {
      const socketPath = path.join(os.tmpdir(), `sluice-${name}-${process.pid}-${Date.now()}.sock`);
      rmSync(socketPath, { force: true });
      return socketPath;
    }

    it('connects to a Unix socket peer and echoes', async () => {
      const socketPath = unixPath('client');
      await netServer((socket) => socket.pipe(socket), { path: socketPath });
      await expectEchoFrom({ path: socketPath });
    });

    it('connects to an IPv6 ::1 peer and echoes', async () => {
      const server = await netServer((socket) => socket.pipe(socket), { host: '::1', port: 0 });
      await expectEchoFrom({ host: '::1', port: portOf(server) });
    });

    async function expectServerEchoes(connectTo: net.NetConnectOpts): Promise<void> {
      const payload = randomBytes(50_000);
      const client = net.connect(connectTo);
      peerSockets.push(client);
      const chunks: Buffer[] = [];
      let received = 0;
      client.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
      });
      client.write(payload);
      await until(() => received === payload.length, 'the echo from the sluice server');
      expect(sha256(Buffer.concat(chunks))).to.equal(sha256(payload));
    }

    it('serves on a Unix socket path', async () => {
      const socketPath = unixPath('server');
      const listener = await new ServerBootstrap({ loopGroup: group }).listen({
        path: socketPath,
        pipeline: (channel) => channel.appendHandler(new EchoAppEnd()),
      });
      listeners.push(listener);
      expect(listener.address).to.deep.equal({ path: socketPath });
      await expectServerEchoes({ path: socketPath });
    });

    it('serves on IPv6 ::1', async () => {
      const listener = await new ServerBootstrap({ loopGroup: group }).listen({
        host: '::1',
        port: 0,
        pipeline: (channel) => channel.appendHandler(new EchoAppEnd()),
      });
      listeners.push(listener);
      await expectServerEchoes({ host: '::1', port: listener.port });
    });
  });

  describe('API misuse', () => {
    /** Sits between the socket and the application so the test can send reads as a handler would. */
    class MiddleProbe implements ChannelHandler {
      slot: ChannelSlot | null = null;
      installed(slot: ChannelSlot): void {
        this.slot = slot;
      }
      processReadMessage(slot: ChannelSlot, message: IoMessage): void {
        slot.sendMessage(message, ChannelDirection.READ);
      }
      processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
        slot.sendMessage(message, ChannelDirection.WRITE);
      }
      incrementReadWindow(slot: ChannelSlot, size: number): void {
        slot.incrementReadWindow(size);
      }
      shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
        slot.onHandlerShutdownComplete(direction, error, free);
      }
      initialWindowSize(): number {
        return 1024;
      }
      messageOverhead(): number {
        return 0;
      }
    }

    it('refuses a read larger than the right window with CHANNEL_READ_WINDOW_EXCEEDED and keeps working', async () => {
      const server = await netServer((socket) => socket.pipe(socket));
      const probe = new MiddleProbe();
      const app = new AppEnd({ window: 64 });
      const channel = await new ClientBootstrap({ loopGroup: group }).connect({
        host: '127.0.0.1',
        port: portOf(server),
        pipeline: (ready) => {
          ready.appendHandler(probe);
          ready.appendHandler(app);
        },
      });
      channels.push(channel);
      const tooLarge = channel.messagePool.acquire(100);
      tooLarge.append(Buffer.alloc(100, 1));
      let refusal: unknown = null;
      try {
        probe.slot!.sendMessage(tooLarge, ChannelDirection.READ);
      } catch (error) {
        refusal = error;
      }
      expect((refusal as SluiceError).code).to.equal(ChannelErrors.READ_WINDOW_EXCEEDED.code);
      // The sender still owns the refused message; the window is untouched.
      expect(tooLarge.isReleased).to.equal(false);
      tooLarge.release();
      expect(app.slot!.windowSize).to.equal(64);
      expect(channel.isShuttingDown).to.equal(false);

      app.write(Buffer.from('still works'));
      await until(() => app.bytesReceived === 11, 'the echo after the refused read');
      expect(app.receivedBytes.toString()).to.equal('still works');
    });

    it('refuses to send after shutdown with CHANNEL_SHUT_DOWN', async () => {
      const server = await netServer(() => undefined);
      const app = new AppEnd();
      const channel = await connect(app, { host: '127.0.0.1', port: portOf(server) });
      channel.shutdown();
      await channel.whenShutdown;
      const message = channel.messagePool.acquire(4);
      message.append(Buffer.from('late'));
      expect(() => app.slot!.sendMessage(message, ChannelDirection.WRITE))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.SHUT_DOWN.code);
      message.release();
    });
  });

  describe('Listener.close()', () => {
    it('shuts accepted channels down gracefully and resolves once all are done', async () => {
      const reply = randomBytes(256 * 1024);
      const accepted: Channel[] = [];
      const listener = await new ServerBootstrap({ loopGroup: group }).listen({
        host: '127.0.0.1',
        port: 0,
        pipeline: (channel) => channel.appendHandler(new AppEnd()),
        onAcceptSetup: (channel) => {
          accepted.push(channel);
          // A pending write the graceful close must still deliver.
          (channel.last!.handler as AppEnd).write(reply);
        },
      });
      const clientCount = 3;
      const received = new Array<number>(clientCount).fill(0);
      const ended = new Array<boolean>(clientCount).fill(false);
      for (let index = 0; index < clientCount; index++) {
        const client = net.connect({ host: '127.0.0.1', port: listener.port });
        peerSockets.push(client);
        client.on('error', () => undefined);
        client.on('data', (chunk: Buffer) => (received[index] += chunk.length));
        client.on('end', () => (ended[index] = true));
      }
      await until(() => accepted.length === clientCount, 'every connection to be accepted');
      let isClosed = false;
      const closing = listener.close().then(() => (isClosed = true));
      expect(isClosed).to.equal(false);
      await closing;
      expect(listener.channels.size).to.equal(0);
      expect(accepted.every((channel) => channel.isShutDown)).to.equal(true);
      await until(() => ended.every(Boolean), 'every client to see FIN');
      expect(received).to.deep.equal(new Array<number>(clientCount).fill(reply.length));
    });
  });
});
