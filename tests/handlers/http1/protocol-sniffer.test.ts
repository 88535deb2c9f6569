/**
 * ProtocolSniffer on the testing channel: it replaces itself in its slot with the HTTP/2 or the
 * HTTP/1.1 connection as the first bytes decide, however they are split, hands over every byte
 * it read, and leaks nothing when the connection ends before a decision.
 */
import { expect } from 'chai';
import { IoErrors, TestingChannel } from '../../../lib/index.js';
import {
  Http1ServerConnection,
  ProtocolSniffer,
  SNIFF_TIMEOUT_MS,
  type Http1ServerStream,
} from '../../../handlers/http1/index.js';
import { Http2ServerConnection } from '../../../handlers/http2/index.js';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);

interface Sniffed {
  test: TestingChannel;
  requests: Http1ServerStream[];
  /** The connections the sniffer created, by protocol. */
  created: string[];
}

function sniff(): Sniffed {
  const requests: Http1ServerStream[] = [];
  const created: string[] = [];
  const sniffer = new ProtocolSniffer(
    () => {
      created.push('http/1.1');
      return new Http1ServerConnection({
        onRequest: (stream) => {
          requests.push(stream);
          stream.respond(200, ['content-length', '2']);
          stream.write(Buffer.from('ok'));
          stream.end();
        },
      });
    },
    () => {
      created.push('h2');
      return new Http2ServerConnection({ onStream: () => undefined });
    },
  );
  const test = new TestingChannel([sniffer], { autoCompleteWrites: true });
  return { test, requests, created };
}

/** The handler right of the socket end now. */
function installed(test: TestingChannel): unknown {
  return test.socketSlot.adjacentRight?.handler;
}

/** Type and flags of each frame in `bytes`. */
function frameHeaders(bytes: Buffer): { type: number; flags: number }[] {
  const frames: { type: number; flags: number }[] = [];
  for (let offset = 0; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) {
    frames.push({ type: bytes[offset + 3], flags: bytes[offset + 4] });
  }
  return frames;
}

function pushSplit(test: TestingChannel, bytes: Buffer, sizes: readonly number[]): void {
  let offset = 0;
  let index = 0;
  while (offset < bytes.length) {
    const size = Math.max(1, sizes[index++ % sizes.length]);
    test.pushRead(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

describe('http1 ProtocolSniffer', () => {
  for (const sizes of [[1], [5, 6, 100], [11], [12], [1000]] as const) {
    it(`installs the HTTP/2 connection on the preface split as ${sizes.join(',')} and hands it every byte`, () => {
      const { test, created } = sniff();
      pushSplit(test, Buffer.concat([Buffer.from(PREFACE, 'latin1'), EMPTY_SETTINGS]), sizes);
      expect(created).to.deep.equal(['h2']);
      expect(installed(test)).to.be.instanceOf(Http2ServerConnection);
      // The server's SETTINGS first, and an ACK of ours: the preface and SETTINGS reached it whole.
      const frames = frameHeaders(test.takeWritten());
      expect(frames[0], 'first frame').to.deep.equal({ type: 0x4, flags: 0 });
      expect(frames, 'SETTINGS ACK').to.deep.include({ type: 0x4, flags: 0x1 });
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it(`installs the HTTP/1.1 connection on a request line split as ${sizes.join(',')} and serves the request`, () => {
      const { test, requests, created } = sniff();
      pushSplit(test, Buffer.from('GET /split HTTP/1.1\r\nHost: a\r\n\r\n'), sizes);
      expect(created).to.deep.equal(['http/1.1']);
      expect(installed(test)).to.be.instanceOf(Http1ServerConnection);
      expect(requests.map((stream) => stream.target)).to.deep.equal(['/split']);
      expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });
  }

  it('treats a request line sharing the preface\'s first bytes ("PRI * HTTP/1.1") as HTTP/1.1', () => {
    const { test, requests, created } = sniff();
    test.pushRead('PRI * HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(created).to.deep.equal(['http/1.1']);
    // Only OPTIONS may have the asterisk form: the HTTP/1.1 parser answers 400, nobody sees it.
    expect(requests).to.have.length(0);
    expect(test.takeWritten().toString()).to.match(/^HTTP\/1\.1 400 /);
    test.shutdown();
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('closes a connection still undecided at the handshake deadline with IO_HANDSHAKE_TIMEOUT (virtual time), and not a decided one', () => {
    const silent = sniff();
    silent.test.advance(SNIFF_TIMEOUT_MS - 1);
    expect(silent.test.isShutDown).to.equal(false);
    silent.test.advance(1);
    expect(silent.test.isShutDown).to.equal(true);
    expect(silent.test.shutdownError?.code).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
    const partial = sniff();
    partial.test.pushRead('PRI * H');
    partial.test.advance(SNIFF_TIMEOUT_MS);
    expect(partial.test.isShutDown).to.equal(true);
    expect(partial.test.shutdownError?.code).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
    expect(partial.test.messagePool.outstanding).to.equal(0);
    const decided = sniff();
    // A whole preface, and the ACK of our SETTINGS (else their own 10 s timeout would end it).
    decided.test.pushRead(Buffer.concat([Buffer.from(PREFACE, 'latin1'), EMPTY_SETTINGS, SETTINGS_ACK]));
    decided.test.advance(SNIFF_TIMEOUT_MS);
    expect(decided.test.isShutDown, 'an HTTP/2 connection past the sniff timeout').to.equal(false);
    decided.test.shutdown();
    expect(decided.test.messagePool.outstanding).to.equal(0);
  });

  it('releases what it holds when the connection ends before the first bytes decide', () => {
    const { test, created } = sniff();
    test.pushRead('PRI * HT');
    expect(created).to.deep.equal([]);
    expect(installed(test)).to.be.instanceOf(ProtocolSniffer);
    test.peerClose();
    expect(test.isShutDown).to.equal(true);
    expect(test.messagePool.outstanding).to.equal(0);
  });
});
