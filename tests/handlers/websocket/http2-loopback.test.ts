/**
 * WebSocket over HTTP/2 (RFC 8441) over real loopback sockets: sluice's client
 * (`connectWebSocketOverHttp2` on a `connect` session) against sluice's server (`createServer` of
 * `sluice/http2` with `handleWebSocketStream`), permessage-deflate on and off, and one round with
 * `node:http2`'s client and `ws`'s codec. The thorough runs against node both ways are in
 * `tests/interop/websocket-http2.test.ts`.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import http2 from 'node:http2';
import { connect, type Http2Session } from '../../../handlers/http2/api/session.js';
import { connectWebSocketOverHttp2 } from '../../../handlers/websocket/api/http2-client.js';
import { codeOf } from '../../support/error-codes.js';
import { NodeWebSocket } from './node-h2-websocket.js';
import {
  nextMessage,
  pattern,
  startHttp2WebSocketServer as startServer,
  type Http2WebSocketServer,
} from './messages.js';

describe('WebSocket over HTTP/2 on loopback: sluice client ↔ sluice server', function () {
  this.timeout(30_000);

  for (const deflate of [false, true]) {
    describe(deflate ? 'with permessage-deflate' : 'without permessage-deflate', () => {
      let server: Http2WebSocketServer;
      let session: Http2Session;

      beforeEach(async () => {
        server = await startServer(deflate ? { perMessageDeflate: {} } : {});
        session = await connect(server.url);
      });

      afterEach(async () => {
        await session.close();
        await server.listener.close();
      });

      it('echoes binary and text from 0 B to 1 MiB, then closes cleanly from the client', async () => {
        const socket = await connectWebSocketOverHttp2(session, '/echo', deflate ? { perMessageDeflate: {} } : {});
        expect(socket.connection.isPerMessageDeflate).to.equal(deflate);
        for (const size of [0, 125, 65_536, 1024 * 1024 + 3]) {
          const binary = pattern(size, size);
          await socket.send(binary);
          expect(Buffer.from((await nextMessage(socket)) as Uint8Array).equals(binary)).to.equal(true);
          const message = 'ü'.repeat(size >> 1);
          await socket.send(message);
          expect(await nextMessage(socket)).to.equal(message);
        }
        const event = await socket.close(1000, 'done');
        expect([event.code, event.wasClean, event.error]).to.deep.equal([1000, true, null]);
        const serverEvent = await server.sockets[0].closed;
        expect([serverEvent.code, serverEvent.reason, serverEvent.wasClean]).to.deep.equal([1000, 'done', true]);
      });
    });
  }

  it('closes cleanly when the server starts the close handshake', async () => {
    const server = await startServer();
    const session = await connect(server.url);
    try {
      const socket = await connectWebSocketOverHttp2(session, '/echo');
      await socket.send('hi');
      await nextMessage(socket);
      const closing = server.sockets[0].close(4000, 'bye');
      const event = await socket.closed;
      expect([event.code, event.reason, event.wasClean]).to.deep.equal([4000, 'bye', true]);
      expect((await closing).wasClean).to.equal(true);
    } finally {
      await session.close();
      await server.listener.close();
    }
  });

  it('lets the accept hook choose a subprotocol or refuse with a status', async () => {
    const server = await startServer({
      acceptWebSocket: async (request) => {
        await Promise.resolve();
        return request.path === '/chat' ? { accept: true, protocol: 'v2' } : { accept: false, status: 404 };
      },
    });
    const session = await connect(server.url);
    try {
      const socket = await connectWebSocketOverHttp2(session, '/chat', { protocols: ['v1', 'v2'] });
      expect(socket.protocol).to.equal('v2');
      const refused = await connectWebSocketOverHttp2(session, '/elsewhere').then(
        () => null,
        (error: unknown) => error,
      );
      expect(codeOf(refused)).to.equal('WEBSOCKET_UNEXPECTED_STATUS');
      expect((refused as { responseStatus: number }).responseStatus).to.equal(404);
      await socket.close(1000);
    } finally {
      await session.close();
      await server.listener.close();
    }
  });

  it('runs several WebSockets and ordinary requests on one session', async () => {
    const server = await startServer();
    const session = await connect(server.url);
    try {
      const sockets = await Promise.all([1, 2, 3].map(() => connectWebSocketOverHttp2(session, '/echo')));
      const plain = await session.request({ ':path': '/plain' });
      expect(plain.status).to.equal(404);
      await plain.body.text();
      await Promise.all(sockets.map((socket, index) => socket.send(`n${index}`)));
      expect(await Promise.all(sockets.map((socket) => nextMessage(socket)))).to.deep.equal(['n0', 'n1', 'n2']);
      await Promise.all(sockets.map((socket) => socket.close(1000)));
      expect(session.activeStreamCount).to.equal(0);
    } finally {
      await session.close();
      await server.listener.close();
    }
  });

  it('rejects with WEBSOCKET_EXTENDED_CONNECT_DISABLED (the fallback signal) when the server did not enable it', async () => {
    const server = await startServer({}, false);
    const session = await connect(server.url);
    try {
      const error = await connectWebSocketOverHttp2(session, '/echo').then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(codeOf(error)).to.equal('WEBSOCKET_EXTENDED_CONNECT_DISABLED');
      const plain = await session.request({ ':path': '/plain' });
      expect(plain.status).to.equal(404);
      await plain.body.text();
    } finally {
      await session.close();
      await server.listener.close();
    }
  });

  it('serves node:http2’s extended CONNECT with ws’s codec on node’s side', async () => {
    const server = await startServer();
    const client = http2.connect(server.url);
    client.on('error', () => undefined);
    try {
      await once(client, 'remoteSettings');
      expect(client.remoteSettings.enableConnectProtocol).to.equal(true);
      const stream = client.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': '/echo',
        'sec-websocket-version': '13',
      });
      const [response] = (await once(stream, 'response')) as [
        http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader,
      ];
      expect(response[':status']).to.equal(200);
      const peer = new NodeWebSocket(stream, 'client');
      await peer.send('from node');
      expect((await peer.nextMessage()).data.toString()).to.equal('from node');
      peer.close(1000);
      expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    } finally {
      client.destroy();
      await server.listener.close();
    }
  });
});
