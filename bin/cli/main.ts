/**
 * The `sluice` command: dispatches to `serve`, `get` or `ws`, prints failures as one line on stderr
 * and maps them to exit codes (0 ok, 1 request or IO failure, 2 usage).
 *
 * @module
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { CliError, describeError, ExitCode, usageError } from './cli-errors.js';
import { runGet } from './get.js';
import { runServe, WORKER_FAILURE_MESSAGE } from './serve.js';
import { runWs } from './ws.js';

/** The help text of `sluice` itself. */
export const MAIN_HELP = `Usage: sluice <command> [options]

Commands:
  serve    serve HTTP/2 (h2c, or TLS with --tls): /, /bytes/N, /echo, /headers, --root files
  get      send HTTP/2 requests like curl/nghttp; -n/-m for a load summary
  ws       a WebSocket client: stdin lines out as messages, messages received on stdout

Run 'sluice <command> --help' for a command's options.
Options: -h, --help (this help), --version.
Exit codes: 0 ok, 1 request or IO failure, 2 usage.
`;

const COMMANDS: Readonly<Record<string, (args: string[]) => Promise<ExitCode>>> = Object.freeze({
  serve: runServe,
  get: runGet,
  ws: runWs,
});

function packageVersion(): string {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/**
 * Writes a failure line to stderr; a cluster worker sends it to its primary instead, which
 * prints the first one (so N failing workers still make one line).
 */
function reportFailure(line: string): Promise<void> {
  const send = process.send?.bind(process);
  if (!cluster.isWorker || send === undefined) {
    process.stderr.write(`${line}\n`);
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => send({ type: WORKER_FAILURE_MESSAGE, line }, undefined, {}, () => resolve()));
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit
 * code; failures have been reported on stderr as `sluice[ <command>]: <message>`.
 */
export async function main(argv: string[]): Promise<ExitCode> {
  const [command, ...rest] = argv;
  let prefix = 'sluice';
  try {
    if (command === undefined) throw usageError("missing command (try 'sluice --help')");
    if (command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(MAIN_HELP);
      return ExitCode.OK;
    }
    if (command === '--version') {
      process.stdout.write(`${packageVersion()}\n`);
      return ExitCode.OK;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (run === undefined) throw usageError(`unknown command '${command}' (try 'sluice --help')`);
    prefix = `sluice ${command}`;
    return await run(rest);
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : ExitCode.FAILURE;
    let line = `${prefix}: ${error instanceof CliError ? error.message : describeError(error)}`;
    if (exitCode === ExitCode.USAGE && prefix !== 'sluice') line += ` (see '${prefix} --help')`;
    await reportFailure(line);
    return exitCode;
  }
}

/** Longest wait for stdout and stderr to flush before exiting, ms. */
const FLUSH_WAIT_LIMIT_MS = 5000;

/**
 * The launcher's entry: runs `main` on `process.argv` and exits with its code once stdout and
 * stderr have flushed (so a finished command exits even if some handle lingers).
 */
export async function run(): Promise<void> {
  const exitCode = await main(process.argv.slice(2));
  process.exitCode = exitCode;
  // Pipes and files are written synchronously on Linux; elsewhere output may still be queued.
  for (
    let waited = 0;
    waited < FLUSH_WAIT_LIMIT_MS && process.stdout.writableLength + process.stderr.writableLength > 0;
    waited += 5
  ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  process.exit(exitCode);
}
