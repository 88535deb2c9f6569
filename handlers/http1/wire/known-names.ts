/**
 * Interned strings for the field names most messages carry, so the parser makes no string for
 * them: a name is looked up among the known names of its length and compared byte by byte (exact
 * case, as sent), which costs a fraction of making a new string from the bytes.
 *
 * @module
 */
import { bytesOf, latin1 } from './char-classes.js';

const COMMON_NAMES = [
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Authorization',
  'Cache-Control',
  'Connection',
  'Content-Encoding',
  'Content-Length',
  'Content-Type',
  'Cookie',
  'Date',
  'ETag',
  'Expect',
  'Host',
  'If-Modified-Since',
  'If-None-Match',
  'Keep-Alive',
  'Last-Modified',
  'Location',
  'Origin',
  'Referer',
  'Server',
  'Set-Cookie',
  'Transfer-Encoding',
  'Upgrade',
  'User-Agent',
  'Vary',
  'X-Forwarded-For',
];

/** Known names by length: Title-Case and lower-case spellings, their bytes beside them. */
const NAMES_BY_LENGTH: string[][] = [];
const BYTES_BY_LENGTH: Uint8Array[][] = [];
for (const name of COMMON_NAMES) {
  for (const spelling of [name, name.toLowerCase()]) {
    (NAMES_BY_LENGTH[spelling.length] ??= []).push(spelling);
    (BYTES_BY_LENGTH[spelling.length] ??= []).push(bytesOf(spelling));
  }
}

/** The field name `bytes[start..end)` as a string: an interned one when it is a common name. */
export function fieldName(bytes: Buffer, start: number, end: number): string {
  const length = end - start;
  const candidates = BYTES_BY_LENGTH[length];
  if (candidates !== undefined) {
    for (let c = 0; c < candidates.length; c++) {
      const nameBytes = candidates[c];
      let at = 0;
      while (at < length && bytes[start + at] === nameBytes[at]) at++;
      if (at === length) return NAMES_BY_LENGTH[length][c];
    }
  }
  return latin1(bytes, start, end);
}
