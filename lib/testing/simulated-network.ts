/**
 * The deterministic simulator's network: connections of simulated sockets on a virtual-time
 * loop, with seeded delivery (split reads, delays, batching) and a schedule of faults.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { checkArgument, checkRequiredOptions } from '../argument-checks.js';
import { IoErrors, SluiceError } from '../errors.js';
import { VirtualEventLoop } from '../event-loop.js';
import { Task } from '../task.js';
import { SeededRandom } from './seeded-random.js';
import { SimulatedPipe, SimulatedSocket, simulatedSocketError } from './simulated-socket.js';

/** Which end of a simulated connection. */
export type SimulatedSide = 'client' | 'server';

/** The kinds of fault the network injects. */
export const FaultKind = {
  /** One direction delivers nothing for `durationMs` (a peer that stops reading). */
  STALL: 'stall',
  /** The next write of `side` fails with EPIPE and its socket closes; the peer sees a reset. */
  FAIL_WRITE: 'fail-write',
  /** The connection is reset: both ends get ECONNRESET. */
  RESET: 'reset',
  /** `side` sends its FIN now (its later writes fail). */
  HALF_CLOSE: 'half-close',
  /** Nothing is delivered either way for `durationMs`, long enough for timeouts to fire. */
  CLOCK_JUMP: 'clock-jump',
} as const;

/** A kind of {@link FaultKind}. */
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** One fault of a schedule: what happens, when, to which end (the connection's first end for `connection`). */
export interface SimulatedFault {
  /** Virtual time the fault happens at, ms. */
  readonly atMs: number;
  /** What happens. */
  readonly kind: FaultKind;
  /** The end it hits (for a stall: the end whose writes stop arriving). */
  readonly side: SimulatedSide;
  /** How long a stall or clock jump lasts, ms. */
  readonly durationMs: number;
  /** Which connection (index in connection order) it hits; a fault for a connection not made does nothing. */
  readonly connection: number;
}

/** Options of a {@link SimulatedNetwork}. */
export interface SimulatedNetworkOptions {
  /** The seed: the same seed (and faults) gives the same run. */
  seed: number;
  /** The fault schedule; {@link planFaults} of the seed, over the connections the workload opens, when absent. */
  faults?: readonly SimulatedFault[];
  /** Faults planned when `faults` is absent; 0 to 6 from the seed by default. */
  faultCount?: number;
  /** Virtual time over which planned faults spread, ms; 2000 by default. */
  faultHorizonMs?: number;
}

/** How a run ended: drained (nothing left to do), or stopped at its time or step limit. */
export interface SimulationRunResult {
  /** True when nothing was left scheduled; false when a limit stopped it. */
  readonly isDrained: boolean;
  /** Virtual time at the end, ms. */
  readonly endMs: number;
  /** Times the clock moved to the next deadline. */
  readonly steps: number;
}

const FAULT_KINDS: readonly FaultKind[] = Object.values(FaultKind);

/**
 * Plans `count` faults from `random` over `horizonMs` of virtual time, in time order, each on one
 * of `connectionCount` connections (2 by default). Stalls last 1–40 s and clock jumps 20–120 s,
 * so timeouts (write, ping, idle, data-rate) come into play.
 */
export function planFaults(
  random: SeededRandom,
  count: number,
  horizonMs: number,
  connectionCount = 2,
): SimulatedFault[] {
  checkArgument(random instanceof SeededRandom, 'planFaults(random)', 'random is a SeededRandom', random);
  checkArgument(Number.isInteger(count) && count >= 0 && count <= 1000, 'planFaults(count)', 'count is 0..1000', count);
  checkArgument(
    Number.isInteger(horizonMs) && horizonMs > 0,
    'planFaults(horizonMs)',
    'horizonMs is a positive integer',
    horizonMs,
  );
  checkArgument(
    Number.isInteger(connectionCount) && connectionCount >= 1,
    'planFaults(connectionCount)',
    'connectionCount is a positive integer',
    connectionCount,
  );
  const faults: SimulatedFault[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random.pick(FAULT_KINDS);
    faults.push({
      atMs: random.below(horizonMs),
      kind,
      side: random.chance(0.5) ? 'client' : 'server',
      durationMs: kind === FaultKind.CLOCK_JUMP ? random.between(20_000, 120_000) : random.between(1_000, 40_000),
      connection: random.below(connectionCount),
    });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

/** One line of the fault, for reports and replays. */
export function describeFault(fault: SimulatedFault): string {
  checkArgument(
    typeof fault === 'object' && fault !== null && typeof fault.kind === 'string',
    'describeFault(fault)',
    'fault is a SimulatedFault',
    fault,
  );
  return `${fault.kind}@${fault.atMs}ms conn${fault.connection} ${fault.side}${
    fault.kind === FaultKind.STALL || fault.kind === FaultKind.CLOCK_JUMP ? ` ${fault.durationMs}ms` : ''
  }`;
}

interface Connection {
  readonly client: SimulatedSocket;
  readonly server: SimulatedSocket;
}

/** The two ends of one simulated connection. */
export interface SimulatedConnection {
  /** The end that connected. */
  readonly client: SimulatedSocket;
  /** The end that accepted. */
  readonly server: SimulatedSocket;
}

/**
 * SimulatedNetwork runs connections between {@link SimulatedSocket}s on one
 * {@link VirtualEventLoop}. Everything random — how reads split and batch, delivery delays,
 * buffer sizes, the faults — comes from the seed, so a run replays exactly; the
 * {@link SimulatedNetwork.traceHash} of what happened tells two runs apart.
 *
 * Put the real transport handler (sluice's `SocketHandler`) first in each channel over the
 * sockets {@link SimulatedNetwork.connect} returns, run the loop with
 * {@link SimulatedNetwork.run}, then check invariants.
 */
export class SimulatedNetwork {
  /** The loop every channel of the run uses. */
  readonly loop = new VirtualEventLoop({ maxTurns: 1_000_000 });
  /** The seed. */
  readonly seed: number;
  /** Randomness for the workload (sizes, timings): separate from the network's own draws. */
  readonly random: SeededRandom;
  /** Faults that hit a live connection, in order. */
  readonly appliedFaults: SimulatedFault[] = [];
  /** Called with each trace line as it is traced (to print a run being debugged). */
  onTrace: ((line: string) => void) | null = null;
  private readonly weather: SeededRandom;
  private readonly maxDelayMs: number;
  private readonly splitChance: number;
  private readonly connections: Connection[] = [];
  private readonly hash: Hash = createHash('sha256');
  private traceLines = 0;
  private isFinished = false;
  /** The schedule, once given or planned; planned at the latest when the run starts. */
  private schedule: readonly SimulatedFault[] | null = null;
  /** Plans the seed's faults over a number of connections (when no schedule was given). */
  private readonly planSchedule: ((connectionCount: number) => SimulatedFault[]) | null;

  /** Creates a network; see {@link SimulatedNetworkOptions}. */
  constructor(options: SimulatedNetworkOptions) {
    checkRequiredOptions(options, 'new SimulatedNetwork');
    checkArgument(Number.isInteger(options.seed), 'new SimulatedNetwork(options)', 'seed is an integer', options.seed);
    checkArgument(
      options.faults === undefined || Array.isArray(options.faults),
      'new SimulatedNetwork(options)',
      'faults is a list of faults',
      options.faults,
    );
    const seeds = new SeededRandom(options.seed);
    this.seed = options.seed;
    const planner = seeds.fork(1);
    this.random = seeds.fork(2);
    this.weather = seeds.fork(3);
    this.maxDelayMs = this.weather.pick([0, 1, 2, 5, 20]);
    this.splitChance = this.weather.pick([0, 0.3, 0.8, 1]);
    if (options.faults !== undefined) {
      this.planSchedule = null;
      this.useSchedule(options.faults);
    } else {
      const count = options.faultCount ?? planner.between(0, 6);
      const horizonMs = options.faultHorizonMs ?? 2000;
      this.planSchedule = (connectionCount) => planFaults(planner, count, horizonMs, connectionCount);
    }
  }

  /**
   * The fault schedule this run applies: the one given, or the seed's, planned over every
   * connection the workload opens (see {@link SimulatedNetwork.expectConnections}).
   */
  get faults(): readonly SimulatedFault[] {
    this.settleSchedule();
    return this.schedule!;
  }

  /** Plans the schedule over the connections made so far unless it is set. */
  private settleSchedule(): void {
    if (this.schedule === null) this.useSchedule(this.planSchedule!(Math.max(1, this.connections.length)));
  }

  /**
   * Says the workload will open `count` connections in all, so the seed's faults are planned over
   * every one of them. Without it they are planned over the connections open when
   * {@link SimulatedNetwork.run} first starts — enough for a workload that connects before it
   * runs; one that connects as it goes calls this first. Call it before the run; it does nothing
   * once the schedule is set (given, or planned already).
   */
  expectConnections(count: number): void {
    checkArgument(
      Number.isInteger(count) && count >= 1,
      'expectConnections(count)',
      'count is a positive integer',
      count,
    );
    if (this.schedule === null) this.useSchedule(this.planSchedule!(count));
  }

  private useSchedule(faults: readonly SimulatedFault[]): readonly SimulatedFault[] {
    this.schedule = faults;
    for (const fault of faults) this.at(fault.atMs, () => this.apply(fault), 'fault');
    return faults;
  }

  /** A new connection: its client and server sockets. */
  connect(): SimulatedConnection {
    const index = this.connections.length;
    const capacity = this.weather.pick([4096, 65_536, 262_144, 1_048_576]);
    const up = new SimulatedPipe(`c${index}:client->server`, capacity);
    const down = new SimulatedPipe(`c${index}:server->client`, capacity);
    const client = new SimulatedSocket(this, 'client', up, down);
    const server = new SimulatedSocket(this, 'server', down, up);
    this.connections.push({ client, server });
    this.trace(`connect c${index} capacity ${capacity}`);
    return { client, server };
  }

  /** True once a fault hit the connection `connection` (its index in connection order). */
  isFaulted(connection: number): boolean {
    return this.appliedFaults.some((fault) => fault.connection === connection);
  }

  /** Adds a line to the trace (deliveries and faults are traced already; workloads add their own events). */
  trace(line: string): void {
    this.traceLines++;
    const entry = `${this.loop.now()} ${line}\n`;
    this.hash.update(entry);
    this.onTrace?.(entry);
  }

  /** Lines traced so far. */
  get traceLength(): number {
    return this.traceLines;
  }

  /** A hash of everything traced so far (hex). */
  get traceHash(): string {
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  /**
   * Runs the loop: due tasks, then the clock moves to the next deadline, until nothing is
   * scheduled (drained) or `untilMs` of virtual time or `maxSteps` clock moves have passed.
   */
  run(untilMs = 3_600_000, maxSteps = 200_000): SimulationRunResult {
    const loop = this.loop;
    let steps = 0;
    this.settleSchedule();
    loop.runUntilIdle();
    for (;;) {
      const next = loop.nextDeadline;
      if (next === undefined) return { isDrained: true, endMs: loop.now(), steps };
      if (next > untilMs || steps >= maxSteps) return { isDrained: false, endMs: loop.now(), steps };
      steps++;
      loop.advance(Math.max(0, next - loop.now()));
    }
  }

  /** Ends the run: later socket activity (a handler's own Node timers) no longer schedules anything. */
  finish(): void {
    this.isFinished = true;
  }

  /** @internal The other end of `socket`'s connection. */
  peerOf(socket: SimulatedSocket): SimulatedSocket {
    for (const connection of this.connections) {
      if (connection.client === socket) return connection.server;
      if (connection.server === socket) return connection.client;
    }
    throw new SluiceError(IoErrors.INVALID_OPTIONS, 'the socket is not on this network');
  }

  /** @internal Runs `action` on a later turn of the loop (as Node emits on a later tick). */
  later(action: () => void, name: string): void {
    this.at(this.loop.now(), action, name);
  }

  /** @internal Moves waiting writes into the pipe while it has room; their callbacks fire on a later turn. */
  takeWrites(pipe: SimulatedPipe): void {
    const taken: ((error?: Error | null) => void)[] = [];
    while (pipe.waiting.length > 0 && (pipe.bufferedBytes === 0 || pipe.bufferedBytes < pipe.capacity)) {
      const write = pipe.waiting.shift()!;
      pipe.chunks.push(write.data);
      pipe.bufferedBytes += write.data.length;
      if (write.callback !== undefined) taken.push(write.callback);
    }
    if (taken.length > 0) this.later(() => taken.forEach((callback) => callback(null)), 'write-done');
    if (pipe.waiting.length === 0 && pipe.isFinRequested && !pipe.isFinTaken) {
      pipe.isFinTaken = true;
      const writer = this.writerOf(pipe);
      this.later(() => writer._onFinished(), 'finish');
    }
    this.schedulePump(pipe);
  }

  /** @internal Schedules the next delivery of `pipe` after a seeded delay. */
  schedulePump(pipe: SimulatedPipe): void {
    if (pipe.isPumpScheduled || pipe.isFinDelivered) return;
    if (pipe.bufferedBytes === 0 && !pipe.isFinTaken) return;
    pipe.isPumpScheduled = true;
    const delay = this.maxDelayMs === 0 ? 0 : this.weather.below(this.maxDelayMs + 1);
    const at = Math.max(this.loop.now() + delay, pipe.stalledUntilMs);
    this.at(at, () => this.pump(pipe), 'deliver');
  }

  /** @internal Resets the connection of `socket`: both ends get ECONNRESET; nothing in flight arrives. */
  reset(socket: SimulatedSocket, why: string): void {
    const peer = socket.peer;
    this.trace(`reset ${socket.side} (${why})`);
    const lost = [...socket.outbound.clear(), ...socket.inbound.clear()];
    const error = simulatedSocketError('ECONNRESET', 'connection reset by peer');
    this.later(() => {
      for (const callback of lost) callback(error);
      socket.fail(error);
      peer.fail(simulatedSocketError('ECONNRESET', 'connection reset by peer'));
    }, 'reset');
  }

  private writerOf(pipe: SimulatedPipe): SimulatedSocket {
    for (const { client, server } of this.connections) {
      if (client.outbound === pipe) return client;
      if (server.outbound === pipe) return server;
    }
    throw new SluiceError(IoErrors.INVALID_OPTIONS, 'the pipe is not on this network');
  }

  private pump(pipe: SimulatedPipe): void {
    pipe.isPumpScheduled = false;
    if (this.loop.now() < pipe.stalledUntilMs) {
      this.schedulePump(pipe);
      return;
    }
    const reader = this.writerOf(pipe).peer;
    if (reader.destroyed) {
      // Bytes arriving at a closed socket: the kernel answers with RST.
      if (pipe.bufferedBytes > 0) this.reset(this.writerOf(pipe), 'data after close');
      else pipe.isFinDelivered = true;
      return;
    }
    if (!reader.isReading) return; // resume() pumps again
    if (pipe.bufferedBytes > 0) {
      const chunk = this.takeChunk(pipe);
      this.trace(`${pipe.name} data ${chunk.length}`);
      reader.emit('data', chunk);
      this.takeWrites(pipe);
      return;
    }
    if (pipe.isFinTaken && !pipe.isFinDelivered) {
      pipe.isFinDelivered = true;
      this.trace(`${pipe.name} fin`);
      reader._onPeerEnded();
    }
  }

  /** What one read returns: part of the first write, or several writes batched, as the seed says. */
  private takeChunk(pipe: SimulatedPipe): Buffer {
    const weather = this.weather;
    let length: number;
    if (weather.chance(this.splitChance)) length = weather.between(1, Math.min(pipe.bufferedBytes, 65_536));
    else length = Math.min(pipe.bufferedBytes, 65_536);
    const chunk = Buffer.allocUnsafe(length);
    let offset = 0;
    while (offset < length) {
      const head = pipe.chunks[0];
      const take = Math.min(head.length, length - offset);
      chunk.set(head.subarray(0, take), offset);
      offset += take;
      if (take === head.length) pipe.chunks.shift();
      else pipe.chunks[0] = head.subarray(take);
    }
    pipe.bufferedBytes -= length;
    return chunk;
  }

  private apply(fault: SimulatedFault): void {
    const connection = this.connections[fault.connection];
    if (connection === undefined) return;
    const socket = connection[fault.side];
    if (socket.destroyed && socket.peer.destroyed) return;
    this.appliedFaults.push(fault);
    this.trace(`fault ${describeFault(fault)}`);
    const now = this.loop.now();
    switch (fault.kind) {
      case FaultKind.STALL:
        socket.outbound.stalledUntilMs = now + fault.durationMs;
        break;
      case FaultKind.CLOCK_JUMP:
        socket.outbound.stalledUntilMs = socket.inbound.stalledUntilMs = now + fault.durationMs;
        break;
      case FaultKind.FAIL_WRITE:
        socket.failNextWrite = true;
        break;
      case FaultKind.RESET:
        this.reset(socket, 'fault');
        break;
      case FaultKind.HALF_CLOSE:
        socket.end();
        break;
    }
  }

  /** Runs `action` at virtual time `timeMs` (now, if that is past), as a task of the loop named `name`. */
  at(timeMs: number, action: () => void, name: string): void {
    if (this.isFinished) return;
    const task = new Task(() => {
      if (!this.isFinished) action();
    }, `simulated-network-${name}`);
    this.loop.scheduleAt(task, timeMs);
  }
}
