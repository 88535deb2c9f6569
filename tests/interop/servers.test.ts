import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../../handlers/http2/index.js';
import { Client } from '../../handlers/sdk/client.js';
import { bytesPattern } from '../support/bytes-pattern.js';
import { documentedConfig } from '../support/documented-config.js';
import {
  expectNoCalm,
  expectSuccess,
  freePort,
  makeCertificate,
  requireTools,
  run,
  show,
  sluiceGet,
  startPeerServer,
  startSluiceServe,
  stopPeerServer,
  stopServer,
  tool,
  type ServerProcess,
  type ToolResult,
} from '../support/processes.js';
import { until } from '../support/waiting.js';
import { sha256 } from '../support/hashing.js';

/*
 * Interop with web servers and proxies: h2o and nginx as origins for sluice's clients
 * (`sluice get`, `connect(url)`, the SDK `Client`), and HAProxy and nginx in front of
 * `sluice serve` backends with the configurations of docs/deploy.md, read out of that file.
 * `npm run test:interop`; a missing program fails the suite with the package to install.
 */

const TOOLS: Readonly<Record<string, string>> = {
  nginx: 'nginx-light',
  h2o: 'h2o',
  haproxy: 'haproxy',
  curl: 'curl',
  h2load: 'nghttp2-client',
  openssl: 'openssl',
};

/** Started as root, nginx and h2o would switch to a user that cannot read the 0700 temp dir. */
const IS_ROOT = process.getuid?.() === 0;

/** nginx's default `keepalive_requests`: a graceful GOAWAY after this many requests per connection. */
const NGINX_REQUESTS_PER_CONNECTION = 1000;

/** Asserts a `sluice get` run succeeded and no peer told it to calm down. */
function expectGetSuccess(result: ToolResult): void {
  expectSuccess('sluice get', result);
  expectNoCalm('sluice get', result.stderr);
}

/** The counts of a `sluice get -n` summary line. */
function summaryOf(result: ToolResult): { succeeded: number; failed: number; connections: number } {
  const match =
    /^requests: \d+ total, (\d+) succeeded, (\d+) failed, \d+ concurrent, \d+ resent, (\d+) connections?$/m.exec(
      result.stdout.toString(),
    );
  expect(match, show('sluice get', result)).to.not.equal(null);
  return { succeeded: Number(match![1]), failed: Number(match![2]), connections: Number(match![3]) };
}

describe('interop: web servers and proxies', function () {
  this.timeout(120_000);
  let tmp: string;
  let certPath: string;
  let keyPath: string;
  /** Served by the origins: a short text and 8 MiB of random bytes. */
  let www: string;
  const hello = 'hello from a static file\n';
  const big = randomBytes(8 * 1024 * 1024 + 3);
  /** 10 MiB uploaded through the proxies to /echo. */
  let uploadFile: string;
  let uploadHash: string;

  before(async () => {
    requireTools(TOOLS);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-servers-'));
    ({ certPath, keyPath } = await makeCertificate(tmp));
    www = path.join(tmp, 'www');
    mkdirSync(www);
    writeFileSync(path.join(www, 'hello.txt'), hello);
    writeFileSync(path.join(www, 'big.bin'), big);
    const upload = randomBytes(10 * 1024 * 1024);
    uploadFile = path.join(tmp, 'upload.bin');
    writeFileSync(uploadFile, upload);
    uploadHash = sha256(upload);
  });
  after(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  /** The cases every origin server runs for sluice's three clients; `urls()` gives its h2c and TLS URLs. */
  function originCases(name: string, urls: () => { h2c: string; tls: string }, goawaysAfter: number | null): void {
    for (const mode of ['h2c', 'tls'] as const) {
      const base = (): string => urls()[mode];
      const insecure = mode === 'tls' ? ['-k'] : [];

      it(`sluice get (${mode}) prints a static file`, async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, `${base()}/hello.txt`]);
        expectGetSuccess(result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal(hello);
      });

      it(`sluice get -o (${mode}) saves 8 MiB with the same SHA-256`, async () => {
        const out = path.join(tmp, `${name}-${mode}.bin`);
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, '-o', out, `${base()}/big.bin`]);
        expectGetSuccess(result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(sha256(big));
      });

      const expectation = goawaysAfter === null ? '' : ` across ${name}'s GOAWAY every ${goawaysAfter} requests`;
      it(`sluice get -n 3000 -m 100 (${mode}): 3000 of 3000${expectation}`, async () => {
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-n',
          '3000',
          '-m',
          '100',
          `${base()}/hello.txt`,
        ]);
        expectGetSuccess(result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 3000 total, 3000 succeeded, 0 failed',
        );
        expect(result.stdout.toString(), show('sluice get', result)).to.include('status: 200: 3000');
        // Each GOAWAY makes a new connection: 3000 requests at 1000 per connection need 3.
        if (goawaysAfter !== null)
          expect(summaryOf(result).connections, show('sluice get', result)).to.be.at.least(3000 / goawaysAfter);
      });

      it(`connect(url) (${mode}): GET a static file and 8 MiB through the async-iterable body`, async () => {
        const session = await connect(base(), mode === 'tls' ? { tls: { ca: readFileSync(certPath) } } : {});
        try {
          const small = await session.request({}, { path: '/hello.txt' });
          expect(small.status).to.equal(200);
          expect(await small.body.text()).to.equal(hello);
          const large = await session.request({}, { path: '/big.bin' });
          expect(large.status).to.equal(200);
          const chunks: Buffer[] = [];
          for await (const chunk of large.body) chunks.push(Buffer.from(chunk));
          expect(sha256(Buffer.concat(chunks))).to.equal(sha256(big));
        } finally {
          await session.close();
        }
      });

      const clientCount = 1200;
      it(`SDK Client (${mode}): ${clientCount} requests, 50 at a time, all 200${expectation}`, async () => {
        const client = new Client({
          origin: base(),
          protocol: 'h2', // these servers are HTTP/2 origins (h2c by prior knowledge in cleartext)
          ...(mode === 'tls' ? { tls: { ca: readFileSync(certPath), servername: 'localhost' } } : {}),
        });
        const statuses = new Map<number, number>();
        try {
          let next = 0;
          const worker = async (): Promise<void> => {
            // Bounded: each pass takes one of the clientCount requests.
            while (next < clientCount) {
              next++;
              const response = await client.request({ path: '/hello.txt' });
              statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
              expect(response.body.toString()).to.equal(hello);
            }
          };
          await Promise.all(Array.from({ length: 50 }, worker));
          expect([...statuses]).to.deep.equal([[200, clientCount]]);
          if (goawaysAfter !== null)
            expect(client.metrics.goawaysReceived, JSON.stringify(client.metrics)).to.be.at.least(1);
        } finally {
          await client.close();
        }
      });
    }
  }

  /** An origin server run from a configuration the suite writes into a temp dir of its own. */
  interface OriginServer {
    /** The program (as named in TOOLS). */
    name: string;
    /** The configuration file's name. */
    configFile: string;
    /** The configuration: `prefix` is the server's temp dir for its pid, logs and temp files. */
    config(prefix: string, ports: { h2c: number; tls: number }): string;
    /** The command line that runs it in the foreground. */
    args(configPath: string, prefix: string): string[];
    /** Requests per connection after which it sends GOAWAY, or null. */
    goawaysAfter: number | null;
  }

  function describeOrigin(origin: OriginServer): void {
    describe(`${origin.name} as the origin (h2c prior knowledge and TLS)`, () => {
      let server: ServerProcess | undefined;
      const ports = { h2c: 0, tls: 0 };

      before(async () => {
        ports.h2c = await freePort();
        ports.tls = await freePort();
        const prefix = mkdtempSync(path.join(tmp, `${origin.name}-origin-`));
        const configPath = path.join(prefix, origin.configFile);
        writeFileSync(configPath, origin.config(prefix, ports));
        server = await startPeerServer(
          tool(origin.name),
          origin.args(configPath, prefix),
          [ports.h2c, ports.tls],
          `http://127.0.0.1:${ports.h2c}`,
        );
      });
      after(async () => {
        await stopPeerServer(server);
      });

      originCases(
        origin.name,
        () => ({ h2c: `http://127.0.0.1:${ports.h2c}`, tls: `https://127.0.0.1:${ports.tls}` }),
        origin.goawaysAfter,
      );
    });
  }

  describeOrigin({
    name: 'nginx',
    configFile: 'nginx.conf',
    // `listen … http2` without ssl: h2c with prior knowledge only (nginx 1.22 has no Upgrade: h2c).
    config: (prefix, ports) => `${IS_ROOT ? 'user root;\n' : ''}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    keepalive_requests ${NGINX_REQUESTS_PER_CONNECTION};
    server {
        listen 127.0.0.1:${ports.h2c} http2;
        listen 127.0.0.1:${ports.tls} ssl http2;
        ssl_certificate ${certPath};
        ssl_certificate_key ${keyPath};
        root ${www};
    }
}
`,
    args: (configPath, prefix) => ['-p', prefix, '-c', configPath, '-g', 'daemon off;'],
    goawaysAfter: NGINX_REQUESTS_PER_CONNECTION,
  });

  describeOrigin({
    name: 'h2o',
    configFile: 'h2o.conf',
    // h2o takes HTTP/2 with prior knowledge on a cleartext listener as well as after TLS ALPN.
    config: (prefix, ports) => `${IS_ROOT ? 'user: root\n' : ''}pid-file: ${prefix}/h2o.pid
error-log: ${prefix}/error.log
access-log: /dev/null
num-threads: 1
listen:
  host: 127.0.0.1
  port: ${ports.h2c}
listen:
  host: 127.0.0.1
  port: ${ports.tls}
  ssl:
    certificate-file: ${certPath}
    key-file: ${keyPath}
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: ${www}
`,
    args: (configPath) => ['-c', configPath],
    goawaysAfter: null,
  });

  describe('sluice serve behind the proxies of docs/deploy.md', () => {
    /** Three backends; the first runs two workers, as deploy.md suggests per machine. */
    const backends: ServerProcess[] = [];
    /** Everything the proxies and clients printed, checked for ENHANCE_YOUR_CALM at the end. */
    const transcripts: { what: string; text: () => string }[] = [];
    let pemPath: string;

    /** The backends as `{{BACKEND_n}}` values. */
    const backendValues = (): Record<string, string> =>
      Object.fromEntries(backends.map((backend, index) => [`BACKEND_${index + 1}`, new URL(backend.url).host]));

    before(async () => {
      // debug: a connection error sluice raises (GOAWAY(ENHANCE_YOUR_CALM) included) is logged
      // at DEBUG, not at the default WARN; connection-level lines only, a few per connection.
      for (const args of [['--workers', '2'], [], []])
        backends.push(await startSluiceServe(['--log-level', 'debug', ...args]));
      for (const [index, backend] of backends.entries())
        transcripts.push({ what: `backend ${index + 1}`, text: () => backend.output() });
      // HAProxy wants the chain and the key in one file.
      pemPath = path.join(tmp, 'haproxy.pem');
      writeFileSync(pemPath, Buffer.concat([readFileSync(certPath), readFileSync(keyPath)]));
    });
    after(async () => {
      for (const backend of backends)
        if (backend.child.exitCode === null) await stopServer(backend, 'sluice serve backend');
    });

    /** Runs a client and keeps its output for the ENHANCE_YOUR_CALM check. */
    async function client(what: string, command: string, args: string[]): Promise<ToolResult> {
      const result = await run(command, args);
      transcripts.push({ what, text: () => `${result.stdout.toString('utf8')}\n${result.stderr}` });
      return result;
    }

    /** The front-end cases both proxies pass. */
    function frontCases(name: string, url: () => string): void {
      it(`curl --http2 through ${name}: GET / is 200 over HTTP/2`, async () => {
        const result = await client('curl', tool('curl'), [
          '-sS',
          '--http2',
          '-k',
          '-w',
          '\n%{http_version} %{http_code}',
          `${url()}/`,
        ]);
        expectSuccess('curl', result);
        expect(result.stdout.toString(), show('curl', result)).to.match(/^hello from sluice[^]*\n2 200$/);
      });

      it(`curl --http2 through ${name}: GET /bytes/3000000 arrives intact`, async () => {
        const out = path.join(tmp, `${name}-bytes.bin`);
        const result = await client('curl', tool('curl'), [
          '-sS',
          '--http2',
          '-k',
          '-o',
          out,
          '-w',
          '%{http_code}',
          `${url()}/bytes/3000000`,
        ]);
        expectSuccess('curl', result);
        expect(result.stdout.toString(), show('curl', result)).to.equal('200');
        expect(sha256(readFileSync(out)), show('curl', result)).to.equal(sha256(bytesPattern(3_000_000)));
      });

      it(`curl --http2 through ${name}: POST /echo 10 MiB comes back with the same SHA-256`, async () => {
        const out = path.join(tmp, `${name}-echo.bin`);
        const result = await client('curl', tool('curl'), [
          '-sS',
          '--http2',
          '-k',
          '--data-binary',
          `@${uploadFile}`,
          '-o',
          out,
          '-w',
          '%{http_code}',
          `${url()}/echo`,
        ]);
        expectSuccess('curl', result);
        expect(result.stdout.toString(), show('curl', result)).to.equal('200');
        expect(sha256(readFileSync(out)), show('curl', result)).to.equal(uploadHash);
      });

      it(`sluice get -d @file through ${name}: /echo returns the upload`, async () => {
        const out = path.join(tmp, `${name}-get-echo.bin`);
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          '-k',
          '-d',
          `@${uploadFile}`,
          '-o',
          out,
          `${url()}/echo`,
        ]);
        expectGetSuccess(result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(uploadHash);
      });

      it(`sluice get -n 3000 -m 50 through ${name}: 3000 of 3000`, async () => {
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          '-k',
          '-n',
          '3000',
          '-m',
          '50',
          `${url()}/bytes/100`,
        ]);
        expectGetSuccess(result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 3000 total, 3000 succeeded, 0 failed',
        );
        expect(result.stdout.toString(), show('sluice get', result)).to.include('300000 body bytes');
      });

      // 3 connections of 900: below nginx's 1000 requests per connection, which h2load does not retry past.
      it(`h2load -n 2700 -c 3 -m 10 through ${name}: 0 failed`, async () => {
        const result = await client('h2load', tool('h2load'), ['-n', '2700', '-c', '3', '-m', '10', `${url()}/`]);
        expectSuccess('h2load', result);
        expect(result.stdout.toString(), show('h2load', result)).to.match(
          /requests: 2700 total, 2700 started, 2700 done, 2700 succeeded, 0 failed, 0 errored/,
        );
      });
    }

    describe('nginx in front (grpc_pass, TLS)', () => {
      let nginx: ServerProcess | undefined;
      let port = 0;

      before(async () => {
        port = await freePort();
        const stateDir = mkdtempSync(path.join(tmp, 'nginx-front-'));
        const conf = documentedConfig('docs/deploy.md', 'nginx', {
          HTTPS_ADDRESS: `127.0.0.1:${port}`,
          TLS_CERT: certPath,
          TLS_KEY: keyPath,
          STATE_DIR: stateDir,
          ...backendValues(),
        });
        // deploy.md leaves `user` to the installation; as root, workers must still read the temp dir.
        writeFileSync(path.join(stateDir, 'nginx.conf'), `${IS_ROOT ? 'user root;\n' : ''}${conf}`);
        nginx = await startPeerServer(
          tool('nginx'),
          ['-p', stateDir, '-c', path.join(stateDir, 'nginx.conf'), '-g', 'daemon off;'],
          [port],
          `https://127.0.0.1:${port}`,
        );
        transcripts.push({
          what: 'nginx (front)',
          text: () => `${nginx!.output()}\n${readFileSync(path.join(stateDir, 'error.log'), 'utf8')}`,
        });
      });
      after(async () => {
        await stopPeerServer(nginx);
      });

      frontCases('nginx', () => nginx!.url);
    });

    describe('HAProxy in front (proto h2 to the backends; TLS and h2c fronts)', () => {
      let haproxy: ServerProcess | undefined;
      let h2cPort = 0;

      /** Requests HAProxy's log says each backend server answered, by name. */
      const servedBy = (): Map<string, number> => {
        const counts = new Map<string, number>();
        // An httplog line: `… public~ sluice/sluice2 0/0/1/2/3 200 …` (health-check lines have no timers).
        for (const match of haproxy!
          .output()
          .matchAll(/ sluice\/(sluice\d) [-\d]+\/[-\d]+\/[-\d]+\/[-\d]+\/[-\d]+ \d{3} /g))
          counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
        return counts;
      };

      before(async () => {
        const tlsPort = await freePort();
        h2cPort = await freePort();
        const conf = documentedConfig('docs/deploy.md', 'haproxy', {
          HTTPS_ADDRESS: `127.0.0.1:${tlsPort}`,
          H2C_ADDRESS: `127.0.0.1:${h2cPort}`,
          TLS_PEM: pemPath,
          ...backendValues(),
        });
        const configPath = path.join(tmp, 'haproxy.cfg');
        writeFileSync(configPath, conf);
        haproxy = await startPeerServer(
          tool('haproxy'),
          ['-db', '-f', configPath],
          [tlsPort, h2cPort],
          `https://127.0.0.1:${tlsPort}`,
        );
        transcripts.push({ what: 'haproxy', text: () => haproxy!.output() });
      });
      after(async () => {
        await stopPeerServer(haproxy);
      });

      frontCases('HAProxy', () => haproxy!.url);

      it('curl --http2-prior-knowledge on the h2c front: GET /headers reaches a backend', async () => {
        const result = await client('curl', tool('curl'), [
          '-sS',
          '--http2-prior-knowledge',
          '-H',
          'x-through: haproxy',
          `http://127.0.0.1:${h2cPort}/headers`,
        ]);
        expectSuccess('curl', result);
        const headers = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
        expect(headers['x-through'], show('curl', result)).to.equal('haproxy');
        expect(headers[':path'], show('curl', result)).to.equal('/headers');
      });

      it('spreads the requests over all three backends (HAProxy log names the server of each)', () => {
        const counts = servedBy();
        expect([...counts.keys()].sort(), JSON.stringify([...counts])).to.deep.equal(['sluice1', 'sluice2', 'sluice3']);
        const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
        // roundrobin: no backend got more than half of the requests.
        for (const count of counts.values()) expect(count, JSON.stringify([...counts])).to.be.below(total / 2);
      });

      it('takes a stopped backend out of rotation after its health checks fail; requests keep succeeding', async () => {
        const stopped = backends[2];
        await stopServer(stopped, 'sluice serve backend 3');
        // Bounded wait: checks run every 2 s and two failures mark the server DOWN.
        await until(() => /sluice\/sluice3 is DOWN/.test(haproxy!.output()), 'HAProxy to mark sluice3 DOWN', 10_000);
        const before = servedBy().get('sluice3') ?? 0;
        const result = await sluiceGet(['--http2-prior-knowledge', '-k', '-n', '600', '-m', '20', `${haproxy!.url}/`]);
        expectGetSuccess(result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 600 total, 600 succeeded, 0 failed',
        );
        expect(servedBy().get('sluice3') ?? 0).to.equal(before);
      });
    });

    // A describe, not an it: mocha runs a block's own its before its nested describes.
    describe('after all the traffic above', () => {
      it('no backend, proxy or client ever saw ENHANCE_YOUR_CALM', () => {
        expect(transcripts.length).to.be.greaterThan(backends.length);
        for (const { what, text } of transcripts) expectNoCalm(what, text());
      });
    });
  });
});
