/**
 * The server side of WebSocket over HTTP/2 (RFC 8441) on an HTTP/2 server connection in a
 * TestingChannel, in virtual time: the test is the HTTP/2 client and writes WebSocket frames by
 * hand. The handshake's answers (200, refusals, 400, 426, 500), the stream-to-channel adapter
 * (DATA both ways, flow control as back-pressure, END_STREAM and RST_STREAM both ways) and the
 * pool staying balanced.
 */
import { expect } from 'chai';
import { SluiceError } from '../../../lib/index.js';
import { ErrorCode, FrameType } from '../../../handlers/http2/wire/constants.js';
import type { Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { acceptWebSocketOverHttp2 } from '../../../handlers/websocket/api/http2-server.js';
import type {
  WebSocketAcceptDecision,
  WebSocketRequest,
  WebSocketServerOptions,
} from '../../../handlers/websocket/api/server-hooks.js';
import type { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import type { WebSocketConnection } from '../../../handlers/websocket/connection/websocket-connection.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import {
  bodyOf,
  expectNoErrors,
  expectRst,
  ofType,
  serverHarness,
  settle,
  WEBSOCKET_CONNECT,
  type Harness,
  type WrittenFrame,
} from '../http2/peer.js';
import type { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import { clientFrame, decodeWithCuts, type DecodedEvent } from './decoder-harness.js';

const CONNECT: Http2Headers = [...WEBSOCKET_CONNECT, 'sec-websocket-version', '13'];

/** What the WebSocket side saw: sockets opened, messages, closes. */
interface Seen {
  sockets: WebSocket[];
  requests: WebSocketRequest[];
  messages: string[];
  closes: { code: number; error: string | null }[];
  results: boolean[];
}

/**
 * A server connection with extended CONNECT on, serving every stream with
 * `acceptWebSocketOverHttp2`; each WebSocket echoes (on the connection's listener, synchronously,
 * so virtual time alone drives it) unless `echo` is false.
 */
function setup(
  options: Partial<WebSocketServerOptions> & { echo?: boolean } = {},
  connection: { initialStreamWindowSize?: number } = {},
): { h: Harness<Http2ServerConnection>; seen: Seen } {
  const seen: Seen = { sockets: [], requests: [], messages: [], closes: [], results: [] };
  const { echo = true, ...rest } = options;
  const wsOptions: WebSocketServerOptions = {
    onWebSocket: (socket, request) => {
      seen.sockets.push(socket);
      seen.requests.push(request);
      if (echo) echoOn(socket.connection, seen);
      else socket.on('close', (event) => seen.closes.push({ code: event.code, error: event.error?.code ?? null }));
    },
    ...rest,
  };
  const h = serverHarness({
    connection: {
      enableConnectProtocol: true,
      ...connection,
      onStream: (stream, headers) => seen.results.push(acceptWebSocketOverHttp2(stream, headers, wsOptions)),
    },
  });
  return { h, seen };
}

function echoOn(connection: WebSocketConnection, seen: Seen): void {
  connection.setListener({
    onMessage: (c, data, isText) => {
      seen.messages.push(data.toString('latin1'));
      c.send(Buffer.from(data), isText);
      c.consumeMessage();
    },
    onClose: (_c, code, _reason, error) => seen.closes.push({ code, error: error?.code ?? null }),
  });
}

/** The first HEADERS the server sent on stream 1. */
function responseOf(frames: readonly WrittenFrame[]): Http2Headers {
  const headers = ofType(frames, FrameType.HEADERS).filter((frame) => frame.streamId === 1);
  expect(headers, 'one response HEADERS').to.have.length(1);
  return headers[0].headers!;
}

/** The WebSocket frames the server wrote on stream 1, decoded as a client reads them. */
function serverFrames(frames: readonly WrittenFrame[]): DecodedEvent[] {
  return decodeWithCuts(bodyOf(frames, 1), [], { role: 'client' });
}

/** A masked client text frame. */
const text = (payload: string): Buffer => clientFrame({ opcode: Opcode.TEXT, payload });

function field(headers: Http2Headers, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

describe('WebSocket over HTTP/2, server (RFC 8441)', () => {
  describe('the handshake', () => {
    it('answers 200 — not 101, and without sec-websocket-accept (RFC 8441 §5) — and opens the WebSocket', () => {
      const { h, seen } = setup();
      const frames = h.exchange(h.peer.headers(1, [...CONNECT, 'sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ==']));
      expect(responseOf(frames)).to.deep.equal([':status', '200']);
      expectNoErrors(frames);
      expect(seen.results).to.deep.equal([true]);
      expect(seen.sockets).to.have.length(1);
      h.finish();
    });

    it('gives the hook and onWebSocket the request: httpVersion 2, path, authority, origin, fields, offers', () => {
      let hooked: WebSocketRequest | null = null;
      const { h, seen } = setup({
        acceptWebSocket: (request) => {
          hooked = request;
          return { accept: true };
        },
      });
      h.exchange(
        h.peer.headers(1, [
          ...CONNECT,
          'origin',
          'http://app.test',
          'sec-websocket-protocol',
          'chat, superchat',
          'sec-websocket-extensions',
          'permessage-deflate',
          'cookie',
          'a=1',
        ]),
      );
      const request = seen.requests[0];
      expect(hooked).to.equal(request);
      expect(request.httpVersion).to.equal('2');
      expect(request.path).to.equal('/chat');
      expect(request.authority).to.equal('example.test');
      expect(request.origin).to.equal('http://app.test');
      expect(request.protocols).to.deep.equal(['chat', 'superchat']);
      expect(request.extensions).to.equal('permessage-deflate');
      expect(request.headers.cookie).to.equal('a=1');
      expect(
        Object.keys(request.headers).some((name) => name.startsWith(':')),
        'no pseudo-header fields',
      ).to.equal(false);
      h.finish();
    });

    it('answers with the subprotocol the hook chose', () => {
      const { h } = setup({
        acceptWebSocket: () => ({ accept: true, protocol: 'superchat', headers: { 'x-room': '1' } }),
      });
      const frames = h.exchange(h.peer.headers(1, [...CONNECT, 'sec-websocket-protocol', 'chat, superchat']));
      expect(responseOf(frames)).to.deep.equal([
        ':status',
        '200',
        'sec-websocket-protocol',
        'superchat',
        'x-room',
        '1',
      ]);
      h.finish();
    });

    it('negotiates permessage-deflate when the server allows it, and not otherwise', () => {
      const offer = [...CONNECT, 'sec-websocket-extensions', 'permessage-deflate; client_max_window_bits'];
      const allowed = setup({ perMessageDeflate: {} });
      expect(
        field(responseOf(allowed.h.exchange(allowed.h.peer.headers(1, offer))), 'sec-websocket-extensions'),
      ).to.equal('permessage-deflate');
      expect(allowed.seen.sockets[0].connection.isPerMessageDeflate).to.equal(true);
      allowed.h.finish();
      const refused = setup();
      expect(
        field(responseOf(refused.h.exchange(refused.h.peer.headers(1, offer))), 'sec-websocket-extensions'),
      ).to.equal(undefined);
      refused.h.finish();
    });

    it('returns false and leaves the stream alone for a request that is not a WebSocket extended CONNECT', () => {
      const { h, seen } = setup();
      const other = CONNECT.map((value) => (value === 'websocket' ? 'connect-udp' : value));
      const frames = h.exchange(h.peer.headers(1, other));
      expect(seen.results).to.deep.equal([false]);
      expect(ofType(frames, FrameType.HEADERS)).to.have.length(0);
      expect(h.received[0].stream.handler, 'still the handler the connection set').to.equal(h.received[0].recorder);
      h.finish();
    });

    const refusals: readonly {
      title: string;
      fields: Http2Headers;
      endStream?: boolean;
      status: string;
      version?: string;
    }[] = [
      {
        title: 'Sec-WebSocket-Version 12 with 426 and sec-websocket-version: 13 (RFC 6455 §4.2.2)',
        fields: CONNECT.map((value) => (value === '13' ? '12' : value)),
        status: '426',
        version: '13',
      },
      {
        title: 'a missing Sec-WebSocket-Version with 426',
        fields: CONNECT.slice(0, -2),
        status: '426',
        version: '13',
      },
      {
        title: 'subprotocols that are not tokens with 400',
        fields: [...CONNECT, 'sec-websocket-protocol', 'chat room'],
        status: '400',
      },
      {
        title: 'Sec-WebSocket-Extensions that does not parse with 400',
        fields: [...CONNECT, 'sec-websocket-extensions', 'permessage-deflate;;'],
        status: '400',
      },
      {
        title: 'a :scheme other than http or https with 400 (RFC 8441 §5)',
        fields: CONNECT.map((value) => (value === 'http' ? 'ftp' : value)),
        status: '400',
      },
      { title: 'a request that ends its stream with 400', fields: CONNECT, endStream: true, status: '400' },
    ];
    for (const { title, fields, endStream, status, version } of refusals) {
      it(`refuses ${title}, before the hook runs`, () => {
        let hookCalls = 0;
        const { h, seen } = setup({
          acceptWebSocket: () => {
            hookCalls++;
            return { accept: true };
          },
        });
        const frames = h.exchange(h.peer.headers(1, fields, { endStream: endStream ?? false }));
        const response = responseOf(frames);
        expect(field(response, ':status')).to.equal(status);
        expect(field(response, 'sec-websocket-version')).to.equal(version);
        expect(hookCalls).to.equal(0);
        expect(seen.sockets).to.have.length(0);
        const ended = frames.filter((frame) => frame.streamId === 1 && frame.endStream);
        expect(ended, 'the refusal ends the response').to.have.length(1);
        h.finish();
      });
    }

    it('answers the hook’s refusal with 403 by default, ends it, and stops the client with RST_STREAM(NO_ERROR)', () => {
      const { h, seen } = setup({ acceptWebSocket: () => ({ accept: false }) });
      const frames = h.exchange(h.peer.headers(1, CONNECT));
      expect(field(responseOf(frames), ':status')).to.equal('403');
      expectRst(frames, 1, ErrorCode.NO_ERROR);
      expect(seen.sockets).to.have.length(0);
      h.finish();
    });

    it('answers a refusal with its status, fields and body', () => {
      const { h } = setup({
        acceptWebSocket: () => ({
          accept: false,
          status: 401,
          headers: { 'WWW-Authenticate': 'Basic' },
          body: 'who are you?',
        }),
      });
      const frames = h.exchange(h.peer.headers(1, CONNECT));
      const response = responseOf(frames);
      expect(field(response, ':status')).to.equal('401');
      expect(field(response, 'www-authenticate')).to.equal('Basic');
      expect(bodyOf(frames, 1).toString()).to.equal('who are you?\n');
      h.finish();
    });

    const failures: readonly {
      title: string;
      hook: () => WebSocketAcceptDecision | Promise<WebSocketAcceptDecision>;
    }[] = [
      {
        title: 'throws',
        hook: () => {
          throw new Error('boom');
        },
      },
      { title: 'rejects', hook: () => Promise.reject(new Error('boom')) },
      { title: 'refuses with a status outside 400–599', hook: () => ({ accept: false, status: 200 }) },
      { title: 'chooses a subprotocol the client did not offer', hook: () => ({ accept: true, protocol: 'other' }) },
      { title: 'adds a field HTTP/2 forbids', hook: () => ({ accept: true, headers: { connection: 'close' } }) },
    ];
    for (const { title, hook } of failures) {
      it(`answers 500 when the hook ${title}`, async () => {
        const { h, seen } = setup({ acceptWebSocket: hook });
        h.send(h.peer.headers(1, [...CONNECT, 'sec-websocket-protocol', 'chat']));
        const frames = await settle(h);
        expect(field(responseOf(frames), ':status')).to.equal('500');
        expect(seen.sockets).to.have.length(0);
        h.finish();
      });
    }

    it('waits for an asynchronous hook; DATA that arrives meanwhile is delivered once accepted', async () => {
      let decide: (decision: WebSocketAcceptDecision) => void = () => undefined;
      const { h, seen } = setup({ acceptWebSocket: () => new Promise((resolve) => (decide = resolve)) });
      let frames = h.exchange(h.peer.headers(1, CONNECT), h.peer.data(1, text('early')));
      expect(ofType(frames, FrameType.HEADERS), 'no response before the decision').to.have.length(0);
      decide({ accept: true });
      frames = await settle(h);
      expect(responseOf(frames)).to.deep.equal([':status', '200']);
      expect(seen.messages).to.deep.equal(['early']);
      expect(serverFrames(frames)).to.deep.equal([
        {
          kind: 'frame',
          opcode: Opcode.TEXT,
          hex: Buffer.from('early').toString('hex'),
          isMessageEnd: true,
          isCompressed: false,
        },
      ]);
      h.finish();
    });

    it('drops a stream the client reset while the hook ran: nothing is answered', async () => {
      let decide: (decision: WebSocketAcceptDecision) => void = () => undefined;
      const { h, seen } = setup({ acceptWebSocket: () => new Promise((resolve) => (decide = resolve)) });
      h.exchange(h.peer.headers(1, CONNECT), h.peer.rstStream(1, ErrorCode.CANCEL));
      decide({ accept: true });
      const frames = await settle(h);
      expect(ofType(frames, FrameType.HEADERS)).to.have.length(0);
      expect(seen.sockets).to.have.length(0);
      h.finish();
    });

    it('throws WEBSOCKET_INVALID_ARGUMENT for options without onWebSocket', () => {
      const h = serverHarness({ connection: { enableConnectProtocol: true } });
      h.exchange(h.peer.headers(1, CONNECT));
      const { stream, headers } = h.received[0];
      expect(() => acceptWebSocketOverHttp2(stream, headers, {} as WebSocketServerOptions))
        .to.throw(SluiceError)
        .with.property('code', 'WEBSOCKET_INVALID_ARGUMENT');
      h.finish();
    });
  });

  describe('the stream as the WebSocket’s channel', () => {
    it('reads frames from DATA — whole, split across DATA frames, byte by byte — and writes unmasked frames as DATA', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const frame = text('hello over h2');
      let frames = h.exchange(h.peer.data(1, frame));
      const pieces: Buffer[] = [];
      for (let i = 0; i < frame.length; i++) pieces.push(h.peer.data(1, frame.subarray(i, i + 1)));
      frames.push(...h.exchange(h.peer.data(1, frame.subarray(0, 5)), h.peer.data(1, frame.subarray(5))));
      frames.push(...h.exchange(...pieces));
      expect(seen.messages).to.deep.equal(['hello over h2', 'hello over h2', 'hello over h2']);
      const echoed = serverFrames(frames);
      expect(echoed.map((event) => event.kind)).to.deep.equal(['frame', 'frame', 'frame']);
      expectNoErrors(frames);
      frames = h.exchange(h.peer.data(1, clientFrame({ opcode: Opcode.PING, payload: 'p' })));
      expect(serverFrames(frames)).to.deep.equal([{ kind: 'pong', hex: Buffer.from('p').toString('hex') }]);
      h.finish();
    });

    it('returns HTTP/2 credit only as the application consumes messages (the stream’s flow control is the back-pressure)', async () => {
      const { h, seen } = setup({ echo: false }, { initialStreamWindowSize: 65_535 });
      h.exchange(h.peer.headers(1, CONNECT));
      const payload = 'x'.repeat(10_000);
      const sent: Buffer[] = [];
      for (let i = 0; i < 6; i++) sent.push(h.peer.data(1, text(payload)));
      const streamCredit = (frames: readonly WrittenFrame[]): number =>
        ofType(frames, FrameType.WINDOW_UPDATE)
          .filter((frame) => frame.streamId === 1)
          .reduce((sum, frame) => sum + frame.increment!, 0);
      let frames = h.exchange(...sent);
      expect(streamCredit(frames), 'nothing consumed: no stream credit back').to.equal(0);
      const socket = seen.sockets[0];
      const received: string[] = [];
      const reading = (async () => {
        for await (const message of socket) {
          received.push(message as string);
          if (received.length === 6) return;
        }
      })();
      frames = await settle(h);
      await reading;
      expect(received).to.have.length(6);
      expect(streamCredit(frames), 'consumed: the credit goes back').to.be.greaterThan(32_000);
      h.finish();
    });

    it('sends no more DATA than the client’s stream window, and the send completes once the window opens', async () => {
      const { h, seen } = setup({ echo: false });
      h.exchange(h.peer.headers(1, CONNECT));
      const socket = seen.sockets[0];
      let isSent = false;
      socket.connection.send(Buffer.alloc(200_000, 7), false, (error) => (isSent = error === null));
      const frames = await settle(h);
      const first = bodyOf(frames, 1).length;
      expect(first, 'at most the default window of 65 535 bytes').to.be.at.most(65_535).and.above(60_000);
      expect(isSent).to.equal(false);
      frames.push(...h.exchange(h.peer.windowUpdate(0, 1_000_000), h.peer.windowUpdate(1, 1_000_000)));
      frames.push(...(await settle(h)));
      expect(isSent).to.equal(true);
      const payload = serverFrames(frames).reduce((sum, event) => sum + ('hex' in event ? event.hex.length / 2 : 0), 0);
      expect(payload).to.equal(200_000);
      h.finish();
    });

    it('runs the close handshake and ends the stream with END_STREAM both ways (RFC 8441 §5)', async () => {
      const { h, seen } = setup({ echo: false });
      h.exchange(h.peer.headers(1, CONNECT));
      const closing = seen.sockets[0].close(1000, 'bye');
      let frames = await settle(h);
      expect(serverFrames(frames)).to.deep.equal([{ kind: 'close', code: 1000, reason: 'bye' }]);
      frames = h.exchange(h.peer.data(1, clientFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03, 0xe8]) })));
      frames.push(...(await settle(h)));
      const ends = frames.filter((frame) => frame.streamId === 1 && frame.endStream);
      expect(ends, 'the server ends its side (its TCP close)').to.have.length(1);
      expectNoErrors(frames);
      h.exchange(h.peer.data(1, Buffer.alloc(0), { endStream: true }));
      const event = await closing;
      expect([event.code, event.wasClean, event.error]).to.deep.equal([1000, true, null]);
      expect(h.received[0].stream.isClosed).to.equal(true);
      h.finish();
    });

    it('answers the client’s Close, then ends the stream', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const frames = h.exchange(
        h.peer.data(1, clientFrame({ opcode: Opcode.CLOSE, payload: Buffer.from([0x03, 0xe9]) })),
      );
      expect(serverFrames(frames)).to.deep.equal([{ kind: 'close', code: 1001, reason: '' }]);
      expect(frames.filter((frame) => frame.streamId === 1 && frame.endStream)).to.have.length(1);
      expectNoErrors(frames);
      h.exchange(h.peer.data(1, Buffer.alloc(0), { endStream: true }));
      expect(seen.closes).to.deep.equal([{ code: 1001, error: null }]);
      h.finish();
    });

    it('reports 1006 with the stream error when the client resets the stream, and writes nothing more', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const frames = h.exchange(h.peer.rstStream(1, ErrorCode.CANCEL));
      expect(seen.closes).to.deep.equal([{ code: 1006, error: 'HTTP2_CANCEL' }]);
      expect(frames.filter((frame) => frame.streamId === 1)).to.deep.equal([]);
      h.finish();
    });

    it('treats the client’s END_STREAM without a Close as the end of the connection: 1006, HTTP2_STREAM_ENDED, END_STREAM back', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const frames = h.exchange(h.peer.data(1, text('last'), { endStream: true }));
      expect(seen.messages, 'what came before the end is delivered').to.deep.equal(['last']);
      expect(seen.closes).to.deep.equal([{ code: 1006, error: 'HTTP2_STREAM_ENDED' }]);
      expect(frames.filter((frame) => frame.streamId === 1 && frame.endStream)).to.have.length(1);
      expectNoErrors(frames);
      expect(h.received[0].stream.isClosed).to.equal(true);
      h.finish();
    });

    it('fails the connection on a protocol error: Close 1002, then RST_STREAM(CANCEL)', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const unmasked = Buffer.from([0x81, 0x02, 0x68, 0x69]);
      const frames = h.exchange(h.peer.data(1, unmasked));
      expect(serverFrames(frames)).to.deep.equal([{ kind: 'close', code: 1002, reason: '' }]);
      expectRst(frames, 1, ErrorCode.CANCEL);
      expect(seen.closes).to.deep.equal([{ code: 1006, error: 'WEBSOCKET_UNMASKED_FRAME' }]);
      h.finish();
    });

    it('resets the stream with RST_STREAM(CANCEL) when the WebSocket’s channel is aborted', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT));
      const channel = seen.sockets[0].connection.channelSlot!.channel;
      channel.shutdown(new SluiceError({ code: 'TEST_ABORT', message: 'abort' }), true);
      const frames = h.flush();
      expectRst(frames, 1, ErrorCode.CANCEL);
      expect(seen.closes).to.deep.equal([{ code: 1006, error: 'TEST_ABORT' }]);
      h.finish();
    });

    it('ends every WebSocket when the HTTP/2 connection fails', () => {
      const { h, seen } = setup();
      h.exchange(h.peer.headers(1, CONNECT), h.peer.headers(3, CONNECT));
      h.exchange(h.peer.goaway(0, ErrorCode.INTERNAL_ERROR));
      h.finish();
      expect(seen.closes.map((close) => close.code)).to.deep.equal([1006, 1006]);
    });

    it('serves several WebSockets and ordinary streams on one connection', () => {
      const { h, seen } = setup();
      const frames = h.exchange(
        h.peer.headers(1, CONNECT),
        h.peer.headers(3, CONNECT),
        h.peer.data(3, text('three')),
        h.peer.data(1, text('one')),
      );
      expect(seen.messages).to.deep.equal(['three', 'one']);
      expect(decodeWithCuts(bodyOf(frames, 3), [], { role: 'client' })).to.have.length(1);
      expectNoErrors(frames);
      h.finish();
    });
  });
});
