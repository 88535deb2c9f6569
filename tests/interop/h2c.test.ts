import { expect } from 'chai';
import { createServer, type HttpServerListener } from '../../handlers/http1/index.js';
import {
  expectSuccess,
  requireTools,
  run,
  show,
  startSluiceServe,
  stopServer,
  tool,
  type ServerProcess,
} from '../support/processes.js';

/*
 * h2c upgrade interop (RFC 7540 §3.2): `curl --http2` against an `http://` URL sends an HTTP/1.1
 * request with `Upgrade: h2c` and continues over HTTP/2 on a 101 — against createServer with
 * `h2c: true` and against `sluice serve`. A request with a body is served over HTTP/1.1 (sluice
 * switches only for requests without one). `npm run test:interop`; needs curl (Debian: curl).
 */

/** curl's `-w` line: the version it spoke and the status. */
const WRITE_OUT = '\nhttp_version=%{http_version} status=%{http_code}';

describe('interop: h2c upgrade with curl --http2', function () {
  this.timeout(120_000);

  before(() => requireTools({ curl: 'curl' }));

  describe('createServer({ h2c: true })', () => {
    let listener: HttpServerListener;

    before(async () => {
      const server = createServer({ h2c: true }, async (stream) => {
        const body = await stream.body.text();
        stream.respond(200, { 'content-type': 'text/plain' });
        await stream.end(`${stream.protocol} ${stream.method} ${stream.path} [${body}]`);
      });
      listener = await server.listen();
    });
    after(async () => listener?.close());

    it('answers a GET over HTTP/2 after the upgrade', async () => {
      const result = await run(tool('curl'), [
        '-sSv',
        '--http2',
        '-w',
        WRITE_OUT,
        `http://127.0.0.1:${listener.port}/upgrade?x=1`,
      ]);
      expectSuccess('curl', result);
      const stdout = result.stdout.toString();
      expect(stdout, show('curl', result)).to.equal('h2 GET /upgrade?x=1 []\nhttp_version=2 status=200');
      const trace = result.stderr.toString();
      expect(trace, show('curl', result)).to.match(/< HTTP\/1\.1 101 Switching Protocols/);
      expect(trace, show('curl', result)).to.match(/< HTTP\/2 200/);
    });

    it('answers a POST with a body over HTTP/1.1 (no upgrade), body intact', async () => {
      const result = await run(tool('curl'), [
        '-sS',
        '--http2',
        '-d',
        'the body',
        '-w',
        WRITE_OUT,
        `http://127.0.0.1:${listener.port}/post`,
      ]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.equal(
        'http/1.1 POST /post [the body]\nhttp_version=1.1 status=200',
      );
    });

    it('serves several requests on the upgraded connection (curl reuses it over HTTP/2)', async () => {
      const url = `http://127.0.0.1:${listener.port}`;
      const result = await run(tool('curl'), ['-sS', '--http2', '-w', WRITE_OUT, `${url}/a`, `${url}/b`]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.equal(
        'h2 GET /a []\nhttp_version=2 status=200h2 GET /b []\nhttp_version=2 status=200',
      );
    });
  });

  describe('sluice serve', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startSluiceServe([]);
    });
    after(async () => {
      if (server !== undefined) await stopServer(server, 'sluice serve');
    });

    it('curl --http2 upgrades GET / to HTTP/2', async () => {
      const result = await run(tool('curl'), ['-sS', '--http2', '-w', WRITE_OUT, `${server.url}/`]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.match(
        /^hello from sluice[^]*http_version=2 status=200$/,
      );
    });

    it('curl --http2 -d to /echo is answered over HTTP/1.1 with the body', async () => {
      const result = await run(tool('curl'), [
        '-sS',
        '--http2',
        '-d',
        'echo me',
        '-w',
        WRITE_OUT,
        `${server.url}/echo`,
      ]);
      expectSuccess('curl', result);
      expect(result.stdout.toString(), show('curl', result)).to.equal('echo me\nhttp_version=1.1 status=200');
    });
  });
});
