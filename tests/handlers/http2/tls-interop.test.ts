import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  EventLoopGroup,
  Http2ServerConnection,
  connectHttp2,
  listenHttp2,
  type Http2ClientConnection,
  type Http2Headers,
  type Http2Stream,
  type Http2StreamFailure,
  type Listener,
  type TlsArrangement,
} from '../../../handlers/index.js';
import { until } from '../../support/waiting.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { sha256 } from '../../support/hashing.js';

const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);
const ca = readFileSync(new URL('ca-cert.pem', fixtures));
const cert = readFileSync(new URL('server-cert.pem', fixtures));
const key = readFileSync(new URL('server-key.pem', fixtures));

interface Response {
  headers: Http2Headers;
  digest: string;
  length: number;
  error: Http2StreamFailure | null;
}

/** Sends one request on a sluice connection; the body (if any) is written in 256 KiB chunks with back-pressure. */
function fetchOver(connection: Http2ClientConnection, path: string, body?: Buffer): Promise<Response> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let headers: Http2Headers = [];
    let length = 0;
    const stream = connection.request(
      [':method', body ? 'POST' : 'GET', ':scheme', 'https', ':authority', 'localhost', ':path', path],
      {
        isEndStream: body === undefined,
        handler: {
          onResponse: (_stream, received) => (headers = received),
          onData: (_stream, data, start, end) => {
            hash.update(data.subarray(start, end));
            length += end - start;
          },
          onDrain: () => pump(),
          onClose: (_stream, error) => resolve({ headers, digest: hash.digest('hex'), length, error }),
        },
      },
    );
    let offset = 0;
    const pump = (): void => {
      while (body !== undefined && offset < body.length && stream.isWritable) {
        const chunk = body.subarray(offset, offset + 256 * 1024);
        offset += chunk.length;
        if (!stream.write(chunk)) return;
      }
      if (body !== undefined && offset >= body.length && stream.isWritable) stream.end();
    };
    pump();
  });
}

/** node:http2 secure server: GET /bytes/N streams N bytes, POST /echo returns the body's SHA-256. */
async function nodeSecureServer(payload: Buffer): Promise<http2.Http2SecureServer> {
  const server = http2.createSecureServer({ cert, key });
  server.on('stream', (stream, headers) => {
    if (headers[':method'] === 'POST') {
      const hash = createHash('sha256');
      stream.on('data', (chunk: Buffer) => hash.update(chunk));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(hash.digest('hex'));
      });
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end(headers[':path'] === '/big' ? payload : 'small');
  });
  await listenOnLoopback(server);
  return server;
}

/** sluice TLS server: GET returns `payload`, POST returns the body's SHA-256. */
function sluiceSecureServer(
  payload: Buffer,
  arrangement: TlsArrangement,
  loopGroup: EventLoopGroup,
): Promise<Listener> {
  return listenHttp2({
    host: '127.0.0.1',
    port: 0,
    loopGroup,
    tls: { cert, key },
    tlsArrangement: arrangement,
    http2: {
      onStream(stream: Http2Stream, headers: Http2Headers) {
        if (headers[1] === 'POST' || headers.includes('POST')) {
          const hash = createHash('sha256');
          stream.handler = {
            onData: (_s, data, start, end) => hash.update(data.subarray(start, end)),
            onEnd: (s) => {
              s.sendHeaders([':status', '200']);
              s.write(Buffer.from(hash.digest('hex')));
              s.end();
            },
          };
          return;
        }
        stream.sendHeaders([':status', '200']);
        const body = headers.includes('/big') ? payload : Buffer.from('small');
        let offset = 0;
        const pump = (): void => {
          while (offset < body.length && stream.isWritable) {
            const chunk = body.subarray(offset, offset + 256 * 1024);
            offset += chunk.length;
            if (!stream.write(chunk)) return;
          }
          if (offset >= body.length && stream.isWritable) stream.end();
        };
        stream.handler = { onDrain: pump };
        pump();
      },
    },
  });
}

function nodeFetch(
  session: http2.ClientHttp2Session,
  path: string,
  body?: Buffer,
): Promise<{ status: number; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = session.request({ ':method': body ? 'POST' : 'GET', ':path': path });
    const chunks: Buffer[] = [];
    let status = 0;
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve({ status, data: Buffer.concat(chunks) }));
    request.on('error', reject);
    request.end(body);
  });
}

describe('HTTP/2 over TLS (ALPN h2) with node:http2', function () {
  this.timeout(60_000);
  const payload = randomBytes(64 * 1024 * 1024);
  const payloadDigest = sha256(payload);

  describe('sluice client ↔ node:http2 secure server', () => {
    let server: http2.Http2SecureServer;
    let connection: Http2ClientConnection;

    before(async () => {
      server = await nodeSecureServer(payload);
    });
    after(() => closeServer(server));

    it('negotiates h2, downloads and uploads 64 MiB byte-exact, and closes gracefully', async () => {
      connection = await connectHttp2({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        tls: { ca, servername: 'localhost' },
      });
      const small = await Promise.all(Array.from({ length: 20 }, () => fetchOver(connection, '/small')));
      expect(small.every((response) => response.error === null && response.headers[1] === '200')).to.equal(true);
      const download = await fetchOver(connection, '/big');
      expect([download.error, download.length, download.digest]).to.deep.equal([null, payload.length, payloadDigest]);
      const upload = await fetchOver(connection, '/echo', payload);
      expect(upload.error).to.equal(null);
      expect(Buffer.from(upload.digest, 'hex').length).to.equal(32);
      expect(await connection.close()).to.equal(null);
    });
  });

  for (const arrangement of ['native', 'handler'] as const) {
    describe(`node:http2 client ↔ sluice secure server (${arrangement} TLS)`, () => {
      let listener: Listener;
      const group = new EventLoopGroup();

      before(async () => {
        listener = await sluiceSecureServer(payload, arrangement, group);
      });
      after(async () => {
        await listener.close();
        expect(group.loops[0].messagePool.outstanding).to.equal(0);
      });

      it('serves small requests and 64 MiB both ways byte-exact', async () => {
        const session = http2.connect(`https://127.0.0.1:${listener.port}`, { ca, servername: 'localhost' });
        session.on('error', () => undefined);
        try {
          const small = await Promise.all(Array.from({ length: 20 }, () => nodeFetch(session, '/small')));
          expect(small.every((response) => response.status === 200)).to.equal(true);
          const download = await nodeFetch(session, '/big');
          expect(sha256(download.data)).to.equal(payloadDigest);
          const upload = await nodeFetch(session, '/echo', payload);
          expect(upload.data.toString()).to.equal(payloadDigest);
          expect(session.alpnProtocol).to.equal('h2');
        } finally {
          session.close();
        }
      });

      it('finishes a request in flight when the server closes with GOAWAY', async () => {
        const session = http2.connect(`https://127.0.0.1:${listener.port}`, { ca, servername: 'localhost' });
        const goaways: number[] = [];
        session.on('goaway', (code: number) => goaways.push(code));
        session.on('error', () => undefined);
        const inFlight = nodeFetch(session, '/big');
        const connections = (): Http2ServerConnection[] =>
          [...listener.channels].flatMap((channel) =>
            channel.slots().flatMap((slot) => (slot.handler instanceof Http2ServerConnection ? [slot.handler] : [])),
          );
        // In flight means the server has the stream (a fixed sleep raced the TLS handshake under load).
        await until(
          () => connections().some((connection) => connection.activeStreamCount > 0),
          'the server to have the request',
          2000,
        );
        // Graceful HTTP/2 close of every connection (GOAWAY, streams finish), then the listener.
        const closing = Promise.all(connections().map((connection) => connection.close())).then(() => listener.close());
        const response = await inFlight;
        expect(sha256(response.data)).to.equal(payloadDigest);
        await closing;
        expect(goaways).to.include(0);
        session.close();
        listener = await sluiceSecureServer(payload, arrangement, group);
      });
    });
  }
});
