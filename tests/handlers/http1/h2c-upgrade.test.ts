/**
 * The h2c upgrade (RFC 7540 §3.2): which requests switch and which are served as HTTP/1.1 (every
 * refusal reason), then on the testing channel the 101, the server's SETTINGS first, the
 * HTTP2-Settings applied without an ACK, stream 1 half-closed (remote) through onStream, the
 * client preface still expected; and over a real loopback socket against createServer.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { SluiceError, TestingChannel } from '../../../lib/index.js';
import {
  createServer,
  h2cUpgrade,
  Http1ServerConnection,
  type Http1ServerStream,
  type HttpServerListener,
} from '../../../handlers/http1/index.js';
import { Http2ServerConnection, type Http2Headers, type Http2Stream } from '../../../handlers/http2/index.js';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import { PeerReader, PeerWriter, type WrittenFrame } from '../http2/peer.js';

/** An `HTTP2-Settings` value: the payload of `pairs` in base64url without padding. */
function settingsField(...pairs: [number, number][]): string {
  const bytes = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    bytes.writeUInt16BE(id, 6 * i);
    bytes.writeUInt32BE(value, 6 * i + 2);
  });
  return bytes.toString('base64url');
}

const SETTINGS = settingsField([SettingId.MAX_CONCURRENT_STREAMS, 100], [SettingId.INITIAL_WINDOW_SIZE, 65_535]);

function upgradeRequest(fields: string, head = 'GET /up HTTP/1.1', body = ''): string {
  return `${head}\r\nHost: a\r\n${fields}\r\n${body}`;
}

const H2C_FIELDS = `Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`;

interface Received {
  headers: Http2Headers;
  isEndStream: boolean;
  stream: Http2Stream;
}

interface H2cServed {
  test: TestingChannel;
  requests: Http1ServerStream[];
  received: Received[];
}

/** An HTTP/1.1 connection offering h2c; both versions answer 200 with `body`. */
function serveH2c(body = 'ok'): H2cServed {
  const requests: Http1ServerStream[] = [];
  const received: Received[] = [];
  const connection = new Http1ServerConnection({
    onRequest: (stream) => {
      requests.push(stream);
      stream.handler = {
        onEnd: () => {
          stream.respond(200, ['content-length', String(body.length)]);
          stream.write(Buffer.from(body));
          stream.end();
        },
      };
    },
    upgrades: [
      h2cUpgrade(
        () =>
          new Http2ServerConnection({
            onStream: (stream, headers, isEndStream) => {
              received.push({ headers, isEndStream, stream });
              stream.sendHeaders([':status', '200']);
              stream.write(Buffer.from(body));
              stream.end();
            },
          }),
      ),
    ],
  });
  const test = new TestingChannel([connection], { autoCompleteWrites: true });
  return { test, requests, received };
}

/** The 101's head and the HTTP/2 frames after it, from what the connection wrote. */
function splitSwitch(written: Buffer, reader: PeerReader): { head: string; frames: WrittenFrame[] } {
  const end = written.indexOf('\r\n\r\n');
  expect(end).to.be.greaterThan(0);
  return { head: written.subarray(0, end + 4).toString('latin1'), frames: reader.read([written.subarray(end + 4)]) };
}

describe('http1 h2c upgrade (RFC 7540 §3.2)', () => {
  describe('requests served as HTTP/1.1 instead', () => {
    const refusals: [string, string][] = [
      ['Upgrade names another protocol', upgradeRequest(H2C_FIELDS.replace('Upgrade: h2c', 'Upgrade: h2'))],
      [
        'Connection lacks HTTP2-Settings',
        upgradeRequest(`Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`),
      ],
      [
        'Connection lacks Upgrade',
        upgradeRequest(`Connection: HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`),
      ],
      ['there is no HTTP2-Settings', upgradeRequest('Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n')],
      ['HTTP2-Settings appears twice', upgradeRequest(`${H2C_FIELDS}HTTP2-Settings: ${SETTINGS}\r\n`)],
      ['HTTP2-Settings is empty', upgradeRequest(H2C_FIELDS.replace(SETTINGS, ''))],
      [
        'HTTP2-Settings has padding',
        upgradeRequest(H2C_FIELDS.replace(SETTINGS, `${settingsField([3, 1], [4, 1]).slice(0, -2)}==`)),
      ],
      ['HTTP2-Settings is base64, not base64url', upgradeRequest(H2C_FIELDS.replace(SETTINGS, 'AAP+AAAA'))],
      ['HTTP2-Settings has bits past its last byte', upgradeRequest(H2C_FIELDS.replace(SETTINGS, 'AAB'))],
      ['HTTP2-Settings is not a multiple of 6 bytes', upgradeRequest(H2C_FIELDS.replace(SETTINGS, 'AAMAAA'))],
      [
        'HTTP2-Settings has ENABLE_PUSH 2',
        upgradeRequest(H2C_FIELDS.replace(SETTINGS, settingsField([SettingId.ENABLE_PUSH, 2]))),
      ],
      [
        'HTTP2-Settings has INITIAL_WINDOW_SIZE 2^31',
        upgradeRequest(H2C_FIELDS.replace(SETTINGS, settingsField([SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]))),
      ],
      [
        'HTTP2-Settings has MAX_FRAME_SIZE 16383',
        upgradeRequest(H2C_FIELDS.replace(SETTINGS, settingsField([SettingId.MAX_FRAME_SIZE, 16_383]))),
      ],
      ['the request has a Content-Length body', upgradeRequest(`${H2C_FIELDS}Content-Length: 3\r\n`, undefined, 'abc')],
      [
        'the request has a chunked body',
        upgradeRequest(`${H2C_FIELDS}Transfer-Encoding: chunked\r\n`, undefined, '3\r\nabc\r\n0\r\n\r\n'),
      ],
      ['the request is HTTP/1.0', upgradeRequest(H2C_FIELDS, 'GET /up HTTP/1.0')],
      ['the target has no HTTP/2 form', upgradeRequest(H2C_FIELDS, 'GET foo:bar HTTP/1.1')],
    ];
    for (const [what, request] of refusals) {
      it(`when ${what}`, () => {
        const { test, requests, received } = serveH2c();
        test.pushRead(request);
        expect(requests).to.have.length(1);
        expect(received).to.have.length(0);
        expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
        // An HTTP/1.0 exchange closes the connection after it; any other keeps HTTP/1.1.
        if (!test.isShutDown) expect(test.socketSlot.adjacentRight?.handler).to.be.instanceOf(Http1ServerConnection);
        test.shutdown();
        expect(test.messagePool.outstanding).to.equal(0);
      });
    }
  });

  describe('the switch', () => {
    it('answers 101 with Connection: Upgrade and Upgrade: h2c, then HTTP/2 with SETTINGS first and the response on stream 1', () => {
      const { test, received } = serveH2c('hello');
      test.pushRead(upgradeRequest(`${H2C_FIELDS}Accept: */*\r\n`));
      const { head, frames } = splitSwitch(test.takeWritten(), new PeerReader('server'));
      expect(head).to.equal('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      expect(test.socketSlot.adjacentRight?.handler).to.be.instanceOf(Http2ServerConnection);
      // RFC 7540 §3.5: the server connection preface, a SETTINGS frame, is its first frame.
      expect(frames[0].type).to.equal(FrameType.SETTINGS);
      expect(frames[0].ack).to.equal(false);
      const headers = frames.find((frame) => frame.type === FrameType.HEADERS)!;
      expect(headers.streamId).to.equal(1);
      expect(headers.headers).to.include.members([':status', '200']);
      const data = frames.filter((frame) => frame.type === FrameType.DATA && frame.streamId === 1);
      expect(Buffer.concat(data.map((frame) => frame.data!)).toString()).to.equal('hello');
      expect(data[data.length - 1].endStream).to.equal(true);
      expect(received).to.have.length(1);
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('opens stream 1 half-closed (remote) with the request and no connection-specific fields', () => {
      const { test, received } = serveH2c();
      test.pushRead(
        upgradeRequest(
          `${H2C_FIELDS}Keep-Alive: 5\r\nTE: trailers\r\nX-Custom: yes\r\nCookie: a=1\r\nCookie: b=2\r\n`,
          'GET /up?q=1 HTTP/1.1',
        ),
      );
      expect(received).to.have.length(1);
      expect(received[0].isEndStream).to.equal(true);
      expect(received[0].stream.id).to.equal(1);
      expect(received[0].headers).to.deep.equal([
        ':method',
        'GET',
        ':scheme',
        'http',
        ':authority',
        'a',
        ':path',
        '/up?q=1',
        'te',
        'trailers',
        'x-custom',
        'yes',
        'cookie',
        'a=1',
        'cookie',
        'b=2',
      ]);
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('takes :authority and :path from an absolute-form target (RFC 9112 §3.2.2)', () => {
      const { test, received } = serveH2c();
      test.pushRead(upgradeRequest(H2C_FIELDS, 'GET http://example.test:8080/p?x HTTP/1.1'));
      expect(received[0].headers.slice(0, 8)).to.deep.equal([
        ':method',
        'GET',
        ':scheme',
        'http',
        ':authority',
        'example.test:8080',
        ':path',
        '/p?x',
      ]);
      test.shutdown();
      test.flushWrites();
    });

    it('applies HTTP2-Settings as the client SETTINGS without acknowledging them (RFC 7540 §3.2.1)', () => {
      const { test } = serveH2c('0123456789ab');
      const reader = new PeerReader('server');
      // A 5-byte stream window: the 12-byte answer stops after 5 until a WINDOW_UPDATE.
      const field = settingsField([SettingId.INITIAL_WINDOW_SIZE, 5]);
      test.pushRead(
        upgradeRequest(`Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${field}\r\n`),
      );
      const { frames } = splitSwitch(test.takeWritten(), reader);
      expect(frames.filter((frame) => frame.type === FrameType.SETTINGS && frame.ack)).to.have.length(0);
      const data = frames.filter((frame) => frame.type === FrameType.DATA);
      expect(Buffer.concat(data.map((frame) => frame.data!)).toString()).to.equal('01234');
      const connection = test.socketSlot.adjacentRight?.handler as Http2ServerConnection;
      expect(connection.peerSettings.initialWindowSize).to.equal(5);
      // The client preface that follows the 101: its SETTINGS, and only those, are acknowledged.
      const peer = new PeerWriter();
      test.pushRead(Buffer.concat([peer.preface(), peer.settings(), peer.windowUpdate(1, 100)]));
      const after = reader.read(test.takeWrittenMessages());
      expect(after.filter((frame) => frame.type === FrameType.SETTINGS && frame.ack)).to.have.length(1);
      expect(
        Buffer.concat(after.filter((frame) => frame.type === FrameType.DATA).map((f) => f.data!)).toString(),
      ).to.equal('56789ab');
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('decodes the client preface sent in the same segment as the upgrade request', () => {
      const { test, received } = serveH2c();
      const peer = new PeerWriter();
      const reader = new PeerReader('server');
      test.pushRead(
        Buffer.concat([
          Buffer.from(upgradeRequest(H2C_FIELDS)),
          peer.preface(),
          peer.settings(),
          peer.ping(1, 2),
          peer.headers(3, [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '/second'], {
            endStream: true,
          }),
        ]),
      );
      const { frames } = splitSwitch(test.takeWritten(), reader);
      expect(frames.filter((frame) => frame.type === FrameType.GOAWAY)).to.have.length(0);
      expect(frames.filter((frame) => frame.type === FrameType.PING && frame.ack)).to.have.length(1);
      expect(received.map((request) => request.stream.id)).to.deep.equal([1, 3]);
      expect(test.isShutDown).to.equal(false);
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('still expects the client connection magic: anything else is GOAWAY(PROTOCOL_ERROR) (RFC 7540 §3.5)', () => {
      const { test } = serveH2c();
      const reader = new PeerReader('server');
      test.pushRead(upgradeRequest(H2C_FIELDS));
      splitSwitch(test.takeWritten(), reader);
      test.pushRead(new PeerWriter().settings());
      const goaway = reader.read(test.takeWrittenMessages()).find((frame) => frame.type === FrameType.GOAWAY);
      expect(goaway?.errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
      test.flushWrites();
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });

  describe('Http2ServerConnection.acceptUpgrade', () => {
    const upgrade = {
      headers: [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '/'],
      settingsPayload: new Uint8Array(0),
    };

    it('refuses a connection not installed yet (HTTP2_INVALID_ARGUMENT)', () => {
      expect(() => new Http2ServerConnection().acceptUpgrade(upgrade))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_ARGUMENT');
    });

    it('refuses a payload that is not a valid SETTINGS payload, changing nothing (HTTP2_INVALID_ARGUMENT)', () => {
      const connection = new Http2ServerConnection();
      const test = new TestingChannel([connection], { autoCompleteWrites: true });
      expect(() => connection.acceptUpgrade({ ...upgrade, settingsPayload: new Uint8Array(5) }))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_ARGUMENT');
      expect(connection.activeStreamCount).to.equal(0);
      connection.acceptUpgrade(upgrade);
      expect(connection.activeStreamCount).to.equal(1);
      expect(() => connection.acceptUpgrade(upgrade))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_ARGUMENT');
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });

  describe('over a loopback socket with createServer', () => {
    let listener: HttpServerListener | null = null;

    afterEach(async () => {
      await listener?.close();
      listener = null;
    });

    /** Sends `request` on a raw socket; resolves with everything the server wrote until it closed or `until` matched. */
    function exchange(port: number, request: Buffer, until: (bytes: Buffer) => boolean): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
        const chunks: Buffer[] = [];
        const finish = (): void => {
          socket.destroy();
          resolve(Buffer.concat(chunks));
        };
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (until(Buffer.concat(chunks))) finish();
        });
        socket.on('end', finish);
        socket.on('error', reject);
      });
    }

    /** Whether `bytes` (after a 101 head) hold the end of stream 1. */
    function hasStreamOneEnded(bytes: Buffer): boolean {
      const end = bytes.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const reader = new PeerReader('server');
      let frames: WrittenFrame[];
      try {
        frames = reader.read([bytes.subarray(end + 4)]);
      } catch {
        return false;
      }
      return frames.some((frame) => frame.streamId === 1 && frame.endStream);
    }

    it('answers an h2c upgrade with 101 and the response on stream 1 over HTTP/2', async () => {
      const server = createServer({ h2c: true }, async (stream) => {
        stream.respond(200, { 'content-type': 'text/plain' });
        await stream.end(`${stream.protocol} ${stream.method} ${stream.path} ${stream.authority}`);
      });
      listener = await server.listen();
      const peer = new PeerWriter();
      const written = await exchange(
        listener.port,
        Buffer.concat([Buffer.from(upgradeRequest(H2C_FIELDS)), peer.preface(), peer.settings()]),
        hasStreamOneEnded,
      );
      const { head, frames } = splitSwitch(written, new PeerReader('server'));
      expect(head).to.match(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(frames[0].type).to.equal(FrameType.SETTINGS);
      const response = frames.find((frame) => frame.type === FrameType.HEADERS && frame.streamId === 1);
      expect(response?.headers?.slice(0, 2)).to.deep.equal([':status', '200']);
      const body = Buffer.concat(frames.filter((frame) => frame.type === FrameType.DATA).map((frame) => frame.data!));
      expect(body.toString()).to.equal(`h2 GET /up a`);
    });

    it('serves the upgrade request as HTTP/1.1 under TLS even with h2c on (h2c is cleartext only)', async () => {
      const fixtures = new URL('../../../../tests/fixtures/tls/', import.meta.url);
      const [cert, key, ca] = ['server-cert.pem', 'server-key.pem', 'ca-cert.pem'].map((name) =>
        readFileSync(new URL(name, fixtures)),
      );
      const server = createServer({ h2c: true, tls: { cert, key } }, async (stream) => {
        stream.respond(200, { 'content-length': '8' });
        await stream.end(stream.protocol);
      });
      listener = await server.listen();
      const socket = tls.connect({
        port: listener.port,
        host: '127.0.0.1',
        servername: 'localhost',
        ca,
        ALPNProtocols: ['http/1.1'],
      });
      await once(socket, 'secureConnect');
      socket.write(upgradeRequest(H2C_FIELDS));
      let received = '';
      for (let round = 0; round < 100 && !received.endsWith('http/1.1'); round++) {
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        received += chunk.toString('latin1');
      }
      socket.destroy();
      expect(received).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*http\/1\.1$/);
    });

    it('serves the upgrade request as HTTP/1.1 when h2c is off (the default)', async () => {
      const server = createServer(async (stream) => {
        stream.respond(200, { 'content-length': '8' });
        await stream.end(stream.protocol);
      });
      listener = await server.listen();
      const written = await exchange(listener.port, Buffer.from(upgradeRequest(H2C_FIELDS)), (bytes) =>
        bytes.toString().endsWith('http/1.1'),
      );
      expect(written.toString()).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*http\/1\.1$/);
    });
  });
});
