/**
 * WebSocket over HTTP/2 (RFC 8441) against peers nobody here wrote, over real loopback sockets:
 *
 * (a) `node:http2`'s client sends the extended CONNECT to sluice's server (`createServer` of
 *     `sluice/http2` with `handleWebSocketStream`), and the `ws` package's `Receiver` and `Sender`
 *     speak WebSocket on node's stream;
 * (b) sluice's client (`connectWebSocketOverHttp2`) against a `node:http2` server created with
 *     `settings: { enableConnectProtocol: true }`, running `ws`'s codec in the server role.
 *
 * Text and binary from 0 B to 1 MiB, Ping/Pong both ways, the close handshake started by either
 * side, permessage-deflate, refusals, resets, and the fallback signal when extended CONNECT is off.
 * `npm run test:interop`.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import http2 from 'node:http2';
import { connect, type Http2Session } from '../../handlers/http2/api/session.js';
import { connectWebSocket } from '../../handlers/websocket/api/connect.js';
import { connectWebSocketOverHttp2 } from '../../handlers/websocket/api/http2-client.js';
import { WebSocketUnexpectedStatusError } from '../../handlers/websocket/errors.js';
import { NodeWebSocket } from '../handlers/websocket/node-h2-websocket.js';
import {
  nextMessage,
  pattern,
  startHttp2WebSocketServer as sluiceServer,
  text,
  type Http2WebSocketServer as SluiceServer,
} from '../handlers/websocket/messages.js';
import { ws } from '../handlers/websocket/ws-codec.js';
import { codeOf } from '../support/error-codes.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';
import { pem } from '../handlers/tls/tls-test-kit.js';

const SIZES = [0, 1, 125, 126, 65_535, 65_536, 1024 * 1024];

/** A node client session, once the server's SETTINGS arrived. */
async function nodeSession(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  session.on('error', () => undefined);
  await once(session, 'remoteSettings');
  return session;
}

/** node's extended CONNECT: the stream, and the response headers. */
async function nodeConnect(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ stream: http2.ClientHttp2Stream; response: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader }> {
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':path': '/chat',
    'sec-websocket-version': '13',
    ...headers,
  });
  stream.on('error', () => undefined);
  const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader];
  return { stream, response };
}

describe('WebSocket over HTTP/2 interop: node:http2 client with ws’s codec → sluice server', function () {
  this.timeout(60_000);
  let server: SluiceServer;
  let session: http2.ClientHttp2Session;

  beforeEach(async () => {
    server = await sluiceServer();
    session = await nodeSession(server.url);
  });

  afterEach(async () => {
    session.destroy();
    await server.listener.close();
  });

  it('node sees SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and gets 200 without sec-websocket-accept', async () => {
    expect(session.remoteSettings.enableConnectProtocol).to.equal(true);
    const { stream, response } = await nodeConnect(session, { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    expect(response[':status']).to.equal(200);
    expect(response['sec-websocket-accept']).to.equal(undefined);
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });

  for (const size of SIZES) {
    it(`echoes a ${size}-byte binary and a ${size}-character text message`, async () => {
      const { stream } = await nodeConnect(session);
      const peer = new NodeWebSocket(stream, 'client');
      const binary = pattern(size, size);
      await peer.send(binary);
      const back = await peer.nextMessage();
      expect(back.isBinary).to.equal(true);
      expect(back.data.equals(binary)).to.equal(true);
      const message = text(size);
      await peer.send(message);
      const textBack = await peer.nextMessage();
      expect(textBack.isBinary).to.equal(false);
      expect(textBack.data.toString('utf8')).to.equal(message);
      peer.close(1000);
      expect(await peer.closeFrame).to.deep.equal({ code: 1000, reason: '' });
      expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
      expect(peer.errors).to.deep.equal([]);
    });
  }

  it('answers node’s Ping with a Pong, and node answers sluice’s Ping', async () => {
    const { stream } = await nodeConnect(session);
    const peer = new NodeWebSocket(stream, 'client');
    peer.ping('are you there');
    expect((await peer.nextPong()).toString()).to.equal('are you there');
    const rtt = await server.sockets[0].ping();
    expect(rtt).to.be.a('number').and.at.least(0);
    expect(peer.pings).to.have.length(1);
    peer.close(1000);
    await peer.streamClosed;
  });

  it('closes cleanly when node starts the close handshake (END_STREAM both ways)', async () => {
    const { stream } = await nodeConnect(session);
    const peer = new NodeWebSocket(stream, 'client');
    await peer.send('hi');
    await peer.nextMessage();
    peer.close(4001, 'leaving');
    expect(await peer.closeFrame).to.deep.equal({ code: 4001, reason: '' });
    await peer.peerEnded;
    expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    const event = await server.sockets[0].closed;
    expect([event.code, event.reason, event.wasClean, event.error]).to.deep.equal([4001, 'leaving', true, null]);
  });

  it('closes cleanly when sluice starts the close handshake', async () => {
    const { stream } = await nodeConnect(session);
    const peer = new NodeWebSocket(stream, 'client');
    await peer.send('hi');
    await peer.nextMessage();
    const closing = server.sockets[0].close(4000, 'done');
    expect(await peer.closeFrame).to.deep.equal({ code: 4000, reason: 'done' });
    const event = await closing;
    expect([event.code, event.wasClean]).to.deep.equal([4000, true]);
    expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('reports 1006 with HTTP2_CANCEL when node resets the stream', async () => {
    const { stream } = await nodeConnect(session);
    const peer = new NodeWebSocket(stream, 'client');
    await peer.send('hi');
    await peer.nextMessage();
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const event = await server.sockets[0].closed;
    expect([event.code, codeOf(event.error)]).to.deep.equal([1006, 'HTTP2_CANCEL']);
  });

  it('carries several WebSockets and an ordinary request on one connection', async () => {
    const peers = await Promise.all(
      [0, 1, 2].map(async () => new NodeWebSocket((await nodeConnect(session)).stream, 'client')),
    );
    const plain = session.request({ ':path': '/nothing' });
    const [plainResponse] = (await once(plain, 'response')) as [http2.IncomingHttpHeaders];
    plain.resume();
    expect(plainResponse[':status']).to.equal(404);
    await Promise.all(peers.map((peer, index) => peer.send(`socket ${index}`)));
    const answers = await Promise.all(peers.map(async (peer) => (await peer.nextMessage()).data.toString()));
    expect(answers).to.deep.equal(['socket 0', 'socket 1', 'socket 2']);
    for (const peer of peers) peer.close(1000);
    await Promise.all(peers.map((peer) => peer.streamClosed));
  });
});

describe('WebSocket over HTTP/2 interop: node:http2 client, permessage-deflate and refusals', function () {
  this.timeout(60_000);

  it('negotiates permessage-deflate with ws’s extension and echoes compressed messages', async () => {
    const server = await sluiceServer({ perMessageDeflate: {} });
    const session = await nodeSession(server.url);
    try {
      const deflate = new ws.PerMessageDeflate({ isServer: false, threshold: 0 });
      const offer = ws.extension.format({ 'permessage-deflate': [deflate.offer()] });
      const { stream, response } = await nodeConnect(session, { 'sec-websocket-extensions': offer });
      const accepted = response['sec-websocket-extensions'];
      expect(accepted).to.be.a('string');
      deflate.accept(ws.extension.parse(accepted as string)['permessage-deflate']);
      const peer = new NodeWebSocket(stream, 'client', deflate);
      for (const size of [0, 100, 70_000, 1024 * 1024]) {
        const message = text(size);
        await peer.send(message, { compress: true });
        expect((await peer.nextMessage()).data.toString('utf8')).to.equal(message);
        const binary = pattern(size, 7);
        await peer.send(binary, { compress: true });
        expect((await peer.nextMessage()).data.equals(binary)).to.equal(true);
      }
      expect(server.sockets[0].connection.isPerMessageDeflate).to.equal(true);
      peer.close(1000);
      await peer.streamClosed;
      deflate.cleanup();
    } finally {
      session.destroy();
      await server.listener.close();
    }
  });

  it('answers the accept hook’s refusal with its status, and its subprotocol choice', async () => {
    const server = await sluiceServer({
      acceptWebSocket: (request) =>
        request.path === '/chat' && request.protocols.includes('chat')
          ? { accept: true, protocol: 'chat' }
          : { accept: false, status: 401, body: 'no' },
    });
    const session = await nodeSession(server.url);
    try {
      const refused = await nodeConnect(session);
      expect(refused.response[':status']).to.equal(401);
      const accepted = await nodeConnect(session, { 'sec-websocket-protocol': 'x, chat' });
      expect(accepted.response[':status']).to.equal(200);
      expect(accepted.response['sec-websocket-protocol']).to.equal('chat');
      expect(server.sockets[0].protocol).to.equal('chat');
      accepted.stream.close(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
      await server.listener.close();
    }
  });

  it('a server without enableConnectProtocol tells node so, and resets an extended CONNECT (PROTOCOL_ERROR)', async () => {
    const server = await sluiceServer({}, false);
    const session = await nodeSession(server.url);
    try {
      expect(session.remoteSettings.enableConnectProtocol).to.equal(false);
      const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/chat' });
      stream.on('error', () => undefined);
      stream.resume();
      await new Promise((resolve) => stream.on('close', resolve));
      expect(stream.rstCode).to.equal(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    } finally {
      session.destroy();
      await server.listener.close();
    }
  });
});

// ------------------------------------------------------------------------------ (b) sluice client → node server

interface NodeServer {
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  readonly url: string;
  readonly peers: NodeWebSocket[];
  /** Every HTTP/2 session the server accepted. */
  readonly sessions: http2.ServerHttp2Session[];
  close(): Promise<void>;
}

/**
 * A node:http2 server (`enableConnectProtocol` as given; over TLS with the fixtures' certificate
 * when `secure`) that answers a WebSocket extended CONNECT with `status` and runs ws's codec
 * (server role) echoing every message; `protocol` is chosen if offered, permessage-deflate
 * accepted when `deflate`.
 */
async function nodeServer(
  options: {
    enableConnectProtocol?: boolean;
    status?: number;
    protocol?: string;
    deflate?: boolean;
    secure?: boolean;
  } = {},
): Promise<NodeServer> {
  const peers: NodeWebSocket[] = [];
  const accepted: http2.ServerHttp2Session[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const settings = { enableConnectProtocol: options.enableConnectProtocol ?? true };
  const server =
    options.secure === true
      ? http2.createSecureServer({ settings, cert: pem.serverCert, key: pem.serverKey })
      : http2.createServer({ settings });
  server.on('session', (session: http2.ServerHttp2Session) => {
    accepted.push(session);
    sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const isWebSocket = headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket';
    if (!isWebSocket || headers['sec-websocket-version'] !== '13') {
      stream.respond({ ':status': 400 }, { endStream: true });
      return;
    }
    if (options.status !== undefined && options.status !== 200) {
      stream.respond({ ':status': options.status, 'x-reason': 'refused' }, { endStream: true });
      return;
    }
    const response: http2.OutgoingHttpHeaders = { ':status': 200 };
    const offered = String(headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((item) => item.trim());
    if (options.protocol !== undefined && offered.includes(options.protocol)) {
      response['sec-websocket-protocol'] = options.protocol;
    }
    let deflate = null;
    const extensions = headers['sec-websocket-extensions'];
    if (options.deflate === true && typeof extensions === 'string') {
      deflate = new ws.PerMessageDeflate({ isServer: true, threshold: 0 });
      const accepted = deflate.accept(ws.extension.parse(extensions)['permessage-deflate']);
      response['sec-websocket-extensions'] = ws.extension.format({ 'permessage-deflate': [accepted] });
    }
    stream.respond(response);
    const peer = new NodeWebSocket(stream, 'server', deflate);
    peers.push(peer);
    void (async () => {
      for (;;) {
        const message = await Promise.race([peer.nextMessage(), peer.closeFrame.then(() => null)]);
        if (message === null) return;
        await peer.send(message.data, { binary: message.isBinary, compress: deflate !== null }).catch(() => undefined);
      }
    })();
  });
  const port = await listenOnLoopback(server);
  return {
    server,
    url: options.secure === true ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    peers,
    sessions: accepted,
    close: async () => {
      for (const session of sessions) session.destroy();
      await closeServer(server);
    },
  };
}

describe('WebSocket over HTTP/2 interop: sluice client → node:http2 server with ws’s codec', function () {
  this.timeout(60_000);
  let server: NodeServer;
  let session: Http2Session;

  beforeEach(async () => {
    server = await nodeServer({ protocol: 'chat' });
    session = await connect(server.url);
  });

  afterEach(async () => {
    session.destroy();
    await server.close();
  });

  it('opens a WebSocket (node answered 200) with the subprotocol node chose', async () => {
    const socket = await connectWebSocketOverHttp2(session, '/chat', { protocols: ['other', 'chat'] });
    expect(socket.protocol).to.equal('chat');
    await socket.close(1000);
  });

  for (const size of SIZES) {
    it(`echoes a ${size}-byte binary and a ${size}-character text message through node`, async () => {
      const socket = await connectWebSocketOverHttp2(session, '/chat');
      const binary = pattern(size, size + 1);
      await socket.send(binary);
      const back = await nextMessage(socket);
      expect(back).to.be.instanceOf(Uint8Array);
      expect(Buffer.from(back as Uint8Array).equals(binary)).to.equal(true);
      const message = text(size);
      await socket.send(message);
      expect(await nextMessage(socket)).to.equal(message);
      const event = await socket.close(1000, 'bye');
      expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      expect(await server.peers[0].closeFrame).to.deep.equal({ code: 1000, reason: 'bye' });
      expect(await server.peers[0].streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
      expect(server.peers[0].errors).to.deep.equal([]);
    });
  }

  it('pings node (which answers) and answers node’s Ping', async () => {
    const socket = await connectWebSocketOverHttp2(session, '/chat');
    expect(await socket.ping()).to.be.a('number');
    server.peers[0].ping('node here');
    expect((await server.peers[0].nextPong()).toString()).to.equal('node here');
    await socket.close(1000);
  });

  it('closes cleanly when node starts the close handshake', async () => {
    const socket = await connectWebSocketOverHttp2(session, '/chat');
    await socket.send('hi');
    await nextMessage(socket);
    server.peers[0].close(4002, 'server leaving');
    const event = await socket.closed;
    expect([event.code, event.reason, event.wasClean]).to.deep.equal([4002, 'server leaving', true]);
    expect(await server.peers[0].streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('reports 1006 with HTTP2_CANCEL when node resets the stream', async () => {
    const socket = await connectWebSocketOverHttp2(session, '/chat');
    await socket.send('hi');
    await nextMessage(socket);
    server.peers[0].stream.close(http2.constants.NGHTTP2_CANCEL);
    const event = await socket.closed;
    expect([event.code, codeOf(event.error)]).to.deep.equal([1006, 'HTTP2_CANCEL']);
  });
});

describe('WebSocket over HTTP/2 interop: sluice client, node:http2 server, deflate and refusals', function () {
  this.timeout(60_000);

  it('negotiates permessage-deflate with ws’s extension on node’s side', async () => {
    const server = await nodeServer({ deflate: true });
    const session = await connect(server.url);
    try {
      const socket = await connectWebSocketOverHttp2(session, '/chat', { perMessageDeflate: {} });
      expect(socket.connection.isPerMessageDeflate).to.equal(true);
      for (const size of [0, 100, 70_000, 1024 * 1024]) {
        const message = text(size);
        await socket.send(message);
        expect(await nextMessage(socket)).to.equal(message);
      }
      await socket.close(1000);
    } finally {
      session.destroy();
      await server.close();
    }
  });

  it('rejects node’s 403 with WEBSOCKET_UNEXPECTED_STATUS carrying the status', async () => {
    const server = await nodeServer({ status: 403 });
    const session = await connect(server.url);
    try {
      const error = await connectWebSocketOverHttp2(session, '/chat').then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).to.be.instanceOf(WebSocketUnexpectedStatusError);
      expect((error as WebSocketUnexpectedStatusError).responseStatus).to.equal(403);
      expect((error as WebSocketUnexpectedStatusError).responseHeaders['x-reason']).to.equal('refused');
    } finally {
      session.destroy();
      await server.close();
    }
  });

  it('rejects with WEBSOCKET_EXTENDED_CONNECT_DISABLED against a node server without enableConnectProtocol', async () => {
    const server = await nodeServer({ enableConnectProtocol: false });
    const session = await connect(server.url);
    try {
      const error = await connectWebSocketOverHttp2(session, '/chat').then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(codeOf(error)).to.equal('WEBSOCKET_EXTENDED_CONNECT_DISABLED');
      // Nothing was sent: the session still serves ordinary requests.
      const response = await session.request({ ':path': '/' });
      expect(response.status).to.equal(400);
      await response.body.text();
    } finally {
      session.destroy();
      await server.close();
    }
  });
});

describe('connectWebSocket({ http2: true }) interop: sluice client → node:http2 over TLS with ws’s codec', function () {
  this.timeout(60_000);

  it('ALPN picks h2, the WebSocket runs on node’s extended CONNECT with deflate up to 1 MiB, and its session closes with it', async () => {
    const server = await nodeServer({ secure: true, deflate: true, protocol: 'chat' });
    try {
      const socket = await connectWebSocket(server.url.replace('https:', 'wss:') + '/chat', {
        http2: true,
        protocols: ['chat'],
        tls: { ca: pem.ca },
      });
      expect([socket.protocol, socket.extensions]).to.deep.equal(['chat', 'permessage-deflate']);
      expect([server.sessions.length, server.peers.length]).to.deep.equal([1, 1]);
      for (const size of SIZES) {
        const binary = pattern(size, size + 7);
        await socket.send(binary);
        expect(Buffer.from((await nextMessage(socket)) as Uint8Array).equals(binary), `binary ${size}`).to.equal(true);
        const message = text(size);
        await socket.send(message);
        expect(await nextMessage(socket), `text ${size}`).to.equal(message);
      }
      const event = await socket.close(1000, 'bye');
      expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      expect(await server.peers[0].closeFrame).to.deep.equal({ code: 1000, reason: 'bye' });
      expect(await server.peers[0].streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
      expect(server.peers[0].errors).to.deep.equal([]);
      // The WebSocket owned its session: node sees the connection close.
      const session = server.sessions[0];
      if (!session.closed) await once(session, 'close');
    } finally {
      await server.close();
    }
  });

  it('a 401 from node rejects with WEBSOCKET_UNEXPECTED_STATUS and the response’s fields', async () => {
    const server = await nodeServer({ secure: true, status: 401 });
    try {
      const error = await connectWebSocket(server.url.replace('https:', 'wss:') + '/chat', {
        http2: true,
        tls: { ca: pem.ca },
      }).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).to.be.instanceOf(WebSocketUnexpectedStatusError);
      const refusal = error as WebSocketUnexpectedStatusError;
      expect([refusal.response?.status, refusal.response?.headers['x-reason']]).to.deep.equal([401, 'refused']);
      const session = server.sessions[0];
      if (!session.closed) await once(session, 'close');
    } finally {
      await server.close();
    }
  });
});
