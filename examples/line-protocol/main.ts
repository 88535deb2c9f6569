/**
 * A custom line-based protocol over sluice: a server and a client in one process, each with a
 * pipeline built by name through the plugin registry.
 *
 * ```sh
 * node dist/examples/line-protocol/main.js
 * ```
 *
 * Server pipeline: `socket → idle-timeout → line-codec → line-server`.
 * Client pipeline: `socket → line-codec → line-client`.
 *
 * It prints `listening on tcp://127.0.0.1:PORT`, then one `> sent` / `< received` pair per line,
 * then `done: N lines exchanged`, closes everything and exits 0.
 *
 * @module
 */
import { ClientBootstrap, IoErrors, ServerBootstrap } from '../../handlers/index.js';
import { PluginRegistry } from '../../handlers/plugins/index.js';
import { LINE_CODEC_PLUGIN } from './line-codec.js';
import { LineClientHandler } from './line-client.js';
import { LineServerHandler } from './line-server.js';

const HOST = '127.0.0.1';
const LINES = ['hello', 'line protocols over sluice', 'QUIT'];

async function main(): Promise<void> {
  // One explicit registry: the built-in plugins, plus this protocol's three.
  const registry = new PluginRegistry()
    .register('line-codec', LINE_CODEC_PLUGIN)
    .register(LineServerHandler)
    .register(LineClientHandler);

  // Validated now: a typo in a name or an option fails here, before anything listens.
  const serverPipeline = registry.pipeline([
    'socket',
    { name: 'idle-timeout', options: { timeoutMs: 10_000 } },
    { name: 'line-codec', options: { maxLineLength: 256 } },
    'line-server',
  ]);
  const listener = await new ServerBootstrap().listen({ host: HOST, port: 0, pipeline: serverPipeline });
  process.stdout.write(`listening on tcp://${HOST}:${listener.port}\n`);

  let exchanged = 0;
  const clientPipeline = registry.pipeline([
    'socket',
    'line-codec',
    {
      name: 'line-client',
      options: {
        lines: LINES,
        onExchange: (sent: string, received: string) => {
          exchanged++;
          process.stdout.write(`> ${sent}\n< ${received}\n`);
        },
      },
    },
  ]);
  const channel = await new ClientBootstrap().connect({ host: HOST, port: listener.port, pipeline: clientPipeline });
  const error = await channel.whenShutdown;
  await listener.close();
  // The server closes after BYE too; whichever side closes first, the exchange is complete.
  if (error !== null && error.code !== IoErrors.SOCKET_CLOSED.code) throw error;
  process.stdout.write(`done: ${exchanged} lines exchanged\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`line-protocol: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
