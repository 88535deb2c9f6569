/**
 * connectWebSocket over real loopback sockets: against the `ws` package as the server (messages
 * up to 64 KiB both ways with permessage-deflate on and off, fragments, ping/pong, every close
 * path, request headers, subprotocols, wss:// on an `https` server) and against raw `node:net`
 * servers that answer what `ws` never would (the 101 and a frame in one write, a wrong accept,
 * silence, half a response). Every failure rejects with its code and leaves no socket open. The
 * big messages are in tests/interop/websocket.test.ts.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import https from 'node:https';
import type net from 'node:net';
import '../../../handlers/socket/index.js';
import { SluiceError } from '../../../lib/index.js';
import { connectWebSocket, type WebSocketConnectOptions } from '../../../handlers/websocket/api/connect.js';
import type { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import { WebSocketHandshakeError } from '../../../handlers/websocket/errors.js';
import { computeAcceptKey } from '../../../handlers/websocket/wire/handshake.js';
import { netServerOnLoopback, refusingLoopbackPort, type LoopbackNetServer } from '../../support/loopback.js';
import { until } from '../../support/waiting.js';
import { pem } from '../tls/tls-test-kit.js';
import { bytePattern, mixedText, wsEchoServer, type WsEchoServer } from './ws-echo-server.js';

const FAST_SIZES = [0, 1, 125, 126, 65_535, 65_536];

/** The code `promise` rejected with, or `'resolved'`. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof SluiceError ? error.code : `not a SluiceError: ${String(error)}`;
  }
}

/** The next message of `socket`. */
async function next(socket: WebSocket): Promise<string | Uint8Array> {
  const result = await socket[Symbol.asyncIterator]().next();
  if (result.done === true) throw new Error('the WebSocket closed before a message');
  return result.value;
}

describe('connectWebSocket', function () {
  this.timeout(30_000);

  describe('refuses bad arguments before connecting', () => {
    const CASES: readonly [string, unknown, unknown, string][] = [
      ['a string that is not a URL', 'not a url', undefined, 'IO_INVALID_URL'],
      ['a number', 42, undefined, 'IO_INVALID_URL'],
      ['a URL with a fragment (RFC 6455 §3)', 'ws://127.0.0.1:1/#part', undefined, 'IO_INVALID_URL'],
      ['an empty fragment', 'ws://127.0.0.1:1/#', undefined, 'IO_INVALID_URL'],
      ['an ftp: URL', 'ftp://127.0.0.1/', undefined, 'WEBSOCKET_UNSUPPORTED_SCHEME'],
      ['options that are not an object', 'ws://127.0.0.1:1/', 'yes', 'WEBSOCKET_INVALID_ARGUMENT'],
      ['a subprotocol that is not a token', 'ws://127.0.0.1:1/', { protocols: ['a b'] }, 'WEBSOCKET_INVALID_ARGUMENT'],
      ['a subprotocol offered twice', 'ws://127.0.0.1:1/', { protocols: ['a', 'a'] }, 'WEBSOCKET_INVALID_ARGUMENT'],
      ['protocols as a string', 'ws://127.0.0.1:1/', { protocols: 'chat' }, 'WEBSOCKET_INVALID_ARGUMENT'],
      ['the Upgrade header', 'ws://127.0.0.1:1/', { headers: { Upgrade: 'h2c' } }, 'WEBSOCKET_INVALID_ARGUMENT'],
      [
        'a Sec-WebSocket-Key header',
        'ws://127.0.0.1:1/',
        { headers: { 'sec-websocket-key': 'x' } },
        'WEBSOCKET_INVALID_ARGUMENT',
      ],
      [
        'a header value with CRLF',
        'ws://127.0.0.1:1/',
        { headers: { Origin: 'a\r\nb: c' } },
        'WEBSOCKET_INVALID_ARGUMENT',
      ],
      ['a header name with a space', 'ws://127.0.0.1:1/', { headers: { 'x y': '1' } }, 'WEBSOCKET_INVALID_ARGUMENT'],
      [
        'deflate window bits out of range',
        'ws://127.0.0.1:1/',
        { perMessageDeflate: { serverMaxWindowBits: 16 } },
        'WEBSOCKET_INVALID_ARGUMENT',
      ],
      ['a negative handshake timeout', 'ws://127.0.0.1:1/', { handshakeTimeoutMs: -1 }, 'WEBSOCKET_INVALID_ARGUMENT'],
      [
        'a connection option out of range',
        'ws://127.0.0.1:1/',
        { connection: { maxMessageSize: -1 } },
        'WEBSOCKET_INVALID_ARGUMENT',
      ],
      ['http2 that is not a boolean', 'ws://127.0.0.1:1/', { http2: 'yes' }, 'WEBSOCKET_INVALID_ARGUMENT'],
      ['tls that is not an object', 'wss://127.0.0.1:1/', { tls: true }, 'WEBSOCKET_INVALID_ARGUMENT'],
    ];
    for (const [name, url, options, code] of CASES) {
      it(`${name}: ${code}`, async () => {
        expect(await rejection(connectWebSocket(url as string, options as WebSocketConnectOptions))).to.equal(code);
      });
    }
  });

  for (const deflate of [false, true]) {
    describe(`against a ws server, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
      let peer: WsEchoServer;
      before(async () => {
        peer = await wsEchoServer({ perMessageDeflate: deflate });
      });
      after(() => peer.close());

      const url = (): string => `ws://127.0.0.1:${peer.port}/echo`;
      const open = (options: WebSocketConnectOptions = {}): Promise<WebSocket> =>
        connectWebSocket(url(), { perMessageDeflate: deflate, ...options });

      it(`negotiates the extension (${deflate ? "'permessage-deflate'" : "''"}) and echoes text and binary from 0 B to 64 KiB`, async () => {
        const socket = await open();
        expect(socket.extensions).to.equal(deflate ? 'permessage-deflate' : '');
        expect(peer.lastPeer().extensions).to.equal(deflate ? 'permessage-deflate' : '');
        for (const size of FAST_SIZES) {
          const binary = bytePattern(size, size);
          await socket.send(binary);
          const back = await next(socket);
          expect(back, `binary ${size}`).to.be.instanceOf(Uint8Array);
          expect(Buffer.from(back as Uint8Array).equals(binary), `binary ${size}`).to.equal(true);
          const string = mixedText(size);
          await socket.send(string);
          expect((await next(socket)) === string, `text ${size}`).to.equal(true);
        }
        const event = await socket.close(1000, 'done');
        expect([event.code, event.reason, event.wasClean]).to.deep.equal([1000, 'done', true]);
      });

      it('offers nothing with perMessageDeflate: false even when the server would accept', async () => {
        const socket = await connectWebSocket(url(), { perMessageDeflate: false });
        expect(socket.extensions).to.equal('');
        expect(peer.requests[peer.requests.length - 1].headers['sec-websocket-extensions']).to.equal(undefined);
        await socket.close();
      });

      it('reads a message the server sends in fragments (fin: false)', async () => {
        const socket = await open();
        await socket.send('fragments please');
        expect(await next(socket)).to.equal('onetwothree');
        await socket.close();
      });

      it('pings the server and answers its pings', async () => {
        const socket = await open();
        expect(await socket.ping())
          .to.be.a('number')
          .and.at.least(0);
        const server = peer.lastPeer();
        const pong = once(server, 'pong');
        server.ping(Buffer.from('hello?'));
        expect(((await pong)[0] as Buffer).toString()).to.equal('hello?');
        await socket.close();
      });

      it('client-initiated close: the server sees the code and reason', async () => {
        const socket = await open();
        const server = peer.lastPeer();
        const serverClosed = once(server, 'close');
        const event = await socket.close(4001, 'client says bye');
        expect([event.code, event.reason, event.wasClean]).to.deep.equal([4001, 'client says bye', true]);
        const [code, reason] = (await serverClosed) as [number, Buffer];
        expect([code, reason.toString()]).to.deep.equal([4001, 'client says bye']);
      });

      it('server-initiated close: the client sees the code and reason, and the iteration ends', async () => {
        const socket = await open();
        const server = peer.lastPeer();
        server.close(4002, 'server says bye');
        const messages: unknown[] = [];
        for await (const message of socket) messages.push(message);
        expect(messages).to.deep.equal([]);
        const event = await socket.closed;
        expect([event.code, event.reason, event.wasClean, event.error]).to.deep.equal([
          4002,
          'server says bye',
          true,
          null,
        ]);
      });

      it('the server terminates the TCP connection: 1006, not clean', async () => {
        const socket = await open();
        await socket.send('sync');
        await next(socket);
        peer.lastPeer().terminate();
        const event = await socket.closed;
        expect([event.code, event.wasClean]).to.deep.equal([1006, false]);
        expect(await rejection(socket.send('late'))).to.equal('WEBSOCKET_CONNECTION_CLOSED');
      });
    });
  }

  describe('the upgrade request', () => {
    let peer: WsEchoServer;
    before(async () => {
      peer = await wsEchoServer({ handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false) });
    });
    after(() => peer.close());

    it('carries Host, the path and query, the subprotocols and the extra headers', async () => {
      const socket = await connectWebSocket(`ws://127.0.0.1:${peer.port}/rooms/7?token=abc`, {
        protocols: ['chat.v1', 'chat.v2'],
        headers: { Origin: 'https://app.example', 'X-Trace': ['1', '2'] },
      });
      expect(socket.protocol).to.equal('chat.v2');
      const request = peer.requests[peer.requests.length - 1];
      expect(request.url).to.equal('/rooms/7?token=abc');
      expect(request.headers.host).to.equal(`127.0.0.1:${peer.port}`);
      expect(request.headers.origin).to.equal('https://app.example');
      expect(request.headers['x-trace']).to.equal('1, 2');
      expect(request.headers['sec-websocket-protocol']).to.equal('chat.v1, chat.v2');
      expect(request.headers['sec-websocket-version']).to.equal('13');
      expect(request.headers['sec-websocket-extensions']).to.equal('permessage-deflate; client_max_window_bits');
      await socket.close();
    });

    it('sends the URL’s credentials as Basic authorization, and Host when given', async () => {
      const socket = await connectWebSocket(`ws://user:p%40ss@127.0.0.1:${peer.port}/`, {
        headers: { Host: 'chat.example' },
      });
      const request = peer.requests[peer.requests.length - 1];
      expect(request.headers.authorization).to.equal(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
      expect(request.headers.host).to.equal('chat.example');
      expect(socket.protocol).to.equal(undefined);
      await socket.close();
    });
  });

  describe('failures reject with a code and leave nothing open', () => {
    let raw: LoopbackNetServer | null = null;
    afterEach(async () => {
      await raw?.close();
      raw = null;
    });

    /** A raw server that reads the upgrade request, then does `answer` with its key. */
    async function rawServer(answer: (socket: net.Socket, key: string) => void): Promise<LoopbackNetServer> {
      raw = await netServerOnLoopback((socket) => {
        let head = '';
        const onData = (chunk: Buffer): void => {
          head += chunk.toString('latin1');
          const key = /Sec-WebSocket-Key: (\S+)/i.exec(head)?.[1];
          if (!head.includes('\r\n\r\n') || key === undefined) return;
          socket.off('data', onData);
          socket.resume();
          answer(socket, key);
        };
        socket.on('data', onData);
      });
      return raw;
    }

    /** Waits until the server side saw its socket closed: the client shut its channel down. */
    async function expectNoConnectionLeft(server: LoopbackNetServer): Promise<void> {
      expect(server.acceptedCount).to.equal(1);
      await until(() => server.sockets.size === 0, 'the client closed its connection');
    }

    it('connection refused: IO_CONNECTION_REFUSED', async () => {
      const port = await refusingLoopbackPort();
      expect(await rejection(connectWebSocket(`ws://127.0.0.1:${port}/`))).to.equal('IO_CONNECTION_REFUSED');
    });

    it('a server frame in the same write as the 101 is the first message', async () => {
      const server = await rawServer((socket, key) => {
        socket.write(
          Buffer.concat([
            Buffer.from(
              'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
            ),
            Buffer.from([0x81, 0x05]),
            Buffer.from('first'),
          ]),
        );
      });
      const socket = await connectWebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: false });
      expect(await next(socket)).to.equal('first');
      socket.connection.channelSlot?.channel.shutdown(null, true);
      await socket.closed;
    });

    it('a status other than 101: WEBSOCKET_UNEXPECTED_STATUS with the status and headers', async () => {
      const peer = await wsEchoServer({
        verifyClient: (_info, callback) => callback(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' }),
      });
      try {
        let caught: unknown = null;
        await connectWebSocket(`ws://127.0.0.1:${peer.port}/`).catch((error: unknown) => (caught = error));
        expect(caught).to.be.instanceOf(WebSocketHandshakeError);
        const error = caught as WebSocketHandshakeError;
        expect([error.code, error.response?.status]).to.deep.equal(['WEBSOCKET_UNEXPECTED_STATUS', 401]);
        expect(error.response?.headers['www-authenticate']).to.equal('Bearer');
      } finally {
        await peer.close();
      }
    });

    it('a subprotocol that was not offered: WEBSOCKET_UNEXPECTED_SUBPROTOCOL', async () => {
      const peer = await wsEchoServer({ handleProtocols: () => 'evil' });
      try {
        const outcome = rejection(connectWebSocket(`ws://127.0.0.1:${peer.port}/`, { protocols: ['good'] }));
        expect(await outcome).to.equal('WEBSOCKET_UNEXPECTED_SUBPROTOCOL');
      } finally {
        await peer.close();
      }
    });

    it('a wrong Sec-WebSocket-Accept: WEBSOCKET_INVALID_ACCEPT, connection closed', async () => {
      const server = await rawServer((socket) =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${computeAcceptKey('not our key')}\r\n\r\n`,
        ),
      );
      expect(await rejection(connectWebSocket(`ws://127.0.0.1:${server.port}/`))).to.equal('WEBSOCKET_INVALID_ACCEPT');
      await expectNoConnectionLeft(server);
    });

    it('an extension that was not offered: WEBSOCKET_UNEXPECTED_EXTENSION, connection closed', async () => {
      const server = await rawServer((socket, key) =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
        ),
      );
      const outcome = rejection(connectWebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: false }));
      expect(await outcome).to.equal('WEBSOCKET_UNEXPECTED_EXTENSION');
      await expectNoConnectionLeft(server);
    });

    it('no answer: WEBSOCKET_HANDSHAKE_TIMEOUT, connection closed', async () => {
      const server = await rawServer(() => undefined);
      const outcome = rejection(connectWebSocket(`ws://127.0.0.1:${server.port}/`, { handshakeTimeoutMs: 200 }));
      expect(await outcome).to.equal('WEBSOCKET_HANDSHAKE_TIMEOUT');
      await expectNoConnectionLeft(server);
    });

    it('the server closes mid-response: WEBSOCKET_HANDSHAKE_CLOSED', async () => {
      const server = await rawServer((socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs'));
      expect(await rejection(connectWebSocket(`ws://127.0.0.1:${server.port}/`))).to.equal(
        'WEBSOCKET_HANDSHAKE_CLOSED',
      );
      await expectNoConnectionLeft(server);
    });

    it('a close the server never answers: the close times out with WEBSOCKET_CLOSE_TIMEOUT (1006)', async () => {
      const server = await rawServer((socket, key) =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
        ),
      );
      const socket = await connectWebSocket(`ws://127.0.0.1:${server.port}/`, { connection: { closeTimeoutMs: 200 } });
      const event = await socket.close(1000);
      expect([event.code, event.wasClean, event.error?.code]).to.deep.equal([1006, false, 'WEBSOCKET_CLOSE_TIMEOUT']);
      await expectNoConnectionLeft(server);
    });
  });

  describe('wss:// against a ws server on https.createServer', () => {
    let httpsServer: https.Server;
    let peer: WsEchoServer;
    before(async () => {
      httpsServer = https.createServer({ cert: pem.serverCert, key: pem.serverKey });
      await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
      peer = await wsEchoServer({ server: httpsServer, perMessageDeflate: true });
    });
    after(async () => {
      await peer.close();
      httpsServer.closeAllConnections();
      await new Promise((resolve) => httpsServer.close(resolve));
    });

    it('echoes over TLS, trusting the server’s CA, with permessage-deflate', async () => {
      const socket = await connectWebSocket(`wss://localhost:${peer.port}/secure`, { tls: { ca: pem.ca } });
      expect(socket.extensions).to.equal('permessage-deflate');
      const data = bytePattern(65_536, 3);
      await socket.send(data);
      expect(Buffer.from((await next(socket)) as Uint8Array).equals(data)).to.equal(true);
      await socket.send('over tls');
      expect(await next(socket)).to.equal('over tls');
      const event = await socket.close(1000);
      expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      expect(peer.requests[peer.requests.length - 1].url).to.equal('/secure');
    });

    it('refuses a certificate nobody trusts: TLS_CERTIFICATE_UNTRUSTED', async () => {
      expect(await rejection(connectWebSocket(`wss://localhost:${peer.port}/`))).to.equal('TLS_CERTIFICATE_UNTRUSTED');
    });

    it('connects without verification when asked (rejectUnauthorized: false)', async () => {
      const socket = await connectWebSocket(`wss://127.0.0.1:${peer.port}/`, { tls: { rejectUnauthorized: false } });
      await socket.send('insecure');
      expect(await next(socket)).to.equal('insecure');
      await socket.close();
    });
  });
});
