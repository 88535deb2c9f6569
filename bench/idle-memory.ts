/**
 * Server memory per idle connection: the RSS growth (after a GC) of a freshly started server
 * while a raw-socket client (on core 1) holds `count` idle connections — h2c connections after
 * one request (`idle-connections.js`), HTTP/1.1 keep-alive connections after one request, or
 * upgraded WebSocket connections (`idle-http1-connections.js`).
 *
 * Measured half a second after the last connection is ready, the growth holds however much V8
 * grew its young generation while the connections were made (a one-off V8 sizes by the bytes
 * surviving its scavenges). With `settle`, both the baseline and the figure wait until the
 * server is settled instead: V8's memory reducer returns the young generation of a process that
 * stopped allocating after ≈ 8 s (measured on Node 20), so what is left is what the
 * connections hold while they stay idle.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startServer, type RunningServer } from './bench-processes.js';
import type { ServerStats } from './servers/routes.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A settled server's young generation: V8's memory reducer leaves it at most this large
 * (physical; 268 KiB on Node 20 once it is done, 1 MiB between its steps).
 */
const SETTLED_NEW_SPACE_BYTES = 512 * 1024;
/** How long to wait for a server to settle before measuring it as it is. */
const SETTLE_LIMIT_MS = 40_000;

/**
 * Waits until `server` is settled — its young generation at most {@link SETTLED_NEW_SPACE_BYTES}
 * and its RSS unchanged over three reports 2 s apart — or {@link SETTLE_LIMIT_MS}; resolves with
 * its last stats and whether it settled.
 */
export async function settledStats(server: RunningServer): Promise<{ stats: ServerStats; isSettled: boolean }> {
  const started = Date.now();
  let steadyReports = 0;
  let previous = await server.stats();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stats = await server.stats();
    const newSpace = stats.physicalBytesBySpace['new_space'] ?? 0;
    const isSteady = newSpace <= SETTLED_NEW_SPACE_BYTES && Math.abs(stats.rssBytes - previous.rssBytes) < 64 * 1024;
    steadyReports = isSteady ? steadyReports + 1 : 0;
    if (steadyReports === 2) return { stats, isSettled: true };
    if (Date.now() - started > SETTLE_LIMIT_MS) return { stats, isSettled: false };
    previous = stats;
  }
}

/**
 * Starts `bench/servers/<script>` fresh (with `nodeFlags`), opens `count` idle connections to
 * it with `bench/<client> PORT COUNT ...clientArgs`, and resolves with the RSS growth per
 * connection (with `settle`, between settled states: see the module's comment; it rejects when
 * the server closed any of the connections meanwhile, or did not settle); the server is
 * stopped before it resolves.
 */
export async function idleMemoryOfServer(
  script: string,
  count: number,
  nodeFlags: readonly string[],
  client = 'idle-connections.js',
  clientArgs: readonly string[] = [],
  settle = false,
): Promise<number> {
  const server = await startServer(script, false, nodeFlags);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = settle ? await settledOrThrow(server, script) : await server.stats();
    const [command, commandArgs] = pinned(1, process.execPath, [
      join(here, client),
      String(server.port),
      String(count),
      ...clientArgs,
    ]);
    const clientProcess = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
    let closedCount = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('idle connections not ready')), 60_000);
      clientProcess.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        closedCount += text.split('closed').length - 1;
        if (text.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await (settle ? settledStats(server) : server.stats().then((stats) => ({ stats, isSettled: true })));
    clientProcess.stdin.end();
    await new Promise((resolve) => clientProcess.once('exit', resolve));
    if (closedCount > 0) throw new Error(`${script} closed ${closedCount} of the idle connections`);
    if (!after.isSettled) throw new Error(`${script} did not settle within ${SETTLE_LIMIT_MS / 1000} s`);
    return (after.stats.rssBytes - before.rssBytes) / count;
  } finally {
    server.child.kill('SIGTERM');
  }
}

/** {@link settledStats}'s stats, or an error naming `script` when it did not settle. */
export async function settledOrThrow(server: RunningServer, script: string): Promise<ServerStats> {
  const { stats, isSettled } = await settledStats(server);
  if (!isSettled) throw new Error(`${script} did not settle within ${SETTLE_LIMIT_MS / 1000} s`);
  return stats;
}
