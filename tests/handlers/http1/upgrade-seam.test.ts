/**
 * The upgrade seam of Http1ServerConnection on the testing channel, with a test protocol: which
 * requests an upgrade takes, the 101 in request order and the switch on its write completion,
 * the bytes read past the request handed over (same segment, later reads, a window spent while
 * the answer waits), refusals, and nothing leaked or called when the connection ends first.
 */
import { expect } from 'chai';
import {
  ChannelDirection,
  SluiceError,
  TestingChannel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import {
  Http1ServerConnection,
  type Http1ServerConnectionOptions,
  type Http1ServerStream,
  type Http1Upgrade,
  type Http1UpgradeExchange,
} from '../../../handlers/http1/index.js';

/** The next protocol in these tests: records what it reads, returns the credit. */
class RecordingProtocol implements ChannelHandler {
  readonly received: Buffer[] = [];
  constructor(private readonly windowSize = 64 * 1024) {}

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    this.received.push(Buffer.from(message.data.subarray(0, message.length)));
    const length = message.length;
    message.release();
    slot.incrementReadWindow(length);
  }

  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return this.windowSize;
  }

  messageOverhead(): number {
    return 0;
  }
}

interface Upgraded {
  test: TestingChannel;
  connection: Http1ServerConnection;
  requests: Http1ServerStream[];
  exchanges: Http1UpgradeExchange[];
  /** What each install was handed, and the handler it installed. */
  installs: { handedOver: Buffer; protocol: RecordingProtocol }[];
  errors: string[];
}

interface TestUpgradeOptions {
  protocol?: string;
  takes?: (request: Http1ServerStream) => boolean;
  /** Default: switch at once. */
  onUpgrade?: (exchange: Http1UpgradeExchange, install: (slot: ChannelSlot, bytes: Uint8Array) => ChannelSlot) => void;
  install?: (slot: ChannelSlot, bytes: Uint8Array) => ChannelSlot;
}

function serveUpgrades(
  upgradeOptions: TestUpgradeOptions[] = [{}],
  onRequest: (stream: Http1ServerStream) => void = respondOk,
  options: Partial<Http1ServerConnectionOptions> = {},
  autoCompleteWrites = true,
): Upgraded {
  const requests: Http1ServerStream[] = [];
  const exchanges: Http1UpgradeExchange[] = [];
  const installs: Upgraded['installs'] = [];
  const errors: string[] = [];
  const upgrades: Http1Upgrade[] = upgradeOptions.map((choice) => {
    const install =
      choice.install ??
      ((slot: ChannelSlot, bytes: Uint8Array): ChannelSlot => {
        const protocol = new RecordingProtocol();
        installs.push({ handedOver: Buffer.from(bytes), protocol });
        return slot.replace(protocol);
      });
    return {
      protocol: choice.protocol ?? 'test',
      takes: choice.takes ?? (() => true),
      onUpgrade(exchange) {
        exchanges.push(exchange);
        if (choice.onUpgrade !== undefined) choice.onUpgrade(exchange, install);
        else exchange.switchProtocols(['Connection', 'Upgrade', 'Upgrade', exchange.protocol], install);
      },
    };
  });
  const connection = new Http1ServerConnection({
    onError: (error) => errors.push(error.code),
    ...options,
    upgrades,
    onRequest: (stream) => {
      requests.push(stream);
      onRequest(stream);
    },
  });
  const test = new TestingChannel([connection], { autoCompleteWrites });
  return { test, connection, requests, exchanges, installs, errors };
}

function respondOk(stream: Http1ServerStream): void {
  stream.respond(200, ['content-length', '2']);
  stream.write(Buffer.from('ok'));
  stream.end();
}

const UPGRADE = 'GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n';
const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n';

function handlerAfterSocket(test: TestingChannel): unknown {
  return test.socketSlot.adjacentRight?.handler;
}

function expectBalanced(test: TestingChannel): void {
  if (!test.isShutDown) test.shutdown();
  test.flushWrites();
  expect(test.messagePool.outstanding).to.equal(0);
}

describe('http1 Http1ServerConnection upgrades', () => {
  describe('which requests an upgrade takes', () => {
    it('switches on a request that lists the protocol in Upgrade and upgrade in Connection', () => {
      const { test, requests, installs } = serveUpgrades();
      test.pushRead(UPGRADE);
      expect(test.takeWritten().toString()).to.equal(SWITCHED);
      expect(requests).to.have.length(0);
      expect(installs).to.have.length(1);
      expect(handlerAfterSocket(test)).to.equal(installs[0].protocol);
      expectBalanced(test);
    });

    const ordinary: [string, string][] = [
      ['Upgrade without upgrade in Connection (RFC 9110 §7.8)', 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: test\r\n\r\n'],
      [
        'an HTTP/1.0 request (RFC 9110 §7.8: Upgrade is ignored)',
        'GET / HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n',
      ],
      ['a protocol no upgrade offers', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n'],
    ];
    for (const [what, request] of ordinary) {
      it(`serves ${what} as an ordinary request`, () => {
        const { test, requests, installs } = serveUpgrades();
        test.pushRead(request);
        expect(requests).to.have.length(1);
        expect(installs).to.have.length(0);
        expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 200 OK\r\n/);
        expectBalanced(test);
      });
    }

    it('serves the request as HTTP/1.1 when takes() says no, and keeps the connection', () => {
      const { test, requests, exchanges } = serveUpgrades([{ takes: () => false }]);
      test.pushRead(UPGRADE + 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(requests.map((request) => request.target)).to.deep.equal(['/up', '/next']);
      expect(exchanges).to.have.length(0);
      expect(test.isShutDown).to.equal(false);
      expectBalanced(test);
    });

    it('tries the Upgrade tokens in the client order of preference', () => {
      const { test, exchanges } = serveUpgrades([{ protocol: 'first' }, { protocol: 'second' }]);
      test.pushRead('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: Second, first\r\n\r\n');
      expect(exchanges.map((exchange) => exchange.protocol)).to.deep.equal(['second']);
      expectBalanced(test);
    });

    it('reports a takes() that throws (HTTP1_UPGRADE_FAILED) and serves the request', () => {
      const { test, requests, errors } = serveUpgrades([
        {
          takes: () => {
            throw new Error('boom');
          },
        },
      ]);
      test.pushRead(UPGRADE);
      expect(errors).to.deep.equal(['HTTP1_UPGRADE_FAILED']);
      expect(requests).to.have.length(1);
      expectBalanced(test);
    });

    it('refuses an upgrades option that is not a list of upgrades (HTTP1_INVALID_ARGUMENT)', () => {
      const bad: unknown[] = [
        {},
        [{ protocol: 'Test', takes: () => true, onUpgrade: () => undefined }],
        [{ protocol: 'test', takes: true, onUpgrade: () => undefined }],
        [null],
      ];
      for (const upgrades of bad) {
        expect(() => new Http1ServerConnection({ onRequest: () => undefined, upgrades: upgrades as Http1Upgrade[] }))
          .to.throw(SluiceError)
          .with.property('code', 'HTTP1_INVALID_ARGUMENT');
      }
    });
  });

  describe('the switch', () => {
    it('writes the 101 after the pipelined responses before it, and switches on its write completion', () => {
      let first: Http1ServerStream | null = null;
      const { test, installs } = serveUpgrades([{}], (stream) => (first = stream), {}, false);
      test.pushRead('GET /first HTTP/1.1\r\nHost: a\r\n\r\n' + UPGRADE);
      expect(test.takeWritten().length).to.equal(0);
      respondOk(first!);
      test.runUntilIdle();
      const messages = test.takeWrittenMessages();
      expect(Buffer.concat(messages).toString()).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' + SWITCHED);
      expect(installs).to.have.length(0);
      test.completeWrites();
      expect(installs).to.have.length(1);
      expectBalanced(test);
    });

    it('hands over the bytes after the request in the same segment, and those read while the 101 is written', () => {
      const { test, installs } = serveUpgrades([{}], respondOk, {}, false);
      test.pushRead(UPGRADE + 'first bytes');
      test.pushRead(' and more');
      expect(test.takeWritten().toString()).to.equal(SWITCHED);
      test.completeWrites();
      expect(installs).to.have.length(1);
      expect(installs[0].handedOver.toString()).to.equal('first bytes and more');
      test.pushRead(' later');
      expect(Buffer.concat(installs[0].protocol.received).toString()).to.equal(' later');
      expectBalanced(test);
    });

    it('hands over every byte however the request and what follows are split', () => {
      const bytes = Buffer.from(UPGRADE + 'frame!');
      for (const size of [1, 3, 17, UPGRADE.length - 1, UPGRADE.length + 2]) {
        const { test, installs } = serveUpgrades();
        for (let at = 0; at < bytes.length; at += size) test.pushRead(bytes.subarray(at, at + size));
        expect(installs, `split ${size}`).to.have.length(1);
        const after = Buffer.concat([installs[0].handedOver, ...installs[0].protocol.received]).toString();
        expect(after, `split ${size}`).to.equal('frame!');
        expectBalanced(test);
      }
    });

    it('hands over a read window spent while the answer waits, and the socket reads on afterwards', () => {
      let waiting: Http1UpgradeExchange | null = null;
      let install: ((slot: ChannelSlot, bytes: Uint8Array) => ChannelSlot) | null = null;
      const { test, installs } = serveUpgrades(
        [{ onUpgrade: (exchange, installer) => ((waiting = exchange), (install = installer)) }],
        respondOk,
        { readWindowSize: 1024 },
      );
      const early = Buffer.alloc(3000, 0x61);
      test.pushRead(Buffer.concat([Buffer.from(UPGRADE), early]));
      // The connection holds what it read and returns no credit: the rest waits in the socket.
      expect(test.bufferedReadBytes).to.be.greaterThan(0);
      waiting!.switchProtocols(['Connection', 'Upgrade', 'Upgrade', 'test'], install!);
      test.runUntilIdle();
      expect(installs).to.have.length(1);
      const handed = Buffer.concat([installs[0].handedOver, ...installs[0].protocol.received]);
      expect(handed.equals(early)).to.equal(true);
      expect(test.bufferedReadBytes).to.equal(0);
      expectBalanced(test);
    });

    it('answers 503 instead of switching while the connection drains', () => {
      let waiting: Http1UpgradeExchange | null = null;
      const { test, connection, installs } = serveUpgrades([{ onUpgrade: (exchange) => (waiting = exchange) }]);
      test.pushRead(UPGRADE);
      connection.close();
      expect(waiting!.switchProtocols(['Connection', 'Upgrade', 'Upgrade', 'test'], () => test.slot)).to.equal(true);
      test.runUntilIdle();
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(installs).to.have.length(0);
      expect(test.isShutDown).to.equal(true);
      expectBalanced(test);
    });

    it('switches, then shuts the channel down, when close() comes while the 101 is being written', () => {
      const { test, connection, installs } = serveUpgrades([{}], respondOk, {}, false);
      test.pushRead(UPGRADE);
      expect(test.takeWritten().toString()).to.equal(SWITCHED);
      connection.close();
      test.completeWrites();
      expect(installs).to.have.length(1);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes the connection with HTTP1_UPGRADE_FAILED when installing the next protocol throws', () => {
      const { test, errors } = serveUpgrades([
        {
          install: () => {
            throw new Error('no protocol');
          },
        },
      ]);
      test.pushRead(UPGRADE + 'x');
      expect(errors).to.deep.equal(['HTTP1_UPGRADE_FAILED']);
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError?.code).to.equal('HTTP1_UPGRADE_FAILED');
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('does nothing more once the connection switched: close() is a no-op for the old handler', () => {
      const { test, connection, installs } = serveUpgrades();
      test.pushRead(UPGRADE);
      connection.close();
      test.runUntilIdle();
      expect(test.isShutDown).to.equal(false);
      expect(handlerAfterSocket(test)).to.equal(installs[0].protocol);
      expectBalanced(test);
    });
  });

  describe('refusals', () => {
    it('answers the refusal with Connection: close, its fields and text body, and closes', () => {
      const { test, installs } = serveUpgrades([
        { onUpgrade: (exchange) => exchange.refuse(403, ['x-why', 'policy', 'content-length', '99'], 'no\n') },
      ]);
      test.pushRead(UPGRADE + 'GET /never HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(test.takeWritten().toString()).to.equal(
        'HTTP/1.1 403 Forbidden\r\nx-why: policy\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 3\r\nconnection: close\r\n\r\nno\n',
      );
      expect(installs).to.have.length(0);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('answers 500 when onUpgrade throws before answering (HTTP1_UPGRADE_FAILED)', () => {
      const { test, errors } = serveUpgrades([
        {
          onUpgrade: () => {
            throw new Error('bad');
          },
        },
      ]);
      test.pushRead(UPGRADE);
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
      expect(errors).to.deep.equal(['HTTP1_UPGRADE_FAILED']);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('refuses a second answer (HTTP1_INVALID_STATE) and a status outside 400-599 (HTTP1_INVALID_ARGUMENT)', () => {
      let waiting: Http1UpgradeExchange | null = null;
      const { test } = serveUpgrades([{ onUpgrade: (exchange) => (waiting = exchange) }]);
      test.pushRead(UPGRADE);
      expect(() => waiting!.refuse(302))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP1_INVALID_ARGUMENT');
      expect(waiting!.refuse(400)).to.equal(true);
      expect(() => waiting!.refuse(400))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP1_INVALID_STATE');
      expectBalanced(test);
    });
  });

  describe('when the connection ends before the answer', () => {
    it('calls nothing, writes nothing and leaks nothing', () => {
      let waiting: Http1UpgradeExchange | null = null;
      let installed = 0;
      const { test } = serveUpgrades([{ onUpgrade: (exchange) => (waiting = exchange) }]);
      test.pushRead(UPGRADE + 'early frame bytes');
      test.pushRead('more');
      test.peerClose();
      test.runUntilIdle();
      expect(test.isShutDown).to.equal(true);
      expect(waiting!.isClosed).to.equal(true);
      expect(
        waiting!.switchProtocols(['Connection', 'Upgrade', 'Upgrade', 'test'], (slot) => {
          installed++;
          return slot;
        }),
      ).to.equal(false);
      expect(installed).to.equal(0);
      expect(test.takeWritten().length).to.equal(0);
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });
});
