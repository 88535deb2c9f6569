/**
 * The client side of WebSocket over HTTP/2 (RFC 8441) on an HTTP/2 client connection in a
 * TestingChannel: the test is the server. The wait for the server's SETTINGS (§3), the request it
 * sends (§5), every way the response can fail, and frames masked over DATA.
 */
import { expect } from 'chai';
import { SluiceError } from '../../../lib/index.js';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import type { Http2ClientConnection } from '../../../handlers/http2/connection/client-connection.js';
import type { Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { Http2Session } from '../../../handlers/http2/api/session.js';
import {
  connectWebSocketOverHttp2,
  type WebSocketHttp2ConnectOptions,
} from '../../../handlers/websocket/api/http2-client.js';
import type { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import { WebSocketUnexpectedStatusError } from '../../../handlers/websocket/errors.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import { codeOf } from '../../support/error-codes.js';
import {
  bodyOf,
  clientHarness,
  expectRst,
  ofType,
  settle,
  WEBSOCKET_CONNECT,
  type Harness,
  type WrittenFrame,
} from '../http2/peer.js';
import { decodeWithCuts, rawFrame } from './decoder-harness.js';

const ENABLED: [number, number][] = [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]];

/** Starts a WebSocket on a session over the harness; the outcome is recorded, never unhandled. */
function open(
  h: Harness<Http2ClientConnection>,
  target: string | URL = '/chat',
  options: WebSocketHttp2ConnectOptions = {},
): { outcome: { socket?: WebSocket; error?: unknown } } {
  const session = new Http2Session(h.conn, 'http', 'example.test');
  const outcome: { socket?: WebSocket; error?: unknown } = {};
  connectWebSocketOverHttp2(session, target, options).then(
    (socket) => (outcome.socket = socket),
    (error: unknown) => (outcome.error = error),
  );
  return { outcome };
}

function requestHeaders(frames: readonly WrittenFrame[]): Http2Headers[] {
  return ofType(frames, FrameType.HEADERS).map((frame) => frame.headers!);
}

describe('WebSocket over HTTP/2, client (RFC 8441)', () => {
  it('waits for the server’s SETTINGS before sending the extended CONNECT (§3)', async () => {
    const h = clientHarness({ handshake: false });
    const { outcome } = open(h);
    let frames = await settle(h);
    expect(requestHeaders(frames), 'nothing before the SETTINGS').to.deep.equal([]);
    h.send(h.peer.settings(...ENABLED));
    frames = await settle(h);
    expect(requestHeaders(frames)).to.deep.equal([[...WEBSOCKET_CONNECT, 'sec-websocket-version', '13']]);
    expect(outcome).to.deep.equal({});
    h.finish();
  });

  it('rejects with WEBSOCKET_EXTENDED_CONNECT_DISABLED, sending nothing, when the server did not enable it', async () => {
    const h = clientHarness();
    const { outcome } = open(h);
    const frames = await settle(h);
    expect(codeOf(outcome.error)).to.equal('WEBSOCKET_EXTENDED_CONNECT_DISABLED');
    expect(requestHeaders(frames)).to.deep.equal([]);
    h.finish();
  });

  it('offers subprotocols, permessage-deflate, an origin and other fields; a URL gives :authority and :path', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    open(h, 'ws://chat.example.test:8080/room?id=7', {
      protocols: ['chat', 'superchat'],
      perMessageDeflate: {},
      origin: 'http://app.test',
      headers: { Cookie: 'a=1' },
    });
    const [headers] = requestHeaders(await settle(h));
    expect(headers).to.deep.equal([
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      'http',
      ':path',
      '/room?id=7',
      ':authority',
      'chat.example.test:8080',
      'sec-websocket-version',
      '13',
      'sec-websocket-protocol',
      'chat, superchat',
      'sec-websocket-extensions',
      'permessage-deflate; client_max_window_bits',
      'origin',
      'http://app.test',
      'cookie',
      'a=1',
    ]);
    h.finish();
  });

  const badTargets: readonly { title: string; target: string; options?: WebSocketHttp2ConnectOptions }[] = [
    { title: 'a path without /', target: 'chat' },
    { title: 'a wss: URL on an http session', target: 'wss://example.test/chat' },
    { title: 'an ftp: URL', target: 'ftp://example.test/chat' },
    { title: 'a subprotocol that is not a token', target: '/chat', options: { protocols: ['a b'] } },
    { title: 'a subprotocol offered twice', target: '/chat', options: { protocols: ['a', 'a'] } },
    { title: 'a field the handshake sets', target: '/chat', options: { headers: { 'Sec-WebSocket-Key': 'x' } } },
  ];
  for (const { title, target, options } of badTargets) {
    it(`rejects ${title} with WEBSOCKET_INVALID_ARGUMENT, sending nothing`, async () => {
      const h = clientHarness({ peerSettings: ENABLED });
      const { outcome } = open(h, target, options);
      const frames = await settle(h);
      expect(codeOf(outcome.error)).to.equal('WEBSOCKET_INVALID_ARGUMENT');
      expect(requestHeaders(frames)).to.deep.equal([]);
      h.finish();
    });
  }

  it('rejects a status other than 200 with WEBSOCKET_UNEXPECTED_STATUS carrying the status, and resets (CANCEL)', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    const { outcome } = open(h);
    await settle(h);
    h.send(h.peer.headers(1, [':status', '403', 'x-why', 'no']));
    const frames = await settle(h);
    expect(outcome.error).to.be.instanceOf(WebSocketUnexpectedStatusError);
    const error = outcome.error as WebSocketUnexpectedStatusError;
    expect([error.code, error.responseStatus, error.responseHeaders['x-why']]).to.deep.equal([
      'WEBSOCKET_UNEXPECTED_STATUS',
      403,
      'no',
    ]);
    expectRst(frames, 1, ErrorCode.CANCEL);
    h.finish();
  });

  const badResponses: readonly {
    title: string;
    response: Http2Headers;
    options?: WebSocketHttp2ConnectOptions;
    code: string;
  }[] = [
    {
      title: 'a subprotocol it did not offer',
      response: [':status', '200', 'sec-websocket-protocol', 'other'],
      options: { protocols: ['chat'] },
      code: 'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
    },
    {
      title: 'a subprotocol when none was offered',
      response: [':status', '200', 'sec-websocket-protocol', 'chat'],
      code: 'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
    },
    {
      title: 'an extension it did not offer',
      response: [':status', '200', 'sec-websocket-extensions', 'permessage-deflate'],
      code: 'WEBSOCKET_UNEXPECTED_EXTENSION',
    },
    {
      title: 'permessage-deflate with a parameter the offer does not allow',
      response: [':status', '200', 'sec-websocket-extensions', 'permessage-deflate; client_max_window_bits=10'],
      options: { perMessageDeflate: { clientMaxWindowBits: false } },
      code: 'WEBSOCKET_UNEXPECTED_EXTENSION',
    },
  ];
  for (const { title, response, options, code } of badResponses) {
    it(`fails a 200 that chooses ${title} (${code}) and resets the stream (CANCEL)`, async () => {
      const h = clientHarness({ peerSettings: ENABLED });
      const { outcome } = open(h, '/chat', options);
      await settle(h);
      h.send(h.peer.headers(1, response));
      const frames = await settle(h);
      expect(codeOf(outcome.error)).to.equal(code);
      expectRst(frames, 1, ErrorCode.CANCEL);
      h.finish();
    });
  }

  it('rejects with HTTP2_STREAM_ENDED when the 200 ends the stream', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    const { outcome } = open(h);
    await settle(h);
    h.send(h.peer.headers(1, [':status', '200'], { endStream: true }));
    await settle(h);
    expect(codeOf(outcome.error)).to.equal('HTTP2_STREAM_ENDED');
    h.finish();
  });

  it('rejects with the stream error when the server resets the request (a server that does not know :protocol)', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    const { outcome } = open(h);
    await settle(h);
    h.send(h.peer.rstStream(1, ErrorCode.PROTOCOL_ERROR));
    await settle(h);
    expect(outcome.error).to.be.instanceOf(Http2StreamError);
    expect((outcome.error as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
    h.finish();
  });

  it('cancels with the signal: RST_STREAM(CANCEL) and the signal’s reason', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    const controller = new AbortController();
    const { outcome } = open(h, '/chat', { signal: controller.signal });
    await settle(h);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    const frames = await settle(h);
    expect(outcome.error).to.equal(reason);
    expectRst(frames, 1, ErrorCode.CANCEL);
    h.finish();
  });

  it('opens the WebSocket on a 200: masked frames go out as DATA, the server’s frames come in', async () => {
    const h = clientHarness({ peerSettings: ENABLED });
    const { outcome } = open(h, '/chat', { protocols: ['chat'] });
    await settle(h);
    h.send(
      h.peer.headers(1, [':status', '200', 'sec-websocket-protocol', 'chat']),
      h.peer.data(1, rawFrame({ opcode: Opcode.TEXT, payload: 'welcome' })),
    );
    await settle(h);
    const socket = outcome.socket!;
    expect(socket.protocol).to.equal('chat');
    const first = await socket[Symbol.asyncIterator]().next();
    expect(first.value).to.equal('welcome');
    void socket.send('hi');
    const frames = await settle(h);
    // A server's decoder fails on an unmasked frame: these decode, so they are masked.
    expect(decodeWithCuts(bodyOf(frames, 1), [], { role: 'server' })).to.deep.equal([
      {
        kind: 'frame',
        opcode: Opcode.TEXT,
        hex: Buffer.from('hi').toString('hex'),
        isMessageEnd: true,
        isCompressed: false,
      },
    ]);
    // The server closes: the client answers and waits for the server's END_STREAM, then ends too.
    h.send(h.peer.data(1, rawFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03, 0xe8]) })));
    let after = await settle(h);
    expect(decodeWithCuts(bodyOf(after, 1), [], { role: 'server' })).to.deep.equal([
      { kind: 'close', code: 1000, reason: '' },
    ]);
    h.send(h.peer.data(1, Buffer.alloc(0), { endStream: true }));
    after = await settle(h);
    expect(after.filter((frame) => frame.streamId === 1 && frame.endStream)).to.have.length(1);
    const event = await socket.closed;
    expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
    h.finish();
  });

  it('rejects with the connection’s error when the connection closes before the SETTINGS', async () => {
    const h = clientHarness({ handshake: false });
    const { outcome } = open(h);
    h.tc.shutdown(new SluiceError({ code: 'TEST_GONE', message: 'gone' }));
    await settle(h);
    h.finish();
    await settle(h);
    expect(codeOf(outcome.error)).to.equal('TEST_GONE');
  });
});
