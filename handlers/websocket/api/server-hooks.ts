/**
 * What a server's WebSocket endpoint is given, on either HTTP version: the request as the accept
 * hook sees it (before any response is sent), the hook's decision, and the server options that
 * carry both. The HTTP/1.1 upgrade (RFC 6455 §4.2) and the HTTP/2 extended CONNECT (RFC 8441)
 * fill the same {@link WebSocketRequest}, so one hook serves both.
 *
 * @module
 */
import type { HandshakeHeaders } from '../wire/handshake.js';
import type { PerMessageDeflateOptions } from '../wire/deflate-negotiation.js';
import type { WebSocketAcceptOptions } from './accept.js';
import type { WebSocket } from './websocket.js';

/** A WebSocket opening request, as a server's accept hook and `onWebSocket` see it. */
export interface WebSocketRequest {
  /** `1.1` for an HTTP/1.1 upgrade, `2` for an RFC 8441 extended CONNECT. */
  readonly httpVersion: '1.1' | '2';
  /** The request target's path and query (`:path`, or the HTTP/1.1 request target). */
  readonly path: string;
  /** `Host` (HTTP/1.1) or `:authority` (HTTP/2). */
  readonly authority: string;
  /** `Origin`, when the client sent one (browsers do; RFC 6455 §10.2). */
  readonly origin: string | undefined;
  /** The request's header fields keyed by lower-case name (pseudo-header fields excluded). */
  readonly headers: HandshakeHeaders;
  /** The subprotocols the client offered, in its order of preference (`Sec-WebSocket-Protocol`). */
  readonly protocols: readonly string[];
  /** The client's `Sec-WebSocket-Extensions` (field lines joined), or undefined. */
  readonly extensions: string | undefined;
}

/** The accept hook's answer: open the WebSocket (with what was chosen), or refuse with an HTTP response. */
export type WebSocketAcceptDecision =
  | {
      /** Accept the request. */
      readonly accept: true;
      /** The subprotocol chosen; it must be one the client offered. None by default. */
      readonly protocol?: string;
      /** Extra header fields for the 101 (HTTP/1.1) or 200 (HTTP/2) response. */
      readonly headers?: Readonly<Record<string, string>>;
    }
  | {
      /** Refuse the request. */
      readonly accept: false;
      /** The status of the refusal, 400–599; 403 by default. */
      readonly status?: number;
      /** Extra header fields of the refusal. */
      readonly headers?: Readonly<Record<string, string>>;
      /** A short body for the refusal (text/plain). */
      readonly body?: string;
    };

/**
 * Runs before any response is sent (RFC 6455 §4.2.2 leaves the server its checks of Origin,
 * authentication, subprotocol choice): a throw or rejection refuses with 500.
 */
export type WebSocketAcceptHook = (
  request: WebSocketRequest,
) => WebSocketAcceptDecision | Promise<WebSocketAcceptDecision>;

/** Gets each WebSocket a server opened, with the request that opened it. */
export type WebSocketListener = (socket: WebSocket, request: WebSocketRequest) => void;

/** The WebSocket endpoint of a server (`createServer`'s `webSocket` option), on both HTTP versions. */
export interface WebSocketServerOptions {
  /** Gets each opened WebSocket (required). */
  onWebSocket: WebSocketListener;
  /** Accepts or refuses each request before the response; without it every valid request is accepted with no subprotocol. */
  acceptWebSocket?: WebSocketAcceptHook;
  /** permessage-deflate (RFC 7692) as the server allows it; `false` (the default) never negotiates it. */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /** Options of each WebSocket connection (message size limit, keep-alive, close timeout…). */
  connection?: WebSocketAcceptOptions;
}
