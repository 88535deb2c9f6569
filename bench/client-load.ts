/**
 * One client load run, in its own process so it can be pinned to a core: `node client-load.js
 * sluice|node PORT REQUESTS CONNECTIONS STREAMS` sends REQUESTS GETs for `/small` over
 * CONNECTIONS connections with STREAMS in flight on each, then prints one JSON line
 * `{ "requests": n, "seconds": s, "failed": f }`.
 *
 * @module
 */
import http2 from 'node:http2';
import { connectHttp2, type Http2ClientConnection } from '../handlers/index.js';

const [kind, portText, requestsText, connectionsText, streamsText] = process.argv.slice(2);
const port = Number(portText);
const total = Number(requestsText);
const connectionCount = Number(connectionsText);
const streamsPerConnection = Number(streamsText);
const REQUEST: string[] = [':method', 'GET', ':scheme', 'http', ':authority', `127.0.0.1:${port}`, ':path', '/small'];

let started = 0;
let finished = 0;
let failed = 0;

/** Keeps `streamsPerConnection` requests in flight on one sluice connection until all are sent. */
function runSluice(connection: Http2ClientConnection, done: () => void): void {
  let inFlight = 0;
  const handler = {
    onClose: (_stream: unknown, error: unknown) => {
      inFlight--;
      finished++;
      if (error !== null) failed++;
      pump();
    },
  };
  const pump = (): void => {
    while (inFlight < streamsPerConnection && started < total) {
      started++;
      inFlight++;
      connection.request(REQUEST, { isEndStream: true, handler });
    }
    if (inFlight === 0 && started >= total) done();
  };
  pump();
}

/** The same with a node:http2 session. */
function runNode(session: http2.ClientHttp2Session, done: () => void): void {
  let inFlight = 0;
  const headers = { ':path': '/small' };
  const pump = (): void => {
    while (inFlight < streamsPerConnection && started < total) {
      started++;
      inFlight++;
      const request = session.request(headers);
      request.on('data', () => undefined);
      request.on('close', () => {
        inFlight--;
        finished++;
        if (request.rstCode !== 0) failed++;
        pump();
      });
      request.end();
    }
    if (inFlight === 0 && started >= total) done();
  };
  pump();
}

async function main(): Promise<void> {
  // Connections are set up before the clock starts: the run measures requests, not handshakes.
  const connections =
    kind === 'sluice'
      ? await Promise.all(Array.from({ length: connectionCount }, () => connectHttp2({ host: '127.0.0.1', port })))
      : [];
  const sessions =
    kind === 'sluice' ? [] : Array.from({ length: connectionCount }, () => http2.connect(`http://127.0.0.1:${port}`));
  await Promise.all(sessions.map((session) => new Promise((resolve) => session.once('connect', resolve))));
  const began = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let remaining = connectionCount;
    const done = (): void => {
      if (--remaining === 0) resolve();
    };
    for (const connection of connections) runSluice(connection, done);
    for (const session of sessions) runNode(session, done);
  });
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  for (const connection of connections) void connection.close();
  for (const session of sessions) session.close();
  process.stdout.write(`${JSON.stringify({ requests: finished, seconds, failed })}\n`);
  setTimeout(() => process.exit(0), 200).unref();
}

await main();
