/**
 * The start line of an HTTP/1.1 message: a request line (RFC 9112 §3) or a status line (RFC 9112
 * §4), parsed in place from the bytes of one line (CRLF excluded) by the message parser.
 *
 * @module
 */
import {
  COLON,
  CR,
  FIELD_VALUE_BYTES,
  SP,
  TARGET_BYTES,
  TOKEN_BYTES,
  bytesOf,
  isDigit,
  isSameLatin1,
  latin1,
} from './char-classes.js';
import { Http1ParseError, Http1ParseErrors, type Http1ErrorDefinition } from '../errors.js';

/** What a start line fills in: the parser's reused head. */
export interface StartLineFields {
  /** The request method. */
  method: string;
  /** The request target. */
  target: string;
  /** The status code of a response. */
  status: number;
  /** The reason phrase of a response. */
  reason: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  httpMinorVersion: number;
}

const HTTP_SLASH = bytesOf('HTTP/');

/** Methods interned so the common ones cost no string per request. */
const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((name) => ({
  name,
  bytes: bytesOf(name),
}));

/**
 * The error for a rule broken inside the line `bytes[start..end)`: a bare CR anywhere in the line
 * is named first (RFC 9112 §2.2), since it is what made the line unreadable.
 */
export function lineError(
  bytes: Uint8Array,
  start: number,
  end: number,
  definition: Http1ErrorDefinition,
  message: string,
): Http1ParseError {
  for (let at = start; at < end; at++) {
    if (bytes[at] === CR) return new Http1ParseError(Http1ParseErrors.BARE_CR, 'a bare CR inside a line');
  }
  return new Http1ParseError(definition, message);
}

/**
 * Parses `method SP request-target SP HTTP-version` with single spaces (RFC 9112 §3) from
 * `bytes[start..end)` into `head`. Checks, in order: the shape, the version (505 for other than
 * 1.0 and 1.1), the method (a token), the target (bytes, then its form for the method).
 * `recentTarget`, the connection's previous target, is given again when the bytes are the same.
 */
export function parseRequestLine(
  bytes: Buffer,
  start: number,
  end: number,
  head: StartLineFields,
  recentTarget = '',
): void {
  // Scanned here, not with Buffer#indexOf: a request line is short, and a native call per space
  // costs more than the loop.
  let methodEnd = start;
  while (methodEnd < end && bytes[methodEnd] !== SP) methodEnd++;
  if (methodEnd === end) {
    throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a request line without spaces');
  }
  let targetEnd = methodEnd + 1;
  while (targetEnd < end && bytes[targetEnd] !== SP) targetEnd++;
  if (targetEnd === end) {
    throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a request line without a version');
  }
  head.httpMinorVersion = parseVersion(bytes, targetEnd + 1, start, end);
  if (methodEnd === start) throw lineError(bytes, start, end, Http1ParseErrors.INVALID_METHOD, 'an empty method');
  for (let at = start; at < methodEnd; at++) {
    if (TOKEN_BYTES[bytes[at]] === 0) {
      throw lineError(bytes, start, end, Http1ParseErrors.INVALID_METHOD, `byte 0x${hex(bytes[at])} in the method`);
    }
  }
  const targetStart = methodEnd + 1;
  if (targetEnd === targetStart) {
    throw lineError(bytes, start, end, Http1ParseErrors.INVALID_TARGET, 'an empty request target');
  }
  for (let at = targetStart; at < targetEnd; at++) {
    if (TARGET_BYTES[bytes[at]] === 0) {
      throw lineError(bytes, start, end, Http1ParseErrors.INVALID_TARGET, `byte 0x${hex(bytes[at])} in the target`);
    }
  }
  head.method = methodName(bytes, start, methodEnd);
  if (!hasFormFor(head.method, bytes, targetStart, targetEnd)) {
    throw new Http1ParseError(Http1ParseErrors.INVALID_TARGET, `a target of the wrong form for ${head.method}`);
  }
  head.target =
    recentTarget.length === targetEnd - targetStart && isSameLatin1(bytes, targetStart, recentTarget)
      ? recentTarget
      : latin1(bytes, targetStart, targetEnd);
}

/**
 * Parses `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4) from `bytes[start..end)`
 * into `head`. A status line without the SP after the code is tolerated (RFC 9112 §4 allows a
 * client to; some servers send it); status codes are 100–599 (RFC 9110 §15).
 */
export function parseStatusLine(bytes: Buffer, start: number, end: number, head: StartLineFields): void {
  if (end - start < 12 || bytes[start + 8] !== SP) {
    throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a malformed status line');
  }
  head.httpMinorVersion = parseVersion(bytes, start, start, end);
  let status = 0;
  for (let at = start + 9; at < start + 12; at++) {
    if (!isDigit(bytes[at])) {
      throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a status code not of 3 digits');
    }
    status = status * 10 + bytes[at] - 0x30;
  }
  if (status < 100 || status > 599) {
    throw new Http1ParseError(Http1ParseErrors.INVALID_START_LINE, `status code ${status}`);
  }
  let reasonStart = start + 12;
  if (reasonStart < end) {
    if (bytes[reasonStart] !== SP) {
      throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a status code not of 3 digits');
    }
    reasonStart++;
    for (let at = reasonStart; at < end; at++) {
      if (FIELD_VALUE_BYTES[bytes[at]] === 0) {
        throw lineError(bytes, start, end, Http1ParseErrors.INVALID_START_LINE, 'a control byte in the reason');
      }
    }
  }
  head.status = status;
  head.reason = reasonStart >= end ? '' : latin1(bytes, reasonStart, end);
}

/**
 * `HTTP/` DIGIT `.` DIGIT at `bytes[at..]` (RFC 9112 §2.3, case-sensitive) ending the version at
 * `at + 8`, inside the line `[lineStart, lineEnd)`. Returns the minor version of HTTP/1.0 or
 * HTTP/1.1; another well-formed version is a 505.
 */
function parseVersion(bytes: Buffer, at: number, lineStart: number, lineEnd: number): number {
  const versionEnd = at + 8;
  if (
    (at === lineStart ? versionEnd > lineEnd : versionEnd !== lineEnd) ||
    !startsWith(bytes, at, HTTP_SLASH) ||
    !isDigit(bytes[at + 5]) ||
    bytes[at + 6] !== 0x2e ||
    !isDigit(bytes[at + 7])
  ) {
    throw lineError(bytes, lineStart, lineEnd, Http1ParseErrors.INVALID_START_LINE, 'a malformed HTTP version');
  }
  const major = bytes[at + 5] - 0x30;
  const minor = bytes[at + 7] - 0x30;
  if (major !== 1 || minor > 1)
    throw new Http1ParseError(Http1ParseErrors.UNSUPPORTED_VERSION, `HTTP/${major}.${minor}`);
  return minor;
}

/** RFC 9112 §3.2: whether the target `bytes[start..end)` has a form the method allows. */
function hasFormFor(method: string, bytes: Buffer, start: number, end: number): boolean {
  if (method === 'CONNECT') {
    // authority-form: host ":" port and nothing else (RFC 9112 §3.2.3).
    let colon = -1;
    for (let at = start; at < end; at++) {
      const byte = bytes[at];
      if (byte === 0x2f || byte === 0x3f || byte === 0x40) return false; // '/', '?', '@'
      if (byte === COLON) colon = at;
    }
    if (colon <= start || colon >= end - 1) return false;
    for (let at = colon + 1; at < end; at++) if (!isDigit(bytes[at])) return false;
    return true;
  }
  const first = bytes[start];
  if (first === 0x2f) return true; // origin-form (RFC 9112 §3.2.1)
  // asterisk-form, for OPTIONS only (RFC 9112 §3.2.4).
  if (first === 0x2a && end - start === 1) return method === 'OPTIONS';
  // absolute-form (RFC 9112 §3.2.2): scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" hier-part
  if (!isLetter(first)) return false;
  let at = start + 1;
  while (at < end && bytes[at] !== COLON) {
    const byte = bytes[at];
    if (!isLetter(byte) && !isDigit(byte) && byte !== 0x2b && byte !== 0x2d && byte !== 0x2e) return false;
    at++;
  }
  return at < end - 1;
}

function isLetter(byte: number): boolean {
  const folded = byte | 0x20;
  return folded >= 0x61 && folded <= 0x7a;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Whether `bytes` holds exactly `prefix` at `start`. */
function startsWith(bytes: Uint8Array, start: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

/** The method's string, interned for the common methods. */
function methodName(bytes: Buffer, start: number, end: number): string {
  for (const known of KNOWN_METHODS) {
    if (known.bytes.length === end - start && startsWith(bytes, start, known.bytes)) return known.name;
  }
  return latin1(bytes, start, end);
}
