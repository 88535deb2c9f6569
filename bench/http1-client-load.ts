/**
 * One HTTP/1.1 client load run, in its own process so it can be pinned to a core:
 * `node http1-client-load.js sluice|undici PORT REQUESTS CONNECTIONS` sends REQUESTS GETs for `/`
 * over CONNECTIONS keep-alive connections, one in flight on each (sluice: raw
 * `Http1ClientConnection`s; undici: a `Pool` with as many connections), then prints one JSON
 * line `{ "requests": n, "seconds": s, "failed": f, "cpuMicros": c }` (this process's CPU).
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import { connectHttp1, type Http1ClientConnection, type Http1ClientStreamHandler } from '../handlers/http1/index.js';

const [kind, portText, requestsText, connectionsText] = process.argv.slice(2);
const port = Number(portText);
const total = Number(requestsText);
const connectionCount = Number(connectionsText);

let started = 0;
let finished = 0;
let failed = 0;

async function runSluice(): Promise<void> {
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let open = connectionCount;
  // One handler for every exchange: the body is dropped, the outcome counted; no closure per request.
  const handler: Http1ClientStreamHandler = {
    onClose: (stream, error) => {
      finished++;
      if (error !== null || stream.status !== 200) failed++;
    },
  };
  const next = (connection: Http1ClientConnection): void => {
    if (started >= total) {
      if (--open === 0) resolveDone();
      return;
    }
    started++;
    connection.request('GET', '/', [], { isEndStream: true, handler });
  };
  // A connection takes its next request once it is reusable again (onReusable follows onClose).
  const connections = await Promise.all(
    Array.from({ length: connectionCount }, () =>
      connectHttp1({ host: '127.0.0.1', port, http1: { onReusable: next } }),
    ),
  );
  for (const connection of connections) next(connection);
  await done;
  for (const connection of connections) connection.close();
}

/** What this run uses of undici (imported by a computed name: undici is an optional dev dependency). */
interface UndiciModule {
  Pool: new (
    origin: string,
    options: { connections: number; pipelining: number },
  ) => {
    request(options: {
      path: string;
      method: string;
    }): Promise<{ statusCode: number; body: { dump(): Promise<void> } }>;
    close(): Promise<void>;
  };
}

/** `undici`, or the file `SLUICE_BENCH_UNDICI` names (an undici installed elsewhere). */
export function undiciSpecifier(): string {
  const path = process.env['SLUICE_BENCH_UNDICI'];
  return path !== undefined && path !== '' ? pathToFileURL(path).href : 'undici';
}

async function runUndici(): Promise<void> {
  const { Pool } = undici!;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: connectionCount, pipelining: 1 });
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      try {
        const response = await pool.request({ path: '/', method: 'GET' });
        await response.body.dump();
        if (response.statusCode !== 200) failed++;
      } catch {
        failed++;
      }
      finished++;
    }
  };
  await Promise.all(Array.from({ length: connectionCount }, worker));
  await pool.close();
}

// undici is loaded before the clock starts, as sluice's modules are.
const undici = kind === 'undici' ? ((await import(undiciSpecifier())) as UndiciModule) : null;
const cpuBefore = process.cpuUsage();
const startedAt = process.hrtime.bigint();
await (kind === 'sluice' ? runSluice() : runUndici());
const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ requests: finished, seconds, failed, cpuMicros: cpu.user + cpu.system })}\n`);
process.exit(0);
