/**
 * HTTP/1.1 message encoder: writes a request or response head (start line and field lines) and
 * the chunked framing of a body (RFC 9112 §3, §4, §5, §7.1) into a caller-provided buffer.
 *
 * Every `write*` function takes the target buffer and an offset, writes one piece and returns the
 * offset just past what it wrote (so at offset 0, the number of bytes written), like the HTTP/2
 * `FrameEncoder`. The caller sizes its space first with the matching `*Length` function; a write
 * that would not fit throws a `RangeError` (a programming error) instead of truncating.
 *
 * Everything is checked before the first byte is written: a field name that is not a token, a
 * value with CR, LF, NUL or another control character (response splitting, RFC 9110 §5.5), or a
 * start line part that is not valid throws a {@link SluiceError} with an
 * {@link Http1EncodeErrors} code and leaves the buffer untouched. Strings are written as latin-1;
 * a character above U+00FF is refused, never truncated. Values are written as given: the parser
 * trims surrounding whitespace, so a value meant to round-trip has none.
 *
 * Nothing is allocated per call (strings are copied character by character), except the one
 * `subarray` view {@link writeChunk} copies the data through.
 *
 * @module
 */
import { FIELD_VALUE_BYTES, TARGET_BYTES, TOKEN_BYTES } from './char-classes.js';
import { SluiceError } from '../../../lib/errors.js';
import { Http1ConnectionErrors, Http1EncodeErrors } from '../errors.js';

/**
 * Http1Fields is a field list as a flat array `[name0, value0, name1, value1, …]`, in the order
 * written. Names keep the case given; repeated names are written as repeated lines.
 */
export type Http1Fields = readonly string[];

/** `\r\n` after chunk data; see {@link writeChunkEnd}. */
export const CHUNK_END_LENGTH = 2;

const CRLF_LENGTH = 2;
/** `HTTP/1.x` */
const VERSION_LENGTH = 8;

// ---- lengths ---------------------------------------------------------------------------------

/** The length of a request head: `method SP target SP HTTP/1.x CRLF`, the fields, and the empty line. */
export function requestHeadLength(method: string, target: string, fields: Http1Fields): number {
  checkString(method, 'method');
  checkString(target, 'target');
  return method.length + 1 + target.length + 1 + VERSION_LENGTH + CRLF_LENGTH + fieldsLength(fields) + CRLF_LENGTH;
}

/** The length of a response head: `HTTP/1.x SP status SP reason CRLF`, the fields, and the empty line. */
export function responseHeadLength(reason: string, fields: Http1Fields): number {
  checkString(reason, 'reason');
  return VERSION_LENGTH + 1 + 3 + 1 + reason.length + CRLF_LENGTH + fieldsLength(fields) + CRLF_LENGTH;
}

/** The length of the field lines `name: value CRLF` of `fields` (no empty line). */
export function fieldsLength(fields: Http1Fields): number {
  checkFieldStrings(fields);
  return fieldLinesLength(fields);
}

function fieldLinesLength(fields: Http1Fields): number {
  let length = 0;
  for (let i = 0; i < fields.length; i += 2) length += fields[i].length + 2 + fields[i + 1].length + CRLF_LENGTH;
  return length;
}

// The unchecked forms the connections use: what they write was checked once, where the
// application handed it over (respond, request, end), so it is not checked again per write.

/** {@link responseHeadLength} of a head already checked. @internal */
export function checkedResponseHeadLength(reason: string, fields: Http1Fields): number {
  return VERSION_LENGTH + 1 + 3 + 1 + reason.length + CRLF_LENGTH + fieldLinesLength(fields) + CRLF_LENGTH;
}

/** {@link requestHeadLength} of a head already checked. @internal */
export function checkedRequestHeadLength(method: string, target: string, fields: Http1Fields): number {
  return method.length + 1 + target.length + 1 + VERSION_LENGTH + CRLF_LENGTH + fieldLinesLength(fields) + CRLF_LENGTH;
}

/** {@link lastChunkLength} of trailers already checked. @internal */
export function checkedLastChunkLength(trailers: Http1Fields): number {
  return 1 + CRLF_LENGTH + fieldLinesLength(trailers) + CRLF_LENGTH;
}

/** The length of a chunk header `hex-size CRLF` for a chunk of `size` bytes. */
export function chunkHeaderLength(size: number): number {
  checkSize(size, 0);
  return hexDigits(size) + CRLF_LENGTH;
}

/** The length of a whole chunk carrying `size` bytes: header, data and the CRLF after it. */
export function chunkLength(size: number): number {
  checkSize(size, 0);
  return chunkHeaderLength(size) + size + CHUNK_END_LENGTH;
}

/** The length of the last chunk `0 CRLF`, the trailer field lines and the empty line. */
export function lastChunkLength(trailers: Http1Fields = []): number {
  return 1 + CRLF_LENGTH + fieldsLength(trailers) + CRLF_LENGTH;
}

// ---- writes ----------------------------------------------------------------------------------

/**
 * Writes a request head (RFC 9112 §3): request line, field lines, empty line. `method` must be a
 * token, `target` visible ASCII without `#`, `httpMinorVersion` 0 or 1. Framing fields
 * (`Host`, `Content-Length`, `Transfer-Encoding`) are the caller's: they are written as given.
 */
export function writeRequestHead(
  buffer: Uint8Array,
  offset: number,
  method: string,
  target: string,
  fields: Http1Fields,
  httpMinorVersion = 1,
): number {
  if (!isToken(method)) throw invalidStartLine(`the method ${describe(method)} is not a token`);
  if (!isTarget(target)) throw invalidStartLine(`the request target ${describe(target)} is not valid`);
  checkVersion(httpMinorVersion);
  checkFields(fields);
  checkSpace(buffer, offset, requestHeadLength(method, target, fields));
  return putRequestHead(buffer, offset, method, target, fields, httpMinorVersion);
}

/**
 * {@link writeRequestHead} of a head already checked (method, target, fields) into space already
 * measured. @internal
 */
export function putRequestHead(
  buffer: Uint8Array,
  offset: number,
  method: string,
  target: string,
  fields: Http1Fields,
  httpMinorVersion: number,
): number {
  let at = writeLatin1(buffer, offset, method);
  buffer[at++] = 0x20;
  at = writeLatin1(buffer, at, target);
  buffer[at++] = 0x20;
  at = writeVersion(buffer, at, httpMinorVersion);
  at = writeCrlf(buffer, at);
  at = writeFieldLines(buffer, at, fields);
  return writeCrlf(buffer, at);
}

/**
 * Writes a response head (RFC 9112 §4): status line, field lines, empty line. `status` must be an
 * integer 100–599, `reason` free of control characters (it may be empty: the SP before it is still
 * written), `httpMinorVersion` 0 or 1.
 */
export function writeResponseHead(
  buffer: Uint8Array,
  offset: number,
  status: number,
  reason: string,
  fields: Http1Fields,
  httpMinorVersion = 1,
): number {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw invalidStartLine(`status ${describe(status)}`);
  if (!isFieldValue(reason)) throw invalidStartLine(`the reason phrase ${describe(reason)} is not valid`);
  checkVersion(httpMinorVersion);
  checkFields(fields);
  checkSpace(buffer, offset, responseHeadLength(reason, fields));
  return putResponseHead(buffer, offset, status, reason, fields, httpMinorVersion);
}

/**
 * {@link writeResponseHead} of a head already checked (status 100–599, reason, fields) into space
 * already measured. @internal
 */
export function putResponseHead(
  buffer: Uint8Array,
  offset: number,
  status: number,
  reason: string,
  fields: Http1Fields,
  httpMinorVersion: number,
): number {
  let at = writeVersion(buffer, offset, httpMinorVersion);
  buffer[at++] = 0x20;
  buffer[at++] = 0x30 + Math.floor(status / 100);
  buffer[at++] = 0x30 + (Math.floor(status / 10) % 10);
  buffer[at++] = 0x30 + (status % 10);
  buffer[at++] = 0x20;
  at = writeLatin1(buffer, at, reason);
  at = writeCrlf(buffer, at);
  at = writeFieldLines(buffer, at, fields);
  return writeCrlf(buffer, at);
}

/**
 * Writes the header of a chunk of `size` bytes, `hex-size CRLF` (RFC 9112 §7.1); the caller then
 * writes the data and {@link writeChunkEnd}. `size` must be a positive safe integer: a chunk of
 * size 0 is the last chunk, written by {@link writeLastChunk}.
 */
export function writeChunkHeader(buffer: Uint8Array, offset: number, size: number): number {
  checkSize(size, 1);
  const digits = hexDigits(size);
  checkSpace(buffer, offset, digits + CRLF_LENGTH);
  let remaining = size;
  for (let i = digits - 1; i >= 0; i--) {
    const digit = remaining % 16;
    buffer[offset + i] = digit < 10 ? 0x30 + digit : 0x61 + digit - 10;
    remaining = Math.floor(remaining / 16);
  }
  return writeCrlf(buffer, offset + digits);
}

/** Writes the CRLF that ends chunk data. */
export function writeChunkEnd(buffer: Uint8Array, offset: number): number {
  checkSpace(buffer, offset, CHUNK_END_LENGTH);
  return writeCrlf(buffer, offset);
}

/** Writes a whole chunk carrying `data[start..end)` (which must not be empty): header, data, CRLF. */
export function writeChunk(buffer: Uint8Array, offset: number, data: Uint8Array, start: number, end: number): number {
  if (
    !(data instanceof Uint8Array) ||
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end <= start ||
    end > data.length
  ) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      'writeChunk: data[start..end) is a non-empty range of bytes',
    );
  }
  checkSpace(buffer, offset, chunkLength(end - start));
  let at = writeChunkHeader(buffer, offset, end - start);
  buffer.set(data.subarray(start, end), at);
  at += end - start;
  return writeCrlf(buffer, at);
}

/** Writes the last chunk, `0 CRLF`, the trailer field lines and the empty line (RFC 9112 §7.1.2). */
export function writeLastChunk(buffer: Uint8Array, offset: number, trailers: Http1Fields = []): number {
  checkFields(trailers);
  checkSpace(buffer, offset, lastChunkLength(trailers));
  return putLastChunk(buffer, offset, trailers);
}

/** {@link writeLastChunk} of trailers already checked into space already measured. @internal */
export function putLastChunk(buffer: Uint8Array, offset: number, trailers: Http1Fields): number {
  buffer[offset] = 0x30;
  let at = writeCrlf(buffer, offset + 1);
  at = writeFieldLines(buffer, at, trailers);
  return writeCrlf(buffer, at);
}

// ---- checks ----------------------------------------------------------------------------------

/** Whether `name` is a token (RFC 9110 §5.6.2): what a method and a field name must be. */
export function isToken(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code > 0xff || TOKEN_BYTES[code] === 0) return false;
  }
  return true;
}

/** Whether `value` may be written as a field value: SP, HTAB, VCHAR and obs-text only (RFC 9110 §5.5). */
export function isFieldValue(value: string): boolean {
  if (typeof value !== 'string') return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff || FIELD_VALUE_BYTES[code] === 0) return false;
  }
  return true;
}

function isTarget(target: string): boolean {
  if (typeof target !== 'string' || target.length === 0) return false;
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code > 0xff || TARGET_BYTES[code] === 0) return false;
  }
  return true;
}

/** Refuses the whole list before anything is written. */
function checkFields(fields: Http1Fields): void {
  const list: unknown = fields;
  if (!Array.isArray(list)) {
    throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'fields are a flat [name, value, …] array');
  }
  if (fields.length % 2 !== 0) {
    throw new SluiceError(Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME, 'a field list of odd length');
  }
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (typeof name !== 'string' || !isToken(name)) {
      throw new SluiceError(
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME,
        `the field name ${describe(name)} is not a token`,
      );
    }
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new SluiceError(
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE,
        `the value of ${describe(name)} contains CR, LF, NUL, another control character or a character above U+00FF`,
      );
    }
  }
}

function checkVersion(httpMinorVersion: number): void {
  if (httpMinorVersion !== 0 && httpMinorVersion !== 1) throw invalidStartLine(`HTTP/1.${describe(httpMinorVersion)}`);
}

function invalidStartLine(message: string): SluiceError {
  return new SluiceError(Http1EncodeErrors.INVALID_OUTGOING_START_LINE, message);
}

/** Argument errors (not a programming error a fit check can catch): a coded error, as every entry's. */
function checkSpace(buffer: Uint8Array, offset: number, length: number): void {
  if (!(buffer instanceof Uint8Array) || !Number.isSafeInteger(offset)) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      'the buffer is a Uint8Array and the offset a whole number',
    );
  }
  if (offset < 0 || offset + length > buffer.length) {
    throw new RangeError(`${length} bytes do not fit at offset ${offset} of a ${buffer.length}-byte buffer`);
  }
}

function checkString(value: unknown, what: string): void {
  if (typeof value !== 'string') {
    throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `the ${what} is a string, not ${describe(value)}`);
  }
}

/** A flat list of strings (the rules of names and values are the writes'). */
function checkFieldStrings(fields: unknown): void {
  let isValid = Array.isArray(fields) && fields.length % 2 === 0;
  if (isValid) {
    const list = fields as unknown[];
    for (let i = 0; i < list.length && isValid; i++) isValid = typeof list[i] === 'string';
  }
  if (!isValid) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      'fields are a flat [name, value, …] array of strings',
    );
  }
}

/** A chunk size: a safe integer of at least `min`. */
function checkSize(size: unknown, min: number): void {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < min) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      `a chunk size is a whole number of at least ${min}, not ${describe(size)}`,
    );
  }
}

/** A value for a message, whatever it is (no conversion that could throw). */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === null ? 'null' : typeof value;
}

// ---- bytes -----------------------------------------------------------------------------------

function hexDigits(size: number): number {
  let digits = 1;
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 16)) digits++;
  return digits;
}

function writeLatin1(buffer: Uint8Array, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) buffer[offset++] = text.charCodeAt(i);
  return offset;
}

function writeCrlf(buffer: Uint8Array, offset: number): number {
  buffer[offset] = 0x0d;
  buffer[offset + 1] = 0x0a;
  return offset + 2;
}

function writeVersion(buffer: Uint8Array, offset: number, httpMinorVersion: number): number {
  const at = writeLatin1(buffer, offset, 'HTTP/1.');
  buffer[at] = 0x30 + httpMinorVersion;
  return at + 1;
}

function writeFieldLines(buffer: Uint8Array, offset: number, fields: Http1Fields): number {
  let at = offset;
  for (let i = 0; i < fields.length; i += 2) {
    at = writeLatin1(buffer, at, fields[i]);
    buffer[at++] = 0x3a;
    buffer[at++] = 0x20;
    at = writeLatin1(buffer, at, fields[i + 1]);
    at = writeCrlf(buffer, at);
  }
  return at;
}
