/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1): the `Sec-WebSocket-Extensions` value a
 * client offers, the server's choice of an offer and its response, and the client's check of that
 * response. The result, {@link PerMessageDeflateParams}, says how each side compresses.
 *
 * Choices where the RFC leaves room:
 * - A server declines an offer with an unknown, repeated or invalid parameter and goes on to the
 *   next offer (RFC 7692 §5: decline, not fail); a client fails on such a response.
 * - Window bits 8: zlib cannot make a raw deflate stream with a 256-byte window (it uses 512), so
 *   an endpoint whose own compressor is limited to 8 bits sends its messages uncompressed (always
 *   allowed, RFC 7692 §6) — see {@link PerMessageDeflateParams}; inflating is unaffected.
 *
 * @module
 */
import { formatExtensions, parseExtensions, type ExtensionElement } from './extension-header.js';
import type { WebSocketRole } from './frame-decoder.js';
import { WebSocketEncodeErrors, WebSocketHandshakeError, WebSocketHandshakeErrors } from '../errors.js';
import { SluiceError } from '../../../lib/errors.js';

/** The extension's name in `Sec-WebSocket-Extensions` (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/**
 * What an endpoint asks for or allows. A client's options shape its offer; a server's shape the
 * response it gives to an acceptable offer.
 */
export interface PerMessageDeflateOptions {
  /** Client: ask the server not to keep its context between messages. Server: always do so (and say it). */
  serverNoContextTakeover?: boolean;
  /** Client: announce it will not keep its context. Server: require the client not to. */
  clientNoContextTakeover?: boolean;
  /** Client: ask the server for at most this window (8–15). Server: use at most this window (8–15). */
  serverMaxWindowBits?: number;
  /**
   * Client: `true` (default) offers `client_max_window_bits` without a value (the server may limit
   * our window), a number 8–15 announces our window, `false` omits it. Server: limit the client's
   * window to this when its offer allows (8–15).
   */
  clientMaxWindowBits?: number | boolean;
}

/** The negotiated parameters (RFC 7692 §7.1), the same on both sides. */
export interface PerMessageDeflateParams {
  /** The server resets its compression context after every message. */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message. */
  readonly clientNoContextTakeover: boolean;
  /** The largest LZ77 window the server's compressor uses, 8–15 (15 when not negotiated). */
  readonly serverMaxWindowBits: number;
  /** The largest LZ77 window the client's compressor uses, 8–15 (15 when not negotiated). */
  readonly clientMaxWindowBits: number;
}

/** The parameters of one side: how it compresses what it sends and inflates what it receives. */
export interface PerMessageDeflateSide {
  /** Window bits of our compressor, or 0 when we must send uncompressed (a window of 8 bits, see the module comment). */
  readonly sendWindowBits: number;
  /** Whether our compressor resets after every message. */
  readonly sendNoContextTakeover: boolean;
  /** Window bits the peer compresses with (our inflater uses at least 9). */
  readonly receiveWindowBits: number;
  /** Whether the peer resets after every message (our inflater does too). */
  readonly receiveNoContextTakeover: boolean;
}

/**
 * Our side of the negotiated parameters for `role`. Throws `WEBSOCKET_INVALID_ARGUMENT` unless
 * `params` has the shape negotiation returns and `role` is `'server'` or `'client'`.
 */
export function perMessageDeflateSide(params: PerMessageDeflateParams, role: WebSocketRole): PerMessageDeflateSide {
  checkPerMessageDeflateParams(params, 'perMessageDeflateSide(params, role)');
  if (role !== 'server' && role !== 'client') {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      "perMessageDeflateSide: role is 'server' or 'client'",
    );
  }
  const isServer = role === 'server';
  const sendBits = isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits;
  return {
    sendWindowBits: sendBits === 8 ? 0 : sendBits,
    sendNoContextTakeover: isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover,
    receiveWindowBits: isServer ? params.clientMaxWindowBits : params.serverMaxWindowBits,
    receiveNoContextTakeover: isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover,
  };
}

function isWindowBits(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 8 && value <= 15;
}

/**
 * Throws `WEBSOCKET_INVALID_ARGUMENT` unless `params` is {@link PerMessageDeflateParams}: two
 * booleans and two window sizes 8–15 (what negotiation returns; a caller may build its own).
 *
 * @internal
 */
export function checkPerMessageDeflateParams(params: unknown, what: string): asserts params is PerMessageDeflateParams {
  const given = params as Partial<Record<keyof PerMessageDeflateParams, unknown>> | null;
  if (
    typeof given !== 'object' ||
    given === null ||
    typeof given.serverNoContextTakeover !== 'boolean' ||
    typeof given.clientNoContextTakeover !== 'boolean' ||
    !isWindowBits(given.serverMaxWindowBits) ||
    !isWindowBits(given.clientMaxWindowBits)
  ) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      `${what}: permessage-deflate parameters are two booleans and two window sizes 8 to 15`,
    );
  }
}

const WINDOW_BITS = /^(?:[89]|1[0-5])$/;

/** The parsed parameters of one permessage-deflate element, or null when one is unknown, repeated or invalid. */
interface ElementParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 0 when absent. */
  serverMaxWindowBits: number;
  /** 0 when absent, -1 when present without a value. */
  clientMaxWindowBits: number;
}

function readElement(element: ExtensionElement): ElementParams | null {
  const result: ElementParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 0,
    clientMaxWindowBits: 0,
  };
  const seen = new Set<string>();
  for (const [rawName, value] of element.params) {
    const name = rawName.toLowerCase();
    // RFC 7692 §7: each parameter at most once.
    if (seen.has(name)) return null;
    seen.add(name);
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== true) return null;
      if (name === 'server_no_context_takeover') result.serverNoContextTakeover = true;
      else result.clientNoContextTakeover = true;
    } else if (name === 'server_max_window_bits') {
      if (value === true || !WINDOW_BITS.test(value)) return null;
      result.serverMaxWindowBits = Number(value);
    } else if (name === 'client_max_window_bits') {
      if (value === true) result.clientMaxWindowBits = -1;
      else if (WINDOW_BITS.test(value)) result.clientMaxWindowBits = Number(value);
      else return null;
    } else {
      return null;
    }
  }
  return result;
}

function checkBits(value: unknown, what: string, allowBoolean: boolean): void {
  const isBits = typeof value === 'number' && Number.isInteger(value) && value >= 8 && value <= 15;
  if (value === undefined || isBits || (allowBoolean && typeof value === 'boolean')) return;
  throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, `permessage-deflate ${what}: 8 to 15`);
}

function checkOptions(options: PerMessageDeflateOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'permessage-deflate options are an object');
  }
  checkBits(options.serverMaxWindowBits, 'serverMaxWindowBits', false);
  checkBits(options.clientMaxWindowBits, 'clientMaxWindowBits', true);
}

/**
 * The `Sec-WebSocket-Extensions` value a client sends to offer permessage-deflate with `options`,
 * e.g. `permessage-deflate; client_max_window_bits`. Throws `WEBSOCKET_INVALID_ARGUMENT` on
 * window bits outside 8–15.
 */
export function offerPerMessageDeflate(options: PerMessageDeflateOptions = {}): string {
  checkOptions(options);
  const params: [string, string | true][] = [];
  if (options.serverNoContextTakeover === true) params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover === true) params.push(['client_no_context_takeover', true]);
  if (options.serverMaxWindowBits !== undefined)
    params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  const client = options.clientMaxWindowBits ?? true;
  if (client === true) params.push(['client_max_window_bits', true]);
  else if (typeof client === 'number') params.push(['client_max_window_bits', String(client)]);
  return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
}

/** What a server chose for permessage-deflate: its response and the parameters both sides use. */
export interface PerMessageDeflateNegotiation {
  /** The `Sec-WebSocket-Extensions` value of the response, e.g. `permessage-deflate; server_max_window_bits=10`. */
  readonly response: string;
  /** The negotiated parameters. */
  readonly params: PerMessageDeflateParams;
}

/**
 * A server's choice (RFC 7692 §5, §7.1): the first acceptable permessage-deflate offer in the
 * client's `Sec-WebSocket-Extensions` value, with the response value to send back and the
 * negotiated parameters; null when there is none (answer without the extension). Offers with
 * unknown, repeated or invalid parameters are declined. Throws `WEBSOCKET_INVALID_EXTENSIONS`
 * (400) when the value does not parse, `WEBSOCKET_INVALID_ARGUMENT` on bad options.
 */
export function negotiatePerMessageDeflate(
  offerValue: string | undefined,
  options: PerMessageDeflateOptions = {},
): PerMessageDeflateNegotiation | null {
  checkOptions(options);
  if (offerValue === undefined || offerValue === '') return null;
  for (const element of parseExtensions(offerValue)) {
    if (element.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const offer = readElement(element);
    if (offer === null) continue;
    const params: [string, string | true][] = [];
    const serverNoContextTakeover = offer.serverNoContextTakeover || options.serverNoContextTakeover === true;
    if (serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
    const clientNoContextTakeover = offer.clientNoContextTakeover || options.clientNoContextTakeover === true;
    if (clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
    // RFC 7692 §7.1.2.1: when the offer limits our window, the response must say what we use (≤ it).
    let serverMaxWindowBits = typeof options.serverMaxWindowBits === 'number' ? options.serverMaxWindowBits : 15;
    if (offer.serverMaxWindowBits !== 0) {
      serverMaxWindowBits = Math.min(serverMaxWindowBits, offer.serverMaxWindowBits);
      params.push(['server_max_window_bits', String(serverMaxWindowBits)]);
    }
    // RFC 7692 §7.1.2.2: we may limit the client's window only if its offer has the parameter.
    let clientMaxWindowBits = offer.clientMaxWindowBits > 0 ? offer.clientMaxWindowBits : 15;
    const wanted = options.clientMaxWindowBits;
    if (offer.clientMaxWindowBits !== 0 && typeof wanted === 'number') {
      clientMaxWindowBits = Math.min(clientMaxWindowBits, wanted);
      params.push(['client_max_window_bits', String(clientMaxWindowBits)]);
    }
    return {
      response: formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]),
      params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
    };
  }
  return null;
}

/**
 * A client's check of the server's permessage-deflate response (RFC 7692 §5, §7.1) against what
 * it offered with `offered`: the negotiated parameters, or null when the server did not accept the
 * extension. Throws `WEBSOCKET_UNEXPECTED_EXTENSION` (fail the connection) when the response holds
 * the extension twice, an unknown, repeated or invalid parameter, `client_max_window_bits` we did
 * not offer, a server window larger than we asked for, or leaves out `server_no_context_takeover`
 * or `server_max_window_bits` we asked for; `WEBSOCKET_INVALID_EXTENSIONS` when it does not parse.
 * Other extensions in the value are not this function's concern (the handshake checks them).
 */
export function acceptPerMessageDeflateResponse(
  responseValue: string | undefined,
  offered: PerMessageDeflateOptions = {},
): PerMessageDeflateParams | null {
  checkOptions(offered);
  if (responseValue === undefined || responseValue === '') return null;
  const elements = parseExtensions(responseValue).filter(
    (element) => element.name.toLowerCase() === PERMESSAGE_DEFLATE,
  );
  if (elements.length === 0) return null;
  if (elements.length > 1) throw unexpected('permessage-deflate accepted twice');
  const response = readElement(elements[0]);
  if (response === null) throw unexpected('an unknown, repeated or invalid permessage-deflate parameter');
  const offeredClientBits = offered.clientMaxWindowBits ?? true;
  if (response.clientMaxWindowBits !== 0) {
    if (offeredClientBits === false) throw unexpected('client_max_window_bits was not offered');
    if (response.clientMaxWindowBits === -1) throw unexpected('client_max_window_bits without a value');
    if (typeof offeredClientBits === 'number' && response.clientMaxWindowBits > offeredClientBits) {
      throw unexpected('client_max_window_bits above what was offered');
    }
  }
  if (offered.serverMaxWindowBits !== undefined) {
    if (response.serverMaxWindowBits === 0) throw unexpected('server_max_window_bits was asked for and left out');
    if (response.serverMaxWindowBits > offered.serverMaxWindowBits) {
      throw unexpected('server_max_window_bits above what was asked for');
    }
  }
  if (offered.serverNoContextTakeover === true && !response.serverNoContextTakeover) {
    throw unexpected('server_no_context_takeover was asked for and left out');
  }
  return {
    serverNoContextTakeover: response.serverNoContextTakeover,
    clientNoContextTakeover: response.clientNoContextTakeover || offered.clientNoContextTakeover === true,
    serverMaxWindowBits: response.serverMaxWindowBits === 0 ? 15 : response.serverMaxWindowBits,
    clientMaxWindowBits:
      response.clientMaxWindowBits > 0
        ? response.clientMaxWindowBits
        : typeof offeredClientBits === 'number'
          ? offeredClientBits
          : 15,
  };
}

function unexpected(detail: string): WebSocketHandshakeError {
  return new WebSocketHandshakeError(WebSocketHandshakeErrors.UNEXPECTED_EXTENSION, `permessage-deflate: ${detail}`);
}
