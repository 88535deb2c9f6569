/**
 * The README's "HTTP/2 in a few lines", runnable: the snippet between the `README` markers is
 * the README's code block with two adjustments — the import comes from the source tree instead
 * of `'sluice'`, and the server listens on a free port (0) that the client then connects to,
 * instead of 8080. It prints `200 hello /world` and exits 0.
 * `tests/examples/readme.test.ts` checks the snippet still matches the README.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/readme/http2-hello.js`
 *
 * @module
 */
// README: begin
import { createServer, connect } from '../../handlers/index.js';

const server = createServer(async (stream) => {
  stream.respond(200, { 'content-type': 'text/plain' });
  await stream.end(`hello ${stream.path}\n`);
});
const listener = await server.listen({ port: 0 });

const session = await connect(`http://127.0.0.1:${listener.port}`);
const response = await session.request({ ':path': '/world' });
console.log(response.status, await response.body.text());
await session.close();
await listener.close();
// README: end
