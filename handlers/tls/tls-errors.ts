/**
 * The TLS error table and the mapping from Node/OpenSSL errors to it.
 *
 * @module
 */
import { SluiceError, type ErrorDefinition } from '../../lib/index.js';
import { errorDefinition } from '../../lib/errors.js';

/**
 * TlsErrors is the error table of the TLS area; every code is `TLS_<KEY>` and stable.
 *
 * @example
 * ```ts
 * if (error?.code === TlsErrors.CERTIFICATE_UNTRUSTED.code) console.log('unknown CA');
 * ```
 */
export const TlsErrors = Object.freeze({
  /** `TLS_NEGOTIATION_TIMEOUT`: the TLS handshake did not complete in time. */
  NEGOTIATION_TIMEOUT: errorDefinition('TLS_NEGOTIATION_TIMEOUT', 'the TLS handshake did not complete in time'),
  /** `TLS_HANDSHAKE_FAILED`: the TLS handshake failed. */
  HANDSHAKE_FAILED: errorDefinition('TLS_HANDSHAKE_FAILED', 'the TLS handshake failed'),
  /** `TLS_CERTIFICATE_UNTRUSTED`: the peer certificate is not signed by a trusted CA (self-signed or unknown issuer). */
  CERTIFICATE_UNTRUSTED: errorDefinition(
    'TLS_CERTIFICATE_UNTRUSTED',
    'the peer certificate is not signed by a trusted CA (self-signed or unknown issuer)',
  ),
  /** `TLS_CERTIFICATE_HOSTNAME_MISMATCH`: the server certificate does not match the expected host name. */
  CERTIFICATE_HOSTNAME_MISMATCH: errorDefinition(
    'TLS_CERTIFICATE_HOSTNAME_MISMATCH',
    'the server certificate does not match the expected host name',
  ),
  /** `TLS_CERTIFICATE_EXPIRED`: the peer certificate has expired or is not yet valid. */
  CERTIFICATE_EXPIRED: errorDefinition(
    'TLS_CERTIFICATE_EXPIRED',
    'the peer certificate has expired or is not yet valid',
  ),
  /** `TLS_CERTIFICATE_INVALID`: the peer certificate is invalid. */
  CERTIFICATE_INVALID: errorDefinition('TLS_CERTIFICATE_INVALID', 'the peer certificate is invalid'),
  /** `TLS_PEER_CERTIFICATE_REQUIRED`: the peer requires a certificate and none was presented. */
  PEER_CERTIFICATE_REQUIRED: errorDefinition(
    'TLS_PEER_CERTIFICATE_REQUIRED',
    'the peer requires a certificate and none was presented',
  ),
  /** `TLS_CLIENT_CERTIFICATE_REJECTED`: the client certificate was rejected. */
  CLIENT_CERTIFICATE_REJECTED: errorDefinition(
    'TLS_CLIENT_CERTIFICATE_REJECTED',
    'the client certificate was rejected',
  ),
  /** `TLS_ALPN_MISMATCH`: no common application protocol, or no handler for the negotiated one. */
  ALPN_MISMATCH: errorDefinition(
    'TLS_ALPN_MISMATCH',
    'no common application protocol, or no handler for the negotiated one',
  ),
  /** `TLS_ALERT_RECEIVED`: the peer sent a fatal TLS alert. */
  ALERT_RECEIVED: errorDefinition('TLS_ALERT_RECEIVED', 'the peer sent a fatal TLS alert'),
  /** `TLS_PROTOCOL_ERROR`: the peer violated the TLS protocol (or does not speak TLS). */
  PROTOCOL_ERROR: errorDefinition('TLS_PROTOCOL_ERROR', 'the peer violated the TLS protocol (or does not speak TLS)'),
  /** `TLS_CLOSED`: the peer closed the TLS session. */
  CLOSED: errorDefinition('TLS_CLOSED', 'the peer closed the TLS session'),
  /** `TLS_INVALID_OPTIONS`: invalid TLS options. */
  INVALID_OPTIONS: errorDefinition('TLS_INVALID_OPTIONS', 'invalid TLS options'),
});

/** Which side of the handshake saw the error; some Node codes mean different things per role. */
export type TlsRole = 'client' | 'server';

/** Verify-result codes (OpenSSL `X509_V_ERR_*` names as Node reports them) meaning "no trusted issuer". */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);

const EXPIRED_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const INVALID_CERT_CODES: ReadonlySet<string> = new Set([
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'HOSTNAME_MISMATCH',
]);

/** Alerts a client receives when the server refused its certificate. */
const CLIENT_CERT_REFUSED_ALERTS: ReadonlySet<string> = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
]);

const PEER_CERT_REQUIRED_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
]);

const ALPN_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
  'ERR_SSL_NO_APPLICATION_PROTOCOL',
]);

const PROTOCOL_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LENGTH_MISMATCH',
  'ERR_SSL_UNEXPECTED_MESSAGE',
  'ERR_SSL_UNEXPECTED_RECORD',
  'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
  'ERR_SSL_BAD_RECORD_TYPE',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_SHARED_CIPHER',
]);

/** Codes Node's socket layer reports when the connection ends under the handshake. */
const CLOSED_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Maps a Node `code` to a TLS error definition, or null when it is not a TLS matter. `role` is
 * ours: a verify failure seen by a server is about the client's certificate.
 */
export function tlsErrorDefinitionFor(
  code: string,
  role: TlsRole,
  isHandshakeComplete: boolean,
): ErrorDefinition | null {
  if (UNTRUSTED_CODES.has(code) || EXPIRED_CODES.has(code) || INVALID_CERT_CODES.has(code)) {
    if (role === 'server') return TlsErrors.CLIENT_CERTIFICATE_REJECTED;
    if (UNTRUSTED_CODES.has(code)) return TlsErrors.CERTIFICATE_UNTRUSTED;
    if (EXPIRED_CODES.has(code)) return TlsErrors.CERTIFICATE_EXPIRED;
    return code === 'HOSTNAME_MISMATCH' ? TlsErrors.CERTIFICATE_HOSTNAME_MISMATCH : TlsErrors.CERTIFICATE_INVALID;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return TlsErrors.CERTIFICATE_HOSTNAME_MISMATCH;
  if (PEER_CERT_REQUIRED_CODES.has(code)) return TlsErrors.PEER_CERTIFICATE_REQUIRED;
  if (CLIENT_CERT_REFUSED_ALERTS.has(code)) {
    return role === 'client' ? TlsErrors.CLIENT_CERTIFICATE_REJECTED : TlsErrors.ALERT_RECEIVED;
  }
  if (ALPN_CODES.has(code)) return TlsErrors.ALPN_MISMATCH;
  if (PROTOCOL_CODES.has(code)) return TlsErrors.PROTOCOL_ERROR;
  if (code.startsWith('ERR_SSL_') && code.includes('_ALERT_')) return TlsErrors.ALERT_RECEIVED;
  if (CLOSED_CODES.has(code)) return isHandshakeComplete ? null : TlsErrors.HANDSHAKE_FAILED;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return isHandshakeComplete ? TlsErrors.PROTOCOL_ERROR : TlsErrors.HANDSHAKE_FAILED;
  }
  return null;
}

/**
 * Turns an error from Node's `tls` layer into a {@link SluiceError} with a `TLS_*` code, keeping
 * the Node error as `cause`. SluiceErrors pass through; errors that are not about TLS (a reset
 * after the handshake, say) become `fallback`.
 */
export function fromNodeTlsError(
  error: unknown,
  role: TlsRole,
  isHandshakeComplete: boolean,
  fallback: ErrorDefinition = TlsErrors.HANDSHAKE_FAILED,
): SluiceError {
  if (error instanceof SluiceError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const definition = (typeof code === 'string' && tlsErrorDefinitionFor(code, role, isHandshakeComplete)) || fallback;
  const detail = error instanceof Error ? error.message : String(error);
  return new SluiceError(
    definition,
    `${definition.message} (${typeof code === 'string' ? `${code}: ` : ''}${detail})`,
    {
      cause: error,
    },
  );
}
