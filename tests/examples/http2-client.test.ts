/**
 * The HTTP/2 client example, run as a user runs it (`node dist/examples/http2-client/main.js
 * URL [body]`) against a sluice server started by the test: what it prints (status and headers
 * on stderr, body on stdout) and its exit codes.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Http2ServerListener, type ServerStream } from '../../handlers/index.js';
import { createServer } from '../../handlers/http2/index.js';
import { refusingLoopbackPort } from '../support/loopback.js';

const clientPath = fileURLToPath(new URL('../../examples/http2-client/main.js', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the example with `args` and resolves once it exited (asynchronously: the server is in this process). */
function runClient(...args: string[]): Promise<Finished> {
  const child = spawn(process.execPath, [clientPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function handle(stream: ServerStream): Promise<void> {
  if (stream.method === 'POST' && stream.path === '/echo') {
    stream.respond(200, { 'content-type': 'text/plain; charset=utf-8', 'x-echo': 'yes' });
    await stream.send(stream.body);
  } else if (stream.method === 'GET' && stream.path.startsWith('/hello')) {
    stream.respond(200, { 'content-type': 'text/plain; charset=utf-8' });
    await stream.end(`hello ${stream.path}\n`);
  } else {
    stream.respond(404, { 'content-type': 'text/plain; charset=utf-8' });
    await stream.end('not found\n');
  }
}

describe('examples/http2-client', function () {
  this.timeout(30_000);
  let listener: Http2ServerListener;
  let origin: string;

  before(async () => {
    listener = await createServer({}, handle).listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${listener.port}`;
  });

  after(async () => {
    await listener.close();
  });

  it('GETs the URL (path and query), prints the status and headers to stderr and the body to stdout, and exits 0', async () => {
    const result = await runClient(`${origin}/hello?name=sluice`);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal('hello /hello?name=sluice\n');
    // The server sends date (RFC 9110 §6.6.1); the example prints every field it gets.
    expect(result.stderr).to.match(
      /^HTTP\/2 200\ncontent-type: text\/plain; charset=utf-8\ndate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\n$/,
    );
  });

  it('POSTs its second argument as the body', async () => {
    const result = await runClient(`${origin}/echo`, 'posted body');
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal('posted body');
    expect(result.stderr).to.match(/^HTTP\/2 200\n/);
    expect(result.stderr).to.include('x-echo: yes\n');
  });

  it('prints a non-2xx response and exits 1', async () => {
    const result = await runClient(`${origin}/missing`);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal('not found\n');
    expect(result.stderr).to.match(/^HTTP\/2 404\n/);
  });

  it('exits 1 with IO_CONNECTION_REFUSED when nothing listens at the URL', async () => {
    const result = await runClient(`http://127.0.0.1:${await refusingLoopbackPort()}/`);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.match(/^http2 client: IO_CONNECTION_REFUSED: /);
  });

  const usageCases: ReadonlyArray<{
    readonly name: string;
    readonly args: readonly string[];
    readonly message: RegExp;
  }> = [
    { name: 'no URL', args: [], message: /^usage: / },
    {
      name: 'a URL that does not parse',
      args: ['not a url'],
      message: /^http2 client: not a URL: 'not a url'\nusage: /,
    },
    {
      name: 'a scheme other than http: or https:',
      args: ['ftp://127.0.0.1/'],
      message: /^http2 client: only http: and https: URLs are supported, got 'ftp:'\nusage: /,
    },
  ];
  for (const usageCase of usageCases) {
    it(`exits 2 with the usage for ${usageCase.name}`, async () => {
      const result = await runClient(...usageCase.args);
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.match(usageCase.message);
    });
  }
});
