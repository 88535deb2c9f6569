/**
 * URLs given to the public API, parsed one way everywhere.
 *
 * @module
 */
import { IoErrors, SluiceError } from './errors.js';

/**
 * Parses `input` (a string or a `URL`) given to `what` (the message names it, `connect(url)`): a string that is not a
 * URL, or anything else, is `IO_INVALID_URL` — the one code every entry point that takes a URL
 * (`connect`, the SDK `Client`, proxy settings) gives for it, rather than Node's
 * `ERR_INVALID_URL` from some and a TypeError from others.
 */
export function parseUrl(input: unknown, what: string): URL {
  if (input instanceof URL) return input;
  if (typeof input !== 'string')
    throw new SluiceError(IoErrors.INVALID_URL, `${what}: a URL string or a URL is needed, not ${describe(input)}`);
  try {
    return new URL(input);
  } catch (error) {
    throw new SluiceError(IoErrors.INVALID_URL, `${what}: not a URL: ${JSON.stringify(input)}`, { cause: error });
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
