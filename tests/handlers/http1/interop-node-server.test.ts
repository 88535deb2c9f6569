/**
 * The sluice HTTP/1.1 server over real loopback sockets against peers nobody here wrote: the
 * `node:http` client (keep-alive agent, chunked upload with trailers, HEAD/204/304,
 * `expect: 100-continue`) and raw sockets for pipelining and HTTP/1.0.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Listener } from '../../../lib/index.js';
import { listenHttp1, type Http1ServerConnection, type Http1ServerStream } from '../../../handlers/http1/index.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The routes of the test server. */
function onRequest(stream: Http1ServerStream): void {
  const path = stream.target;
  if (path === '/echo' || path === '/continue') {
    const hash = createHash('sha256');
    let length = 0;
    stream.handler = {
      onData: (_s, data, start, end) => {
        hash.update(data.subarray(start, end));
        length += end - start;
      },
      onTrailers: (_s, trailers) => (stream.userData = trailers),
      onEnd: () => {
        const trailers = (stream.userData as string[] | null) ?? [];
        stream.respond(200, ['content-type', 'text/plain']);
        stream.write(Buffer.from(`${length} ${hash.digest('hex')}`));
        stream.end(['x-request-trailers', trailers.join('=')]);
      },
    };
    return;
  }
  if (path === '/204' || path === '/304') {
    stream.respond(Number(path.slice(1)), [], true);
    return;
  }
  if (path === '/stream') {
    stream.respond(200);
    stream.write(Buffer.from('part1 '));
    stream.end(null);
    return;
  }
  const body = Buffer.from(`hello ${path}`);
  stream.respond(200, ['content-length', String(body.length)]);
  stream.write(body);
  stream.end();
}

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
  isReusedSocket: boolean;
  sawContinue: boolean;
}

function nodeRequest(
  port: number,
  options: http.RequestOptions,
  send: (request: http.ClientRequest) => void = (request) => request.end(),
): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    let sawContinue = false;
    const request = http.request({ host: '127.0.0.1', port, ...options }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          trailers: response.trailers,
          body: Buffer.concat(chunks),
          isReusedSocket: request.reusedSocket,
          sawContinue,
        }),
      );
    });
    request.on('continue', () => (sawContinue = true));
    request.on('error', reject);
    send(request);
  });
}

/** Writes `text` on a raw socket and collects everything until the server closes. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** Bounded wait for a condition driven by I/O. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2000 && !predicate(); turn++) await new Promise((resolve) => setTimeout(resolve, 2));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

describe('http1 interop: node:http client against the sluice server', () => {
  let listener: Listener;
  let port: number;
  let accepted = 0;

  before(async () => {
    listener = await listenHttp1({
      host: '127.0.0.1',
      port: 0,
      http1: { onRequest },
      onAcceptSetup: () => accepted++,
    });
    port = listener.port;
  });

  after(async () => {
    await listener.close();
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = accepted;
    try {
      const responses: NodeResponse[] = [];
      for (let i = 0; i < 3; i++) responses.push(await nodeRequest(port, { agent, path: `/r${i}` }));
      expect(responses.map((response) => response.body.toString())).to.deep.equal([
        'hello /r0',
        'hello /r1',
        'hello /r2',
      ]);
      expect(responses.map((response) => response.isReusedSocket)).to.deep.equal([false, true, true]);
      expect(accepted - before).to.equal(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order on a raw socket', async () => {
    const text = await rawExchange(
      port,
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const bodies = [...text.matchAll(/hello (\/[abc])/g)].map((match) => match[1]);
    expect(bodies).to.deep.equal(['/a', '/b', '/c']);
    expect(text.match(/HTTP\/1\.1 200 OK/g)).to.have.length(3);
  });

  it('receives a chunked upload with trailers and answers chunked with trailers', async () => {
    const payload = randomBytes(1024 * 1024 + 17);
    const response = await nodeRequest(port, { method: 'POST', path: '/echo' }, (request) => {
      request.setHeader('transfer-encoding', 'chunked');
      request.addTrailers({ 'x-upload': 'done' });
      for (let offset = 0; offset < payload.length; offset += 64 * 1024) {
        request.write(payload.subarray(offset, offset + 64 * 1024));
      }
      request.end();
    });
    expect(response.status).to.equal(200);
    expect(response.headers['transfer-encoding']).to.equal('chunked');
    expect(response.body.toString()).to.equal(`${payload.length} ${sha256(payload)}`);
    expect(response.trailers['x-request-trailers']).to.equal('x-upload=done');
  });

  it('sends no body for HEAD, 204 and 304', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await nodeRequest(port, { agent, method: 'HEAD', path: '/h' });
      expect([head.status, head.headers['content-length'], head.body.length]).to.deep.equal([200, '8', 0]);
      const noContent = await nodeRequest(port, { agent, path: '/204' });
      expect([noContent.status, noContent.body.length]).to.deep.equal([204, 0]);
      const notModified = await nodeRequest(port, { agent, path: '/304' });
      expect([notModified.status, notModified.body.length]).to.deep.equal([304, 0]);
      const after = await nodeRequest(port, { agent, path: '/after' });
      expect(after.body.toString()).to.equal('hello /after');
      expect(after.isReusedSocket).to.equal(true);
    } finally {
      agent.destroy();
    }
  });

  it('answers expect: 100-continue with 100 when the application reads the body', async () => {
    const payload = randomBytes(10_000);
    const response = await nodeRequest(
      port,
      {
        method: 'PUT',
        path: '/continue',
        headers: { expect: '100-continue', 'content-length': String(payload.length) },
      },
      (request) => request.on('continue', () => request.end(payload)),
    );
    expect(response.sawContinue).to.equal(true);
    expect(response.body.toString()).to.equal(`${payload.length} ${sha256(payload)}`);
  });

  it('serves an HTTP/1.0 peer: close-delimited body without chunks, then closes', async () => {
    const text = await rawExchange(port, 'GET /stream HTTP/1.0\r\n\r\n');
    expect(text).to.equal('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npart1 ');
  });

  it('keeps an HTTP/1.0 connection alive when asked, with a length', async () => {
    const text = await rawExchange(port, 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
    expect(text).to.equal(
      'HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: keep-alive\r\n\r\nhello /a' +
        'HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nhello /b',
    );
  });

  it('answers a smuggling attempt with 400 and closes without answering the smuggled request', async () => {
    const text = await rawExchange(
      port,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(text).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).to.not.include('smuggled');
    expect(text.match(/HTTP\/1\.1/g)).to.have.length(1);
  });

  it('holds a node:http upload to the read window while the application consumes slowly (manual window)', async () => {
    const window = 64 * 1024;
    let outstanding = 0;
    let maxOutstanding = 0;
    let received = 0;
    const slow = await listenHttp1({
      host: '127.0.0.1',
      port: 0,
      http1: {
        isManualWindow: true,
        readWindowSize: window,
        onRequest: (stream) => {
          stream.handler = {
            onData: (_s, _data, start, end) => {
              const size = end - start;
              received += size;
              outstanding += size;
              maxOutstanding = Math.max(maxOutstanding, outstanding);
              // The application consumes on a later turn, as a slow writer to disk would.
              setImmediate(() => {
                outstanding -= size;
                stream.updateWindow(size);
              });
            },
            onEnd: () => {
              const body = Buffer.from(String(received));
              stream.respond(200, ['content-length', String(body.length)]);
              stream.write(body);
              stream.end();
            },
          };
        },
      },
    });
    try {
      const payload = randomBytes(8 * 1024 * 1024);
      const response = await nodeRequest(slow.port, { method: 'POST', path: '/slow' }, (request) => {
        request.setHeader('content-length', String(payload.length));
        request.end(payload);
      });
      expect([response.status, response.body.toString()]).to.deep.equal([200, String(payload.length)]);
      expect(received).to.equal(payload.length);
      expect(maxOutstanding).to.be.at.most(window);
    } finally {
      await slow.close();
    }
  });

  it('drains gracefully: the in-flight response says Connection: close, the idle connection closes at once', async () => {
    const connections: Http1ServerConnection[] = [];
    let pending: Http1ServerStream | null = null;
    const draining = await listenHttp1({
      host: '127.0.0.1',
      port: 0,
      http1: {
        onRequest: (stream) => {
          if (stream.target === '/slow') pending = stream;
          else onRequest(stream);
        },
      },
      onConnection: (connection) => connections.push(connection),
    });
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await nodeRequest(draining.port, { agent: idleAgent, path: '/idle' });
      const slow = nodeRequest(draining.port, { agent: false, path: '/slow' });
      await until(() => pending !== null && connections.length === 2, 'the slow request');
      for (const connection of connections) connection.close();
      // The idle keep-alive connection closes at once; the busy one stays for its response.
      await until(() => draining.channels.size === 1, 'the idle connection to close');
      const stream = pending as unknown as Http1ServerStream;
      stream.respond(200, ['content-length', '4']);
      stream.write(Buffer.from('slow'));
      stream.end();
      const response = await slow;
      expect([response.status, response.headers.connection, response.body.toString()]).to.deep.equal([
        200,
        'close',
        'slow',
      ]);
      await until(() => draining.channels.size === 0, 'the drained connection to close');
    } finally {
      idleAgent.destroy();
      await draining.close();
    }
  });
});
