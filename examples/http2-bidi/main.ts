/**
 * A bidirectional exchange with `session.stream`: each message is written, its echo read back,
 * and only then the next one written — what a gRPC bidi-streaming call or a chat does. The
 * peer is a `node:http2` echo server on 127.0.0.1 started by the program itself:
 *
 * ```sh
 * node dist/examples/http2-bidi/main.js
 * ```
 *
 * Prints each echo and the server's trailers; exits 0 when every echo matched, 1 otherwise.
 *
 * @module
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect } from '../../handlers/http2/index.js';

/** Starts a node:http2 server that echoes each chunk as it arrives and answers with trailers. */
async function startEchoServer(): Promise<http2.Http2Server> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    let count = 0;
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('data', (chunk: Buffer) => {
      count++;
      stream.write(chunk);
    });
    stream.on('end', () => stream.end());
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-messages': String(count) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Writes each message, reads its echo before writing the next; resolves with the echoes and trailers. */
async function exchange(
  url: string,
  messages: readonly string[],
): Promise<{ echoes: string[]; trailers: Record<string, string | string[]> }> {
  const session = await connect(url);
  try {
    const call = session.stream({ 'content-type': 'text/plain' }, { method: 'POST', path: '/chat' });
    await call.write(messages[0]);
    const response = await call.response; // resolves at the response headers; the request is still open
    const reader = response.body[Symbol.asyncIterator]();
    const echoes: string[] = [];
    for (let i = 0; i < messages.length; i++) {
      if (i > 0) await call.write(messages[i]); // waits while the server is not reading
      const next = await reader.next();
      echoes.push(String(next.value));
    }
    await call.end({ 'x-client-done': 'yes' }); // END_STREAM with trailers
    while (!(await reader.next()).done); // drain to the end
    return { echoes, trailers: await response.trailers };
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  const server = await startEchoServer();
  const { port } = server.address() as AddressInfo;
  const messages = ['ping', 'how are you?', 'bye'];
  try {
    const { echoes, trailers } = await exchange(`http://127.0.0.1:${port}`, messages);
    for (const echo of echoes) console.log(`echo: ${echo}`);
    console.log(`trailers: ${JSON.stringify(trailers)}`);
    process.exitCode = echoes.join('\n') === messages.join('\n') ? 0 : 1;
  } finally {
    server.close();
  }
}

await main();
