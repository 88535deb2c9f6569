/**
 * Header lists as plain objects for the convenient layer, converted to and from the flat arrays
 * of the connection core.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { Http2ApiErrors } from '../errors.js';
import type { Http2Headers } from '../connection/connection-options.js';

/**
 * Http2HeadersObject is a received header list as an object: lowercase names, pseudo-headers
 * included (`':status'`, `':path'`, …). A repeated field becomes an array for `set-cookie`, is
 * joined with `; ` for `cookie` and with `, ` otherwise (RFC 9110 §5.3), as `node:http2` does.
 */
export type Http2HeadersObject = Record<string, string | string[]>;

/**
 * Http2HeaderInput is a header list the application gives: an object (a value may be a
 * number, or an array for a repeated field) or a flat `[name, value, …]` array. Names are
 * lowercased; `undefined` values are skipped.
 */
export type Http2HeaderInput =
  Readonly<Record<string, string | number | readonly string[] | undefined>> | readonly string[];

/**
 * Converts a received flat header list to an {@link Http2HeadersObject}. Throws
 * `HTTP2_INVALID_HEADERS` for what is not a flat `[name, value, …]` array of strings.
 */
export function headersToObject(flat: Http2Headers): Http2HeadersObject {
  if (!Array.isArray(flat)) throw notAHeaderList();
  const result: Http2HeadersObject = Object.create(null) as Http2HeadersObject;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (typeof name !== 'string' || typeof value !== 'string') throw notAHeaderList();
    const previous = result[name];
    if (previous === undefined) result[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(previous)) previous.push(value);
    else result[name] = `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return result;
}

/**
 * Appends `input` to `target` as flat fields: pseudo-headers to `pseudo`, the rest to
 * `regular`, names lowercased. Throws `HTTP2_INVALID_HEADERS` for a flat array of odd length.
 * @internal
 */
export function splitHeaderInput(input: Http2HeaderInput | undefined, pseudo: string[], regular: string[]): void {
  if (input === undefined) return;
  if (typeof input !== 'object' || input === null) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_HEADERS,
      `headers are an object of fields or a flat [name, value, …] array, not ${input === null ? 'null' : typeof input}`,
    );
  }
  if (isFlatHeaderArray(input)) {
    if (input.length % 2 !== 0)
      throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, 'a flat header array needs an even length');
    for (let i = 0; i < input.length; i += 2) {
      const name: unknown = input[i];
      const value: unknown = input[i + 1];
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new SluiceError(
          Http2ApiErrors.INVALID_HEADERS,
          `a flat header array holds strings only (entry ${typeof name !== 'string' ? i : i + 1})`,
        );
      }
      pushField(name, value, pseudo, regular);
    }
    return;
  }
  for (const name of Object.keys(input)) {
    const value: unknown = input[name];
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') {
      pushField(name, String(value), pseudo, regular);
    } else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      for (const item of value) pushField(name, item, pseudo, regular);
    } else {
      throw new SluiceError(
        Http2ApiErrors.INVALID_HEADERS,
        `header '${name}': a value is a string, a number or an array of strings`,
      );
    }
  }
}

/** Sets pseudo-header `name` in a flat list unless it is there already. @internal */
export function setDefaultPseudo(pseudo: string[], name: string, value: string): void {
  for (let i = 0; i < pseudo.length; i += 2) if (pseudo[i] === name) return;
  pseudo.push(name, value);
}

/** The value of pseudo-header `name` in a flat list, or undefined. @internal */
export function pseudoValue(pseudo: readonly string[], name: string): string | undefined {
  for (let i = 0; i < pseudo.length; i += 2) if (pseudo[i] === name) return pseudo[i + 1];
  return undefined;
}

function pushField(name: string, value: string, pseudo: string[], regular: string[]): void {
  const lower = name.toLowerCase();
  if (lower.charCodeAt(0) === 0x3a) {
    // A pseudo-header given twice: the later one wins (an object cannot repeat it anyway).
    for (let i = 0; i < pseudo.length; i += 2) {
      if (pseudo[i] === lower) {
        pseudo[i + 1] = value;
        return;
      }
    }
    pseudo.push(lower, value);
  } else {
    regular.push(lower, value);
  }
}

function isFlatHeaderArray(input: Http2HeaderInput): input is readonly string[] {
  return Array.isArray(input);
}

/** The error of {@link headersToObject} for what is not a header list. */
function notAHeaderList(): SluiceError {
  return new SluiceError(
    Http2ApiErrors.INVALID_HEADERS,
    'headersToObject(flat): a header list is a flat [name, value, …] array of strings',
  );
}
