/**
 * The sluice HTTP/1.1 client against the sluice HTTP/1.1 server over loopback: many exchanges on
 * one keep-alive connection, bodies streamed both ways (chunked and by length) with manual window
 * credit on both sides, checked byte for byte.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { Listener } from '../../../lib/index.js';
import {
  connectHttp1,
  listenHttp1,
  type Http1ClientConnection,
  type Http1ServerStream,
} from '../../../handlers/http1/index.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Echoes the body back (chunked), consuming on a later turn. */
function echo(stream: Http1ServerStream): void {
  const chunks: Buffer[] = [];
  stream.handler = {
    onData: (s, data, start, end) => {
      chunks.push(Buffer.from(data.subarray(start, end)));
      setImmediate(() => s.updateWindow(end - start));
    },
    onEnd: () => {
      stream.respond(200, ['x-method', stream.method]);
      for (const chunk of chunks) stream.write(chunk);
      stream.end(['x-sha256', sha256(Buffer.concat(chunks))]);
    },
  };
}

function exchange(
  connection: Http1ClientConnection,
  method: string,
  body: Buffer | null,
  byLength: boolean,
): Promise<{ status: number; body: Buffer; trailers: readonly string[] }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let trailers: readonly string[] = [];
    const fields = body !== null && byLength ? ['content-length', String(body.length)] : [];
    const stream = connection.request(method, '/echo', fields, {
      isEndStream: body === null,
      handler: {
        onResponse: (_s, code) => (status = code),
        onData: (s, data, start, end) => {
          chunks.push(Buffer.from(data.subarray(start, end)));
          setImmediate(() => s.updateWindow(end - start));
        },
        onTrailers: (_s, fields) => (trailers = fields),
        onClose: (_s, error) =>
          error === null ? resolve({ status, body: Buffer.concat(chunks), trailers }) : reject(error),
      },
    });
    if (body !== null) {
      for (let offset = 0; offset < body.length; offset += 50_000) stream.write(body.subarray(offset, offset + 50_000));
      stream.end();
    }
  });
}

/** Bounded wait for a condition driven by I/O. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2000 && !predicate(); turn++) await new Promise((resolve) => setImmediate(resolve));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

describe('http1 loopback: sluice client against sluice server', () => {
  let listener: Listener;
  let accepted = 0;

  before(async () => {
    listener = await listenHttp1({
      host: '127.0.0.1',
      port: 0,
      http1: { onRequest: echo, isManualWindow: true, readWindowSize: 32 * 1024 },
      onAcceptSetup: () => accepted++,
    });
  });

  after(async () => {
    await listener.close();
  });

  it('carries 24 exchanges with streamed bodies on one connection, byte for byte', async () => {
    const before = accepted;
    const connection = await connectHttp1({
      host: '127.0.0.1',
      port: listener.port,
      http1: { isManualWindow: true, readWindowSize: 32 * 1024 },
    });
    try {
      for (let index = 0; index < 24; index++) {
        const size = [0, 1, 1000, 70_000, 300_000, 65_536][index % 6];
        const body = index % 8 === 7 ? null : randomBytes(size);
        const method = body === null ? 'GET' : 'POST';
        const response = await exchange(connection, method, body, index % 2 === 0);
        const sent = body ?? Buffer.alloc(0);
        expect(response.status).to.equal(200);
        expect(response.body.equals(sent), `exchange ${index}`).to.equal(true);
        expect(response.trailers).to.deep.equal(['x-sha256', sha256(sent)]);
        expect(connection.isReusable).to.equal(true);
      }
      expect(connection.completedExchanges).to.equal(24);
      await until(() => accepted - before === 1, 'the server to count the connection');
      expect(accepted - before).to.equal(1);
    } finally {
      connection.close();
    }
  });
});
