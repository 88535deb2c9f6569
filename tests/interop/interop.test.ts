import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * Interop: sluice against tools nobody here wrote. `npm run test:interop`; needs curl,
 * nghttp, nghttpd, h2load and openssl (Debian: curl nghttp2-client nghttp2-server openssl).
 * A missing tool fails the suite; nothing is skipped.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SLUICE = path.join(REPO_ROOT, 'bin', 'sluice');
const TOOL_TIMEOUT_MS = 90_000;
const TOOLS: Readonly<Record<string, string>> = {
  curl: 'curl',
  nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client',
  nghttpd: 'nghttp2-server',
  openssl: 'openssl',
};

interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** The tool's own output, for assertion messages. */
function show(what: string, result: ToolResult): string {
  const stdout = result.stdout.toString('utf8');
  return `${what}: exit ${result.code ?? result.signal}\n--- stdout\n${stdout.slice(0, 6000)}\n--- stderr\n${result.stderr.slice(0, 6000)}`;
}

function findTool(name: string): string | null {
  const directories = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const toolPaths = new Map<string, string>();

function tool(name: string): string {
  const found = toolPaths.get(name);
  if (found === undefined) throw new Error(`${name} was not looked up`);
  return found;
}

/** Collects a child's output and exit; kills it after `timeoutMs`. */
function finished(child: ChildProcess, timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise<ToolResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => (stderr += `spawn failed: ${error.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

function run(command: string, args: string[]): Promise<ToolResult> {
  return finished(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

function sluiceGet(args: string[]): Promise<ToolResult> {
  return run(process.execPath, [SLUICE, 'get', ...args]);
}

function expectSuccess(what: string, result: ToolResult): void {
  expect(result.code, show(what, result)).to.equal(0);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on the port; fails after `attempts` tries. */
async function waitForPort(port: number, child: ChildProcess, attempts = 200): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before listening`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (isOpen) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** A server child process with its URL. */
interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<ToolResult>;
}

async function startSluiceServe(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SLUICE, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = finished(child, 300_000);
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /^listening on (\S+)\n/.exec(seen);
      if (match !== null) resolve(match[1]!);
    });
    void exited.then((result) => reject(new Error(show('sluice serve exited before listening', result))));
  });
  return { url, child, exited };
}

async function stopServer(server: ServerProcess, what: string): Promise<ToolResult> {
  server.child.kill('SIGTERM');
  const result = await server.exited;
  expect(result.code, show(what, result)).to.be.oneOf([0, null]);
  return result;
}

/** Generates a self-signed certificate for 127.0.0.1/localhost into `directory`. */
async function makeCertificate(directory: string): Promise<{ certPath: string; keyPath: string }> {
  const certPath = path.join(directory, 'cert.pem');
  const keyPath = path.join(directory, 'key.pem');
  const result = await run(tool('openssl'), [
    'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  expectSuccess('openssl req', result);
  return { certPath, keyPath };
}

describe('interop', function () {
  this.timeout(180_000);
  let tmp: string;
  /** 10 MiB of random bytes for the echo uploads. */
  let bigFile: string;
  let bigHash: string;

  before(() => {
    const missing = Object.entries(TOOLS).filter(([name]) => {
      const found = findTool(name);
      if (found !== null) toolPaths.set(name, found);
      return found === null;
    });
    if (missing.length > 0) {
      const packages = [...new Set(missing.map(([, debianPackage]) => debianPackage))].join(' ');
      throw new Error(`interop tools missing: ${missing.map(([name]) => name).join(', ')}; install them (apt-get install ${packages})`);
    }
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
        server = await startSluiceServe(mode === 'tls' ? ['--tls'] : []);
      });
      after(async () => {
        await stopServer(server, 'sluice serve');
      });

      it(`curl ${curlMode.join(' ')}: GET / over HTTP/2`, async () => {
        const result = await run(tool('curl'), ['-sS', ...curlMode, '-w', '\nhttp_version=%{http_version} status=%{http_code}', `${server.url}/`]);
        expectSuccess('curl', result);
        const output = result.stdout.toString();
        expect(output, show('curl', result)).to.match(/^hello from sluice/);
        expect(output, show('curl', result)).to.include('http_version=2 status=200');
      });

      it(`curl ${curlMode.join(' ')}: POST /echo 10 MiB comes back with the same SHA-256`, async () => {
        const out = path.join(tmp, `curl-echo-${mode}.bin`);
        const result = await run(tool('curl'), ['-sS', ...curlMode, '--data-binary', `@${bigFile}`, '-o', out, '-w', '%{http_code}', `${server.url}/echo`]);
        expectSuccess('curl', result);
        expect(result.stdout.toString(), show('curl', result)).to.equal('200');
        expect(sha256(readFileSync(out)), show('curl', result)).to.equal(bigHash);
      });

      it(`curl ${curlMode.join(' ')}: GET /headers echoes a custom header`, async () => {
        const result = await run(tool('curl'), ['-sS', ...curlMode, '-H', 'X-Interop: curl was here', `${server.url}/headers`]);
        expectSuccess('curl', result);
        const headers = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
        expect(headers['x-interop'], show('curl', result)).to.equal('curl was here');
        expect(headers[':path'], show('curl', result)).to.equal('/headers');
      });

      it('nghttp -nv: GET with a frame dump', async () => {
        const result = await run(tool('nghttp'), ['-nv', `${server.url}/`]);
        expectSuccess('nghttp', result);
        const dump = result.stdout.toString();
        for (const expected of ['send SETTINGS frame', 'recv SETTINGS frame', 'send HEADERS frame', ':status: 200', 'recv HEADERS frame', 'recv DATA frame']) {
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
        const result = await run(tool('nghttp'), ['-nv', `${server.url}/`, `${server.url}/headers`, `${server.url}/bytes/100000`]);
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
        expect(report, show('h2load', result)).to.match(/requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored/);
        expect(report, show('h2load', result)).to.include('status codes: 20000 2xx');
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
        const child = spawn(tool('nghttpd'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const exited = finished(child, 300_000);
        nghttpd = { url: `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`, child, exited };
        try {
          await waitForPort(port, child);
        } catch (error) {
          child.kill('SIGKILL');
          throw new Error(show(`nghttpd did not start (${String(error)})`, await exited));
        }
      });
      after(async () => {
        nghttpd.child.kill('SIGTERM');
        await nghttpd.exited;
      });

      const insecure = mode === 'tls' ? ['-k'] : [];

      it('GET prints the file', async () => {
        const result = await sluiceGet([...insecure, `${nghttpd.url}/hello.txt`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal('hello from nghttpd\n');
      });

      it('-o saves a 2 MiB file intact', async () => {
        const out = path.join(tmp, `from-nghttpd-${mode}.bin`);
        const result = await sluiceGet([...insecure, '-o', out, `${nghttpd.url}/big.bin`]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(sha256(file));
      });

      it('-d @file uploads 10 MiB that --echo-upload sends back', async () => {
        const out = path.join(tmp, `echo-nghttpd-${mode}.bin`);
        const result = await sluiceGet([...insecure, '-d', `@${bigFile}`, '-o', out, `${nghttpd.url}/echo`]);
        expectSuccess('sluice get', result);
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(bigHash);
      });

      it('-v shows the frames both ways', async () => {
        const result = await sluiceGet([...insecure, '-v', `${nghttpd.url}/hello.txt`]);
        expectSuccess('sluice get', result);
        for (const line of ['send HEADERS', 'recv SETTINGS', 'recv HEADERS', 'recv DATA', '< :status: 200']) {
          expect(result.stderr, show('sluice get', result)).to.include(line);
        }
      });

      it('-n 500 -m 20 succeeds on every request', async () => {
        const result = await sluiceGet([...insecure, '-n', '500', '-m', '20', `${nghttpd.url}/hello.txt`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include('requests: 500 total, 500 succeeded, 0 failed');
      });

      if (mode === 'tls') {
        it('refuses the self-signed certificate without -k (exit 1, one line)', async () => {
          const result = await sluiceGet([`${nghttpd.url}/hello.txt`]);
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
        const result = await sluiceGet([...insecure, `${url}/some/path?q=1`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.equal('node:http2 saw GET /some/path?q=1\n');
      });

      it('POST 10 MiB echoed with the same SHA-256, headers through', async () => {
        const out = path.join(tmp, `echo-node-${mode}.bin`);
        const result = await sluiceGet([...insecure, '-v', '-H', 'x-probe: yes', '-d', `@${bigFile}`, '-o', out, `${url}/echo`]);
        expectSuccess('sluice get', result);
        expect(result.stderr, show('sluice get', result)).to.include('< x-seen: yes');
        expect(sha256(readFileSync(out)), show('sluice get', result)).to.equal(bigHash);
      });

      it('-n 300 -m 10', async () => {
        const result = await sluiceGet([...insecure, '-n', '300', '-m', '10', `${url}/`]);
        expectSuccess('sluice get', result);
        expect(result.stdout.toString(), show('sluice get', result)).to.include('requests: 300 total, 300 succeeded, 0 failed');
      });
    });
  }
});
