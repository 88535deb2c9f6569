/**
 * `connectWebSocket(url, { http2: true })` for `wss://`: one TLS connection offering ALPN h2 and
 * http/1.1. When the server picks h2, the WebSocket opens on a stream of an HTTP/2 session of its
 * own with an RFC 8441 extended CONNECT; when that server's SETTINGS do not enable extended
 * CONNECT, the session is closed and a second connection runs the HTTP/1.1 upgrade — as browsers
 * do, since nothing else can be said on an HTTP/2 connection to ask for a WebSocket. When the
 * server picks http/1.1 (or no protocol), the HTTP/1.1 upgrade runs on that same connection.
 *
 * @module
 */
import { SluiceError, Task, TaskStatus, type Channel } from '../../../lib/index.js';
import { Http2ClientConnection } from '../../http2/connection/client-connection.js';
import { Http2Session } from '../../http2/api/session.js';
import type { Http1Fields } from '../../http1/wire/message-encoder.js';
import { WebSocketHandshakeError, WebSocketHandshakeErrors, WebSocketHttp2Errors } from '../errors.js';
import { alpnMismatch, openClientChannel, settleOnChannel } from './client-channel.js';
import type { WebSocketClientRequest, WebSocketConnectOptions } from './connect.js';
import { connectOverHttp1, http1Handshake, type PendingHttp1Handshake } from './connect-http1.js';
import { connectWebSocketOverHttp2 } from './http2-client.js';
import type { WebSocket } from './websocket.js';

/** ALPN of the first connection: h2 preferred, the HTTP/1.1 upgrade otherwise. */
const NEGOTIATED_ALPN = ['h2', 'http/1.1'] as const;

/**
 * Fields that describe one HTTP/1.1 connection and are left out of an HTTP/2 header list (RFC
 * 9113 §8.2.2; `te` is kept only as `trailers`). `connectWebSocket` already refuses `connection`,
 * `upgrade` and `transfer-encoding`; the caller may still give the others for HTTP/1.1.
 */
const CONNECTION_SPECIFIC_FIELDS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Connects to a secure `request` as the module comment says and resolves with the open
 * WebSocket. Rejects as `connectWebSocket` documents, once every connection it opened is closed.
 */
export async function connectPreferringHttp2(
  request: WebSocketClientRequest,
  options: WebSocketConnectOptions,
): Promise<WebSocket> {
  let markChosen!: (chosen: Http2ClientConnection | PendingHttp1Handshake) => void;
  const chosen = new Promise<Http2ClientConnection | PendingHttp1Handshake>((resolve) => (markChosen = resolve));
  const channel = await openClientChannel(request, options, NEGOTIATED_ALPN, (installing, protocol) => {
    if (protocol === 'h2') {
      const connection = new Http2ClientConnection();
      installing.appendHandler(connection);
      markChosen(connection);
      return;
    }
    if (protocol !== null && protocol !== 'http/1.1') throw alpnMismatch(protocol, NEGOTIATED_ALPN);
    const handshake = http1Handshake(request);
    installing.appendHandler(handshake.handler);
    markChosen(handshake);
  });
  const installed = await settleOnChannel(channel, chosen);
  if (!(installed instanceof Http2ClientConnection)) return settleOnChannel(channel, installed.outcome);
  const session = new Http2Session(installed, 'https', request.authority);
  try {
    return await openOverHttp2(session, channel, request);
  } catch (error) {
    // The session was made for this WebSocket alone: close it (GOAWAY; the stream, if one was
    // opened, is already reset or closed) before reporting.
    await session.close();
    if (!(error instanceof SluiceError) || error.code !== WebSocketHttp2Errors.EXTENDED_CONNECT_DISABLED.code) {
      throw error;
    }
  }
  // RFC 8441 §3: without SETTINGS_ENABLE_CONNECT_PROTOCOL no extended CONNECT may be sent, and an
  // HTTP/2 connection cannot be upgraded: the WebSocket needs a connection of its own.
  return connectOverHttp1(request, options);
}

/**
 * Opens the WebSocket on `session` with `request`'s offers, bounded by its handshake timeout
 * (the wait for the server's SETTINGS and for the 200 both count). The WebSocket owns the
 * session: once it is over, the session closes.
 */
async function openOverHttp2(
  session: Http2Session,
  channel: Channel,
  request: WebSocketClientRequest,
): Promise<WebSocket> {
  const timeout = new AbortController();
  const timeoutMs = request.handshakeTimeoutMs;
  let timer: Task | null = null;
  if (timeoutMs > 0) {
    timer = new Task((status) => {
      if (status !== TaskStatus.RUN_READY) return;
      timeout.abort(
        new WebSocketHandshakeError(
          WebSocketHandshakeErrors.HANDSHAKE_TIMEOUT,
          `no response to the extended CONNECT within ${timeoutMs} ms`,
        ),
      );
    }, 'websocket-http2-handshake-timeout');
    channel.scheduleTaskAfter(timer, timeoutMs);
  }
  let socket: WebSocket;
  try {
    const { origin, headers } = http2RequestFields(request.fields);
    socket = await connectWebSocketOverHttp2(session, request.target, {
      protocols: request.protocols,
      perMessageDeflate: request.perMessageDeflate ?? false,
      ...(origin !== undefined ? { origin } : {}),
      headers,
      signal: timeout.signal,
      connection: request.connection,
    });
  } finally {
    if (timer !== null) channel.unscheduleTask(timer);
  }
  void socket.closed.then(() => session.close());
  return socket;
}

/**
 * The caller's fields as HTTP/2 wants them (RFC 9113 §8.2): lower-case names, connection-specific
 * fields left out; `origin` apart, since the handshake writes it (RFC 6454 §7.3 allows one).
 */
function http2RequestFields(fields: Http1Fields): { origin: string | undefined; headers: Record<string, string[]> } {
  let origin: string | undefined;
  const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    const value = fields[i + 1];
    if (CONNECTION_SPECIFIC_FIELDS.has(name) || (name === 'te' && value.trim().toLowerCase() !== 'trailers')) continue;
    if (name === 'origin') origin = value;
    else (headers[name] ??= []).push(value);
  }
  return { origin, headers };
}
