/**
 * HTTP/2 for sluice: the connection handler (client and server roles) with its streams, the
 * convenient session and server on top of it, their options, limits and errors, and the
 * RFC 9113 error codes and settings. The frame codec is in `sluice/http2/wire`.
 *
 * @module sluice/http2
 */
export { ErrorCode, SETTINGS_DEFAULTS, SettingId, errorCodeName } from './wire/constants.js';
export {
  Http2ApiErrors,
  Http2ConnectionError,
  Http2SessionErrors,
  Http2StreamError,
  type Http2Error,
} from './errors.js';
export * from './connection/connection-options.js';
export { DEFAULT_PRIORITY, parsePriority, type Http2Priority } from './connection/priority.js';
export {
  Http2Stream,
  StreamState,
  type Http2StreamHandler,
  type Http2StreamFailure,
  type WriteCallback,
} from './connection/http2-stream.js';
export { GRACEFUL_CLOSE_PING_WAIT_MS, Http2Connection, type Http2Statistics } from './connection/http2-connection.js';
export {
  Http2ClientConnection,
  type Http2RequestOptions,
  type RemoteSettingsCallback,
} from './connection/client-connection.js';
export { Http2ServerConnection } from './connection/server-connection.js';
export * from './api/bootstrap.js';
export {
  Http2StreamDiagnostics,
  type Http2StreamFinishedMessage,
  type Http2StreamStartedMessage,
} from './connection/stream-diagnostics.js';
export { headersToObject, type Http2HeadersObject, type Http2HeaderInput } from './api/header-objects.js';
export { httpDate } from './api/http-date.js';
export { Http2Body, type Http2BodySource } from './api/body.js';
export { Http2StreamChannelAdapter } from './api/stream-channel.js';
export {
  connect,
  Http2Session,
  type Http2SessionOptions,
  type Http2RequestInit,
  type Http2RequestStream,
  type Http2Response,
} from './api/session.js';
export {
  createServer,
  Http2Server,
  Http2ServerListener,
  ServerStream,
  type Http2ServerOptions,
  type Http2ListenOptions,
  type RespondOptions,
  type ServerStreamListener,
} from './api/server.js';
