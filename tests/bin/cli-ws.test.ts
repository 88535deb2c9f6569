/**
 * `sluice ws`, run as a user runs it (`node bin/sluice ws …`, stdin piped) against `ws` servers
 * on loopback: stdin lines go out as text messages, messages come back on stdout (binary in
 * base64), stdin's end closes with 1000 and exits 0; a server's close, an abrupt end, a refused
 * connection, a refused upgrade and TLS verification exit 1 with the error code on stderr; a bad
 * command line exits 2.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { finished, show, SLUICE, type ToolResult } from '../support/processes.js';
import { refusingLoopbackPort } from '../support/loopback.js';
import { until } from '../support/waiting.js';
import { pem } from '../handlers/tls/tls-test-kit.js';
import { wsEchoServer, type WsEchoServer } from '../handlers/websocket/ws-echo-server.js';
import { echo } from '../handlers/websocket/messages.js';
import { createServer } from '../../handlers/http1/index.js';

/** No run may take longer than this; a hung command fails its test instead of the run. */
const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs `sluice ws …args`; `stdin` is written and ended, or with null left open (the server is to
 * end the connection).
 */
function sluiceWs(args: string[], stdin: string | null): Promise<ToolResult> {
  const child = spawn(process.execPath, [SLUICE, 'ws', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const result = finished(child, COMMAND_TIMEOUT_MS);
  child.stdin.on('error', () => undefined);
  if (stdin !== null) child.stdin.end(stdin);
  return result;
}

describe('sluice ws', function () {
  this.timeout(60_000);
  let peer: WsEchoServer;
  before(async () => {
    peer = await wsEchoServer({ perMessageDeflate: true });
  });
  after(() => peer.close());
  const url = (): string => `ws://127.0.0.1:${peer.port}/cli`;

  it('prints its help and exits 0', async () => {
    const result = await sluiceWs(['--help'], '');
    expect(result.code, show('ws --help', result)).to.equal(0);
    expect(result.stdout.toString()).to.match(/^Usage: sluice ws URL/);
  });

  it('sends each stdin line as a text message, prints each echo, closes with 1000 and exits 0', async () => {
    const count = peer.peers.length;
    const result = await sluiceWs([url()], 'one\ntwo\n\nκόσμε\n');
    expect(result.code, show('ws', result)).to.equal(0);
    expect(result.stdout.toString()).to.equal('one\ntwo\n\nκόσμε\n');
    expect(result.stderr).to.equal('');
    const server = peer.peers[count];
    expect(server.extensions).to.equal('permessage-deflate');
    await until(() => server.readyState === server.CLOSED, 'the server saw the close');
  });

  it('offers --protocol subprotocols and -H headers, and no compression with --no-compression', async () => {
    const count = peer.requests.length;
    const result = await sluiceWs(
      [
        url(),
        '--protocol',
        'chat.v1',
        '--protocol',
        'chat.v2',
        '-H',
        'Origin: https://cli.example',
        '--no-compression',
      ],
      'hi\n',
    );
    expect(result.code, show('ws', result)).to.equal(0);
    const headers = peer.requests[count].headers;
    expect(headers['sec-websocket-protocol']).to.equal('chat.v1, chat.v2');
    expect(headers.origin).to.equal('https://cli.example');
    expect(headers['sec-websocket-extensions']).to.equal(undefined);
  });

  it('prints a binary message in base64', async () => {
    const greeter = await wsEchoServer();
    greeter.server.on('connection', (server) => server.send(Buffer.from([0, 1, 2, 0xfe, 0xff])));
    try {
      const result = await sluiceWs([`ws://127.0.0.1:${greeter.port}/`], 'after\n');
      expect(result.code, show('ws', result)).to.equal(0);
      expect(result.stdout.toString()).to.equal(`${Buffer.from([0, 1, 2, 0xfe, 0xff]).toString('base64')}\nafter\n`);
    } finally {
      await greeter.close();
    }
  });

  it('exits 1 with the close code and reason when the server closes with another code', async () => {
    const count = peer.peers.length;
    const running = sluiceWs([url()], null);
    await until(() => peer.peers.length > count, 'the command connected', 20_000);
    peer.peers[count].close(4001, 'server says bye');
    const result = await running;
    expect(result.code, show('ws', result)).to.equal(1);
    expect(result.stderr).to.equal('sluice ws: the connection closed with code 4001: server says bye\n');
  });

  it('exits 0 when the server closes with 1000', async () => {
    const count = peer.peers.length;
    const running = sluiceWs([url()], null);
    await until(() => peer.peers.length > count, 'the command connected', 20_000);
    peer.peers[count].close(1000);
    const result = await running;
    expect(result.code, show('ws', result)).to.equal(0);
  });

  it('exits 1 when the server drops the connection (1006)', async () => {
    const count = peer.peers.length;
    const running = sluiceWs([url()], null);
    await until(() => peer.peers.length > count, 'the command connected', 20_000);
    peer.peers[count].terminate();
    const result = await running;
    expect(result.code, show('ws', result)).to.equal(1);
    expect(result.stderr).to.match(/^sluice ws: the connection ended abnormally \(1006\): .*IO_/);
  });

  it('exits 1 with IO_CONNECTION_REFUSED when nothing listens', async () => {
    const port = await refusingLoopbackPort();
    const result = await sluiceWs([`ws://127.0.0.1:${port}/`], '');
    expect(result.code, show('ws', result)).to.equal(1);
    expect(result.stderr).to.match(/^sluice ws: cannot connect to 127\.0\.0\.1:\d+: .*\(IO_CONNECTION_REFUSED\)\n$/);
  });

  it('exits 1 with WEBSOCKET_UNEXPECTED_STATUS when the server refuses the upgrade', async () => {
    const refusing = await wsEchoServer({ verifyClient: (_info, callback) => callback(false, 403) });
    try {
      const result = await sluiceWs([`ws://127.0.0.1:${refusing.port}/`], '');
      expect(result.code, show('ws', result)).to.equal(1);
      expect(result.stderr).to.match(/the server answered 403 \(WEBSOCKET_UNEXPECTED_STATUS\)/);
    } finally {
      await refusing.close();
    }
  });

  const USAGE: readonly [string, string[], RegExp][] = [
    ['a missing URL', [], /^sluice ws: missing URL/],
    ['an http:// URL', ['http://127.0.0.1:1/'], /unsupported URL scheme 'http' \(ws or wss\)/],
    ['a URL with a fragment', ['ws://127.0.0.1:1/#x'], /a WebSocket URL has no fragment/],
    ['a malformed header', ['ws://127.0.0.1:1/', '-H', 'no colon'], /invalid header 'no colon'/],
    ['a header the handshake writes', ['ws://127.0.0.1:1/', '-H', 'Upgrade: h2c'], /WEBSOCKET_INVALID_ARGUMENT/],
    ['a subprotocol that is not a token', ['ws://127.0.0.1:1/', '--protocol', 'a b'], /WEBSOCKET_INVALID_ARGUMENT/],
    ['an unknown flag', ['ws://127.0.0.1:1/', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [name, args, pattern] of USAGE) {
    it(`exits 2 on ${name}`, async () => {
      const result = await sluiceWs(args, '');
      expect(result.code, show('ws', result)).to.equal(2);
      expect(result.stderr).to.match(pattern);
    });
  }

  describe('wss://', () => {
    let httpsServer: https.Server;
    let securePeer: WsEchoServer;
    let directory: string;
    let caFile: string;
    before(async () => {
      directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-ws-cli-'));
      caFile = path.join(directory, 'ca.pem');
      writeFileSync(caFile, pem.ca);
      httpsServer = https.createServer({ cert: pem.serverCert, key: pem.serverKey });
      httpsServer.listen(0, '127.0.0.1');
      await once(httpsServer, 'listening');
      securePeer = await wsEchoServer({ server: httpsServer });
    });
    after(async () => {
      await securePeer.close();
      httpsServer.closeAllConnections();
      await new Promise((resolve) => httpsServer.close(resolve));
      rmSync(directory, { recursive: true, force: true });
    });
    const secureUrl = (): string => `wss://localhost:${securePeer.port}/`;

    it('echoes with --cacert', async () => {
      const result = await sluiceWs([secureUrl(), '--cacert', caFile], 'secure\n');
      expect(result.code, show('ws', result)).to.equal(0);
      expect(result.stdout.toString()).to.equal('secure\n');
    });

    it('refuses an untrusted certificate with TLS_CERTIFICATE_UNTRUSTED and the hint', async () => {
      const result = await sluiceWs([secureUrl()], 'x\n');
      expect(result.code, show('ws', result)).to.equal(1);
      expect(result.stderr).to.match(/TLS_CERTIFICATE_UNTRUSTED.*--cacert FILE, or skip verification with -k/);
    });

    it('connects without verification with -k', async () => {
      const result = await sluiceWs([secureUrl(), '-k'], 'insecure\n');
      expect(result.code, show('ws', result)).to.equal(0);
      expect(result.stdout.toString()).to.equal('insecure\n');
    });

    it('with --http2 opens the WebSocket over HTTP/2 when the server allows it (RFC 8441)', async () => {
      const versions: string[] = [];
      const listener = await createServer(
        {
          tls: { cert: pem.serverCert, key: pem.serverKey },
          webSocket: {
            acceptWebSocket: (request) => {
              versions.push(request.httpVersion);
              return { accept: true };
            },
            onWebSocket: echo,
          },
        },
        () => undefined,
      ).listen();
      try {
        const url = `wss://localhost:${listener.port}/`;
        const result = await sluiceWs([url, '--cacert', caFile, '--http2'], 'over h2\n');
        expect(result.code, show('ws --http2', result)).to.equal(0);
        expect(result.stdout.toString()).to.equal('over h2\n');
        const plain = await sluiceWs([url, '--cacert', caFile], 'over http/1.1\n');
        expect(plain.code, show('ws', plain)).to.equal(0);
        expect(versions).to.deep.equal(['2', '1.1']);
      } finally {
        await listener.close();
      }
    });
  });
});
