/**
 * Errors of the HTTP/2 API that are not protocol errors (misuse, local limits, lifecycle).
 *
 * @module
 */
import { errorDefinition } from '../../lib/index.js';

/** Errors the HTTP/2 API raises for misuse, local limits and lifecycle (not RFC error codes). */
export const Http2ApiErrors = Object.freeze({
  /** `HTTP2_INVALID_HEADERS`: a header list the application gave breaks RFC 9113 §8. */
  INVALID_HEADERS: errorDefinition('HTTP2_INVALID_HEADERS', 'the header list is not valid HTTP/2'),
  /** `HTTP2_INVALID_ARGUMENT`: an argument of a stream or session method is not of the documented type or range. */
  INVALID_ARGUMENT: errorDefinition('HTTP2_INVALID_ARGUMENT', 'an argument is not of the documented type or range'),
  /** `HTTP2_CONNECTION_CLOSED`: the connection is closing or closed; no new streams. */
  CONNECTION_CLOSED: errorDefinition('HTTP2_CONNECTION_CLOSED', 'the connection is closed'),
  /** `HTTP2_TOO_MANY_PENDING_STREAMS`: more local streams wait for the peer's limit than allowed. */
  TOO_MANY_PENDING_STREAMS: errorDefinition('HTTP2_TOO_MANY_PENDING_STREAMS', 'too many streams waiting to open'),
  /** `HTTP2_TOO_MANY_PINGS`: more PINGs outstanding than allowed. */
  TOO_MANY_PINGS: errorDefinition('HTTP2_TOO_MANY_PINGS', 'too many pings outstanding'),
  /** `HTTP2_PING_TIMEOUT`: a keep-alive PING was not answered in time. */
  PING_TIMEOUT: errorDefinition('HTTP2_PING_TIMEOUT', 'the peer did not answer a keep-alive ping'),
  /** `HTTP2_WRITE_TIMEOUT`: the peer did not take our writes within `writeTimeoutMs`. */
  WRITE_TIMEOUT: errorDefinition('HTTP2_WRITE_TIMEOUT', 'the peer did not read what was written in time'),
});
