/**
 * Header block rules of HTTP/2 (RFC 9113 §8.1–§8.3) for a decoded flat header list.
 *
 * A block that breaks a rule is *malformed* (RFC 9113 §8.1.1): a stream error of type
 * PROTOCOL_ERROR, never a connection error. {@link validateHeaderBlock} reports the broken rule
 * as a return value — one of the {@link HeaderRule} reasons — instead of throwing, so that the
 * common, valid case costs one pass over the fields and no allocation; the connection turns a
 * reason into an {@link Http2StreamError} with {@link malformedHeaderError}.
 *
 * Names and values are byte strings (one char per octet), as the HPACK decoder returns them.
 *
 * @module
 */
import { ErrorCode } from '../wire/constants.js';
import { Http2StreamError } from '../errors.js';

/**
 * HeaderRule lists every reason {@link validateHeaderBlock} can return, one per RFC rule; each
 * names the rule and its section.
 */
export const HeaderRule = {
  /** Empty field name (RFC 9113 §8.2.1). */
  EMPTY_NAME: 'empty field name (RFC 9113 §8.2.1)',
  /** Uppercase character in field name (RFC 9113 §8.2.1). */
  UPPERCASE_NAME: 'uppercase character in field name (RFC 9113 §8.2.1)',
  /** Field name contains a character outside visible lowercase ASCII (RFC 9113 §8.2.1). */
  INVALID_NAME_CHARACTER: 'field name contains a character outside visible lowercase ASCII (RFC 9113 §8.2.1)',
  /** Field value contains a control character other than HTAB, or a non-octet character (RFC 9110 §5.5, RFC 9113 §8.2.1). */
  INVALID_VALUE_CHARACTER:
    'field value contains a control character other than HTAB, or a non-octet character (RFC 9110 §5.5, RFC 9113 §8.2.1)',
  /** Field value starts or ends with SP or HTAB (RFC 9113 §8.2.1). */
  VALUE_WHITESPACE: 'field value starts or ends with SP or HTAB (RFC 9113 §8.2.1)',
  /** Connection-specific field (RFC 9113 §8.2.2). */
  CONNECTION_SPECIFIC_FIELD: 'connection-specific field (RFC 9113 §8.2.2)',
  /** Te field with a value other than "trailers" (RFC 9113 §8.2.2). */
  TE_NOT_TRAILERS: 'te field with a value other than "trailers" (RFC 9113 §8.2.2)',
  /** Pseudo-header field after a regular field (RFC 9113 §8.3). */
  PSEUDO_AFTER_REGULAR: 'pseudo-header field after a regular field (RFC 9113 §8.3)',
  /** Pseudo-header field in trailers (RFC 9113 §8.1). */
  PSEUDO_IN_TRAILERS: 'pseudo-header field in trailers (RFC 9113 §8.1)',
  /** Pseudo-header field not defined for this message (RFC 9113 §8.3). */
  UNKNOWN_PSEUDO: 'pseudo-header field not defined for this message (RFC 9113 §8.3)',
  /** Pseudo-header field repeated (RFC 9113 §8.3). */
  DUPLICATE_PSEUDO: 'pseudo-header field repeated (RFC 9113 §8.3)',
  /** :method is not a token (RFC 9110 §9.1). */
  INVALID_METHOD: ':method is not a token (RFC 9110 §9.1)',
  /** Request without :method (RFC 9113 §8.3.1). */
  MISSING_METHOD: 'request without :method (RFC 9113 §8.3.1)',
  /** Request without :scheme (RFC 9113 §8.3.1). */
  MISSING_SCHEME: 'request without :scheme (RFC 9113 §8.3.1)',
  /** Request without :path (RFC 9113 §8.3.1). */
  MISSING_PATH: 'request without :path (RFC 9113 §8.3.1)',
  /** :path of an http or https request is not "/…" or "*" for OPTIONS (RFC 9113 §8.3.1). */
  EMPTY_PATH: ':path of an http or https request is not "/…" or "*" for OPTIONS (RFC 9113 §8.3.1)',
  /** CONNECT request needs :authority and no :scheme or :path (RFC 9113 §8.5). */
  CONNECT_FIELDS: 'CONNECT request needs :authority and no :scheme or :path (RFC 9113 §8.5)',
  /** :protocol needs CONNECT with :scheme, :path and :authority (RFC 8441 §4). */
  PROTOCOL_FIELDS: ':protocol needs CONNECT with :scheme, :path and :authority (RFC 8441 §4)',
  /** :protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 from the server (RFC 8441 §3). */
  PROTOCOL_NOT_ENABLED: ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 from the server (RFC 8441 §3)',
  /** Response without :status (RFC 9113 §8.3.2). */
  MISSING_STATUS: 'response without :status (RFC 9113 §8.3.2)',
  /** :status is not three digits (RFC 9113 §8.3.2). */
  INVALID_STATUS: ':status is not three digits (RFC 9113 §8.3.2)',
  /** :status is 101 (Switching Protocols), which HTTP/2 does not have (RFC 9113 §8.6). */
  SWITCHING_PROTOCOLS: ':status 101 (Switching Protocols) is not allowed in HTTP/2 (RFC 9113 §8.6)',
  /** Content-length is not one non-negative integer (RFC 9110 §8.6). */
  INVALID_CONTENT_LENGTH: 'content-length is not one non-negative integer (RFC 9110 §8.6)',
} as const;

/** One of the {@link HeaderRule} reasons. */
export type HeaderRuleViolation = (typeof HeaderRule)[keyof typeof HeaderRule];

/** HeaderBlockKind says which message a header block starts or ends; the rules differ. */
export const HeaderBlockKind = {
  /** First block of a request (client → server; also a PUSH_PROMISE's promised request). */
  REQUEST: 0,
  /** A response block: informational (1xx) or final. */
  RESPONSE: 1,
  /** Trailers: a block that ends the stream after the message's first block. */
  TRAILERS: 2,
} as const;
/** A {@link HeaderBlockKind} value. */
export type HeaderBlockKind = (typeof HeaderBlockKind)[keyof typeof HeaderBlockKind];

/** Returned by {@link parseContentLength} when the field is absent. */
export const CONTENT_LENGTH_ABSENT = -1;
/** Returned by {@link parseContentLength} when a value is not a valid content-length. */
export const CONTENT_LENGTH_INVALID = -2;

/**
 * HeaderBlockSummary is a caller-owned, reusable record of what {@link validateHeaderBlock}
 * saw, filled during its single pass so the connection needs no second one.
 */
export class HeaderBlockSummary {
  /** `:method`, or '' when absent. */
  method = '';
  /** `:status` as a number, or -1 when absent. */
  status = -1;
  /** content-length, or {@link CONTENT_LENGTH_ABSENT}. */
  contentLength: number = CONTENT_LENGTH_ABSENT;
  /** The `priority` field value (RFC 9218 §5; several fields joined with ", "), or null when absent. */
  priority: string | null = null;

  /** Clears the record; {@link validateHeaderBlock} calls it first. */
  reset(): void {
    this.method = '';
    this.status = -1;
    this.contentLength = CONTENT_LENGTH_ABSENT;
    this.priority = null;
  }
}

/** Character classes of field-name octets, RFC 9113 §8.2.1. */
const NAME_OK = 0;
const NAME_UPPERCASE = 1;
const NAME_FORBIDDEN = 2;
/** Class per octet: 0x00–0x20, 0x7f–0xff and ':' forbidden, 'A'–'Z' uppercase, the rest allowed. */
const NAME_CLASS = (() => {
  const classes = new Uint8Array(256);
  for (let octet = 0; octet < 256; octet++) {
    if (octet <= 0x20 || octet >= 0x7f || octet === 0x3a) classes[octet] = NAME_FORBIDDEN;
    else if (octet >= 0x41 && octet <= 0x5a) classes[octet] = NAME_UPPERCASE;
  }
  return classes;
})();

/**
 * 1 for the octets of a token (RFC 9110 §5.6.2): `!#$%&'*+-.^_\`|~`, digits and letters.
 * Only 0x00–0x7f are listed; anything above is not a token character.
 */
const TOKEN_CHAR = (() => {
  const table = new Uint8Array(128);
  for (let octet = 0x30; octet <= 0x39; octet++) table[octet] = 1;
  for (let octet = 0x41; octet <= 0x5a; octet++) table[octet] = 1;
  for (let octet = 0x61; octet <= 0x7a; octet++) table[octet] = 1;
  for (const char of "!#$%&'*+-.^_`|~") table[char.charCodeAt(0)] = 1;
  return table;
})();

/** Pseudo-header bits, to find duplicates and missing ones with one integer. */
const METHOD = 1;
const SCHEME = 2;
const AUTHORITY = 4;
const PATH = 8;
const PROTOCOL = 16;
const STATUS = 32;

const COLON = 0x3a;
const SPACE = 0x20;
const HTAB = 0x09;

/**
 * Checks a decoded header list `[name0, value0, …]` against RFC 9113 §8 for a block of `kind`,
 * in one pass, and returns null when it is well-formed or the first broken {@link HeaderRule}.
 * `isExtendedConnectEnabled` allows `:protocol` in a request (the server announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3): a server passes what it sent, a client what
 * it received. When `summary` is given it is reset and filled (method, status, content-length,
 * priority).
 * Never throws; allocates nothing on valid input.
 */
export function validateHeaderBlock(
  fields: readonly string[],
  kind: HeaderBlockKind,
  isExtendedConnectEnabled = false,
  summary?: HeaderBlockSummary,
): HeaderRuleViolation | null {
  summary?.reset();
  let seenPseudo = 0;
  let hasRegularField = false;
  let method = '';
  let scheme = '';
  let path = '';
  let status = '';
  let contentLength = CONTENT_LENGTH_ABSENT;
  let priority: string | null = null;

  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    const nameLength = name.length;
    if (nameLength === 0) return HeaderRule.EMPTY_NAME;

    if (name.charCodeAt(0) === COLON) {
      // RFC 9113 §8.3: pseudo-headers come first, are defined per message kind, appear once.
      if (kind === HeaderBlockKind.TRAILERS) return HeaderRule.PSEUDO_IN_TRAILERS;
      if (hasRegularField) return HeaderRule.PSEUDO_AFTER_REGULAR;
      let bit: number;
      switch (name) {
        case ':method':
          bit = kind === HeaderBlockKind.REQUEST ? METHOD : 0;
          method = value;
          if (bit !== 0 && !isToken(value)) return HeaderRule.INVALID_METHOD;
          break;
        case ':scheme':
          bit = kind === HeaderBlockKind.REQUEST ? SCHEME : 0;
          scheme = value;
          break;
        case ':authority':
          bit = kind === HeaderBlockKind.REQUEST ? AUTHORITY : 0;
          break;
        case ':path':
          bit = kind === HeaderBlockKind.REQUEST ? PATH : 0;
          path = value;
          break;
        case ':protocol':
          // RFC 8441 §3, §6: without the setting, :protocol is a field this request may not have.
          if (kind === HeaderBlockKind.REQUEST && !isExtendedConnectEnabled) return HeaderRule.PROTOCOL_NOT_ENABLED;
          bit = kind === HeaderBlockKind.REQUEST ? PROTOCOL : 0;
          break;
        case ':status':
          bit = kind === HeaderBlockKind.RESPONSE ? STATUS : 0;
          status = value;
          if (bit !== 0 && !isThreeDigits(value)) return HeaderRule.INVALID_STATUS;
          if (bit !== 0 && value === '101') return HeaderRule.SWITCHING_PROTOCOLS;
          break;
        default:
          bit = 0;
      }
      if (bit === 0) return HeaderRule.UNKNOWN_PSEUDO;
      if ((seenPseudo & bit) !== 0) return HeaderRule.DUPLICATE_PSEUDO;
      seenPseudo |= bit;
    } else {
      hasRegularField = true;
      for (let c = 0; c < nameLength; c++) {
        const code = name.charCodeAt(c);
        const nameClass = code > 0xff ? NAME_FORBIDDEN : NAME_CLASS[code];
        if (nameClass !== NAME_OK) {
          return nameClass === NAME_UPPERCASE ? HeaderRule.UPPERCASE_NAME : HeaderRule.INVALID_NAME_CHARACTER;
        }
      }
      // RFC 9113 §8.2.2: connection-specific fields (and the fields the summary keeps); only
      // names of these lengths can match.
      if (nameLength === 2 || nameLength === 7 || nameLength === 8 || nameLength === 10 || nameLength >= 14) {
        switch (name) {
          case 'connection':
          case 'keep-alive':
          case 'proxy-connection':
          case 'transfer-encoding':
          case 'upgrade':
            return HeaderRule.CONNECTION_SPECIFIC_FIELD;
          case 'te':
            if (value.length !== 8 || value.toLowerCase() !== 'trailers') return HeaderRule.TE_NOT_TRAILERS;
            break;
          case 'content-length': {
            const parsed = parseContentLength(value);
            if (parsed === CONTENT_LENGTH_INVALID) return HeaderRule.INVALID_CONTENT_LENGTH;
            if (contentLength !== CONTENT_LENGTH_ABSENT && parsed !== contentLength) {
              return HeaderRule.INVALID_CONTENT_LENGTH;
            }
            contentLength = parsed;
            break;
          }
          case 'priority':
            // RFC 9110 §5.3: field lines of one name combine into a list.
            priority = priority === null ? value : `${priority}, ${value}`;
            break;
        }
      }
    }

    // RFC 9110 §5.5: visible octets, SP and HTAB only — no control character (RFC 9113 §8.2.1
    // names NUL, CR and LF; the others are as unsafe to pass on) and no SP/HTAB at either end.
    const valueLength = value.length;
    if (valueLength > 0) {
      const firstCode = value.charCodeAt(0);
      const lastCode = value.charCodeAt(valueLength - 1);
      if (firstCode === SPACE || firstCode === HTAB || lastCode === SPACE || lastCode === HTAB) {
        return HeaderRule.VALUE_WHITESPACE;
      }
      for (let c = 0; c < valueLength; c++) {
        const code = value.charCodeAt(c);
        // Visible ASCII costs two comparisons; obs-text 0x80–0xff is allowed.
        if (code < 0x20 ? code !== HTAB : code === 0x7f || code > 0xff) return HeaderRule.INVALID_VALUE_CHARACTER;
      }
    }
  }

  if (kind === HeaderBlockKind.REQUEST) {
    const violation = checkRequestPseudoHeaders(seenPseudo, method, scheme, path);
    if (violation !== null) return violation;
  } else if (kind === HeaderBlockKind.RESPONSE) {
    if ((seenPseudo & STATUS) === 0) return HeaderRule.MISSING_STATUS;
  }
  if (summary !== undefined) {
    summary.method = method;
    summary.contentLength = contentLength;
    summary.priority = priority;
    if (status !== '') summary.status = Number(status);
  }
  return null;
}

/**
 * Parses one content-length field value (RFC 9110 §8.6): a non-negative decimal integer up to
 * 2^53−1, or a comma-separated list of equal such integers ("42, 42"). Returns the length, or
 * {@link CONTENT_LENGTH_INVALID}. Use {@link validateHeaderBlock}'s summary for a whole block
 * (repeated fields with equal values are accepted there).
 */
export function parseContentLength(value: string): number {
  let result = CONTENT_LENGTH_ABSENT;
  let current = 0;
  let digits = 0;
  const length = value.length;
  for (let i = 0; i <= length; i++) {
    const code = i < length ? value.charCodeAt(i) : 0x2c; // a virtual ',' ends the last item
    if (code >= 0x30 && code <= 0x39) {
      current = current * 10 + (code - 0x30);
      digits++;
      if (current > Number.MAX_SAFE_INTEGER) return CONTENT_LENGTH_INVALID;
    } else if (code === 0x2c) {
      if (digits === 0) return CONTENT_LENGTH_INVALID;
      if (result !== CONTENT_LENGTH_ABSENT && result !== current) return CONTENT_LENGTH_INVALID;
      result = current;
      current = 0;
      digits = 0;
      // Optional whitespace after a comma (RFC 9110 §5.6.1).
      while (i + 1 < length && (value.charCodeAt(i + 1) === SPACE || value.charCodeAt(i + 1) === HTAB)) i++;
    } else if ((code === SPACE || code === HTAB) && digits > 0) {
      // Optional whitespace before a comma.
      while (i + 1 < length && (value.charCodeAt(i + 1) === SPACE || value.charCodeAt(i + 1) === HTAB)) i++;
      if (i + 1 < length && value.charCodeAt(i + 1) !== 0x2c) return CONTENT_LENGTH_INVALID;
    } else {
      return CONTENT_LENGTH_INVALID;
    }
  }
  return result;
}

/**
 * Returns the stream error for a malformed header block (RFC 9113 §8.1.1): RST_STREAM with
 * PROTOCOL_ERROR on `streamId`, with the broken rule as message.
 */
export function malformedHeaderError(streamId: number, violation: HeaderRuleViolation): Http2StreamError {
  return new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, `malformed header block: ${violation}`);
}

/** Request pseudo-header rules, RFC 9113 §8.3.1, §8.5 and RFC 8441 §4. */
function checkRequestPseudoHeaders(
  seenPseudo: number,
  method: string,
  scheme: string,
  path: string,
): HeaderRuleViolation | null {
  if ((seenPseudo & METHOD) === 0) return HeaderRule.MISSING_METHOD;
  if (method === 'CONNECT') {
    if ((seenPseudo & PROTOCOL) !== 0) {
      // Extended CONNECT carries all four, RFC 8441 §4, and :path names the target as for any
      // http or https request (RFC 9113 §8.3.1).
      if ((seenPseudo & (SCHEME | PATH | AUTHORITY)) !== (SCHEME | PATH | AUTHORITY)) return HeaderRule.PROTOCOL_FIELDS;
      if ((scheme === 'http' || scheme === 'https') && (path.length === 0 || path.charCodeAt(0) !== 0x2f)) {
        return HeaderRule.EMPTY_PATH;
      }
    } else if ((seenPseudo & (SCHEME | PATH)) !== 0 || (seenPseudo & AUTHORITY) === 0) {
      return HeaderRule.CONNECT_FIELDS;
    }
    return null;
  }
  if ((seenPseudo & PROTOCOL) !== 0) return HeaderRule.PROTOCOL_FIELDS;
  if ((seenPseudo & SCHEME) === 0) return HeaderRule.MISSING_SCHEME;
  if ((seenPseudo & PATH) === 0) return HeaderRule.MISSING_PATH;
  if (scheme === 'http' || scheme === 'https') {
    const isValidPath = path.length > 0 && (path.charCodeAt(0) === 0x2f || (path === '*' && method === 'OPTIONS'));
    if (!isValidPath) return HeaderRule.EMPTY_PATH;
  }
  return null;
}

/** True for a non-empty token (RFC 9110 §5.6.2), as a method must be (§9.1). */
function isToken(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7f || TOKEN_CHAR[code] === 0) return false;
  }
  return true;
}

function isThreeDigits(value: string): boolean {
  if (value.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}
