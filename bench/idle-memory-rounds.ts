/**
 * What idle connections cost a server the first time and the second: one fresh server, settled,
 * opens COUNT idle connections (first round), closes them, settles, opens COUNT more (second
 * round) and settles again; prints the RSS and heap growth per connection of each round.
 *
 * The first round's growth is what the idle-memory rows measure (a fresh server); it also holds
 * what the process grows by once — V8's old-space and code growth, the memory its compiler and
 * collector take from `malloc`, a server's own free lists filling. The second round's is closer to
 * what each further connection holds.
 *
 * `node dist/bench/idle-memory-rounds.js SERVER [COUNT] [http1]`: SERVER a script of
 * `bench/servers/` (`sluice-server.js`, `node-server.js`, `sluice-http1-server.js`,
 * `node-http1-server.js`, `canned-http1-responder.js`); `http1` for HTTP/1.1 keep-alive
 * connections (h2c otherwise).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startServer, type RunningServer } from './bench-processes.js';
import { settledOrThrow } from './idle-memory.js';
import type { ServerStats } from './servers/routes.js';

const here = dirname(fileURLToPath(import.meta.url));
const [script, countText = '2000', kind] = process.argv.slice(2);
if (script === undefined) throw new Error('usage: node dist/bench/idle-memory-rounds.js SERVER [COUNT] [http1]');
const count = Number(countText);
const client = kind === 'http1' ? 'idle-http1-connections.js' : 'idle-connections.js';

/** Opens `count` idle connections to `server`; resolves with the client once all are ready. */
function openIdleConnections(server: RunningServer): Promise<ChildProcess> {
  const [command, commandArgs] = pinned(1, process.execPath, [join(here, client), String(server.port), String(count)]);
  const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('idle connections not ready')), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      resolve(child);
    });
  });
}

async function closeIdleConnections(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  await new Promise((resolve) => child.once('exit', resolve));
}

function perConnection(after: ServerStats, before: ServerStats): string {
  const kib = (bytes: number): string => `${(bytes / count / 1024).toFixed(2)} KiB`;
  return `RSS ${kib(after.rssBytes - before.rssBytes)}, heap ${kib(after.heapUsedBytes - before.heapUsedBytes)} per connection`;
}

const server = await startServer(script, false);
try {
  const fresh = await settledOrThrow(server, script);
  const first = await openIdleConnections(server);
  const afterFirst = await settledOrThrow(server, script);
  await closeIdleConnections(first);
  const between = await settledOrThrow(server, script);
  const second = await openIdleConnections(server);
  const afterSecond = await settledOrThrow(server, script);
  await closeIdleConnections(second);
  process.stdout.write(
    `${script}, ${count} idle connections, settled: first round ${perConnection(afterFirst, fresh)}; ` +
      `second round ${perConnection(afterSecond, between)}\n`,
  );
} finally {
  server.child.kill('SIGTERM');
}
