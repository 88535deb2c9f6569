/**
 * An example SDK on sluice: a tiny "KV service" client with `get` and `put` that retries
 * throttled requests, run against a local KV server that throttles every third request.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/sdk-client/main.js`
 *
 * @module
 */
import { listenHttp2, type Http2Stream, type Listener } from '../../handlers/index.js';
import { Client, type ClientRetryEvent } from '../../handlers/sdk/index.js';

/** KvClient is the SDK: typed calls over a sluice {@link Client} (pooling, retries, timeouts). */
export class KvClient {
  private readonly client: Client;

  /** Creates a client for the KV service at `origin`; `onRetry` sees each retry. */
  constructor(origin: string, onRetry?: (event: ClientRetryEvent) => void) {
    this.client = new Client({
      origin,
      requestTimeoutMs: 5_000,
      defaultHeaders: { 'user-agent': 'kv-sdk/1.0 sluice' },
      ...(onRetry !== undefined ? { onRetry } : {}),
    });
  }

  /** Stores `value` under `key`. */
  async put(key: string, value: string): Promise<void> {
    const response = await this.client.request({ method: 'PUT', path: `/kv/${encodeURIComponent(key)}`, body: value });
    if (response.status !== 204) throw new Error(`put ${key}: HTTP ${response.status}`);
  }

  /** The value under `key`, or null when there is none. */
  async get(key: string): Promise<string | null> {
    const response = await this.client.request({ path: `/kv/${encodeURIComponent(key)}` });
    if (response.status === 404) return null;
    if (response.status !== 200) throw new Error(`get ${key}: HTTP ${response.status}`);
    return response.body.toString('utf8');
  }

  /** Closes the connections. */
  close(): Promise<void> {
    return this.client.close();
  }
}

/** A local KV server over h2c: PUT stores, GET reads; every third request is throttled with 503. */
async function startKvServer(): Promise<Listener> {
  const store = new Map<string, string>();
  let requests = 0;
  return listenHttp2({
    host: '127.0.0.1',
    port: 0,
    http2: {
      onStream: (stream: Http2Stream, headers: string[]) => {
        const method = headers[headers.indexOf(':method') + 1];
        const key = decodeURIComponent((headers[headers.indexOf(':path') + 1] ?? '').replace(/^\/kv\//, ''));
        const chunks: Buffer[] = [];
        const respond = (): void => {
          if (++requests % 3 === 0) {
            stream.sendHeaders([':status', '503'], true);
            return;
          }
          if (method === 'PUT') {
            store.set(key, Buffer.concat(chunks).toString('utf8'));
            stream.sendHeaders([':status', '204'], true);
          } else if (store.has(key)) {
            stream.sendHeaders([':status', '200', 'content-type', 'text/plain']);
            stream.write(Buffer.from(store.get(key)!));
            stream.end();
          } else {
            stream.sendHeaders([':status', '404'], true);
          }
        };
        stream.handler = {
          onData: (_stream, data, start, end) => chunks.push(Buffer.from(data.subarray(start, end))),
          onEnd: respond,
        };
      },
    },
  });
}

async function main(): Promise<void> {
  const server = await startKvServer();
  let retries = 0;
  const kv = new KvClient(`http://127.0.0.1:${server.port}`, (event) => {
    retries++;
    console.log(`  retry after attempt ${event.attempt}: HTTP ${event.status ?? '-'} (${event.errorType}), waiting ${event.delayMs} ms`);
  });
  try {
    for (const [key, value] of [['color', 'teal'], ['shape', 'hexagon'], ['size', 'large']] as const) {
      await kv.put(key, value);
      console.log(`put ${key} = ${value}`);
    }
    for (const key of ['color', 'shape', 'size', 'missing']) console.log(`get ${key} → ${(await kv.get(key)) ?? '(none)'}`);
    console.log(`done: ${retries} retries absorbed by the SDK`);
  } finally {
    await kv.close();
    await server.close();
  }
}

await main();
