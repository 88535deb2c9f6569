/**
 * The HTTP/1.1 server core alone, in process: CPU per small GET of an `Http1ServerConnection`
 * on a `TestingChannel` — no sockets, no kernel, no load generator — the JavaScript share of
 * what `h2load --h1` measures end to end, steady enough to tell two builds (or two versions of
 * a function) apart by a few percent on a shared machine.
 *
 * `node --expose-gc dist/bench/http1-core.js [ROOT ...] [--rounds N] [--pipelined] [--same-process]`:
 * each ROOT is a checkout with its `dist/` built (this checkout by default); with several, they
 * run alternately in fresh processes, five times each, and the medians are printed. Each round
 * feeds one request per read (as `-m1` does), or ten in one read with `--pipelined` (`-m10`);
 * the server answers each with the bench server's fields and a 100-byte body.
 *
 * `--same-process` loads every build into this one process instead and alternates short batches
 * (40 of 10 000 requests each, the order flipped every batch), printing each build's fastest and
 * median batch against the first's. The machine's slow phases then fall on all builds alike,
 * which makes a few-percent difference visible where fresh processes scatter by ± 20 %; the
 * builds share the process's garbage collector, so a build that allocates more also slows the
 * others a little (the difference reads smaller than it is, never larger).
 *
 * @module
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareBuildsAlternately } from './alternate-builds.js';
import { median } from './h2load.js';

type Runtime = typeof import('../lib/index.js');
type Http1 = typeof import('../handlers/http1/index.js');

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 50_000;
const isPipelined = args.includes('--pipelined');
const isSameProcess = args.includes('--same-process');
const roots = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--rounds');
const PER_READ = isPipelined ? 10 : 1;
const WARM_UP_ROUNDS = 5000;

/** Serves `count` rounds (requests, or reads of ten with `--pipelined`) on the build in `root`. */
type Rounds = (count: number) => void;

/** A server connection of the build in `root` on a testing channel, and how to feed it rounds. */
async function prepare(root: string): Promise<Rounds> {
  const importDist = async <T>(path: string): Promise<T> =>
    (await import(pathToFileURL(join(root, 'dist', path)).href)) as T;
  const { TestingChannel } = await importDist<Runtime>('lib/index.js');
  const { Http1ServerConnection } = await importDist<Http1>('handlers/http1/index.js');
  const body = Buffer.alloc(100, 120);
  const fields = [
    'content-type',
    'text/plain',
    'content-length',
    String(body.length),
    'date',
    'Sun, 06 Dec 2026 04:00:00 GMT',
  ];
  let answered = 0;
  const server = new Http1ServerConnection({
    onRequest(stream) {
      stream.respond(200, fields);
      stream.write(body);
      stream.end();
      answered++;
    },
  });
  const channel = new TestingChannel([server]);
  const request = Buffer.from('GET / HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nuser-agent: h2load nghttp2/1.64.0\r\n\r\n');
  const read = Buffer.concat(Array.from({ length: PER_READ }, () => request));
  return (count: number): void => {
    const before = answered;
    for (let i = 0; i < count; i++) {
      channel.pushRead(read);
      channel.runUntilIdle();
      channel.flushWrites();
      channel.takeWrittenMessages();
    }
    if (answered - before !== count * PER_READ) throw new Error(`${answered - before} answered of ${count * PER_READ}`);
  };
}

/** µs of CPU per request of `count` rounds. */
function timed(run: Rounds, count: number): number {
  const start = process.cpuUsage();
  run(count);
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / (count * PER_READ);
}

/** One measurement in this process: µs of CPU per request for the build in `root`. */
async function measure(root: string): Promise<number> {
  const run = await prepare(root);
  run(WARM_UP_ROUNDS);
  (globalThis as { gc?: () => void }).gc?.();
  return timed(run, rounds);
}

/** `--same-process`: every build in this process, short batches alternating (see the module comment). */
async function compareInProcess(paths: readonly string[]): Promise<void> {
  const builds = await Promise.all(paths.map(async (path) => ({ path, run: await prepare(resolve(path)) })));
  for (const build of builds) build.run(WARM_UP_ROUNDS * 4);
  const batches = 40;
  const perBatch = Math.max(1, Math.round(10_000 / PER_READ));
  const samples = builds.map((): number[] => []);
  for (let batch = 0; batch < batches; batch++) {
    for (let turn = 0; turn < builds.length; turn++) {
      const index = batch % 2 === 0 ? turn : builds.length - 1 - turn;
      samples[index].push(timed(builds[index].run, perBatch));
    }
  }
  const fastest = samples.map((values) => Math.min(...values));
  const medians = samples.map((values) => median(values));
  builds.forEach((build, index) =>
    process.stdout.write(
      `${build.path.padEnd(24)} fastest ${fastest[index].toFixed(3)} µs, median ${medians[index].toFixed(3)} µs CPU/request` +
        ` | ${(fastest[index] / fastest[0]).toFixed(3)}× / ${(medians[index] / medians[0]).toFixed(3)}× the first\n`,
    ),
  );
}

if (isSameProcess) {
  await compareInProcess(roots.length > 0 ? roots : [join(here, '..', '..')]);
} else if (roots.length <= 1) {
  const root = resolve(roots[0] ?? join(here, '..', '..'));
  process.stdout.write(`${JSON.stringify({ root, microsPerRequest: await measure(root) })}\n`);
} else {
  compareBuildsAlternately(fileURLToPath(import.meta.url), roots, [
    '--rounds',
    String(rounds),
    ...(isPipelined ? ['--pipelined'] : []),
  ]);
}
