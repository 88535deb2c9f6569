/**
 * Errors of the convenient HTTP/2 layer (sessions, server streams, bodies) that are not
 * protocol errors.
 *
 * @module
 */
import { errorDefinition } from '../../lib/index.js';

/** Errors the convenient HTTP/2 layer raises for misuse, cancellation and configuration. */
export const Http2SessionErrors = Object.freeze({
  /** `HTTP2_ABORTED`: the request was cancelled by its `AbortSignal` (sent as RST_STREAM(CANCEL)). */
  ABORTED: errorDefinition('HTTP2_ABORTED', 'the request was aborted'),
  /** `HTTP2_BODY_USED`: a body can be read once; it was already iterated or cancelled. */
  BODY_USED: errorDefinition('HTTP2_BODY_USED', 'the body was already read'),
  /** `HTTP2_UNSUPPORTED_SCHEME`: `connect` takes `http:` (h2c) or `https:` URLs only. */
  UNSUPPORTED_SCHEME: errorDefinition('HTTP2_UNSUPPORTED_SCHEME', 'only http: and https: URLs are supported'),
  /** `HTTP2_ALREADY_RESPONDED`: a server stream sent its final response headers already. */
  ALREADY_RESPONDED: errorDefinition('HTTP2_ALREADY_RESPONDED', 'the response headers were already sent'),
  /** `HTTP2_INVALID_BODY`: a body source yielded something that is not bytes or a string. */
  INVALID_BODY: errorDefinition('HTTP2_INVALID_BODY', 'a body chunk must be a Uint8Array or a string'),
  /**
   * `HTTP2_INVALID_OPTIONS`: the options of a request were not usable (a `signal` that is not an
   * `AbortSignal`, a `method` that is not a string, …); nothing was sent and the session is
   * untouched.
   */
  INVALID_OPTIONS: errorDefinition('HTTP2_INVALID_OPTIONS', 'the request options are not valid'),
  /** `HTTP2_WRITE_AFTER_END`: `write`, `end` or headers on a stream whose side was already ended. */
  WRITE_AFTER_END: errorDefinition('HTTP2_WRITE_AFTER_END', "the stream's side was already ended"),
});
