/**
 * The seam between an opening handshake and a running WebSocket: what the HTTP/1.1 upgrade (by
 * replacing the HTTP handler in its slot) and the RFC 8441 stream-to-channel adapter call once
 * the handshake succeeded.
 *
 * @module
 */
import { Channel, ChannelSlot, SluiceError } from '../../../lib/index.js';
import { checkOptionalOptions } from '../../../lib/argument-checks.js';
import { WebSocketEncodeErrors } from '../errors.js';
import { checkPerMessageDeflateParams, type PerMessageDeflateParams } from '../wire/deflate-negotiation.js';
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

/** The seam's checks of what a handshake passes (the connection checks its own options). */
function checkSeamArguments(what: string, handshake: unknown, handedOverBytes: unknown, options: unknown): void {
  const result = handshake as Partial<Record<keyof WebSocketHandshakeResult, unknown>> | null;
  if (
    typeof result !== 'object' ||
    result === null ||
    (result.role !== 'server' && result.role !== 'client') ||
    !(result.protocol === undefined || typeof result.protocol === 'string')
  ) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      `${what}: the handshake result is { role, perMessageDeflate, protocol? }`,
    );
  }
  if (result.perMessageDeflate !== null && result.perMessageDeflate !== undefined) {
    checkPerMessageDeflateParams(result.perMessageDeflate, what);
  }
  if (handedOverBytes !== undefined && !(handedOverBytes instanceof Uint8Array)) {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, `${what}: handedOverBytes is a Uint8Array`);
  }
  checkOptionalOptions(options, what, WebSocketEncodeErrors.INVALID_ARGUMENT);
}

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
 * `connection` is the new handler. Throws `WEBSOCKET_INVALID_ARGUMENT` on bad arguments or options
 * (the slot is then unchanged).
 */
export function acceptWebSocket(
  slot: ChannelSlot,
  handshake: WebSocketHandshakeResult,
  handedOverBytes?: Uint8Array,
  options: WebSocketAcceptOptions = {},
): WebSocket {
  if (!(slot instanceof ChannelSlot)) {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'acceptWebSocket(slot, …): slot is a ChannelSlot');
  }
  checkSeamArguments('acceptWebSocket', handshake, handedOverBytes, options);
  const connection = connectionFor(handshake, handedOverBytes, options);
  const socket = new WebSocket(connection, handshake.protocol);
  slot.replace(connection);
  return socket;
}

/**
 * Runs a WebSocket as the last handler of `channel` (the RFC 8441 adapter: a channel whose first
 * slot carries one HTTP/2 stream's DATA, with its flow control as the read window): appends the
 * connection and returns the {@link WebSocket}. `handedOverBytes` as for {@link acceptWebSocket};
 * throws `WEBSOCKET_INVALID_ARGUMENT` on bad arguments or options.
 */
export function serveWebSocketChannel(
  channel: Channel,
  handshake: WebSocketHandshakeResult,
  handedOverBytes?: Uint8Array,
  options: WebSocketAcceptOptions = {},
): WebSocket {
  if (!(channel instanceof Channel)) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'serveWebSocketChannel(channel, …): channel is a Channel',
    );
  }
  checkSeamArguments('serveWebSocketChannel', handshake, handedOverBytes, options);
  const connection = connectionFor(handshake, handedOverBytes, options);
  const socket = new WebSocket(connection, handshake.protocol);
  channel.appendHandler(connection);
  return socket;
}
