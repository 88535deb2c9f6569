/**
 * The HTTP/2 example programs, run as a user runs them: the server (`npm start`) on a free
 * port, requested with `node:http2` and with the client example, then stopped with SIGTERM.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { until } from '../support/waiting.js';

const serverPath = fileURLToPath(new URL('../../examples/http2-server/main.js', import.meta.url));
const clientPath = fileURLToPath(new URL('../../examples/http2-client/main.js', import.meta.url));

interface Run {
  stdout(): string;
  stderr(): string;
  readonly exit: Promise<[number | null, NodeJS.Signals | null]>;
}

function outcome(child: ChildProcess): Run {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('latin1').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, signal) => resolve([code, signal])),
  );
  return { stdout: () => stdout, stderr: () => stderr, exit };
}

function get(
  session: http2.ClientHttp2Session,
  path: string,
  body?: string,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ':method': body === undefined ? 'GET' : 'POST', ':path': path },
      { endStream: body === undefined },
    );
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    if (body !== undefined) stream.end(body);
  });
}

describe('examples/http2-server', function () {
  this.timeout(30_000);

  it('serves its routes over h2c to node:http2 and the client example, and exits 0 on SIGTERM', async () => {
    const server = spawn(process.execPath, [serverPath], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serverRun = outcome(server);
    try {
      await until(
        () => serverRun.stdout().includes('\n') || server.exitCode !== null,
        'the server to print its address',
      );
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)\n$/.exec(serverRun.stdout());
      expect(match, `server printed ${JSON.stringify(serverRun.stdout())} ${serverRun.stderr()}`).to.not.equal(null);
      const url = `http://127.0.0.1:${match![1]}`;

      const session = http2.connect(url);
      session.on('error', () => undefined);
      try {
        const root = await get(session, '/');
        expect([root.status, root.body.toString()]).to.deep.equal([200, 'hello from sluice over HTTP/2\n']);
        const bytes = await get(session, '/bytes/100000');
        expect(bytes.status).to.equal(200);
        expect(bytes.body.length).to.equal(100_000);
        expect([bytes.body[0], bytes.body[250], bytes.body[251], bytes.body[99_999]]).to.deep.equal([
          0,
          250,
          0,
          99_999 % 251,
        ]);
        const echo = await get(session, '/echo', 'echo me');
        expect([echo.status, echo.body.toString()]).to.deep.equal([200, 'echo me']);
        const headers = await get(session, '/headers');
        expect((JSON.parse(headers.body.toString()) as Record<string, unknown>)[':path']).to.equal('/headers');
        expect((await get(session, '/missing')).status).to.equal(404);
      } finally {
        session.close();
      }

      const client = spawn(process.execPath, [clientPath, `${url}/bytes/1000`], { stdio: ['ignore', 'pipe', 'pipe'] });
      const clientRun = outcome(client);
      const [clientCode] = await clientRun.exit;
      expect(clientCode).to.equal(0);
      expect(clientRun.stderr()).to.match(/^HTTP\/2 200\n/);
      expect(clientRun.stdout().length).to.equal(1000);

      server.kill('SIGTERM');
      const [serverCode, serverSignal] = await serverRun.exit;
      expect([serverCode, serverSignal]).to.deep.equal([0, null]);
      expect(serverRun.stdout()).to.equal(`listening on ${url}\n`);
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
  });
});
