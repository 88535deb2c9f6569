/**
 * The server role of an HTTP/2 connection.
 *
 * @module
 */
import type { Http2ConnectionOptions } from './connection-options.js';
import { Http2Connection } from './http2-connection.js';

/**
 * Http2ServerConnection is the server side of one HTTP/2 connection (h2c with prior knowledge,
 * or after TLS negotiated "h2"). Each request opens a stream and calls `options.onStream`,
 * where the application sets `stream.handler` and answers with `stream.sendHeaders`,
 * `stream.write` and `stream.end`.
 *
 * @example
 * ```ts
 * channel.appendHandler(new Http2ServerConnection({
 *   onStream(stream, headers) {
 *     stream.sendHeaders([':status', '200', 'content-type', 'text/plain']);
 *     stream.end();
 *   },
 * }));
 * ```
 */
export class Http2ServerConnection extends Http2Connection {
  /** Always `server`. */
  readonly role = 'server' as const;

  /** Creates a server connection; install it in a channel slot. */
  constructor(options: Http2ConnectionOptions = {}) {
    super(options, true);
  }
}
