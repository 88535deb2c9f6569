/**
 * listenHttp1 / connectHttp1 over TLS on loopback: Node's `https` client (with and without ALPN)
 * against the sluice server, and the sluice client against it.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Listener } from '../../../lib/index.js';
import { connectHttp1, listenHttp1, type Http1ServerStream } from '../../../handlers/http1/index.js';

const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);
const ca = readFileSync(new URL('ca-cert.pem', fixtures));
const cert = readFileSync(new URL('server-cert.pem', fixtures));
const key = readFileSync(new URL('server-key.pem', fixtures));

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function onRequest(stream: Http1ServerStream): void {
  const hash = createHash('sha256');
  let length = 0;
  stream.handler = {
    onData: (_s, data, start, end) => {
      hash.update(data.subarray(start, end));
      length += end - start;
    },
    onEnd: () => {
      const body = Buffer.from(`${stream.method} ${stream.target} ${length} ${hash.digest('hex')}`);
      stream.respond(200, ['content-length', String(body.length)]);
      stream.write(body);
      stream.end();
    },
  };
}

function httpsGet(port: number, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      { host: '127.0.0.1', port, ca, servername: 'localhost', path: '/tls', ...options },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

describe('http1 over TLS (listenHttp1 / connectHttp1)', () => {
  let listener: Listener;

  before(async () => {
    listener = await listenHttp1({ host: '127.0.0.1', port: 0, http1: { onRequest }, tls: { cert, key } });
  });

  after(async () => {
    await listener.close();
  });

  it('serves node:https without ALPN and with ALPN http/1.1', async () => {
    const empty = sha256(new Uint8Array(0));
    const plain = await httpsGet(listener.port, { agent: false });
    expect(plain).to.deep.equal({ status: 200, body: `GET /tls 0 ${empty}` });
    const negotiated = await httpsGet(listener.port, {
      agent: new https.Agent({ ALPNProtocols: ['http/1.1'], ca, servername: 'localhost' }),
    });
    expect(negotiated).to.deep.equal({ status: 200, body: `GET /tls 0 ${empty}` });
  });

  it('connects the sluice client over TLS and reuses the connection for an upload', async () => {
    const connection = await connectHttp1({
      host: '127.0.0.1',
      port: listener.port,
      tls: { ca, servername: 'localhost' },
    });
    const payload = randomBytes(512 * 1024);
    const bodies: string[] = [];
    try {
      for (const [method, body] of [
        ['GET', null],
        ['POST', payload],
      ] as const) {
        bodies.push(
          await new Promise<string>((resolve, reject) => {
            const chunks: Buffer[] = [];
            const stream = connection.request(method, '/up', [], {
              isEndStream: body === null,
              handler: {
                onData: (_s, data, start, end) => chunks.push(Buffer.from(data.subarray(start, end))),
                onClose: (_s, error) => (error === null ? resolve(Buffer.concat(chunks).toString()) : reject(error)),
              },
            });
            if (body !== null) {
              stream.write(body);
              stream.end();
            }
          }),
        );
      }
      expect(bodies).to.deep.equal([
        `GET /up 0 ${sha256(new Uint8Array(0))}`,
        `POST /up ${payload.length} ${sha256(payload)}`,
      ]);
      expect(connection.completedExchanges).to.equal(2);
      expect(connection.isReusable).to.equal(true);
    } finally {
      connection.close();
    }
  });
});
