/**
 * HTTP/1.1 for sluice, and the one API over HTTP/1.1 and HTTP/2: the wire codec — a
 * split-anywhere message parser for requests and responses with the request-smuggling rules of
 * RFC 9112, an encoder of message heads and chunked framing into caller-sized buffers — the
 * server and client connection handlers with their bootstrap helpers and the server's upgrade
 * seam (`Upgrade: h2c` with {@link h2cUpgrade}; WebSocket), and on top `createServer(handler)`
 * (both protocols on one port: sniffing on TCP, ALPN on TLS, h2c and WebSocket upgrades) and
 * `connect(url, { protocol })`.
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
export { Http1UpgradeExchange, type Http1Upgrade, type Http1UpgradeInstall } from './connection/upgrade.js';
export { H2C_PROTOCOL, h2cUpgrade } from './api/h2c-upgrade.js';
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
export { ProtocolSniffer, SNIFF_TIMEOUT_MS } from './api/protocol-sniffer.js';
export { Http1ServerExchange, type HttpProtocol, type HttpServerStream } from './api/server-exchange.js';
export {
  createServer,
  DEFAULT_ALPN_PROTOCOLS,
  HttpServer,
  HttpServerListener,
  type HttpListenOptions,
  type HttpServerHandler,
  type HttpServerOptions,
  type HttpServerTlsOptions,
} from './api/server.js';
export {
  connect,
  Http1Session,
  type Http1Response,
  type HttpConnectOptions,
  type HttpProtocolChoice,
  type HttpSession,
} from './api/session.js';
