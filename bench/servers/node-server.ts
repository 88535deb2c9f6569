/**
 * The node:http2 side of the server benchmark: the same routes on Node's own HTTP/2.
 *
 * @module
 */
import http2 from 'node:http2';
import { announce, benchTls, parseBytesPath, reportStatsOnSignal, sendNodePattern, SMALL_BODY } from './routes.js';

const tls = benchTls();
const settings = { maxConcurrentStreams: 1000 };
const server = tls === null ? http2.createServer({ settings }) : http2.createSecureServer({ ...tls, settings });
server.on('stream', (stream, headers) => {
  const path = String(headers[':path'] ?? '');
  if (headers[':method'] === 'POST' && path === '/echo') {
    stream.respond({ ':status': 200 });
    stream.pipe(stream);
    return;
  }
  const count = parseBytesPath(path);
  if (count >= 0) {
    sendNodePattern(stream, count);
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
  stream.end(SMALL_BODY);
});
server.on('sessionError', () => undefined);
reportStatsOnSignal(() => null);
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0, tls !== null);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
