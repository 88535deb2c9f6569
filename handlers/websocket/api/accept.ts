/**
 * The seam between an opening handshake and a running WebSocket: what the HTTP/1.1 upgrade (by
 * replacing the HTTP handler in its slot) and the RFC 8441 stream-to-channel adapter call once
 * the handshake succeeded.
 *
 * @module
 */
import type { Channel, ChannelSlot } from '../../../lib/index.js';
import type { PerMessageDeflateParams } from '../wire/deflate-negotiation.js';
import type { WebSocketRole } from '../wire/frame-decoder.js';
import { WebSocketConnection } from '../connection/websocket-connection.js';
import type { WebSocketConnectionOptions } from '../connection/connection-options.js';
import { WebSocket } from './websocket.js';

/** What an opening handshake decided: who we are and what was negotiated. */
export interface WebSocketHandshakeResult {
  /** Which side we are. */
  readonly role: WebSocketRole;
  /** The negotiated permessage-deflate parameters, or null. */
  readonly perMessageDeflate: PerMessageDeflateParams | null;
  /** The chosen subprotocol, or undefined. */
  readonly protocol?: string;
}

/** Connection options the seam passes on (role, deflate and handed-over bytes come from the handshake). */
export type WebSocketAcceptOptions = Omit<
  WebSocketConnectionOptions,
  'role' | 'perMessageDeflate' | 'handedOverBytes' | 'listener' | 'isManualWindow'
>;

function connectionFor(
  handshake: WebSocketHandshakeResult,
  handedOverBytes: Uint8Array | undefined,
  options: WebSocketAcceptOptions,
): WebSocketConnection {
  const connectionOptions: WebSocketConnectionOptions = {
    ...options,
    role: handshake.role,
    perMessageDeflate: handshake.perMessageDeflate,
    isManualWindow: true,
  };
  if (handedOverBytes !== undefined) connectionOptions.handedOverBytes = handedOverBytes;
  return new WebSocketConnection(connectionOptions);
}

/**
 * Puts a WebSocket in `slot` in place of its handler (the HTTP/1.1 upgrade: the server calls it
 * right after queuing the 101, the client after reading it), with `handedOverBytes` — what the
 * old handler read past the end of the handshake (a frame in the same segment) — decoded before
 * anything the channel delivers. The old handler is destroyed (it must have nothing in flight it
 * still owns) and must call this on the channel's loop. Returns the {@link WebSocket}; its
 * `connection` is the new handler. Throws `WEBSOCKET_INVALID_ARGUMENT` on bad options (the slot is
 * then unchanged).
 */
export function acceptWebSocket(
  slot: ChannelSlot,
  handshake: WebSocketHandshakeResult,
  handedOverBytes?: Uint8Array,
  options: WebSocketAcceptOptions = {},
): WebSocket {
  const connection = connectionFor(handshake, handedOverBytes, options);
  const socket = new WebSocket(connection, handshake.protocol);
  slot.replace(connection);
  return socket;
}

/**
 * Runs a WebSocket as the last handler of `channel` (the RFC 8441 adapter: a channel whose first
 * slot carries one HTTP/2 stream's DATA, with its flow control as the read window): appends the
 * connection and returns the {@link WebSocket}. `handedOverBytes` as for {@link acceptWebSocket}.
 */
export function serveWebSocketChannel(
  channel: Channel,
  handshake: WebSocketHandshakeResult,
  handedOverBytes?: Uint8Array,
  options: WebSocketAcceptOptions = {},
): WebSocket {
  const connection = connectionFor(handshake, handedOverBytes, options);
  const socket = new WebSocket(connection, handshake.protocol);
  channel.appendHandler(connection);
  return socket;
}
