/**
 * The WebSocket client: `connectWebSocket(url, options)` opens a connection to a `ws://` or
 * `wss://` URL, runs the opening handshake (RFC 6455 §4.1) and resolves with a {@link WebSocket}.
 *
 * It is built in two steps so each HTTP version is one function beside the other:
 * {@link connectWebSocket} checks the URL and options once and turns them into a
 * {@link WebSocketClientRequest} (what to connect to, what to offer, the caller's header
 * fields); `connectOverHttp1` (connect-http1.ts) runs that request as an HTTP/1.1 upgrade, and
 * `connectPreferringHttp2` (connect-http2.ts) as an RFC 8441 extended CONNECT when ALPN picks h2
 * and the server allows it, as an HTTP/1.1 upgrade otherwise.
 *
 * @module
 */
import { IoErrors, SluiceError } from '../../../lib/index.js';
import { checkOptionalOptions, describeValue } from '../../../lib/argument-checks.js';
import { parseUrl } from '../../../lib/url.js';
import type { ConnectHttp1Options } from '../../http1/api/bootstrap.js';
import { isFieldValue, isToken, type Http1Fields } from '../../http1/wire/message-encoder.js';
import { WebSocketConnection } from '../connection/websocket-connection.js';
import { WebSocketEncodeErrors, WebSocketHandshakeErrors } from '../errors.js';
import { offerPerMessageDeflate, type PerMessageDeflateOptions } from '../wire/deflate-negotiation.js';
import type { WebSocketAcceptOptions } from './accept.js';
import { connectOverHttp1 } from './connect-http1.js';
import { connectPreferringHttp2 } from './connect-http2.js';
import type { WebSocket } from './websocket.js';

/** Options of {@link connectWebSocket}; defaults are in {@link WEBSOCKET_CONNECT_DEFAULTS}. */
export interface WebSocketConnectOptions extends Omit<ConnectHttp1Options, 'host' | 'port' | 'path' | 'http1'> {
  /** Subprotocols to offer (`Sec-WebSocket-Protocol`), most preferred first; distinct tokens. */
  protocols?: readonly string[];
  /**
   * Extra request header fields, e.g. `Origin`, `Authorization`, `Cookie` (an array value sends
   * one field line each). `Host` replaces the URL's. The fields of the handshake itself
   * (`Upgrade`, `Connection`, `Sec-WebSocket-*`) and framing fields are refused: use `protocols`
   * and `perMessageDeflate`.
   */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Offer permessage-deflate (RFC 7692): `true` (the default, as `ws` and browsers do) offers
   * `permessage-deflate; client_max_window_bits`; options shape the offer; `false` offers nothing.
   * Whether the server accepted is {@link WebSocket.extensions}.
   */
  perMessageDeflate?: PerMessageDeflateOptions | boolean;
  /** Options of the WebSocket connection once open (message size, windows, close timeout, keep-alive, …). */
  connection?: WebSocketAcceptOptions;
  /**
   * How long the server may take to answer the upgrade request, in ms, counted once the
   * connection is up (TCP connect and TLS have their own timeouts: `socketOptions.connectTimeoutMs`,
   * `tls.negotiationTimeoutMs`); 0 waits forever. `WEBSOCKET_HANDSHAKE_TIMEOUT` when it passes.
   */
  handshakeTimeoutMs?: number;
  /**
   * Allow WebSocket over HTTP/2 (RFC 8441) for `wss://`; default false (HTTP/1.1 only). When true,
   * the TLS connection offers ALPN `h2` and `http/1.1`: if the server picks h2 and its SETTINGS
   * enable extended CONNECT, the WebSocket runs on a stream of an HTTP/2 session of its own
   * (closed with it); if its SETTINGS do not, that session is closed and a second connection runs
   * the HTTP/1.1 upgrade (as browsers do); if the server picks http/1.1, the upgrade runs on the
   * same connection. `ws://` always upgrades over HTTP/1.1: RFC 8441 needs ALPN to know the server
   * speaks HTTP/2, and no h2c with prior knowledge is tried.
   */
  http2?: boolean;
}

/** The defaults of {@link WebSocketConnectOptions}. */
export const WEBSOCKET_CONNECT_DEFAULTS = Object.freeze({
  /** permessage-deflate is offered. */
  perMessageDeflate: true,
  /** 10 s for the server's answer to the upgrade request. */
  handshakeTimeoutMs: 10_000,
  /** HTTP/1.1 only. */
  http2: false,
});

/**
 * What {@link connectWebSocket} asks of a server, checked and resolved once, whichever HTTP
 * version carries it.
 */
export interface WebSocketClientRequest {
  /** `wss:`/`https:`: over TLS. */
  readonly isSecure: boolean;
  /** The host to connect to (an IPv6 literal without brackets). */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /** The `Host` field (HTTP/1.1) or `:authority` (HTTP/2): the URL's, or the caller's `Host`. */
  readonly authority: string;
  /** The request target: the URL's path and query. */
  readonly target: string;
  /** The subprotocols offered, most preferred first. */
  readonly protocols: readonly string[];
  /** The permessage-deflate offer, or null for none. */
  readonly perMessageDeflate: PerMessageDeflateOptions | null;
  /** The caller's header fields (and `Authorization` from the URL's credentials), flat; no `Host`. */
  readonly fields: Http1Fields;
  /** The handshake timeout in ms (0: none). */
  readonly handshakeTimeoutMs: number;
  /** Options of the connection once open. */
  readonly connection: WebSocketAcceptOptions;
}

/**
 * Connects to a WebSocket server and resolves with the open {@link WebSocket} once the server
 * accepted the upgrade (RFC 6455 §4.1) — over TCP for `ws://`, over TLS for `wss://` (`http://`
 * and `https://` are taken as the same), ALPN `http/1.1`; or, with `http2: true` and a server that
 * picks h2 and allows it, over an HTTP/2 extended CONNECT answered by 200 (RFC 8441; see
 * {@link WebSocketConnectOptions.http2}). Nothing is sent on the WebSocket before the server's 101
 * (or 200).
 *
 * Rejects, with the connection closed, with: `IO_INVALID_URL` (not a URL, or one with a fragment,
 * RFC 6455 §3), `WEBSOCKET_UNSUPPORTED_SCHEME`, `WEBSOCKET_INVALID_ARGUMENT` (bad options); what
 * connecting reports (`IO_CONNECTION_REFUSED`, `IO_CONNECT_TIMEOUT`, `IO_DNS_FAILURE`,
 * `TLS_CERTIFICATE_UNTRUSTED`, `TLS_ALPN_MISMATCH`, …); `WEBSOCKET_UNEXPECTED_STATUS` when the
 * server answers other than 101 (200 over HTTP/2; the error's `response` has its status and
 * headers);
 * `WEBSOCKET_INVALID_ACCEPT`, `WEBSOCKET_MISSING_UPGRADE`, `WEBSOCKET_UNEXPECTED_SUBPROTOCOL`,
 * `WEBSOCKET_UNEXPECTED_EXTENSION` for a 101 that breaks the handshake; an `HTTP1_*` parse error
 * for a response that is not HTTP/1.1; `WEBSOCKET_HANDSHAKE_TIMEOUT`; and
 * `WEBSOCKET_HANDSHAKE_CLOSED` when the server closes before answering. Over HTTP/2 a 200 that
 * breaks the offer fails as a 101 would, and a reset stream or a failed connection rejects with
 * its `HTTP2_*` error.
 *
 * @example
 * ```ts
 * const ws = await connectWebSocket('ws://127.0.0.1:8080/chat', { protocols: ['chat.v1'] });
 * await ws.send('hello');
 * for await (const message of ws) console.log(message);
 * ```
 */
export async function connectWebSocket(url: string | URL, options: WebSocketConnectOptions = {}): Promise<WebSocket> {
  const request = clientRequest(url, options);
  // RFC 8441 needs to know the server speaks HTTP/2 before it sends anything, which only ALPN
  // tells: over TCP the request is an HTTP/1.1 upgrade whatever `http2` says.
  if (request.isSecure && options.http2 === true) return connectPreferringHttp2(request, options);
  return connectOverHttp1(request, options);
}

// ---------------------------------------------------------------- checking what the caller gave

/** Fields the handshake writes itself, or that would frame a body the upgrade request has not. */
const RESERVED_FIELDS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

function invalid(message: string): SluiceError {
  return new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, `connectWebSocket: ${message}`);
}

/** Checks the URL and options once, before anything connects, and resolves them. */
function clientRequest(url: unknown, options: unknown): WebSocketClientRequest {
  const target = parseUrl(url, 'connectWebSocket(url)');
  checkOptionalOptions(options, 'connectWebSocket(url, options)', WebSocketEncodeErrors.INVALID_ARGUMENT);
  const given = (options ?? {}) as Partial<Record<keyof WebSocketConnectOptions, unknown>>;
  const scheme = target.protocol;
  const isSecure = scheme === 'wss:' || scheme === 'https:';
  if (!isSecure && scheme !== 'ws:' && scheme !== 'http:') {
    throw new SluiceError(
      WebSocketHandshakeErrors.UNSUPPORTED_SCHEME,
      `connectWebSocket(url): the scheme is ${JSON.stringify(scheme)}, not ws: or wss:`,
    );
  }
  // RFC 6455 §3: fragment identifiers MUST NOT be used on WebSocket URIs.
  if (target.hash !== '' || target.href.endsWith('#')) {
    throw new SluiceError(IoErrors.INVALID_URL, 'connectWebSocket(url): a WebSocket URL has no fragment (RFC 6455 §3)');
  }
  if (target.hostname === '') throw new SluiceError(IoErrors.INVALID_URL, 'connectWebSocket(url): no host');
  const protocols = checkProtocols(given.protocols);
  const fields: string[] = [];
  let authority = target.host;
  for (const [name, value] of checkHeaders(given.headers)) {
    if (name.toLowerCase() === 'host') authority = value;
    else fields.push(name, value);
  }
  const origins = fields.filter((field, index) => index % 2 === 0 && field.toLowerCase() === 'origin').length;
  // RFC 6454 §7.3: a user agent MUST NOT send more than one Origin field.
  if (origins > 1) throw invalid('one Origin field at most (RFC 6454 §7.3)');
  const hasAuthorization = fields.some((field, index) => index % 2 === 0 && field.toLowerCase() === 'authorization');
  if ((target.username !== '' || target.password !== '') && !hasAuthorization) {
    // As `ws` does: the URL's credentials as Basic authentication (RFC 7617).
    const credentials = `${decodeCredential(target.username)}:${decodeCredential(target.password)}`;
    fields.push('Authorization', `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`);
  }
  const handshakeTimeoutMs = given.handshakeTimeoutMs ?? WEBSOCKET_CONNECT_DEFAULTS.handshakeTimeoutMs;
  if (typeof handshakeTimeoutMs !== 'number' || !(handshakeTimeoutMs >= 0) || !Number.isFinite(handshakeTimeoutMs)) {
    throw invalid(`handshakeTimeoutMs is a number of ms (0 or more), not ${describeValue(handshakeTimeoutMs)}`);
  }
  if (given.http2 !== undefined && typeof given.http2 !== 'boolean') {
    throw invalid(`http2 is a boolean, not ${describeValue(given.http2)}`);
  }
  if (given.tls !== undefined && (typeof given.tls !== 'object' || given.tls === null)) {
    throw invalid(`tls is an options object, not ${describeValue(given.tls)}`);
  }
  if (given.pipeline !== undefined && typeof given.pipeline !== 'function') {
    throw invalid(`pipeline is a function, not ${describeValue(given.pipeline)}`);
  }
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  return {
    isSecure,
    host,
    port: target.port === '' ? (isSecure ? 443 : 80) : Number(target.port),
    authority,
    target: `${target.pathname}${target.search}`,
    protocols,
    perMessageDeflate: checkPerMessageDeflate(given.perMessageDeflate),
    fields,
    handshakeTimeoutMs,
    connection: checkConnectionOptions(given.connection),
  };
}

/** `protocols`: distinct tokens (RFC 6455 §4.1). */
function checkProtocols(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`protocols is an array of tokens, not ${describeValue(value)}`);
  const protocols: string[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !isToken(item)) {
      throw invalid(`a subprotocol is a token (RFC 6455 §4.1), not ${describeValue(item)}`);
    }
    if (protocols.includes(item)) throw invalid(`the subprotocol ${JSON.stringify(item)} is offered twice`);
    protocols.push(item);
  }
  return protocols;
}

/** `headers`: an object of valid names and values, none the handshake writes itself. */
function checkHeaders(value: unknown): [string, string][] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`headers is an object of names and values, not ${describeValue(value)}`);
  }
  const pairs: [string, string][] = [];
  for (const [name, raw] of Object.entries(value)) {
    if (!isToken(name)) throw invalid(`the header name ${JSON.stringify(name)} is not a token`);
    if (RESERVED_FIELDS.has(name.toLowerCase())) {
      throw invalid(`${name} is the handshake's own field: use the protocols and perMessageDeflate options`);
    }
    const values: unknown[] = Array.isArray(raw) ? (raw as unknown[]) : [raw];
    for (const item of values) {
      if (typeof item !== 'string' || !isFieldValue(item)) {
        throw invalid(`the value of ${name} is a string without CR, LF, NUL or characters above U+00FF`);
      }
      pairs.push([name, item]);
    }
  }
  return pairs;
}

/** `perMessageDeflate`: a boolean or options (checked by building the offer). */
function checkPerMessageDeflate(value: unknown): PerMessageDeflateOptions | null {
  const chosen = value ?? WEBSOCKET_CONNECT_DEFAULTS.perMessageDeflate;
  if (chosen === false) return null;
  if (chosen === true) return {};
  if (typeof chosen !== 'object' || chosen === null || Array.isArray(chosen)) {
    throw invalid(`perMessageDeflate is a boolean or options, not ${describeValue(chosen)}`);
  }
  const options = { ...(chosen as PerMessageDeflateOptions) };
  offerPerMessageDeflate(options); // throws WEBSOCKET_INVALID_ARGUMENT on bad window bits
  return options;
}

/**
 * `connection`: the connection's own constructor is where its options are checked; building one
 * (never installed) checks them now, before connecting, rather than after the handshake.
 */
function checkConnectionOptions(value: unknown): WebSocketAcceptOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`connection is an options object, not ${describeValue(value)}`);
  }
  const options = { ...(value as WebSocketAcceptOptions) };
  new WebSocketConnection({ ...options, role: 'client' }).destroy();
  return options;
}

/** A URL's user name or password, percent-decoded (as given when its escapes are not valid). */
function decodeCredential(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
