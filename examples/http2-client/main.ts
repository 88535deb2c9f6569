/**
 * Fetches a URL over HTTP/2 (h2c with prior knowledge for `http:`) and prints the status line
 * and headers to stderr and the body to stdout:
 *
 * ```sh
 * node dist/examples/http2-client/main.js http://127.0.0.1:8080/bytes/1000 > bytes.bin
 * node dist/examples/http2-client/main.js http://127.0.0.1:8080/echo 'posted body'
 * ```
 *
 * With a second argument the request is a POST carrying it as the body. Exit codes:
 *
 * - 0: the response status is 2xx;
 * - 1: any other status, or the request failed (connection refused, stream reset, …) — the
 *   error is printed as `http2 client: CODE: message` with its stable sluice error code;
 * - 2: usage error — no URL, or one that is not an `http:`/`https:` URL.
 *
 * @module
 */
import { SluiceError } from '../../handlers/index.js';
import { connect } from '../../handlers/http2/index.js';

const USAGE = 'usage: node dist/examples/http2-client/main.js URL [body]\n';

/** The URL argument, or null (after printing why) when it is not an `http:`/`https:` URL. */
function parseUrl(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    process.stderr.write(`http2 client: not a URL: '${text}'\n${USAGE}`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    process.stderr.write(`http2 client: only http: and https: URLs are supported, got '${url.protocol}'\n${USAGE}`);
    return null;
  }
  return url;
}

async function main(argv: readonly string[]): Promise<number> {
  const [urlText, body] = argv;
  if (urlText === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const url = parseUrl(urlText);
  if (url === null) return 2;
  const session = await connect(url);
  try {
    const response = await session.request(
      { ':path': `${url.pathname}${url.search}` },
      body === undefined ? {} : { method: 'POST', body, signal: AbortSignal.timeout(30_000) },
    );
    process.stderr.write(`HTTP/2 ${response.status}\n`);
    for (const [name, value] of Object.entries(response.headers)) {
      if (!name.startsWith(':')) process.stderr.write(`${name}: ${Array.isArray(value) ? value.join(', ') : value}\n`);
    }
    // Chunks are written as they arrive; credit returns to the server only as stdout takes them.
    for await (const chunk of response.body) {
      if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
    return response.status >= 200 && response.status < 300 ? 0 : 1;
  } finally {
    await session.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = error instanceof SluiceError ? `${error.code}: ` : '';
    process.stderr.write(`http2 client: ${code}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
