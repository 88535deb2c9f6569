/**
 * The echo workload of the simulator: a user pipeline, the echo example (socket →
 * `LengthPrefixFramer` → `EchoHandler`), served to one to three clients (socket →
 * `LengthPrefixFramer` → a probe that writes seeded frames and checks each echo). Frames of 0 B
 * up to the server's limit; on some seeds one frame over it, which the server must refuse with
 * `FRAMING_FRAME_TOO_LARGE`. The probe reads back at a seeded pace, so a slow reader pushes back
 * on the server and the server on the writer.
 */
import {
  ChannelDirection,
  IoErrors,
  simulatedChannel,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type InvariantChecker,
  type IoMessage,
  type SeededRandom,
  type SimulatedNetwork,
  type SluiceError,
} from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import { FrameTag, FramingErrors, LengthPrefixFramer } from '../../examples/echo/length-prefix-framer.js';
import { installEchoPipeline } from '../../examples/echo/server.js';
import { Received, bodyBytes, hashOf } from './sim-bodies.js';

/** What one client connection does. */
interface EchoPlan {
  readonly index: number;
  /** Each frame's size, in the order written. */
  readonly frameSizes: readonly number[];
  /** Frames are written this long apart, ms (0: all in one pass). */
  readonly gapMs: number;
  /** The probe takes an echo this long after it arrived (its read credit comes back then), ms. */
  readonly readDelayMs: number;
  /** The server's longest frame (its echo handler's read window). */
  readonly maxFrameLength: number;
  /** The position of a frame over the server's limit, or -1. */
  readonly oversizedAt: number;
}

const PROBE_READ_WINDOW = 64 * 1024;

function planClients(random: SeededRandom): EchoPlan[] {
  return Array.from({ length: random.between(1, 3) }, (_, index) => {
    const maxFrameLength = random.pick([4096, 16 * 1024, PROBE_READ_WINDOW]);
    const frameSizes = Array.from({ length: random.between(1, 20) }, () =>
      random.chance(0.1) ? 0 : random.chance(0.6) ? random.between(1, 2000) : random.between(1, maxFrameLength),
    );
    const oversizedAt = random.chance(0.05) ? random.below(frameSizes.length) : -1;
    if (oversizedAt >= 0) frameSizes[oversizedAt] = maxFrameLength + random.between(1, 1000);
    return {
      index,
      frameSizes,
      gapMs: random.chance(0.5) ? 0 : random.below(20),
      readDelayMs: random.chance(0.5) ? 0 : random.below(50),
      maxFrameLength,
      oversizedAt,
    };
  });
}

/**
 * The client's application end, right of its framer: writes the plan's frames, checks that each
 * echo is the frame sent in that position (by hash), and shuts the channel down once every echo
 * came back.
 */
class EchoProbe implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private echo = new Received();
  /** Echoes read whole. */
  echoedCount = 0;
  /** Frames handed to the channel. */
  writtenCount = 0;

  constructor(
    private readonly network: SimulatedNetwork,
    private readonly checker: InvariantChecker,
    private readonly plan: EchoPlan,
  ) {}

  private get label(): string {
    return `echo client ${this.plan.index}`;
  }

  installed(slot: ChannelSlot): void {
    this.slot = slot;
    this.network.at(this.network.loop.now(), () => this.writeFrom(0), 'echo-write');
  }

  private writeFrom(position: number): void {
    const { plan, network, checker } = this;
    const slot = this.slot;
    if (slot === null || slot.channel.isShuttingDown || position >= plan.frameSizes.length) return;
    const frame = frameBytes(network.seed, plan.index, position, plan.frameSizes[position]);
    const message = slot.acquireMaxMessageForWrite();
    checker.check(message.append(frame) === frame.length, `${this.label}: frame ${position} does not fit a message`);
    message.onCompletion = checker.once(
      `${this.label} write ${position}`,
      (_channel: Channel, _message: IoMessage, error: SluiceError | null) => {
        if (error === null) return;
        checker.checkTyped(error, `${this.label} write ${position}`);
        checker.check(
          network.isFaulted(plan.index) || plan.oversizedAt >= 0,
          `${this.label} write ${position} failed with ${error.code} without faults`,
        );
      },
    );
    slot.sendMessage(message, ChannelDirection.WRITE);
    this.writtenCount++;
    if (plan.gapMs === 0) this.writeFrom(position + 1);
    else network.at(network.loop.now() + plan.gapMs, () => this.writeFrom(position + 1), 'echo-write');
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const { plan, network, checker } = this;
    const length = message.length;
    if ((message.tag & FrameTag.START) !== 0) this.echo = new Received();
    this.echo.add(message.data, 0, length);
    const isEnd = (message.tag & FrameTag.END) !== 0;
    message.release();
    if (isEnd) {
      const position = this.echoedCount++;
      const size = plan.frameSizes[position];
      network.trace(`${this.label} echo ${position} ${this.echo.length}`);
      checker.check(
        size !== undefined &&
          this.echo.length === size &&
          this.echo.digest() === hashOf(frameBytes(network.seed, plan.index, position, size)),
        `${this.label}: echo ${position} of ${this.echo.length} bytes is not the ${size}-byte frame sent`,
      );
      if (this.echoedCount === plan.frameSizes.length) slot.channel.shutdown();
    }
    // Read credit comes back as the application takes the bytes.
    if (plan.readDelayMs === 0) slot.incrementReadWindow(length);
    else network.at(network.loop.now() + plan.readDelayMs, () => slot.incrementReadWindow(length), 'echo-take');
  }

  processWriteMessage(): void {
    throw new Error('the echo probe is the last slot');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return PROBE_READ_WINDOW;
  }

  messageOverhead(): number {
    return 0;
  }

  destroy(): void {
    this.slot = null;
  }
}

function frameBytes(seed: number, client: number, position: number, size: number): Buffer {
  return bodyBytes(seed, client * 1000 + position, 0, size);
}

/** Runs the echo workload on `network`; what breaks an invariant goes to `checker`. */
export function echoWorkload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const plans = planClients(network.random);
  const channels: Channel[] = [];
  const probes: EchoProbe[] = [];
  for (const plan of plans) {
    const { client, server } = network.connect();
    const probe = new EchoProbe(network, checker, plan);
    probes.push(probe);
    channels.push(
      simulatedChannel(network, server, socketTransport, (channel) =>
        installEchoPipeline(channel, { echo: { readWindow: plan.maxFrameLength } }),
      ),
      simulatedChannel(network, client, socketTransport, (channel) => {
        channel.appendHandler(new LengthPrefixFramer({ maxFrameLength: PROBE_READ_WINDOW }));
        channel.appendHandler(probe);
      }),
    );
  }

  network.run();

  plans.forEach((plan, index) => {
    // Connections are made in plan order: a failure is excused only on one a fault hit.
    const isFaulty = network.isFaulted(index);
    const label = `echo client ${plan.index}`;
    const [server, client] = [channels[index * 2], channels[index * 2 + 1]];
    const probe = probes[index];
    for (const [side, channel] of [
      ['server', server],
      ['client', client],
    ] as const) {
      const error = channel.shutdownError;
      if (error !== null) checker.checkTyped(error, `${label} ${side} channel`);
    }
    checker.check(probe.echoedCount <= probe.writtenCount, `${label}: more echoes than frames`);
    if (plan.oversizedAt >= 0) {
      // Every frame before the oversized one may come back; it and what follows never do.
      checker.check(probe.echoedCount <= plan.oversizedAt, `${label}: the oversized frame was echoed`);
      if (!isFaulty) {
        checker.check(
          server.shutdownError?.code === FramingErrors.FRAME_TOO_LARGE.code,
          `${label}: the server ended with ${server.shutdownError?.code ?? 'no error'}, not FRAMING_FRAME_TOO_LARGE`,
        );
      }
    } else if (!isFaulty) {
      checker.check(
        probe.echoedCount === plan.frameSizes.length,
        `${label}: ${probe.echoedCount} of ${plan.frameSizes.length} echoes without faults`,
      );
      // The client closes first; the server sees its FIN, which the socket reports as IO_SOCKET_CLOSED.
      const serverError = server.shutdownError;
      checker.check(
        (serverError === null || serverError.code === IoErrors.SOCKET_CLOSED.code) && client.shutdownError === null,
        `${label}: ended with ${serverError?.code ?? client.shutdownError?.code} without faults`,
      );
    }
  });
  checker.checkQuiescent(network, channels);
}
