/**
 * The opening handshake of WebSocket over HTTP/2 (RFC 8441 §5) as pure functions over flat header
 * lists (`[name0, value0, …]`, as the HTTP/2 connection gives and takes them): which requests are
 * extended CONNECTs for a WebSocket, a server's check of one, the header list a client sends, and
 * the client's check of the response.
 *
 * RFC 8441 replaces the GET-and-101 of RFC 6455 with `:method CONNECT` and `:protocol websocket`
 * answered by 200: no `Sec-WebSocket-Key` and no `Sec-WebSocket-Accept` (the `:protocol`
 * pseudo-header field supersedes them), no `Connection` or `Upgrade` (HTTP/2 forbids them; the
 * HTTP/2 layer resets a request that has them, RFC 9113 §8.2.2), and `Sec-WebSocket-Version`,
 * `Sec-WebSocket-Protocol`, `Sec-WebSocket-Extensions` and `Origin` as RFC 6455 defines them.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import {
  WebSocketEncodeErrors,
  WebSocketHandshakeError,
  WebSocketHttp2Errors,
  WebSocketUnexpectedStatusError,
} from '../errors.js';
import {
  WEBSOCKET_VERSION,
  checkWebSocketVersion,
  joined,
  readOffer,
  readResponseChoices,
  type HandshakeHeaders,
  type UpgradeResponse,
} from './handshake.js';

/** The `:protocol` value of a WebSocket's extended CONNECT (RFC 8441 §5: the upgrade token of RFC 6455). */
export const WEBSOCKET_CONNECT_PROTOCOL = 'websocket';

/** A server's view of a valid WebSocket extended CONNECT, as {@link validateExtendedConnectRequest} reads it. */
export interface ExtendedConnectRequest {
  /** `:scheme`: `http` (a `ws:` URI) or `https` (`wss:`). */
  readonly scheme: string;
  /** `:path`: the path and query of the WebSocket URI. */
  readonly path: string;
  /** `:authority`: the host (and port) of the WebSocket URI. */
  readonly authority: string;
  /** `origin`, when the client sent one. */
  readonly origin: string | undefined;
  /** The regular header fields keyed by name (repeated fields as arrays of their lines). */
  readonly headers: HandshakeHeaders;
  /** The subprotocols offered, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** The `sec-websocket-extensions` value (lines joined), or undefined; it parses. */
  readonly extensions: string | undefined;
}

/** Where a client's extended CONNECT goes. */
export interface ExtendedConnectTarget {
  /** `http` for `ws:`, `https` for `wss:` (RFC 8441 §5). */
  readonly scheme: string;
  /** The host and port. */
  readonly authority: string;
  /** The path and query, starting with `/`. */
  readonly path: string;
}

/** What a client offers in its extended CONNECT. */
export interface ExtendedConnectOffer {
  /** Subprotocols, in order of preference (distinct tokens). */
  readonly protocols?: readonly string[];
  /** A `sec-websocket-extensions` value (e.g. from `offerPerMessageDeflate`). */
  readonly extensions?: string;
  /** An `origin` field. */
  readonly origin?: string;
  /**
   * More header fields (lower-cased; an array sends one field line each; the WebSocket and
   * pseudo-header fields are refused).
   */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether a request's header list is an extended CONNECT asking for a WebSocket: `:method`
 * CONNECT with `:protocol` `websocket` (compared without case, as upgrade tokens are).
 */
export function isWebSocketConnect(fields: readonly string[]): boolean {
  if (!isHeaderList(fields)) return false;
  let method: string | undefined;
  let protocol: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name.charCodeAt(0) !== 0x3a) break; // pseudo-header fields come first (RFC 9113 §8.3)
    if (name === ':method') method = fields[i + 1];
    else if (name === ':protocol') protocol = fields[i + 1];
  }
  return method === 'CONNECT' && protocol !== undefined && protocol.toLowerCase() === WEBSOCKET_CONNECT_PROTOCOL;
}

/**
 * A server's check of a WebSocket extended CONNECT (RFC 8441 §5, with RFC 6455 §4.2.1 for the
 * WebSocket fields), given the request's header list (the HTTP/2 layer already checked RFC 9113
 * §8 and RFC 8441 §4: all four pseudo-header fields, no `connection` or `upgrade`) and whether the
 * request ended its stream. Throws a {@link WebSocketHandshakeError} whose `status` is the answer:
 * `WEBSOCKET_INVALID_EXTENDED_CONNECT` (400) for a `:scheme` other than `http`/`https` or an ended
 * stream, `WEBSOCKET_UNSUPPORTED_VERSION` (426, with `sec-websocket-version: 13`),
 * `WEBSOCKET_INVALID_SUBPROTOCOL`, `WEBSOCKET_INVALID_EXTENSIONS` (400). `sec-websocket-key` is
 * ignored (RFC 8441 §5).
 */
export function validateExtendedConnectRequest(
  fields: readonly string[],
  isEndStream: boolean,
): ExtendedConnectRequest {
  if (!isHeaderList(fields)) throw invalid('the request fields are a flat list of strings');
  let scheme = '';
  let path = '';
  let authority = '';
  const headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name === ':scheme') scheme = value;
    else if (name === ':path') path = value;
    else if (name === ':authority') authority = value;
    else if (name.charCodeAt(0) !== 0x3a) addField(headers, name, value);
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new WebSocketHandshakeError(
      WebSocketHttp2Errors.INVALID_EXTENDED_CONNECT,
      `:scheme is ${JSON.stringify(scheme)}, not http or https (RFC 8441 §5)`,
    );
  }
  if (isEndStream) {
    throw new WebSocketHandshakeError(
      WebSocketHttp2Errors.INVALID_EXTENDED_CONNECT,
      'the extended CONNECT ended its stream: no WebSocket can run on it',
    );
  }
  checkWebSocketVersion(headers);
  const { protocols, extensions } = readOffer(headers);
  return { scheme, path, authority, origin: joined(headers.origin), headers, protocols, extensions };
}

/**
 * The header list of a client's WebSocket extended CONNECT (RFC 8441 §5): `:method` CONNECT,
 * `:protocol` websocket, `:scheme`, `:path`, `:authority`, `sec-websocket-version: 13`, then the
 * offered subprotocols, extensions, origin and other fields. Throws `WEBSOCKET_INVALID_ARGUMENT`
 * for subprotocols that are not distinct tokens, a path not starting with `/`, or a field the
 * handshake sets itself.
 */
export function extendedConnectRequestHeaders(
  target: ExtendedConnectTarget,
  offer: ExtendedConnectOffer = {},
): string[] {
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof target.scheme !== 'string' ||
    typeof target.authority !== 'string'
  ) {
    throw invalid('the target is { scheme, authority, path } of strings');
  }
  if (typeof offer !== 'object' || offer === null) throw invalid('the offer is an object');
  if (typeof target.path !== 'string' || target.path.charCodeAt(0) !== 0x2f) {
    throw invalid(`the path ${JSON.stringify(target.path)} does not start with /`);
  }
  const fields = [
    ':method',
    'CONNECT',
    ':protocol',
    WEBSOCKET_CONNECT_PROTOCOL,
    ':scheme',
    target.scheme,
    ':path',
    target.path,
    ':authority',
    target.authority,
    'sec-websocket-version',
    WEBSOCKET_VERSION,
  ];
  const protocols = offer.protocols ?? [];
  if (!Array.isArray(protocols)) throw invalid('protocols is an array of tokens');
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !TOKEN.test(protocol))
      throw invalid(`the subprotocol ${String(protocol)} is not a token`);
  }
  if (new Set(protocols).size !== protocols.length) throw invalid('a subprotocol is offered twice');
  if (protocols.length > 0) fields.push('sec-websocket-protocol', protocols.join(', '));
  if (offer.extensions !== undefined && typeof offer.extensions !== 'string') throw invalid('extensions is a string');
  if (offer.extensions !== undefined && offer.extensions !== '')
    fields.push('sec-websocket-extensions', offer.extensions);
  if (offer.origin !== undefined && typeof offer.origin !== 'string') throw invalid('origin is a string');
  if (offer.origin !== undefined) fields.push('origin', offer.origin);
  const extra = offer.headers ?? {};
  if (typeof extra !== 'object' || extra === null) throw invalid('headers is an object of strings');
  for (const [rawName, value] of Object.entries(extra)) {
    const name = rawName.toLowerCase();
    if (name.charCodeAt(0) === 0x3a || name.startsWith('sec-websocket-') || name === 'origin') {
      throw invalid(`the handshake sets ${name} itself`);
    }
    const values: readonly unknown[] = Array.isArray(value) ? (value as readonly unknown[]) : [value];
    for (const line of values) {
      if (typeof line !== 'string') throw invalid(`the header ${name} is not a string or an array of strings`);
      fields.push(name, line);
    }
  }
  return fields;
}

/**
 * A client's check of the response to its extended CONNECT (RFC 8441 §5): status 200 — any other
 * is a {@link WebSocketUnexpectedStatusError} (`WEBSOCKET_UNEXPECTED_STATUS`) with the status and
 * fields — then, as RFC 6455 §4.1 has it, only extensions we offered and at most one subprotocol
 * we offered (`WEBSOCKET_UNEXPECTED_EXTENSION`, `WEBSOCKET_INVALID_EXTENSIONS`,
 * `WEBSOCKET_UNEXPECTED_SUBPROTOCOL`). `fields` is the response's header list.
 */
export function validateExtendedConnectResponse(
  fields: readonly string[],
  offer: { readonly protocols?: readonly string[]; readonly extensions?: readonly string[] },
): UpgradeResponse {
  if (!isHeaderList(fields)) throw invalid('the response fields are a flat list of strings');
  if (typeof offer !== 'object' || offer === null) throw invalid('the offer is an object');
  if (![offer.protocols, offer.extensions].every((list) => list === undefined || isStringList(list))) {
    throw invalid('the offer holds lists of strings');
  }
  let status = 0;
  const headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name === ':status') status = Number(fields[i + 1]);
    else if (name.charCodeAt(0) !== 0x3a) addField(headers, name, fields[i + 1]);
  }
  if (status !== 200) {
    throw new WebSocketUnexpectedStatusError(
      status,
      headers,
      `the server answered the extended CONNECT with ${status}, not 200 (RFC 8441 §5)`,
    );
  }
  return readResponseChoices(headers, offer);
}

/** A flat `[name, value, …]` list of strings. */
function isHeaderList(fields: unknown): fields is readonly string[] {
  return isStringList(fields) && fields.length % 2 === 0;
}

function isStringList(list: unknown): list is readonly string[] {
  return Array.isArray(list) && list.every((item) => typeof item === 'string');
}

/** Adds a field line: a repeated field becomes the array of its lines. */
function addField(headers: Record<string, string | string[]>, name: string, value: string): void {
  const previous = headers[name];
  if (previous === undefined) headers[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else headers[name] = [previous, value];
}

function invalid(message: string): SluiceError {
  return new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, message);
}
