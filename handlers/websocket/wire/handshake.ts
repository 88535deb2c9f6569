/**
 * The opening handshake of RFC 6455 §4 as pure functions, no sockets: the accept value for a key,
 * a server's check of an upgrade request, the headers of its 101 response, and a client's check
 * of that response. The HTTP/1.1 connection layer calls them; so can any HTTP server.
 *
 * Headers are given as an object keyed by lower-case field name, a value being a string (field
 * lines already joined with `,`) or an array of the field lines, as `node:http` gives them.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';
import { parseExtensions } from './extension-header.js';
import { describeValue } from '../../../lib/argument-checks.js';
import { SluiceError } from '../../../lib/errors.js';
import {
  WebSocketEncodeErrors,
  WebSocketHandshakeError,
  WebSocketHandshakeErrors,
  type WebSocketHandshakeErrorDefinition,
} from '../errors.js';

/** Request or response headers keyed by lower-case name (as `node:http`'s `IncomingHttpHeaders`). */
export type HandshakeHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What a valid upgrade request asks for, as {@link validateUpgradeRequest} reads it. */
export interface UpgradeRequest {
  /** The `Sec-WebSocket-Key`, trimmed. */
  readonly key: string;
  /** The `Sec-WebSocket-Accept` value to answer with. */
  readonly accept: string;
  /** The subprotocols offered, in the client's order of preference (`Sec-WebSocket-Protocol`). */
  readonly protocols: readonly string[];
  /** The `Sec-WebSocket-Extensions` value (field lines joined), or undefined; it parses. */
  readonly extensions: string | undefined;
}

/** What a client offered, for {@link validateUpgradeResponse} to check the response against. */
export interface UpgradeOffer {
  /** The `Sec-WebSocket-Key` we sent. */
  readonly key: string;
  /** The subprotocols we offered (none by default). */
  readonly protocols?: readonly string[];
  /** The names of the extensions we offered (none by default), e.g. `['permessage-deflate']`. */
  readonly extensions?: readonly string[];
}

/** What a valid 101 response chose. */
export interface UpgradeResponse {
  /** The subprotocol the server chose, or undefined. */
  readonly protocol: string | undefined;
  /** The `Sec-WebSocket-Extensions` value (to give to `acceptPerMessageDeflateResponse`), or undefined. */
  readonly extensions: string | undefined;
}

/** The version this implementation speaks, and what a 426 response names (RFC 6455 §4.2.2). */
export const WEBSOCKET_VERSION = '13';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** 16 bytes in base64 are 22 characters and `==` (RFC 6455 §4.1). */
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2): base64 of SHA-1 of the key
 * and the GUID. Throws `WEBSOCKET_INVALID_ARGUMENT` when `key` is not a string.
 */
export function computeAcceptKey(key: string): string {
  if (typeof key !== 'string') invalidArgument('computeAcceptKey(key): a string');
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 §4.1). */
export function generateWebSocketKey(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Checks a client's upgrade request (RFC 6455 §4.2.1) and returns what it asks for. Throws a
 * {@link WebSocketHandshakeError} whose `status` is the answer: `WEBSOCKET_NOT_GET`,
 * `WEBSOCKET_MISSING_UPGRADE`, `WEBSOCKET_INVALID_KEY`, `WEBSOCKET_INVALID_SUBPROTOCOL`,
 * `WEBSOCKET_INVALID_EXTENSIONS` (400), and `WEBSOCKET_UNSUPPORTED_VERSION` (426: answer with
 * `Sec-WebSocket-Version: 13`, RFC 6455 §4.2.2). Host is the HTTP/1.1 parser's check.
 * `WEBSOCKET_INVALID_ARGUMENT` when `headers` is not an object of strings and string arrays.
 */
export function validateUpgradeRequest(method: string, headers: HandshakeHeaders): UpgradeRequest {
  checkHeaders(headers, 'validateUpgradeRequest(method, headers)');
  if (method !== 'GET') fail(WebSocketHandshakeErrors.NOT_GET, `the method is ${describeValue(method)}`);
  checkUpgradeFields(headers, WebSocketHandshakeErrors.MISSING_UPGRADE);
  checkWebSocketVersion(headers);
  const key = single(headers['sec-websocket-key']);
  if (key === undefined || !KEY.test(key)) fail(WebSocketHandshakeErrors.INVALID_KEY);
  const { protocols, extensions } = readOffer(headers);
  return { key, accept: computeAcceptKey(key), protocols, extensions };
}

/**
 * Checks `Sec-WebSocket-Version: 13` (RFC 6455 §4.2.1): throws `WEBSOCKET_UNSUPPORTED_VERSION`
 * (answer 426 with `Sec-WebSocket-Version: 13`, §4.2.2). Both HTTP versions' handshakes use it.
 * @internal
 */
export function checkWebSocketVersion(headers: HandshakeHeaders): void {
  const version = single(headers['sec-websocket-version']);
  if (version !== WEBSOCKET_VERSION) {
    fail(
      WebSocketHandshakeErrors.UNSUPPORTED_VERSION,
      `Sec-WebSocket-Version is ${version ?? 'missing'}, not 13: answer 426 with Sec-WebSocket-Version: 13`,
    );
  }
}

/**
 * The subprotocols and extensions a request offers (RFC 6455 §4.1): `Sec-WebSocket-Protocol`
 * distinct tokens (else `WEBSOCKET_INVALID_SUBPROTOCOL`), `Sec-WebSocket-Extensions` that parses
 * (else `WEBSOCKET_INVALID_EXTENSIONS`). Both HTTP versions' handshakes use it.
 * @internal
 */
export function readOffer(headers: HandshakeHeaders): { protocols: string[]; extensions: string | undefined } {
  const protocols = splitList(headers['sec-websocket-protocol']);
  if (protocols.some((protocol) => !TOKEN.test(protocol)) || new Set(protocols).size !== protocols.length) {
    fail(WebSocketHandshakeErrors.INVALID_SUBPROTOCOL);
  }
  const extensions = joined(headers['sec-websocket-extensions']);
  if (extensions !== undefined) parseExtensions(extensions);
  return { protocols, extensions };
}

/**
 * The header fields of the 101 response accepting `request` (RFC 6455 §4.2.2), as name/value
 * pairs: Upgrade, Connection, Sec-WebSocket-Accept, and the chosen subprotocol and extensions
 * when given (the subprotocol must be one the client offered: `WEBSOCKET_UNEXPECTED_SUBPROTOCOL`).
 * Throws `WEBSOCKET_INVALID_ARGUMENT` when `request` is not what {@link validateUpgradeRequest}
 * returns or `choice` holds something other than strings.
 */
export function upgradeResponseHeaders(
  request: UpgradeRequest,
  choice: { protocol?: string; extensions?: string } = {},
): [string, string][] {
  const given = request as Partial<Record<keyof UpgradeRequest, unknown>> | null;
  const chosen = choice as Partial<Record<'protocol' | 'extensions', unknown>> | null;
  if (
    typeof given !== 'object' ||
    given === null ||
    typeof given.accept !== 'string' ||
    !isStringArray(given.protocols) ||
    typeof chosen !== 'object' ||
    chosen === null ||
    !(chosen.protocol === undefined || typeof chosen.protocol === 'string') ||
    !(chosen.extensions === undefined || typeof chosen.extensions === 'string')
  ) {
    invalidArgument('upgradeResponseHeaders(request, choice): a validated request and string choices');
  }
  const fields: [string, string][] = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', request.accept],
  ];
  if (choice.protocol !== undefined) {
    if (!request.protocols.includes(choice.protocol)) {
      fail(WebSocketHandshakeErrors.UNEXPECTED_SUBPROTOCOL, `${choice.protocol} was not offered`);
    }
    fields.push(['Sec-WebSocket-Protocol', choice.protocol]);
  }
  if (choice.extensions !== undefined && choice.extensions !== '') {
    fields.push(['Sec-WebSocket-Extensions', choice.extensions]);
  }
  return fields;
}

/**
 * A client's check of the server's response to its upgrade (RFC 6455 §4.1, the "Fail the
 * WebSocket Connection" rules): status 101, `Upgrade: websocket`, `Connection: upgrade`, the
 * accept value of our key, only extensions we offered (each once) and at most one subprotocol we
 * offered. Throws a {@link WebSocketHandshakeError}: `WEBSOCKET_UNEXPECTED_STATUS` (its `response`
 * holds `status` and `headers`),
 * `WEBSOCKET_MISSING_UPGRADE`, `WEBSOCKET_INVALID_ACCEPT`, `WEBSOCKET_UNEXPECTED_EXTENSION`,
 * `WEBSOCKET_INVALID_EXTENSIONS`, `WEBSOCKET_UNEXPECTED_SUBPROTOCOL`; `WEBSOCKET_INVALID_ARGUMENT`
 * when an argument has the wrong type.
 */
export function validateUpgradeResponse(
  status: number,
  headers: HandshakeHeaders,
  offer: UpgradeOffer,
): UpgradeResponse {
  const what = 'validateUpgradeResponse(status, headers, offer)';
  if (typeof status !== 'number') invalidArgument(`${what}: status is a number`);
  checkHeaders(headers, what);
  const offered = offer as Partial<Record<keyof UpgradeOffer, unknown>> | null;
  if (
    typeof offered !== 'object' ||
    offered === null ||
    typeof offered.key !== 'string' ||
    !(offered.protocols === undefined || isStringArray(offered.protocols)) ||
    !(offered.extensions === undefined || isStringArray(offered.extensions))
  ) {
    invalidArgument(`${what}: offer is { key, protocols?, extensions? } of strings`);
  }
  if (status !== 101) {
    throw new WebSocketHandshakeError(
      WebSocketHandshakeErrors.UNEXPECTED_STATUS,
      `the server answered ${String(status)}`,
      {
        response: { status, headers },
      },
    );
  }
  checkUpgradeFields(headers, WebSocketHandshakeErrors.MISSING_UPGRADE);
  const accept = single(headers['sec-websocket-accept']);
  if (accept !== computeAcceptKey(offer.key)) fail(WebSocketHandshakeErrors.INVALID_ACCEPT);
  return readResponseChoices(headers, offer);
}

/**
 * What a response chose, checked against the offer (RFC 6455 §4.1): only extensions we offered,
 * each once (`WEBSOCKET_UNEXPECTED_EXTENSION`, `WEBSOCKET_INVALID_EXTENSIONS`), at most one
 * subprotocol and one we offered (`WEBSOCKET_UNEXPECTED_SUBPROTOCOL`). Both HTTP versions'
 * handshakes use it.
 * @internal
 */
export function readResponseChoices(headers: HandshakeHeaders, offer: Omit<UpgradeOffer, 'key'>): UpgradeResponse {
  const extensions = joined(headers['sec-websocket-extensions']);
  if (extensions !== undefined) {
    const offered = new Set((offer.extensions ?? []).map((name) => name.toLowerCase()));
    const seen = new Set<string>();
    for (const element of parseExtensions(extensions)) {
      const name = element.name.toLowerCase();
      if (!offered.has(name)) fail(WebSocketHandshakeErrors.UNEXPECTED_EXTENSION, `${element.name} was not offered`);
      if (seen.has(name)) fail(WebSocketHandshakeErrors.UNEXPECTED_EXTENSION, `${element.name} is accepted twice`);
      seen.add(name);
    }
  }
  const chosen = splitList(headers['sec-websocket-protocol']);
  if (chosen.length > 1) fail(WebSocketHandshakeErrors.UNEXPECTED_SUBPROTOCOL, 'several subprotocols chosen');
  const protocol = chosen[0];
  if (protocol !== undefined && !(offer.protocols ?? []).includes(protocol)) {
    fail(WebSocketHandshakeErrors.UNEXPECTED_SUBPROTOCOL, `${protocol} was not offered`);
  }
  return { protocol, extensions };
}

/** `Upgrade` lists `websocket` and `Connection` lists `upgrade` (both case-insensitive, RFC 6455 §4.1, §4.2.1). */
function checkUpgradeFields(headers: HandshakeHeaders, definition: WebSocketHandshakeErrorDefinition): void {
  const upgrade = splitList(headers.upgrade).map((token) => token.toLowerCase());
  const connection = splitList(headers.connection).map((token) => token.toLowerCase());
  if (!upgrade.includes('websocket') || !connection.includes('upgrade')) fail(definition);
}

/** The field's lines joined with `,`, or undefined. @internal */
export function joined(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/** The trimmed value of a field that must appear once with one value, or undefined. */
function single(value: string | readonly string[] | undefined): string | undefined {
  const text = joined(value);
  if (text === undefined || text.includes(',')) return undefined;
  return text.trim();
}

/** The non-empty, trimmed elements of a comma-separated list field. */
function splitList(value: string | readonly string[] | undefined): string[] {
  const text = joined(value);
  if (text === undefined) return [];
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && (value as unknown[]).every((item) => typeof item === 'string');
}

/** Headers as `node:http` gives them: an object whose values are strings, string arrays or undefined. */
function checkHeaders(headers: unknown, what: string): void {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    invalidArgument(`${what}: headers are an object keyed by lower-case name`);
  }
  for (const value of Object.values(headers)) {
    if (value !== undefined && typeof value !== 'string' && !isStringArray(value)) {
      invalidArgument(`${what}: a header value is a string or an array of strings`);
    }
  }
}

function invalidArgument(message: string): never {
  throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, message);
}

function fail(definition: WebSocketHandshakeErrorDefinition, message?: string): never {
  throw new WebSocketHandshakeError(definition, message);
}
