import { errorDefinition } from '../../lib/errors.js';
/**
 * The `SDK_*` error table: connection and stream managers, proxy tunnel, client timeouts and cancellation.
 *
 * @module
 */

/** Errors of the sdk area (stream manager, proxy tunnel, client). */
export const SdkErrors = Object.freeze({
  /** `SDK_CONNECT_TIMEOUT`: the connection (TCP, proxy tunnel) was not set up within `connectTimeoutMs`. */
  CONNECT_TIMEOUT: errorDefinition('SDK_CONNECT_TIMEOUT', 'the connection was not set up in time'),
  /** `SDK_TLS_NEGOTIATION_TIMEOUT`: the TLS handshake did not complete within `tlsNegotiationTimeoutMs`. */
  TLS_NEGOTIATION_TIMEOUT: errorDefinition('SDK_TLS_NEGOTIATION_TIMEOUT', 'the TLS handshake did not complete in time'),
  /** `SDK_FIRST_BYTE_TIMEOUT`: no response headers arrived within `firstByteTimeoutMs` of sending the request. */
  FIRST_BYTE_TIMEOUT: errorDefinition('SDK_FIRST_BYTE_TIMEOUT', 'no response arrived in time'),
  /** `SDK_REQUEST_TIMEOUT`: the whole request, retries and backoff included, took longer than its `timeoutMs`. */
  REQUEST_TIMEOUT: errorDefinition('SDK_REQUEST_TIMEOUT', 'the request did not complete in time'),
  /** `SDK_IDLE_TIMEOUT`: the response stopped: nothing arrived for `readIdleTimeoutMs`. */
  IDLE_TIMEOUT: errorDefinition('SDK_IDLE_TIMEOUT', 'the response went idle'),
  /** `SDK_REQUEST_ABORTED`: the request's `AbortSignal` fired; `cause` is the signal's reason. */
  REQUEST_ABORTED: errorDefinition('SDK_REQUEST_ABORTED', 'the request was aborted'),
  /** `SDK_ACQUIRE_TIMEOUT`: no stream (HTTP/2) or idle connection (HTTP/1.1) became available within `acquireTimeoutMs`. */
  ACQUIRE_TIMEOUT: errorDefinition('SDK_ACQUIRE_TIMEOUT', 'no stream or connection became available in time'),
  /** `SDK_TOO_MANY_PENDING_ACQUISITIONS`: `maxPendingAcquisitions` requests already wait for a stream or connection. */
  TOO_MANY_PENDING_ACQUISITIONS: errorDefinition(
    'SDK_TOO_MANY_PENDING_ACQUISITIONS',
    'too many requests wait for a stream or connection',
  ),
  /** `SDK_MANAGER_CLOSED`: the connection or stream manager (or its client) is closed. */
  MANAGER_CLOSED: errorDefinition('SDK_MANAGER_CLOSED', 'the connection manager is closed'),
  /**
   * `SDK_CONNECTION_DEAD`: the request was sent on a connection whose idle PING then went
   * unanswered for `pingTimeoutMs`, so the stream manager dropped the connection; `cause` is the
   * HTTP/2 error the stream failed with. Requests still waiting for a stream do not get it.
   */
  CONNECTION_DEAD: errorDefinition('SDK_CONNECTION_DEAD', 'the connection did not answer a PING'),
  /** `SDK_PROXY_AUTHENTICATION_FAILED`: the proxy answered CONNECT with 407 (missing or wrong credentials). */
  PROXY_AUTHENTICATION_FAILED: errorDefinition(
    'SDK_PROXY_AUTHENTICATION_FAILED',
    'the proxy refused the credentials (407)',
  ),
  /** `SDK_PROXY_CONNECT_FAILED`: the proxy answered CONNECT with a status other than 2xx or 407, or closed first. */
  PROXY_CONNECT_FAILED: errorDefinition('SDK_PROXY_CONNECT_FAILED', 'the proxy did not open the tunnel'),
  /** `SDK_PROXY_RESPONSE_INVALID`: the proxy's answer to CONNECT is not an HTTP/1.x response or is too large. */
  PROXY_RESPONSE_INVALID: errorDefinition(
    'SDK_PROXY_RESPONSE_INVALID',
    'the proxy sent an invalid response to CONNECT',
  ),
  /**
   * `SDK_RESPONSE_TOO_LARGE`: the response body (or its `content-length`) exceeded
   * `maxResponseBytes`; the stream was reset with CANCEL, the connection stays up. Not retried.
   */
  RESPONSE_TOO_LARGE: errorDefinition('SDK_RESPONSE_TOO_LARGE', 'the response body exceeded maxResponseBytes'),
  /** `SDK_BODY_SOURCE_FAILED`: the request body source threw (`cause` is what it threw); the stream was reset with CANCEL. */
  BODY_SOURCE_FAILED: errorDefinition('SDK_BODY_SOURCE_FAILED', 'the request body source failed'),
  /** `SDK_INVALID_URL`: an origin or proxy URL cannot be used (scheme, host or port). */
  INVALID_URL: errorDefinition('SDK_INVALID_URL', 'the URL cannot be used'),
});
