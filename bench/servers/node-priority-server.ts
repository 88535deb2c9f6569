/**
 * The node:http2 server of the "urgent under bulk" benchmark: `GET /bytes/N` as
 * `node-server.ts` serves it (node:http2 ignores the `priority` header), timing each urgent
 * request (`priority: u=0`) from its `stream` event to the stream's `close` — node's nearest
 * sign that the END_STREAM was sent — and printing `urgent {"serverMillis":…}`.
 *
 * @module
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { announce, parseBytesPath, sendNodePattern } from './routes.js';

const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
server.on('stream', (stream, headers) => {
  const startedAt = performance.now();
  if (String(headers['priority'] ?? '') === 'u=0') {
    stream.on('close', () => {
      process.stdout.write(`urgent ${JSON.stringify({ serverMillis: performance.now() - startedAt })}\n`);
    });
  }
  stream.on('error', () => undefined);
  sendNodePattern(stream, Math.max(0, parseBytesPath(String(headers[':path'] ?? ''))));
});
server.on('sessionError', () => undefined);
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
