/**
 * The `Sec-WebSocket-Extensions` field (RFC 6455 §9.1): parsing a value into extensions with
 * their parameters, and formatting them back. Used by permessage-deflate negotiation; any other
 * extension is parsed the same way so a handshake can refuse it by name.
 *
 * @module
 */
import { SluiceError } from '../../../lib/errors.js';
import { WebSocketEncodeErrors, WebSocketHandshakeError, WebSocketHandshakeErrors } from '../errors.js';

/** One extension of a `Sec-WebSocket-Extensions` value: its name and parameters in order. */
export interface ExtensionElement {
  /** The extension token, e.g. `permessage-deflate` (compared case-insensitively, kept as sent). */
  readonly name: string;
  /** The parameters in order; a parameter without a value maps to `true`. Repeats are kept. */
  readonly params: readonly (readonly [string, string | true])[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a `Sec-WebSocket-Extensions` value (several field lines joined with `,` are one value)
 * into its elements, in order. A quoted parameter value is unquoted and must then be a token
 * (RFC 6455 §9.1). Throws `WEBSOCKET_INVALID_EXTENSIONS` (400) on anything else.
 */
export function parseExtensions(value: string): ExtensionElement[] {
  if (typeof value !== 'string') throw invalid('not a string');
  const elements: ExtensionElement[] = [];
  let at = 0;
  const length = value.length;
  const skipSpace = (): void => {
    while (at < length && (value[at] === ' ' || value[at] === '\t')) at++;
  };
  const readToken = (): string => {
    const start = at;
    while (at < length && TOKEN.test(value[at])) at++;
    return value.slice(start, at);
  };
  for (;;) {
    skipSpace();
    if (at === length) break;
    if (value[at] === ',') {
      // Empty list elements are allowed by the list rule (RFC 9110 §5.6.1).
      at++;
      continue;
    }
    const name = readToken();
    if (name === '') throw invalid(`unexpected ${JSON.stringify(value[at])} at ${at}`);
    const params: [string, string | true][] = [];
    skipSpace();
    while (at < length && value[at] === ';') {
      at++;
      skipSpace();
      const param = readToken();
      if (param === '') throw invalid(`a parameter name expected at ${at}`);
      skipSpace();
      let paramValue: string | true = true;
      if (value[at] === '=') {
        at++;
        skipSpace();
        paramValue = value[at] === '"' ? readQuoted() : readToken();
        if (!TOKEN.test(paramValue)) throw invalid(`parameter ${param} has no token value`);
        skipSpace();
      }
      params.push([param, paramValue]);
    }
    elements.push({ name, params });
    skipSpace();
    if (at === length) break;
    if (value[at] !== ',') throw invalid(`unexpected ${JSON.stringify(value[at])} at ${at}`);
    at++;
  }
  return elements;

  function readQuoted(): string {
    at++;
    let text = '';
    while (at < length && value[at] !== '"') {
      if (value[at] === '\\') at++;
      if (at < length) text += value[at++];
    }
    if (at === length) throw invalid('an unterminated quoted string');
    at++;
    return text;
  }
}

/**
 * Formats elements as a `Sec-WebSocket-Extensions` value: `name; param; param=value, name2`.
 * Throws `WEBSOCKET_INVALID_ARGUMENT` unless every name and parameter is a token and every
 * parameter value `true` or a token.
 */
export function formatExtensions(elements: readonly ExtensionElement[]): string {
  if (!isElementList(elements)) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'formatExtensions(elements): elements are { name, params: [name, value | true][] } of tokens',
    );
  }
  return elements
    .map((element) =>
      [element.name, ...element.params.map(([name, value]) => (value === true ? name : `${name}=${value}`))].join('; '),
    )
    .join(', ');
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

function isElementList(value: unknown): value is readonly ExtensionElement[] {
  return Array.isArray(value) && (value as unknown[]).every(isFormattable);
}

function isFormattable(element: unknown): element is ExtensionElement {
  if (typeof element !== 'object' || element === null) return false;
  const { name, params } = element as { name?: unknown; params?: unknown };
  if (!isToken(name) || !Array.isArray(params)) return false;
  return (params as unknown[]).every(
    (param) => Array.isArray(param) && isToken(param[0]) && (param[1] === true || isToken(param[1])),
  );
}

function invalid(detail: string): WebSocketHandshakeError {
  return new WebSocketHandshakeError(
    WebSocketHandshakeErrors.INVALID_EXTENSIONS,
    `Sec-WebSocket-Extensions does not parse: ${detail}`,
  );
}
