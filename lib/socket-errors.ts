/**
 * Maps Node's socket errors to stable io codes.
 *
 * @module
 */
import { IoErrors, SluiceError, type ErrorDefinition } from './errors.js';

const NODE_CODES: Readonly<Record<string, ErrorDefinition>> = {
  ECONNRESET: IoErrors.CONNECTION_RESET,
  EPIPE: IoErrors.BROKEN_PIPE,
  ECONNREFUSED: IoErrors.CONNECTION_REFUSED,
  ETIMEDOUT: IoErrors.TIMED_OUT,
  EHOSTUNREACH: IoErrors.HOST_UNREACHABLE,
  ENETUNREACH: IoErrors.HOST_UNREACHABLE,
  EADDRINUSE: IoErrors.ADDRESS_IN_USE,
  ENOTFOUND: IoErrors.DNS_FAILURE,
  EAI_AGAIN: IoErrors.DNS_FAILURE,
  ENOENT: IoErrors.CONNECTION_REFUSED,
};

/**
 * Turns a Node socket error into a {@link SluiceError}: ECONNRESET → `IO_CONNECTION_RESET`,
 * EPIPE → `IO_BROKEN_PIPE`, ECONNREFUSED → `IO_CONNECTION_REFUSED`, ETIMEDOUT →
 * `IO_TIMED_OUT`, anything else → `IO_SOCKET_ERROR`. The Node error is the `cause`.
 */
export function fromNodeSocketError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const definition = (typeof code === 'string' && NODE_CODES[code]) || IoErrors.SOCKET_ERROR;
  const detail = error instanceof Error ? error.message : String(error);
  return new SluiceError(definition, `${definition.message} (${detail})`, { cause: error });
}
