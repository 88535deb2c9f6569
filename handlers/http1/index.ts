/**
 * HTTP/1.1 for sluice: the wire codec — a split-anywhere message parser for requests and
 * responses with the request-smuggling rules of RFC 9112, an encoder of message heads and chunked
 * framing into caller-sized buffers — and its errors. The connection handlers build on it.
 *
 * @module sluice/http1
 */
export * from './errors.js';
export {
  MESSAGE_PARSER_DEFAULTS,
  MessageParser,
  type BodyKind,
  type MessageHead,
  type MessageListener,
  type MessageParserOptions,
  type MessageRole,
} from './wire/message-parser.js';
export {
  CHUNK_END_LENGTH,
  chunkHeaderLength,
  chunkLength,
  fieldsLength,
  isFieldValue,
  isToken,
  lastChunkLength,
  requestHeadLength,
  responseHeadLength,
  writeChunk,
  writeChunkEnd,
  writeChunkHeader,
  writeLastChunk,
  writeRequestHead,
  writeResponseHead,
  type Http1Fields,
} from './wire/message-encoder.js';
export {
  HTTP1_CLIENT_DEFAULTS,
  HTTP1_SERVER_DEFAULTS,
  type Http1ClientConnectionOptions,
  type Http1ServerConnectionOptions,
} from './connection/connection-options.js';
export { Http1ServerConnection } from './connection/server-connection.js';
export { Http1ServerStream, type Http1ServerStreamHandler } from './connection/server-stream.js';
export {
  Http1ClientConnection,
  Http1ClientStream,
  type Http1ClientStreamHandler,
  type Http1RequestOptions,
} from './connection/client-connection.js';
export type { Http1WriteCallback } from './connection/outgoing-message.js';
export {
  connectHttp1,
  listenHttp1,
  type ConnectHttp1Options,
  type Http1ClientTlsOptions,
  type Http1ServerTlsOptions,
  type ListenHttp1Options,
} from './api/bootstrap.js';
