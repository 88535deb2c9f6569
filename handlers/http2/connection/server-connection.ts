/**
 * The server role of an HTTP/2 connection.
 *
 * @module
 */
import type { Http2ConnectionOptions } from './connection-options.js';
import { Http2Connection } from './http2-connection.js';
import type { Http2Stream } from './http2-stream.js';

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

  /** @internal The client's SETTINGS arrived: its preface is complete (the handshake deadline ends). */
  override onPeerSettingsApplied(): void {
    this.timers.onHandshakeDone();
  }

  /** @internal The idle timeout counts from the last stream's close. */
  override onStreamClosed(): void {
    this.timers.onStreamClosed();
  }

  /** @internal A request opened: its body may be timed (CONNECT streams are out of the rates). */
  override onPeerStreamOpened(stream: Http2Stream, isEndStream: boolean, isConnect: boolean): void {
    this.timers.onRequestOpened(stream, isEndStream, isConnect);
  }
}
