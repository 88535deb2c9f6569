/**
 * Helpers for asserting error codes: what a call threw or a promise rejected with, as the
 * stable `SluiceError` code, so a table of calls can be compared with a table of codes.
 */
import { readFileSync } from 'node:fs';
import { SluiceError } from '../../lib/index.js';

/** The code of a SluiceError, or a description of whatever else `error` is. */
export function codeOf(error: unknown): string {
  if (error instanceof SluiceError) return error.code;
  return `not a SluiceError: ${String(error)}`;
}

/** Runs `action` and returns the code of what it threw, or `'none'`. */
export function thrownCode(action: () => unknown): string {
  try {
    action();
    return 'none';
  } catch (error) {
    return codeOf(error);
  }
}

/** The codes docs/errors.md lists (each in backticks in a table's first column). */
export function documentedErrorCodes(): string[] {
  const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  return [...page.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
}
