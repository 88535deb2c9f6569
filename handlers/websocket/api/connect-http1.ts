/**
 * `connectWebSocket` over HTTP/1.1: the upgrade request (RFC 6455 §4.1) run by a
 * {@link WebSocketClientHandshake} in the channel's last slot, on a connection of its own or on a
 * TLS connection whose ALPN chose http/1.1 over h2.
 *
 * @module
 */
import type { SluiceError } from '../../../lib/index.js';
import { PERMESSAGE_DEFLATE, offerPerMessageDeflate } from '../wire/deflate-negotiation.js';
import { WEBSOCKET_VERSION, generateWebSocketKey } from '../wire/handshake.js';
import { alpnMismatch, openClientChannel, settleOnChannel } from './client-channel.js';
import { WebSocketClientHandshake } from './client-handshake.js';
import type { WebSocketClientRequest, WebSocketConnectOptions } from './connect.js';
import type { WebSocket } from './websocket.js';

/** ALPN of a connection that only runs the HTTP/1.1 upgrade. */
const HTTP1_ALPN = ['http/1.1'] as const;

/** An HTTP/1.1 handshake not installed yet, and the promise of how it ends. */
export interface PendingHttp1Handshake {
  /** The handler to put in the channel's last slot. */
  readonly handler: WebSocketClientHandshake;
  /** Settles once with the WebSocket that replaced the handler, or the handshake's error. */
  readonly outcome: Promise<WebSocket | SluiceError>;
}

/**
 * Builds the HTTP/1.1 handshake of `request`: a fresh key, the offers, the caller's fields.
 * `onSettled`, when given, also gets the outcome, on the loop as the handshake settles (the
 * simulator drives the handshake so: a virtual loop runs no promise continuations).
 */
export function http1Handshake(
  request: WebSocketClientRequest,
  onSettled?: (outcome: WebSocket | SluiceError) => void,
): PendingHttp1Handshake {
  let resolve!: (outcome: WebSocket | SluiceError) => void;
  const outcome = new Promise<WebSocket | SluiceError>((settle) => (resolve = settle));
  const settle = (settled: WebSocket | SluiceError): void => {
    resolve(settled);
    onSettled?.(settled);
  };
  const key = generateWebSocketKey();
  const extensionOffer = request.perMessageDeflate === null ? null : offerPerMessageDeflate(request.perMessageDeflate);
  const handler = new WebSocketClientHandshake({
    target: request.target,
    fields: upgradeRequestFields(request, key, extensionOffer),
    offer: {
      key,
      protocols: request.protocols,
      extensions: extensionOffer === null ? [] : [PERMESSAGE_DEFLATE],
    },
    perMessageDeflate: request.perMessageDeflate,
    timeoutMs: request.handshakeTimeoutMs,
    connection: request.connection,
    onOpen: settle,
    onFail: settle,
  });
  return { handler, outcome };
}

/**
 * Runs `request` as an HTTP/1.1 upgrade on a connection of its own (TLS with ALPN `http/1.1` when
 * secure) and resolves with the WebSocket that replaced the handshake handler. On failure it
 * rejects once the channel has shut down.
 */
export async function connectOverHttp1(
  request: WebSocketClientRequest,
  options: WebSocketConnectOptions,
): Promise<WebSocket> {
  const handshake = http1Handshake(request);
  const channel = await openClientChannel(request, options, HTTP1_ALPN, (installing, protocol) => {
    if (protocol !== null && protocol !== 'http/1.1') throw alpnMismatch(protocol, HTTP1_ALPN);
    installing.appendHandler(handshake.handler);
  });
  return settleOnChannel(channel, handshake.outcome);
}

/** The fields of the HTTP/1.1 upgrade request (RFC 6455 §4.1): Host, the upgrade fields, the offers, the caller's. */
function upgradeRequestFields(request: WebSocketClientRequest, key: string, extensionOffer: string | null): string[] {
  const fields = [
    'Host',
    request.authority,
    'Upgrade',
    'websocket',
    'Connection',
    'Upgrade',
    'Sec-WebSocket-Key',
    key,
    'Sec-WebSocket-Version',
    WEBSOCKET_VERSION,
  ];
  if (request.protocols.length > 0) fields.push('Sec-WebSocket-Protocol', request.protocols.join(', '));
  if (extensionOffer !== null) fields.push('Sec-WebSocket-Extensions', extensionOffer);
  for (const field of request.fields) fields.push(field);
  return fields;
}
