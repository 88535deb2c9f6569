/**
 * The HTTP/1.1 rows of `npm run bench` (issue 20): a sluice `listenHttp1` server against
 * node:http under `h2load --h1` (pipelined c10 m10, one in flight c10 m1, with a canned-bytes
 * floor), server memory per idle keep-alive connection, and sluice's HTTP/1.1 client against
 * undici's Pool, both against one nginx. Servers run pinned to core 0, load to core 1; runs
 * alternate; medians are printed with ratios and the issue's targets.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  freeLoopbackPort,
  hasCommand,
  pinned,
  startServer,
  waitUntilListening,
  type RunningServer,
} from './bench-processes.js';
import type { BenchRowOptions } from './bench-processes.js';
import { median, runH2loadAgainst, type Sample } from './h2load.js';
import { idleMemoryOfServer } from './idle-memory.js';

const here = dirname(fileURLToPath(import.meta.url));

/** How long and how often (see {@link BenchRowOptions}). */
export type Http1BenchOptions = BenchRowOptions;

type Row = Record<string, unknown>;

interface Summary {
  readonly median: number;
  readonly cpuMicrosPerRequest: number;
  readonly failed: number;
}

function summarize(samples: readonly Sample[]): Summary {
  return {
    median: median(samples.map((sample) => sample.requestsPerSecond)),
    cpuMicrosPerRequest: median(samples.map((sample) => sample.cpuMicrosPerRequest)),
    failed: samples.reduce((sum, sample) => sum + sample.failed, 0),
  };
}

function requests(count: number): string[] {
  return ['-n', String(count)];
}

const rps = (value: number): string => `${Math.round(value).toLocaleString('en-US')} req/s`;

/** Runs every HTTP/1.1 row; returns their results for `bench/results/latest.json`. */
export async function measureHttp1(options: Http1BenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const wants = (name: string): boolean => options.only === undefined || name.includes(options.only);
  process.stdout.write('\nHTTP/1.1 — sluice listenHttp1 vs node:http (h2load --h1)\n');
  if (wants('http1 c10')) rows.push(...(await measureServers(options)));
  if (wants('http1 idle memory')) rows.push(await measureIdleMemory(options));
  if (wants('http1 client')) rows.push(await measureClients(options));
  return rows;
}

async function measureServers(options: Http1BenchOptions): Promise<Row[]> {
  const servers: Record<'sluice' | 'node' | 'floor', RunningServer> = {
    sluice: await startServer('sluice-http1-server.js', false),
    node: await startServer('node-http1-server.js', false),
    floor: await startServer('canned-http1-responder.js', false),
  };
  const rows: Row[] = [];
  try {
    const shapes = [
      {
        name: 'http1 c10 m10 (pipelined)',
        h2load: ['--h1', '-c10', '-m10', ...requests(options.isQuick ? 50_000 : 200_000)],
        targets: { ratio: 3, cpu: 1 / 3 },
        withFloor: false,
      },
      {
        name: 'http1 c10 m1',
        h2load: ['--h1', '-c10', '-m1', ...requests(options.isQuick ? 20_000 : 80_000)],
        targets: { ratio: 1.2, cpu: 0.8 },
        withFloor: true,
      },
    ];
    for (const shape of shapes) {
      if (options.only !== undefined && !shape.name.includes(options.only) && !'http1 c10'.includes(options.only))
        continue;
      const names = shape.withFloor ? (['sluice', 'node', 'floor'] as const) : (['sluice', 'node'] as const);
      const samples: Record<string, Sample[]> = { sluice: [], node: [], floor: [] };
      const warm = [...shape.h2load];
      warm[warm.length - 1] = String(Math.round(Number(warm[warm.length - 1]) / 10));
      for (const name of names) runH2loadAgainst(warm, `http://127.0.0.1:${servers[name].port}/`, servers[name].pid);
      for (let run = 0; run < options.repetitions; run++) {
        const order = run % 2 === 0 ? names : [...names].reverse();
        for (const name of order) {
          samples[name].push(
            runH2loadAgainst(shape.h2load, `http://127.0.0.1:${servers[name].port}/`, servers[name].pid),
          );
        }
      }
      const sluice = summarize(samples.sluice);
      const node = summarize(samples.node);
      const ratio = sluice.median / node.median;
      const cpuRatio = sluice.cpuMicrosPerRequest / node.cpuMicrosPerRequest;
      const failed = sluice.failed + node.failed;
      process.stdout.write(
        `${shape.name.padEnd(26)} sluice ${rps(sluice.median).padStart(14)} ${sluice.cpuMicrosPerRequest.toFixed(2)} µs/req` +
          ` | node:http ${rps(node.median).padStart(14)} ${node.cpuMicrosPerRequest.toFixed(2)} µs/req` +
          ` | ratio ${ratio.toFixed(2)}× (target ≥ ${shape.targets.ratio}×), CPU ${cpuRatio.toFixed(2)}× (target ≤ ${shape.targets.cpu.toFixed(2)}×)` +
          `${failed > 0 ? ` (failed: sluice ${sluice.failed}, node ${node.failed})` : ''}\n`,
      );
      const row: Row = { workload: shape.name, metric: 'req/s', sluice, node, ratio, cpuRatio, targets: shape.targets };
      if (shape.withFloor) {
        const floor = summarize(samples.floor);
        const floorRatio = floor.median / node.median;
        row['floor'] = floor;
        row['floorRatio'] = floorRatio;
        process.stdout.write(
          `${'  floor: canned bytes'.padEnd(26)} floor  ${rps(floor.median).padStart(14)} ${floor.cpuMicrosPerRequest.toFixed(2)} µs/req` +
            ` | ratio to node:http ${floorRatio.toFixed(2)}×, CPU ${(floor.cpuMicrosPerRequest / node.cpuMicrosPerRequest).toFixed(2)}×` +
            ` (sluice reaches ${((sluice.median / floor.median) * 100).toFixed(0)} % of the floor's req/s)\n`,
        );
      }
      rows.push(row);
    }
  } finally {
    for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  }
  return rows;
}

/**
 * Server RSS growth per idle keep-alive connection (after one request each), a fresh server per
 * figure, two ways: half a second after the last connection is ready (the growth then also holds
 * however much V8 grew its young generation while the connections were made), and with the
 * servers settled (V8's memory reducer returned the young generation, ≈ 8 s after a process
 * stops allocating: what the connections hold while they stay idle, the issue's figure). Both
 * bench servers keep idle connections 60 s, longer than the settling takes.
 */
async function measureIdleMemory(options: Http1BenchOptions): Promise<Row> {
  const count = 2000;
  // The floor: canned-http1-responder, a bare net.Socket server (what any Node server holds).
  const scripts = {
    sluice: 'sluice-http1-server.js',
    node: 'node-http1-server.js',
    floor: 'canned-http1-responder.js',
  } as const;
  type Server = keyof typeof scripts;
  const burst: Record<Server, number[]> = { sluice: [], node: [], floor: [] };
  const settled: Record<Server, number[]> = { sluice: [], node: [], floor: [] };
  const rounds = options.isQuick ? 1 : 3;
  for (let round = 0; round < rounds; round++) {
    const order = (['sluice', 'node', 'floor'] as const).map((_, i, all) => all[(round + i) % all.length]);
    for (const name of order) {
      burst[name].push(await idleMemoryOfServer(scripts[name], count, [], 'idle-http1-connections.js'));
      // Settling takes ≈ 30 s a server: the floor, which does not change, once.
      if (name !== 'floor' || round === 0)
        settled[name].push(await idleMemoryOfServer(scripts[name], count, [], 'idle-http1-connections.js', [], true));
    }
  }
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB/conn`;
  const figures = (samples: Record<Server, number[]>, what: string): Record<Server | 'ratio', number> => {
    const [sluice, node, floor] = [median(samples.sluice), median(samples.node), median(samples.floor)];
    process.stdout.write(
      `${'http1 idle memory'.padEnd(26)} sluice ${kib(sluice)} | node:http ${kib(node)} | ratio ${(sluice / node).toFixed(2)}×` +
        ` (${what}; RSS, ${count} keep-alive connections after one request each)` +
        ` | floor (a bare net.Socket responder) ${kib(floor)} = ${(floor / node).toFixed(2)}× node:http\n`,
    );
    return { sluice, node, floor, ratio: sluice / node };
  };
  const atBurst = figures(burst, `half a second after setup, median of ${rounds}`);
  const atRest = figures(settled, `servers settled, target ≤ 0.6×, median of ${rounds}`);
  return {
    workload: 'http1 idle memory',
    sluiceBytesPerConnection: atRest.sluice,
    floorBytesPerConnection: atRest.floor,
    floorRatio: atRest.floor / atRest.node,
    nodeBytesPerConnection: atRest.node,
    ratio: atRest.ratio,
    targets: { ratio: 0.6 },
    halfSecondAfterSetup: {
      sluiceBytesPerConnection: atBurst.sluice,
      nodeBytesPerConnection: atBurst.node,
      floorBytesPerConnection: atBurst.floor,
      ratio: atBurst.ratio,
    },
  };
}

// ------------------------------------------------------------------ client against nginx

/** nginx with one worker, pinned to core 0, answering every request with a small body from memory. */
async function startNginx(): Promise<{ port: number; child: ChildProcess; pid: number }> {
  const port = await freeLoopbackPort();
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-nginx-'));
  const config = join(root, 'nginx.conf');
  writeFileSync(
    config,
    `daemon off;\nmaster_process off;\nworker_processes 1;\npid ${root}/nginx.pid;\nerror_log ${root}/error.log;\n` +
      `events { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  keepalive_requests 100000000;\n  keepalive_timeout 60s;\n` +
      `  client_body_temp_path ${root}/body;\n  proxy_temp_path ${root}/proxy;\n  fastcgi_temp_path ${root}/fastcgi;\n` +
      `  uwsgi_temp_path ${root}/uwsgi;\n  scgi_temp_path ${root}/scgi;\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    location / { default_type text/plain; return 200 "hello from the benchmark\\n"; }\n  }\n}\n`,
  );
  const [command, commandArgs] = pinned(0, 'nginx', ['-c', config, '-p', root, '-e', join(root, 'error.log')]);
  const child = spawn(command, commandArgs, { stdio: 'ignore' });
  if (await waitUntilListening(port, child)) return { port, child, pid: child.pid! };
  child.kill('SIGKILL');
  throw new Error('nginx did not start');
}

function cpuTicks(pid: number): number {
  const fields = readStat(pid).split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function readStat(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8');
}

interface ClientSample {
  readonly requests: number;
  readonly seconds: number;
  readonly failed: number;
  readonly cpuMicrosPerRequest: number;
  readonly serverCoreShare: number;
}

/** One client run in its own process on core 1: `http1-client-load.js KIND PORT REQUESTS CONNECTIONS`. */
async function clientRun(
  kind: 'sluice' | 'undici',
  port: number,
  total: number,
  nginxPid: number,
): Promise<ClientSample> {
  const [command, commandArgs] = pinned(1, process.execPath, [
    join(here, 'http1-client-load.js'),
    kind,
    String(port),
    String(total),
    '10',
  ]);
  const ticksBefore = cpuTicks(nginxPid);
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const serverSeconds = (cpuTicks(nginxPid) - ticksBefore) / 100;
  const line = JSON.parse(output.trim().split('\n').pop()!) as {
    requests: number;
    seconds: number;
    failed: number;
    cpuMicros: number;
  };
  return {
    requests: line.requests,
    seconds: line.seconds,
    failed: line.failed,
    cpuMicrosPerRequest: line.cpuMicros / Math.max(1, line.requests),
    serverCoreShare: serverSeconds / line.seconds,
  };
}

async function measureClients(options: Http1BenchOptions): Promise<Row> {
  if (!hasCommand('nginx')) {
    process.stdout.write(`${'http1 client vs undici'.padEnd(26)} skipped: nginx is not installed\n`);
    return { workload: 'http1 client vs undici', skipped: 'nginx missing' };
  }
  try {
    const path = process.env['SLUICE_BENCH_UNDICI'];
    await import(path !== undefined && path !== '' ? pathToFileURL(path).href : 'undici');
  } catch {
    process.stdout.write(
      `${'http1 client vs undici'.padEnd(26)} skipped: undici is not installed (npm i -D undici@^7)\n`,
    );
    return { workload: 'http1 client vs undici', skipped: 'undici missing' };
  }
  const nginx = await startNginx();
  const total = options.isQuick ? 20_000 : 60_000;
  const samples: Record<'sluice' | 'undici', ClientSample[]> = { sluice: [], undici: [] };
  try {
    await clientRun('sluice', nginx.port, total / 10, nginx.pid);
    await clientRun('undici', nginx.port, total / 10, nginx.pid);
    for (let run = 0; run < options.repetitions; run++) {
      for (const kind of run % 2 === 0 ? (['sluice', 'undici'] as const) : (['undici', 'sluice'] as const))
        samples[kind].push(await clientRun(kind, nginx.port, total, nginx.pid));
    }
  } finally {
    nginx.child.kill('SIGTERM');
  }
  const of = (list: ClientSample[]) => ({
    requestsPerSecond: median(list.map((s) => s.requests / s.seconds)),
    cpuMicrosPerRequest: median(list.map((s) => s.cpuMicrosPerRequest)),
    nginxCoreShare: Math.max(...list.map((s) => s.serverCoreShare)),
    failed: list.reduce((sum, s) => sum + s.failed, 0),
  });
  const sluice = of(samples.sluice);
  const undici = of(samples.undici);
  const cpuRatio = sluice.cpuMicrosPerRequest / undici.cpuMicrosPerRequest;
  process.stdout.write(
    `${'http1 client vs undici'.padEnd(26)} sluice ${rps(sluice.requestsPerSecond).padStart(14)} ${sluice.cpuMicrosPerRequest.toFixed(2)} µs/req` +
      ` | undici Pool ${rps(undici.requestsPerSecond).padStart(14)} ${undici.cpuMicrosPerRequest.toFixed(2)} µs/req` +
      ` | client CPU ${cpuRatio.toFixed(2)}× (target ≤ 0.67×); nginx at most ${(Math.max(sluice.nginxCoreShare, undici.nginxCoreShare) * 100).toFixed(0)} % of its core (must stay < 80 %)` +
      `${sluice.failed + undici.failed > 0 ? ` (failed: sluice ${sluice.failed}, undici ${undici.failed})` : ''}\n`,
  );
  return { workload: 'http1 client vs undici', sluice, undici, cpuRatio, targets: { cpu: 0.67 } };
}
