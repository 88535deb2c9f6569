/**
 * The client side of WebSocket over HTTP/2 (RFC 8441): on an HTTP/2 session whose server enabled
 * extended CONNECT, one stream opens a WebSocket — `:method CONNECT` with `:protocol websocket`,
 * answered by 200 — and runs the codec (client role: frames masked) over it through an
 * {@link Http2StreamChannelAdapter}.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { ErrorCode } from '../../http2/wire/constants.js';
import { Http2SessionErrors } from '../../http2/errors.js';
import type { Http2Headers } from '../../http2/connection/connection-options.js';
import type { Http2Stream, Http2StreamFailure, Http2StreamHandler } from '../../http2/connection/http2-stream.js';
import type { Http2Session } from '../../http2/api/session.js';
import { Http2StreamChannelAdapter } from '../../http2/api/stream-channel.js';
import {
  PERMESSAGE_DEFLATE,
  acceptPerMessageDeflateResponse,
  offerPerMessageDeflate,
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
} from '../wire/deflate-negotiation.js';
import { extendedConnectRequestHeaders, validateExtendedConnectResponse } from '../wire/http2-handshake.js';
import { WebSocketEncodeErrors, WebSocketHttp2Errors, WebSocketHandshakeError } from '../errors.js';
import { serveWebSocketChannel, type WebSocketAcceptOptions } from './accept.js';
import type { WebSocket } from './websocket.js';

/** Options of {@link connectWebSocketOverHttp2}. */
export interface WebSocketHttp2ConnectOptions {
  /** Subprotocols to offer, in order of preference (`sec-websocket-protocol`); none by default. */
  protocols?: readonly string[];
  /** Offer permessage-deflate (RFC 7692) with these parameters; not offered by default (`false`). */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /** An `origin` field (browsers send one; RFC 6455 §10.2). */
  origin?: string;
  /**
   * More request header fields (cookies, authorization…; an array sends one field line each); the
   * handshake's own are refused.
   */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Cancels the handshake: the stream is reset (CANCEL) and the promise rejects with the reason. */
  signal?: AbortSignal;
  /** Options of the WebSocket connection (message size limit, keep-alive, close timeout…). */
  connection?: WebSocketAcceptOptions;
}

/**
 * Opens a WebSocket on one stream of an HTTP/2 session (RFC 8441). `target` is the path and query
 * (`/chat?room=1`) on the session's origin, or a `ws:`/`wss:` (or `http:`/`https:`) URL whose
 * scheme matches the session's (`ws:` goes over `http`, `wss:` over `https`, RFC 8441 §5) and
 * whose host becomes `:authority`.
 *
 * It waits for the server's SETTINGS first (RFC 8441 §3: a client MUST NOT send an extended
 * CONNECT before the server enabled it) and rejects with `WEBSOCKET_EXTENDED_CONNECT_DISABLED`,
 * having sent nothing, when the server did not — fall back to the HTTP/1.1 upgrade then. Otherwise
 * it sends `:method CONNECT`, `:protocol websocket`, `:scheme`, `:path`, `:authority`,
 * `sec-websocket-version: 13` and the offers, and resolves with the {@link WebSocket} once a 200
 * arrives whose subprotocol and extensions fit the offer. Rejects with a
 * {@link WebSocketUnexpectedStatusError} (`WEBSOCKET_UNEXPECTED_STATUS`, with the status) for any
 * other status, `WEBSOCKET_UNEXPECTED_SUBPROTOCOL` / `WEBSOCKET_UNEXPECTED_EXTENSION` for a 200
 * that breaks the offer (the stream is then reset with CANCEL), `HTTP2_STREAM_ENDED` for a 200 that
 * ends the stream, the stream's or connection's error if it fails first (a server that does not
 * know extended CONNECT resets with PROTOCOL_ERROR), `signal.reason` when aborted, and
 * `WEBSOCKET_INVALID_ARGUMENT` for unusable arguments.
 *
 * @example
 * ```ts
 * const session = await connect('http://127.0.0.1:8080');
 * const socket = await connectWebSocketOverHttp2(session, '/chat', { protocols: ['chat'] });
 * await socket.send('hello');
 * for await (const message of socket) console.log(message);
 * ```
 */
export async function connectWebSocketOverHttp2(
  session: Http2Session,
  target: string | URL,
  options: WebSocketHttp2ConnectOptions = {},
): Promise<WebSocket> {
  const where = resolveTarget(session, target);
  const deflate = options.perMessageDeflate ?? false;
  const fields = extendedConnectRequestHeaders(where, {
    ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
    ...(deflate !== false ? { extensions: offerPerMessageDeflate(deflate) } : {}),
    ...(options.origin !== undefined ? { origin: options.origin } : {}),
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
  });
  const signal = options.signal;
  signal?.throwIfAborted();
  const settings = await abortable(session.remoteSettings(), signal);
  if (!settings.enableConnectProtocol) {
    throw new WebSocketHandshakeError(
      WebSocketHttp2Errors.EXTENDED_CONNECT_DISABLED,
      'the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3): use the HTTP/1.1 upgrade',
    );
  }
  signal?.throwIfAborted();
  return new Promise<WebSocket>((resolve, reject) => {
    const handshake = new ClientHandshake(options, deflate, resolve, reject);
    const stream = session.connection.request(fields, { handler: handshake, isManualWindow: true });
    handshake.start(stream);
  });
}

/**
 * The stream's handler until the response: turns a 200 into a running WebSocket (the adapter
 * takes the stream over in `onResponse`, before any DATA), anything else into a rejection.
 * `resolve` and `reject` are called on the loop, once between them: the simulator's WebSocket
 * workload drives it with plain callbacks (a virtual loop runs no promise continuations).
 * @internal
 */
export class ClientHandshake implements Http2StreamHandler {
  private stream: Http2Stream | null = null;
  private isSettled = false;
  private readonly onAbort = (): void => this.fail(abortReason(this.options.signal!));

  constructor(
    private readonly options: WebSocketHttp2ConnectOptions,
    private readonly deflate: PerMessageDeflateOptions | false,
    private readonly resolve: (socket: WebSocket) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(stream: Http2Stream): void {
    this.stream = stream;
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onResponse(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    if (this.isSettled) return;
    let protocol: string | undefined;
    let params: PerMessageDeflateParams | null = null;
    try {
      const choices = validateExtendedConnectResponse(headers, {
        protocols: this.options.protocols ?? [],
        extensions: this.deflate !== false ? [PERMESSAGE_DEFLATE] : [],
      });
      protocol = choices.protocol;
      if (this.deflate !== false) params = acceptPerMessageDeflateResponse(choices.extensions, this.deflate);
      if (isEndStream)
        throw new SluiceError(Http2SessionErrors.STREAM_ENDED, 'the server ended the stream with its 200');
    } catch (error) {
      this.fail(error);
      return;
    }
    this.settle();
    const adapter = new Http2StreamChannelAdapter(stream);
    const socket = serveWebSocketChannel(
      adapter.openChannel(),
      { role: 'client', perMessageDeflate: params, ...(protocol !== undefined ? { protocol } : {}) },
      undefined,
      this.options.connection ?? {},
    );
    this.resolve(socket);
  }

  onClose(_stream: Http2Stream, error: Http2StreamFailure | null): void {
    if (this.isSettled) return;
    this.settle();
    this.reject(error ?? new SluiceError(Http2SessionErrors.STREAM_ENDED, 'the stream closed without a response'));
  }

  /** Rejects and resets the stream (CANCEL): nothing more is wanted from it. */
  private fail(error: unknown): void {
    if (this.isSettled) return;
    this.settle();
    this.reject(error);
    const stream = this.stream;
    if (stream !== null && !stream.isClosed) stream.reset(ErrorCode.CANCEL);
  }

  private settle(): void {
    this.isSettled = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** `:scheme`, `:authority` and `:path` for `target` on `session`; `WEBSOCKET_INVALID_ARGUMENT` when they cannot be. */
function resolveTarget(
  session: Http2Session,
  target: string | URL,
): { scheme: string; authority: string; path: string } {
  if (typeof target === 'string' && target.startsWith('/')) {
    return { scheme: session.scheme, authority: session.authority, path: target };
  }
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    throw invalid(`${String(target)} is neither a path starting with / nor a URL`);
  }
  if (!(url instanceof URL)) throw invalid('the target is a path or a URL');
  const scheme = { 'ws:': 'http', 'http:': 'http', 'wss:': 'https', 'https:': 'https' }[url.protocol];
  if (scheme === undefined) throw invalid(`the scheme ${url.protocol} is not ws:, wss:, http: or https:`);
  if (scheme !== session.scheme) {
    throw invalid(`a ${url.protocol} URL cannot go over a session whose scheme is ${session.scheme} (RFC 8441 §5)`);
  }
  return { scheme, authority: url.host, path: `${url.pathname}${url.search}` };
}

/** `promise`, or a rejection with the signal's reason once it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Why `signal` aborted: its reason, or `HTTP2_ABORTED` when it has none. */
function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new SluiceError(Http2SessionErrors.ABORTED);
}

function invalid(message: string): SluiceError {
  return new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, message);
}
