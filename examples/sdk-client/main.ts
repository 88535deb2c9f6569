/**
 * An example SDK on sluice: a tiny "KV service" client with `get` and `put`, run against a
 * local KV server. It shows what an SDK gets from embedding sluice's {@link Client}:
 *
 * - **retries**: the server throttles every third write with 503; the SDK retries them.
 * - **one connection, many concurrent requests**: a batch of concurrent `get`s shares the one
 *   HTTP/2 connection the client opened, as concurrent streams.
 * - **timeouts**: a `get` of a `stalled-…` key (the server never answers those) with a
 *   per-call `timeoutMs` fails with `SDK_REQUEST_TIMEOUT`.
 * - **cancellation**: a `get` of another `stalled-…` key with an `AbortSignal`, aborted once
 *   the server has the request, fails with `SDK_REQUEST_ABORTED`; the server sees the stream
 *   reset with CANCEL.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/sdk-client/main.js` (exits 0).
 *
 * @module
 */
import { SluiceError, listenHttp2, type Http2Stream, type Listener } from '../../handlers/index.js';
import { Client, type ClientRetryEvent } from '../../handlers/sdk/index.js';

/** Per-call options of {@link KvClient}: a whole-call time limit and a cancellation signal. */
export interface KvCallOptions {
  /** Fail with `SDK_REQUEST_TIMEOUT` after this many ms, retries included (the client's 5 s by default). */
  timeoutMs?: number;
  /** Abort the call: it fails with `SDK_REQUEST_ABORTED` and the stream is reset. */
  signal?: AbortSignal;
}

/** KvClient is the SDK: typed calls over one sluice {@link Client} (pooling, retries, timeouts). */
export class KvClient {
  /** The sluice client underneath (its `metrics` show connections and streams). */
  readonly client: Client;

  /** Creates a client for the KV service at `origin`; `onRetry` sees each retry. */
  constructor(origin: string, onRetry?: (event: ClientRetryEvent) => void) {
    this.client = new Client({
      origin,
      // The example's service speaks HTTP/2 without TLS (h2c): say so, as http:// means HTTP/1.1.
      protocol: 'h2',
      requestTimeoutMs: 5_000,
      defaultHeaders: { 'user-agent': 'kv-sdk/1.0 sluice' },
      ...(onRetry !== undefined ? { onRetry } : {}),
    });
  }

  /** Stores `value` under `key`; rejects with an `SDK_*` / `HTTP2_*` error or on a non-204 status. */
  async put(key: string, value: string, options: KvCallOptions = {}): Promise<void> {
    const response = await this.client.request({
      method: 'PUT',
      path: `/kv/${encodeURIComponent(key)}`,
      body: value,
      ...options,
    });
    if (response.status !== 204) throw new Error(`put ${key}: HTTP ${response.status}`);
  }

  /** The value under `key`, or null when there is none; rejects like {@link KvClient.put}. */
  async get(key: string, options: KvCallOptions = {}): Promise<string | null> {
    const response = await this.client.request({ path: `/kv/${encodeURIComponent(key)}`, ...options });
    if (response.status === 404) return null;
    if (response.status !== 200) throw new Error(`get ${key}: HTTP ${response.status}`);
    return response.body.toString('utf8');
  }

  /** Closes the connection (in-flight calls finish first). */
  close(): Promise<void> {
    return this.client.close();
  }
}

/** The local KV server and what the example watches on it. */
interface KvServer {
  readonly listener: Listener;
  /** Resolves with the request for the `stalled-…` key `key` once the server has its headers. */
  stalledRequest(key: string): Promise<Http2Stream>;
}

/** A promise and its resolve function. */
interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * A local KV server over h2c: PUT stores (every third PUT is throttled with 503), GET reads;
 * a GET of a key starting `stalled-` is never answered, so only a timeout or a cancel ends it.
 */
async function startKvServer(): Promise<KvServer> {
  const store = new Map<string, string>();
  let puts = 0;
  // Keyed, so a request that arrives late (after its timeout) is never mistaken for another.
  const stalled = new Map<string, Deferred<Http2Stream>>();
  const stalledRequest = (key: string): Deferred<Http2Stream> => {
    let entry = stalled.get(key);
    if (entry === undefined) stalled.set(key, (entry = deferred<Http2Stream>()));
    return entry;
  };
  const listener = await listenHttp2({
    host: '127.0.0.1',
    port: 0,
    http2: {
      onStream: (stream: Http2Stream, headers: string[]) => {
        const method = headers[headers.indexOf(':method') + 1];
        const key = decodeURIComponent((headers[headers.indexOf(':path') + 1] ?? '').replace(/^\/kv\//, ''));
        if (method === 'GET' && key.startsWith('stalled-')) {
          // Hold the stream open without answering; the client's reset closes it.
          stream.handler = {};
          stalledRequest(key).resolve(stream);
          return;
        }
        const chunks: Buffer[] = [];
        const respond = (): void => {
          if (method === 'PUT') {
            if (++puts % 3 === 0) {
              stream.sendHeaders([':status', '503'], true);
              return;
            }
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
  return {
    listener,
    stalledRequest: (key) => stalledRequest(key).promise,
  };
}

/** The stable code of a failure: `SluiceError#code`, else the message. */
function codeOf(error: unknown): string {
  return error instanceof SluiceError ? error.code : error instanceof Error ? error.message : String(error);
}

/** Runs `call`, which must fail, and returns its error code. */
async function failureCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return codeOf(error);
  }
  throw new Error('the call was expected to fail and did not');
}

async function main(): Promise<void> {
  const server = await startKvServer();
  let retries = 0;
  const kv = new KvClient(`http://127.0.0.1:${server.listener.port}`, (event) => {
    retries++;
    console.log(
      `  retry after attempt ${event.attempt}: HTTP ${event.status ?? '-'} (${event.errorType}), waiting ${event.delayMs} ms`,
    );
  });
  try {
    // Sequential calls; the third PUT is throttled and retried by the SDK.
    for (const [key, value] of [
      ['color', 'teal'],
      ['shape', 'hexagon'],
      ['size', 'large'],
    ] as const) {
      await kv.put(key, value);
      console.log(`put ${key} = ${value}`);
    }
    for (const key of ['color', 'shape', 'size', 'missing'])
      console.log(`get ${key} → ${(await kv.get(key)) ?? '(none)'}`);

    // Many concurrent calls: all started at once, carried as streams of the one connection.
    const keys = Array.from({ length: 30 }, (_, index) => ['color', 'shape', 'size'][index % 3]);
    const values = await Promise.all(keys.map((key) => kv.get(key)));
    const isEveryValueRight = values.every(
      (value, index) => value === { color: 'teal', shape: 'hexagon', size: 'large' }[keys[index]],
    );
    const metrics = kv.client.metrics;
    console.log(
      `concurrent: ${keys.length} gets, ${isEveryValueRight ? 'all right' : 'WRONG VALUES'}, up to ${metrics.maxStreamsPerConnection} streams at once`,
    );

    // A per-call timeout against a request the server never answers.
    console.log(
      `timeout: get stalled-1 with timeoutMs 200 → ${await failureCode(kv.get('stalled-1', { timeoutMs: 200 }))}`,
    );

    // Cancellation: abort once the server has the request; the server sees the stream reset.
    const controller = new AbortController();
    const cancelled = failureCode(kv.get('stalled-2', { signal: controller.signal }));
    // Should the call end before the server has it (say, at the 5 s default timeout), do not wait forever.
    const stalledStream = await Promise.race([server.stalledRequest('stalled-2'), cancelled.then(() => null)]);
    const serverSaw = new Promise<string>((resolve) => {
      if (stalledStream === null) resolve('nothing');
      else
        stalledStream.handler = { onClose: (_stream, error) => resolve(error === null ? 'completed' : codeOf(error)) };
    });
    controller.abort(new Error('the user gave up'));
    console.log(`cancel: get stalled-2 aborted in flight → ${await cancelled} (server saw ${await serverSaw})`);

    const { connectionsOpened, requests } = kv.client.metrics;
    console.log(`connections: ${connectionsOpened} opened for ${requests} requests`);
    console.log(`done: ${retries} retries absorbed by the SDK`);
  } finally {
    await kv.close();
    await server.listener.close();
  }
}

await main();
