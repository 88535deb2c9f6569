/**
 * connectWebSocket against the `ws` package as the server, the big and slow cases (the fast ones
 * run in `npm test`, tests/handlers/websocket/connect.test.ts): text and binary messages of 0 B,
 * 1 B, 125, 126, 65 535, 65 536 B, 1 MiB and 16 MiB echoed, with permessage-deflate off and on,
 * over ws:// and over wss:// (an `https` server with the test CA's certificate); a burst of
 * messages sent without waiting for their echoes; and a 16 MiB message the server sends in
 * fragments.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import https from 'node:https';
import '../../handlers/socket/index.js';
import { connectWebSocket, type WebSocketConnectOptions } from '../../handlers/websocket/api/connect.js';
import type { WebSocket } from '../../handlers/websocket/api/websocket.js';
import { pem } from '../handlers/tls/tls-test-kit.js';
import { bytePattern, mixedText, wsEchoServer, type WsEchoServer } from '../handlers/websocket/ws-echo-server.js';

const SIZES = [0, 1, 125, 126, 65_535, 65_536, 1024 * 1024, 16 * 1024 * 1024];
const MAX_MESSAGE = 64 * 1024 * 1024;

const sha1 = (data: Uint8Array | string): string => createHash('sha1').update(data).digest('hex');

async function next(iterator: AsyncIterator<string | Uint8Array>): Promise<string | Uint8Array> {
  const result = await iterator.next();
  if (result.done === true) throw new Error('the WebSocket closed before a message');
  return result.value;
}

/** Sends every size as binary and as text and checks each echo by length and SHA-1. */
async function echoEverySize(socket: WebSocket): Promise<void> {
  const iterator = socket[Symbol.asyncIterator]();
  for (const size of SIZES) {
    const binary = bytePattern(size, size & 0xff);
    await socket.send(binary);
    const back = await next(iterator);
    expect(back, `binary ${size}`).to.be.instanceOf(Uint8Array);
    expect([(back as Uint8Array).length, sha1(back)], `binary ${size}`).to.deep.equal([size, sha1(binary)]);
    const text = mixedText(size);
    await socket.send(text);
    const textBack = await next(iterator);
    expect(typeof textBack, `text ${size}`).to.equal('string');
    expect([textBack.length, sha1(textBack)], `text ${size}`).to.deep.equal([size, sha1(text)]);
  }
}

describe('WebSocket interop: connectWebSocket against a ws server', function () {
  this.timeout(180_000);

  for (const deflate of [false, true]) {
    describe(`ws://, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
      let peer: WsEchoServer;
      before(async () => {
        peer = await wsEchoServer({ perMessageDeflate: deflate });
      });
      after(() => peer.close());

      const options: WebSocketConnectOptions = {
        perMessageDeflate: deflate,
        connection: { maxMessageSize: MAX_MESSAGE },
      };

      it('echoes text and binary messages from 0 B to 16 MiB', async () => {
        const socket = await connectWebSocket(`ws://127.0.0.1:${peer.port}/`, options);
        expect(socket.extensions).to.equal(deflate ? 'permessage-deflate' : '');
        await echoEverySize(socket);
        const event = await socket.close(1000, 'done');
        expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      });

      it('echoes 200 messages sent without waiting, in order', async () => {
        const socket = await connectWebSocket(`ws://127.0.0.1:${peer.port}/`, options);
        const messages = Array.from({ length: 200 }, (_, index) => bytePattern(index * 997, index));
        const sent = Promise.all(messages.map((message) => socket.send(message)));
        const iterator = socket[Symbol.asyncIterator]();
        for (const [index, message] of messages.entries()) {
          expect(sha1(await next(iterator)), `message ${index}`).to.equal(sha1(message));
        }
        await sent;
        await socket.close();
      });

      it('reads a 16 MiB message the server sends in 16 fragments', async () => {
        const socket = await connectWebSocket(`ws://127.0.0.1:${peer.port}/`, options);
        await socket.send('sync');
        const iterator = socket[Symbol.asyncIterator]();
        await next(iterator);
        const whole = bytePattern(16 * 1024 * 1024, 7);
        const fragment = whole.length / 16;
        const server = peer.lastPeer();
        for (let index = 0; index < 16; index++) {
          server.send(whole.subarray(index * fragment, (index + 1) * fragment), { binary: true, fin: index === 15 });
        }
        const back = await next(iterator);
        expect([(back as Uint8Array).length, sha1(back)]).to.deep.equal([whole.length, sha1(whole)]);
        await socket.close();
      });
    });
  }

  for (const deflate of [false, true]) {
    describe(`wss:// on https.createServer, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
      let httpsServer: https.Server;
      let peer: WsEchoServer;
      before(async () => {
        httpsServer = https.createServer({ cert: pem.serverCert, key: pem.serverKey });
        await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
        peer = await wsEchoServer({ server: httpsServer, perMessageDeflate: deflate });
      });
      after(async () => {
        await peer.close();
        httpsServer.closeAllConnections();
        await new Promise((resolve) => httpsServer.close(resolve));
      });

      it('echoes text and binary messages from 0 B to 16 MiB over TLS', async () => {
        const socket = await connectWebSocket(`wss://localhost:${peer.port}/`, {
          perMessageDeflate: deflate,
          tls: { ca: pem.ca },
          connection: { maxMessageSize: MAX_MESSAGE },
        });
        expect(socket.extensions).to.equal(deflate ? 'permessage-deflate' : '');
        await echoEverySize(socket);
        const event = await socket.close(1000);
        expect([event.code, event.wasClean]).to.deep.equal([1000, true]);
      });
    });
  }
});
