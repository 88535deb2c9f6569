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

/** Known names by length: `[string, bytes]` pairs, Title-Case and lower-case spellings. */
const BY_LENGTH: (readonly [string, Uint8Array])[][] = [];
for (const name of COMMON_NAMES) {
  for (const spelling of [name, name.toLowerCase()]) {
    (BY_LENGTH[spelling.length] ??= []).push([spelling, bytesOf(spelling)]);
  }
}

/** The field name `bytes[start..end)` as a string: an interned one when it is a common name. */
export function fieldName(bytes: Buffer, start: number, end: number): string {
  const candidates = BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (const [name, nameBytes] of candidates) {
      let at = 0;
      while (at < nameBytes.length && bytes[start + at] === nameBytes[at]) at++;
      if (at === nameBytes.length) return name;
    }
  }
  return latin1(bytes, start, end);
}
