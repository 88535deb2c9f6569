/**
 * The routes both benchmark servers serve, so they do the same work:
 * `GET /` small text, `GET /bytes/N` N bytes of a fixed pattern, `POST /echo` the request body.
 *
 * @module
 */

/** The small response body. */
export const SMALL_BODY = Buffer.from('hello from the benchmark\n');

/** A 64 KiB pattern block that large responses are cut from. */
export const PATTERN_BLOCK: Buffer = (() => {
  const block = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  return block;
})();

/** Parses `/bytes/N`; returns N or -1. */
export function parseBytesPath(path: string): number {
  if (!path.startsWith('/bytes/')) return -1;
  const count = Number(path.slice(7));
  return Number.isSafeInteger(count) && count >= 0 ? count : -1;
}

/** Prints the line the runner waits for. */
export function announce(port: number): void {
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
}
