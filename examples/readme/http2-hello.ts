/**
 * The README's "HTTP/1.1 and HTTP/2 in a few lines", runnable: the snippet between the `README` markers is
 * the README's code block with two adjustments — the import comes from the source tree instead
 * of `'sluice'`, and the server listens on a free port (0) that the client then connects to,
 * instead of 8080. It prints `200 hello /world over h2` and exits 0.
 * `tests/examples/readme.test.ts` checks the snippet still matches the README.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/readme/http2-hello.js`
 *
 * @module
 */
// README: begin
import { createServer, connect } from '../../handlers/index.js';

// One handler, both protocols, one port: HTTP/1.1 or HTTP/2 (prior knowledge) by the first
// bytes; under `tls`, by ALPN (h2 preferred).
const server = createServer(async (stream) => {
  stream.respond(200, { 'content-type': 'text/plain' });
  await stream.end(`hello ${stream.path} over ${stream.protocol}\n`);
});
const listener = await server.listen({ port: 0 });

// http: is HTTP/1.1 unless { protocol: 'h2' }; https: negotiates by ALPN, preferring h2.
const session = await connect(`http://127.0.0.1:${listener.port}`, { protocol: 'h2' });
const response = await session.request({ ':path': '/world' });
console.log(response.status, await response.body.text());
await session.close();
await listener.close();
// README: end
