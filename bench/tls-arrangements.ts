/**
 * Compares the two TLS arrangements in one run: (a) socket slot + TlsHandler slot (Node's TLS
 * over an in-memory duplex) and (b) Node's TLS socket on the TCP handle wrapped by the socket
 * handler (nativeTlsTransport). Prints bulk download throughput, small round trips per second,
 * and the ratio b/a. Run: `node dist/bench/tls-arrangements.js [MiB] [roundTrips]`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChannelDirection,
  ClientBootstrap,
  EventLoopGroup,
  ServerBootstrap,
  socketTransport,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
  type SluiceError,
  type TransportHandlerFactory,
} from '../handlers/index.js';
import { alpnPipeline, nativeTlsTransport, tlsPipeline, type TlsOptions } from '../handlers/tls/index.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures/tls');
const read = (name: string): Buffer => readFileSync(path.join(fixtures, name));
const downloadMiB = Number(process.argv[2] ?? 64);
const roundTrips = Number(process.argv[3] ?? 5000);
const SMALL = 64;
const IN_FLIGHT = 16;

/** Server side: on a 'D' request streams `downloadMiB` MiB with a bounded number of writes in flight; otherwise echoes. */
class BenchServerApp implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private remaining = 0;
  private inFlight = 0;
  private readonly onWritten = (): void => {
    this.inFlight--;
    this.pump();
  };

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const isDownload = message.data[0] === 0x44;
    const length = message.length;
    if (isDownload) {
      message.release();
      this.remaining = downloadMiB * 1024 * 1024;
      this.pump();
    } else {
      const reply = slot.acquireMessageForWrite(length);
      reply.append(message.data, 0, length);
      message.release();
      slot.sendMessage(reply, ChannelDirection.WRITE);
    }
    slot.incrementReadWindow(length);
  }

  private pump(): void {
    const slot = this.slot!;
    while (this.remaining > 0 && this.inFlight < IN_FLIGHT && !slot.channel.isShuttingDown) {
      const message = slot.acquireMaxMessageForWrite();
      const count = Math.min(message.capacity, this.remaining);
      message.data.fill(0x61, 0, count);
      message.length = count;
      message.onCompletion = this.onWritten;
      this.remaining -= count;
      this.inFlight++;
      slot.sendMessage(message, ChannelDirection.WRITE);
    }
  }

  processWriteMessage(): void {}
  incrementReadWindow(): void {}
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }
  initialWindowSize(): number {
    return 256 * 1024;
  }
  messageOverhead(): number {
    return 0;
  }
}

/** Client side: counts bytes and resolves the waiter once `expected` arrived. */
class BenchClientApp implements ChannelHandler {
  slot: ChannelSlot | null = null;
  private received = 0;
  private expected = 0;
  private resolve: (() => void) | null = null;
  readonly whenInstalled: Promise<void>;
  private resolveInstalled!: () => void;

  constructor() {
    this.whenInstalled = new Promise((resolve) => (this.resolveInstalled = resolve));
  }

  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.resolveInstalled();
  }

  send(byte: number, length: number, expected: number): Promise<void> {
    const slot = this.slot!;
    this.received = 0;
    this.expected = expected;
    const promise = new Promise<void>((resolve) => (this.resolve = resolve));
    const message = slot.acquireMessageForWrite(length);
    message.data.fill(byte, 0, length);
    message.length = length;
    slot.sendMessage(message, ChannelDirection.WRITE);
    return promise;
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    this.received += message.length;
    slot.incrementReadWindow(message.length);
    message.release();
    if (this.received >= this.expected && this.resolve !== null) {
      const resolve = this.resolve;
      this.resolve = null;
      resolve();
    }
  }

  processWriteMessage(): void {}
  incrementReadWindow(): void {}
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }
  initialWindowSize(): number {
    return 256 * 1024;
  }
  messageOverhead(): number {
    return 0;
  }
}

interface Result {
  readonly mibPerSecond: number;
  readonly roundTripsPerSecond: number;
}

async function measure(arrangement: 'handler' | 'native', group: EventLoopGroup): Promise<Result> {
  const serverOptions: TlsOptions = {
    role: 'server',
    cert: read('server-cert.pem'),
    key: read('server-key.pem'),
    onNegotiated: alpnPipeline({}, { fallback: () => new BenchServerApp() }),
  };
  const clientApp = new BenchClientApp();
  const clientOptions: TlsOptions = {
    role: 'client',
    ca: read('ca-cert.pem'),
    onNegotiated: (slot) => slot.insertRight(clientApp),
  };
  const isNative = arrangement === 'native';
  const serverTransport: TransportHandlerFactory = isNative ? nativeTlsTransport(serverOptions) : socketTransport;
  const clientTransport: TransportHandlerFactory = isNative ? nativeTlsTransport(clientOptions) : socketTransport;
  const listener = await new ServerBootstrap({ loopGroup: group, transport: serverTransport }).listen({
    host: '127.0.0.1',
    port: 0,
    ...(isNative ? {} : { pipeline: tlsPipeline(serverOptions) }),
  });
  const channel: Channel = await new ClientBootstrap({ loopGroup: group, transport: clientTransport }).connect({
    host: '127.0.0.1',
    port: listener.port,
    ...(isNative ? {} : { pipeline: tlsPipeline(clientOptions) }),
  });
  await clientApp.whenInstalled;
  // Warm-up, then the measurements.
  await clientApp.send(0x44, 1, downloadMiB * 1024 * 1024);
  let start = process.hrtime.bigint();
  await clientApp.send(0x44, 1, downloadMiB * 1024 * 1024);
  const bulkSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (let i = 0; i < 200; i++) await clientApp.send(0x70, SMALL, SMALL);
  start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) await clientApp.send(0x70, SMALL, SMALL);
  const smallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  channel.shutdown();
  await channel.whenShutdown;
  await listener.close();
  return { mibPerSecond: downloadMiB / bulkSeconds, roundTripsPerSecond: roundTrips / smallSeconds };
}

async function main(): Promise<void> {
  const group = new EventLoopGroup();
  const best = {
    handler: { mibPerSecond: 0, roundTripsPerSecond: 0 },
    native: { mibPerSecond: 0, roundTripsPerSecond: 0 },
  };
  // Alternate the arrangements and keep each one's best of three, so drift hits both alike.
  for (let round = 0; round < 3; round++) {
    for (const arrangement of ['handler', 'native'] as const) {
      const result = await measure(arrangement, group);
      best[arrangement] = {
        mibPerSecond: Math.max(best[arrangement].mibPerSecond, result.mibPerSecond),
        roundTripsPerSecond: Math.max(best[arrangement].roundTripsPerSecond, result.roundTripsPerSecond),
      };
    }
  }
  const row = (name: string, result: Result): string =>
    `${name.padEnd(34)} ${result.mibPerSecond.toFixed(1).padStart(9)} MiB/s ${result.roundTripsPerSecond.toFixed(0).padStart(9)} rt/s`;
  console.log(`TLS arrangements: ${downloadMiB} MiB download, ${roundTrips} round trips of ${SMALL} B (best of 3)`);
  console.log(row('(a) socket slot + TlsHandler slot', best.handler));
  console.log(row('(b) native TLS socket in one slot', best.native));
  console.log(
    `ratio b/a: bulk ${(best.native.mibPerSecond / best.handler.mibPerSecond).toFixed(2)}x, ` +
      `round trips ${(best.native.roundTripsPerSecond / best.handler.roundTripsPerSecond).toFixed(2)}x`,
  );
  console.log(`pool outstanding after runs: ${group.loops[0].messagePool.outstanding}`);
}

await main();
