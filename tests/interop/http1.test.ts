import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request as undiciRequest, Pool } from 'undici';
import { connect, Http1Session } from '../../handlers/http1/index.js';
import {
  expectSuccess,
  freePort,
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
} from '../support/processes.js';
import { sha256 } from '../support/hashing.js';

/*
 * HTTP/1.1 interop (issue 20): `sluice serve` — HTTP/1.1 and HTTP/2 on one port — against curl,
 * h2load --h1, wrk, node:http and undici; `sluice get` against node:http; sluice's client
 * against nginx over HTTP/1.1. `npm run test:interop`; needs curl, h2load, wrk, nginx (Debian:
 * curl nghttp2-client wrk nginx-light). A missing tool fails the suite; nothing is skipped.
 */

const TOOLS: Readonly<Record<string, string>> = {
  curl: 'curl',
  h2load: 'nghttp2-client',
  wrk: 'wrk',
  nginx: 'nginx-light',
};

/** Started as root, nginx would switch to a user that cannot read the 0700 temp dir. */
const IS_ROOT = process.getuid?.() === 0;

const ROOT_TEXT = /^hello from sluice/;

describe('interop: HTTP/1.1', function () {
  this.timeout(180_000);
  let tmp: string;
  let bigFile: string;
  let bigHash: string;
  let server: ServerProcess;

  before(async () => {
    requireTools(TOOLS);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-http1-interop-'));
    const big = randomBytes(10 * 1024 * 1024);
    bigFile = path.join(tmp, 'upload-10MiB.bin');
    writeFileSync(bigFile, big);
    bigHash = sha256(big);
    server = await startSluiceServe(['--log-level', 'debug']);
  });
  after(async () => {
    if (server !== undefined) await stopServer(server, 'sluice serve');
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  describe('sluice serve, one port for both versions', () => {
    it('curl --http1.1: GET / over HTTP/1.1', async () => {
      const result = await run(tool('curl'), [
        '-sS',
        '--http1.1',
        '-w',
        '\nhttp_version=%{http_version} status=%{http_code}',
        `${server.url}/`,
      ]);
      expectSuccess('curl', result);
      const text = result.stdout.toString();
      expect(text, show('curl', result)).to.match(ROOT_TEXT);
      expect(text, show('curl', result)).to.match(/http_version=1\.1 status=200$/);
    });

    it('curl --http1.1: a 10 MiB chunked upload to /echo comes back intact (SHA-256)', async () => {
      const out = path.join(tmp, 'curl-echo.bin');
      const result = await run(tool('curl'), [
        '-sS',
        '--http1.1',
        '-H',
        'Transfer-Encoding: chunked',
        '--data-binary',
        `@${bigFile}`,
        '-o',
        out,
        '-w',
        '%{http_version} %{http_code}',
        `${server.url}/echo`,
      ]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.equal('1.1 200');
      expect(sha256(readFileSync(out)), show('curl', result)).to.equal(bigHash);
    });

    it('curl --http1.1: several URLs on one keep-alive connection (curl reports the reuse)', async () => {
      const result = await run(tool('curl'), [
        '-sS',
        '-v',
        '--http1.1',
        '-w',
        'connects=%{num_connects}\n',
        '-o',
        '/dev/null',
        `${server.url}/`,
        '-o',
        '/dev/null',
        `${server.url}/bytes/1000`,
        '-o',
        '/dev/null',
        `${server.url}/headers`,
      ]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.equal('connects=1\nconnects=0\nconnects=0\n');
      expect(result.stderr, show('curl', result)).to.match(/Re-using existing connection/);
    });

    for (const pipelined of [1, 10]) {
      it(`h2load --h1 -c 10 -m ${pipelined}: every request succeeds`, async () => {
        const result = await run(tool('h2load'), [
          '--h1',
          '-n',
          '5000',
          '-c',
          '10',
          '-m',
          String(pipelined),
          `${server.url}/bytes/100`,
        ]);
        expectSuccess('h2load', result);
        expect(result.stdout.toString(), show('h2load', result)).to.match(
          /requests: 5000 total, 5000 started, 5000 done, 5000 succeeded, 0 failed, 0 errored/,
        );
      });
    }

    it('wrk: a bounded run without socket errors or non-2xx responses', async () => {
      const result = await run(tool('wrk'), ['-t', '1', '-c', '10', '-d', '2s', `${server.url}/bytes/100`]);
      expectSuccess('wrk', result);
      const text = result.stdout.toString();
      expect(text, show('wrk', result)).to.match(/\d+ requests in/);
      expect(text, show('wrk', result)).to.not.match(/Socket errors|Non-2xx/);
    });

    it('node:http client: GET and a streamed POST /echo on one keep-alive agent', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const sockets = new Set<net.Socket>();
        const exchange = (method: string, urlPath: string, body?: Buffer): Promise<Buffer> =>
          new Promise((resolve, reject) => {
            const request = http.request(`${server.url}${urlPath}`, { method, agent }, (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve(Buffer.concat(chunks)));
              response.on('error', reject);
            });
            request.on('socket', (socket: net.Socket) => sockets.add(socket));
            request.on('error', reject);
            request.end(body);
          });
        expect((await exchange('GET', '/')).toString()).to.match(ROOT_TEXT);
        const upload = randomBytes(3 * 1024 * 1024);
        expect(sha256(await exchange('POST', '/echo', upload))).to.equal(sha256(upload));
        expect(sockets.size, 'connections used').to.equal(1);
      } finally {
        agent.destroy();
      }
    });

    it('undici 7 (Pool and request): GET, a POST /echo, 20 GETs spread over two connections', async () => {
      const pool = new Pool(server.url, { connections: 2 });
      try {
        const hello = await pool.request({ path: '/', method: 'GET' });
        expect(hello.statusCode).to.equal(200);
        expect(await hello.body.text()).to.match(ROOT_TEXT);
        const upload = randomBytes(2 * 1024 * 1024);
        const echo = await pool.request({ path: '/echo', method: 'POST', body: upload });
        expect(echo.statusCode).to.equal(200);
        const hash = createHash('sha256');
        for await (const chunk of echo.body) hash.update(chunk as Buffer);
        expect(hash.digest('hex')).to.equal(sha256(upload));
        const responses = await Promise.all(
          Array.from({ length: 20 }, async (_, index) => {
            const response = await pool.request({ path: `/bytes/${index * 100}`, method: 'GET' });
            return (await response.body.arrayBuffer()).byteLength;
          }),
        );
        expect(responses).to.deep.equal(Array.from({ length: 20 }, (_, index) => index * 100));
      } finally {
        await pool.close();
      }
      const once = await undiciRequest(`${server.url}/headers`, { headers: { 'x-client': 'undici' } });
      const headers = (await once.body.json()) as Record<string, unknown>;
      expect(headers['x-client']).to.equal('undici');
    });
  });

  describe('sluice get and connect() against a node:http server', () => {
    let nodeServer: http.Server;
    let url: string;
    let connectionCount = 0;
    before(async () => {
      nodeServer = http.createServer((request, response) => {
        if (request.url === '/echo') {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          request.pipe(response);
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(`node:http saw ${request.method} ${request.url} over ${request.httpVersion}\n`);
      });
      nodeServer.on('connection', () => connectionCount++);
      await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(nodeServer.address() as net.AddressInfo).port}`;
    });
    after(async () => {
      nodeServer.closeAllConnections();
      await new Promise<void>((resolve) => nodeServer.close(() => resolve()));
    });

    it('sluice get (HTTP/1.1 by default on http://): GET', async () => {
      const result = await sluiceGet([`${url}/some/path?q=1`]);
      expectSuccess('sluice get', result);
      expect(result.stdout.toString(), show('sluice get', result)).to.equal(
        'node:http saw GET /some/path?q=1 over 1.1\n',
      );
    });

    it('sluice get --http1.1: a 10 MiB upload echoed back intact', async () => {
      const out = path.join(tmp, 'node-echo.bin');
      const result = await sluiceGet(['--http1.1', '-d', `@${bigFile}`, '-o', out, `${url}/echo`]);
      expectSuccess('sluice get', result);
      expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(bigHash);
    });

    it('connect(url): requests one after another over one keep-alive connection', async () => {
      const connectionsBefore = connectionCount;
      const session = await connect(url);
      expect(session).to.be.instanceOf(Http1Session);
      try {
        for (let i = 0; i < 5; i++) {
          const response = await session.request({ ':path': `/n${i}` });
          expect(await response.body.text()).to.equal(`node:http saw GET /n${i} over 1.1\n`);
        }
      } finally {
        await session.close();
      }
      expect(connectionCount - connectionsBefore, 'connections opened').to.equal(1);
    });
  });

  describe('sluice against nginx over HTTP/1.1', () => {
    let nginx: ServerProcess | undefined;
    let port = 0;
    const hello = 'hello from nginx over HTTP/1.1\n';
    const big = randomBytes(4 * 1024 * 1024 + 7);

    before(async () => {
      port = await freePort();
      const prefix = mkdtempSync(path.join(tmp, 'nginx-http1-'));
      const www = path.join(prefix, 'www');
      mkdirSync(www);
      writeFileSync(path.join(www, 'hello.txt'), hello);
      writeFileSync(path.join(www, 'big.bin'), big);
      const config = `${IS_ROOT ? 'user root;\n' : ''}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    server {
        listen 127.0.0.1:${port};
        root ${www};
    }
}
`;
      const configPath = path.join(prefix, 'nginx.conf');
      writeFileSync(configPath, config);
      nginx = await startPeerServer(
        tool('nginx'),
        ['-p', prefix, '-c', configPath, '-g', 'daemon off;'],
        [port],
        `http://127.0.0.1:${port}`,
      );
    });
    after(async () => {
      await stopPeerServer(nginx);
    });

    it('connect(url): files over one keep-alive connection, the big one intact', async () => {
      const session = await connect(`http://127.0.0.1:${port}`, { protocol: 'http/1.1' });
      expect(session.protocol).to.equal('http/1.1');
      try {
        for (let i = 0; i < 3; i++) {
          const response = await session.request({ ':path': '/hello.txt' });
          expect(response.status).to.equal(200);
          expect(response.headers.server).to.match(/^nginx/);
          expect(await response.body.text()).to.equal(hello);
        }
        const response = await session.request({ ':path': '/big.bin' });
        expect(sha256(await response.body.bytes())).to.equal(sha256(big));
        const missing = await session.request({ ':path': '/missing' });
        expect(missing.status).to.equal(404);
        await missing.body.text();
      } finally {
        await session.close();
      }
    });

    it('sluice get --http1.1 -v: the status line and nginx fields', async () => {
      const result = await sluiceGet(['--http1.1', '-v', `http://127.0.0.1:${port}/hello.txt`]);
      expectSuccess('sluice get', result);
      expect(result.stdout.toString(), show('sluice get', result)).to.equal(hello);
      expect(result.stderr, show('sluice get', result)).to.match(/^< HTTP\/1\.1 200 OK$/m);
      expect(result.stderr, show('sluice get', result)).to.match(/^< Server: nginx/m);
    });
  });
});
