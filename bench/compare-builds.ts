/**
 * Two builds of sluice against each other in one session, run alternately so that drift of the
 * machine falls on both: `node dist/bench/compare-builds.js OLD_ROOT NEW_ROOT [--runs N]`.
 *
 * Each root is a checkout with its `dist/` built (`npx tsc -p tsconfig.json`); the benchmark
 * server of each (`dist/bench/servers/sluice-server.js`) is what is measured. Each run takes,
 * for each build in turn (the order flips every run):
 *
 * - small GET h2c c10 m10 with h2load: req/s and the server's CPU per request;
 * - the bytes allocated per request in that load (young-generation GCs × its size);
 * - the RSS per idle connection of a fresh server (500 connections, young generation pinned);
 * - 64 MiB uploads echoed by `/echo` (h2load `-c1 -m1 -d`, six per run after one to warm up):
 *   bytes per second, the server's CPU per upload, and its mark-compacts during them (one more
 *   than it ran: the stats call's own) — large transfers run in two GC modes
 *   (docs/performance.md), so read the medians with the counts.
 *
 * It prints the medians of each build and new ÷ old, against the limits a restructuring must
 * keep (req/s not lower by more than 5 %, allocations and idle memory not higher by more than 3 %).
 *
 * @module
 */
import { join, relative, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './bench-processes.js';
import { median, runH2loadAgainst, uploadFile } from './h2load.js';
import { idleMemoryOfServer } from './idle-memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 5;
const requests = args.includes('--requests') ? Number(args[args.indexOf('--requests') + 1]) : 100_000;
const [oldRoot, newRoot] = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (oldRoot === undefined || newRoot === undefined || !(runs >= 1) || !(requests >= 1000)) {
  process.stderr.write('usage: compare-builds OLD_ROOT NEW_ROOT [--runs N] [--requests N]\n');
  process.exit(2);
}

/** The benchmark server of the build in `root`, as `startServer` names scripts (relative to bench/servers). */
function serverScript(root: string): string {
  return relative(join(here, 'servers'), join(resolve(root), 'dist', 'bench', 'servers', 'sluice-server.js'));
}

interface BuildSamples {
  readonly requestsPerSecond: number[];
  readonly cpuMicrosPerRequest: number[];
  readonly bytesPerRequest: number[];
  readonly idleBytesPerConnection: number[];
  readonly uploadBytesPerSecond: number[];
  readonly cpuMillisPerUpload: number[];
  readonly uploadMarkCompacts: number[];
}

/** One run of the load on a fresh server of `script`: warm-up, then the measured h2load run. */
async function measureLoad(script: string, samples: BuildSamples): Promise<void> {
  const server = await startServer(script, false);
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    runH2loadAgainst(['-c10', '-m10', '-n', String(requests / 10)], url, server.pid);
    const before = await server.stats();
    const sample = runH2loadAgainst(['-c10', '-m10', '-n', String(requests)], url, server.pid);
    const after = await server.stats();
    if (sample.failed > 0) throw new Error(`${sample.failed} requests failed against ${script}`);
    samples.requestsPerSecond.push(sample.requestsPerSecond);
    samples.cpuMicrosPerRequest.push(sample.cpuMicrosPerRequest);
    samples.bytesPerRequest.push(((after.minorGcs - before.minorGcs) * after.youngGenerationBytes) / requests);
    runH2loadAgainst(['-c1', '-m1', '-n', '1', '-d', uploadFile()], `${url}echo`, server.pid); // warm-up
    const beforeUploads = await server.stats();
    const upload = runH2loadAgainst(['-c1', '-m1', '-n', '6', '-d', uploadFile()], `${url}echo`, server.pid);
    const afterUploads = await server.stats();
    if (upload.failed > 0) throw new Error(`${upload.failed} uploads failed against ${script}`);
    samples.uploadMarkCompacts.push(afterUploads.majorGcs - beforeUploads.majorGcs);
    samples.uploadBytesPerSecond.push(upload.bytesPerSecond);
    samples.cpuMillisPerUpload.push(upload.cpuMicrosPerRequest / 1000);
  } finally {
    server.child.kill('SIGTERM');
  }
}

function emptySamples(): BuildSamples {
  return {
    requestsPerSecond: [],
    cpuMicrosPerRequest: [],
    bytesPerRequest: [],
    idleBytesPerConnection: [],
    uploadBytesPerSecond: [],
    cpuMillisPerUpload: [],
    uploadMarkCompacts: [],
  };
}

async function main(): Promise<void> {
  const builds = { old: serverScript(oldRoot), new: serverScript(newRoot) };
  const samples: Record<'old' | 'new', BuildSamples> = {
    old: emptySamples(),
    new: emptySamples(),
  };
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const);
    for (const name of order) {
      await measureLoad(builds[name], samples[name]);
      samples[name].idleBytesPerConnection.push(
        await idleMemoryOfServer(builds[name], 500, ['--max-semi-space-size=1']),
      );
    }
    process.stdout.write(`run ${run + 1}/${runs} done\n`);
  }
  const rows: [string, keyof BuildSamples, 'higher' | 'lower', number][] = [
    ['small GET c10 m10 req/s', 'requestsPerSecond', 'higher', 0.95],
    ['server CPU µs/request', 'cpuMicrosPerRequest', 'lower', Infinity],
    ['bytes allocated/request', 'bytesPerRequest', 'lower', 1.03],
    ['RSS bytes/idle connection', 'idleBytesPerConnection', 'lower', 1.03],
    ['64 MiB upload bytes/s', 'uploadBytesPerSecond', 'higher', 0.95],
    ['server CPU ms/upload', 'cpuMillisPerUpload', 'lower', Infinity],
    ['upload mark-compacts (+1)', 'uploadMarkCompacts', 'lower', Infinity],
  ];
  process.stdout.write(`${runs} alternating runs each; medians (old = ${oldRoot}, new = ${newRoot})\n`);
  for (const [label, key, better, limit] of rows) {
    const old = median(samples.old[key]);
    const now = median(samples.new[key]);
    const ratio = now / old;
    const holds = better === 'higher' ? ratio >= limit : ratio <= limit;
    const verdict = Number.isFinite(limit)
      ? holds
        ? ` within the limit (${limit})`
        : ` OUTSIDE the limit (${limit})`
      : '';
    process.stdout.write(
      `${label.padEnd(26)} old ${old.toFixed(2).padStart(12)} | new ${now.toFixed(2).padStart(12)} | new/old ${ratio.toFixed(3)}${verdict}` +
        ` [old ${samples.old[key].map((v) => v.toFixed(0)).join(' ')}; new ${samples.new[key].map((v) => v.toFixed(0)).join(' ')}]\n`,
    );
  }
}

await main();
