/**
 * The HTTP/2 server core alone, in process: CPU per small GET of an `Http2ServerConnection` on a
 * `TestingChannel` — no sockets, no kernel, no load generator — so two builds can be told apart
 * by a few percent where an end-to-end run's noise is larger than that.
 *
 * `node --expose-gc dist/bench/http2-core.js [ROOT ...] [--rounds N] [--connections C]`: each
 * ROOT is a checkout with its `dist/` built (this checkout by default); with several, they run
 * alternately, five times each, and the medians are printed. Each round feeds a batch of ten
 * pre-encoded requests (HEADERS with END_STREAM) and a WINDOW_UPDATE for their responses; the
 * server answers each with HEADERS and a 100-byte DATA frame with END_STREAM. With
 * `--connections C` the rounds go to C connections in turn (one by default), as a server's reads
 * do under `h2load -cC`: what per-connection state costs once it no longer stays in the cache.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareBuildsAlternately } from './alternate-builds.js';

type Runtime = typeof import('../lib/index.js');
type Http2 = typeof import('../handlers/http2/index.js');
type Hpack = typeof import('../handlers/http2/wire/hpack-encoder.js');
type Frames = typeof import('../handlers/http2/wire/frame-encoder.js');

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 20_000;
const connectionCount = args.includes('--connections') ? Number(args[args.indexOf('--connections') + 1]) : 1;
const roots = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const BATCH = 10;
const WARM_UP_ROUNDS = 5000;

/** Imports `path` from the build in `root`, trying each layout a build may have. */
async function importFrom<T>(root: string, ...paths: string[]): Promise<T> {
  for (const path of paths) {
    const file = join(root, 'dist', path);
    if (existsSync(file)) return (await import(pathToFileURL(file).href)) as T;
  }
  throw new Error(`none of ${paths.join(', ')} in ${root}/dist`);
}

/** One measurement in this process: µs of CPU per request for the build in `root`. */
async function measure(root: string): Promise<number> {
  const { TestingChannel } = await importFrom<Runtime>(root, 'lib/index.js');
  const { Http2ServerConnection } = await importFrom<Http2>(root, 'handlers/http2/index.js');
  const { HpackEncoder } = await importFrom<Hpack>(
    root,
    'handlers/http2/wire/hpack-encoder.js',
    'handlers/http2/hpack-encoder.js',
  );
  const { writeFrameHeader } = await importFrom<Frames>(
    root,
    'handlers/http2/wire/frame-encoder.js',
    'handlers/http2/frame-encoder.js',
  );
  const body = Buffer.alloc(100, 120);
  const request = [':method', 'GET', ':scheme', 'http', ':authority', 'localhost', ':path', '/'];
  /** A served connection past its preface, with the client's HPACK context and next stream id. */
  const connect = () => {
    const server = new Http2ServerConnection({
      onStream(stream) {
        stream.sendHeaders([':status', '200', 'content-type', 'text/plain']);
        stream.write(body);
        stream.end();
      },
    });
    const channel = new TestingChannel([server]);
    channel.pushRead(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
        Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]),
      ]),
    );
    channel.runUntilIdle();
    channel.flushWrites();
    channel.takeWritten();
    return { server, channel, encoder: new HpackEncoder({}), nextId: 1 };
  };
  const connections = Array.from({ length: connectionCount }, connect);

  const batch = (_: unknown, round: number): Buffer => {
    const connection = connections[round % connectionCount];
    const frames: Buffer[] = [];
    for (let i = 0; i < BATCH; i++) {
      const block = Buffer.from(connection.encoder.encode(request));
      const frame = Buffer.alloc(9 + block.length);
      writeFrameHeader(frame, 0, block.length, 0x1, 0x4 | 0x1, connection.nextId);
      block.copy(frame, 9);
      connection.nextId += 2;
      frames.push(frame);
    }
    const update = Buffer.alloc(13);
    writeFrameHeader(update, 0, 4, 0x8, 0, 0);
    update.writeUInt32BE(body.length * BATCH, 9);
    frames.push(update);
    return Buffer.concat(frames);
  };
  const batches = Array.from({ length: WARM_UP_ROUNDS + rounds }, batch);
  const run = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const channel = connections[i % connectionCount].channel;
      channel.pushRead(batches[i]);
      channel.runUntilIdle();
      channel.flushWrites();
      channel.takeWrittenMessages();
    }
  };
  run(0, WARM_UP_ROUNDS);
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  run(WARM_UP_ROUNDS, WARM_UP_ROUNDS + rounds);
  const cpu = process.cpuUsage(start);
  for (const { server } of connections) {
    if (server.activeStreamCount !== 0) throw new Error(`${server.activeStreamCount} streams left open`);
  }
  return (cpu.user + cpu.system) / (rounds * BATCH);
}

if (roots.length <= 1) {
  const root = resolve(roots[0] ?? join(here, '..', '..'));
  process.stdout.write(`${JSON.stringify({ root, microsPerRequest: await measure(root) })}\n`);
} else {
  compareBuildsAlternately(fileURLToPath(import.meta.url), roots, [
    '--rounds',
    String(rounds),
    '--connections',
    String(connectionCount),
  ]);
}
