/**
 * Memory held by pending messages of a given size (issue 18, item 17): `node
 * dist/bench/message-pool.js [--lib PATH]` acquires 400 messages for 16 KiB frames from a fresh
 * pool, keeps them, and prints the ArrayBuffer memory they hold (`process.memoryUsage()`) beside
 * what their payloads need. `--lib` loads another build's `lib/index.js` (a checkout of an older
 * commit, built), so the figure before a change and after it come from the same program.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const libPath = args.includes('--lib')
  ? resolve(args[args.indexOf('--lib') + 1])
  : new URL('../lib/index.js', import.meta.url).pathname;
const { MessagePool } = (await import(pathToFileURL(libPath).href)) as typeof import('../lib/index.js');

const COUNT = 400;
const FRAME = 16 * 1024;
const MiB = 1024 * 1024;

/** ArrayBuffer bytes after a full collection, when exposed (`--expose-gc`), else as they stand. */
function arrayBuffers(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().arrayBuffers;
}

const pool = new MessagePool();
const before = arrayBuffers();
const held = Array.from({ length: COUNT }, () => pool.acquire(FRAME));
const after = arrayBuffers();
process.stdout.write(
  `${COUNT} pending ${FRAME / 1024} KiB messages (${libPath}): ${((after - before) / MiB).toFixed(1)} MiB of ArrayBuffers` +
    ` for ${((COUNT * FRAME) / MiB).toFixed(1)} MiB of payload (${((after - before) / (COUNT * FRAME)).toFixed(2)}×)\n`,
);
for (const message of held) message.release();
