/**
 * The WebSocket opening handshake of a server over HTTP/1.1 (RFC 6455 §4.2): an upgrade for the
 * HTTP/1.1 connection's seam that checks the request, asks the accept hook, answers 101 (or the
 * refusal), and once the 101 is written puts a WebSocket in the connection's slot.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { describeThrown } from '../../../lib/argument-checks.js';
import type { Http1ServerStream } from '../../http1/connection/server-stream.js';
import type { Http1Upgrade, Http1UpgradeExchange } from '../../http1/connection/upgrade.js';
import { CloseCode } from '../wire/constants.js';
import {
  WEBSOCKET_VERSION,
  upgradeResponseHeaders,
  validateUpgradeRequest,
  type HandshakeHeaders,
  type UpgradeRequest,
} from '../wire/handshake.js';
import { WebSocketHandshakeError, WebSocketHandshakeErrors, WebSocketServerErrors } from '../errors.js';
import { acceptWebSocket } from './accept.js';
import { answerWebSocketRequest, checkWebSocketServerOptions, type WebSocketServerAnswer } from './server-answer.js';
import type { WebSocketRequest, WebSocketServerOptions } from './server-hooks.js';

/** The protocol token of WebSocket in `Upgrade` (RFC 6455 §4.1). */
export const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * The WebSocket endpoint of an HTTP/1.1 server connection, as one of its `upgrades`; throws
 * `WEBSOCKET_INVALID_ARGUMENT` for `options` that {@link checkWebSocketServerOptions} refuses,
 * and reports the application's failures to `onError`. It takes every request that asks to
 * upgrade to `websocket` (HTTP/1.1 with `Upgrade` listed in `Connection`; any other request is the
 * application's) and answers it:
 *
 * - not a valid opening request (`validateUpgradeRequest`): 400, or 426 with
 *   `Sec-WebSocket-Version: 13` for a missing or other version (RFC 6455 §4.2.2);
 * - `options.acceptWebSocket` runs before any response: a refusal is its status (403 by default),
 *   headers and body; a hook that fails, or a subprotocol the client did not offer, is 500 and an
 *   error for `onError`;
 * - accepted: permessage-deflate negotiated per `options.perMessageDeflate`, a 101 with the
 *   handshake's fields; once it is written, `acceptWebSocket` replaces the connection (bytes read
 *   past the request are the WebSocket's first) and `options.onWebSocket(socket, request)` runs.
 *
 * A refusal closes the connection after its response. If the connection closes while the hook
 * runs, nothing more happens: no response, no `onWebSocket`.
 */
export function webSocketUpgrade(
  options: WebSocketServerOptions,
  onError: (error: SluiceError) => void = () => undefined,
): Http1Upgrade {
  checkWebSocketServerOptions(options);
  return {
    protocol: WEBSOCKET_PROTOCOL,
    takes: () => true,
    onUpgrade(exchange: Http1UpgradeExchange): void {
      openWebSocket(exchange, options, onError).catch((thrown: unknown) => {
        onError(
          new SluiceError(WebSocketServerErrors.ACCEPT_HOOK_FAILED, `the handshake failed: ${describeThrown(thrown)}`, {
            cause: thrown,
          }),
        );
        if (!exchange.isAnswered) exchange.refuse(500, [], 'internal server error\n');
      });
    },
  };
}

/** Answers one opening request; every expected failure is a response (and an `onError` for the application's). */
async function openWebSocket(
  exchange: Http1UpgradeExchange,
  options: WebSocketServerOptions,
  onError: (error: SluiceError) => void,
): Promise<void> {
  const stream = exchange.request;
  const headers = handshakeHeaders(stream);
  let handshake: UpgradeRequest;
  try {
    handshake = validateUpgradeRequest(stream.method, headers);
  } catch (error) {
    if (!(error instanceof WebSocketHandshakeError)) throw error;
    // RFC 6455 §4.2.2: a version we do not speak is answered with the one we do; RFC 9110
    // §15.5.22: a 426 names the protocol required in Upgrade, and so lists it in Connection (§7.8).
    const fields =
      error.code === WebSocketHandshakeErrors.UNSUPPORTED_VERSION.code
        ? ['Sec-WebSocket-Version', WEBSOCKET_VERSION, 'Upgrade', WEBSOCKET_PROTOCOL, 'Connection', 'Upgrade, close']
        : [];
    exchange.refuse(error.status, fields, `${error.message}\n`);
    return;
  }
  const request: WebSocketRequest = {
    httpVersion: '1.1',
    path: stream.target,
    authority: stream.header('host') ?? '',
    origin: stream.header('origin'),
    headers,
    protocols: handshake.protocols,
    extensions: handshake.extensions,
  };
  const answer = await answerWebSocketRequest(request, options);
  if (exchange.isClosed) return;
  if (!answer.accept) {
    if (answer.error !== null) onError(answer.error);
    refuse(exchange, answer, onError);
    return;
  }
  const fields = upgradeResponseHeaders(handshake, {
    ...(answer.protocol !== undefined ? { protocol: answer.protocol } : {}),
    ...(answer.perMessageDeflate !== null ? { extensions: answer.perMessageDeflate.response } : {}),
  }).flat();
  for (const [name, value] of answer.headers) fields.push(name, value);
  const handshakeResult = {
    role: 'server' as const,
    perMessageDeflate: answer.perMessageDeflate?.params ?? null,
    ...(answer.protocol !== undefined ? { protocol: answer.protocol } : {}),
  };
  try {
    exchange.switchProtocols(fields, (slot, handedOverBytes) => {
      const socket = acceptWebSocket(slot, handshakeResult, handedOverBytes, options.connection);
      try {
        options.onWebSocket(socket, request);
      } catch (thrown) {
        onError(
          new SluiceError(WebSocketServerErrors.LISTENER_THREW, `onWebSocket threw: ${describeThrown(thrown)}`, {
            cause: thrown,
          }),
        );
        socket.close(CloseCode.INTERNAL_ERROR).catch(() => undefined);
      }
      return socket.connection.channelSlot!;
    });
  } catch (thrown) {
    // A header the hook gave cannot be written (not a token, a control character…).
    onError(
      new SluiceError(
        WebSocketServerErrors.ACCEPT_HOOK_FAILED,
        `the 101 cannot be written: ${describeThrown(thrown)}`,
        {
          cause: thrown,
        },
      ),
    );
    exchange.refuse(500, [], 'internal server error\n');
  }
}

/** The refusal as the hook chose it; one whose headers cannot be written is a plain 500. */
function refuse(
  exchange: Http1UpgradeExchange,
  answer: Extract<WebSocketServerAnswer, { accept: false }>,
  onError: (error: SluiceError) => void,
): void {
  try {
    exchange.refuse(answer.status, answer.headers.flat(), answer.body);
  } catch (thrown) {
    onError(
      new SluiceError(
        WebSocketServerErrors.ACCEPT_HOOK_FAILED,
        `the refusal cannot be written: ${describeThrown(thrown)}`,
        {
          cause: thrown,
        },
      ),
    );
    exchange.refuse(500, [], 'internal server error\n');
  }
}

/** The request's fields keyed by lower-case name: a string for one field line, an array for several. */
function handshakeHeaders(stream: Http1ServerStream): HandshakeHeaders {
  const headers: Record<string, string | string[]> = {};
  const fields = stream.headers;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    const seen = headers[name];
    if (seen === undefined) headers[name] = fields[i + 1];
    else if (typeof seen === 'string') headers[name] = [seen, fields[i + 1]];
    else seen.push(fields[i + 1]);
  }
  return headers;
}
