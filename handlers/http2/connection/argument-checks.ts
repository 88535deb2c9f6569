/**
 * Checks of the arguments the public stream and session methods take, made once where the call
 * enters — never on the per-frame path — so a wrong type is a coded error before anything is
 * sent, not a TypeError from deep inside.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { Http2ApiErrors, Http2SessionErrors } from '../errors.js';

/** Throws `HTTP2_INVALID_ARGUMENT` unless `value` is an HTTP/2 error code (a whole number from 0 to 2³²−1). */
export function checkErrorCode(value: unknown, operation: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${operation}: an error code is a whole number from 0 to 2^32-1, not ${describe(value)}`,
    );
  }
}

/** Throws `HTTP2_INVALID_ARGUMENT` unless `value` is a function or undefined. */
export function checkCallback(value: unknown, operation: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${operation}: a callback is a function, not ${describe(value)}`,
    );
  }
}

/** Throws `HTTP2_INVALID_ARGUMENT` unless `value` is a boolean or undefined. */
export function checkFlag(value: unknown, operation: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${operation}: a flag is true or false, not ${describe(value)}`,
    );
  }
}

/** Throws `HTTP2_INVALID_ARGUMENT` unless `value` is a finite number. */
export function checkCount(value: unknown, operation: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${operation}: a byte count is a finite number, not ${describe(value)}`,
    );
  }
}

/** Throws `HTTP2_INVALID_HEADERS` unless `value` is a flat `[name, value, …]` list of strings. */
export function checkHeaderList(value: unknown, operation: string): void {
  if (!isStringPairList(value)) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_HEADERS,
      `${operation}: a header list is a flat [name, value, …] array of strings, not ${describe(value)}`,
    );
  }
}

/** Throws `HTTP2_INVALID_BODY` unless `value` is a Uint8Array. */
export function checkChunk(value: unknown, operation: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new SluiceError(
      Http2SessionErrors.INVALID_BODY,
      `${operation}: a chunk is a Uint8Array, not ${describe(value)}`,
    );
  }
}

/** Whether `value` can serve as an AbortSignal: one of this realm, or anything with its shape (another realm's, a polyfill). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  if (value instanceof AbortSignal) return true;
  const candidate = value as Partial<AbortSignal> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.aborted === 'boolean' &&
    typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
  );
}

/** A value named for a message, safely: no conversion that could itself throw. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** A flat list of an even number of strings; a loop, not `every` with a callback (a request's path). */
function isStringPairList(value: unknown): boolean {
  if (!Array.isArray(value) || (value.length & 1) !== 0) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}
