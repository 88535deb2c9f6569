import { expect } from 'chai';
import { NodeWebSocket } from '../handlers/websocket/node-h2-websocket.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket as WsClient, type RawData } from 'ws';
import { bytesPattern } from '../support/bytes-pattern.js';
import { makeCertificate, requireTools } from '../support/processes.js';
import { closeServer, listenOnLoopback, refusingLoopbackPort } from '../support/loopback.js';

/** The repository root: this file runs as dist/tests/bin/cli.test.js. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SLUICE = path.join(REPO_ROOT, 'bin', 'sluice');
/** No command may take longer than this; a hung command fails its test instead of the run. */
const COMMAND_TIMEOUT_MS = 30_000;

interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function describeResult(result: CommandResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout.slice(0, 4000)}\n--- stderr\n${result.stderr.slice(0, 4000)}`;
}

/** Collects a child's output and exit; kills it after `timeoutMs`. */
function finished(child: ChildProcess, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise<CommandResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `node bin/sluice ...args` as a user would and waits for it to exit. */
function sluice(args: string[]): Promise<CommandResult> {
  return finished(spawn(process.execPath, [SLUICE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** `word` quoted for a POSIX shell. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `node bin/sluice ...args` under a real pseudo-terminal (util-linux `script`): its stdin,
 * stdout and stderr are the terminal, whose output `script` passes on as its own stdout
 * (newlines as `\r\n`). `shellSuffix` is appended to the shell command (a redirection).
 */
function sluiceOnTerminal(args: string[], shellSuffix = ''): Promise<CommandResult> {
  const command = `${[process.execPath, SLUICE, ...args].map(shellQuote).join(' ')}${shellSuffix}`;
  return finished(spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A `sluice serve` process that printed its `listening on` line. */
interface Server {
  url: string;
  child: ChildProcess;
  /** Resolves when the process exits. */
  exited: Promise<CommandResult>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<CommandResult>;
}

async function serve(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [SLUICE, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = finished(child, 60_000);
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /^listening on (\S+)\n/.exec(seen);
      if (match !== null) resolve(match[1]);
    });
    void exited.then((result) => reject(new Error(`sluice serve exited before listening\n${describeResult(result)}`)));
  });
  return {
    url,
    child,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function expectOneLineFailure(result: CommandResult, code: number, pattern: RegExp): void {
  const message = describeResult(result);
  expect(result.code, message).to.equal(code);
  expect(result.stdout, message).to.equal('');
  expect(result.stderr.split('\n'), message).to.have.length(2); // one line and the final newline
  expect(result.stderr, message).to.match(pattern);
}

describe('sluice command line', function () {
  this.timeout(60_000);
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-test-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('usage', () => {
    for (const args of [['--help'], ['serve', '--help'], ['get', '--help'], ['get', '-h']]) {
      it(`prints help and exits 0 for 'sluice ${args.join(' ')}'`, async () => {
        const result = await sluice(args);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stdout).to.match(/^Usage: sluice/);
        expect(result.stderr).to.equal('');
      });
    }

    const usageCases: { name: string; args: string[]; pattern: RegExp }[] = [
      { name: 'no command', args: [], pattern: /^sluice: missing command/ },
      { name: 'an unknown command', args: ['fetch'], pattern: /^sluice: unknown command 'fetch'/ },
      {
        name: 'an unknown get flag',
        args: ['get', '--bogus', 'http://127.0.0.1:1/'],
        pattern: /^sluice get: unknown option '--bogus'/,
      },
      { name: 'an unknown serve flag', args: ['serve', '--bogus'], pattern: /^sluice serve: unknown option '--bogus'/ },
      { name: 'a bad URL', args: ['get', 'not a url'], pattern: /^sluice get: invalid URL 'not a url'/ },
      { name: 'an unsupported scheme', args: ['get', 'ftp://127.0.0.1/'], pattern: /unsupported URL scheme 'ftp'/ },
      { name: 'a missing URL', args: ['get'], pattern: /^sluice get: missing URL/ },
      {
        name: 'a malformed header',
        args: ['get', '-H', 'no colon', 'http://127.0.0.1:1/'],
        pattern: /invalid header 'no colon'/,
      },
      {
        name: 'a connection-specific header',
        args: ['get', '-H', 'connection: close', 'http://127.0.0.1:1/'],
        pattern: /'connection' is not allowed/,
      },
      { name: 'a bad -n', args: ['get', '-n', '0', 'http://127.0.0.1:1/'], pattern: /-n must be a whole number/ },
      { name: '-m without -n', args: ['get', '-m', '10', 'http://127.0.0.1:1/'], pattern: /^sluice get: -m needs -n/ },
      {
        name: '--http1.1 with --http2-prior-knowledge',
        args: ['get', '--http1.1', '--http2-prior-knowledge', 'http://127.0.0.1:1/'],
        pattern: /exclude each other/,
      },
      {
        name: '--http1.1 with -n',
        args: ['get', '--http1.1', '-n', '2', 'http://127.0.0.1:1/'],
        pattern: /-n\/-m speak HTTP\/2 only/,
      },
      {
        name: '-o with -n',
        args: ['get', '-n', '2', '-o', 'x', 'http://127.0.0.1:1/'],
        pattern: /-o cannot be used with -n/,
      },
      {
        name: 'a bad port',
        args: ['serve', '--port', '70000'],
        pattern: /--port must be a whole number from 0 to 65535/,
      },
      { name: 'a bad log level', args: ['serve', '--log-level', 'loud'], pattern: /unknown log level 'loud'/ },
      { name: '--cert without --key', args: ['serve', '--cert', 'c.pem'], pattern: /--cert and --key go together/ },
      {
        name: 'a busy-poll window over a second',
        args: ['serve', '--busy-poll', '1000001'],
        pattern: /--busy-poll must be a whole number from 0 to 1000000/,
      },
      // A negative number is the option's value (parseArgs alone calls it "ambiguous").
      {
        name: 'a negative busy-poll window',
        args: ['serve', '--busy-poll', '-1'],
        pattern: /^sluice serve: --busy-poll must be a whole number from 0 to 1000000, not '-1'/,
      },
      {
        name: 'a negative -n',
        args: ['get', '-n', '-5', 'http://127.0.0.1:1/'],
        pattern: /^sluice get: -n must be a whole number from 1 to 10000000, not '-5'/,
      },
      {
        name: 'a --priority that is not an RFC 9218 priority',
        args: ['get', '--priority', 'u=1,', 'http://127.0.0.1:1/'],
        pattern: /^sluice get: invalid --priority 'u=1,'/,
      },
      {
        name: 'a handshake timeout that is not a number',
        args: ['serve', '--handshake-timeout', 'soon'],
        pattern: /^sluice serve: --handshake-timeout must be a whole number from 0 to 86400000, not 'soon'/,
      },
      {
        name: 'a negative minimum rate',
        args: ['serve', '--min-response-rate', '-240'],
        pattern: /^sluice serve: --min-response-rate must be a whole number from 0 to 1000000000, not '-240'/,
      },
      {
        name: 'an empty --cacert',
        args: ['get', '--cacert', '', 'https://127.0.0.1:1/'],
        pattern: /^sluice get: --cacert needs a file name/,
      },
    ];
    for (const { name, args, pattern: expected } of usageCases) {
      it(`exits 2 with one line for ${name}`, async () => {
        expectOneLineFailure(await sluice(args), 2, expected);
      });
    }
  });

  describe('failures', () => {
    it('exits 1 with one line when -d @file cannot be read', async () => {
      const missing = path.join(tmp, 'missing.bin');
      expectOneLineFailure(
        await sluice(['get', '-d', `@${missing}`, 'http://127.0.0.1:1/echo']),
        1,
        /cannot read '.*missing\.bin': no such file or directory \(ENOENT\)/,
      );
    });

    it('exits 1 with one line when the connection is refused', async () => {
      const port = await refusingLoopbackPort();
      expectOneLineFailure(
        await sluice(['get', `http://127.0.0.1:${port}/`]),
        1,
        /cannot connect to 127\.0\.0\.1:\d+: .*IO_CONNECTION_REFUSED/,
      );
    });

    it('exits 1 with one line when the port is taken', async () => {
      const server = await serve([]);
      try {
        const port = new URL(server.url).port;
        expectOneLineFailure(await sluice(['serve', '--port', port]), 1, /cannot listen on .*IO_ADDRESS_IN_USE/);
      } finally {
        await server.stop();
      }
    });

    it('exits 1 with one line when --root is not a directory', async () => {
      expectOneLineFailure(
        await sluice(['serve', '--port', '0', '--root', path.join(tmp, 'nowhere')]),
        1,
        /cannot use --root/,
      );
    });
  });

  describe('serve and get', () => {
    let server: Server;
    before(async () => {
      server = await serve([]);
    });
    after(async () => {
      const result = await server.stop();
      expect(result.code, describeResult(result)).to.equal(0);
    });

    it('prints exactly one line, listening on http://127.0.0.1:<port>', () => {
      expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(new URL(server.url).port).to.not.equal('0');
    });

    it('closes a silent connection and a half-sent preface at its handshake deadline, with no flags (10 s)', async () => {
      const port = Number(new URL(server.url).port);
      const connections = ['', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'].map((sent) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        if (sent !== '') socket.write(sent);
        let received = 0;
        socket.on('data', (data: Buffer) => (received += data.length));
        const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(received)));
        return { socket, closed };
      });
      try {
        // Bounded: a server that never closes them fails here, well inside the test's timeout.
        const outcome = await Promise.race([
          Promise.all(connections.map((connection) => connection.closed)),
          new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 20_000).unref()),
        ]);
        expect(outcome, 'both connections closed by the server').to.not.equal('open');
        expect((outcome as number[])[0], 'the silent connection was sent nothing').to.equal(0);
      } finally {
        for (const connection of connections) connection.socket.destroy();
      }
    });

    it('answers sluice get on /', async () => {
      const result = await sluice(['get', `${server.url}/`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout).to.match(/^hello from sluice/);
    });

    it('writes the body to the -o file', async () => {
      const file = path.join(tmp, 'bytes.bin');
      const result = await sluice(['get', '-o', file, `${server.url}/bytes/300000`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout).to.equal('');
      expect(result.stderr, 'no progress line: stderr is a pipe').to.equal('');
      expect(readFileSync(file).equals(bytesPattern(300_000))).to.equal(true);
    });

    it('echoes a -d body through POST /echo', async () => {
      const result = await sluice(['get', '-d', 'ping pong', `${server.url}/echo`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout).to.equal('ping pong');
    });

    it('echoes a -H header through GET /headers', async () => {
      const result = await sluice(['get', '-H', 'X-Probe: forty two', `${server.url}/headers`]);
      expect(result.code, describeResult(result)).to.equal(0);
      const headers = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(headers['x-probe']).to.equal('forty two');
      expect(headers[':method']).to.equal('GET');
    });

    it('sends --priority as the priority header, in place of a -H one, over both versions', async () => {
      for (const version of ['--http2-prior-knowledge', '--http1.1']) {
        const result = await sluice([
          'get',
          version,
          '-H',
          'priority: u=7',
          '--priority',
          'u=0, i',
          `${server.url}/headers`,
        ]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect((JSON.parse(result.stdout) as Record<string, unknown>)['priority'], version).to.equal('u=0, i');
      }
    });

    it('honours priorities over HTTP/2: a u=0 download overtakes a u=7 one instead of sharing the connection', async () => {
      const session = http2.connect(server.url, { settings: { initialWindowSize: 16 * 1024 * 1024 } });
      session.on('error', () => undefined);
      try {
        await new Promise<void>((resolve) => session.once('connect', () => resolve()));
        session.setLocalWindowSize(64 * 1024 * 1024);
        let bulkBytes = 0;
        const bulk = session.request({ ':path': '/bytes/268435456', priority: 'u=7' });
        bulk.on('error', () => undefined);
        bulk.on('data', (chunk: Buffer) => (bulkBytes += chunk.length));
        bulk.end();
        await new Promise<void>((resolve) => {
          const check = (): void => {
            if (bulkBytes < 1024 * 1024) return;
            bulk.off('data', check);
            resolve();
          };
          bulk.on('data', check);
        });
        const urgentSize = 4 * 1024 * 1024;
        let urgentBytes = 0;
        let bulkAtHeaders = 0;
        const urgent = session.request({ ':path': `/bytes/${urgentSize}`, priority: 'u=0' });
        urgent.on('response', () => (bulkAtHeaders = bulkBytes));
        urgent.on('data', (chunk: Buffer) => (urgentBytes += chunk.length));
        urgent.end();
        await new Promise<void>((resolve, reject) => {
          urgent.on('end', resolve);
          urgent.on('error', reject);
        });
        expect(urgentBytes).to.equal(urgentSize);
        // Between the urgent response's headers and its end the bulk download gets (next to)
        // nothing; shared round-robin it would get as much as the urgent one.
        expect(bulkBytes - bulkAtHeaders).to.be.below(urgentSize / 8);
        bulk.close(http2.constants.NGHTTP2_CANCEL);
      } finally {
        session.destroy();
      }
    });

    it('answers 404 for an unknown path (and still exits 0, like curl)', async () => {
      const result = await sluice(['get', '-v', `${server.url}/nothing-here`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stderr).to.match(/^< HTTP\/1\.1 404/m);
      const overHttp2 = await sluice(['get', '-v', '--http2-prior-knowledge', `${server.url}/nothing-here`]);
      expect(overHttp2.code, describeResult(overHttp2)).to.equal(0);
      expect(overHttp2.stderr).to.include('< :status: 404');
    });

    it('speaks HTTP/1.1 to http:// by default and with --http1.1, HTTP/2 with --http2-prior-knowledge, on one port', async () => {
      for (const flags of [[], ['--http1.1']]) {
        const result = await sluice(['get', '-v', ...flags, '-d', 'over one port', `${server.url}/echo`]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stdout).to.equal('over one port');
        expect(result.stderr, describeResult(result)).to.match(/^> POST \/echo HTTP\/1\.1$/m);
        expect(result.stderr, describeResult(result)).to.not.include('send PREFACE');
      }
      const h2 = await sluice(['get', '-v', '--http2-prior-knowledge', '-d', 'over one port', `${server.url}/echo`]);
      expect(h2.code, describeResult(h2)).to.equal(0);
      expect(h2.stdout).to.equal('over one port');
      expect(h2.stderr, describeResult(h2)).to.include('send PREFACE');
    });

    for (const [name, args] of [
      ['/', ['/']],
      ['/bytes/N', ['/bytes/10']],
      ['an unknown path', ['/nothing-here']],
      ['POST /echo', ['/echo', '-d', 'x']],
    ] as const) {
      it(`sends an IMF-fixdate date field on ${name} (RFC 9110 §6.6.1)`, async () => {
        const result = await sluice(['get', '-v', ...args.slice(1), `${server.url}${args[0]}`]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stderr, describeResult(result)).to.match(
          /^< date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/m,
        );
      });
    }

    it('prints frames sent and received with -v', async () => {
      const result = await sluice(['get', '-v', '--http2-prior-knowledge', `${server.url}/`]);
      expect(result.code, describeResult(result)).to.equal(0);
      for (const line of [
        'send PREFACE',
        'send SETTINGS',
        'recv SETTINGS',
        'send HEADERS',
        'recv HEADERS',
        'recv DATA',
        '< :status: 200',
      ]) {
        expect(result.stderr, describeResult(result)).to.include(line);
      }
    });

    describe('progress line', () => {
      const size = 300 * 1024;
      before(() => requireTools({ script: 'bsdutils' }));

      it('is drawn on a terminal for -o FILE: the total, 100 %, and a final newline', async () => {
        const file = path.join(tmp, 'progress-download.bin');
        const result = await sluiceOnTerminal(['get', '-o', file, `${server.url}/bytes/${size}`]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stdout, describeResult(result)).to.match(
          /\rreceived 300\.0 KiB of 300\.0 KiB {2}100% {2}[\d.]+ [KMG]?i?B\/s {2}in [\d.]+ s *\r\n$/,
        );
        expect(readFileSync(file).equals(bytesPattern(size))).to.equal(true);
      });

      it('counts the -d @FILE upload by the file size, beside the -o download', async () => {
        const input = path.join(tmp, 'progress-upload.bin');
        const output = path.join(tmp, 'progress-echo.bin');
        writeFileSync(input, bytesPattern(size));
        const result = await sluiceOnTerminal(['get', '-d', `@${input}`, '-o', output, `${server.url}/echo`]);
        expect(result.code, describeResult(result)).to.equal(0);
        // /echo streams without content-length: the download shows its count, no percentage.
        expect(result.stdout, describeResult(result)).to.match(
          /\rsent 300\.0 KiB of 300\.0 KiB {2}100% .* {2}\| {2}received 300\.0 KiB {2}[^%]*\r\n$/,
        );
        expect(readFileSync(output).equals(bytesPattern(size))).to.equal(true);
      });

      it('is not drawn when stderr is redirected, though stdout is the terminal', async () => {
        const file = path.join(tmp, 'progress-redirected.bin');
        const errors = path.join(tmp, 'progress-stderr.txt');
        const result = await sluiceOnTerminal(
          ['get', '-o', file, `${server.url}/bytes/${size}`],
          ` 2>${shellQuote(errors)}`,
        );
        expect(result.code, describeResult(result)).to.equal(0);
        expect(readFileSync(errors, 'utf8')).to.equal('');
        expect(result.stdout).to.not.include('received');
        expect(readFileSync(file).equals(bytesPattern(size))).to.equal(true);
      });

      it('is not drawn when stderr is a pipe, for a download or an upload', async () => {
        const input = path.join(tmp, 'progress-upload-pipe.bin');
        writeFileSync(input, bytesPattern(size));
        const result = await sluice([
          'get',
          '-d',
          `@${input}`,
          '-o',
          path.join(tmp, 'piped.bin'),
          `${server.url}/echo`,
        ]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stderr).to.equal('');
      });

      it('is not drawn with -v, nor while the body goes to the terminal on stdout', async () => {
        const input = path.join(tmp, 'progress-small-upload.bin');
        writeFileSync(input, 'ping pong');
        const echoed = await sluiceOnTerminal(['get', '-d', `@${input}`, `${server.url}/echo`]);
        expect(echoed.code, describeResult(echoed)).to.equal(0);
        expect(echoed.stdout).to.equal('ping pong');
        const verbose = await sluiceOnTerminal(['get', '-v', '-o', path.join(tmp, 'verbose.bin'), `${server.url}/`]);
        expect(verbose.code, describeResult(verbose)).to.equal(0);
        expect(verbose.stdout).to.include('< HTTP/1.1 200 OK').and.not.include('received');
      });
    });

    it('prints a summary with -n/-m', async () => {
      const result = await sluice(['get', '-n', '200', '-m', '8', `${server.url}/`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout).to.include('requests: 200 total, 200 succeeded, 0 failed, 8 concurrent');
      expect(result.stdout).to.include('status: 200: 200');
      expect(result.stdout).to.match(/req\/s/);
      expect(result.stdout).to.match(/latency: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms/);
    });
  });

  describe('serve --root', () => {
    let server: Server;
    let root: string;
    before(async () => {
      const outside = path.join(tmp, 'secret.txt');
      writeFileSync(outside, 'secret');
      root = mkdtempSync(path.join(tmp, 'site-'));
      writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
      writeFileSync(path.join(root, 'data.json'), '{"a":1}');
      symlinkSync(outside, path.join(root, 'link.txt'));
      server = await serve(['--root', root]);
    });
    after(async () => {
      await server.stop();
    });

    const cases: { path: string; status: string; contentType?: string; body?: string }[] = [
      { path: '/', status: '200', contentType: 'text/html; charset=utf-8', body: '<h1>home</h1>' },
      { path: '/data.json', status: '200', contentType: 'application/json', body: '{"a":1}' },
      { path: '/missing.txt', status: '404' },
      { path: '/%2e%2e/secret.txt', status: '404' },
      { path: '/..%2fsecret.txt', status: '404' },
      { path: '/link.txt', status: '404' },
    ];
    for (const { path: requestPath, status, contentType, body } of cases) {
      it(`answers ${status} for ${requestPath}`, async () => {
        const result = await sluice(['get', '-v', `${server.url}${requestPath}`]);
        expect(result.code, describeResult(result)).to.equal(0);
        expect(result.stderr, describeResult(result)).to.include(`< HTTP/1.1 ${status}`);
        if (contentType !== undefined) expect(result.stderr).to.include(`< content-type: ${contentType}`);
        if (body !== undefined) expect(result.stdout).to.equal(body);
        expect(result.stdout).to.not.include('secret');
      });
    }
  });

  it('serve --tls uses a development certificate that sluice get -k accepts and plain get refuses', async () => {
    const server = await serve(['--tls']);
    try {
      expect(server.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const insecure = await sluice(['get', '-k', `${server.url}/`]);
      expect(insecure.code, describeResult(insecure)).to.equal(0);
      expect(insecure.stdout).to.match(/^hello from sluice/);
      // The handshake fails before a connection is installed: a connect failure.
      expectOneLineFailure(await sluice(['get', `${server.url}/`]), 1, /cannot connect to .*TLS_/);
      // By default https:// negotiates by ALPN, and serve --tls prefers h2.
      const negotiated = await sluice(['get', '-k', '-v', `${server.url}/`]);
      expect(negotiated.code, describeResult(negotiated)).to.equal(0);
      expect(negotiated.stderr, describeResult(negotiated)).to.include('recv SETTINGS');
      const http1 = await sluice(['get', '-k', '-v', '--http1.1', `${server.url}/bytes/100000`]);
      expect(http1.code, describeResult(http1)).to.equal(0);
      expect(http1.stderr, describeResult(http1)).to.match(/^< HTTP\/1\.1 200/m);
      expect(http1.stdout.length).to.equal(100000);
    } finally {
      const result = await server.stop();
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stderr).to.include('development certificate');
    }
  });

  describe('get --cacert against serve --cert/--key', () => {
    let certPath = '';
    let server: Server | null = null;

    before(async () => {
      requireTools({ openssl: 'openssl' });
      const pair = await makeCertificate(tmp);
      certPath = pair.certPath;
      server = await serve(['--cert', pair.certPath, '--key', pair.keyPath]);
    });
    after(async () => {
      const result = await server?.stop();
      if (result !== undefined) expect(result.code, describeResult(result)).to.equal(0);
    });

    it('trusts the server when its certificate is given with --cacert', async () => {
      const result = await sluice(['get', '--cacert', certPath, `${server!.url}/`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout).to.match(/^hello from sluice/);
    });

    it('refuses the untrusted certificate without it, with one line naming TLS_CERTIFICATE_UNTRUSTED, --cacert and -k', async () => {
      expectOneLineFailure(await sluice(['get', `${server!.url}/`]), 1, /TLS_CERTIFICATE_UNTRUSTED.*--cacert FILE.*-k/);
    });

    it('exits 1 with one line when the --cacert file cannot be read', async () => {
      expectOneLineFailure(
        await sluice(['get', '--cacert', path.join(tmp, 'missing.pem'), `${server!.url}/`]),
        1,
        /cannot read '.*missing\.pem'.*ENOENT/,
      );
    });

    it('mentions --cacert and NODE_EXTRA_CA_CERTS in its help', async () => {
      const result = await sluice(['get', '--help']);
      expect(result.stdout).to.include('--cacert FILE').and.to.include('NODE_EXTRA_CA_CERTS');
    });
  });

  /** Serves with `serveArgs`, runs `sluice get -n requests -m concurrency` against it, stops it: the stop result. */
  async function serveLoadAndStop(serveArgs: string[], requests: number, concurrency: number): Promise<CommandResult> {
    const server = await serve(serveArgs);
    const load = await sluice(['get', '-n', String(requests), '-m', String(concurrency), `${server.url}/`]);
    expect(load.code, describeResult(load)).to.equal(0);
    expect(load.stdout).to.include(`${requests} succeeded, 0 failed`);
    const result = await server.stop();
    expect(result.code, describeResult(result)).to.equal(0);
    return result;
  }

  describe('get -n against a node:http2 server that refuses streams', () => {
    /** Streams each connection answers before its server sends GOAWAY. */
    const STREAMS_PER_CONNECTION = 50;
    let server: http2.Http2Server;
    let url: string;
    /** Connections the server accepted, for the resend test's own count. */
    let sessionCount = 0;
    /** When true every stream is refused (RST_STREAM REFUSED_STREAM) instead of answered. */
    let isRefusingAll = false;
    const sessions = new Set<http2.ServerHttp2Session>();

    before(async () => {
      server = http2.createServer();
      server.on('session', (session) => {
        sessionCount++;
        sessions.add(session);
        session.on('close', () => sessions.delete(session));
        let seen = 0;
        session.on('stream', (stream) => {
          // A refused or reset stream reports an 'error' event: expected here, not a failure.
          stream.on('error', () => undefined);
          if (isRefusingAll) {
            stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
            return;
          }
          seen++;
          stream.respond({ ':status': 200 });
          stream.end('ok\n');
          // Like nginx's keepalive_requests: a graceful GOAWAY whose last stream id is this
          // one, so the client's streams above it were not processed and must be sent again.
          if (seen === STREAMS_PER_CONNECTION) session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
        });
      });
      url = `http://127.0.0.1:${await listenOnLoopback(server)}/`;
    });
    after(async () => {
      // node:http2 keeps a session that sent GOAWAY open after its peer left: end them here.
      for (const session of sessions) session.destroy();
      await closeServer(server);
    });

    it('resends the requests above a GOAWAY on a new connection: 300 of 300 succeed', async () => {
      isRefusingAll = false;
      sessionCount = 0;
      const result = await sluice(['get', '-n', '300', '-m', '20', url]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout, describeResult(result)).to.include(
        'requests: 300 total, 300 succeeded, 0 failed, 20 concurrent',
      );
      expect(result.stdout, describeResult(result)).to.include('status: 200: 300');
      const [, resent, connections] = /(\d+) resent, (\d+) connections?/.exec(result.stdout) ?? [];
      // 300 requests at 50 per connection need at least 6 connections, and a GOAWAY with 20 in flight refuses some.
      expect(Number(connections), describeResult(result)).to.be.at.least(300 / STREAMS_PER_CONNECTION);
      expect(Number(connections), describeResult(result)).to.equal(sessionCount);
      expect(Number(resent), describeResult(result)).to.be.greaterThan(0);
    });

    it('ends with exit 1 and one line when the server refuses every request, not a loop', async () => {
      isRefusingAll = true;
      const result = await sluice(['get', '-n', '1000', '-m', '4', url]);
      expect(result.code, describeResult(result)).to.equal(1);
      expect(result.stdout, describeResult(result)).to.match(/^requests: 1000 total, 0 succeeded, 1000 failed/);
      expect(result.stderr.split('\n'), describeResult(result)).to.have.length(2);
      expect(result.stderr, describeResult(result)).to.match(
        /^sluice get: 1000 of 1000 requests failed \(\d+ not sent\); first: refused 5 times without being processed: .*REFUSED_STREAM/,
      );
    });
  });

  it('serve --workers 2 answers on one port and exits 0 on SIGTERM', async () => {
    const result = await serveLoadAndStop(['--workers', '2'], 100, 4);
    expect(result.stdout.split('\n').filter((line) => line.startsWith('listening on'))).to.have.length(1);
  });

  it('serve --busy-poll 200 answers one-at-a-time requests and exits 0 on SIGTERM', async () => {
    await serveLoadAndStop(['--busy-poll', '200'], 50, 1);
  });

  it('exits 0 on SIGTERM well within the grace period while idle peers stay connected and silent', async function () {
    // Below GRACEFUL_CLOSE_TIMEOUT_MS (10 s): waiting for an idle peer to answer the shutdown
    // PING, or for a lingering socket whose peer never reads, fails this test by its timeout.
    this.timeout(8_000);
    const server = await serve([]);
    const port = Number(new URL(server.url).port);
    const connected = (socket: net.Socket): Promise<void> =>
      new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    // One peer never speaks; one sends the HTTP/2 preface and SETTINGS, then neither reads nor
    // answers anything (as a client whose idle and keep-alive timers are an hour long would).
    const silent = net.connect({ host: '127.0.0.1', port });
    const http2Peer = net.connect({ host: '127.0.0.1', port });
    try {
      await Promise.all([connected(silent), connected(http2Peer)]);
      silent.pause();
      http2Peer.write(
        Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
      );
      http2Peer.pause();
      const result = await server.stop();
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stderr, describeResult(result)).to.equal('');
    } finally {
      silent.destroy();
      http2Peer.destroy();
    }
  });

  describe('serve GET /ws (WebSocket over an HTTP/1.1 upgrade)', () => {
    it('echoes text and binary messages, refuses other paths with 404, and closes with 1001 on SIGTERM', async () => {
      const server = await serve([]);
      const wsUrl = server.url.replace(/^http/, 'ws');
      const refused = new WsClient(`${wsUrl}/elsewhere`);
      refused.on('error', () => undefined);
      const [, response] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage];
      expect(response.statusCode).to.equal(404);
      response.resume();
      const client = new WsClient(`${wsUrl}/ws?room=1`);
      await once(client, 'open');
      const next = (): Promise<[RawData, boolean]> => once(client, 'message') as Promise<[RawData, boolean]>;
      client.send('hello ws');
      const [text, isTextBinary] = await next();
      expect([(text as Buffer).toString(), isTextBinary]).to.deep.equal(['hello ws', false]);
      client.send(Buffer.from([1, 2, 3]));
      const [binary, isBinary] = await next();
      expect([[...(binary as Buffer)], isBinary]).to.deep.equal([[1, 2, 3], true]);
      const closed = once(client, 'close') as Promise<[number, Buffer]>;
      server.child.kill('SIGTERM');
      const [code] = await closed;
      expect(code).to.equal(1001);
      const result = await server.exited;
      expect(result.code, describeResult(result)).to.equal(0);
    });
  });

  describe('serve GET /ws over HTTP/2 (RFC 8441 extended CONNECT)', () => {
    it('announces extended CONNECT and echoes over the stream to node:http2 running ws’s codec', async () => {
      const server = await serve([]);
      const session = http2.connect(server.url);
      session.on('error', () => undefined);
      try {
        await once(session, 'remoteSettings');
        expect(session.remoteSettings.enableConnectProtocol).to.equal(true);
        const stream = session.request({
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':path': '/ws',
          'sec-websocket-version': '13',
        });
        stream.on('error', () => undefined);
        const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
        expect(response[':status']).to.equal(200);
        const peer = new NodeWebSocket(stream, 'client');
        await peer.send('hello h2 ws');
        expect((await peer.nextMessage()).data.toString()).to.equal('hello h2 ws');
        peer.close(1000);
        expect(await peer.streamClosed).to.equal(http2.constants.NGHTTP2_NO_ERROR);
      } finally {
        session.close();
      }
      server.child.kill('SIGTERM');
      const result = await server.exited;
      expect(result.code, describeResult(result)).to.equal(0);
    });
  });

  it('finishes an in-flight stream after SIGTERM (GOAWAY), then exits 0', async () => {
    const server = await serve([]);
    const session = http2.connect(server.url);
    try {
      const request = session.request({ ':method': 'POST', ':path': '/echo' });
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      const responded = new Promise<void>((resolve) => request.on('response', () => resolve()));
      const ended = new Promise<void>((resolve, reject) => {
        request.on('end', resolve);
        request.on('error', reject);
      });
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      request.write('first half, ');
      await responded;
      server.child.kill('SIGTERM');
      await goaway;
      request.end('second half');
      await ended;
      expect(Buffer.concat(chunks).toString()).to.equal('first half, second half');
    } finally {
      session.close();
    }
    const result = await server.exited;
    expect(result.code, describeResult(result)).to.equal(0);
  });
});
