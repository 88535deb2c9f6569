/**
 * The client's opening handshake handler (RFC 6455 §4.1) on a TestingChannel, in virtual time:
 * the request it writes, what it does with every kind of response (whole, split at every byte, a
 * frame in the same read as the 101, interim 1xx, refusals, a 101 that breaks a rule, garbage),
 * the timeout, a peer that closes early, and that it leaves nothing behind.
 */
import { expect } from 'chai';
import { IoErrors, SluiceError, TestingChannel } from '../../../lib/index.js';
import { WebSocketClientHandshake } from '../../../handlers/websocket/api/client-handshake.js';
import type { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import { WebSocketHandshakeError } from '../../../handlers/websocket/errors.js';
import { computeAcceptKey } from '../../../handlers/websocket/wire/handshake.js';
import type { PerMessageDeflateOptions } from '../../../handlers/websocket/wire/deflate-negotiation.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = computeAcceptKey(KEY);

interface Run {
  test: TestingChannel;
  opened: WebSocket[];
  failed: SluiceError[];
}

function start(
  options: { timeoutMs?: number; protocols?: string[]; perMessageDeflate?: PerMessageDeflateOptions | null } = {},
): Run {
  const opened: WebSocket[] = [];
  const failed: SluiceError[] = [];
  const deflate = options.perMessageDeflate ?? null;
  const handshake = new WebSocketClientHandshake({
    target: '/chat?room=1',
    fields: ['Host', 'example.test', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', KEY],
    offer: { key: KEY, protocols: options.protocols ?? [], extensions: deflate === null ? [] : ['permessage-deflate'] },
    perMessageDeflate: deflate,
    timeoutMs: options.timeoutMs ?? 0,
    connection: {},
    onOpen: (socket) => opened.push(socket),
    onFail: (error) => failed.push(error),
  });
  return { test: new TestingChannel(handshake, { autoCompleteWrites: true }), opened, failed };
}

function response(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const SWITCHING = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
const ACCEPTED = response(...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`);

/** An unmasked server text frame. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

/** The first message the WebSocket delivers, if one is buffered. */
async function firstMessage(socket: WebSocket): Promise<string | Uint8Array> {
  const result = await socket[Symbol.asyncIterator]().next();
  if (result.done === true) throw new Error('closed before a message');
  return result.value;
}

describe('websocket client handshake handler', () => {
  it('writes the GET upgrade request once, on its first turn, and nothing more before the 101', () => {
    const { test, opened, failed } = start();
    const written = test.takeWritten().toString('latin1');
    expect(written).to.equal(
      'GET /chat?room=1 HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n\r\n`,
    );
    test.completeWrites();
    test.advance(60_000);
    expect(test.takeWritten().length).to.equal(0);
    expect([opened.length, failed.length]).to.deep.equal([0, 0]);
  });

  it('opens on a valid 101 and replaces itself with the WebSocket connection', () => {
    const { test, opened, failed } = start();
    test.completeWrites();
    test.pushRead(ACCEPTED);
    expect(failed).to.deep.equal([]);
    expect(opened).to.have.length(1);
    expect(test.channel.slots().some((slot) => slot.handler instanceof WebSocketClientHandshake)).to.equal(false);
    expect(opened[0].connection.channelSlot?.channel).to.equal(test.channel);
    expect(opened[0].readyState).to.equal('open');
  });

  it('reads a 101 split at every byte', () => {
    for (let cut = 1; cut < ACCEPTED.length; cut++) {
      const { test, opened, failed } = start();
      test.pushRead(ACCEPTED.slice(0, cut));
      expect(opened, `cut ${cut}`).to.have.length(0);
      test.pushRead(ACCEPTED.slice(cut));
      expect([opened.length, failed.length], `cut ${cut}`).to.deep.equal([1, 0]);
    }
  });

  it('hands the frame that came in the same read as the 101 to the connection', async () => {
    const { test, opened } = start();
    test.pushRead(Buffer.concat([Buffer.from(ACCEPTED), textFrame('first'), textFrame('second')]));
    expect(opened).to.have.length(1);
    expect(await firstMessage(opened[0])).to.equal('first');
    expect(await firstMessage(opened[0])).to.equal('second');
  });

  it('skips interim 1xx responses before the 101', () => {
    const { test, opened, failed } = start();
    test.pushRead(response('HTTP/1.1 100 Continue') + response('HTTP/1.1 103 Early Hints', 'Link: </a>') + ACCEPTED);
    expect([opened.length, failed.length]).to.deep.equal([1, 0]);
  });

  it('reports the chosen subprotocol and the negotiated permessage-deflate', () => {
    const { test, opened } = start({ protocols: ['a', 'b'], perMessageDeflate: {} });
    test.pushRead(
      response(
        ...SWITCHING,
        `Sec-WebSocket-Accept: ${ACCEPT}`,
        'Sec-WebSocket-Protocol: b',
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12',
      ),
    );
    expect(opened[0].protocol).to.equal('b');
    expect(opened[0].extensions).to.equal('permessage-deflate');
  });

  it('refuses a status other than 101 with WEBSOCKET_UNEXPECTED_STATUS carrying the status and headers', () => {
    const { test, opened, failed } = start();
    test.pushRead(
      response('HTTP/1.1 401 Unauthorized', 'WWW-Authenticate: Basic realm="x"', 'Content-Length: 5') + 'nope!',
    );
    expect(opened).to.have.length(0);
    expect(failed).to.have.length(1);
    const error = failed[0] as WebSocketHandshakeError;
    expect(error.code).to.equal('WEBSOCKET_UNEXPECTED_STATUS');
    expect(error.response?.status).to.equal(401);
    expect(error.response?.headers['www-authenticate']).to.equal('Basic realm="x"');
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError?.code).to.equal('WEBSOCKET_UNEXPECTED_STATUS');
  });

  // RFC 6455 §4.1: "If the server's response does not conform …, the client MUST Fail the WebSocket Connection."
  const BROKEN_101: readonly { name: string; fields: string[]; code: string; options?: Parameters<typeof start>[0] }[] =
    [
      {
        name: 'a wrong Sec-WebSocket-Accept',
        fields: [...SWITCHING, `Sec-WebSocket-Accept: ${computeAcceptKey('x')}`],
        code: 'WEBSOCKET_INVALID_ACCEPT',
      },
      { name: 'no Sec-WebSocket-Accept', fields: SWITCHING, code: 'WEBSOCKET_INVALID_ACCEPT' },
      {
        name: 'no Upgrade: websocket',
        fields: [
          'HTTP/1.1 101 Switching Protocols',
          'Upgrade: h2c',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${ACCEPT}`,
        ],
        code: 'WEBSOCKET_MISSING_UPGRADE',
      },
      {
        name: 'no Connection: upgrade',
        fields: ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', `Sec-WebSocket-Accept: ${ACCEPT}`],
        code: 'WEBSOCKET_MISSING_UPGRADE',
      },
      {
        name: 'a subprotocol that was not offered',
        fields: [...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`, 'Sec-WebSocket-Protocol: c'],
        code: 'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
        options: { protocols: ['a', 'b'] },
      },
      {
        name: 'a subprotocol when none was offered',
        fields: [...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`, 'Sec-WebSocket-Protocol: a'],
        code: 'WEBSOCKET_UNEXPECTED_SUBPROTOCOL',
      },
      {
        name: 'an extension that was not offered',
        fields: [...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`, 'Sec-WebSocket-Extensions: permessage-deflate'],
        code: 'WEBSOCKET_UNEXPECTED_EXTENSION',
      },
      {
        name: 'permessage-deflate with a parameter the offer does not allow',
        fields: [...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`, 'Sec-WebSocket-Extensions: permessage-deflate; x=1'],
        code: 'WEBSOCKET_UNEXPECTED_EXTENSION',
        options: { perMessageDeflate: {} },
      },
      { name: 'a malformed status line', fields: ['HTTP/1.1 1O1 Switching'], code: 'HTTP1_INVALID_START_LINE' },
      { name: 'not HTTP at all', fields: ['SSH-2.0-OpenSSH_9.6'], code: 'HTTP1_INVALID_START_LINE' },
    ];
  for (const row of BROKEN_101) {
    it(`fails on ${row.name}: ${row.code}, and closes the connection`, () => {
      const { test, opened, failed } = start(row.options);
      test.pushRead(Buffer.concat([Buffer.from(response(...row.fields)), textFrame('never read')]));
      expect(opened).to.have.length(0);
      expect(failed.map((error) => error.code)).to.deep.equal([row.code]);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });
  }

  it('fails with WEBSOCKET_HANDSHAKE_TIMEOUT when no response arrives in time', () => {
    const { test, opened, failed } = start({ timeoutMs: 5000 });
    test.pushRead('HTTP/1.1 101 Swi');
    test.advance(4999);
    expect(failed).to.have.length(0);
    test.advance(1);
    expect(opened).to.have.length(0);
    expect(failed.map((error) => error.code)).to.deep.equal(['WEBSOCKET_HANDSHAKE_TIMEOUT']);
    expect(test.isShutDown).to.equal(true);
  });

  it('disarms the timeout once the 101 arrived', () => {
    const { test, opened, failed } = start({ timeoutMs: 5000 });
    test.pushRead(ACCEPTED);
    test.advance(10_000);
    expect([opened.length, failed.length, test.isShutDown]).to.deep.equal([1, 0, false]);
  });

  it('fails with WEBSOCKET_HANDSHAKE_CLOSED when the server closes before answering, or mid-response', () => {
    for (const received of ['', 'HTTP/1.1 101 Switching Protocols\r\nUpgr']) {
      const { test, failed } = start();
      if (received !== '') test.pushRead(received);
      test.peerClose();
      expect(
        failed.map((error) => error.code),
        JSON.stringify(received),
      ).to.deep.equal(['WEBSOCKET_HANDSHAKE_CLOSED']);
      expect(failed[0].message).to.contain(received === '' ? 'without answering' : `after ${received.length} bytes`);
    }
  });

  it('keeps the code of another transport failure (a reset)', () => {
    const { test, failed } = start();
    test.peerClose(new SluiceError(IoErrors.CONNECTION_RESET));
    expect(failed.map((error) => error.code)).to.deep.equal(['IO_CONNECTION_RESET']);
  });

  it('calls onFail once and releases every message on any failure', () => {
    const { test, failed } = start({ timeoutMs: 100 });
    test.pushRead(response('HTTP/1.1 500 Oops'));
    test.advance(1000);
    test.peerClose();
    expect(failed.map((error) => error.code)).to.deep.equal(['WEBSOCKET_UNEXPECTED_STATUS']);
    test.flushWrites();
    expect(test.messagePool.outstanding).to.equal(0);
  });
});
