/**
 * The node:http side of the HTTP/1.1 server benchmark: the same routes as
 * `sluice-http1-server.ts` on Node's own HTTP/1.1.
 *
 * @module
 */
import http from 'node:http';
import { announce, reportStatsOnSignal, SMALL_BODY } from './routes.js';

const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  if (request.method === 'POST' && request.url === '/echo') {
    response.writeHead(200);
    request.pipe(response);
    return;
  }
  request.resume();
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
  response.end(SMALL_BODY);
});
reportStatsOnSignal(() => null);
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
