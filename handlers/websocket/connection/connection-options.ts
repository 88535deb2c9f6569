/**
 * Options of a {@link WebSocketConnection} and their defaults, in one place.
 *
 * @module
 */
import type { PerMessageDeflateParams } from '../wire/deflate-negotiation.js';
import type { WebSocketRole } from '../wire/frame-decoder.js';
import type { WebSocketConnectionListener } from './connection-listener.js';

/** Options of a {@link WebSocketConnection}; defaults are in {@link WEBSOCKET_CONNECTION_DEFAULTS}. */
export interface WebSocketConnectionOptions {
  /** Which side this endpoint is (required): a server reads masked frames and writes unmasked ones. */
  role: WebSocketRole;
  /** The negotiated permessage-deflate parameters (RFC 7692), or null/absent for none. */
  perMessageDeflate?: PerMessageDeflateParams | null;
  /** The largest incoming message in bytes (after inflating); more fails with 1009. */
  maxMessageSize?: number;
  /** The read window: bytes the socket may deliver beyond what the application has consumed. */
  readWindowSize?: number;
  /** `send` returns false and `onDrain` follows once queued outgoing bytes reach this many. */
  highWaterMark?: number;
  /**
   * After our Close is written, how long to wait for the peer's Close (and, for a client, the TCP
   * close); also how long a peer may take none of the data queued before our Close.
   */
  closeTimeoutMs?: number;
  /** Keep-alive: send a Ping after this many ms (0: never). */
  pingIntervalMs?: number;
  /** Keep-alive: a Ping unanswered this long fails the connection (1006 locally, no Close sent). */
  pongTimeoutMs?: number;
  /** With permessage-deflate, messages shorter than this are sent uncompressed. */
  compressionThreshold?: number;
  /**
   * Manual read window: each delivered message must be acknowledged with
   * {@link WebSocketConnection.consumeMessage}; until every delivered message is, no read credit
   * is returned and the socket stops reading once the window is spent. Off: a message counts as
   * consumed when `onMessage` returns.
   */
  isManualWindow?: boolean;
  /**
   * Bytes already read from the connection that belong to the WebSocket stream: what arrived in
   * the same segment as the 101 response or after the upgrade request. They are decoded first,
   * before anything the channel delivers. Copied.
   */
  handedOverBytes?: Uint8Array;
  /** The callbacks; may also be set with {@link WebSocketConnection.setListener} before data flows. */
  listener?: WebSocketConnectionListener;
}

/** The defaults of {@link WebSocketConnectionOptions}. */
export const WEBSOCKET_CONNECTION_DEFAULTS = Object.freeze({
  /** 64 MiB, as the decoder. */
  maxMessageSize: 64 * 1024 * 1024,
  /** 256 KiB: one full pooled message. */
  readWindowSize: 256 * 1024,
  /** 1 MiB. */
  highWaterMark: 1024 * 1024,
  /** 5 s. */
  closeTimeoutMs: 5000,
  /** Off. */
  pingIntervalMs: 0,
  /** 30 s. */
  pongTimeoutMs: 30_000,
  /** 1 KiB (the threshold `ws` uses). */
  compressionThreshold: 1024,
});
