/**
 * Child processes for the interop suite: finding the peers' programs, running them with a
 * deadline, starting servers and waiting for their ports, and self-signed certificates.
 *
 * @module
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's top folder (tests run from dist/tests/support). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The `sluice` command line. */
export const SLUICE = path.join(REPO_ROOT, 'bin', 'sluice');
/** How long a peer's program may run before it is killed. */
export const TOOL_TIMEOUT_MS = 90_000;

/** How a child process ended and what it printed. */
export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** The tool's own output, for assertion messages. */
export function show(what: string, result: ToolResult): string {
  const stdout = result.stdout.toString('utf8');
  return `${what}: exit ${result.code ?? result.signal}\n--- stdout\n${stdout.slice(0, 6000)}\n--- stderr\n${result.stderr.slice(0, 6000)}`;
}

/** The program's path on PATH or in the sbin folders, or null. */
export function findTool(name: string): string | null {
  const directories = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Programs found by {@link requireTools}, by name. */
const toolPaths = new Map<string, string>();

/** The path {@link requireTools} found for `name`. */
export function tool(name: string): string {
  const found = toolPaths.get(name);
  if (found === undefined) throw new Error(`${name} was not looked up`);
  return found;
}

/** Collects a child's output and exit; kills it after `timeoutMs`. */
export function finished(child: ChildProcess, timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise<ToolResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => (stderr += `spawn failed: ${error.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** Runs a program to its end (stdin closed), in this process's environment or `env`. */
export function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ToolResult> {
  return finished(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }));
}

/** Runs `sluice get` with `args`. */
export function sluiceGet(args: string[]): Promise<ToolResult> {
  return run(process.execPath, [SLUICE, 'get', ...args]);
}

/** Asserts exit code 0, printing the output otherwise. */
export function expectSuccess(what: string, result: ToolResult): void {
  expect(result.code, show(what, result)).to.equal(0);
}

/**
 * A loopback port that was free a moment ago, for the interop peers (nghttpd, h2o, nginx,
 * HAProxy) that take their port from a command line or configuration file and cannot report a
 * port-0 binding. Servers this project starts itself listen on port 0 instead
 * (`tests/support/loopback.ts`).
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on the port; fails after `attempts` tries. */
export async function waitForPort(port: number, child: ChildProcess, attempts = 200): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before listening`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (isOpen) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** A server child process with its URL. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<ToolResult>;
  /** Everything it wrote to stdout and stderr so far (logs, warnings), while it still runs. */
  output(): string;
}

/** Longest a server started by the suite may run before it is killed. */
const SERVER_TIMEOUT_MS = 300_000;

/** Keeps what `child` writes to stdout and stderr, readable while it runs. */
export function watchOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer | string): void => {
    text += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}

/**
 * Starts a peer's server program in the foreground (its pid, log and temporary files where its
 * arguments put them) and resolves once every port in `ports` accepts connections; if it exits
 * or never listens, kills it and throws with its output. Stop it with {@link stopPeerServer}.
 */
export async function startPeerServer(
  command: string,
  args: string[],
  ports: number[],
  url: string,
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = watchOutput(child);
  const exited = finished(child, SERVER_TIMEOUT_MS);
  try {
    for (const port of ports) await waitForPort(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(show(`${path.basename(command)} did not start (${String(error)})`, await exited), { cause: error });
  }
  return { url, child, exited, output };
}

/** SIGTERM to a peer's server, then waits for it to exit; its exit status is the peer's business. */
export async function stopPeerServer(server: ServerProcess | undefined): Promise<ToolResult | null> {
  if (server === undefined) return null;
  server.child.kill('SIGTERM');
  return server.exited;
}

/**
 * Resolves once `child` has written text matching `pattern` (stdout or stderr); rejects if it
 * exits first or `timeoutMs` passes, so a peer that never gets ready fails the test, not hangs it.
 */
export function untilOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  const output = watchOutput(child);
  return new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(output());
      if (match !== null) settle(() => resolve(match[0]));
    };
    const onExit = (): void =>
      settle(() => reject(new Error(`exited before printing ${String(pattern)}:\n${output().slice(-4000)}`)));
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(new Error(`nothing matched ${String(pattern)} within ${timeoutMs} ms:\n${output().slice(-4000)}`)),
        ),
      timeoutMs,
    );
    const settle = (finish: () => void): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      finish();
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

/**
 * Starts a server program that prints `listening on <url>` once it accepts connections (as
 * `sluice serve` and the Go interop server do) and resolves with that URL.
 */
export async function startListeningServer(command: string, args: string[], what: string): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = watchOutput(child);
  const exited = finished(child, SERVER_TIMEOUT_MS);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /^listening on (\S+)\n/m.exec(output());
      if (match !== null) resolve(match[1]);
    });
    void exited.then((result) => reject(new Error(show(`${what} exited before listening`, result))));
  });
  return { url, child, exited, output };
}

/** Starts `sluice serve --port 0 …args` and resolves with the URL it prints. */
export function startSluiceServe(args: string[]): Promise<ServerProcess> {
  return startListeningServer(process.execPath, [SLUICE, 'serve', '--port', '0', ...args], 'sluice serve');
}

/** SIGTERM, then asserts a clean exit. */
export async function stopServer(server: ServerProcess, what: string): Promise<ToolResult> {
  server.child.kill('SIGTERM');
  const result = await server.exited;
  expect(result.code, show(what, result)).to.be.oneOf([0, null]);
  return result;
}

/** Generates a self-signed certificate for 127.0.0.1/localhost into `directory`. */
export async function makeCertificate(directory: string): Promise<{ certPath: string; keyPath: string }> {
  const certPath = path.join(directory, 'cert.pem');
  const keyPath = path.join(directory, 'key.pem');
  const result = await run(tool('openssl'), [
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  expectSuccess('openssl req', result);
  return { certPath, keyPath };
}

/**
 * Looks up every program in `tools` (name → Debian package) and throws one error naming the
 * missing ones and the packages to install: a missing peer fails the suite, nothing is skipped.
 */
export function requireTools(tools: Readonly<Record<string, string>>): void {
  const missing = Object.entries(tools).filter(([name]) => {
    const found = findTool(name);
    if (found !== null) toolPaths.set(name, found);
    return found === null;
  });
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, debianPackage]) => debianPackage))].join(' ');
    throw new Error(
      `interop tools missing: ${missing.map(([name]) => name).join(', ')}; install them (apt-get install ${packages})`,
    );
  }
}

/** A legal peer never earns ENHANCE_YOUR_CALM: it must appear in no log or client output. */
export function expectNoCalm(what: string, text: string): void {
  expect(text, `${what} mentions ENHANCE_YOUR_CALM:\n${text.slice(0, 4000)}`).to.not.include('ENHANCE_YOUR_CALM');
}
