/**
 * The errors of HTTP/2 in sluice, in one place: protocol errors with their scope (RFC 9113 §5.4),
 * and the coded errors of the API for misuse, local limits and lifecycle.
 *
 * A connection error ends the whole connection with GOAWAY; a stream error ends one stream with
 * RST_STREAM and leaves the others alone. Both are {@link SluiceError}s with a stable `code`
 * (`HTTP2_<RFC NAME>`) and the RFC numeric code in `errorCode`.
 *
 * @module
 */
import { SluiceError, errorDefinition, type ErrorDefinition } from '../../lib/errors.js';
import { errorCodeName } from './wire/constants.js';

/** The stable sluice code for an RFC 9113 error code: `HTTP2_PROTOCOL_ERROR`, … */
export function http2ErrorDefinition(errorCode: number, message?: string): ErrorDefinition {
  const name = errorCodeName(errorCode);
  return { code: `HTTP2_${name}`, message: message ?? `HTTP/2 ${name}` };
}

/**
 * Http2ConnectionError ends the connection: the endpoint sends GOAWAY with `errorCode`.
 */
export class Http2ConnectionError extends SluiceError {
  /** The RFC 9113 §7 error code sent (or received) in GOAWAY. */
  readonly errorCode: number;
  /** True when the failed work never reached the peer's application and may be retried. */
  readonly retryable: boolean;

  /** Creates a connection error with an RFC 9113 error code and a message saying which rule broke. */
  constructor(errorCode: number, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(http2ErrorDefinition(errorCode), message, options);
    this.errorCode = errorCode;
    this.retryable = options?.retryable ?? false;
  }

  override get name(): string {
    return 'Http2ConnectionError';
  }
}

/**
 * Http2StreamError ends one stream: the endpoint sends RST_STREAM with `errorCode` on `streamId`.
 */
export class Http2StreamError extends SluiceError {
  /** The RFC 9113 §7 error code sent (or received) in RST_STREAM. */
  readonly errorCode: number;
  /** The stream that failed. */
  readonly streamId: number;
  /** True when the request never reached the peer's application and may be retried. */
  readonly retryable: boolean;
  /** The type of the frame that caused it, when a received frame did (-1 otherwise). */
  readonly frameType: number;

  /** Creates a stream error for `streamId` with an RFC 9113 error code. */
  constructor(
    streamId: number,
    errorCode: number,
    message: string,
    options?: { retryable?: boolean; cause?: unknown; frameType?: number },
  ) {
    super(http2ErrorDefinition(errorCode), message, options);
    this.streamId = streamId;
    this.errorCode = errorCode;
    this.retryable = options?.retryable ?? false;
    this.frameType = options?.frameType ?? -1;
  }

  override get name(): string {
    return 'Http2StreamError';
  }
}

/** Either HTTP/2 error. */
export type Http2Error = Http2ConnectionError | Http2StreamError;

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
  /**
   * `HTTP2_STREAM_ENDED`: the peer ended a stream that carries a channel (END_STREAM, the
   * stream's TCP FIN): the channel shuts down with it once what was read is delivered.
   */
  STREAM_ENDED: errorDefinition('HTTP2_STREAM_ENDED', 'the peer ended the stream'),
});
