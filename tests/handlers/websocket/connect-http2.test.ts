/**
 * connectWebSocket with `http2: true` over real loopback TLS: against sluice's one-API
 * `createServer({ tls, webSocket })` the WebSocket runs on an RFC 8441 extended CONNECT (the
 * server sees `httpVersion: '2'`); against a node:http2 server whose SETTINGS do not enable
 * extended CONNECT it falls back to an HTTP/1.1 upgrade on a second connection; against a TLS
 * server offering only http/1.1 it upgrades on the same connection; `ws://` and the default
 * `http2: false` upgrade over HTTP/1.1. Failures over HTTP/2 (a refusal, a server that never
 * answers the CONNECT or never sends its SETTINGS) reject with their codes and leave no
 * connection open: every client channel is watched through the `pipeline` option.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Channel } from '../../../lib/index.js';
import { createServer, type HttpServerListener } from '../../../handlers/http1/index.js';
import { connectWebSocket, type WebSocketConnectOptions } from '../../../handlers/websocket/api/connect.js';
import type { WebSocketRequest } from '../../../handlers/websocket/api/server-hooks.js';
import { WebSocketHandshakeError } from '../../../handlers/websocket/errors.js';
import { codeOf } from '../../support/error-codes.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { pem } from '../tls/tls-test-kit.js';
import { echo, nextMessage, pattern, text } from './messages.js';
import { echoMessages } from './ws-echo-server.js';

/** Options that trust the fixtures' CA and record every client channel opened. */
function watched(channels: Channel[], options: WebSocketConnectOptions = {}): WebSocketConnectOptions {
  return { tls: { ca: pem.ca }, ...options, pipeline: (channel) => channels.push(channel) };
}

/** Resolves once every channel in `channels` has shut down (the test's timeout bounds the wait). */
async function allShutDown(channels: readonly Channel[]): Promise<void> {
  await Promise.all(channels.map((channel) => channel.whenShutdown));
}

const CLIENT_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const FRAME_HEADERS = 0x1;
const FRAME_SETTINGS = 0x4;
const FRAME_GOAWAY = 0x7;

/** The types of the frames after the client preface in `bytes` (RFC 9113 §4.1: type is byte 3). */
function frameTypes(bytes: Buffer): number[] {
  expect(bytes.subarray(0, CLIENT_PREFACE.length).toString('latin1')).to.equal(CLIENT_PREFACE);
  const types: number[] = [];
  for (let offset = CLIENT_PREFACE.length; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) {
    types.push(bytes[offset + 3]);
  }
  return types;
}

/** Terminates the `ws` connections, then closes `server` once its connections are gone. */
async function stopServers(webSockets: WebSocketServer, server: net.Server): Promise<void> {
  for (const peer of webSockets.clients) peer.terminate();
  webSockets.close();
  if (server instanceof https.Server) server.closeAllConnections();
  await closeServer(server);
}

/** What `promise` rejected with (it must reject). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('resolved, expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('connectWebSocket over HTTP/2 (RFC 8441) or HTTP/1.1, chosen by http2 and ALPN', function () {
  this.timeout(20_000);

  describe("against sluice's one-API createServer({ tls, webSocket })", () => {
    let listener: HttpServerListener;
    let cleartext: HttpServerListener;
    let requests: WebSocketRequest[];

    before(async () => {
      // The hook records each request: it runs before the answer, so before the client resolves.
      const webSocket = {
        perMessageDeflate: {},
        acceptWebSocket: (request: WebSocketRequest) => {
          requests.push(request);
          return request.path === '/refused'
            ? { accept: false as const, status: 403, body: 'no' }
            : { accept: true as const, ...(request.protocols.includes('chat') ? { protocol: 'chat' } : {}) };
        },
        onWebSocket: echo,
      };
      const plain = (): void => undefined;
      listener = await createServer({ tls: { cert: pem.serverCert, key: pem.serverKey }, webSocket }, plain).listen();
      cleartext = await createServer({ webSocket }, plain).listen();
    });

    beforeEach(() => {
      requests = [];
    });

    after(async () => {
      await listener.close();
      await cleartext.close();
    });

    const url = (path: string): string => `wss://localhost:${listener.port}${path}`;

    it('runs over HTTP/2 (the server sees httpVersion 2), echoes, and closes its session with it', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(
        url('/chat?room=7'),
        watched(channels, { http2: true, protocols: ['chat'] }),
      );
      expect(requests.map((request) => [request.httpVersion, request.path])).to.deep.equal([['2', '/chat?room=7']]);
      expect(socket.protocol).to.equal('chat');
      expect(socket.extensions).to.equal('permessage-deflate');
      for (const size of [0, 125, 65_536]) {
        const binary = pattern(size, size + 3);
        await socket.send(binary);
        expect(Buffer.from((await nextMessage(socket)) as Uint8Array).equals(binary), `binary ${size}`).to.equal(true);
        await socket.send(text(size));
        expect(await nextMessage(socket), `text ${size}`).to.equal(text(size));
      }
      expect(channels.length).to.equal(1);
      expect(channels[0].isShuttingDown).to.equal(false);
      const event = await socket.close(1000, 'done');
      expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      // The WebSocket owned the HTTP/2 session: its connection closes too.
      expect(await channels[0].whenShutdown).to.equal(null);
    });

    it('sends the caller’s headers as lower-case HTTP/2 fields, without connection-specific ones', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(
        url('/headers'),
        watched(channels, {
          http2: true,
          perMessageDeflate: false,
          headers: {
            Origin: 'https://app.example',
            'X-Trace': ['1', '2'],
            'Keep-Alive': 'timeout=5',
            'Proxy-Connection': 'keep-alive',
            TE: 'gzip',
          },
        }),
      );
      const [request] = requests;
      expect(request.httpVersion).to.equal('2');
      expect(request.origin).to.equal('https://app.example');
      expect(request.headers['x-trace']).to.deep.equal(['1', '2']);
      expect(request.headers['keep-alive']).to.equal(undefined);
      expect(request.headers['proxy-connection']).to.equal(undefined);
      expect(request.headers.te).to.equal(undefined);
      expect(request.authority).to.equal(`localhost:${listener.port}`);
      expect(socket.extensions).to.equal('');
      await socket.close();
      await allShutDown(channels);
    });

    it('upgrades over HTTP/1.1 with http2 false, the default (httpVersion 1.1)', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(url('/default'), watched(channels));
      expect(requests.map((request) => request.httpVersion)).to.deep.equal(['1.1']);
      await socket.send('over http/1.1');
      expect(await nextMessage(socket)).to.equal('over http/1.1');
      await socket.close();
      await allShutDown(channels);
    });

    it('upgrades ws:// over HTTP/1.1 even with http2 true (RFC 8441 needs ALPN)', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(
        `ws://127.0.0.1:${cleartext.port}/plain`,
        watched(channels, { http2: true }),
      );
      expect(requests.map((request) => request.httpVersion)).to.deep.equal(['1.1']);
      await socket.close();
      await allShutDown(channels);
    });

    it('rejects a 403 over HTTP/2 with WEBSOCKET_UNEXPECTED_STATUS carrying the status, session closed', async () => {
      const channels: Channel[] = [];
      const error = await rejectionOf(connectWebSocket(url('/refused'), watched(channels, { http2: true })));
      expect(error).to.be.instanceOf(WebSocketHandshakeError);
      expect([codeOf(error), (error as WebSocketHandshakeError).response?.status]).to.deep.equal([
        'WEBSOCKET_UNEXPECTED_STATUS',
        403,
      ]);
      expect(channels.length).to.equal(1);
      expect(channels[0].isShutDown).to.equal(true);
      expect(requests.map((request) => request.httpVersion)).to.deep.equal(['2']);
    });

    it('refuses two Origin fields (RFC 6454 §7.3) before connecting: WEBSOCKET_INVALID_ARGUMENT', async () => {
      const channels: Channel[] = [];
      const options = watched(channels, {
        http2: true,
        headers: { Origin: ['https://a.example', 'https://b.example'] },
      });
      expect(codeOf(await rejectionOf(connectWebSocket(url('/'), options)))).to.equal('WEBSOCKET_INVALID_ARGUMENT');
      expect(channels).to.deep.equal([]);
    });
  });

  describe('against a node:http2 server whose SETTINGS do not enable extended CONNECT (allowHTTP1, ws)', () => {
    let server: http2.Http2SecureServer;
    let port: number;
    let alpn: (string | false | null)[];
    let h2Sessions: http2.ServerHttp2Session[];
    let upgrades: { httpVersion: string; url: string | undefined }[];
    let webSockets: WebSocketServer;

    before(async () => {
      server = http2.createSecureServer({
        cert: pem.serverCert,
        key: pem.serverKey,
        allowHTTP1: true,
        settings: { enableConnectProtocol: false },
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => alpn.push(socket.alpnProtocol));
      server.on('session', (session: http2.ServerHttp2Session) => {
        session.on('error', () => undefined);
        h2Sessions.push(session);
      });
      webSockets = new WebSocketServer({ noServer: true, perMessageDeflate: true });
      webSockets.on('connection', (peer, request) => {
        upgrades.push({ httpVersion: request.httpVersion, url: request.url });
        echoMessages(peer);
      });
      server.on(
        'upgrade',
        (request: Parameters<WebSocketServer['handleUpgrade']>[0], socket: net.Socket, head: Buffer) =>
          webSockets.handleUpgrade(request, socket, head, (peer) => webSockets.emit('connection', peer, request)),
      );
      port = await listenOnLoopback(server);
    });

    beforeEach(() => {
      alpn = [];
      h2Sessions = [];
      upgrades = [];
    });

    after(() => stopServers(webSockets, server));

    it('closes the HTTP/2 session and upgrades over HTTP/1.1 on a second connection', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(
        `wss://localhost:${port}/fallback`,
        watched(channels, { http2: true, protocols: [] }),
      );
      // First h2 (nothing sent on it but the preface and SETTINGS), then a connection of its own.
      expect(alpn).to.deep.equal(['h2', 'http/1.1']);
      expect(h2Sessions.length).to.equal(1);
      expect(upgrades).to.deep.equal([{ httpVersion: '1.1', url: '/fallback' }]);
      expect(channels.length).to.equal(2);
      expect(await channels[0].whenShutdown).to.equal(null);
      expect(socket.extensions).to.equal('permessage-deflate');
      await socket.send('after the fallback');
      expect(await nextMessage(socket)).to.equal('after the fallback');
      const event = await socket.close(1000);
      expect(event.wasClean).to.equal(true);
      await allShutDown(channels);
    });

    it('with http2 false offers only http/1.1: one connection', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(`wss://localhost:${port}/only`, watched(channels));
      expect(alpn).to.deep.equal(['http/1.1']);
      expect(h2Sessions.length).to.equal(0);
      await socket.close();
      await allShutDown(channels);
    });
  });

  describe('against a TLS server offering only http/1.1 (https.createServer and ws)', () => {
    let server: https.Server;
    let port: number;
    let alpn: (string | false | null)[];
    let webSockets: WebSocketServer;
    let versions: string[];

    before(async () => {
      server = https.createServer({ cert: pem.serverCert, key: pem.serverKey, ALPNProtocols: ['http/1.1'] });
      server.on('secureConnection', (socket: tls.TLSSocket) => alpn.push(socket.alpnProtocol));
      webSockets = new WebSocketServer({ server });
      webSockets.on('connection', (peer, request) => {
        versions.push(request.httpVersion);
        echoMessages(peer);
      });
      port = await listenOnLoopback(server);
    });

    beforeEach(() => {
      alpn = [];
      versions = [];
    });

    after(() => stopServers(webSockets, server));

    it('upgrades over HTTP/1.1 on the one connection ALPN chose it on', async () => {
      const channels: Channel[] = [];
      const socket = await connectWebSocket(`wss://localhost:${port}/same`, watched(channels, { http2: true }));
      expect(alpn).to.deep.equal(['http/1.1']);
      expect(versions).to.deep.equal(['1.1']);
      expect(channels.length).to.equal(1);
      await socket.send(pattern(1000, 1));
      expect(Buffer.from((await nextMessage(socket)) as Uint8Array).equals(pattern(1000, 1))).to.equal(true);
      await socket.close();
      await allShutDown(channels);
    });
  });

  describe('HTTP/2 servers that never answer: WEBSOCKET_HANDSHAKE_TIMEOUT, nothing left open', () => {
    it('a node:http2 server that enables extended CONNECT and never answers it: the stream is reset (CANCEL)', async () => {
      const server = http2.createSecureServer({
        cert: pem.serverCert,
        key: pem.serverKey,
        settings: { enableConnectProtocol: true },
      });
      const sessions: http2.ServerHttp2Session[] = [];
      server.on('session', (session: http2.ServerHttp2Session) => {
        session.on('error', () => undefined);
        sessions.push(session);
      });
      const resets: Promise<number>[] = [];
      server.on('stream', (stream: http2.ServerHttp2Stream) => {
        stream.on('error', () => undefined);
        resets.push(new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode))));
      });
      const port = await listenOnLoopback(server);
      try {
        const channels: Channel[] = [];
        const outcome = connectWebSocket(
          `wss://localhost:${port}/silent`,
          watched(channels, { http2: true, handshakeTimeoutMs: 300 }),
        );
        expect(codeOf(await rejectionOf(outcome))).to.equal('WEBSOCKET_HANDSHAKE_TIMEOUT');
        expect(channels.length).to.equal(1);
        expect(channels[0].isShutDown).to.equal(true);
        expect(resets.length).to.equal(1);
        expect(await resets[0]).to.equal(http2.constants.NGHTTP2_CANCEL);
        expect(sessions.length).to.equal(1);
        if (!sessions[0].closed) await once(sessions[0], 'close');
      } finally {
        await closeServer(server);
      }
    });

    it('a TLS server that picks h2 and never sends its SETTINGS: the wait for them times out', async () => {
      const received: Buffer[] = [];
      const sockets = new Set<tls.TLSSocket>();
      const server = tls.createServer({ cert: pem.serverCert, key: pem.serverKey, ALPNProtocols: ['h2'] }, (socket) => {
        sockets.add(socket);
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      });
      const port = await listenOnLoopback(server);
      try {
        const channels: Channel[] = [];
        const outcome = connectWebSocket(
          `wss://localhost:${port}/`,
          watched(channels, { http2: true, handshakeTimeoutMs: 300 }),
        );
        expect(codeOf(await rejectionOf(outcome))).to.equal('WEBSOCKET_HANDSHAKE_TIMEOUT');
        expect(channels[0].isShutDown).to.equal(true);
        for (const socket of sockets) if (!socket.closed) await once(socket, 'close');
        // The preface and our SETTINGS went (and a WINDOW_UPDATE), then a GOAWAY when the session
        // closed: no HEADERS before the server's SETTINGS (RFC 8441 §3).
        const types = frameTypes(Buffer.concat(received));
        expect([types[0], types[types.length - 1]]).to.deep.equal([FRAME_SETTINGS, FRAME_GOAWAY]);
        expect(types).to.not.include(FRAME_HEADERS);
      } finally {
        await closeServer(server);
      }
    });
  });
});
