/**
 * Two builds' HTTP/1.1 servers against each other over real sockets, alternately so that the
 * machine's drift falls on both:
 * `node dist/bench/compare-http1-builds.js OLD_ROOT NEW_ROOT [--rounds N] [--pipelined]`.
 *
 * Each root is a checkout with its `dist/` built; its `dist/bench/servers/sluice-http1-server.js`
 * runs pinned to core 0 for the whole comparison, and `h2load --h1 -c10 -m1` (or `-m10` with
 * `--pipelined`) loads each in turn from core 1, 100 000 requests a round, the order flipped every
 * round (14 rounds by default). It prints each build's median server CPU per request and req/s,
 * and new ÷ old as the median of the rounds' pairs (each pair taken minutes apart at most, so a
 * slow phase of the machine weighs on both of its halves).
 *
 * @module
 */
import { join, relative, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from './bench-processes.js';
import { median, runH2loadAgainst } from './h2load.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 14;
const inFlight = args.includes('--pipelined') ? '-m10' : '-m1';
const [oldRoot, newRoot] = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--rounds');
if (oldRoot === undefined || newRoot === undefined || !(rounds >= 1)) {
  process.stderr.write('usage: compare-http1-builds OLD_ROOT NEW_ROOT [--rounds N] [--pipelined]\n');
  process.exit(2);
}

/** The HTTP/1.1 benchmark server of the build in `root`, as `startServer` names scripts. */
function serverScript(root: string): string {
  return relative(join(here, 'servers'), join(resolve(root), 'dist', 'bench', 'servers', 'sluice-http1-server.js'));
}

const servers: RunningServer[] = [
  await startServer(serverScript(oldRoot), false),
  await startServer(serverScript(newRoot), false),
];
const cpu: number[][] = [[], []];
const rates: number[][] = [[], []];
try {
  const load = (server: RunningServer, requests: number): ReturnType<typeof runH2loadAgainst> =>
    runH2loadAgainst(
      ['--h1', '-c10', inFlight, '-n', String(requests)],
      `http://127.0.0.1:${server.port}/`,
      server.pid,
    );
  for (const server of servers) load(server, 20_000);
  for (let round = 0; round < rounds; round++) {
    for (const index of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const sample = load(servers[index], 100_000);
      if (sample.failed > 0) throw new Error(`${sample.failed} requests failed`);
      cpu[index].push(sample.cpuMicrosPerRequest);
      rates[index].push(sample.requestsPerSecond);
    }
  }
} finally {
  for (const server of servers) server.child.kill('SIGTERM');
}
const pairs = (values: number[][]): number => median(values[1].map((value, round) => value / values[0][round]));
[oldRoot, newRoot].forEach((root, index) =>
  process.stdout.write(
    `${root.padEnd(24)} ${median(cpu[index]).toFixed(2)} µs CPU/request, ${Math.round(median(rates[index]))} req/s` +
      ` (h2load --h1 -c10 ${inFlight}, median of ${rounds})\n`,
  ),
);
process.stdout.write(
  `new ÷ old: CPU per request ${pairs(cpu).toFixed(3)}×, req/s ${pairs(rates).toFixed(3)}× (median of the rounds' pairs)\n`,
);
