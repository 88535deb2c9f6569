/**
 * Integrity: many streams of random sizes through `/echo` on a sluice server, from the sluice
 * client on a few connections with random stream windows and manual window updates on both
 * sides; every echoed body's SHA-256 must match what was sent.
 *
 * The server echoes in manual window mode: it returns receive credit only when the echoed
 * chunk's write callback fires, so an upload can never outrun the echo. The client returns
 * credit after hashing each chunk. Sizes are log-uniform in 0 B – 1 MiB (mean ≈ 75 KiB).
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { SluiceError } from '../../lib/index.js';
import type { Http2Headers } from '../../handlers/http2/connection/connection-options.js';
import { connectHttp2 } from '../../handlers/http2/api/bootstrap.js';
import type { Http2ClientConnection } from '../../handlers/http2/connection/client-connection.js';
import type { Http2Stream, Http2StreamFailure } from '../../handlers/http2/connection/http2-stream.js';
import { mib, now, startTestServer, waitUntil } from './attack-client.js';

/** Streams in total. */
const STREAM_COUNT = 10_000;
/** Connections the streams are spread over. */
const CONNECTIONS = 4;
/** Streams in flight per connection. */
const IN_FLIGHT = 50;
/** Largest body. */
const MAX_BODY = 1024 * 1024;
/** Upload chunk size (views of one shared random buffer, never copied). */
const CHUNK = 64 * 1024;

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-uniform integer in [low, high]. */
function logUniform(random: () => number, low: number, high: number): number {
  return Math.min(
    high,
    Math.floor(Math.exp(Math.log(low + 1) + random() * (Math.log(high + 1) - Math.log(low + 1)))) - 1,
  );
}

/** The echo route: response headers at once, each received chunk written back, credit returned when it is framed. */
function echo(stream: Http2Stream, _headers: Http2Headers, isEndStream: boolean): void {
  stream.sendHeaders([':status', '200']);
  if (isEndStream) {
    stream.end();
    return;
  }
  stream.handler = {
    onData: (s, data, start, end) => {
      const length = end - start;
      s.write(Buffer.from(data.subarray(start, end)), (error) => {
        if (error === null) s.updateWindow(length);
      });
    },
    onEnd: (s) => {
      if (s.isWritable) s.end();
    },
  };
}

interface Outcome {
  readonly index: number;
  readonly size: number;
  readonly error: string | null;
  readonly matches: boolean;
}

describe('hardening: integrity', function () {
  this.timeout(180_000);

  it(`${STREAM_COUNT} echoed streams of 0 B – 1 MiB on ${CONNECTIONS} connections with random windows and manual window updates: every SHA-256 matches`, async () => {
    const random = prng(0x1e9e5);
    const pool = randomBytes(2 * MAX_BODY);
    const server = await startTestServer({
      // Manual windows on the server bound what it holds: 256 KiB per stream, 4 MiB per connection.
      http2: { windowMode: 'manual', initialStreamWindowSize: 256 * 1024, maxConcurrentStreams: 100 },
      onStream: echo,
    });
    const windows = Array.from({ length: CONNECTIONS }, () => logUniform(random, 1024, MAX_BODY));
    const closes: (SluiceError | null)[] = [];
    const connections: Http2ClientConnection[] = [];
    for (const window of windows) {
      connections.push(
        await connectHttp2({
          host: '127.0.0.1',
          port: server.port,
          http2: { initialStreamWindowSize: window, onClose: (error) => closes.push(error) },
        }),
      );
    }
    const outcomes: Outcome[] = [];
    let next = 0;
    let totalBytes = 0;
    const startedAt = now();

    const runOne = (connection: Http2ClientConnection, index: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const size = logUniform(random, 0, MAX_BODY);
        const offset = Math.floor(random() * MAX_BODY);
        const body = pool.subarray(offset, offset + size);
        const expected = createHash('sha256').update(body).digest('hex');
        const received = createHash('sha256');
        let receivedBytes = 0;
        let sent = 0;
        totalBytes += size;
        const headers = [':method', 'POST', ':scheme', 'http', ':authority', '127.0.0.1', ':path', '/echo'];
        const pump = (s: Http2Stream): void => {
          while (sent < size && s.isWritable) {
            const chunk = body.subarray(sent, sent + CHUNK);
            sent += chunk.length;
            const isBelow = s.write(chunk);
            if (sent === size) s.end();
            if (!isBelow) return;
          }
        };
        const stream = connection.request(headers, {
          isEndStream: size === 0,
          isManualWindow: true,
          handler: {
            onData: (s, data, start, end) => {
              received.update(data.subarray(start, end));
              receivedBytes += end - start;
              s.updateWindow(end - start);
            },
            onDrain: pump,
            onClose: (_s, error: Http2StreamFailure | null) => {
              const digest = received.digest('hex');
              outcomes.push({
                index,
                size,
                error: error === null ? null : error.code,
                matches: digest === expected && receivedBytes === size,
              });
              resolve();
            },
          },
        });
        if (size > 0) pump(stream);
      });

    const worker = async (connection: Http2ClientConnection): Promise<void> => {
      // Bounded: each worker takes streams from the shared counter until STREAM_COUNT were started.
      while (next < STREAM_COUNT) await runOne(connection, next++);
    };
    await Promise.all(connections.flatMap((connection) => Array.from({ length: IN_FLIGHT }, () => worker(connection))));
    const seconds = (now() - startedAt) / 1000;
    for (const connection of connections) void connection.close();
    await waitUntil(() => closes.length === CONNECTIONS, 5000);
    await server.close();

    const failures = outcomes.filter((outcome) => outcome.error !== null || !outcome.matches);
    console.log(
      `integrity: ${outcomes.length} streams, ${mib(totalBytes)} MiB each way in ${seconds.toFixed(1)} s ` +
        `(${mib((2 * totalBytes) / seconds)} MiB/s through the echo), client stream windows ${windows.join(', ')} B`,
    );
    expect(outcomes).to.have.length(STREAM_COUNT);
    expect(failures.slice(0, 5), `${failures.length} streams failed or mismatched`).to.deep.equal([]);
    expect(closes, 'connections closed gracefully').to.deep.equal(new Array<null>(CONNECTIONS).fill(null));
  });
});
