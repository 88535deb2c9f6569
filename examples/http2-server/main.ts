/**
 * An HTTP/2 server (h2c, prior knowledge) on 127.0.0.1, run by `npm start`:
 *
 * ```sh
 * PORT=8080 node dist/examples/http2-server/main.js
 * node dist/examples/http2-client/main.js http://127.0.0.1:8080/bytes/100000
 * curl --http2-prior-knowledge http://127.0.0.1:8080/
 * ```
 *
 * Prints one line, `listening on http://127.0.0.1:PORT`, once bound (PORT from the
 * environment, 8080 when unset; 0 picks a free port). Routes:
 *
 * - `GET /` — a short text.
 * - `GET /bytes/N` — N deterministic bytes (byte k is `k % 251`), streamed with back-pressure.
 * - `POST /echo` — streams the request body back as it arrives, flow-controlled both ways.
 * - `GET /headers` — the request headers as JSON.
 *
 * On SIGINT or SIGTERM it closes gracefully — GOAWAY, streams in flight finish — and exits 0.
 *
 * @module
 */
import { type ServerStream } from '../../handlers/index.js';
import { createServer } from '../../handlers/http2/index.js';

const HOST = '127.0.0.1';
/** Largest `/bytes/N` served (1 GiB). */
const MAX_BYTES = 1024 * 1024 * 1024;
/** 256 periods of the 251-byte pattern: repeating the block keeps `byte k = k % 251` across blocks. */
const PATTERN = Buffer.from(Array.from({ length: 251 * 256 }, (_, index) => index % 251));

function portFromEnvironment(): number {
  const text = process.env['PORT'] ?? '8080';
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`PORT must be an integer in 0..65535, got '${text}'`);
  }
  return port;
}

async function sendBytes(stream: ServerStream, count: number): Promise<void> {
  stream.respond(200, { 'content-type': 'application/octet-stream', 'content-length': count });
  for (let sent = 0; sent < count; sent += PATTERN.length) {
    // Awaiting each write keeps at most the stream's high-water mark in memory.
    await stream.write(PATTERN.subarray(0, Math.min(PATTERN.length, count - sent)));
  }
  await stream.end();
}

async function handle(stream: ServerStream): Promise<void> {
  const bytesMatch = /^\/bytes\/(\d+)$/.exec(stream.path);
  if (stream.method === 'POST' && stream.path === '/echo') {
    const contentType = stream.headers['content-type'];
    stream.respond(200, { 'content-type': typeof contentType === 'string' ? contentType : 'application/octet-stream' });
    await stream.send(stream.body);
  } else if (stream.method !== 'GET' && stream.method !== 'HEAD') {
    stream.respond(405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' });
    await stream.end('method not allowed\n');
  } else if (stream.path === '/') {
    stream.respond(200, { 'content-type': 'text/plain; charset=utf-8' });
    await stream.end('hello from sluice over HTTP/2\n');
  } else if (bytesMatch !== null && Number(bytesMatch[1]) <= MAX_BYTES) {
    await sendBytes(stream, Number(bytesMatch[1]));
  } else if (stream.path === '/headers') {
    stream.respond(200, { 'content-type': 'application/json' });
    await stream.end(`${JSON.stringify(stream.headers, null, 2)}\n`);
  } else {
    stream.respond(404, { 'content-type': 'text/plain; charset=utf-8' });
    await stream.end('not found\n');
  }
}

async function main(): Promise<void> {
  const server = createServer(
    {
      onError: (error) =>
        process.stderr.write(`http2 server: ${error instanceof Error ? error.message : String(error)}\n`),
    },
    handle,
  );
  const listener = await server.listen({ host: HOST, port: portFromEnvironment() });
  process.stdout.write(`listening on http://${HOST}:${listener.port}\n`);
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // Once the listener and its connections are closed nothing holds the process: it exits
    // by itself with the code set here.
    listener.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(`http2 server: close failed: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`http2 server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
