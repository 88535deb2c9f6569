/**
 * The deterministic simulator (issue 24): a fixed range of seeds of every workload holds every
 * invariant; runs replay from their seed; planted bugs are found and shrunk.
 */
import { expect } from 'chai';
import {
  FaultKind,
  SeededRandom,
  SimulatedNetwork,
  Task,
  planFaults,
  simulatedChannel,
  type SimulatedFault,
} from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import { plantedBugs } from '../../handlers/http2/connection/outgoing-frames-task.js';
import { describeFaults, runSeed, runSeedWatched, shrink, type SeedResult, type Workload } from './simulation.js';
import { plantedHttp1Bugs } from '../../handlers/http1/connection/outgoing-task.js';
import { http1Workload } from './http1-workload.js';
import { http2Workload } from './http2-workload.js';
import { echoWorkload } from './echo-workload.js';
import { websocketWorkload } from './websocket-workload.js';
import { WORKLOADS } from './workloads.js';

/** Seeds `npm test` runs for each workload; `npm run sim -- --seeds N` runs more. */
const SEED_RANGE = { from: 1, count: 150 } as const;

async function failuresIn(workload: Workload, name: string): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = SEED_RANGE.from; seed < SEED_RANGE.from + SEED_RANGE.count; seed++) {
    const result = await runSeedWatched(workload, seed);
    if (result.violations.length > 0) {
      failures.push(
        `seed ${seed}: ${result.violations.join('; ')} [${describeFaults(result.faults)}] ` +
          `replay: npm run sim -- --workload ${name} --seeds 1 --from ${seed}`,
      );
    }
  }
  return failures;
}

function firstFailure(workload: Workload): SeedResult | null {
  for (let seed = SEED_RANGE.from; seed < SEED_RANGE.from + SEED_RANGE.count; seed++) {
    const result = runSeed(workload, seed);
    if (result.violations.length > 0) return result;
  }
  return null;
}

describe('deterministic simulator', () => {
  for (const [name, workload] of Object.entries(WORKLOADS)) {
    it(`${name}: seeds ${SEED_RANGE.from}..${SEED_RANGE.from + SEED_RANGE.count - 1} hold every invariant`, async () => {
      expect(await failuresIn(workload, name)).to.deep.equal([]);
    });
  }

  it('the same seed gives the same trace hash twice', () => {
    for (const seed of [1, 7, 42]) {
      const first = runSeed(http2Workload, seed);
      const second = runSeed(http2Workload, seed);
      expect(second.traceHash, `seed ${seed}`).to.equal(first.traceHash);
      expect(second.faults).to.deep.equal(first.faults);
    }
  });

  it('the WebSocket and echo workloads replay too: the same seed gives the same trace hash twice', () => {
    // The WebSocket client masks with keys from crypto, which change the bytes but not the trace.
    for (const workload of [websocketWorkload, echoWorkload]) {
      for (const seed of [3, 11, 29]) {
        const first = runSeed(workload, seed);
        expect(first.violations).to.deep.equal([]);
        expect(runSeed(workload, seed).traceHash, `seed ${seed}`).to.equal(first.traceHash);
      }
    }
  });

  it('different seeds give different trace hashes', () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) hashes.add(runSeed(http2Workload, seed).traceHash);
    expect(hashes.size).to.equal(20);
  });

  /** A bug planted behind a test-only switch, and the workload that must find it. */
  const PLANTED = [
    {
      name: 'the re-planted HTTP/2 trailers stall',
      workload: http2Workload,
      set: (isOn: boolean) => (plantedBugs.skipQueuedWorkRecheck = isOn),
    },
    {
      name: 'the HTTP/1.1 end queued while a message is in flight, left unsent',
      workload: http1Workload,
      set: (isOn: boolean) => (plantedHttp1Bugs.dropEndQueuedInFlight = isOn),
    },
  ];
  for (const planted of PLANTED) {
    it(`finds ${planted.name}, shrunk to at most 5 faults, and the same seed passes without it`, () => {
      let failing: SeedResult | null;
      let shrunk: SeedResult;
      planted.set(true);
      try {
        failing = firstFailure(planted.workload);
        expect(failing, 'no seed in the range found the planted bug').to.not.equal(null);
        shrunk = shrink(planted.workload, failing!);
      } finally {
        planted.set(false);
      }
      expect(shrunk.violations.length).to.be.above(0);
      expect(shrunk.faults.length).to.be.at.most(5);
      expect(shrunk.faults.length).to.be.at.most(failing!.faults.length);
      // The switch is what fails it: off, the same seed (and the shrunk schedule) hold.
      expect(runSeed(planted.workload, failing!.seed).violations).to.deep.equal([]);
      expect(runSeed(planted.workload, failing!.seed, shrunk.faults).violations).to.deep.equal([]);
    });
  }
});

describe('simulator invariants', () => {
  it('an unhandled rejection during a run is a violation of that seed, and only of that one', async () => {
    const rejecting: Workload = (network) => {
      network.at(5, () => void Promise.reject(new Error('planted rejection')), 'reject');
      network.run();
    };
    const result = await runSeedWatched(rejecting, 1, []);
    expect(result.violations).to.have.length(1);
    expect(result.violations[0]).to.match(/^unhandled rejection: Error: planted rejection/);
    expect((await runSeedWatched(() => {}, 1, [])).violations).to.deep.equal([]);
  });

  it('a timer left scheduled at the end of a run is a violation', () => {
    const leaking: Workload = (network, checker) => {
      const { client, server } = network.connect();
      const channels = [
        simulatedChannel(network, client, socketTransport, () => {}),
        simulatedChannel(network, server, socketTransport, () => {}),
      ];
      for (const channel of channels) network.at(1, () => channel.shutdown(), 'close');
      network.run();
      // A channel refuses tasks once shut down: a timer some part armed on the loop itself.
      network.loop.scheduleAfter(new Task(() => {}, 'leaked-timer'), 60_000);
      checker.checkQuiescent(network, channels);
    };
    expect(runSeed(leaking, 1, []).violations).to.deep.equal(['1 task(s) still scheduled after shutdown']);
  });
});

describe('simulator fault planning', () => {
  /** A connection with no handler on it: its sockets' errors (a fault's reset) are ignored. */
  function connectBare(network: SimulatedNetwork): void {
    const { client, server } = network.connect();
    client.on('error', () => {});
    server.on('error', () => {});
  }

  /** The connections the seeds' planned faults hit when a workload opens `opened` connections. */
  function connectionsHit(opened: number, expected?: number): Set<number> {
    const hit = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const network = new SimulatedNetwork({ seed });
      for (let i = 0; i < opened; i++) connectBare(network);
      if (expected !== undefined) network.expectConnections(expected);
      network.run();
      for (const fault of network.faults) hit.add(fault.connection);
      network.finish();
    }
    return hit;
  }

  it('plans faults over every connection a workload opens before it runs, and none beyond', () => {
    expect([...connectionsHit(1)]).to.deep.equal([0]);
    expect([...connectionsHit(4)].sort()).to.deep.equal([0, 1, 2, 3]);
  });

  it('plans them over the count expectConnections gives, for a workload that connects as it goes', () => {
    expect([...connectionsHit(0, 5)].sort()).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('keeps a given schedule as it is, and tells which connections a fault hit', () => {
    const faults = [{ atMs: 1, kind: 'reset' as const, side: 'client' as const, durationMs: 0, connection: 7 }];
    const network = new SimulatedNetwork({ seed: 1, faults });
    connectBare(network);
    connectBare(network);
    network.expectConnections(3);
    network.run();
    expect(network.faults).to.deep.equal(faults);
    expect(network.isFaulted(7)).to.equal(false); // no connection 7: the fault did nothing
    const second = new SimulatedNetwork({ seed: 1, faults: [{ ...faults[0], connection: 1 }] });
    for (let i = 0; i < 3; i++) connectBare(second);
    second.run();
    expect([0, 1, 2].map((index) => second.isFaulted(index))).to.deep.equal([false, true, false]);
  });

  it("planFaults draws each fault's connection below connectionCount, and refuses a count below 1", () => {
    const faults = planFaults(new SeededRandom(3), 200, 1000, 3);
    expect(new Set(faults.map((fault) => fault.connection))).to.deep.equal(new Set([0, 1, 2]));
    expect(() => planFaults(new SeededRandom(3), 1, 1000, 0)).to.throw(/connectionCount/);
  });
});

describe('simulator regressions', () => {
  it('seed 8: a request refused after GOAWAY closes on the loop, not in a microtask after the run', () => {
    // The client opened streams after the server's GOAWAY; they were refused with a queueMicrotask,
    // which a virtual loop never runs: their onClose came after the connection had shut down.
    expect(runSeed(http2Workload, 8, []).violations).to.deep.equal([]);
  });

  it('echo seed 208: bytes written after a failed write never reach the peer, which sees a reset', () => {
    // The simulated socket took a write made after the failed one (before the failure landed) and
    // ended with a FIN: the peer read a stream with a gap in it as whole, and the echo client got
    // a frame that was never sent.
    const faults: SimulatedFault[] = [
      { atMs: 0, kind: FaultKind.CLOCK_JUMP, side: 'client', durationMs: 53_634, connection: 0 },
      { atMs: 1091, kind: FaultKind.FAIL_WRITE, side: 'server', durationMs: 1000, connection: 0 },
    ];
    expect(runSeed(echoWorkload, 208, faults).violations).to.deep.equal([]);

    const network = new SimulatedNetwork({ seed: 1, faults: [] });
    const { client, server } = network.connect();
    const received: Buffer[] = [];
    const errors: string[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    client.on('error', (error: NodeJS.ErrnoException) => errors.push(`client ${error.code}`));
    server.on('error', (error: NodeJS.ErrnoException) => errors.push(`server ${error.code}`));
    server.failNextWrite = true;
    server.write(Buffer.from('lost'), (error) => errors.push(`write 1 ${(error as NodeJS.ErrnoException).code}`));
    server.write(Buffer.from('after'), (error) => errors.push(`write 2 ${(error as NodeJS.ErrnoException).code}`));
    network.run();
    network.finish();
    expect(Buffer.concat(received).toString()).to.equal('');
    expect(errors).to.have.members(['write 1 EPIPE', 'write 2 EPIPE', 'server EPIPE', 'client ECONNRESET']);
  });

  it('http2 seed 891: both ends shutting down at once toward full pipes end by the server write deadline', () => {
    // A clock jump held both directions while each end's SETTINGS went unacknowledged: both
    // failed with SETTINGS_TIMEOUT, stopped reading and waited to flush their GOAWAY to a peer
    // that no longer read. The servers' default socket write deadline (SERVER_WRITE_TIMEOUT_MS)
    // is what ends it; the simulator's server channels run with it, as sluice's servers do.
    const clockJump = { atMs: 186, kind: 'clock-jump' as const, side: 'client' as const, durationMs: 23_128 };
    expect(runSeed(http2Workload, 891, [{ ...clockJump, connection: 0 }]).violations).to.deep.equal([]);
  });
});
