import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  ChannelDirection,
  ChannelErrors,
  ClientBootstrap,
  EventLoopGroup,
  SluiceError,
  SocketHandler,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
  type Listener,
} from '../../handlers/index.js';
import { FRAME_HEADER_SIZE, FrameTag, LengthPrefixFramer } from '../../examples/echo/length-prefix-framer.js';
import { connectFrameClient } from '../../examples/echo/frame-client.js';
import { startEchoServer } from '../../examples/echo/server.js';
import { ioTurns, until } from '../support/waiting.js';
import { sha256 } from '../support/hashing.js';

/** Deterministic frame sizes in 0..max (a small LCG), so a failure reproduces. */
function frameSizes(total: number, max: number): number[] {
  const sizes: number[] = [];
  let seed = 12345;
  for (let sum = 0; sum < total;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const size = Math.min(seed % (max + 1), total - sum);
    sizes.push(size);
    sum += size;
  }
  return sizes;
}

/**
 * The client's application end for the bulk test: writes `payload` as frames with at most
 * `maxWritesInFlight` writes outstanding (write back-pressure via completions), hashes what
 * comes back, and opens its read window slowly — `windowStep` bytes per timer turn, never more
 * than it has consumed — so the echo stream is throttled by the receiver.
 */
class SlowEchoPeer implements ChannelHandler {
  slot: ChannelSlot | null = null;
  readonly echoedFrameSizes: number[] = [];
  bytesReceived = 0;
  isSocketPauseSeen = false;
  writeError: SluiceError | null = null;
  private readonly hash = createHash('sha256');
  private currentFrameSize = -1;
  private consumedNotCredited = 0;
  private nextFrame = 0;
  private offset = 0;
  private writesInFlight = 0;
  private readonly onWritten = (_channel: Channel, _message: IoMessage, error: SluiceError | null): void => {
    this.writesInFlight--;
    if (error !== null) this.writeError ??= error;
    else this.writeMore();
  };

  constructor(
    private readonly payload: Buffer,
    private readonly sentFrameSizes: readonly number[],
    private readonly initialWindow: number,
    private readonly windowStep: number,
    private readonly maxWritesInFlight = 4,
  ) {}

  get isDone(): boolean {
    return this.bytesReceived === this.payload.length && this.echoedFrameSizes.length === this.sentFrameSizes.length;
  }

  get digest(): string {
    return this.hash.digest('hex');
  }

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  /** Starts writing and the slow window opener; resolves when every echo has arrived. */
  async run(socketHandler: SocketHandler, maxTurns: number): Promise<void> {
    this.writeMore();
    for (let turn = 0; turn < maxTurns && !this.isDone; turn++) {
      if (this.slot!.channel.isShuttingDown)
        throw new Error(`channel shut down: ${this.slot!.channel.shutdownError?.code}`);
      if (socketHandler.socket.isPaused()) this.isSocketPauseSeen = true;
      const credit = Math.min(this.consumedNotCredited, this.windowStep);
      if (credit > 0) {
        this.consumedNotCredited -= credit;
        this.slot!.incrementReadWindow(credit);
      }
      await ioTurns(1);
    }
    if (!this.isDone) throw new Error(`echo incomplete: ${this.bytesReceived} of ${this.payload.length} bytes`);
  }

  private writeMore(): void {
    const slot = this.slot!;
    while (this.writesInFlight < this.maxWritesInFlight && this.nextFrame < this.sentFrameSizes.length) {
      const size = this.sentFrameSizes[this.nextFrame++];
      const message = slot.acquireMaxMessageForWrite();
      message.append(this.payload, this.offset, this.offset + size);
      this.offset += size;
      message.onCompletion = this.onWritten;
      this.writesInFlight++;
      slot.sendMessage(message, ChannelDirection.WRITE);
    }
  }

  processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
    const length = message.length;
    if ((message.tag & FrameTag.START) !== 0) this.currentFrameSize = 0;
    this.currentFrameSize += length;
    if ((message.tag & FrameTag.END) !== 0) this.echoedFrameSizes.push(this.currentFrameSize);
    this.hash.update(message.data.subarray(0, length));
    this.bytesReceived += length;
    this.consumedNotCredited += length;
    message.release();
  }

  processWriteMessage(): void {
    throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'nothing is right of the test peer');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.initialWindow;
  }

  messageOverhead(): number {
    return 0;
  }
}

describe('echo example', function () {
  let group: EventLoopGroup;
  let listener: Listener | null;

  beforeEach(() => {
    group = new EventLoopGroup();
    listener = null;
  });

  afterEach(async () => {
    await listener?.close();
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  });

  it('echoes 8 MiB of random bytes byte-exact through a receiver that opens its window slowly', async () => {
    listener = await startEchoServer({ loopGroup: group });
    const payload = randomBytes(8 * 1024 * 1024);
    // The server's framer accepts frames up to its echo window (64 KiB).
    const maxFrame = Math.min(64 * 1024, group.loops[0].messagePool.dataMessageSize - FRAME_HEADER_SIZE);
    const sizes = frameSizes(payload.length, maxFrame);
    const peer = new SlowEchoPeer(payload, sizes, 4 * 1024, 8 * 1024);
    const channel = await new ClientBootstrap({ loopGroup: group }).connect({
      host: '127.0.0.1',
      port: listener.port,
      pipeline: (ready) => {
        ready.appendHandler(new LengthPrefixFramer());
        ready.appendHandler(peer);
      },
    });
    const socketHandler = channel.first!.handler as SocketHandler;
    await peer.run(socketHandler, 200_000);
    expect(peer.writeError).to.equal(null);
    expect(peer.digest).to.equal(sha256(payload));
    expect(peer.echoedFrameSizes).to.deep.equal(sizes);
    // The slow window really pushed back: the client stopped reading its socket at some point.
    expect(peer.isSocketPauseSeen).to.equal(true);
    channel.shutdown();
    expect(await channel.whenShutdown).to.equal(null);
  });

  it('echoes correctly on 200 concurrent connections', async () => {
    const closedErrors: (string | null)[] = [];
    listener = await startEchoServer({
      loopGroup: group,
      onConnectionClosed: (_channel, error) => closedErrors.push(error?.code ?? null),
    });
    const port = listener.port;
    const connectionCount = 200;
    const results = await Promise.all(
      Array.from({ length: connectionCount }, async (_unused, index) => {
        const { channel, client } = await connectFrameClient({ port, loopGroup: group });
        const frames = [randomBytes(index % 17), randomBytes(1000 + index), Buffer.from(`connection ${index}`)];
        const sends = frames.map((frame) => client.sendFrame(frame));
        const echoes: Buffer[] = [];
        for (let count = 0; count < frames.length; count++) echoes.push(await client.readFrame());
        await Promise.all(sends);
        channel.shutdown();
        await channel.whenShutdown;
        return echoes.every((echo, position) => echo.equals(frames[position]));
      }),
    );
    expect(results.filter(Boolean).length).to.equal(connectionCount);
    await until(() => closedErrors.length === connectionCount, 'every server channel to close');
    // Each server channel closed because its client did, with nothing else going wrong.
    expect(new Set(closedErrors)).to.deep.equal(new Set(['IO_SOCKET_CLOSED']));
  });

  it('echoes frames that a plain node:net client writes one byte at a time', async () => {
    listener = await startEchoServer({ loopGroup: group });
    const frames = [Buffer.from('split'), Buffer.alloc(0), randomBytes(3000)];
    const wire = Buffer.concat(
      frames.flatMap((frame) => {
        const header = Buffer.alloc(FRAME_HEADER_SIZE);
        header.writeUInt32BE(frame.length, 0);
        return [header, frame];
      }),
    );
    const client = net.connect({ host: '127.0.0.1', port: listener.port });
    client.setNoDelay(true);
    const received: Buffer[] = [];
    let receivedBytes = 0;
    client.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
    });
    await new Promise((resolve) => client.once('connect', resolve));
    for (let offset = 0; offset < wire.length; offset++) client.write(wire.subarray(offset, offset + 1));
    await until(() => receivedBytes === wire.length, 'every echo');
    expect(Buffer.concat(received).equals(wire)).to.equal(true);
    client.end();
    await new Promise((resolve) => client.once('close', resolve));
  });

  describe('as programs', () => {
    const mainPath = fileURLToPath(new URL('../../examples/echo/main.js', import.meta.url));
    const clientPath = fileURLToPath(new URL('../../examples/echo/client.js', import.meta.url));

    /** Collects a child's output and resolves with its exit code and signal. */
    function outcome(child: ChildProcess): {
      stdout: () => string;
      stderr: () => string;
      exit: Promise<[number | null, NodeJS.Signals | null]>;
    } {
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (code, signal) => resolve([code, signal])),
      );
      return { stdout: () => stdout, stderr: () => stderr, exit };
    }

    it('runs the server, echoes for the client program, and exits 0 on SIGTERM', async () => {
      const server = spawn(process.execPath, [mainPath], {
        env: { ...process.env, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const serverRun = outcome(server);
      try {
        await until(
          () => serverRun.stdout().includes('\n') || server.exitCode !== null,
          'the server to print its address',
        );
        const match = /^listening on tcp:\/\/127\.0\.0\.1:(\d+)\n$/.exec(serverRun.stdout());
        expect(match, `server printed ${JSON.stringify(serverRun.stdout())} ${serverRun.stderr()}`).to.not.equal(null);
        const port = match![1];

        const client = spawn(process.execPath, [clientPath, port, 'hello', 'sluice echo'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const clientRun = outcome(client);
        const [clientCode] = await clientRun.exit;
        expect(clientRun.stderr()).to.equal('');
        expect(clientRun.stdout()).to.equal('hello\nsluice echo\n');
        expect(clientCode).to.equal(0);

        server.kill('SIGTERM');
        const [serverCode, serverSignal] = await serverRun.exit;
        expect([serverCode, serverSignal]).to.deep.equal([0, null]);
        // Exactly one line, ever.
        expect(serverRun.stdout()).to.equal(`listening on tcp://127.0.0.1:${port}\n`);
      } finally {
        if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      }
    });
  });
});
