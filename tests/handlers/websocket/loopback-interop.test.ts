/**
 * WebSocketConnection and the WebSocket API over real loopback sockets against the `ws` package,
 * both directions: sluice server (socket, test handshake, WebSocketConnection) with a `ws` client,
 * and sluice client with a `ws` server. Messages 0 B to 16 MiB, fragmented messages, ping/pong,
 * every close path, permessage-deflate on and off, and the same-segment cases.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import { once } from 'node:events';
import { WebSocket as WsClient, WebSocketServer, type RawData } from 'ws';
import '../../../handlers/socket/index.js';
import { ClientBootstrap, ServerBootstrap, type Listener } from '../../../lib/index.js';
import type { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import type { WebSocketAcceptOptions } from '../../../handlers/websocket/api/accept.js';
import { computeAcceptKey } from '../../../handlers/websocket/wire/handshake.js';
import { TestHandshakeHandler } from './test-handshake-handler.js';
import { echo, pattern, text } from './messages.js';
import { echoMessages } from './ws-echo-server.js';

const SIZES = [0, 1, 125, 126, 65_535, 65_536, 1024 * 1024 + 3, 16 * 1024 * 1024];

/** A sluice WebSocket server: every connection is handed to `serve`. */
async function sluiceServer(
  serve: (socket: WebSocket) => void,
  options: { deflate: boolean; mode?: 'forward' | 'replace'; connection?: WebSocketAcceptOptions },
): Promise<Listener> {
  return new ServerBootstrap().listen({
    host: '127.0.0.1',
    port: 0,
    pipeline: (channel) => {
      const handshake = new TestHandshakeHandler({
        role: 'server',
        mode: options.mode ?? 'forward',
        ...(options.deflate ? { perMessageDeflate: {} } : {}),
        ...(options.connection !== undefined ? { connection: options.connection } : {}),
        onWebSocket: (error, socket) => {
          if (error === null && socket !== null) serve(socket);
        },
      });
      channel.appendHandler(handshake);
    },
  });
}

/** A sluice WebSocket client connected to `port`. */
async function sluiceClient(
  port: number,
  options: { deflate: boolean; mode?: 'forward' | 'replace'; connection?: WebSocketAcceptOptions },
): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    void new ClientBootstrap()
      .connect({
        host: '127.0.0.1',
        port,
        pipeline: (channel) => {
          channel.appendHandler(
            new TestHandshakeHandler({
              role: 'client',
              mode: options.mode ?? 'forward',
              ...(options.deflate ? { perMessageDeflate: {} } : {}),
              ...(options.connection !== undefined ? { connection: options.connection } : {}),
              onWebSocket: (error, socket) =>
                error === null && socket !== null ? resolve(socket) : reject(error ?? new Error('no WebSocket')),
            }),
          );
        },
      })
      .catch(reject);
  });
}

async function openWs(port: number, deflate: boolean): Promise<WsClient> {
  const client = new WsClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate, maxPayload: 64 * 1024 * 1024 });
  await once(client, 'open');
  return client;
}

function nextWsMessage(client: WsClient): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    client.once('message', (data: RawData, isBinary: boolean) => resolve({ data: data as Buffer, isBinary })),
  );
}

function wsClosed(client: WsClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    client.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
}

/** The first message a sluice WebSocket receives. */
async function firstMessage(socket: WebSocket): Promise<string | Uint8Array> {
  for await (const message of socket) return message;
  throw new Error('closed before a message');
}

/** The raw socket under a `ws` client, to write what `ws` refuses to send. */
function rawSocketOf(client: WsClient): net.Socket {
  return (client as unknown as { _socket: net.Socket })._socket;
}

describe('WebSocket loopback interop with ws', function () {
  this.timeout(60_000);

  for (const deflate of [false, true]) {
    describe(`ws client ↔ sluice server, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
      let listener: Listener;
      const served: WebSocket[] = [];
      before(async () => {
        listener = await sluiceServer(
          (socket) => {
            served.push(socket);
            echo(socket);
          },
          { deflate },
        );
      });
      after(async () => listener.close());

      it('echoes text and binary messages from 0 B to 16 MiB', async () => {
        const client = await openWs(listener.port, deflate);
        expect(client.extensions).to.equal(deflate ? 'permessage-deflate' : '');
        for (const size of SIZES) {
          const binary = pattern(size, size);
          client.send(binary);
          const back = await nextWsMessage(client);
          expect(back.isBinary, `binary ${size}`).to.equal(true);
          expect(back.data.equals(binary), `binary ${size}`).to.equal(true);
          const string = text(size);
          client.send(string);
          const textBack = await nextWsMessage(client);
          expect(textBack.isBinary).to.equal(false);
          expect(textBack.data.toString('utf8') === string, `text ${size}`).to.equal(true);
        }
        const closed = wsClosed(client);
        client.close(1000);
        expect((await closed).code).to.equal(1000);
      });

      it('joins a fragmented message (fin: false sends)', async () => {
        const client = await openWs(listener.port, deflate);
        client.send('frag', { fin: false });
        client.send('men', { fin: false });
        client.send('ted', { fin: true });
        expect((await nextWsMessage(client)).data.toString()).to.equal('fragmented');
        client.close();
      });

      it('answers pings and measures its own ping round trip', async () => {
        const count = served.length;
        const client = await openWs(listener.port, deflate);
        const pong = once(client, 'pong');
        client.ping(Buffer.from('are you there'));
        expect(((await pong)[0] as Buffer).toString()).to.equal('are you there');
        client.send('sync');
        await nextWsMessage(client);
        const rtt = await served[count].ping();
        expect(rtt).to.be.a('number').and.at.least(0);
        client.close();
      });

      it('client-initiated close: both sides see the code and reason', async () => {
        const count = served.length;
        const client = await openWs(listener.port, deflate);
        client.send('sync');
        await nextWsMessage(client);
        const closed = wsClosed(client);
        client.close(4001, 'client says bye');
        expect(await closed).to.deep.equal({ code: 4001, reason: '' });
        const event = await served[count].closed;
        expect([event.code, event.reason, event.wasClean]).to.deep.equal([4001, 'client says bye', true]);
      });

      it('server-initiated close: the ws client sees the code and reason', async () => {
        const count = served.length;
        const client = await openWs(listener.port, deflate);
        client.send('sync');
        await nextWsMessage(client);
        const closed = wsClosed(client);
        const event = await served[count].close(4002, 'server says bye');
        expect(await closed).to.deep.equal({ code: 4002, reason: 'server says bye' });
        expect([event.code, event.wasClean]).to.deep.equal([4002, true]);
      });

      it('a reserved opcode is a protocol error: Close 1002', async () => {
        const count = served.length;
        const client = await openWs(listener.port, deflate);
        client.send('sync');
        await nextWsMessage(client);
        const closed = wsClosed(client);
        rawSocketOf(client).write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
        expect((await closed).code).to.equal(1002);
        const event = await served[count].closed;
        expect([event.code, event.error?.code]).to.deep.equal([1006, 'WEBSOCKET_UNKNOWN_OPCODE']);
      });

      it('invalid UTF-8 in a text message: Close 1007', async () => {
        const client = await openWs(listener.port, deflate);
        client.send('sync');
        await nextWsMessage(client);
        const closed = wsClosed(client);
        rawSocketOf(client).write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
        expect((await closed).code).to.equal(1007);
      });

      it('a message over maxMessageSize: Close 1009', async () => {
        const small = await sluiceServer(echo, { deflate, connection: { maxMessageSize: 1000 } });
        try {
          const client = await openWs(small.port, deflate);
          const closed = wsClosed(client);
          client.send(Buffer.alloc(5000, 1));
          expect((await closed).code).to.equal(1009);
        } finally {
          await small.close();
        }
      });

      it('an abrupt TCP close is reported as 1006 locally', async () => {
        const count = served.length;
        const client = await openWs(listener.port, deflate);
        client.send('sync');
        await nextWsMessage(client);
        client.terminate();
        const event = await served[count].closed;
        expect([event.code, event.wasClean]).to.deep.equal([1006, false]);
      });
    });

    describe(`sluice client ↔ ws server, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
      let server: WebSocketServer;
      let port = 0;
      const peers: WsClient[] = [];
      before(async () => {
        server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate, maxPayload: 2 ** 26 });
        await once(server, 'listening');
        port = (server.address() as net.AddressInfo).port;
        server.on('connection', (peer) => {
          peers.push(peer);
          echoMessages(peer);
        });
      });
      after(async () => {
        for (const peer of server.clients) peer.terminate();
        await new Promise((resolve) => server.close(resolve));
      });

      it('sends and receives text and binary messages from 0 B to 16 MiB', async () => {
        const socket = await sluiceClient(port, { deflate });
        expect(socket.connection.isPerMessageDeflate).to.equal(deflate);
        const peerClosed = new Promise<unknown[]>(
          (resolve) => void once(peers[peers.length - 1], 'close').then(resolve),
        );
        const iterator = socket[Symbol.asyncIterator]();
        for (const size of SIZES) {
          const binary = pattern(size, size + 1);
          await socket.send(binary);
          const back = (await iterator.next()).value as Uint8Array;
          expect(typeof back).to.equal('object');
          expect(Buffer.from(back).equals(binary), `binary ${size}`).to.equal(true);
          const string = text(size);
          await socket.send(string);
          expect((await iterator.next()).value === string, `text ${size}`).to.equal(true);
        }
        const event = await socket.close(1000, 'done');
        expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
        const [code, reason] = (await peerClosed) as [number, Buffer];
        expect([code, reason.toString()]).to.deep.equal([1000, 'done']);
      });

      it('reads a fragmented message', async () => {
        const socket = await sluiceClient(port, { deflate });
        await socket.send('fragments please');
        expect(await firstMessage(socket)).to.equal('onetwothree');
        await socket.close();
      });

      it('ping round trip, and answers the server’s ping', async () => {
        const socket = await sluiceClient(port, { deflate });
        expect(await socket.ping())
          .to.be.a('number')
          .and.at.least(0);
        await socket.send('sync');
        await firstMessage(socket);
        const peer = peers[peers.length - 1];
        const pong = once(peer, 'pong');
        peer.ping(Buffer.from('hello?'));
        expect(((await pong)[0] as Buffer).toString()).to.equal('hello?');
        await socket.close();
      });

      it('server-initiated close: code and reason arrive, the client echoes', async () => {
        const socket = await sluiceClient(port, { deflate });
        await socket.send('sync');
        await firstMessage(socket);
        const peer = peers[peers.length - 1];
        const peerClosed = once(peer, 'close');
        peer.close(4003, 'ws server says bye');
        const event = await socket.closed;
        expect([event.code, event.reason, event.wasClean]).to.deep.equal([4003, 'ws server says bye', true]);
        expect((await peerClosed)[0]).to.equal(4003);
      });

      it('a masked server frame is a protocol error: Close 1002', async () => {
        const socket = await sluiceClient(port, { deflate });
        await socket.send('sync');
        await firstMessage(socket);
        const peer = peers[peers.length - 1];
        const peerClosed = once(peer, 'close');
        (peer as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0x81, 0x80, 0, 0, 0, 0]));
        expect((await peerClosed)[0]).to.equal(1002);
        expect((await socket.closed).error?.code).to.equal('WEBSOCKET_MASKED_FRAME');
      });

      it('invalid UTF-8 from the server: Close 1007', async () => {
        const socket = await sluiceClient(port, { deflate });
        await socket.send('sync');
        await firstMessage(socket);
        const peer = peers[peers.length - 1];
        const peerClosed = once(peer, 'close');
        (peer as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
        expect((await peerClosed)[0]).to.equal(1007);
        expect((await socket.closed).error?.code).to.equal('WEBSOCKET_INVALID_UTF8');
      });

      it('a message over maxMessageSize: Close 1009', async () => {
        const socket = await sluiceClient(port, { deflate, connection: { maxMessageSize: 1000 } });
        const peerClosedPromise = new Promise<unknown[]>((resolve) => {
          const peer = peers[peers.length - 1];
          void once(peer, 'close').then(resolve);
        });
        await socket.send(Buffer.alloc(5000, 1)).catch(() => undefined);
        const event = await socket.closed;
        expect(event.error?.code).to.equal('WEBSOCKET_MESSAGE_TOO_LARGE');
        expect((await peerClosedPromise)[0]).to.equal(1009);
      });

      it('an abrupt TCP close is reported as 1006 locally', async () => {
        const socket = await sluiceClient(port, { deflate });
        await socket.send('sync');
        await firstMessage(socket);
        peers[peers.length - 1].terminate();
        const event = await socket.closed;
        expect([event.code, event.wasClean]).to.deep.equal([1006, false]);
      });
    });
  }

  describe('same segment and the acceptWebSocket seam', () => {
    for (const mode of ['forward', 'replace'] as const) {
      it(`${mode}: a client frame in the same write as the upgrade request is read`, async () => {
        const listener = await sluiceServer(echo, { deflate: false, mode });
        try {
          const raw = net.connect({ host: '127.0.0.1', port: listener.port });
          await once(raw, 'connect');
          const request =
            'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
          // A masked text frame "hi" with a zero mask key.
          raw.write(Buffer.concat([Buffer.from(request), Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69])]));
          let received = Buffer.alloc(0);
          const expectedTail = Buffer.from([0x81, 0x02, 0x68, 0x69]);
          for (let round = 0; round < 100 && received.indexOf(expectedTail) < 0; round++) {
            const [chunk] = (await once(raw, 'data')) as [Buffer];
            received = Buffer.concat([received, chunk]);
          }
          expect(received.toString('latin1')).to.contain('101 Switching Protocols');
          expect(received.toString('latin1')).to.contain(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='));
          expect(received.subarray(received.length - 4).equals(expectedTail)).to.equal(true);
          raw.destroy();
        } finally {
          await listener.close();
        }
      });

      it(`${mode}: a server frame in the same write as the 101 is read`, async () => {
        const server = net.createServer((socket) => {
          let head = '';
          socket.on('data', (chunk: Buffer) => {
            head += chunk.toString('latin1');
            const match = /Sec-WebSocket-Key: (\S+)/i.exec(head);
            if (!head.includes('\r\n\r\n') || match === null) return;
            socket.write(
              Buffer.concat([
                Buffer.from(
                  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                    `Sec-WebSocket-Accept: ${computeAcceptKey(match[1])}\r\n\r\n`,
                ),
                Buffer.from([0x81, 0x05]),
                Buffer.from('first'),
              ]),
            );
            head = '\0'.repeat(0);
            socket.removeAllListeners('data');
            socket.resume();
          });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        try {
          const socket = await sluiceClient((server.address() as net.AddressInfo).port, { deflate: false, mode });
          expect(await firstMessage(socket)).to.equal('first');
          socket.connection.channelSlot?.channel.shutdown(null, true);
          await socket.closed;
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
      });
    }
  });
});
