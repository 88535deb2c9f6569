/**
 * "Urgent under bulk" (issue 22): how soon an urgent response gets through a connection busy
 * with downloads. A node:http2 client with 16 MiB stream and 64 MiB connection windows opens 8
 * downloads of 64 MiB at `u=7`; once 4 MiB have arrived it sends a 1 MiB GET at `u=0`. Against
 * the sluice server with the RFC 9218 scheduler, with round-robin, and against node:http2 (which
 * ignores priorities), alternating, over fresh connections. Each run stops the downloads once
 * the urgent response is complete, so a run moves tens of MiB, not 512.
 *
 * The figures are counted on the server: the bulk DATA bytes the sluice server encodes between
 * decoding the urgent HEADERS and encoding the urgent END_STREAM (`servers/priority-server.ts`),
 * and the urgent response's completion time over that span (node:http2: from its `stream` event
 * to the stream's `close`, `servers/node-priority-server.ts`). The client's view is printed
 * beside them: from its request to the last byte, which adds the time to read what the kernel
 * had buffered ahead of the urgent HEADERS — bulk bytes already written, which no scheduler can
 * call back (megabytes on loopback; see docs/performance.md).
 *
 * Targets: bulk bytes during the urgent response ≤ ¼ of round-robin's; completion ≥ 4× faster
 * than node:http2's.
 *
 * `node dist/bench/urgent-under-bulk.js [--runs N]` alone, or `node dist/bench/run.js --only
 * urgent` in the suite.
 *
 * @module
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { nextReport, startServer, type RunningServer } from './bench-processes.js';
import { median } from './h2load.js';

const MiB = 1024 * 1024;
const BULK_DOWNLOADS = 8;
const BULK_SIZE = 64 * MiB;
const URGENT_AFTER = 4 * MiB;
const URGENT_SIZE = 1 * MiB;
/** No run may take longer: a stuck one fails the benchmark instead of hanging it. */
const RUN_TIMEOUT_MS = 60_000;

/** The three servers compared. */
type ServerName = 'rfc9218' | 'round-robin' | 'node';

/** One run: what the server counted, and the client's view. */
interface RunResult {
  /** Urgent HEADERS decoded to urgent END_STREAM encoded, at the server. */
  readonly serverMillis: number;
  /** Urgent request sent to its last byte read, at the client. */
  readonly clientMillis: number;
  /** Bulk DATA bytes the server encoded while the urgent response was due (sluice only). */
  readonly bulkBytes: number | null;
}

/** What a benchmark server prints for an urgent response. */
interface UrgentReport {
  readonly serverMillis: number;
  readonly bulkBytes?: number;
}

/** The figures of the row, medians over the runs. */
export interface UrgentUnderBulkResult {
  readonly workload: 'urgent under bulk';
  readonly runs: number;
  /** Completion at the server (what the target judges). */
  readonly completionMillis: Record<ServerName, number>;
  /** Completion as the client saw it (kernel buffers included). */
  readonly clientMillis: Record<ServerName, number>;
  readonly bulkBytes: { readonly rfc9218: number; readonly roundRobin: number };
  /** Round-robin's bulk bytes over the RFC 9218 scheduler's (target ≥ 4). */
  readonly bulkRatio: number;
  /** node:http2's completion time over the RFC 9218 scheduler's (target ≥ 4). */
  readonly speedupOverNode: number;
  readonly isBulkTargetMet: boolean;
  readonly isSpeedupTargetMet: boolean;
}

/** One run against `server` over a fresh connection. */
async function runOnce(server: RunningServer): Promise<RunResult> {
  const report = nextReport<UrgentReport>(server.child, 'urgent', RUN_TIMEOUT_MS);
  const session = http2.connect(`http://127.0.0.1:${server.port}`, {
    settings: { initialWindowSize: 16 * MiB },
  });
  session.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    session.setLocalWindowSize(64 * MiB);
    let bulkArrived = 0;
    let onBulk: () => void = () => undefined;
    const enoughBulk = new Promise<void>((resolve) => (onBulk = resolve));
    for (let i = 0; i < BULK_DOWNLOADS; i++) {
      const download = session.request({ ':path': `/bytes/${BULK_SIZE}`, priority: 'u=7' });
      download.on('error', () => undefined);
      download.on('data', (chunk: Buffer) => {
        bulkArrived += chunk.length;
        if (bulkArrived >= URGENT_AFTER) onBulk();
      });
      download.end();
    }
    await withTimeout(enoughBulk, 'the first 4 MiB of bulk');
    const startedAt = performance.now();
    const urgent = session.request({ ':path': `/bytes/${URGENT_SIZE}`, priority: 'u=0' });
    let urgentBytes = 0;
    urgent.on('data', (chunk: Buffer) => (urgentBytes += chunk.length));
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        urgent.on('end', resolve);
        urgent.on('error', reject);
      }),
      'the urgent response',
    );
    const clientMillis = performance.now() - startedAt;
    if (urgentBytes !== URGENT_SIZE) throw new Error(`urgent response of ${urgentBytes} bytes`);
    const counted = await report;
    return { serverMillis: counted.serverMillis, clientMillis, bulkBytes: counted.bulkBytes ?? null };
  } finally {
    session.destroy();
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), RUN_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer!));
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`;

/**
 * Runs the row: `runs` runs against each server, alternating their order, and prints one line
 * with the medians and whether both targets are met.
 */
export async function measureUrgentUnderBulk(runs = 3): Promise<UrgentUnderBulkResult> {
  const servers: Record<ServerName, RunningServer> = {
    rfc9218: await startServer('priority-server.js', false, [], { WRITE_SCHEDULER: 'rfc9218' }),
    'round-robin': await startServer('priority-server.js', false, [], { WRITE_SCHEDULER: 'round-robin' }),
    node: await startServer('node-priority-server.js', false),
  };
  const samples: Record<ServerName, RunResult[]> = { rfc9218: [], 'round-robin': [], node: [] };
  const names: ServerName[] = ['rfc9218', 'round-robin', 'node'];
  try {
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(run + i) % names.length];
        samples[name].push(await runOnce(servers[name]));
      }
    }
  } finally {
    for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  }
  const completion = (name: ServerName): number => median(samples[name].map((sample) => sample.serverMillis));
  const atClient = (name: ServerName): number => median(samples[name].map((sample) => sample.clientMillis));
  const bulk = (name: ServerName): number => median(samples[name].map((sample) => sample.bulkBytes ?? 0));
  const bulkRatio = bulk('round-robin') / Math.max(1, bulk('rfc9218'));
  const speedupOverNode = completion('node') / completion('rfc9218');
  const result: UrgentUnderBulkResult = {
    workload: 'urgent under bulk',
    runs,
    completionMillis: {
      rfc9218: completion('rfc9218'),
      'round-robin': completion('round-robin'),
      node: completion('node'),
    },
    clientMillis: { rfc9218: atClient('rfc9218'), 'round-robin': atClient('round-robin'), node: atClient('node') },
    bulkBytes: { rfc9218: bulk('rfc9218'), roundRobin: bulk('round-robin') },
    bulkRatio,
    speedupOverNode,
    isBulkTargetMet: bulk('rfc9218') * 4 <= bulk('round-robin'),
    isSpeedupTargetMet: speedupOverNode >= 4,
  };
  const ms = (name: ServerName): string => `${completion(name).toFixed(1)} ms`;
  const clientMs = (name: ServerName): string => `${atClient(name).toFixed(1)} ms`;
  process.stdout.write(
    `${'urgent under bulk'.padEnd(24)} 1 MiB u=0 behind 8 × 64 MiB u=7, medians of ${runs}: ` +
      `bulk bytes during it: rfc9218 ${mib(bulk('rfc9218'))}, round-robin ${mib(bulk('round-robin'))} ` +
      `(${bulk('rfc9218') === 0 ? 'none' : `1/${bulkRatio.toFixed(1)}`}, target ≤ 1/4: ${result.isBulkTargetMet ? 'met' : 'NOT met'}) | ` +
      `completion: rfc9218 ${ms('rfc9218')}, round-robin ${ms('round-robin')}, node:http2 ${ms('node')} ` +
      `(${speedupOverNode.toFixed(1)}× faster than node:http2, target ≥ 4×: ${result.isSpeedupTargetMet ? 'met' : 'NOT met'})\n` +
      `${''.padEnd(24)} at the client, kernel buffers included: rfc9218 ${clientMs('rfc9218')}, round-robin ${clientMs('round-robin')}, ` +
      `node:http2 ${clientMs('node')} (${(atClient('node') / atClient('rfc9218')).toFixed(1)}×)\n`,
  );
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
  const result = await measureUrgentUnderBulk(runs);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
