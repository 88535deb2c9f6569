/**
 * The routes both benchmark servers serve, so they do the same work:
 * `GET /` small text, `GET /bytes/N` N bytes of a fixed pattern, `POST /echo` the request body.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

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

/** The test certificate and key when the server runs with TLS=1 (fixtures, never for real use). */
export function benchTls(): { cert: Buffer; key: Buffer } | null {
  if (process.env['TLS'] !== '1') return null;
  const fixtures = new URL('../../../tests/fixtures/tls/', import.meta.url);
  return { cert: readFileSync(new URL('server-cert.pem', fixtures)), key: readFileSync(new URL('server-key.pem', fixtures)) };
}

/** Prints the line the runner waits for. */
export function announce(port: number, isTls = false): void {
  process.stdout.write(`listening on ${isTls ? 'https' : 'http'}://127.0.0.1:${port}\n`);
}
