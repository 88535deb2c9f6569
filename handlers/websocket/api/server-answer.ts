/**
 * A server's answer to a valid WebSocket opening request, the same on both HTTP versions: run the
 * accept hook, check its decision, negotiate permessage-deflate. The HTTP/1.1 upgrade turns the
 * answer into a 101 or a refusal; RFC 8441 over HTTP/2 into a 200 or a refusal.
 *
 * @module
 */
import { SluiceError, type ErrorDefinition } from '../../../lib/index.js';
import { describeThrown } from '../../../lib/argument-checks.js';
import { WebSocketConnection } from '../connection/websocket-connection.js';
import {
  negotiatePerMessageDeflate,
  type PerMessageDeflateNegotiation,
  type PerMessageDeflateOptions,
} from '../wire/deflate-negotiation.js';
import { WebSocketEncodeErrors, WebSocketServerErrors } from '../errors.js';
import type { WebSocketAcceptDecision, WebSocketRequest, WebSocketServerOptions } from './server-hooks.js';

/** A refusal's status when the accept hook gives none (RFC 9110 §15.5.4, 403 Forbidden). */
export const DEFAULT_REFUSAL_STATUS = 403;

/** A server's answer to a WebSocket opening request. */
export type WebSocketServerAnswer =
  | {
      /** Open the WebSocket. */
      readonly accept: true;
      /** The subprotocol chosen (one the client offered), or undefined. */
      readonly protocol: string | undefined;
      /** permessage-deflate as negotiated, or null when it is not used. */
      readonly perMessageDeflate: PerMessageDeflateNegotiation | null;
      /** Extra response fields from the hook, as name/value pairs. */
      readonly headers: readonly (readonly [string, string])[];
    }
  | {
      /** Refuse with an HTTP response. */
      readonly accept: false;
      /** The status to answer, 400–599. */
      readonly status: number;
      /** Response fields from the hook, as name/value pairs. */
      readonly headers: readonly (readonly [string, string])[];
      /** The refusal's text body (maybe empty). */
      readonly body: string;
      /** For a 500: what went wrong in the application's hook, for `onError`; null for a refusal the hook chose. */
      readonly error: SluiceError | null;
    };

/**
 * Checks a server's `webSocket` option when the server is created, so a mistake is the caller's
 * exception and not a failure on each request: `onWebSocket` a function, `acceptWebSocket` a
 * function or absent, `perMessageDeflate` valid options or false, `connection` options in range.
 * Throws `WEBSOCKET_INVALID_ARGUMENT`.
 */
export function checkWebSocketServerOptions(options: WebSocketServerOptions): WebSocketServerOptions {
  if (typeof options !== 'object' || options === null || typeof options.onWebSocket !== 'function') {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'webSocket: { onWebSocket(socket, request) } at least',
    );
  }
  if (options.acceptWebSocket !== undefined && typeof options.acceptWebSocket !== 'function') {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'webSocket.acceptWebSocket is a function');
  }
  const deflate = options.perMessageDeflate;
  if (deflate !== undefined && deflate !== false) negotiatePerMessageDeflate(undefined, deflate);
  // The connection checks its own options: one made and dropped here checks them once.
  new WebSocketConnection({ ...options.connection, role: 'server' });
  return options;
}

/**
 * The answer to a valid opening `request` under `options` (RFC 6455 §4.2.2): the hook's decision
 * (every request accepted without a subprotocol when there is no hook), with permessage-deflate
 * negotiated from the client's offers when the server allows it. Never rejects: a hook that
 * throws, rejects or returns no valid decision (`WEBSOCKET_ACCEPT_HOOK_FAILED`), or accepts with a
 * subprotocol the client did not offer (`WEBSOCKET_SUBPROTOCOL_NOT_OFFERED`), is a 500 carrying
 * the error. Resolves on a later microtask at the earliest, even for a synchronous hook. Rejects
 * with `WEBSOCKET_INVALID_ARGUMENT` only when `request` or `options` is not of its type.
 */
export async function answerWebSocketRequest(
  request: WebSocketRequest,
  options: WebSocketServerOptions,
): Promise<WebSocketServerAnswer> {
  // The shapes only (the options were checked in full with the server): a rejection, not a 500.
  if (typeof options !== 'object' || options === null || typeof options.onWebSocket !== 'function') {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'answerWebSocketRequest: options are WebSocketServerOptions',
    );
  }
  if (
    typeof request !== 'object' ||
    request === null ||
    !Array.isArray(request.protocols) ||
    !request.protocols.every((protocol) => typeof protocol === 'string') ||
    (request.extensions !== undefined && typeof request.extensions !== 'string')
  ) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'answerWebSocketRequest: request is a WebSocketRequest',
    );
  }
  const hook = options.acceptWebSocket;
  let decision: WebSocketAcceptDecision;
  try {
    decision = hook === undefined ? { accept: true } : await hook(request);
  } catch (thrown) {
    return internalError(
      WebSocketServerErrors.ACCEPT_HOOK_FAILED,
      `the accept hook threw: ${describeThrown(thrown)}`,
      thrown,
    );
  }
  if (typeof decision !== 'object' || decision === null || typeof decision.accept !== 'boolean') {
    return internalError(WebSocketServerErrors.ACCEPT_HOOK_FAILED, 'the accept hook returned no { accept } decision');
  }
  const headers = fieldPairs(decision.headers);
  if (headers === null) {
    return internalError(WebSocketServerErrors.ACCEPT_HOOK_FAILED, 'the decision headers are not string values');
  }
  if (!decision.accept) {
    const status = decision.status ?? DEFAULT_REFUSAL_STATUS;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      return internalError(WebSocketServerErrors.ACCEPT_HOOK_FAILED, `a refusal status of ${String(status)}`);
    }
    return {
      accept: false,
      status,
      headers,
      body: decision.body === undefined ? '' : String(decision.body),
      error: null,
    };
  }
  const protocol = decision.protocol;
  if (protocol !== undefined && !request.protocols.includes(protocol)) {
    return internalError(
      WebSocketServerErrors.SUBPROTOCOL_NOT_OFFERED,
      `the accept hook chose ${String(protocol)}; the client offered ${request.protocols.join(', ') || 'none'}`,
    );
  }
  const perMessageDeflate = negotiate(request.extensions, options.perMessageDeflate);
  return { accept: true, protocol, perMessageDeflate, headers };
}

function negotiate(
  offer: string | undefined,
  allowed: PerMessageDeflateOptions | false | undefined,
): PerMessageDeflateNegotiation | null {
  // The options were checked with the server and the offer with the request: this cannot throw.
  return allowed === undefined || allowed === false ? null : negotiatePerMessageDeflate(offer, allowed);
}

function internalError(definition: ErrorDefinition, message: string, cause?: unknown): WebSocketServerAnswer {
  const error = new SluiceError(definition, message, cause === undefined ? undefined : { cause });
  return { accept: false, status: 500, headers: [], body: 'internal server error\n', error };
}

/** `{ name: value }` as pairs; null when a value is not a string. */
function fieldPairs(headers: Readonly<Record<string, string>> | undefined): [string, string][] | null {
  if (headers === undefined) return [];
  if (typeof headers !== 'object' || headers === null) return null;
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') return null;
    pairs.push([name, value]);
  }
  return pairs;
}
