/**
 * The WebSocket error tables: every code documented in docs/errors.md with its close code or
 * status, codes unique and prefixed, and the error classes, with the columns this page adds to
 * what tests/lib/errors-documented.test.ts checks of every table the package root exports.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SluiceError } from '../../../lib/errors.js';
import * as websocket from '../../../handlers/websocket/index.js';

const page = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('websocket errors', () => {
  it('documents every protocol error code in docs/errors.md with its close code', () => {
    for (const definition of Object.values(websocket.WebSocketProtocolErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` | ${definition.closeCode} |`);
    }
  });

  it('documents every handshake error code with its status', () => {
    for (const definition of Object.values(websocket.WebSocketHandshakeErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` | ${definition.status} |`);
    }
  });

  it('documents every encoder error code', () => {
    for (const definition of Object.values(websocket.WebSocketEncodeErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` |`);
    }
  });

  it('a client refusing a status other than 101 keeps the response it got', () => {
    let caught: unknown = null;
    try {
      websocket.validateUpgradeResponse(302, { location: '/elsewhere' }, { key: 'dGhlIHNhbXBsZSBub25jZQ==' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(websocket.WebSocketHandshakeError);
    const error = caught as InstanceType<typeof websocket.WebSocketHandshakeError>;
    expect([error.code, error.status, error.response]).to.deep.equal([
      'WEBSOCKET_UNEXPECTED_STATUS',
      0,
      { status: 302, headers: { location: '/elsewhere' } },
    ]);
  });

  it('uses WEBSOCKET_ codes, unique, and only the close codes that fail a connection', () => {
    const tables = [
      websocket.WebSocketProtocolErrors,
      websocket.WebSocketEncodeErrors,
      websocket.WebSocketHandshakeErrors,
    ] as const;
    const codes = tables.flatMap((table) => Object.values(table).map((definition) => definition.code));
    expect(new Set(codes).size).to.equal(codes.length);
    for (const code of codes) expect(code).to.match(/^WEBSOCKET_[A-Z0-9_]+$/);
    const closeCodes = new Set(Object.values(websocket.WebSocketProtocolErrors).map((row) => row.closeCode));
    expect([...closeCodes].sort()).to.deep.equal([1002, 1007, 1009]);
  });

  it('makes the error classes SluiceErrors carrying their close code or status', () => {
    const protocol = new websocket.WebSocketProtocolError(websocket.WebSocketProtocolErrors.INVALID_UTF8);
    expect(protocol).to.be.instanceOf(SluiceError);
    expect([protocol.name, protocol.code, protocol.closeCode]).to.deep.equal([
      'WebSocketProtocolError',
      'WEBSOCKET_INVALID_UTF8',
      1007,
    ]);
    const handshake = new websocket.WebSocketHandshakeError(websocket.WebSocketHandshakeErrors.UNSUPPORTED_VERSION);
    expect([handshake.name, handshake.code, handshake.status, handshake.response]).to.deep.equal([
      'WebSocketHandshakeError',
      'WEBSOCKET_UNSUPPORTED_VERSION',
      426,
      null,
    ]);
  });

  it('constructors and functions refuse bad arguments with WEBSOCKET_INVALID_ARGUMENT', () => {
    const listener = { onData() {}, onPing() {}, onPong() {}, onClose() {} };
    const attempts: (() => unknown)[] = [
      () => new websocket.WebSocketFrameDecoder(null as unknown as typeof listener),
      () => new websocket.WebSocketFrameDecoder(listener, { role: 'both' as 'server' }),
      () => new websocket.WebSocketFrameDecoder(listener, { maxMessageSize: -1 }),
      () => new websocket.WebSocketFrameDecoder(listener, 'server' as never),
      () => new websocket.PerMessageDeflater({ windowBits: 8 }),
      () => new websocket.PerMessageInflater({ maxMessageSize: Number.NaN }),
      () => websocket.offerPerMessageDeflate({ serverMaxWindowBits: 16 }),
      () => new websocket.PerMessageInflater(null as never),
      () => new websocket.WebSocket({} as never),
      () => websocket.acceptWebSocket({} as never, { role: 'client', perMessageDeflate: null }),
      () => websocket.serveWebSocketChannel({} as never, { role: 'client', perMessageDeflate: null }),
      () => websocket.closeReasonLength(1000 as never),
      () => websocket.frameHeaderLength({} as never, false),
      () => websocket.computeAcceptKey(Object.create(null) as never),
      () => websocket.isValidUtf8(new Uint8Array(4), 2, 1),
      () => websocket.isValidUtf8('text' as never),
      () => websocket.formatExtensions([{ name: 'a b', params: [] }]),
      () => websocket.perMessageDeflateSide({ serverNoContextTakeover: 1 } as never, 'client'),
      () => websocket.validateUpgradeRequest('GET', null as never),
      () => websocket.validateUpgradeRequest('GET', { upgrade: [1] } as never),
      () => websocket.validateUpgradeResponse('101' as never, {}, { key: 'k' }),
      () => websocket.validateUpgradeResponse(101, {}, { key: 1 } as never),
      () => websocket.upgradeResponseHeaders({} as never),
    ];
    for (const attempt of attempts) {
      expect(attempt).to.throw(SluiceError).with.property('code', 'WEBSOCKET_INVALID_ARGUMENT');
    }
  });
});
