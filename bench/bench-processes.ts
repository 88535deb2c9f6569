/**
 * The processes a benchmark drives: commands pinned to a core where `taskset` exists, and the
 * benchmark servers of `bench/servers/`, started and asked for their stats.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerStats } from './servers/routes.js';

const here = dirname(fileURLToPath(import.meta.url));

/** True when `name` is on the PATH. */
export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when servers and load generators can each have a core of their own. */
export const canPin = hasCommand('taskset') && cpus().length >= 2;

/** `command commandArgs` run on `core` (through taskset) when {@link canPin}, else as it is. */
export function pinned(core: number, command: string, commandArgs: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(core), command, ...commandArgs]] : [command, commandArgs];
}

/** How long and how often a group of bench rows runs. */
export interface BenchRowOptions {
  readonly repetitions: number;
  readonly isQuick: boolean;
  /** Run only rows whose name contains this. */
  readonly only?: string;
}

/** A benchmark server started by {@link startServer}. */
export interface RunningServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** With taskset the node process is taskset's child after exec: the same pid. */
  readonly pid: number;
  /** Sends SIGUSR2 and resolves with the stats line the server prints. */
  stats(): Promise<ServerStats>;
}

/**
 * Starts `bench/servers/<script>` on core 0 (h2c, or TLS with `isTls`), with `--expose-gc`,
 * `nodeFlags` and `env` added to the environment; resolves once it prints the port it listens on.
 */
export function startServer(
  script: string,
  isTls: boolean,
  nodeFlags: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const [command, commandArgs] = pinned(0, process.execPath, [
    '--expose-gc',
    ...nodeFlags,
    join(here, 'servers', script),
  ]);
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, PORT: '0', TLS: isTls ? '1' : '0' },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    let isStarted = false;
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match && !isStarted) {
        isStarted = true;
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), pid: child.pid!, stats: () => requestStats(child) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function requestStats(child: ChildProcess): Promise<ServerStats> {
  const stats = nextReport<ServerStats>(child, 'stats', 10_000);
  child.kill('SIGUSR2');
  return stats;
}

/**
 * Resolves with the JSON of the next line `<label> {…}` a benchmark server prints on stdout;
 * rejects after `timeoutMs` without one.
 */
export function nextReport<T>(child: ChildProcess, label: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const pattern = new RegExp(`${label} (\\{.*\\})\\n`);
    const timer = setTimeout(() => reject(new Error(`no ${label} line from the server`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const match = pattern.exec(buffered);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(JSON.parse(match[1]) as T);
    };
    child.stdout!.on('data', onData);
  });
}

/** A loopback port the system just handed out as free, for a server that cannot pick one itself. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Resolves true once 127.0.0.1:`port` accepts a connection, false if `child` exits first or
 * five seconds pass (100 tries, 50 ms apart).
 */
export async function waitUntilListening(port: number, child: ChildProcess): Promise<boolean> {
  for (let attempt = 0; attempt < 100 && child.exitCode === null; attempt++) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (isOpen) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
