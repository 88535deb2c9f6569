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
