/**
 * WebSocket (RFC 6455) and permessage-deflate (RFC 7692): the wire codec, the connection handler
 * and the convenient API, the server's side of the HTTP/1.1 upgrade (by slot replacement), and
 * WebSocket over HTTP/2 (RFC 8441). The HTTP/1.1 upgrade reaches the connection through
 * {@link acceptWebSocket}; RFC 8441 through {@link serveWebSocketChannel}.
 *
 * - {@link WebSocketConnection}: the channel handler that runs the codec in a slot once the
 *   handshake is done, with its {@link WebSocketConnectionListener} callbacks (whole messages,
 *   read window, write high-water mark, close handshake, keep-alive, permessage-deflate).
 * - {@link WebSocket}: promises and an async iterable over a connection.
 * - {@link acceptWebSocket} and {@link serveWebSocketChannel}: the seam a handshake calls.
 * - {@link webSocketUpgrade}: a server's WebSocket endpoint as an HTTP/1.1 connection's upgrade
 *   (what `createServer`'s `webSocket` option installs), over {@link answerWebSocketRequest}, the
 *   accept hook's decision as either HTTP version answers it.
 * - WebSocket over HTTP/2 (RFC 8441): {@link handleWebSocketStream} / {@link acceptWebSocketOverHttp2}
 *   (server) and {@link connectWebSocketOverHttp2} (client), with the handshake as pure functions
 *   ({@link validateExtendedConnectRequest}, {@link extendedConnectRequestHeaders},
 *   {@link validateExtendedConnectResponse}).
 *
 * - {@link WebSocketFrameDecoder}: a split-anywhere frame decoder for either role, with its
 *   {@link WebSocketFrameListener} callbacks; it unmasks in place, checks every rule a frame
 *   sequence alone decides and validates text as UTF-8 on the first invalid byte, and throws a
 *   {@link WebSocketProtocolError} carrying the close code (1002, 1007, 1009).
 * - {@link WebSocketFrameEncoder}: whole frames into a caller-sized buffer, masking for a client
 *   with keys from a pooled {@link MaskKeySource}; refusals are coded errors before any write.
 * - {@link Utf8Validator}: incremental UTF-8 validation.
 * - permessage-deflate: {@link offerPerMessageDeflate}, {@link negotiatePerMessageDeflate},
 *   {@link acceptPerMessageDeflateResponse}, and the asynchronous {@link PerMessageDeflater} and
 *   {@link PerMessageInflater} (with its decompression bound).
 * - the opening handshake: {@link computeAcceptKey}, {@link validateUpgradeRequest},
 *   {@link upgradeResponseHeaders}, {@link validateUpgradeResponse}.
 *
 * See `docs/websocket.md` for the close-code rules, the limits and the choices made where the
 * RFCs allow several.
 *
 * @module sluice/websocket
 */
export {
  CloseCode,
  MAX_CONTROL_PAYLOAD_LENGTH,
  Opcode,
  WEBSOCKET_GUID,
  isSendableCloseCode,
  type DataOpcode,
} from './wire/constants.js';
export {
  FRAME_DECODER_DEFAULTS,
  WebSocketFrameDecoder,
  type WebSocketFrameDecoderOptions,
  type WebSocketFrameListener,
  type WebSocketRole,
} from './wire/frame-decoder.js';
export {
  WebSocketFrameEncoder,
  closeReasonLength,
  frameHeaderLength,
  type DataFrameOpcode,
  type WebSocketFrameEncoderOptions,
} from './wire/frame-encoder.js';
export { DEFAULT_MASK_KEYS, RandomMaskKeys, type MaskKeySource } from './wire/mask-keys.js';
export { Utf8Validator, isValidUtf8 } from './wire/utf8-validator.js';
export { formatExtensions, parseExtensions, type ExtensionElement } from './wire/extension-header.js';
export {
  PERMESSAGE_DEFLATE,
  acceptPerMessageDeflateResponse,
  negotiatePerMessageDeflate,
  offerPerMessageDeflate,
  perMessageDeflateSide,
  type PerMessageDeflateNegotiation,
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
  type PerMessageDeflateSide,
} from './wire/deflate-negotiation.js';
export {
  PerMessageDeflater,
  PerMessageInflater,
  type PerMessageDeflaterOptions,
  type PerMessageInflaterOptions,
} from './wire/permessage-deflate.js';
export {
  WEBSOCKET_VERSION,
  computeAcceptKey,
  generateWebSocketKey,
  upgradeResponseHeaders,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type HandshakeHeaders,
  type UpgradeOffer,
  type UpgradeRequest,
  type UpgradeResponse,
} from './wire/handshake.js';
export {
  WebSocketConnection,
  type WebSocketConnectionState,
  type WebSocketSendCallback,
} from './connection/websocket-connection.js';
export { WEBSOCKET_CONNECTION_DEFAULTS, type WebSocketConnectionOptions } from './connection/connection-options.js';
export type { WebSocketConnectionListener } from './connection/connection-listener.js';
export { WebSocket, type WebSocketCloseEvent, type WebSocketEvents, type WebSocketMessage } from './api/websocket.js';
export { WEBSOCKET_CONNECT_DEFAULTS, connectWebSocket, type WebSocketConnectOptions } from './api/connect.js';
export {
  acceptWebSocket,
  serveWebSocketChannel,
  type WebSocketAcceptOptions,
  type WebSocketHandshakeResult,
} from './api/accept.js';
export {
  WEBSOCKET_CONNECT_PROTOCOL,
  extendedConnectRequestHeaders,
  isWebSocketConnect,
  validateExtendedConnectRequest,
  validateExtendedConnectResponse,
  type ExtendedConnectOffer,
  type ExtendedConnectRequest,
  type ExtendedConnectTarget,
} from './wire/http2-handshake.js';
export { acceptWebSocketOverHttp2, handleWebSocketStream } from './api/http2-server.js';
export { connectWebSocketOverHttp2, type WebSocketHttp2ConnectOptions } from './api/http2-client.js';
export { WEBSOCKET_PROTOCOL, webSocketUpgrade } from './api/http1-upgrade.js';
export {
  DEFAULT_REFUSAL_STATUS,
  answerWebSocketRequest,
  checkWebSocketServerOptions,
  type WebSocketServerAnswer,
} from './api/server-answer.js';
export type {
  WebSocketAcceptDecision,
  WebSocketAcceptHook,
  WebSocketListener,
  WebSocketRequest,
  WebSocketServerOptions,
} from './api/server-hooks.js';
export {
  WebSocketConnectionErrors,
  WebSocketEncodeErrors,
  WebSocketHandshakeError,
  WebSocketHandshakeErrors,
  WebSocketHttp2Errors,
  WebSocketProtocolError,
  WebSocketProtocolErrors,
  WebSocketUnexpectedStatusError,
  WebSocketServerErrors,
  type WebSocketCloseErrorDefinition,
  type WebSocketHandshakeErrorDefinition,
  type WebSocketRefusedResponse,
} from './errors.js';
