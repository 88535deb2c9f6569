/**
 * Runs the echo server until SIGINT or SIGTERM:
 *
 * ```sh
 * PORT=7000 node dist/examples/echo/main.js
 * node dist/examples/echo/client.js 7000 hello world
 * ```
 *
 * Prints one line, `listening on tcp://127.0.0.1:PORT`, once bound (PORT from the environment,
 * or a free port when unset or 0). On a signal it closes the listener gracefully — open
 * connections finish writing their echoes — and exits 0.
 *
 * @module
 */
import { startEchoServer } from './server.js';

const HOST = '127.0.0.1';

function portFromEnvironment(): number {
  const text = process.env['PORT'] ?? '0';
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`PORT must be an integer in 0..65535, got '${text}'`);
  }
  return port;
}

async function main(): Promise<void> {
  const listener = await startEchoServer({ host: HOST, port: portFromEnvironment() });
  process.stdout.write(`listening on tcp://${HOST}:${listener.port}\n`);
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // Nothing else holds the process open once the listener and its channels are closed, so it
    // exits by itself with the code set here.
    listener.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(`echo server: close failed: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`echo server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
