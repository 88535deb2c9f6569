/**
 * Server memory per idle connection: the RSS growth (after a GC) of a freshly started server
 * while a raw-socket client (on core 1) holds `count` idle connections — h2c connections that
 * have exchanged SETTINGS (`idle-connections.js`), HTTP/1.1 keep-alive connections after one
 * request, or upgraded WebSocket connections (`idle-http1-connections.js`).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startServer } from './bench-processes.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts `bench/servers/<script>` fresh (with `nodeFlags`), opens `count` idle connections to
 * it with `bench/<client> PORT COUNT ...clientArgs`, and resolves with the RSS growth per
 * connection; the server is stopped before it resolves.
 */
export async function idleMemoryOfServer(
  script: string,
  count: number,
  nodeFlags: readonly string[],
  client = 'idle-connections.js',
  clientArgs: readonly string[] = [],
): Promise<number> {
  const server = await startServer(script, false, nodeFlags);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await server.stats();
    const [command, commandArgs] = pinned(1, process.execPath, [
      join(here, client),
      String(server.port),
      String(count),
      ...clientArgs,
    ]);
    const clientProcess = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('idle connections not ready')), 60_000);
      clientProcess.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await server.stats();
    clientProcess.stdin.end();
    await new Promise((resolve) => clientProcess.once('exit', resolve));
    return (after.rssBytes - before.rssBytes) / count;
  } finally {
    server.child.kill('SIGTERM');
  }
}
