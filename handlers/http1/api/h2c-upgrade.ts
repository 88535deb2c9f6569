/**
 * The h2c upgrade (RFC 7540 §3.2): an HTTP/1.1 request that asks for HTTP/2 over cleartext TCP is
 * answered with 101 and continues as stream 1 of an HTTP/2 connection put in the HTTP/1.1
 * connection's slot. RFC 9113 §3.1 deprecates it; `curl --http2` still uses it for `http://` URLs.
 *
 * @module
 */
import type { Channel } from '../../../lib/index.js';
import { HeaderBlockKind, validateHeaderBlock } from '../../http2/connection/header-rules.js';
import type { Http2ServerConnection } from '../../http2/connection/server-connection.js';
import { decodeHttp2SettingsField, readSettingsPayload } from '../../http2/wire/settings-payload.js';
import type { Http1ServerStream } from '../connection/server-stream.js';
import type { Http1Upgrade, Http1UpgradeExchange } from '../connection/upgrade.js';

/** The protocol token of HTTP/2 over cleartext TCP in `Upgrade` (RFC 7540 §3.2). */
export const H2C_PROTOCOL = 'h2c';

/** An h2c upgrade request, read: stream 1's header list and the client's settings. */
interface H2cRequest {
  readonly headers: string[];
  readonly settingsPayload: Uint8Array;
}

/**
 * Fields that describe one HTTP/1.1 connection and never go into an HTTP/2 header list (RFC 9113
 * §8.2.2); `host` becomes `:authority`, `te` stays only as `trailers`.
 */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
  'te',
]);

/** `scheme://authority[path]` (RFC 9112 §3.2.2, absolute-form). */
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/;

/**
 * The h2c upgrade for an {@link Http1ServerConnection}'s `upgrades`. It takes a request only if
 * all of these hold, and otherwise leaves it to be served over HTTP/1.1 (RFC 9110 §7.8 lets a
 * server ignore `Upgrade`):
 *
 * - `Upgrade` lists `h2c` and `Connection` lists both `Upgrade` and `HTTP2-Settings` (RFC 7540 §3.2);
 * - exactly one `HTTP2-Settings` field, strict base64url without padding, whose bytes are a valid
 *   SETTINGS payload (RFC 7540 §3.2.1);
 * - the request has no body: a body would have to be read as HTTP/1.1 while the connection is
 *   already HTTP/2 (RFC 7540 §3.2 allows it; refusing is the simple safe choice, and the client
 *   gets its answer over HTTP/1.1);
 * - it is not CONNECT, and it maps to a valid HTTP/2 request (RFC 9113 §8.3.1): `:method`,
 *   `:scheme` `http` (or an absolute-form target's), `:authority` from `Host` (or the target),
 *   `:path`, and the fields less the connection-specific ones (RFC 9113 §8.2.2).
 *
 * On a request taken it answers `101 Switching Protocols` (`Connection: Upgrade`, `Upgrade: h2c`)
 * and, once that is written, puts `createConnection(channel)` in the slot: the HTTP/2 connection
 * sends its SETTINGS first, applies `HTTP2-Settings` as the client's (acknowledged by the 101),
 * and serves the request as stream 1 through its `onStream`; the client's connection preface
 * follows the 101. Offer it on cleartext connections only: over TLS, HTTP/2 is chosen by ALPN.
 */
export function h2cUpgrade(createConnection: (channel: Channel) => Http2ServerConnection): Http1Upgrade {
  return {
    protocol: H2C_PROTOCOL,
    takes: (request) => readH2cRequest(request) !== null,
    onUpgrade(exchange: Http1UpgradeExchange): void {
      const h2c = readH2cRequest(exchange.request);
      if (h2c === null) throw new TypeError('an h2c request that takes() refused');
      exchange.switchProtocols(['Connection', 'Upgrade', 'Upgrade', H2C_PROTOCOL], (slot, handedOverBytes) => {
        const connection = createConnection(slot.channel);
        const installed = slot.replace(connection);
        connection.acceptUpgrade({ headers: h2c.headers, settingsPayload: h2c.settingsPayload, handedOverBytes });
        return installed;
      });
    },
  };
}

/** The h2c request `request` makes, or null when it is not one this server switches for (see {@link h2cUpgrade}). */
function readH2cRequest(request: Http1ServerStream): H2cRequest | null {
  if (request.bodyKind !== 'none' || request.method === 'CONNECT') return null;
  const fields = request.headers;
  const connectionOptions = new Set<string>();
  let settingsValue: string | null = null;
  let settingsCount = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    if (name === 'connection') {
      for (const item of fields[i + 1].split(',')) connectionOptions.add(item.trim().toLowerCase());
    } else if (name === 'http2-settings') {
      settingsValue = fields[i + 1];
      settingsCount++;
    }
  }
  // RFC 7540 §3.2.1: HTTP2-Settings is a connection-specific field, named in Connection.
  if (!connectionOptions.has('upgrade') || !connectionOptions.has('http2-settings')) return null;
  if (settingsCount !== 1 || settingsValue === null) return null;
  const settingsPayload = decodeHttp2SettingsField(settingsValue);
  if (settingsPayload === null) return null;
  if (readSettingsPayload(settingsPayload, 0, settingsPayload.length, false, []) !== null) return null;
  const headers = http2RequestHeaders(request, connectionOptions);
  if (headers === null || validateHeaderBlock(headers, HeaderBlockKind.REQUEST) !== null) return null;
  return { headers, settingsPayload };
}

/** The HTTP/1.1 request as an HTTP/2 header list (RFC 9113 §8.3.1), or null when its target has no HTTP/2 form. */
function http2RequestHeaders(request: Http1ServerStream, connectionOptions: ReadonlySet<string>): string[] | null {
  const target = request.target;
  let scheme = 'http';
  let authority = request.header('host') ?? '';
  let path = target;
  if (!target.startsWith('/') && target !== '*') {
    // RFC 9112 §3.2.2: the absolute-form's authority wins over Host.
    const match = ABSOLUTE_FORM.exec(target);
    if (match === null) return null;
    scheme = match[1].toLowerCase();
    authority = match[2];
    path = match[3] === '' ? '/' : match[3];
  }
  const headers = [':method', request.method, ':scheme', scheme, ':authority', authority, ':path', path];
  const fields = request.headers;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    const value = fields[i + 1];
    if (name === 'te') {
      // RFC 9113 §8.2.2: TE may appear with "trailers" only.
      if (value.trim().toLowerCase() === 'trailers') headers.push('te', 'trailers');
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || connectionOptions.has(name)) continue;
    headers.push(name, value);
  }
  return headers;
}
