/**
 * The body `sluice serve` sends for `GET /bytes/N`, written out independently of the server's
 * code so a test compares against what the route is documented to send.
 *
 * @module
 */

/** `length` bytes of the `/bytes/N` pattern: byte i is i % 251. */
export function bytesPattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}
