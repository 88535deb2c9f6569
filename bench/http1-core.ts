/**
 * The HTTP/1.1 server core alone, in process: CPU per small GET of an `Http1ServerConnection`
 * on a `TestingChannel` — no sockets, no kernel, no load generator — the JavaScript share of
 * what `h2load --h1` measures end to end, steady enough to tell two builds (or two versions of
 * a function) apart by a few percent on a shared machine.
 *
 * `node --expose-gc dist/bench/http1-core.js [ROOT ...] [--rounds N] [--pipelined]`: each ROOT
 * is a checkout with its `dist/` built (this checkout by default); with several, they run
 * alternately in fresh processes, five times each, and the medians are printed. Each round
 * feeds one request per read (as `-m1` does), or ten in one read with `--pipelined` (`-m10`);
 * the server answers each with the bench server's fields and a 100-byte body.
 *
 * @module
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareBuildsAlternately } from './alternate-builds.js';

type Runtime = typeof import('../lib/index.js');
type Http1 = typeof import('../handlers/http1/index.js');

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 50_000;
const isPipelined = args.includes('--pipelined');
const roots = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const PER_READ = isPipelined ? 10 : 1;
const WARM_UP_ROUNDS = 5000;

/** One measurement in this process: µs of CPU per request for the build in `root`. */
async function measure(root: string): Promise<number> {
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
  const run = (count: number): void => {
    for (let i = 0; i < count; i++) {
      channel.pushRead(read);
      channel.runUntilIdle();
      channel.flushWrites();
      channel.takeWrittenMessages();
    }
  };
  run(WARM_UP_ROUNDS);
  (globalThis as { gc?: () => void }).gc?.();
  const before = answered;
  const start = process.cpuUsage();
  run(rounds);
  const cpu = process.cpuUsage(start);
  if (answered - before !== rounds * PER_READ) throw new Error(`${answered - before} answered of ${rounds * PER_READ}`);
  return (cpu.user + cpu.system) / (rounds * PER_READ);
}

if (roots.length <= 1) {
  const root = resolve(roots[0] ?? join(here, '..', '..'));
  process.stdout.write(`${JSON.stringify({ root, microsPerRequest: await measure(root) })}\n`);
} else {
  compareBuildsAlternately(fileURLToPath(import.meta.url), roots, [
    '--rounds',
    String(rounds),
    ...(isPipelined ? ['--pipelined'] : []),
  ]);
}
