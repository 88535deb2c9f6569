/**
 * The server side of WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with `:protocol
 * websocket` is checked, shown to the accept hook, answered with 200 (or the refusal), and its
 * stream becomes a channel — {@link Http2StreamChannelAdapter} first, {@link WebSocketConnection}
 * last — whose {@link WebSocket} goes to `onWebSocket`.
 *
 * @module
 */
import { log, LogLevel, SluiceError } from '../../../lib/index.js';
import { ErrorCode } from '../../http2/wire/constants.js';
import { Http2Stream, StreamState } from '../../http2/connection/http2-stream.js';
import type { Http2Headers } from '../../http2/connection/connection-options.js';
import { ServerStream } from '../../http2/api/server.js';
import { Http2StreamChannelAdapter } from '../../http2/api/stream-channel.js';
import { negotiatePerMessageDeflate, type PerMessageDeflateParams } from '../wire/deflate-negotiation.js';
import { WEBSOCKET_VERSION } from '../wire/handshake.js';
import { isWebSocketConnect, validateExtendedConnectRequest } from '../wire/http2-handshake.js';
import { WebSocketEncodeErrors, WebSocketHandshakeError, WebSocketHandshakeErrors } from '../errors.js';
import { WebSocketConnection } from '../connection/websocket-connection.js';
import { serveWebSocketChannel } from './accept.js';
import type { WebSocketAcceptDecision, WebSocketRequest, WebSocketServerOptions } from './server-hooks.js';

/** Options objects already checked (a server passes one object for every stream). */
const checkedOptions = new WeakSet<WebSocketServerOptions>();

/**
 * Serves a request of the convenient HTTP/2 server (`createServer` of `sluice/http2`, or the
 * one-API server) as a WebSocket when it is an RFC 8441 extended CONNECT with `:protocol
 * websocket`, and returns true; returns false, touching nothing, for any other request. Call it
 * first thing in the request handler (before the body is read). The server's connections need
 * `enableConnectProtocol: true` in their `http2` options, or clients never send such a request.
 * After true the stream belongs to the WebSocket: do not use the {@link ServerStream} any more
 * (its `closed` still settles when the stream closes). See {@link acceptWebSocketOverHttp2}.
 *
 * @example
 * ```ts
 * const server = createServer({ http2: { enableConnectProtocol: true } }, (stream) => {
 *   if (handleWebSocketStream(stream, { onWebSocket: (socket) => void echo(socket) })) return;
 *   stream.respond(404);
 *   void stream.end();
 * });
 * ```
 */
export function handleWebSocketStream(stream: ServerStream, options: WebSocketServerOptions): boolean {
  if (!(stream instanceof ServerStream)) throw invalid('handleWebSocketStream(stream): a ServerStream');
  return acceptWebSocketOverHttp2(stream.http2Stream, stream.rawHeaders, options);
}

/**
 * The callback API's form of {@link handleWebSocketStream}: `stream` and `headers` as the
 * connection's `onStream` gives them. For a WebSocket extended CONNECT it returns true and:
 *
 * 1. checks the request (RFC 8441 §5; RFC 6455 §4.2.1 for the WebSocket fields) and refuses a bad
 *    one with 400, or 426 with `sec-websocket-version: 13` for a version other than 13;
 * 2. runs `options.acceptWebSocket` (if any) before anything is sent: a refusal is answered with
 *    its status (403 by default), a throw or rejection with 500;
 * 3. negotiates permessage-deflate when `options.perMessageDeflate` allows it;
 * 4. answers 200 (no `sec-websocket-accept`: RFC 8441 §5) with the chosen subprotocol and
 *    extension, runs the WebSocket (server role) over the stream and calls `options.onWebSocket`.
 *
 * A refusal ends the response and then resets the stream with NO_ERROR if the client is still
 * sending (RFC 9113 §8.1). A stream reset while the hook runs is dropped. Failures of the hook or
 * of `onWebSocket` are logged at WARN (subject `websocket`). Throws `WEBSOCKET_INVALID_ARGUMENT`
 * at once for options that are not usable.
 */
export function acceptWebSocketOverHttp2(
  stream: Http2Stream,
  headers: Http2Headers,
  options: WebSocketServerOptions,
): boolean {
  checkServerOptions(options);
  if (!(stream instanceof Http2Stream)) throw invalid('acceptWebSocketOverHttp2(stream): an Http2Stream');
  if (!isWebSocketConnect(headers)) return false;
  // Taken over now, so DATA, the end or a reset during an asynchronous hook are kept or seen.
  const adapter = new Http2StreamChannelAdapter(stream);
  let request: WebSocketRequest;
  try {
    const checked = validateExtendedConnectRequest(headers, stream.state === StreamState.HALF_CLOSED_REMOTE);
    request = {
      httpVersion: '2',
      path: checked.path,
      authority: checked.authority,
      origin: checked.origin,
      headers: checked.headers,
      protocols: checked.protocols,
      extensions: checked.extensions,
    };
  } catch (error) {
    if (!(error instanceof WebSocketHandshakeError)) throw error;
    const isVersion = error.code === WebSocketHandshakeErrors.UNSUPPORTED_VERSION.code;
    refuse(
      adapter,
      error.status,
      isVersion ? { 'sec-websocket-version': WEBSOCKET_VERSION } : undefined,
      error.message,
    );
    return true;
  }
  const hook = options.acceptWebSocket;
  if (hook === undefined) {
    openWebSocket(adapter, request, { accept: true }, options);
    return true;
  }
  let decision: WebSocketAcceptDecision | Promise<WebSocketAcceptDecision>;
  try {
    decision = hook(request);
  } catch (error) {
    failHook(adapter, error);
    return true;
  }
  if (decision instanceof Promise) {
    decision.then(
      (settled) => openWebSocket(adapter, request, settled, options),
      (error: unknown) => failHook(adapter, error),
    );
  } else {
    openWebSocket(adapter, request, decision, options);
  }
  return true;
}

/** Acts on the hook's decision: refuse, or answer 200 and run the WebSocket. */
function openWebSocket(
  adapter: Http2StreamChannelAdapter,
  request: WebSocketRequest,
  decision: WebSocketAcceptDecision,
  options: WebSocketServerOptions,
): void {
  const stream = adapter.stream;
  if (stream.isClosed) {
    adapter.discard(); // reset while the hook ran: nobody to answer
    return;
  }
  if (typeof decision !== 'object' || decision === null || typeof decision.accept !== 'boolean') {
    failHook(adapter, new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'acceptWebSocket returned no decision'));
    return;
  }
  if (!decision.accept) {
    const status = decision.status ?? 403;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      failHook(
        adapter,
        new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, `a refusal's status is 400–599, not ${status}`),
      );
      return;
    }
    refuse(adapter, status, decision.headers, decision.body);
    return;
  }
  let params: PerMessageDeflateParams | null = null;
  const fields = [':status', '200'];
  try {
    if (decision.protocol !== undefined) {
      if (!request.protocols.includes(decision.protocol)) {
        throw new SluiceError(
          WebSocketHandshakeErrors.UNEXPECTED_SUBPROTOCOL,
          `acceptWebSocket chose ${decision.protocol}, which the client did not offer`,
        );
      }
      fields.push('sec-websocket-protocol', decision.protocol);
    }
    if (options.perMessageDeflate !== undefined && options.perMessageDeflate !== false) {
      const negotiated = negotiatePerMessageDeflate(request.extensions, options.perMessageDeflate);
      if (negotiated !== null) {
        params = negotiated.params;
        fields.push('sec-websocket-extensions', negotiated.response);
      }
    }
    for (const [name, value] of Object.entries(decision.headers ?? {})) fields.push(name.toLowerCase(), value);
    // RFC 8441 §5: 200, not 101, and no sec-websocket-accept. Refused (HTTP2_INVALID_HEADERS)
    // before anything is sent when the hook's fields are not valid HTTP/2.
    stream.sendHeaders(fields);
  } catch (error) {
    failHook(adapter, error);
    return;
  }
  const channel = adapter.openChannel();
  const socket = serveWebSocketChannel(
    channel,
    {
      role: 'server',
      perMessageDeflate: params,
      ...(decision.protocol !== undefined ? { protocol: decision.protocol } : {}),
    },
    undefined,
    options.connection ?? {},
  );
  try {
    options.onWebSocket(socket, request);
  } catch (error) {
    warn(`onWebSocket threw: ${describe(error)}`);
    void socket.close(1011).catch(() => undefined);
  }
}

/** The hook (or what it chose) failed: 500, and a WARN line since nobody else will hear of it. */
function failHook(adapter: Http2StreamChannelAdapter, error: unknown): void {
  warn(`acceptWebSocket failed: ${describe(error)}`);
  refuse(adapter, 500, undefined, 'internal server error');
}

/**
 * Answers with `status` (text/plain `body`), ends the response, and resets the stream with
 * NO_ERROR if the client is still sending (RFC 9113 §8.1). Incoming DATA is dropped meanwhile.
 */
function refuse(
  adapter: Http2StreamChannelAdapter,
  status: number,
  headers: Readonly<Record<string, string>> | undefined,
  body: string | undefined,
): void {
  adapter.discard();
  const stream = adapter.stream;
  if (!stream.isWritable) return;
  const fields = [':status', String(status), 'content-type', 'text/plain; charset=utf-8'];
  for (const [name, value] of Object.entries(headers ?? {})) fields.push(name.toLowerCase(), value);
  try {
    stream.sendHeaders(fields);
  } catch {
    // The refusal's own fields are not valid HTTP/2: answer without them.
    stream.sendHeaders(fields.slice(0, 4));
  }
  if (body !== undefined && body !== '') stream.write(Buffer.from(`${body}\n`, 'utf8'));
  stream.end(undefined, (error) => {
    if (error === null && !stream.isClosed) stream.reset(ErrorCode.NO_ERROR);
  });
}

/** Throws `WEBSOCKET_INVALID_ARGUMENT` for options that cannot serve (checked once per object). */
function checkServerOptions(options: WebSocketServerOptions): void {
  if (checkedOptions.has(options)) return;
  if (typeof options !== 'object' || options === null) throw invalid('the WebSocket server options are an object');
  if (typeof options.onWebSocket !== 'function') throw invalid('onWebSocket is a function');
  if (options.acceptWebSocket !== undefined && typeof options.acceptWebSocket !== 'function') {
    throw invalid('acceptWebSocket is a function');
  }
  const deflate = options.perMessageDeflate;
  if (deflate !== undefined && deflate !== false) negotiatePerMessageDeflate(undefined, deflate); // checks the bits
  // The connection options, checked now rather than after a 200 was sent.
  new WebSocketConnection({ ...(options.connection ?? {}), role: 'server' }).destroy();
  checkedOptions.add(options);
}

function invalid(message: string): SluiceError {
  return new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, message);
}

function warn(message: string): void {
  if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'websocket', message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
