/**
 * The errors of WebSocket in sluice, in one place: what the frame decoder and the
 * permessage-deflate decompressor reject (each with the close code an endpoint sends before it
 * closes the connection), what the encoder refuses to write, and what the opening handshake
 * rejects (each with the HTTP status a server answers).
 *
 * @module
 */
import { SluiceError, errorDefinition, type ErrorDefinition } from '../../lib/errors.js';

/**
 * WebSocketCloseErrorDefinition is one row of {@link WebSocketProtocolErrors}: the stable code,
 * the default message and the close code (RFC 6455 §7.4.1) the endpoint sends when it fails the
 * connection for that reason.
 */
export interface WebSocketCloseErrorDefinition extends ErrorDefinition {
  /** The close code sent in the Close frame that fails the connection: 1002, 1007 or 1009. */
  readonly closeCode: number;
}

/**
 * WebSocketHandshakeErrorDefinition is one row of {@link WebSocketHandshakeErrors}: the stable
 * code, the default message and the HTTP status a server answers a request that breaks the rule.
 */
export interface WebSocketHandshakeErrorDefinition extends ErrorDefinition {
  /** The HTTP status a server answers (400 or 426); 0 for rules only a client checks. */
  readonly status: number;
}

function closeError(code: string, closeCode: number, message: string): WebSocketCloseErrorDefinition {
  return Object.freeze({ ...errorDefinition(code, message), closeCode });
}

function handshakeError(code: string, status: number, message: string): WebSocketHandshakeErrorDefinition {
  return Object.freeze({ ...errorDefinition(code, message), status });
}

/**
 * What the frame decoder and the decompressor reject (RFC 6455 §5, §7.4, §8.1; RFC 7692 §6).
 * After any of them the endpoint fails the WebSocket connection (RFC 6455 §7.1.7): it sends a
 * Close frame with the row's `closeCode`, if it can, and closes the connection. The decoder is
 * dead after throwing one.
 */
export const WebSocketProtocolErrors = Object.freeze({
  /** `WEBSOCKET_UNMASKED_FRAME`: a server received a frame without a mask (RFC 6455 §5.1), 1002. */
  UNMASKED_FRAME: closeError('WEBSOCKET_UNMASKED_FRAME', 1002, 'a client frame is not masked'),
  /** `WEBSOCKET_MASKED_FRAME`: a client received a masked frame (RFC 6455 §5.1), 1002. */
  MASKED_FRAME: closeError('WEBSOCKET_MASKED_FRAME', 1002, 'a server frame is masked'),
  /** `WEBSOCKET_RESERVED_BITS`: RSV1, RSV2 or RSV3 set without an extension giving it meaning (RFC 6455 §5.2; RFC 7692 §6), 1002. */
  RESERVED_BITS: closeError('WEBSOCKET_RESERVED_BITS', 1002, 'a reserved bit is set'),
  /** `WEBSOCKET_UNKNOWN_OPCODE`: a reserved opcode, 0x3–0x7 or 0xB–0xF (RFC 6455 §5.2), 1002. */
  UNKNOWN_OPCODE: closeError('WEBSOCKET_UNKNOWN_OPCODE', 1002, 'an unknown opcode'),
  /** `WEBSOCKET_INVALID_LENGTH`: a 64-bit length with its top bit set, or a length not in its minimal encoding (RFC 6455 §5.2), 1002. */
  INVALID_LENGTH: closeError('WEBSOCKET_INVALID_LENGTH', 1002, 'an invalid payload length encoding'),
  /** `WEBSOCKET_FRAGMENTED_CONTROL`: a control frame without FIN (RFC 6455 §5.5), 1002. */
  FRAGMENTED_CONTROL: closeError('WEBSOCKET_FRAGMENTED_CONTROL', 1002, 'a control frame is fragmented'),
  /** `WEBSOCKET_CONTROL_TOO_LONG`: a control frame payload over 125 bytes (RFC 6455 §5.5), 1002. */
  CONTROL_TOO_LONG: closeError('WEBSOCKET_CONTROL_TOO_LONG', 1002, 'a control frame payload exceeds 125 bytes'),
  /** `WEBSOCKET_UNEXPECTED_CONTINUATION`: a continuation frame with no fragmented message open (RFC 6455 §5.4), 1002. */
  UNEXPECTED_CONTINUATION: closeError(
    'WEBSOCKET_UNEXPECTED_CONTINUATION',
    1002,
    'a continuation frame with no message to continue',
  ),
  /** `WEBSOCKET_EXPECTED_CONTINUATION`: a new text or binary frame while a fragmented message is open (RFC 6455 §5.4), 1002. */
  EXPECTED_CONTINUATION: closeError(
    'WEBSOCKET_EXPECTED_CONTINUATION',
    1002,
    'a new data frame inside a fragmented message',
  ),
  /** `WEBSOCKET_INVALID_CLOSE_PAYLOAD`: a Close frame with a 1-byte payload (RFC 6455 §5.5.1), 1002. */
  INVALID_CLOSE_PAYLOAD: closeError('WEBSOCKET_INVALID_CLOSE_PAYLOAD', 1002, 'a close frame with a 1-byte payload'),
  /** `WEBSOCKET_INVALID_CLOSE_CODE`: a close code that may not appear on the wire: 1004–1006, 1015, unassigned ones (RFC 6455 §7.4), 1002. */
  INVALID_CLOSE_CODE: closeError('WEBSOCKET_INVALID_CLOSE_CODE', 1002, 'a close code that may not be sent'),
  /** `WEBSOCKET_INVALID_UTF8`: a text message or close reason that is not valid UTF-8 (RFC 6455 §8.1), 1007. */
  INVALID_UTF8: closeError('WEBSOCKET_INVALID_UTF8', 1007, 'text that is not valid UTF-8'),
  /** `WEBSOCKET_MESSAGE_TOO_LARGE`: a message (after decompression) over `maxMessageSize` (RFC 6455 §7.4.1), 1009. */
  MESSAGE_TOO_LARGE: closeError('WEBSOCKET_MESSAGE_TOO_LARGE', 1009, 'the message is too large'),
  /** `WEBSOCKET_INVALID_COMPRESSED_DATA`: a compressed message that does not inflate (RFC 7692 §6.2), 1007. */
  INVALID_COMPRESSED_DATA: closeError(
    'WEBSOCKET_INVALID_COMPRESSED_DATA',
    1007,
    'a compressed message does not decompress',
  ),
});

/** What the frame encoder and the compressor refuse; nothing is written when the encoder throws. */
export const WebSocketEncodeErrors = Object.freeze({
  /** `WEBSOCKET_INVALID_OUTGOING_CLOSE_CODE`: a close code that may not be sent: 1005, 1006, 1015, reserved or unassigned (RFC 6455 §7.4). */
  INVALID_OUTGOING_CLOSE_CODE: errorDefinition(
    'WEBSOCKET_INVALID_OUTGOING_CLOSE_CODE',
    'that close code may not be sent',
  ),
  /** `WEBSOCKET_INVALID_OUTGOING_REASON`: a close reason with a lone surrogate (not encodable as UTF-8), or one without a code. */
  INVALID_OUTGOING_REASON: errorDefinition('WEBSOCKET_INVALID_OUTGOING_REASON', 'the close reason is not valid'),
  /** `WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG`: a ping, pong or close payload (code and reason) over 125 bytes (RFC 6455 §5.5). */
  CONTROL_PAYLOAD_TOO_LONG: errorDefinition(
    'WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG',
    'a control frame payload exceeds 125 bytes',
  ),
  /** `WEBSOCKET_BUFFER_TOO_SMALL`: the frame does not fit in the target buffer from the given offset. */
  BUFFER_TOO_SMALL: errorDefinition('WEBSOCKET_BUFFER_TOO_SMALL', 'the frame does not fit in the buffer'),
  /** `WEBSOCKET_INVALID_ARGUMENT`: an argument or option of the WebSocket codec is not valid. */
  INVALID_ARGUMENT: errorDefinition('WEBSOCKET_INVALID_ARGUMENT', 'invalid argument'),
  /** `WEBSOCKET_COMPRESSION_FAILED`: zlib failed while compressing a message (or the compressor was closed). */
  COMPRESSION_FAILED: errorDefinition('WEBSOCKET_COMPRESSION_FAILED', 'compression failed'),
});

/**
 * What a {@link WebSocketConnection} reports when it closes without a clean close handshake, or
 * refuses a call. The close code the application sees for these is 1006 (abnormal closure,
 * reported locally and never sent).
 */
export const WebSocketConnectionErrors = Object.freeze({
  /** `WEBSOCKET_CLOSE_TIMEOUT`: we sent a Close and the peer did not answer (or close TCP) within `closeTimeoutMs`. */
  CLOSE_TIMEOUT: errorDefinition('WEBSOCKET_CLOSE_TIMEOUT', 'the peer did not complete the close handshake in time'),
  /** `WEBSOCKET_PING_TIMEOUT`: a keep-alive ping got no pong within `pongTimeoutMs`. */
  PING_TIMEOUT: errorDefinition('WEBSOCKET_PING_TIMEOUT', 'the peer did not answer a keep-alive ping in time'),
  /** `WEBSOCKET_CONNECTION_CLOSED`: a send or ping after the close started, or one the close left unwritten. */
  CONNECTION_CLOSED: errorDefinition('WEBSOCKET_CONNECTION_CLOSED', 'the WebSocket connection is closed or closing'),
});

/**
 * What a server's WebSocket endpoint reports to its `onError` about the application's hooks (the
 * request itself was valid): each refuses the handshake with 500, or closes the WebSocket.
 */
export const WebSocketServerErrors = Object.freeze({
  /** `WEBSOCKET_ACCEPT_HOOK_FAILED`: the accept hook threw, rejected, or returned no valid decision; the request is answered 500. */
  ACCEPT_HOOK_FAILED: errorDefinition('WEBSOCKET_ACCEPT_HOOK_FAILED', 'the accept hook failed'),
  /** `WEBSOCKET_SUBPROTOCOL_NOT_OFFERED`: the accept hook chose a subprotocol the client did not offer (RFC 6455 §4.2.2); answered 500. */
  SUBPROTOCOL_NOT_OFFERED: errorDefinition(
    'WEBSOCKET_SUBPROTOCOL_NOT_OFFERED',
    'the accept hook chose a subprotocol the client did not offer',
  ),
  /** `WEBSOCKET_LISTENER_THREW`: `onWebSocket` threw; that WebSocket is closed with 1011. */
  LISTENER_THREW: errorDefinition('WEBSOCKET_LISTENER_THREW', 'onWebSocket threw'),
});

/**
 * What the opening handshake rejects (RFC 6455 §4) and what permessage-deflate negotiation
 * rejects (RFC 7692 §5, §7). A server answers a request with the row's `status`; a client fails
 * the connection (RFC 6455 §4.1) when a 101 response breaks a rule (rows with status 0).
 */
export const WebSocketHandshakeErrors = Object.freeze({
  /** `WEBSOCKET_NOT_GET`: the upgrade request's method is not GET (RFC 6455 §4.1), 400. */
  NOT_GET: handshakeError('WEBSOCKET_NOT_GET', 400, 'the upgrade request is not a GET'),
  /** `WEBSOCKET_MISSING_UPGRADE`: no `Upgrade: websocket`, or no `upgrade` token in `Connection` (RFC 6455 §4.2.1), 400. */
  MISSING_UPGRADE: handshakeError('WEBSOCKET_MISSING_UPGRADE', 400, 'Upgrade: websocket and Connection: upgrade'),
  /** `WEBSOCKET_INVALID_KEY`: `Sec-WebSocket-Key` missing, repeated, or not 16 bytes in base64 (RFC 6455 §4.1), 400. */
  INVALID_KEY: handshakeError('WEBSOCKET_INVALID_KEY', 400, 'Sec-WebSocket-Key is not 16 bytes in base64'),
  /**
   * `WEBSOCKET_UNSUPPORTED_VERSION`: `Sec-WebSocket-Version` missing or not 13 (RFC 6455 §4.2.2):
   * answer **426 Upgrade Required with `Sec-WebSocket-Version: 13`**.
   */
  UNSUPPORTED_VERSION: handshakeError(
    'WEBSOCKET_UNSUPPORTED_VERSION',
    426,
    'Sec-WebSocket-Version is not 13: answer 426 with Sec-WebSocket-Version: 13',
  ),
  /** `WEBSOCKET_INVALID_SUBPROTOCOL`: a `Sec-WebSocket-Protocol` list that is not comma-separated tokens, or repeats one (RFC 6455 §4.1), 400. */
  INVALID_SUBPROTOCOL: handshakeError('WEBSOCKET_INVALID_SUBPROTOCOL', 400, 'Sec-WebSocket-Protocol is not valid'),
  /** `WEBSOCKET_INVALID_EXTENSIONS`: a `Sec-WebSocket-Extensions` value that does not parse (RFC 6455 §9.1), 400. */
  INVALID_EXTENSIONS: handshakeError('WEBSOCKET_INVALID_EXTENSIONS', 400, 'Sec-WebSocket-Extensions does not parse'),
  /**
   * `WEBSOCKET_UNEXPECTED_STATUS`: the server answered the upgrade with a status other than 101
   * (RFC 6455 §4.1); the error's `response` holds the status and headers.
   */
  UNEXPECTED_STATUS: handshakeError('WEBSOCKET_UNEXPECTED_STATUS', 0, 'the server did not answer 101'),
  /** `WEBSOCKET_INVALID_ACCEPT`: `Sec-WebSocket-Accept` missing or not the hash of our key (RFC 6455 §4.1). */
  INVALID_ACCEPT: handshakeError('WEBSOCKET_INVALID_ACCEPT', 0, 'Sec-WebSocket-Accept does not match the key'),
  /** `WEBSOCKET_UNEXPECTED_EXTENSION`: the response names an extension we did not offer, or accepts one with parameters it may not use (RFC 6455 §4.1; RFC 7692 §5, §7.1). */
  UNEXPECTED_EXTENSION: handshakeError(
    'WEBSOCKET_UNEXPECTED_EXTENSION',
    0,
    'the server accepted an extension that was not offered as it is',
  ),
  /** `WEBSOCKET_UNEXPECTED_SUBPROTOCOL`: the response picks a subprotocol we did not offer, or several (RFC 6455 §4.1). */
  UNEXPECTED_SUBPROTOCOL: handshakeError(
    'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
    0,
    'the server chose a subprotocol that was not offered',
  ),
  /** `WEBSOCKET_UNSUPPORTED_SCHEME`: a URL to connect to whose scheme is not `ws:` or `wss:` (or `http:`, `https:`). */
  UNSUPPORTED_SCHEME: handshakeError('WEBSOCKET_UNSUPPORTED_SCHEME', 0, 'the URL scheme is not ws: or wss:'),
  /** `WEBSOCKET_HANDSHAKE_TIMEOUT`: the server's response to the upgrade request did not arrive within `handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: handshakeError('WEBSOCKET_HANDSHAKE_TIMEOUT', 0, 'no response to the upgrade request in time'),
  /** `WEBSOCKET_HANDSHAKE_CLOSED`: the server closed the connection before its response to the upgrade request ended. */
  HANDSHAKE_CLOSED: handshakeError(
    'WEBSOCKET_HANDSHAKE_CLOSED',
    0,
    'the connection closed before the response to the upgrade request',
  ),
});

/** What a server answered instead of 101, as a {@link WebSocketHandshakeError} carries it. */
export interface WebSocketRefusedResponse {
  /** The response's status code. */
  readonly status: number;
  /** The response's headers keyed by lower-case name (repeated fields as arrays). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/**
 * What the RFC 8441 handshake (WebSocket over an HTTP/2 extended CONNECT) adds to
 * {@link WebSocketHandshakeErrors}, whose rows it also uses (426 for a version other than 13, 400
 * for bad subprotocols or extensions, and `WEBSOCKET_UNEXPECTED_STATUS` for a response other than
 * 200).
 */
export const WebSocketHttp2Errors = Object.freeze({
  /**
   * `WEBSOCKET_EXTENDED_CONNECT_DISABLED`: the server's SETTINGS do not carry
   * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, so a client may not send the extended CONNECT (RFC 8441
   * §3); nothing was sent. Fall back to the HTTP/1.1 upgrade.
   */
  EXTENDED_CONNECT_DISABLED: handshakeError(
    'WEBSOCKET_EXTENDED_CONNECT_DISABLED',
    0,
    'the server does not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)',
  ),
  /**
   * `WEBSOCKET_INVALID_EXTENDED_CONNECT`: an extended CONNECT for `websocket` whose `:scheme` is
   * not `http` or `https` (RFC 8441 §5), or that ends its stream with the request (no WebSocket can
   * run on it), 400.
   */
  INVALID_EXTENDED_CONNECT: handshakeError(
    'WEBSOCKET_INVALID_EXTENDED_CONNECT',
    400,
    'the extended CONNECT cannot open a WebSocket',
  ),
});

/**
 * WebSocketProtocolError is what the frame decoder and the decompressor throw or report: a
 * {@link SluiceError} with the code of a {@link WebSocketProtocolErrors} row and the close code
 * to fail the connection with.
 */
export class WebSocketProtocolError extends SluiceError {
  /** The close code to send (see {@link WebSocketCloseErrorDefinition.closeCode}). */
  readonly closeCode: number;

  /** Creates a protocol error from a table row, with a message saying what was found. */
  constructor(definition: WebSocketCloseErrorDefinition, message?: string, options?: { cause?: unknown }) {
    super(definition, message, options);
    this.closeCode = definition.closeCode;
  }

  override get name(): string {
    return 'WebSocketProtocolError';
  }
}

/**
 * WebSocketHandshakeError is what the handshake helpers throw: a {@link SluiceError} with the
 * code of a {@link WebSocketHandshakeErrors} row and the HTTP status a server answers (for
 * `WEBSOCKET_UNSUPPORTED_VERSION`, 426 with `Sec-WebSocket-Version: 13`).
 */
export class WebSocketHandshakeError extends SluiceError {
  /** The HTTP status a server answers; 0 when a client found the fault in a response. */
  readonly status: number;
  /** For `WEBSOCKET_UNEXPECTED_STATUS`: the status and headers the server answered with; else null. */
  readonly response: WebSocketRefusedResponse | null;

  /** Creates a handshake error from a table row, with a message saying what was found. */
  constructor(
    definition: WebSocketHandshakeErrorDefinition,
    message?: string,
    options?: { cause?: unknown; response?: WebSocketRefusedResponse },
  ) {
    super(definition, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = definition.status;
    this.response = options?.response ?? null;
  }

  override get name(): string {
    return 'WebSocketHandshakeError';
  }
}

/**
 * WebSocketUnexpectedStatusError is how a client's opening handshake fails when the server
 * answers with another status than the one that opens the WebSocket (200 for an RFC 8441 extended
 * CONNECT): a {@link WebSocketHandshakeError} with code `WEBSOCKET_UNEXPECTED_STATUS`, carrying the
 * response's status and header fields (a 401's `www-authenticate`, a 426's
 * `sec-websocket-version`).
 */
export class WebSocketUnexpectedStatusError extends WebSocketHandshakeError {
  /** The status the server answered. */
  readonly responseStatus: number;
  /** The response's header fields keyed by lower-case name (pseudo-header fields excluded). */
  readonly responseHeaders: Readonly<Record<string, string | readonly string[] | undefined>>;

  /** Creates the error for a response with `responseStatus` and `responseHeaders`. */
  constructor(
    responseStatus: number,
    responseHeaders: Readonly<Record<string, string | readonly string[] | undefined>>,
    message: string,
  ) {
    // `response` too, so one check (`error.response?.status`) reads a refusal of either version.
    super(WebSocketHandshakeErrors.UNEXPECTED_STATUS, message, {
      response: { status: responseStatus, headers: responseHeaders },
    });
    this.responseStatus = responseStatus;
    this.responseHeaders = responseHeaders;
  }

  override get name(): string {
    return 'WebSocketUnexpectedStatusError';
  }
}
