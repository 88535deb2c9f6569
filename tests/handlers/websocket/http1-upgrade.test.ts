/**
 * The WebSocket endpoint of createServer over HTTP/1.1 upgrades (RFC 6455 §4.2), against the
 * `ws` package as the client on real loopback sockets: echo, permessage-deflate on and off, the
 * refusals (426 with Sec-WebSocket-Version: 13, 400, the accept hook's 403 and own status, 500
 * for a failing hook), subprotocols, what the hook sees, frames in the same segment as the
 * request; and on the testing channel, a connection that ends while the hook runs.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { WebSocket as WsClient, type ClientOptions, type RawData } from 'ws';
import { SluiceError, TestingChannel } from '../../../lib/index.js';
import { createServer, Http1ServerConnection, type HttpServerListener } from '../../../handlers/http1/index.js';
import {
  checkWebSocketServerOptions,
  computeAcceptKey,
  webSocketUpgrade,
  type WebSocket,
  type WebSocketAcceptDecision,
  type WebSocketRequest,
  type WebSocketServerOptions,
} from '../../../handlers/websocket/index.js';
import { ioTurns, until } from '../../support/waiting.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Echoes every message back until the connection ends. */
function echo(socket: WebSocket): void {
  void (async () => {
    try {
      for await (const message of socket) await socket.send(message);
    } catch {
      // The peer went away mid-send.
    }
  })();
}

interface Served {
  listener: HttpServerListener;
  port: number;
  /** Codes of the errors the server reported. */
  errors: string[];
  /** The requests onWebSocket got. */
  opened: WebSocketRequest[];
}

let served: Served | null = null;

/** createServer with `webSocket` (onWebSocket echoes unless given) and a handler answering `plain`. */
async function serve(webSocket: Partial<WebSocketServerOptions> = {}): Promise<Served> {
  const errors: string[] = [];
  const opened: WebSocketRequest[] = [];
  const options: WebSocketServerOptions = {
    ...webSocket,
    onWebSocket: (socket, request) => {
      opened.push(request);
      if (webSocket.onWebSocket !== undefined) webSocket.onWebSocket(socket, request);
      else echo(socket);
    },
  };
  const server = createServer(
    {
      webSocket: options,
      onError: (error) => errors.push(error instanceof SluiceError ? error.code : String(error)),
    },
    async (stream) => {
      stream.respond(200, { 'content-type': 'text/plain' });
      await stream.end('plain');
    },
  );
  const listener = await server.listen();
  served = { listener, port: listener.port, errors, opened };
  return served;
}

async function openWs(
  port: number,
  path = '/',
  options: ClientOptions = {},
  protocols: string[] = [],
): Promise<WsClient> {
  const client = new WsClient(`ws://127.0.0.1:${port}${path}`, protocols, { perMessageDeflate: false, ...options });
  await once(client, 'open');
  return client;
}

function nextMessage(client: WsClient): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    client.once('message', (data: RawData, isBinary: boolean) => resolve({ data: data as Buffer, isBinary })),
  );
}

function closed(client: WsClient): Promise<number> {
  return new Promise((resolve) => client.once('close', (code: number) => resolve(code)));
}

/** The response `ws` got instead of a 101. */
async function refusalOf(
  port: number,
  path = '/',
  protocols: string[] = [],
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const client = new WsClient(`ws://127.0.0.1:${port}${path}`, protocols, { perMessageDeflate: false });
  client.on('error', () => undefined);
  const [, response] = (await once(client, 'unexpected-response')) as [unknown, IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() };
}

/** Writes `bytes` on a raw socket and collects what comes back until the server closes or `until` holds. */
async function raw(port: number, bytes: Buffer, isDone: (received: Buffer) => boolean = () => false): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.write(bytes);
  let received = Buffer.alloc(0);
  const ended = once(socket, 'close');
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    if (isDone(received)) socket.destroy();
  });
  await ended;
  return received;
}

function upgradeRequest(fields: Record<string, string>, head = 'GET /chat HTTP/1.1'): string {
  const all: Record<string, string> = {
    Host: 'example.test',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...fields,
  };
  const lines = Object.entries(all)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}\r\n`);
  return `${head}\r\n${lines.join('')}\r\n`;
}

describe('websocket server over HTTP/1.1 upgrades (createServer webSocket)', function () {
  this.timeout(30_000);

  afterEach(async () => {
    await served?.listener.close();
    served = null;
  });

  describe('open WebSockets', () => {
    it('echoes text and binary messages to a ws client', async () => {
      const { port, opened } = await serve();
      const client = await openWs(port, '/chat');
      client.send('hello');
      expect(await nextMessage(client)).to.deep.include({ isBinary: false });
      client.send(Buffer.from([0, 1, 2, 255]));
      const binary = await nextMessage(client);
      expect(binary.isBinary).to.equal(true);
      expect([...binary.data]).to.deep.equal([0, 1, 2, 255]);
      client.send('é€😀');
      expect((await nextMessage(client)).data.toString()).to.equal('é€😀');
      expect(opened).to.have.length(1);
      client.close(1000);
      expect(await closed(client)).to.equal(1000);
    });

    for (const [server, client, isNegotiated] of [
      [true, true, true],
      [true, false, false],
      [false, true, false],
    ] as const) {
      it(`negotiates permessage-deflate only when both allow it (server ${server ? 'on' : 'off'}, ws client ${client ? 'on' : 'off'})`, async () => {
        const { port } = await serve(server ? { perMessageDeflate: {} } : {});
        const ws = await openWs(port, '/', { perMessageDeflate: client ? { threshold: 0 } : false });
        expect(ws.extensions.includes('permessage-deflate')).to.equal(isNegotiated);
        const big = 'compressible '.repeat(5000);
        ws.send(big);
        expect((await nextMessage(ws)).data.toString()).to.equal(big);
        ws.send(Buffer.alloc(3, 7));
        expect([...(await nextMessage(ws)).data]).to.deep.equal([7, 7, 7]);
        ws.close();
        await closed(ws);
      });
    }

    it('lets the accept hook choose a subprotocol the client offered; ws sees it', async () => {
      const seen: (readonly string[])[] = [];
      const { port } = await serve({
        acceptWebSocket: (request) => {
          seen.push(request.protocols);
          return { accept: true, protocol: 'chat.v2' };
        },
      });
      const client = await openWs(port, '/', {}, ['chat.v1', 'chat.v2']);
      expect(client.protocol).to.equal('chat.v2');
      expect(seen).to.deep.equal([['chat.v1', 'chat.v2']]);
      client.close();
      await closed(client);
    });

    it('shows the hook the request: path, authority, Origin, headers, extensions, HTTP version', async () => {
      let request: WebSocketRequest | null = null;
      const { port } = await serve({
        acceptWebSocket: (seen) => {
          request = seen;
          return { accept: true, headers: { 'x-hello': 'hook' } };
        },
      });
      const client = new WsClient(`ws://127.0.0.1:${port}/room/7?user=a`, {
        origin: 'https://app.example',
        perMessageDeflate: true,
        headers: { 'x-token': 'secret' },
      });
      const isOpen = once(client, 'open');
      const [response] = (await once(client, 'upgrade')) as [IncomingMessage];
      await isOpen;
      expect(response.headers['x-hello']).to.equal('hook');
      const seen = request as unknown as WebSocketRequest;
      expect(seen.httpVersion).to.equal('1.1');
      expect(seen.path).to.equal('/room/7?user=a');
      expect(seen.authority).to.equal(`127.0.0.1:${port}`);
      expect(seen.origin).to.equal('https://app.example');
      expect(seen.headers['x-token']).to.equal('secret');
      expect(seen.extensions).to.contain('permessage-deflate');
      expect(seen.protocols).to.deep.equal([]);
      client.close();
      await closed(client);
    });

    it('waits for an asynchronous hook before answering', async () => {
      const { port } = await serve({
        acceptWebSocket: async () => {
          await ioTurns(5);
          return { accept: true };
        },
      });
      const client = await openWs(port);
      client.send('late');
      expect((await nextMessage(client)).data.toString()).to.equal('late');
      client.close();
      await closed(client);
    });

    it('reads a frame sent in the same segment as the upgrade request', async () => {
      const { port } = await serve();
      // A masked text frame "hi" with a zero mask key, right behind the request.
      const frame = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
      const echoed = Buffer.from([0x81, 0x02, 0x68, 0x69]);
      const received = await raw(port, Buffer.concat([Buffer.from(upgradeRequest({})), frame]), (bytes) =>
        bytes.subarray(-4).equals(echoed),
      );
      const text = received.toString('latin1');
      expect(text).to.match(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(text).to.contain(`Sec-WebSocket-Accept: ${computeAcceptKey(KEY)}`);
      expect(received.subarray(-4).equals(echoed)).to.equal(true);
    });

    it('closes the WebSocket with 1011 and reports WEBSOCKET_LISTENER_THREW when onWebSocket throws', async () => {
      const { port, errors } = await serve({
        onWebSocket: () => {
          throw new Error('listener bug');
        },
      });
      const client = await openWs(port);
      expect(await closed(client)).to.equal(1011);
      expect(errors).to.deep.equal(['WEBSOCKET_LISTENER_THREW']);
    });

    it('serves wss:// under tls (ALPN http/1.1, or none as ws sends)', async () => {
      const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);
      const [cert, key, ca] = ['server-cert.pem', 'server-key.pem', 'ca-cert.pem'].map((name) =>
        readFileSync(new URL(name, fixtures)),
      );
      const server = createServer({ tls: { cert, key }, webSocket: { onWebSocket: echo } }, () => undefined);
      const listener = await server.listen();
      try {
        const client = new WsClient(`wss://localhost:${listener.port}/secure`, { ca });
        await once(client, 'open');
        client.send('over tls');
        expect((await nextMessage(client)).data.toString()).to.equal('over tls');
        client.close();
        await closed(client);
      } finally {
        await listener.close();
      }
    });

    it('leaves a WebSocket request to the handler when the server has no webSocket option', async () => {
      const server = createServer(async (stream) => {
        stream.respond(200, { 'content-type': 'text/plain' });
        await stream.end(`plain ${stream.headers.upgrade as string}`);
      });
      const listener = await server.listen();
      try {
        const received = await raw(listener.port, Buffer.from(upgradeRequest({})), (bytes) =>
          bytes.toString().endsWith('\r\n0\r\n\r\n'),
        );
        expect(received.toString()).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*plain websocket\r\n0\r\n\r\n$/);
      } finally {
        await listener.close();
      }
    });
  });

  describe('refusals', () => {
    it('answers 426 with Sec-WebSocket-Version: 13 to version 8 (RFC 6455 §4.2.2)', async () => {
      const { port, opened } = await serve();
      const client = new WsClient(`ws://127.0.0.1:${port}/`, { protocolVersion: 8 });
      client.on('error', () => undefined);
      const [, response] = (await once(client, 'unexpected-response')) as [unknown, IncomingMessage];
      expect(response.statusCode).to.equal(426);
      expect(response.headers['sec-websocket-version']).to.equal('13');
      // RFC 9110 §15.5.22: a 426 names the required protocol in Upgrade.
      expect(response.headers.upgrade).to.equal('websocket');
      expect(response.headers.connection).to.equal('Upgrade, close');
      response.resume();
      expect(opened).to.have.length(0);
    });

    const badRequests: [string, string, number][] = [
      ['a missing Sec-WebSocket-Version', upgradeRequest({ 'Sec-WebSocket-Version': '' }), 426],
      ['a missing Sec-WebSocket-Key', upgradeRequest({ 'Sec-WebSocket-Key': '' }), 400],
      ['a key that is not 16 bytes in base64', upgradeRequest({ 'Sec-WebSocket-Key': 'c2hvcnQ=' }), 400],
      ['a method other than GET', upgradeRequest({}, 'POST /chat HTTP/1.1'), 400],
      ['a repeated subprotocol', upgradeRequest({ 'Sec-WebSocket-Protocol': 'a, a' }), 400],
    ];
    for (const [what, request, status] of badRequests) {
      it(`answers ${status} to ${what}, and closes the connection`, async () => {
        const { port, opened } = await serve();
        const text = (await raw(port, Buffer.from(request))).toString();
        expect(text).to.match(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(text).to.match(/connection: close|Connection: Upgrade, close/);
        if (status === 426) expect(text).to.contain('Sec-WebSocket-Version: 13');
        expect(opened).to.have.length(0);
      });
    }

    it('answers the hook refusal with 403 by default', async () => {
      const { port, opened } = await serve({ acceptWebSocket: () => ({ accept: false }) });
      const refusal = await refusalOf(port);
      expect(refusal.status).to.equal(403);
      expect(opened).to.have.length(0);
    });

    it('answers the hook refusal with its status, headers and body', async () => {
      const { port } = await serve({
        acceptWebSocket: (request) =>
          request.origin === undefined
            ? { accept: false, status: 401, headers: { 'www-authenticate': 'Bearer' }, body: 'log in first' }
            : { accept: true },
      });
      const refusal = await refusalOf(port);
      expect(refusal.status).to.equal(401);
      expect(refusal.headers['www-authenticate']).to.equal('Bearer');
      expect(refusal.body).to.equal('log in first');
    });

    const failingHooks: [string, WebSocketServerOptions['acceptWebSocket'], string][] = [
      [
        'throws',
        () => {
          throw new Error('hook bug');
        },
        'WEBSOCKET_ACCEPT_HOOK_FAILED',
      ],
      ['rejects', () => Promise.reject(new Error('hook bug')), 'WEBSOCKET_ACCEPT_HOOK_FAILED'],
      ['returns no decision', () => undefined as unknown as WebSocketAcceptDecision, 'WEBSOCKET_ACCEPT_HOOK_FAILED'],
      ['refuses with a status outside 400-599', () => ({ accept: false, status: 302 }), 'WEBSOCKET_ACCEPT_HOOK_FAILED'],
      [
        'gives a header that cannot be written',
        () => ({ accept: true, headers: { 'bad name': 'x' } }),
        'WEBSOCKET_ACCEPT_HOOK_FAILED',
      ],
      [
        'chooses a subprotocol not offered',
        () => ({ accept: true, protocol: 'other' }),
        'WEBSOCKET_SUBPROTOCOL_NOT_OFFERED',
      ],
    ];
    for (const [what, hook, code] of failingHooks) {
      it(`answers 500 and reports ${code} when the hook ${what}`, async () => {
        const { port, errors, opened } = await serve({ acceptWebSocket: hook });
        const refusal = await refusalOf(port, '/', ['chat']);
        expect(refusal.status).to.equal(500);
        expect(errors).to.deep.equal([code]);
        expect(opened).to.have.length(0);
      });
    }

    it('refuses a webSocket option without onWebSocket (WEBSOCKET_INVALID_ARGUMENT)', () => {
      expect(() => createServer({ webSocket: {} as WebSocketServerOptions }, () => undefined))
        .to.throw(SluiceError)
        .with.property('code', 'WEBSOCKET_INVALID_ARGUMENT');
      expect(() =>
        checkWebSocketServerOptions({ onWebSocket: () => undefined, connection: { maxMessageSize: -1 } }),
      ).to.throw(SluiceError);
    });
  });

  describe('a connection that ends while the hook runs', () => {
    it('calls nothing and answers nothing when the hook settles later', async () => {
      let settle: (decision: WebSocketAcceptDecision) => void = () => undefined;
      let hookCalls = 0;
      const { port, listener, opened, errors } = await serve({
        acceptWebSocket: () => {
          hookCalls++;
          return new Promise((resolve) => (settle = resolve));
        },
      });
      const socket = net.connect({ host: '127.0.0.1', port });
      await once(socket, 'connect');
      socket.write(upgradeRequest({}));
      await until(() => hookCalls === 1, 'the hook to run');
      socket.destroy();
      await until(() => listener.connectionCount === 0, 'the server to close the connection');
      settle({ accept: true });
      await ioTurns(5);
      expect(opened).to.have.length(0);
      expect(errors).to.deep.equal([]);
    });

    it('releases every message it held for the handover (testing channel)', async () => {
      let settle: (decision: WebSocketAcceptDecision) => void = () => undefined;
      let openedCount = 0;
      const connection = new Http1ServerConnection({
        onRequest: () => undefined,
        upgrades: [
          webSocketUpgrade({
            acceptWebSocket: () => new Promise((resolve) => (settle = resolve)),
            onWebSocket: () => openedCount++,
          }),
        ],
      });
      const test = new TestingChannel([connection], { autoCompleteWrites: true });
      test.pushRead(Buffer.concat([Buffer.from(upgradeRequest({})), Buffer.from([0x81, 0x80, 1, 2, 3, 4])]));
      test.pushRead(Buffer.from([0x89, 0x80, 1, 2, 3, 4]));
      await ioTurns(1);
      test.peerClose();
      test.runUntilIdle();
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
      settle({ accept: true });
      await ioTurns(2);
      test.runUntilIdle();
      expect(openedCount).to.equal(0);
      expect(test.takeWritten().length).to.equal(0);
    });
  });
});
