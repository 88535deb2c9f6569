/**
 * The errors of HTTP/1.1 in sluice, in one place: what the message parser rejects (each with the
 * HTTP status a server answers before closing the connection) and what the message encoder
 * refuses to write.
 *
 * @module
 */
import { SluiceError, errorDefinition, type ErrorDefinition } from '../../lib/errors.js';

/**
 * Http1ErrorDefinition is one row of {@link Http1ParseErrors}: the stable code, the default
 * message, and the status a server answers a request that breaks the rule.
 */
export interface Http1ErrorDefinition extends ErrorDefinition {
  /** The HTTP status a server answers (400, 413, 414, 431, 501 or 505) before it closes the connection. */
  readonly status: number;
}

function parseError(code: string, status: number, message: string): Http1ErrorDefinition {
  return Object.freeze({ ...errorDefinition(code, message), status });
}

/**
 * What the HTTP/1.1 message parser rejects (RFC 9112, RFC 9110). After any of them the parser is
 * dead and the connection must close: the bytes that follow cannot be framed reliably (RFC 9112
 * §11.2, request smuggling). A client parsing a response closes the connection too; the status is
 * what a server would have answered.
 */
export const Http1ParseErrors = Object.freeze({
  /** `HTTP1_BARE_LF`: a line ended with LF not preceded by CR (RFC 9112 §2.2; accepting it is a smuggling vector). */
  BARE_LF: parseError('HTTP1_BARE_LF', 400, 'a line ends with a bare LF'),
  /** `HTTP1_BARE_CR`: a CR not followed by LF (RFC 9112 §2.2). */
  BARE_CR: parseError('HTTP1_BARE_CR', 400, 'a bare CR'),
  /** `HTTP1_START_LINE_TOO_LONG`: the request line (target included) or status line exceeds `maxStartLineLength` (RFC 9112 §3, 414). */
  START_LINE_TOO_LONG: parseError('HTTP1_START_LINE_TOO_LONG', 414, 'the start line is too long'),
  /** `HTTP1_INVALID_START_LINE`: the request line or status line is malformed (RFC 9112 §3, §4). */
  INVALID_START_LINE: parseError('HTTP1_INVALID_START_LINE', 400, 'the start line is malformed'),
  /** `HTTP1_INVALID_METHOD`: the method is empty or not a token (RFC 9110 §9.1). */
  INVALID_METHOD: parseError('HTTP1_INVALID_METHOD', 400, 'the method is not a token'),
  /** `HTTP1_INVALID_TARGET`: the request target has an invalid byte or does not fit the method's form (RFC 9112 §3.2). */
  INVALID_TARGET: parseError('HTTP1_INVALID_TARGET', 400, 'the request target is invalid'),
  /** `HTTP1_UNSUPPORTED_VERSION`: an HTTP version other than 1.0 and 1.1 (RFC 9110 §15.6.6, 505). */
  UNSUPPORTED_VERSION: parseError('HTTP1_UNSUPPORTED_VERSION', 505, 'the HTTP version is not supported'),
  /** `HTTP1_HEADER_TOO_LARGE`: the field lines of a header or trailer section exceed `maxHeaderBlockSize` (RFC 6585 §5, 431). */
  HEADER_TOO_LARGE: parseError('HTTP1_HEADER_TOO_LARGE', 431, 'the header section is too large'),
  /** `HTTP1_TOO_MANY_FIELDS`: a header or trailer section has more than `maxFieldCount` field lines (431). */
  TOO_MANY_FIELDS: parseError('HTTP1_TOO_MANY_FIELDS', 431, 'too many header fields'),
  /** `HTTP1_INVALID_FIELD_NAME`: a field name that is empty or not a token, or a field line without a colon (RFC 9110 §5.1). */
  INVALID_FIELD_NAME: parseError('HTTP1_INVALID_FIELD_NAME', 400, 'a field name is not a token'),
  /** `HTTP1_WHITESPACE_BEFORE_COLON`: whitespace between a field name and its colon (RFC 9112 §5.1). */
  WHITESPACE_BEFORE_COLON: parseError(
    'HTTP1_WHITESPACE_BEFORE_COLON',
    400,
    'whitespace between a field name and the colon',
  ),
  /** `HTTP1_OBS_FOLD`: a field line starting with whitespace (obsolete line folding, RFC 9112 §5.2); rejected, never unfolded. */
  OBS_FOLD: parseError('HTTP1_OBS_FOLD', 400, 'obsolete line folding'),
  /** `HTTP1_INVALID_FIELD_VALUE`: a field value containing NUL or another control character (RFC 9110 §5.5). */
  INVALID_FIELD_VALUE: parseError('HTTP1_INVALID_FIELD_VALUE', 400, 'a field value contains a control character'),
  /** `HTTP1_MISSING_HOST`: an HTTP/1.1 request without a Host field (RFC 9112 §3.2). */
  MISSING_HOST: parseError('HTTP1_MISSING_HOST', 400, 'an HTTP/1.1 request without Host'),
  /** `HTTP1_REPEATED_HOST`: a request with more than one Host field line (RFC 9112 §3.2). */
  REPEATED_HOST: parseError('HTTP1_REPEATED_HOST', 400, 'more than one Host field'),
  /** `HTTP1_INVALID_CONTENT_LENGTH`: a Content-Length that is not a decimal number up to 2^53−1 (RFC 9110 §8.6). */
  INVALID_CONTENT_LENGTH: parseError('HTTP1_INVALID_CONTENT_LENGTH', 400, 'Content-Length is not a number'),
  /** `HTTP1_CONFLICTING_CONTENT_LENGTH`: several Content-Length values that differ (RFC 9112 §6.3). */
  CONFLICTING_CONTENT_LENGTH: parseError(
    'HTTP1_CONFLICTING_CONTENT_LENGTH',
    400,
    'several Content-Length values that differ',
  ),
  /** `HTTP1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING`: both Content-Length and Transfer-Encoding (RFC 9112 §6.1, §11.2). */
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: parseError(
    'HTTP1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING',
    400,
    'both Content-Length and Transfer-Encoding',
  ),
  /** `HTTP1_CHUNKED_NOT_FINAL`: Transfer-Encoding whose final coding is not `chunked` (RFC 9112 §6.3). */
  CHUNKED_NOT_FINAL: parseError('HTTP1_CHUNKED_NOT_FINAL', 400, 'chunked is not the final transfer coding'),
  /** `HTTP1_UNKNOWN_TRANSFER_CODING`: a transfer coding other than `chunked` (RFC 9112 §6.1, 501). */
  UNKNOWN_TRANSFER_CODING: parseError('HTTP1_UNKNOWN_TRANSFER_CODING', 501, 'a transfer coding that is not understood'),
  /** `HTTP1_INVALID_TRANSFER_ENCODING`: `chunked` applied twice, or Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1, §7). */
  INVALID_TRANSFER_ENCODING: parseError('HTTP1_INVALID_TRANSFER_ENCODING', 400, 'invalid Transfer-Encoding'),
  /** `HTTP1_INVALID_CHUNK_SIZE`: a chunk size that is not hexadecimal or exceeds `maxChunkSize` (RFC 9112 §7.1). */
  INVALID_CHUNK_SIZE: parseError('HTTP1_INVALID_CHUNK_SIZE', 400, 'invalid chunk size'),
  /** `HTTP1_CHUNK_EXTENSION_TOO_LONG`: a chunk-size line, or a message's chunk extensions, exceed their limits (RFC 9112 §7.1.1). */
  CHUNK_EXTENSION_TOO_LONG: parseError('HTTP1_CHUNK_EXTENSION_TOO_LONG', 400, 'chunk extensions are too long'),
  /** `HTTP1_INVALID_CHUNK`: a chunk extension with a control character, or chunk data not followed by CRLF (RFC 9112 §7.1). */
  INVALID_CHUNK: parseError('HTTP1_INVALID_CHUNK', 400, 'malformed chunk'),
  /** `HTTP1_BODY_TOO_LARGE`: the body exceeds `maxBodySize` (RFC 9110 §15.5.14, 413). */
  BODY_TOO_LARGE: parseError('HTTP1_BODY_TOO_LARGE', 413, 'the body is too large'),
  /** `HTTP1_INCOMPLETE_MESSAGE`: the connection ended inside a message (RFC 9112 §8). */
  INCOMPLETE_MESSAGE: parseError('HTTP1_INCOMPLETE_MESSAGE', 400, 'the connection ended inside a message'),
});

/** What the HTTP/1.1 message encoder refuses to write; nothing is written when it throws. */
export const Http1EncodeErrors = Object.freeze({
  /** `HTTP1_INVALID_OUTGOING_FIELD_NAME`: an outgoing field name that is not a token (RFC 9110 §5.1). */
  INVALID_OUTGOING_FIELD_NAME: errorDefinition(
    'HTTP1_INVALID_OUTGOING_FIELD_NAME',
    'an outgoing field name is not a token',
  ),
  /**
   * `HTTP1_INVALID_OUTGOING_FIELD_VALUE`: an outgoing field value with CR, LF, NUL or another control
   * character, or a character above U+00FF (response splitting, RFC 9110 §5.5).
   */
  INVALID_OUTGOING_FIELD_VALUE: errorDefinition(
    'HTTP1_INVALID_OUTGOING_FIELD_VALUE',
    'an outgoing field value contains a control character',
  ),
  /** `HTTP1_INVALID_OUTGOING_START_LINE`: an outgoing method, target, status or reason phrase that is not valid. */
  INVALID_OUTGOING_START_LINE: errorDefinition(
    'HTTP1_INVALID_OUTGOING_START_LINE',
    'an outgoing start line is not valid',
  ),
});

/**
 * Http1ParseError is what the message parser throws: a {@link SluiceError} with the code of an
 * {@link Http1ParseErrors} row and the HTTP status a server answers before closing.
 */
export class Http1ParseError extends SluiceError {
  /** The HTTP status a server answers (see {@link Http1ErrorDefinition.status}). */
  readonly status: number;

  /** Creates a parse error from a table row, with a message saying what was found. */
  constructor(definition: Http1ErrorDefinition, message?: string) {
    super(definition, message);
    this.status = definition.status;
  }

  override get name(): string {
    return 'Http1ParseError';
  }
}

/**
 * What the HTTP/1.1 connections (server and client) report to the application: misuse of a
 * stream, timeouts, and the end of a connection under an exchange. Every code is stable.
 */
export const Http1ConnectionErrors = Object.freeze({
  /** `HTTP1_CONNECTION_CLOSED`: the connection closed before the exchange finished. */
  CONNECTION_CLOSED: errorDefinition('HTTP1_CONNECTION_CLOSED', 'the connection closed before the exchange finished'),
  /** `HTTP1_CONNECTION_BUSY`: `request()` on a client connection that already has a request in flight (one at a time). */
  CONNECTION_BUSY: errorDefinition('HTTP1_CONNECTION_BUSY', 'the connection already has a request in flight'),
  /** `HTTP1_CONNECTION_NOT_REUSABLE`: `request()` on a client connection that will not carry another request. */
  CONNECTION_NOT_REUSABLE: errorDefinition(
    'HTTP1_CONNECTION_NOT_REUSABLE',
    'the connection will not carry another request',
  ),
  /** `HTTP1_INVALID_STATE`: a stream method called out of order (a second final response, a write after `end`, a body for HEAD, 204 or 304…). */
  INVALID_STATE: errorDefinition('HTTP1_INVALID_STATE', 'the call does not fit the state of the exchange'),
  /** `HTTP1_INVALID_ARGUMENT`: an argument of a stream or connection method is not what it accepts. */
  INVALID_ARGUMENT: errorDefinition('HTTP1_INVALID_ARGUMENT', 'an argument is not valid'),
  /** `HTTP1_FRAMING_FIELD`: the application set `Transfer-Encoding` (the connection chooses the framing). */
  FRAMING_FIELD: errorDefinition('HTTP1_FRAMING_FIELD', 'the connection chooses Transfer-Encoding itself'),
  /** `HTTP1_CONTENT_LENGTH_MISMATCH`: more or fewer body bytes than the `Content-Length` the application declared. */
  CONTENT_LENGTH_MISMATCH: errorDefinition(
    'HTTP1_CONTENT_LENGTH_MISMATCH',
    'the body does not match the declared Content-Length',
  ),
  /** `HTTP1_HEADER_TIMEOUT`: a request head did not arrive whole within `headerTimeoutMs` of its first byte (slowloris). */
  HEADER_TIMEOUT: errorDefinition('HTTP1_HEADER_TIMEOUT', 'the request head did not arrive in time'),
  /** `HTTP1_BODY_NOT_SENT`: a request body was not sent because the server answered an `Expect: 100-continue` request with a final status. */
  BODY_NOT_SENT: errorDefinition('HTTP1_BODY_NOT_SENT', 'the server answered before the request body was sent'),
  /** `HTTP1_CALLBACK_THREW`: an application callback threw; its exchange failed and the connection closed. */
  CALLBACK_THREW: errorDefinition('HTTP1_CALLBACK_THREW', 'an application callback threw'),
  /**
   * `HTTP1_UPGRADE_FAILED`: an upgrade's code threw — `takes` (the request is served as an
   * ordinary one), `onUpgrade` (answered 500 unless already answered) or the installation of the
   * next protocol after the 101 (the connection closes).
   */
  UPGRADE_FAILED: errorDefinition('HTTP1_UPGRADE_FAILED', 'switching protocols failed'),
});
