/**
 * The server role of an HTTP/2 connection.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { Http2ApiErrors } from '../errors.js';
import { readSettingsPayload } from '../wire/settings-payload.js';
import type { Http2ConnectionOptions, Http2Headers } from './connection-options.js';
import { Http2Connection } from './http2-connection.js';
import type { Http2Stream } from './http2-stream.js';

/**
 * What an HTTP/1.1 connection hands to the HTTP/2 connection that replaces it after an h2c
 * upgrade (RFC 7540 §3.2).
 * @internal
 */
export interface Http2UpgradeRequest {
  /**
   * The upgraded request as an HTTP/2 header list (pseudo-header fields first, lower-case names,
   * no connection-specific fields), valid as a request (RFC 9113 §8.3.1): it becomes stream 1.
   */
  readonly headers: Http2Headers;
  /** The decoded `HTTP2-Settings` value: a SETTINGS payload, applied as the client's first SETTINGS. */
  readonly settingsPayload: Uint8Array;
  /** Bytes read past the request (the client preface, maybe frames), decoded first. */
  readonly handedOverBytes?: Uint8Array;
}

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
  get role(): 'server' {
    // A getter, not a field: the same for every connection, so none keeps it (8 octets each).
    return 'server';
  }

  /** Creates a server connection; install it in a channel slot. */
  constructor(options: Http2ConnectionOptions = {}) {
    super(options, true);
  }

  /**
   * @internal The h2c upgrade (RFC 7540 §3.2), called by the HTTP/1.1 connection once its 101
   * response is written and this connection replaced it in the slot (installation queued our
   * SETTINGS, so they are the first frame: the server preface, §3.5). It applies the
   * `HTTP2-Settings` payload as the client's SETTINGS without acknowledging them (the 101 did,
   * §3.2.1), opens stream 1 half-closed (remote) with the request, through `onStream` as any peer
   * stream, and decodes the handed-over bytes; the client's connection preface (its magic, then
   * SETTINGS) is still expected first. Throws `HTTP2_INVALID_ARGUMENT` (nothing done) before
   * installation, once a stream was opened, or for a payload that is not a valid SETTINGS
   * payload; a failure of the HTTP/2 rules after that (too many settings, a bad preface) fails the
   * connection with GOAWAY as it would for the same frames.
   */
  acceptUpgrade(upgrade: Http2UpgradeRequest): void {
    const slot = this.slot;
    if (slot === null || this.lifecycle.lastPeerStreamId !== 0) {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'acceptUpgrade on a connection that is not new');
    }
    const settings: number[] = [];
    const payload = upgrade.settingsPayload;
    const violation = readSettingsPayload(payload, 0, payload.length, false, settings);
    if (violation !== null) {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, `HTTP2-Settings: ${violation.message}`);
    }
    try {
      this.settings.onUpgradeSettings(settings);
      this.lifecycle.openUpgradedStream(upgrade.headers);
    } catch (error) {
      this.ending.failConnection(error);
      return;
    }
    const bytes = upgrade.handedOverBytes;
    if (bytes === undefined || bytes.length === 0) return;
    try {
      this.decoder.decode(bytes, 0, bytes.length);
    } catch (error) {
      this.ending.failConnection(error);
      return;
    }
    this.timers.onRead(slot);
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
