/**
 * Where the sluice benchmark server spends its time, allocates, and holds memory — the
 * evidence behind docs/performance.md, kept so the next optimisation starts from a measurement:
 *
 * - `node dist/bench/profile.js cpu [requests] [connections]`: `--cpu-prof` under h2load c10 m10
 *   (or c`connections` m10); prints the functions with the most self time.
 * - `node dist/bench/profile.js alloc [requests]`: samples allocations under the same load,
 *   objects a minor GC collected included (the garbage a request leaves); prints the sites.
 *   `alloc-http1 [requests]` does the same for the HTTP/1.1 server under `h2load --h1 -c10 -m1`.
 * - `node dist/bench/profile.js connect [connections]`: the same sampling while idle h2c
 *   connections are opened (accept, channel, SETTINGS exchange, one request) and closed: the
 *   garbage a connection leaves; `connect-http1` and `connect-websocket` for HTTP/1.1 keep-alive
 *   connections (one request each) and WebSocket connections (an upgrade each).
 * - `node dist/bench/profile.js heap [connections]`: a heap snapshot of a server holding idle
 *   h2c connections; prints bytes per connection by constructor.
 * - `node dist/bench/profile.js heap-http1 [connections]`: the same for idle HTTP/1.1 keep-alive
 *   connections, after one request each; `heap-websocket [connections]` for idle WebSocket
 *   connections (an HTTP/1.1 upgrade each).
 *
 * The server runs on core 0 and the load on core 1 where `taskset` exists. Needs h2load
 * (`nghttp2-client`) for `cpu` and `alloc`.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startServer } from './bench-processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const [mode = 'cpu', countText] = process.argv.slice(2);
const workDir = mkdtempSync(join(tmpdir(), 'sluice-profile-'));

/** Loads the server on `port` with h2load: h2c at m10, or HTTP/1.1 one request in flight (`-m1`). */
function load(port: number, requests: number, connections = 10, kind: IdleKind = 'h2c'): void {
  const [command, commandArgs] = pinned(1, 'h2load', [
    ...(kind === 'h2c' ? ['-m10'] : ['--h1', '-m1']),
    `-c${connections}`,
    '-n',
    String(requests),
    `http://127.0.0.1:${port}/`,
  ]);
  execFileSync(command, commandArgs, { stdio: 'ignore', timeout: 120_000 });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/** Prints the `rows` largest entries of `totals` as shares of their sum. */
function printTop(totals: Map<string, number>, rows: number, unit: (value: number) => string): void {
  const sum = [...totals.values()].reduce((a, b) => a + b, 0);
  for (const [key, value] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    process.stdout.write(`${((100 * value) / sum).toFixed(1).padStart(5)}%  ${unit(value).padStart(10)}  ${key}\n`);
  }
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

function frameName(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
}

async function profileCpu(requests: number, connections = 10): Promise<void> {
  const { child, port } = await startServer('sluice-server.js', false, ['--cpu-prof', `--cpu-prof-dir=${workDir}`]);
  load(port, Math.ceil(requests / 10), connections);
  load(port, requests, connections);
  await stop(child);
  const file = readdirSync(workDir).find((name) => name.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(join(workDir, file), 'utf8')) as {
    nodes: { id: number; callFrame: CallFrame }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const name = frameName(byId.get(id)!.callFrame);
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  process.stdout.write(
    `self time, ${requests} requests at c${connections} m10 (the profile: ${join(workDir, file)})\n`,
  );
  printTop(totals, 30, (micros) => `${(micros / 1000).toFixed(0)} ms`);
}

/** Preloaded into the server: samples allocations between SIGUSR1 and SIGINT, then writes them. */
const ALLOCATION_SAMPLER = `
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';
const session = new inspector.Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
await post('HeapProfiler.enable');
process.on('SIGUSR1', () => void post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }).then(() => process.stderr.write('sampling\\n')));
process.prependListener('SIGINT', async () => {
  const { profile } = await post('HeapProfiler.stopSampling');
  writeFileSync(process.env.SLUICE_ALLOCATIONS, JSON.stringify(profile));
  process.exit(0);
});
`;

/** The benchmark server and the idle-connection client for each kind of connection. */
const IDLE_KINDS = {
  h2c: { server: 'sluice-server.js', client: ['idle-connections.js'] },
  http1: { server: 'sluice-http1-server.js', client: ['idle-http1-connections.js'] },
  websocket: { server: 'sluice-ws-server.js', client: ['idle-http1-connections.js', 'websocket'] },
} as const;
type IdleKind = keyof typeof IDLE_KINDS;

/** Opens `count` idle connections of `kind` to `port`, waits until all carried their request, closes them. */
async function openIdleConnections(port: number, count: number, kind: IdleKind): Promise<void> {
  const [script, ...clientArgs] = IDLE_KINDS[kind].client;
  const [command, commandArgs] = pinned(1, process.execPath, [
    join(here, script),
    String(port),
    String(count),
    ...clientArgs,
  ]);
  const client = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) =>
    client.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()),
  );
  client.stdin.end();
  await new Promise((resolve) => client.once('exit', resolve));
}

/** Samples what the server allocates per request (c10 m10 load) or per idle connection opened. */
async function profileAllocations(
  unit: 'request' | 'connection',
  count: number,
  kind: IdleKind = 'h2c',
): Promise<void> {
  const preload = join(workDir, 'sampler.mjs');
  writeFileSync(preload, ALLOCATION_SAMPLER);
  const output = join(workDir, 'allocations.json');
  process.env['SLUICE_ALLOCATIONS'] = output;
  const { child, port } = await startServer(IDLE_KINDS[kind].server, false, ['--import', preload]);
  const work = (n: number): Promise<void> => {
    if (unit !== 'request') return openIdleConnections(port, n, kind);
    load(port, n, 10, kind);
    return Promise.resolve();
  };
  await work(Math.ceil(count / 10));
  child.kill('SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await work(count);
  await stop(child);
  interface SampleNode {
    callFrame: CallFrame;
    selfSize: number;
    children: SampleNode[];
  }
  const { head } = JSON.parse(readFileSync(output, 'utf8')) as { head: SampleNode };
  const totals = new Map<string, number>();
  const walk = (node: SampleNode, caller: string): void => {
    const name = frameName(node.callFrame);
    const key = `${name}  ← ${caller}`;
    if (node.selfSize > 0) totals.set(key, (totals.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, name);
  };
  walk(head, '');
  const sum = [...totals.values()].reduce((a, b) => a + b, 0);
  const workload =
    unit !== 'request'
      ? `idle ${kind} connections opened`
      : kind === 'h2c'
        ? 'requests at c10 m10'
        : `${kind} requests at c10 m1`;
  process.stdout.write(`bytes allocated per ${unit} ≈ ${Math.round(sum / count)} (sampled, ${count} ${workload})\n`);
  printTop(totals, 25, (bytes) => `${(bytes / count).toFixed(0)} B/${unit === 'request' ? 'req' : 'conn'}`);
}

async function profileIdleHeap(connections: number, kind: IdleKind = 'h2c'): Promise<void> {
  const server = IDLE_KINDS[kind].server;
  const { child, port } = await startServer(server, false, [
    '--heapsnapshot-signal=SIGUSR1',
    `--diagnostic-dir=${workDir}`,
  ]);
  const [script, ...clientArgs] = IDLE_KINDS[kind].client;
  const [command, commandArgs] = pinned(1, process.execPath, [
    join(here, script),
    String(port),
    String(connections),
    ...clientArgs,
  ]);
  const client = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) =>
    client.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()),
  );
  // Idle for real: an HTTP/1.1 connection gives its deadlines back after a second of idleness.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  child.kill('SIGUSR1');
  let file: string | undefined;
  for (let waited = 0; file === undefined && waited < 60_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const name = readdirSync(workDir).find((entry) => entry.endsWith('.heapsnapshot'));
    // The snapshot is complete once its size stops changing.
    if (name !== undefined) {
      const size = statSync(join(workDir, name)).size;
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (statSync(join(workDir, name)).size === size && size > 0) file = name;
    }
  }
  client.stdin.end();
  child.kill('SIGTERM');
  if (file === undefined) throw new Error('no heap snapshot');
  const snapshot = JSON.parse(readFileSync(join(workDir, file), 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const totals = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += stride) {
    const type = types[snapshot.nodes[i + typeAt]];
    // Objects by constructor, closures by name, and heap numbers (the boxes V8 gives fields that
    // hold non-integer numbers: Infinity, fractional times) as one row. Array backing stores are
    // left out: most are the runtime's, not per connection.
    let key: string;
    if (type === 'object') key = snapshot.strings[snapshot.nodes[i + nameAt]]!;
    else if (type === 'closure') key = `closure ${snapshot.strings[snapshot.nodes[i + nameAt]]}`;
    else if (type === 'number') key = '(heap number)';
    else continue;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeAt];
    totals.set(key, entry);
  }
  process.stdout.write(
    `objects with at least one instance per connection, ${connections} idle ${{ h2c: 'h2c', http1: 'HTTP/1.1 keep-alive', websocket: 'WebSocket' }[kind]} connections (${join(workDir, file)})\n`,
  );
  const perConnection = new Map<string, number>();
  for (const [key, entry] of totals)
    if (entry.count >= connections)
      perConnection.set(`${key} ×${(entry.count / connections).toFixed(1)}`, entry.bytes / connections);
  printTop(perConnection, 30, (bytes) => `${bytes.toFixed(0)} B`);
}

if (mode === 'cpu') await profileCpu(Number(countText ?? 400_000), Number(process.argv[4] ?? 10));
else if (mode === 'alloc') await profileAllocations('request', Number(countText ?? 100_000));
else if (mode === 'alloc-http1') await profileAllocations('request', Number(countText ?? 100_000), 'http1');
else if (mode === 'connect') await profileAllocations('connection', Number(countText ?? 2000));
else if (mode === 'connect-http1') await profileAllocations('connection', Number(countText ?? 2000), 'http1');
else if (mode === 'connect-websocket') await profileAllocations('connection', Number(countText ?? 2000), 'websocket');
else if (mode === 'heap') await profileIdleHeap(Number(countText ?? 2000));
else if (mode === 'heap-http1') await profileIdleHeap(Number(countText ?? 2000), 'http1');
else if (mode === 'heap-websocket') await profileIdleHeap(Number(countText ?? 2000), 'websocket');
else {
  throw new Error(
    `unknown mode ${mode}: cpu, alloc, alloc-http1, connect, connect-http1, connect-websocket, heap, heap-http1 or heap-websocket`,
  );
}
