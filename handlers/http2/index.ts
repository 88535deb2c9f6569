/**
 * HTTP/2 for sluice: the connection handler (client and server roles) with its outgoing-frames
 * task, flow control and limits, the wire layer (frame encoder and decoder, HPACK adapter,
 * header rules) and the errors.
 *
 * @module sluice/http2
 */
export * from './constants.js';
export * from './http2-errors.js';
export * from './http2-api-errors.js';
export * from './connection-options.js';
export { Http2Stream, StreamState, type Http2StreamHandler, type Http2StreamFailure, type WriteCallback, type Http2StreamHost } from './http2-stream.js';
export { GRACEFUL_CLOSE_PING_WAIT_MS, Http2Connection, type Http2Statistics } from './http2-connection.js';
export { Http2ClientConnection, type Http2RequestOptions } from './http2-client.js';
export { Http2ServerConnection } from './http2-server.js';
export * from './http2-bootstrap.js';
export * from './frame-encoder.js';
export * from './frame-decoder.js';
export * from './hpack-encoder.js';
export * from './hpack-decoder.js';
export * from './header-rules.js';
export { httpDate } from './http-date.js';
export { ControlFrameQueue } from './control-frame-queue.js';
export { ClosedStreams, ClosedBy } from './closed-streams.js';
export { OutgoingFramesTask, type OutgoingFramesHost } from './outgoing-frames-task.js';
export { Http2SessionErrors } from './session-errors.js';
export { Http2StreamDiagnostics, type Http2StreamFinishedMessage, type Http2StreamStartedMessage } from './stream-diagnostics.js';
export { headersToObject, type Http2HeadersObject, type Http2HeaderInput } from './header-objects.js';
export { Http2Body, type Http2BodySource } from './body.js';
export { connect, Http2Session, type Http2SessionOptions, type Http2RequestInit, type Http2RequestStream, type Http2Response } from './client-session.js';
export {
  createServer,
  Http2Server,
  Http2ServerListener,
  ServerStream,
  type Http2ServerOptions,
  type Http2ListenOptions,
  type RespondOptions,
  type ServerStreamListener,
} from './server.js';
