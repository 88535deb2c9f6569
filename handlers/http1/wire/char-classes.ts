/**
 * Byte classes of HTTP/1.1 syntax (RFC 9110 §5.1, §5.5, §5.6.2; RFC 9112 §3.2) as 256-entry lookup
 * tables, shared by the message parser and encoder: one array read per byte, no branches on
 * ranges.
 *
 * @module
 */
import { latin1String } from '../../../lib/bytes.js';

/** CR, the first byte of a line ending. */
export const CR = 0x0d;
/** LF, the last byte of a line ending. */
export const LF = 0x0a;
/** SP. */
export const SP = 0x20;
/** HTAB. */
export const HTAB = 0x09;
/** `:` between a field name and its value. */
export const COLON = 0x3a;

/** 1 for `tchar` (RFC 9110 §5.6.2): the bytes of a token, i.e. of a method or a field name. */
export const TOKEN_BYTES: Uint8Array = buildTable((byte) => {
  if (byte >= 0x30 && byte <= 0x39) return true;
  if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)) return true;
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(byte));
});

/**
 * 1 for the bytes allowed in a field value (RFC 9110 §5.5): SP, HTAB, VCHAR and obs-text. NUL, CR,
 * LF, DEL and the other controls are not.
 */
export const FIELD_VALUE_BYTES: Uint8Array = buildTable(
  (byte) => byte === SP || byte === HTAB || (byte >= 0x21 && byte !== 0x7f),
);

/**
 * 1 for the bytes sluice accepts in a request target: visible ASCII (0x21–0x7E) except `#` (a
 * fragment is never sent, RFC 9112 §3.2). Stricter URI syntax (`%` escapes, `{|}` and friends) is
 * left to the application: real clients send unescaped `|` and `"` in queries, and those bytes
 * cannot change how a message is framed.
 */
export const TARGET_BYTES: Uint8Array = buildTable((byte) => byte >= 0x21 && byte <= 0x7e && byte !== 0x23);

function buildTable(isMember: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) table[byte] = isMember(byte) ? 1 : 0;
  return table;
}

/** The bytes of an ASCII string (constants compared against the wire). */
export function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/**
 * Whether `bytes[start..end)` equals `lower` ignoring ASCII case. Folding with `| 0x20` is exact
 * for the constants compared: besides letters they hold only `-` and digits, whose other folded
 * twins (CR and control bytes) never reach a comparison (names are tokens, values have no CTL).
 */
export function equalsIgnoringCase(bytes: Uint8Array, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((bytes[start + i] | 0x20) !== lower[i]) return false;
  return true;
}

/**
 * Whether `bytes` from `start` hold the latin-1 characters of `text` (whose length the caller
 * checked): a string the parser made before is given again instead of a new one. Every byte is
 * compared, with no early exit at the first difference, so how long the comparison takes says
 * nothing about how much of a remembered value a client's bytes matched.
 */
export function isSameLatin1(bytes: Uint8Array, start: number, text: string): boolean {
  let difference = 0;
  for (let i = 0; i < text.length; i++) difference |= bytes[start + i] ^ text.charCodeAt(i);
  return difference === 0;
}

const AUTHORIZATION = bytesOf('authorization');
const COOKIE = bytesOf('cookie');
const SET_COOKIE = bytesOf('set-cookie');
const PROXY_AUTHORIZATION = bytesOf('proxy-authorization');

/**
 * Whether the field name `bytes[start..end)` carries credentials (`Authorization`, `Cookie`,
 * `Set-Cookie`, `Proxy-Authorization`): their values are never remembered for reuse, as HPACK
 * never indexes them (RFC 7541 §7.1.3).
 */
export function isCredential(bytes: Uint8Array, start: number, end: number): boolean {
  switch (end - start) {
    case 6:
      return equalsIgnoringCase(bytes, start, end, COOKIE);
    case 10:
      return equalsIgnoringCase(bytes, start, end, SET_COOKIE);
    case 13:
      return equalsIgnoringCase(bytes, start, end, AUTHORIZATION);
    case 19:
      return equalsIgnoringCase(bytes, start, end, PROXY_AUTHORIZATION);
    default:
      return false;
  }
}

/** SP or HTAB: optional whitespace (RFC 9110 §5.6.3). */
export function isWhitespace(byte: number): boolean {
  return byte === SP || byte === HTAB;
}

/** An ASCII digit. */
export function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** The latin-1 string of `bytes[start..end)` (see {@link latin1String}). */
export const latin1: (bytes: Buffer, start: number, end: number) => string = latin1String;
