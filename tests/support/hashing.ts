/**
 * Comparing bytes by digest, so a failed comparison of megabytes prints 64 characters.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** Hex SHA-256 of `data`. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
