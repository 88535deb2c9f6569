/**
 * Errors with stable codes.
 *
 * Every failure sluice reports is a {@link SluiceError} whose `code` comes from one table per
 * area (io, channel, and — in their own packages — tls and http2). Codes never change meaning
 * once released; messages may be reworded. Compare codes, never messages.
 *
 * @module
 */

/**
 * One row of an error table: the stable code and the message used when no other is given.
 */
export interface ErrorDefinition {
  /** Stable code, `AREA_WHAT_HAPPENED`, e.g. `IO_CONNECTION_RESET`. */
  readonly code: string;
  /** Default human-readable message. */
  readonly message: string;
}

/**
 * SluiceError is the one error class sluice throws or reports.
 *
 * `code` is stable and documented (see `docs/errors.md`); `cause` carries the underlying Node
 * error where there is one.
 *
 * @example
 * ```ts
 * channel.whenShutdown.then((error) => {
 *   if (error?.code === IoErrors.CONNECTION_RESET.code) console.log('peer reset');
 * });
 * ```
 */
export class SluiceError extends Error {
  /** The stable error code from one of the error tables. */
  readonly code: string;

  /**
   * Creates an error from a table row, optionally with a more specific message and a cause.
   * Throws `IO_INVALID_OPTIONS` when `definition` is not a row (`{ code, message }`), `message`
   * not a string or `options` not an object.
   */
  constructor(definition: ErrorDefinition, message?: string, options?: { cause?: unknown }) {
    checkErrorArguments(definition, message, options);
    super(message ?? definition.message, options);
    this.code = definition.code;
  }

  /** Always `"SluiceError"`; subclasses override it. */
  override get name(): string {
    return 'SluiceError';
  }
}

/**
 * Builds a frozen error table for a plugin's own area: each key becomes `PREFIX_KEY`. Throws
 * `IO_INVALID_OPTIONS` unless `prefix` is a string and `messages` an object of strings.
 *
 * @example
 * ```ts
 * export const FramingErrors = defineErrors('FRAMING', { FRAME_TOO_LARGE: 'frame exceeds the limit' });
 * throw new SluiceError(FramingErrors.FRAME_TOO_LARGE);
 * ```
 */
export function defineErrors<K extends string>(
  prefix: string,
  messages: Record<K, string>,
): { readonly [P in K]: ErrorDefinition } {
  const values: unknown[] = typeof messages === 'object' && messages !== null ? Object.values(messages) : [];
  if (typeof prefix !== 'string' || values.length === 0 || !values.every((message) => typeof message === 'string')) {
    throw new SluiceError(
      IoErrors.INVALID_OPTIONS,
      'defineErrors(prefix, messages): a string prefix and an object of message strings, at least one',
    );
  }
  const table = {} as { [P in K]: ErrorDefinition };
  for (const key of Object.keys(messages) as K[]) table[key] = errorDefinition(`${prefix}_${key}`, messages[key]);
  return Object.freeze(table);
}

/** Builds one frozen table row. */
export function errorDefinition(code: string, message: string): ErrorDefinition {
  return Object.freeze({ code, message });
}

/** Errors of the io area: sockets, connections, bootstrap. */
export const IoErrors = Object.freeze({
  /** `IO_SOCKET_CLOSED`: the peer closed the connection. */
  SOCKET_CLOSED: errorDefinition('IO_SOCKET_CLOSED', 'the peer closed the connection'),
  /** `IO_CONNECTION_RESET`: the connection was reset by the peer. */
  CONNECTION_RESET: errorDefinition('IO_CONNECTION_RESET', 'the connection was reset by the peer'),
  /** `IO_BROKEN_PIPE`: write to a connection the peer has closed. */
  BROKEN_PIPE: errorDefinition('IO_BROKEN_PIPE', 'write to a connection the peer has closed'),
  /** `IO_CONNECTION_REFUSED`: the connection was refused. */
  CONNECTION_REFUSED: errorDefinition('IO_CONNECTION_REFUSED', 'the connection was refused'),
  /** `IO_CONNECT_TIMEOUT`: the connection attempt timed out. */
  CONNECT_TIMEOUT: errorDefinition('IO_CONNECT_TIMEOUT', 'the connection attempt timed out'),
  /** `IO_TIMED_OUT`: the connection timed out. */
  TIMED_OUT: errorDefinition('IO_TIMED_OUT', 'the connection timed out'),
  /** `IO_HOST_UNREACHABLE`: the host is unreachable. */
  HOST_UNREACHABLE: errorDefinition('IO_HOST_UNREACHABLE', 'the host is unreachable'),
  /** `IO_ADDRESS_IN_USE`: the address is already in use. */
  ADDRESS_IN_USE: errorDefinition('IO_ADDRESS_IN_USE', 'the address is already in use'),
  /** `IO_DNS_FAILURE`: the host name could not be resolved. */
  DNS_FAILURE: errorDefinition('IO_DNS_FAILURE', 'the host name could not be resolved'),
  /** `IO_SOCKET_ERROR`: a socket error occurred. */
  SOCKET_ERROR: errorDefinition('IO_SOCKET_ERROR', 'a socket error occurred'),
  /** `IO_NO_TRANSPORT`: no transport handler factory was given to the bootstrap. */
  NO_TRANSPORT: errorDefinition('IO_NO_TRANSPORT', 'no transport handler factory was given to the bootstrap'),
  /** `IO_LISTENER_CLOSED`: the listener is closed. */
  LISTENER_CLOSED: errorDefinition('IO_LISTENER_CLOSED', 'the listener is closed'),
  /** `IO_INVALID_URL`: a URL that cannot be parsed, or that is not a string or `URL`. */
  INVALID_URL: errorDefinition('IO_INVALID_URL', 'the URL cannot be parsed'),
  /** `IO_WRITE_TIMEOUT`: a write made no progress within the write deadline (the peer does not read). */
  WRITE_TIMEOUT: errorDefinition('IO_WRITE_TIMEOUT', 'a write made no progress within the write deadline'),
  /** `IO_HANDSHAKE_TIMEOUT`: the peer did not complete the connection's handshake (TLS, preface or first request line) in time. */
  HANDSHAKE_TIMEOUT: errorDefinition('IO_HANDSHAKE_TIMEOUT', 'the peer did not complete the handshake in time'),
  /** `IO_SEND_RATE_TOO_LOW`: the peer took the data queued for it slower than the minimum data rate. */
  SEND_RATE_TOO_LOW: errorDefinition('IO_SEND_RATE_TOO_LOW', 'the peer took our data slower than the minimum rate'),
  /** `IO_RECEIVE_RATE_TOO_LOW`: the peer sent a body slower than the minimum data rate while it was being read. */
  RECEIVE_RATE_TOO_LOW: errorDefinition(
    'IO_RECEIVE_RATE_TOO_LOW',
    'the peer sent the body slower than the minimum rate',
  ),
  /** `IO_INVALID_OPTIONS`: invalid options. */
  INVALID_OPTIONS: errorDefinition('IO_INVALID_OPTIONS', 'invalid options'),
});

/** Errors of the channel area: slots, windows, messages, shutdown, tasks. */
export const ChannelErrors = Object.freeze({
  /** `CHANNEL_READ_WINDOW_EXCEEDED`: a handler sent more data than the read window of the slot to its right. */
  READ_WINDOW_EXCEEDED: errorDefinition(
    'CHANNEL_READ_WINDOW_EXCEEDED',
    'a handler sent more data than the read window of the slot to its right',
  ),
  /** `CHANNEL_NO_ADJACENT_SLOT`: there is no slot in that direction. */
  NO_ADJACENT_SLOT: errorDefinition('CHANNEL_NO_ADJACENT_SLOT', 'there is no slot in that direction'),
  /** `CHANNEL_SHUT_DOWN`: the channel is shut down. */
  SHUT_DOWN: errorDefinition('CHANNEL_SHUT_DOWN', 'the channel is shut down'),
  /** `CHANNEL_SLOT_SHUT_DOWN`: that direction of the slot is already shut down. */
  SLOT_SHUT_DOWN: errorDefinition('CHANNEL_SLOT_SHUT_DOWN', 'that direction of the slot is already shut down'),
  /** `CHANNEL_SHUTDOWN_ALREADY_COMPLETE`: shutdown of that direction was already completed for this slot. */
  SHUTDOWN_ALREADY_COMPLETE: errorDefinition(
    'CHANNEL_SHUTDOWN_ALREADY_COMPLETE',
    'shutdown of that direction was already completed for this slot',
  ),
  /** `CHANNEL_INVALID_MESSAGE_LENGTH`: a message's `length` is not a whole number from 0 to its capacity. */
  INVALID_MESSAGE_LENGTH: errorDefinition(
    'CHANNEL_INVALID_MESSAGE_LENGTH',
    "a message's length is not a whole number from 0 to its capacity",
  ),
  /** `CHANNEL_MESSAGE_RELEASED`: the message was already released to its pool. */
  MESSAGE_RELEASED: errorDefinition('CHANNEL_MESSAGE_RELEASED', 'the message was already released to its pool'),
  /** `CHANNEL_INVALID_SLOT_OPERATION`: the slot operation is not valid in this state. */
  INVALID_SLOT_OPERATION: errorDefinition(
    'CHANNEL_INVALID_SLOT_OPERATION',
    'the slot operation is not valid in this state',
  ),
  /** `CHANNEL_NO_HANDLER`: the slot has no handler. */
  NO_HANDLER: errorDefinition('CHANNEL_NO_HANDLER', 'the slot has no handler'),
  /** `CHANNEL_HANDLER_FAILED`: a handler threw while processing a message. */
  HANDLER_FAILED: errorDefinition('CHANNEL_HANDLER_FAILED', 'a handler threw while processing a message'),
  /** `CHANNEL_SHUTDOWN_NOT_GRACEFUL`: the channel was shut down before the write could be completed. */
  SHUTDOWN_NOT_GRACEFUL: errorDefinition(
    'CHANNEL_SHUTDOWN_NOT_GRACEFUL',
    'the channel was shut down before the write could be completed',
  ),
});

/**
 * Wraps anything thrown into a SluiceError with the given code, keeping SluiceErrors as they are.
 * Throws `IO_INVALID_OPTIONS` when `fallback` is not an error table row.
 */
export function asSluiceError(error: unknown, fallback: ErrorDefinition): SluiceError {
  if (error instanceof SluiceError) return error;
  checkErrorArguments(fallback, undefined, undefined);
  const message = error instanceof Error ? String(error.message) : safeString(error);
  return new SluiceError(fallback, `${fallback.message}: ${message}`, { cause: error });
}

/** `String(value)`, or its type when converting it throws (an object whose `toString` is not a function). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

/** The SluiceError constructor's checks: a table row, a string message or none, an options object or none. */
function checkErrorArguments(definition: unknown, message: unknown, options: unknown): void {
  const row = definition as Partial<ErrorDefinition> | null;
  const isRow =
    typeof row === 'object' && row !== null && typeof row.code === 'string' && typeof row.message === 'string';
  if (
    isRow &&
    (message === undefined || typeof message === 'string') &&
    (options === undefined || typeof options === 'object')
  ) {
    return;
  }
  // IoErrors is defined below SluiceError in this module, but long before any constructor runs.
  throw new SluiceError(
    IoErrors.INVALID_OPTIONS,
    'new SluiceError(definition, message?, options?): an error table row ({ code, message }), a string message, an options object',
  );
}
