/**
 * Invariants of a simulated run, and the channels it runs: what must hold whatever the faults.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { Channel, ChannelState } from '../channel.js';
import type { TransportHandlerFactory } from '../bootstrap.js';
import { SluiceError } from '../errors.js';
import { checkArgument } from '../argument-checks.js';
import { SimulatedNetwork } from './simulated-network.js';
import { SimulatedSocket } from './simulated-socket.js';

/**
 * Builds a channel on the network's loop over `socket`: the transport handler `transport` makes
 * (the real `SocketHandler`: pass `socketTransport` from `sluice/socket`) in the first slot,
 * then what `pipeline` appends; reading starts once setup completes, as the bootstrap does.
 */
export function simulatedChannel(
  network: SimulatedNetwork,
  socket: SimulatedSocket,
  transport: TransportHandlerFactory,
  pipeline: (channel: Channel) => void,
): Channel {
  checkArgument(
    network instanceof SimulatedNetwork,
    'simulatedChannel(network)',
    'network is a SimulatedNetwork',
    network,
  );
  checkArgument(socket instanceof SimulatedSocket, 'simulatedChannel(socket)', 'socket is a SimulatedSocket', socket);
  checkArgument(typeof transport === 'function', 'simulatedChannel(transport)', 'transport is a factory', transport);
  checkArgument(typeof pipeline === 'function', 'simulatedChannel(pipeline)', 'pipeline is a function', pipeline);
  const channel = new Channel(network.loop, {
    onSetupCompleted: (ready) => ready.first?.handler.triggerRead?.(),
  });
  channel.appendHandler(transport(socket as unknown as Socket));
  pipeline(channel);
  return channel;
}

/**
 * InvariantChecker collects what went wrong in a run instead of throwing from inside a handler
 * callback (where a throw would be the code under test's problem, not the test's). Workloads
 * call {@link InvariantChecker.check} as the run goes, wrap callbacks that must fire exactly once
 * with {@link InvariantChecker.once}, and end with {@link InvariantChecker.checkQuiescent}.
 */
export class InvariantChecker {
  /** What went wrong, in order. */
  readonly violations: string[] = [];
  private readonly awaited = new Map<string, number>();

  /** Records `message` unless `condition` holds. */
  check(condition: boolean, message: string): void {
    if (!condition) this.violations.push(message);
  }

  /**
   * Wraps `callback` so that a second call records a violation (and is not passed on), and a
   * callback never called is reported by {@link InvariantChecker.checkQuiescent}. `label` names it.
   */
  once<A extends unknown[]>(label: string, callback: (...args: A) => void): (...args: A) => void {
    this.awaited.set(label, 0);
    return (...args: A) => {
      const calls = (this.awaited.get(label) ?? 0) + 1;
      this.awaited.set(label, calls);
      if (calls > 1) {
        this.violations.push(`${label} called ${calls} times`);
        return;
      }
      callback(...args);
    };
  }

  /** A failure must be typed: a `SluiceError` with a stable code (never silently short or untyped). */
  checkTyped(error: unknown, what: string): void {
    this.check(
      error instanceof SluiceError && typeof error.code === 'string' && error.code.length > 0,
      `${what} failed with an untyped error: ${String(error)}`,
    );
  }

  /**
   * The end of a run: every channel shut down, nothing left scheduled on the loop, every message
   * back in the pool, every callback wrapped by {@link InvariantChecker.once} called.
   */
  checkQuiescent(network: SimulatedNetwork, channels: readonly Channel[]): void {
    channels.forEach((channel, index) =>
      this.check(channel.state === ChannelState.SHUT_DOWN, `channel ${index} never shut down (state ${channel.state})`),
    );
    const pending = network.loop.pendingTaskCount;
    this.check(pending === 0, `${pending} task(s) still scheduled after shutdown`);
    const outstanding = network.loop.messagePool.outstanding;
    this.check(outstanding === 0, `${outstanding} pooled message(s) never released`);
    for (const [label, calls] of this.awaited) this.check(calls > 0, `${label} never called`);
  }
}
