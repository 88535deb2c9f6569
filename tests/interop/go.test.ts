import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type Http2Session } from '../../handlers/index.js';
import { connect } from '../../handlers/http2/index.js';
import { bytesPattern } from '../support/bytes-pattern.js';
import { buildGoPrograms, goClientSummary, type GoClientSummary, type GoPrograms } from '../support/go-programs.js';
import {
  expectSuccess,
  finished,
  makeCertificate,
  requireTools,
  show,
  sluiceGet,
  startListeningServer,
  startSluiceServe,
  stopServer,
  untilOutput,
  type ServerProcess,
  type ToolResult,
} from '../support/processes.js';
import { sha256 } from '../support/hashing.js';

/*
 * Interop with Go's x/net/http2 (issue 17), both directions, h2c and TLS. Needs golang-go,
 * golang-golang-x-net-dev and openssl; the Go programs in tests/interop/go are built offline
 * in `before`. A missing tool fails the suite; nothing is skipped.
 */

/** Load runs per mode, each a fresh Go process against one long-lived `sluice serve`. */
const LOAD_RUNS = 12;
/** The load workload's sizes (the Go client's defaults, spelled out so the checks match). */
const LOAD = { gets: 2000, downloads: 20, uploads: 50 } as const;
/** How long the Go client may run. */
const CLIENT_TIMEOUT_MS = 60_000;

/** Lines that show a connection ending in an error: sluice's own account (debug log) of what Go saw. */
function connectionErrors(serverOutput: string): string[] {
  return serverOutput
    .split('\n')
    .filter((line) => line.includes('connection error') || line.includes('ENHANCE_YOUR_CALM'));
}

/** The client's output, its summary and the server's new log lines, for assertion messages. */
function explain(result: ToolResult, serverLog: string): string {
  return `${show('h2client', result)}\n--- sluice serve (this run)\n${serverLog.slice(-6000)}`;
}

/**
 * Asserts nothing anywhere mentions ENHANCE_YOUR_CALM (the Go client's errors, the GOAWAY
 * frames it saw, its stderr, the server's log) — checked first so that this failure names itself.
 */
function expectCalm(result: ToolResult, summary: GoClientSummary, serverLog: string): void {
  const everything = [result.stderr, JSON.stringify(summary.errors), JSON.stringify(summary.goaways), serverLog].join(
    '\n',
  );
  const calmLines = everything.split('\n').filter((line) => line.includes('ENHANCE_YOUR_CALM'));
  expect(calmLines, `ENHANCE_YOUR_CALM seen:\n${calmLines.join('\n')}\n\n${explain(result, serverLog)}`).to.deep.equal(
    [],
  );
}

describe('interop: Go x/net/http2', function () {
  this.timeout(120_000);
  let tmp: string;
  let go: GoPrograms;
  let certificate: { certPath: string; keyPath: string };

  before(async () => {
    requireTools({ go: 'golang-go', openssl: 'openssl' });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-interop-go-'));
    go = await buildGoPrograms(tmp);
    certificate = await makeCertificate(tmp);
  });
  after(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs the Go client against `url` in `mode` with extra flags. */
  function goClient(
    url: string,
    mode: 'load' | 'graceful',
  ): { child: ReturnType<typeof spawn>; result: Promise<ToolResult> } {
    const child = spawn(go.client, ['-url', url, '-mode', mode, '-timeout', `${CLIENT_TIMEOUT_MS / 1000}s`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { child, result: finished(child, CLIENT_TIMEOUT_MS + 10_000) };
  }

  /** `sluice serve` for `mode`, logging at debug so a connection error shows in its own words. */
  function startServe(mode: 'h2c' | 'tls'): Promise<ServerProcess> {
    const tls = mode === 'tls' ? ['--cert', certificate.certPath, '--key', certificate.keyPath] : [];
    return startSluiceServe([...tls, '--log-level', 'debug']);
  }

  for (const mode of ['h2c', 'tls'] as const) {
    describe(`Go client → sluice serve (${mode})`, () => {
      let server: ServerProcess;

      before(async () => {
        server = await startServe(mode);
      });
      after(() => {
        if (server !== undefined && server.child.exitCode === null) server.child.kill('SIGKILL');
      });

      for (let run = 1; run <= LOAD_RUNS; run++) {
        it(`load ${run}/${LOAD_RUNS}: ${LOAD.gets} GETs, ${LOAD.downloads} × 1 MiB downloads, ${LOAD.uploads} echo uploads, all intact`, async () => {
          const logBefore = server.output().length;
          const result = await goClient(server.url, 'load').result;
          const summary = goClientSummary(result);
          const serverLog = server.output().slice(logBefore);
          expectCalm(result, summary, serverLog);
          expect(summary.errors, explain(result, serverLog)).to.deep.equal({});
          expect(summary.ok, explain(result, serverLog)).to.deep.equal({
            get: LOAD.gets,
            download: LOAD.downloads,
            upload: LOAD.uploads,
          });
          expect(connectionErrors(serverLog), explain(result, serverLog)).to.deep.equal([]);
          expectSuccess('h2client', result);
        });
      }

      it('sluice serve exits 0 on SIGTERM after the load runs, having logged no connection error', async () => {
        const stopped = await stopServer(server, 'sluice serve');
        expect(connectionErrors(server.output()), show('sluice serve', stopped)).to.deep.equal([]);
      });

      it('graceful shutdown: SIGTERM with downloads in flight, each completes intact or is left unprocessed (retryable)', async () => {
        const graceful = await startServe(mode);
        const client = goClient(graceful.url, 'graceful');
        try {
          await untilOutput(client.child, /graceful: ready/, 30_000);
        } finally {
          graceful.child.kill('SIGTERM');
        }
        const [result, stopped] = await Promise.all([client.result, graceful.exited]);
        const summary = goClientSummary(result);
        const why = explain(result, graceful.output());
        expectCalm(result, summary, graceful.output());
        expect(summary.errors, why).to.deep.equal({});
        expect(stopped.code, why).to.equal(0);
        // Requests in flight when GOAWAY came finished; the rest never went out or were refused.
        expect(summary.finishedAfterGoaway, why).to.be.greaterThan(0);
        expect(summary.retryable, why).to.be.greaterThan(0);
        expect(Object.keys(summary.goaways), why).to.deep.equal(['GOAWAY(NO_ERROR) debug=""']);
        expectSuccess('h2client', result);
      });
    });
  }

  for (const mode of ['h2c', 'tls'] as const) {
    describe(`sluice → Go server (${mode})`, () => {
      let server: ServerProcess;
      const insecure = mode === 'tls' ? ['-k'] : [];
      /** TLS options that trust the test's certificate (named localhost and 127.0.0.1). */
      const trust = (): { ca: Buffer } => ({ ca: readFileSync(certificate.certPath) });

      /** Starts the Go server for this mode. */
      function startGoServer(): Promise<ServerProcess> {
        const tls = mode === 'tls' ? ['-cert', certificate.certPath, '-key', certificate.keyPath] : [];
        return startListeningServer(go.server, ['-addr', '127.0.0.1:0', ...tls], 'h2server');
      }

      /** A session of the convenient API on the Go server. */
      function session(url: string): Promise<Http2Session> {
        return mode === 'tls' ? connect(url, { tls: trust() }) : connect(url);
      }

      before(async () => {
        server = await startGoServer();
      });
      after(async () => {
        if (server !== undefined) await stopServer(server, 'h2server');
      });

      it('sluice get: GET /', async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, `${server.url}/`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal('hello from Go x/net/http2\n');
      });

      it('sluice get -o: a 2 MiB /bytes download follows the pattern', async () => {
        const size = 2 * 1024 * 1024;
        const out = path.join(tmp, `go-bytes-${mode}.bin`);
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-o',
          out,
          `${server.url}/bytes/${size}`,
        ]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(sha256(bytesPattern(size)));
      });

      it('sluice get -d @file: 10 MiB echoed with the same SHA-256', async () => {
        const upload = randomBytes(10 * 1024 * 1024);
        const file = path.join(tmp, `go-upload-${mode}.bin`);
        const out = path.join(tmp, `go-echo-${mode}.bin`);
        writeFileSync(file, upload);
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-d',
          `@${file}`,
          '-o',
          out,
          `${server.url}/echo`,
        ]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(sha256(upload));
      });

      it('sluice get -n 500 -m 20: every request succeeds', async () => {
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-n',
          '500',
          '-m',
          '20',
          `${server.url}/`,
        ]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 500 total, 500 succeeded, 0 failed',
        );
      });

      it('connect(url): GET /trailers delivers the body, then the trailer grpc-status: 0', async () => {
        const http2Session = await session(server.url);
        try {
          const response = await http2Session.request({ ':path': '/trailers' });
          expect(response.status).to.equal(200);
          expect(await response.body.text()).to.equal('the trailer follows\n');
          expect((await response.trailers)['grpc-status']).to.equal('0');
        } finally {
          await http2Session.close();
        }
      });

      it('SDK Client: GETs of / and /bytes come back whole', async () => {
        const client = new Client({
          origin: server.url,
          protocol: 'h2', // Go's h2c server speaks HTTP/2 by prior knowledge only
          ...(mode === 'tls' ? { tls: trust() } : {}),
        });
        try {
          const responses = await Promise.all([
            client.request({ path: '/' }),
            client.request({ path: '/bytes/100000' }),
            client.request({ path: '/' }),
            client.request({ path: '/bytes/251' }),
          ]);
          expect(responses.map((response) => response.status)).to.deep.equal([200, 200, 200, 200]);
          expect(responses[0].body.toString()).to.equal('hello from Go x/net/http2\n');
          expect(responses[1].body.equals(bytesPattern(100_000))).to.equal(true);
          expect(responses[3].body.equals(bytesPattern(251))).to.equal(true);
        } finally {
          await client.close();
        }
      });

      it('graceful shutdown: SIGTERM with requests in flight, each completes intact or fails retryable, none hangs', async () => {
        const graceful = await startGoServer();
        const outcome = await downloadsThroughShutdown(await session(graceful.url), () =>
          graceful.child.kill('SIGTERM'),
        );
        const stopped = await graceful.exited;
        const why = `${JSON.stringify(outcome, null, 2)}\n${show('h2server', stopped)}`;
        expect(outcome.failures, why).to.deep.equal([]);
        expect(outcome.completed, why).to.be.at.least(GRACEFUL_READY_AFTER);
        // Every worker ended on its first retryable error: none ran out of requests instead.
        expect(outcome.retryable, why).to.equal(GRACEFUL_WORKERS);
        expect(stopped.code, why).to.equal(0);
      });
    });
  }
});

/** Downloads per worker loop in the sluice → Go graceful test: size, workers, bounds. */
const GRACEFUL_SIZE = 256 * 1024;
const GRACEFUL_WORKERS = 24;
const GRACEFUL_READY_AFTER = 48;
const GRACEFUL_MAX_REQUESTS = 2000;
const GRACEFUL_DEADLINE_MS = 30_000;

/** What happened to the requests of {@link downloadsThroughShutdown}. */
interface GracefulOutcome {
  completed: number;
  retryable: number;
  retryableCodes: string[];
  failures: string[];
}

/**
 * Keeps GRACEFUL_WORKERS downloads in flight on one session, calls `stop` once
 * GRACEFUL_READY_AFTER have completed, and lets each worker run until its first retryable
 * error. Anything else (a cut or corrupt body, a non-retryable error, the deadline) is a failure.
 */
async function downloadsThroughShutdown(session: Http2Session, stop: () => void): Promise<GracefulOutcome> {
  const expected = sha256(bytesPattern(GRACEFUL_SIZE));
  const outcome: GracefulOutcome = { completed: 0, retryable: 0, retryableCodes: [], failures: [] };
  let started = 0;
  let hasStopped = false;
  const worker = async (): Promise<void> => {
    while (started++ < GRACEFUL_MAX_REQUESTS) {
      try {
        const response = await session.request({ ':path': `/bytes/${GRACEFUL_SIZE}` });
        const body = await response.body.bytes();
        if (response.status !== 200 || sha256(body) !== expected)
          throw new Error(`status ${response.status}, ${body.length} bytes, not the pattern`);
        outcome.completed++;
        if (outcome.completed >= GRACEFUL_READY_AFTER && !hasStopped) {
          hasStopped = true;
          stop();
        }
      } catch (error) {
        const { retryable, code, message } = error as { retryable?: unknown; code?: unknown; message?: unknown };
        if (retryable === true) {
          outcome.retryable++;
          if (!outcome.retryableCodes.includes(String(code))) outcome.retryableCodes.push(String(code));
          return;
        }
        outcome.failures.push(`${String(code)}: ${String(message)}`);
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      outcome.failures.push(`requests still pending ${GRACEFUL_DEADLINE_MS} ms after the start`);
      resolve();
    }, GRACEFUL_DEADLINE_MS);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: GRACEFUL_WORKERS }, worker)), deadline]);
  } finally {
    clearTimeout(timer);
    session.destroy();
  }
  if (!hasStopped) outcome.failures.push(`the server was never stopped (${outcome.completed} completed)`);
  return outcome;
}
