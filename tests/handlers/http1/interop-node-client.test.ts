/**
 * The sluice HTTP/1.1 client over real loopback sockets against a `node:http` server (keep-alive
 * reuse, streamed bodies both ways, HEAD, 100-continue) and a raw socket server for a
 * close-delimited response.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { SluiceError } from '../../../lib/index.js';
import {
  connectHttp1,
  type Http1ClientConnection,
  type Http1ClientStream,
  type Http1RequestOptions,
} from '../../../handlers/http1/index.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

interface Response {
  status: number;
  fields: readonly string[];
  trailers: readonly string[];
  body: Buffer;
}

/** Sends a request and resolves with the whole response (rejects with the exchange's error). */
function send(
  connection: Http1ClientConnection,
  method: string,
  target: string,
  fields: string[] = [],
  body?: (stream: Http1ClientStream) => void,
  options: Http1RequestOptions = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const response: Response = { status: 0, fields: [], trailers: [], body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    const stream = connection.request(method, target, fields, {
      ...options,
      isEndStream: body === undefined,
      handler: {
        onResponse: (_s, status, responseFields) => {
          response.status = status;
          response.fields = responseFields;
        },
        onData: (_s, data, start, end) => chunks.push(Buffer.from(data.subarray(start, end))),
        onTrailers: (_s, trailers) => (response.trailers = trailers),
        onClose: (_s, error: SluiceError | null) => {
          if (error !== null) reject(error);
          response.body = Buffer.concat(chunks);
          resolve(response);
        },
      },
    });
    body?.(stream);
  });
}

function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i].toLowerCase() === name) return fields[i + 1];
  return undefined;
}

/** Bounded wait for a condition driven by I/O. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2000; turn++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('http1 interop: the sluice client against a node:http server', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;

  before(async () => {
    server = http.createServer((request, response) => {
      if (request.url === '/echo') {
        const hash = createHash('sha256');
        let length = 0;
        request.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          length += chunk.length;
        });
        request.on('end', () => {
          response.setHeader('trailer', 'x-request-trailer');
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.write(`${length} `);
          response.write(hash.digest('hex'));
          response.addTrailers({ 'x-request-trailer': request.trailers['x-t'] ?? '' });
          response.end();
        });
        return;
      }
      if (request.url === '/big') {
        const payload = randomBytes(2 * 1024 * 1024);
        response.writeHead(200, { 'x-sha256': sha256(payload) });
        for (let offset = 0; offset < payload.length; offset += 100_000) {
          response.write(payload.subarray(offset, offset + 100_000));
        }
        response.end();
        return;
      }
      if (request.url === '/close-delimited') {
        // Neither a length nor chunked: node delimits the body by closing the connection.
        response.useChunkedEncodingByDefault = false;
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('until ');
        setImmediate(() => response.end('the close'));
        return;
      }
      const body = `hello ${request.url ?? ''}`;
      response.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    server.on('connection', () => connections++);
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const before = connections;
    let reusableCount = 0;
    const connection = await connectHttp1({
      host: '127.0.0.1',
      port,
      http1: { onReusable: () => reusableCount++ },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await send(connection, 'GET', `/r${i}`);
        expect([response.status, response.body.toString()]).to.deep.equal([200, `hello /r${i}`]);
        expect(connection.isReusable).to.equal(true);
      }
      const head = await send(connection, 'HEAD', '/h');
      expect([head.status, field(head.fields, 'content-length'), head.body.length]).to.deep.equal([200, '8', 0]);
      expect(reusableCount).to.equal(4);
      expect(connections - before).to.equal(1);
    } finally {
      connection.close();
    }
  });

  it('streams a chunked request body with trailers and reads a chunked response with trailers', async () => {
    const connection = await connectHttp1({ host: '127.0.0.1', port });
    const payload = randomBytes(3 * 1024 * 1024 + 5);
    try {
      const response = await send(connection, 'POST', '/echo', [], (stream) => {
        let offset = 0;
        let inFlight = 0;
        let isEnded = false;
        // Back-pressure from the write callbacks: at most two chunks waiting to be handed over.
        const pump = (): void => {
          while (offset < payload.length && inFlight < 2) {
            const piece = payload.subarray(offset, offset + 128 * 1024);
            offset += piece.length;
            inFlight++;
            stream.write(piece, () => {
              inFlight--;
              pump();
            });
          }
          if (offset >= payload.length && inFlight === 0 && !isEnded) {
            isEnded = true;
            stream.end(['x-t', 'sent']);
          }
        };
        pump();
      });
      expect(response.status).to.equal(200);
      expect(response.body.toString()).to.equal(`${payload.length} ${sha256(payload)}`);
      expect(response.trailers).to.deep.equal(['x-request-trailer', 'sent']);
      expect(connection.isReusable).to.equal(true);
    } finally {
      connection.close();
    }
  });

  it('reads a large chunked response with manual window credit', async () => {
    const connection = await connectHttp1({
      host: '127.0.0.1',
      port,
      http1: { isManualWindow: true, readWindowSize: 16 * 1024 },
    });
    try {
      const hash = createHash('sha256');
      let length = 0;
      const response = await new Promise<{ status: number; sha: string | undefined }>((resolve, reject) => {
        let status = 0;
        let expected: string | undefined;
        connection.request('GET', '/big', [], {
          isEndStream: true,
          handler: {
            onResponse: (_s, code, fields) => {
              status = code;
              expected = field(fields, 'x-sha256');
            },
            onData: (stream, data, start, end) => {
              hash.update(data.subarray(start, end));
              length += end - start;
              // Consume later, as a slow reader would.
              setImmediate(() => stream.updateWindow(end - start));
            },
            onClose: (_s, error) => (error === null ? resolve({ status, sha: expected }) : reject(error)),
          },
        });
      });
      expect(response.status).to.equal(200);
      expect(length).to.equal(2 * 1024 * 1024);
      expect(hash.digest('hex')).to.equal(response.sha);
    } finally {
      connection.close();
    }
  });

  it('reads a close-delimited response from node to its end; the connection is then not reusable', async () => {
    const connection = await connectHttp1({ host: '127.0.0.1', port });
    const response = await send(connection, 'GET', '/close-delimited');
    expect([response.status, field(response.fields, 'connection'), response.body.toString()]).to.deep.equal([
      200,
      'close',
      'until the close',
    ]);
    await until(() => !connection.isReusable, 'the connection to close');
    expect(() => connection.request('GET', '/', [], { isEndStream: true }))
      .to.throw()
      .with.property('code', 'HTTP1_CONNECTION_NOT_REUSABLE');
  });

  it('sends the body of an expect: 100-continue request after node answers 100', async () => {
    const connection = await connectHttp1({ host: '127.0.0.1', port, http1: { continueTimeoutMs: 60_000 } });
    const payload = randomBytes(50_000);
    try {
      const response = await send(
        connection,
        'PUT',
        '/echo',
        ['expect', '100-continue', 'content-length', String(payload.length)],
        (stream) => {
          stream.write(payload);
          stream.end();
        },
      );
      expect(response.body.toString()).to.equal(`${payload.length} ${sha256(payload)}`);
    } finally {
      connection.close();
    }
  });
});

describe('http1 interop: the sluice client against a raw server closing after its response', () => {
  it('reads a close-delimited response to its end', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
        setImmediate(() => socket.end('the close'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const connection = await connectHttp1({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
      const response = await send(connection, 'GET', '/');
      expect([response.status, response.body.toString()]).to.deep.equal([200, 'until the close']);
      await until(() => !connection.isReusable, 'the connection to close');
      expect(connection.isReusable).to.equal(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
