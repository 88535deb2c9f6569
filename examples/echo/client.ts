/**
 * Sends each argument as one frame to an echo server on 127.0.0.1 and prints every echo, one
 * per line, in order:
 *
 * ```sh
 * node dist/examples/echo/client.js 7000 hello world
 * ```
 *
 * Exits 0 when every echo matched what was sent, 1 otherwise.
 *
 * @module
 */
import { connectFrameClient } from './frame-client.js';

async function main(argv: readonly string[]): Promise<number> {
  const [portText, ...messages] = argv;
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || messages.length === 0) {
    process.stderr.write('usage: node dist/examples/echo/client.js PORT message...\n');
    return 2;
  }
  const { channel, client } = await connectFrameClient({ host: '127.0.0.1', port });
  let mismatches = 0;
  try {
    // All frames go out at once; echoes come back in the same order on the one connection.
    const sent = messages.map((message) => client.sendFrame(message));
    for (const message of messages) {
      const echo = (await client.readFrame()).toString();
      process.stdout.write(`${echo}\n`);
      if (echo !== message) mismatches++;
    }
    await Promise.all(sent);
  } finally {
    channel.shutdown();
    await channel.whenShutdown;
  }
  return mismatches === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    process.stderr.write(
      `echo client: ${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
