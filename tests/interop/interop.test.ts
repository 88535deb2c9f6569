import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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
} from '../support/processes.js';
import { sha256 } from '../support/hashing.js';

/*
 * Interop: sluice against tools nobody here wrote. `npm run test:interop`; needs curl,
 * nghttp, nghttpd, h2load and openssl (Debian: curl nghttp2-client nghttp2-server openssl).
 * A missing tool fails the suite; nothing is skipped.
 */

const TOOLS: Readonly<Record<string, string>> = {
  curl: 'curl',
  nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client',
  nghttpd: 'nghttp2-server',
  openssl: 'openssl',
};

describe('interop', function () {
  this.timeout(180_000);
  let tmp: string;
  /** 10 MiB of random bytes for the echo uploads. */
  let bigFile: string;
  let bigHash: string;

  before(() => {
    requireTools(TOOLS);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-interop-'));
    const big = randomBytes(10 * 1024 * 1024);
    bigFile = path.join(tmp, 'upload-10MiB.bin');
    writeFileSync(bigFile, big);
    bigHash = sha256(big);
  });
  after(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  for (const mode of ['h2c', 'tls'] as const) {
    describe(`sluice serve (${mode})`, () => {
      let server: ServerProcess;
      /** curl's flags for this mode. */
      const curlMode = mode === 'tls' ? ['--http2', '-k'] : ['--http2-prior-knowledge'];

      before(async () => {
        // debug: a connection error sluice raises (GOAWAY(ENHANCE_YOUR_CALM) included) is logged.
        server = await startSluiceServe([...(mode === 'tls' ? ['--tls'] : []), '--log-level', 'debug']);
      });
      after(async () => {
        await stopServer(server, 'sluice serve');
      });

      it(`curl ${curlMode.join(' ')}: GET / over HTTP/2`, async () => {
        const result = await run(tool('curl'), [
          '-sS',
          ...curlMode,
          '-w',
          '\nhttp_version=%{http_version} status=%{http_code}',
          `${server.url}/`,
        ]);
        expectSuccess('curl', result);
        const output = result.stdout.toString();
        expect(output, show('curl', result)).to.match(/^hello from sluice/);
        expect(output, show('curl', result)).to.include('http_version=2 status=200');
      });

      it(`curl ${curlMode.join(' ')}: POST /echo 10 MiB comes back with the same SHA-256`, async () => {
        const out = path.join(tmp, `curl-echo-${mode}.bin`);
        const result = await run(tool('curl'), [
          '-sS',
          ...curlMode,
          '--data-binary',
          `@${bigFile}`,
          '-o',
          out,
          '-w',
          '%{http_code}',
          `${server.url}/echo`,
        ]);
        expectSuccess('curl', result);
        expect(result.stdout.toString(), show('curl', result)).to.equal('200');
        expect(sha256(readFileSync(out)), show('curl', result)).to.equal(bigHash);
      });

      it(`curl ${curlMode.join(' ')}: GET /headers echoes a custom header`, async () => {
        const result = await run(tool('curl'), [
          '-sS',
          ...curlMode,
          '-H',
          'X-Interop: curl was here',
          `${server.url}/headers`,
        ]);
        expectSuccess('curl', result);
        const headers = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
        expect(headers['x-interop'], show('curl', result)).to.equal('curl was here');
        expect(headers[':path'], show('curl', result)).to.equal('/headers');
      });

      it('nghttp -nv: GET with a frame dump', async () => {
        const result = await run(tool('nghttp'), ['-nv', `${server.url}/`]);
        expectSuccess('nghttp', result);
        const dump = result.stdout.toString();
        for (const expected of [
          'send SETTINGS frame',
          'recv SETTINGS frame',
          'send HEADERS frame',
          ':status: 200',
          'recv HEADERS frame',
          'recv DATA frame',
        ]) {
          expect(dump, show('nghttp', result)).to.include(expected);
        }
        if (mode === 'tls') expect(dump, show('nghttp', result)).to.include('The negotiated protocol: h2');
      });

      it('nghttp -d: uploads a file to /echo', async () => {
        const upload = randomBytes(1024 * 1024 + 17);
        const file = path.join(tmp, `nghttp-upload-${mode}.bin`);
        writeFileSync(file, upload);
        const result = await run(tool('nghttp'), ['-d', file, `${server.url}/echo`]);
        expectSuccess('nghttp', result);
        expect(sha256(result.stdout), show('nghttp', { ...result, stdout: Buffer.alloc(0) })).to.equal(sha256(upload));
      });

      it('nghttp -nv: several URIs on one connection', async () => {
        const result = await run(tool('nghttp'), [
          '-nv',
          `${server.url}/`,
          `${server.url}/headers`,
          `${server.url}/bytes/100000`,
        ]);
        expectSuccess('nghttp', result);
        const dump = result.stdout.toString();
        // nghttp numbers request streams after the idle streams it uses for priorities.
        const answered = new Set([...dump.matchAll(/recv \(stream_id=(\d+)\) :status: 200/g)].map((match) => match[1]));
        expect(answered.size, show('nghttp', result)).to.equal(3);
        expect(dump.match(/Connected/g) ?? [], show('nghttp', result)).to.have.length(1);
      });

      it('h2load -n 20000 -c 10 -m 10: 0 failed, 0 errored', async () => {
        const result = await run(tool('h2load'), ['-n', '20000', '-c', '10', '-m', '10', `${server.url}/`]);
        expectSuccess('h2load', result);
        const report = result.stdout.toString();
        expect(report, show('h2load', result)).to.match(
          /requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored/,
        );
        expect(report, show('h2load', result)).to.include('status codes: 20000 2xx');
      });

      it('no connection error: sluice serve never sent curl, nghttp or h2load a GOAWAY with an error', () => {
        const log = server.output();
        expectNoCalm('sluice serve', log);
        expect(log.split('\n').filter((line) => line.includes('connection error'))).to.deep.equal([]);
      });
    });
  }

  for (const mode of ['h2c', 'tls'] as const) {
    describe(`sluice get against nghttpd (${mode})`, () => {
      let nghttpd: ServerProcess;
      let docs: string;
      const file = randomBytes(2 * 1024 * 1024 + 5);

      before(async () => {
        docs = mkdtempSync(path.join(tmp, `nghttpd-${mode}-`));
        writeFileSync(path.join(docs, 'hello.txt'), 'hello from nghttpd\n');
        writeFileSync(path.join(docs, 'big.bin'), file);
        const port = await freePort();
        const args = ['--address=127.0.0.1', '--echo-upload', '-d', docs, String(port)];
        if (mode === 'tls') {
          const { certPath, keyPath } = await makeCertificate(docs);
          args.push(keyPath, certPath);
        } else {
          args.unshift('--no-tls');
        }
        nghttpd = await startPeerServer(
          tool('nghttpd'),
          args,
          [port],
          `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`,
        );
      });
      after(async () => {
        await stopPeerServer(nghttpd);
      });

      const insecure = mode === 'tls' ? ['-k'] : [];

      it('GET prints the file', async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, `${nghttpd.url}/hello.txt`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal('hello from nghttpd\n');
      });

      it('-o saves a 2 MiB file intact', async () => {
        const out = path.join(tmp, `from-nghttpd-${mode}.bin`);
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, '-o', out, `${nghttpd.url}/big.bin`]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(sha256(file));
      });

      it('-d @file uploads 10 MiB that --echo-upload sends back', async () => {
        const out = path.join(tmp, `echo-nghttpd-${mode}.bin`);
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-d',
          `@${bigFile}`,
          '-o',
          out,
          `${nghttpd.url}/echo`,
        ]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(bigHash);
      });

      it('-v shows the frames both ways', async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, '-v', `${nghttpd.url}/hello.txt`]);
        expectSuccess('sluice get', result);
        for (const line of ['send HEADERS', 'recv SETTINGS', 'recv HEADERS', 'recv DATA', '< :status: 200']) {
          expect(result.stderr, show('sluice get', result)).to.include(line);
        }
      });

      it('-n 500 -m 20 succeeds on every request', async () => {
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-n',
          '500',
          '-m',
          '20',
          `${nghttpd.url}/hello.txt`,
        ]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 500 total, 500 succeeded, 0 failed',
        );
      });

      if (mode === 'tls') {
        it('refuses the self-signed certificate without -k (exit 1, one line)', async () => {
          const result = await sluiceGet(['--http2-prior-knowledge', `${nghttpd.url}/hello.txt`]);
          expect(result.code, show('sluice get', result)).to.equal(1);
          expect(result.stderr.trim().split('\n'), show('sluice get', result)).to.have.length(1);
        });
      }
    });
  }

  for (const mode of ['h2c', 'tls'] as const) {
    describe(`sluice get against node:http2 (${mode})`, () => {
      let server: http2.Http2Server | http2.Http2SecureServer;
      let url: string;

      before(async () => {
        const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
          if (headers[':path'] === '/echo') {
            stream.respond({ ':status': 200, 'x-seen': String(headers['x-probe'] ?? '') });
            stream.pipe(stream);
            return;
          }
          stream.respond({ ':status': 200, 'content-type': 'text/plain' });
          stream.end(`node:http2 saw ${String(headers[':method'])} ${String(headers[':path'])}\n`);
        };
        if (mode === 'tls') {
          const directory = mkdtempSync(path.join(tmp, 'node-tls-'));
          const { certPath, keyPath } = await makeCertificate(directory);
          server = http2.createSecureServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) });
        } else {
          server = http2.createServer();
        }
        server.on('stream', onStream);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        url = `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      });
      after(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      const insecure = mode === 'tls' ? ['-k'] : [];

      it('GET', async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, `${url}/some/path?q=1`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal('node:http2 saw GET /some/path?q=1\n');
      });

      it('POST 10 MiB echoed with the same SHA-256, headers through', async () => {
        const out = path.join(tmp, `echo-node-${mode}.bin`);
        const result = await sluiceGet([
          '--http2-prior-knowledge',
          ...insecure,
          '-v',
          '-H',
          'x-probe: yes',
          '-d',
          `@${bigFile}`,
          '-o',
          out,
          `${url}/echo`,
        ]);
        expectSuccess('sluice get', result);
        expect(result.stderr, show('sluice get', result)).to.include('< x-seen: yes');
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(bigHash);
      });

      it('-n 300 -m 10', async () => {
        const result = await sluiceGet(['--http2-prior-knowledge', ...insecure, '-n', '300', '-m', '10', `${url}/`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include(
          'requests: 300 total, 300 succeeded, 0 failed',
        );
      });
    });
  }
});
