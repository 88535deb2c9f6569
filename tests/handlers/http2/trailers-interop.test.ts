/**
 * Trailers reach a node:http2 peer that sends nothing more after its request (issue 17, item
 * 1), over real loopback sockets, in both roles: the gRPC responder pattern (body written and
 * completed, a pause, then trailers), trailers after headers alone, a bidirectional exchange,
 * and a client's request trailers after a body that ends a moment after its last chunk.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import { connect } from '../../../handlers/http2/api/session.js';
import { createServer, type Http2ServerListener, type ServerStream } from '../../../handlers/http2/api/server.js';
import { ioTurns } from '../../support/waiting.js';
import { closeNode, connectNode, readNodeResponse, startNodeServer, type NodeServer } from './node-peer.js';

/**
 * Event-loop turns of the pause: enough for every frame the peer had to send (its WINDOW_UPDATEs)
 * to have arrived. Nothing observable marks that moment, so the test lets the loop turn.
 */
const PAUSE_TURNS = 20;

describe('trailers with a silent node:http2 peer', function () {
  this.timeout(10_000);

  describe('sluice server → node:http2 client', () => {
    let listener: Http2ServerListener;
    let client: http2.ClientHttp2Session;

    before(async () => {
      const server = createServer(async (stream: ServerStream) => {
        if (stream.path === '/body-then-trailers') {
          stream.respond(200, { 'content-type': 'application/grpc' });
          await stream.write('hello');
          await ioTurns(PAUSE_TURNS);
          await stream.end(undefined, { 'grpc-status': '0', 'grpc-message': 'done' });
        } else if (stream.path === '/headers-then-trailers') {
          stream.respond(200, { 'content-type': 'application/grpc' });
          await ioTurns(PAUSE_TURNS);
          await stream.end(undefined, { 'grpc-status': '5' });
        } else {
          // Bidirectional: read the whole request (the client half-closes), then answer.
          let received = '';
          for await (const chunk of stream.body) received += Buffer.from(chunk).toString();
          stream.respond(200);
          await stream.write(`got ${received}`);
          await ioTurns(PAUSE_TURNS);
          await stream.end(undefined, { 'grpc-status': '0' });
        }
      });
      listener = await server.listen({ host: '127.0.0.1', port: 0 });
      client = await connectNode(`http://127.0.0.1:${listener.port}`);
    });
    after(async () => {
      await closeNode(client);
      await listener.close();
    });

    it('a body whose write completed, a pause, then end(undefined, trailers)', async () => {
      const response = await readNodeResponse(client.request({ ':path': '/body-then-trailers' }, { endStream: true }));
      expect(response.body.toString()).to.equal('hello');
      expect(response.trailers).to.include({ 'grpc-status': '0', 'grpc-message': 'done' });
      expect(response.rstCode).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    });

    it('headers alone, a pause, then trailers with no DATA', async () => {
      const response = await readNodeResponse(
        client.request({ ':path': '/headers-then-trailers' }, { endStream: true }),
      );
      expect(response.headers[':status']).to.equal(200);
      expect(response.body.length).to.equal(0);
      expect(response.trailers).to.include({ 'grpc-status': '5' });
    });

    it('a bidirectional stream ending after the client half-closed', async () => {
      const request = client.request({ ':method': 'POST', ':path': '/bidi' });
      const reading = readNodeResponse(request);
      request.end('ping');
      const response = await reading;
      expect(response.body.toString()).to.equal('got ping');
      expect(response.trailers).to.include({ 'grpc-status': '0' });
    });
  });

  describe('sluice client → node:http2 server', () => {
    let node: NodeServer;

    before(async () => {
      node = await startNodeServer({}, (stream) => {
        const chunks: Buffer[] = [];
        let trailers: http2.IncomingHttpHeaders = {};
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('trailers', (received) => (trailers = received));
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          stream.end(JSON.stringify({ body: Buffer.concat(chunks).toString(), trailers }));
        });
      });
    });
    after(async () => {
      await node.close();
    });

    it('request trailers after a body source that ends a moment after its last chunk', async () => {
      const session = await connect(node.url);
      try {
        async function* body(): AsyncGenerator<string> {
          yield 'chunk';
          await ioTurns(PAUSE_TURNS);
        }
        const response = await session.request(
          { ':path': '/upload' },
          { method: 'POST', body: body(), trailers: { 'x-checksum': 'abc' } },
        );
        const seen = JSON.parse(await response.body.text()) as { body: string; trailers: Record<string, string> };
        expect(seen.body).to.equal('chunk');
        expect(seen.trailers).to.include({ 'x-checksum': 'abc' });
      } finally {
        await session.close();
      }
    });
  });
});
