/**
 * The opening handshake helpers (RFC 6455 §4): the accept value, a server's checks of the upgrade
 * request (400, or 426 for a version other than 13), and a client's checks of the 101 response.
 */
import { expect } from 'chai';
import { WebSocketHandshakeError } from '../../../handlers/websocket/errors.js';
import {
  computeAcceptKey,
  generateWebSocketKey,
  upgradeResponseHeaders,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type HandshakeHeaders,
} from '../../../handlers/websocket/wire/handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const REQUEST: HandshakeHeaders = {
  host: 'server.example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': KEY,
  'sec-websocket-version': '13',
};

function expectHandshakeError(action: () => unknown, code: string, status?: number): void {
  expect(action)
    .to.throw(WebSocketHandshakeError)
    .that.satisfies((error: WebSocketHandshakeError) => {
      expect(error.code).to.equal(code);
      if (status !== undefined) expect(error.status).to.equal(status);
      return true;
    });
}

describe('WebSocket opening handshake helpers', () => {
  it("computes the RFC's example accept value", () => {
    // RFC 6455 §1.3.
    expect(computeAcceptKey(KEY)).to.equal('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('generates 16-byte base64 keys that validate', () => {
    const key = generateWebSocketKey();
    expect(Buffer.from(key, 'base64')).to.have.length(16);
    expect(validateUpgradeRequest('GET', { ...REQUEST, 'sec-websocket-key': key }).key).to.equal(key);
  });

  it('accepts a valid request and reads its subprotocols and extensions', () => {
    const request = validateUpgradeRequest('GET', {
      ...REQUEST,
      upgrade: 'WebSocket',
      connection: 'keep-alive, Upgrade',
      'sec-websocket-protocol': ['chat, superchat', 'v2.json'],
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    expect(request).to.deep.equal({
      key: KEY,
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      protocols: ['chat', 'superchat', 'v2.json'],
      extensions: 'permessage-deflate; client_max_window_bits',
    });
    expect(upgradeResponseHeaders(request, { protocol: 'chat', extensions: 'permessage-deflate' })).to.deep.equal([
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
      ['Sec-WebSocket-Protocol', 'chat'],
      ['Sec-WebSocket-Extensions', 'permessage-deflate'],
    ]);
    expectHandshakeError(
      () => upgradeResponseHeaders(request, { protocol: 'mqtt' }),
      'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
    );
  });

  const bad: [string, string, HandshakeHeaders, string, number][] = [
    ['a POST', 'POST', REQUEST, 'WEBSOCKET_NOT_GET', 400],
    ['no Upgrade', 'GET', { ...REQUEST, upgrade: undefined }, 'WEBSOCKET_MISSING_UPGRADE', 400],
    ['Upgrade: h2c', 'GET', { ...REQUEST, upgrade: 'h2c' }, 'WEBSOCKET_MISSING_UPGRADE', 400],
    ['Connection without upgrade', 'GET', { ...REQUEST, connection: 'keep-alive' }, 'WEBSOCKET_MISSING_UPGRADE', 400],
    ['no version', 'GET', { ...REQUEST, 'sec-websocket-version': undefined }, 'WEBSOCKET_UNSUPPORTED_VERSION', 426],
    ['version 8', 'GET', { ...REQUEST, 'sec-websocket-version': '8' }, 'WEBSOCKET_UNSUPPORTED_VERSION', 426],
    [
      'versions 13 and 8',
      'GET',
      { ...REQUEST, 'sec-websocket-version': ['13', '8'] },
      'WEBSOCKET_UNSUPPORTED_VERSION',
      426,
    ],
    ['no key', 'GET', { ...REQUEST, 'sec-websocket-key': undefined }, 'WEBSOCKET_INVALID_KEY', 400],
    [
      'a 15-byte key',
      'GET',
      { ...REQUEST, 'sec-websocket-key': Buffer.alloc(15).toString('base64') },
      'WEBSOCKET_INVALID_KEY',
      400,
    ],
    [
      'a 17-byte key',
      'GET',
      { ...REQUEST, 'sec-websocket-key': Buffer.alloc(17).toString('base64') },
      'WEBSOCKET_INVALID_KEY',
      400,
    ],
    [
      'a key that is not base64',
      'GET',
      { ...REQUEST, 'sec-websocket-key': 'not base64 at all!!!!!==' },
      'WEBSOCKET_INVALID_KEY',
      400,
    ],
    ['two keys', 'GET', { ...REQUEST, 'sec-websocket-key': [KEY, KEY] }, 'WEBSOCKET_INVALID_KEY', 400],
    [
      'a subprotocol that is not a token',
      'GET',
      { ...REQUEST, 'sec-websocket-protocol': 'a b' },
      'WEBSOCKET_INVALID_SUBPROTOCOL',
      400,
    ],
    [
      'a repeated subprotocol',
      'GET',
      { ...REQUEST, 'sec-websocket-protocol': 'a, a' },
      'WEBSOCKET_INVALID_SUBPROTOCOL',
      400,
    ],
    [
      'extensions that do not parse',
      'GET',
      { ...REQUEST, 'sec-websocket-extensions': 'a;;' },
      'WEBSOCKET_INVALID_EXTENSIONS',
      400,
    ],
  ];
  for (const [label, method, headers, code, status] of bad) {
    it(`refuses a request with ${label}: ${code} (${status})`, () => {
      expectHandshakeError(() => validateUpgradeRequest(method, headers), code, status);
    });
  }

  it('says to answer 426 with Sec-WebSocket-Version: 13', () => {
    expect(() => validateUpgradeRequest('GET', { ...REQUEST, 'sec-websocket-version': '7' })).to.throw(
      /426 with Sec-WebSocket-Version: 13/,
    );
  });

  describe('client checks of the 101 response', () => {
    const RESPONSE: HandshakeHeaders = {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    };
    const offer = { key: KEY, protocols: ['chat', 'superchat'], extensions: ['permessage-deflate'] };

    it('accepts a valid response and reads the choices', () => {
      expect(
        validateUpgradeResponse(
          101,
          { ...RESPONSE, 'sec-websocket-protocol': 'superchat', 'sec-websocket-extensions': 'permessage-deflate' },
          offer,
        ),
      ).to.deep.equal({ protocol: 'superchat', extensions: 'permessage-deflate' });
      expect(validateUpgradeResponse(101, RESPONSE, offer)).to.deep.equal({
        protocol: undefined,
        extensions: undefined,
      });
    });

    const failing: [string, number, HandshakeHeaders, string][] = [
      ['a 200', 200, RESPONSE, 'WEBSOCKET_UNEXPECTED_STATUS'],
      ['no Upgrade', 101, { ...RESPONSE, upgrade: undefined }, 'WEBSOCKET_MISSING_UPGRADE'],
      ['no accept', 101, { ...RESPONSE, 'sec-websocket-accept': undefined }, 'WEBSOCKET_INVALID_ACCEPT'],
      [
        'a wrong accept',
        101,
        { ...RESPONSE, 'sec-websocket-accept': computeAcceptKey('other') },
        'WEBSOCKET_INVALID_ACCEPT',
      ],
      [
        'an extension not offered',
        101,
        { ...RESPONSE, 'sec-websocket-extensions': 'x-foo' },
        'WEBSOCKET_UNEXPECTED_EXTENSION',
      ],
      [
        'an extension twice',
        101,
        { ...RESPONSE, 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' },
        'WEBSOCKET_UNEXPECTED_EXTENSION',
      ],
      [
        'a subprotocol not offered',
        101,
        { ...RESPONSE, 'sec-websocket-protocol': 'mqtt' },
        'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
      ],
      [
        'two subprotocols',
        101,
        { ...RESPONSE, 'sec-websocket-protocol': 'chat, superchat' },
        'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
      ],
    ];
    for (const [label, status, headers, code] of failing) {
      it(`fails on ${label}: ${code}`, () => {
        expectHandshakeError(() => validateUpgradeResponse(status, headers, offer), code);
      });
    }

    it('a subprotocol when none was offered fails', () => {
      expectHandshakeError(
        () => validateUpgradeResponse(101, { ...RESPONSE, 'sec-websocket-protocol': 'chat' }, { key: KEY }),
        'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
      );
    });
  });
});
