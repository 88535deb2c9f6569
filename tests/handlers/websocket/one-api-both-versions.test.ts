/**
 * One `createServer({ webSocket })`, one port, both versions: a `ws` client upgrading over
 * HTTP/1.1 and node:http2 running `ws`'s codec over an RFC 8441 extended CONNECT reach the same
 * accept hook and `onWebSocket`, while ordinary requests of either version still reach the
 * handler.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import http2 from 'node:http2';
import { WebSocket as WsClient, type RawData } from 'ws';
import { createServer, type HttpServerListener } from '../../../handlers/http1/index.js';
import type { WebSocketRequest } from '../../../handlers/websocket/index.js';
import { echo } from './messages.js';
import { NodeWebSocket } from './node-h2-websocket.js';

describe('websocket on both versions through the one-API createServer', function () {
  this.timeout(20_000);
  let listener: HttpServerListener;
  let requests: WebSocketRequest[];
  let handled: string[];

  beforeEach(async () => {
    requests = [];
    handled = [];
    const server = createServer(
      {
        webSocket: {
          acceptWebSocket: (request) =>
            request.path === '/refused' ? { accept: false, status: 401 } : { accept: true },
          onWebSocket: (socket, request) => {
            requests.push(request);
            echo(socket);
          },
        },
      },
      async (stream) => {
        handled.push(`${stream.protocol} ${stream.method} ${stream.path}`);
        stream.respond(200, { 'content-type': 'text/plain' });
        await stream.end('plain');
      },
    );
    listener = await server.listen();
  });

  afterEach(async () => {
    await listener.close();
  });

  it('upgrades a ws client over HTTP/1.1 and echoes', async () => {
    const client = new WsClient(`ws://127.0.0.1:${listener.port}/one`, { perMessageDeflate: false });
    await once(client, 'open');
    const back = new Promise<Buffer>((resolve) => client.once('message', (data: RawData) => resolve(data as Buffer)));
    client.send(Buffer.from('over http/1.1'));
    expect((await back).toString()).to.equal('over http/1.1');
    client.close(1000);
    await once(client, 'close');
    expect(requests.map((request) => [request.httpVersion, request.path])).to.deep.equal([['1.1', '/one']]);
  });

  it('announces extended CONNECT to node:http2, runs ws’s codec over the stream, and refuses by the hook', async () => {
    const session = http2.connect(`http://127.0.0.1:${listener.port}`);
    session.on('error', () => undefined);
    await once(session, 'remoteSettings');
    expect(session.remoteSettings.enableConnectProtocol).to.equal(true);
    const connect = (path: string): http2.ClientHttp2Stream => {
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': path,
        'sec-websocket-version': '13',
      });
      stream.on('error', () => undefined);
      return stream;
    };
    const stream = connect('/two');
    const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    expect(response[':status']).to.equal(200);
    const peer = new NodeWebSocket(stream, 'client');
    await peer.send(Buffer.from('over http/2'));
    expect((await peer.nextMessage()).data.toString()).to.equal('over http/2');
    peer.close(1000);
    expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    const refused = connect('/refused');
    const [refusal] = (await once(refused, 'response')) as [http2.IncomingHttpHeaders];
    expect(refusal[':status']).to.equal(401);
    // An ordinary request on the same connection still reaches the handler.
    const plain = session.request({ ':path': '/plain' });
    plain.resume();
    await once(plain, 'end');
    session.close();
    expect(requests.map((request) => [request.httpVersion, request.path])).to.deep.equal([['2', '/two']]);
    expect(handled).to.deep.equal(['h2 GET /plain']);
  });
});
