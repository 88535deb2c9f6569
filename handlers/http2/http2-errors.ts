/**
 * HTTP/2 errors with their scope, RFC 9113 §5.4.
 *
 * A connection error ends the whole connection with GOAWAY; a stream error ends one stream with
 * RST_STREAM and leaves the others alone. Both are {@link SluiceError}s with a stable `code`
 * (`HTTP2_<RFC NAME>`) and the RFC numeric code in `errorCode`.
 *
 * @module
 */
import { SluiceError, type ErrorDefinition } from '../../lib/errors.js';
import { errorCodeName } from './constants.js';

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
