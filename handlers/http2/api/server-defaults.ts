/**
 * What the HTTP servers (`listenHttp2`, both `createServer`s) set unless told otherwise: the
 * socket write timeout, and one deadline for TLS and the first protocol bytes.
 *
 * @module
 * @internal
 */
import { SERVER_WRITE_TIMEOUT_MS, type SocketOptions } from '../../../lib/index.js';
import { TLS_OPTIONS_DEFAULTS } from '../../tls/index.js';
import { HTTP2_CONNECTION_DEFAULTS } from '../connection/connection-options.js';

/**
 * A server's socket options: the given ones over a write timeout of
 * {@link SERVER_WRITE_TIMEOUT_MS}.
 * @internal
 */
export function serverSocketOptions(options: SocketOptions | undefined): SocketOptions {
  return { writeTimeoutMs: SERVER_WRITE_TIMEOUT_MS, ...options };
}

/**
 * The TLS negotiation timeout a server uses unless given: its handshake timeout (one deadline
 * covers TLS and the preface or first request line), or TLS's own default when that is off.
 * @internal
 */
export function serverHandshakeTimeoutMs(handshakeTimeoutMs: number | undefined): number {
  const timeout = handshakeTimeoutMs ?? HTTP2_CONNECTION_DEFAULTS.handshakeTimeoutMs;
  return timeout > 0 ? timeout : TLS_OPTIONS_DEFAULTS.negotiationTimeoutMs;
}
