/**
 * WebSocketConnection on the testing channel: reading, writing, back-pressure, the close
 * handshake, failures, keep-alive (virtual time) and permessage-deflate.
 */
import { expect } from 'chai';
import { TestingChannel, type SluiceError } from '../../../lib/index.js';
import { WebSocketConnection } from '../../../handlers/websocket/connection/websocket-connection.js';
import type { WebSocketConnectionOptions } from '../../../handlers/websocket/connection/connection-options.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import { WebSocketFrameDecoder, type WebSocketRole } from '../../../handlers/websocket/wire/frame-decoder.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import { PerMessageDeflater } from '../../../handlers/websocket/wire/permessage-deflate.js';

type Seen =
  | { kind: 'message'; text: string | null; bytes: Buffer }
  | { kind: 'ping' | 'pong'; hex: string }
  | { kind: 'close-frame'; code: number; reason: string }
  | { kind: 'close'; code: number; reason: string; error: string | null }
  | { kind: 'drain' };

/** A connection in a testing channel, with a peer's encoder and decoder. */
class Harness {
  readonly seen: Seen[] = [];
  readonly test: TestingChannel;
  readonly connection: WebSocketConnection;
  readonly peer: WebSocketFrameEncoder;
  private readonly peerDecoder: WebSocketFrameDecoder;
  readonly frames: Seen[] = [];

  constructor(options: Partial<WebSocketConnectionOptions> = {}, role: WebSocketRole = 'server') {
    const peerRole: WebSocketRole = role === 'server' ? 'client' : 'server';
    this.connection = new WebSocketConnection({
      role,
      ...options,
      listener: {
        onMessage: (_c, data, isText) =>
          this.seen.push({ kind: 'message', text: isText ? data.toString('utf8') : null, bytes: data }),
        onPing: (_c, payload) => this.seen.push({ kind: 'ping', hex: Buffer.from(payload).toString('hex') }),
        onPong: (_c, payload) => this.seen.push({ kind: 'pong', hex: Buffer.from(payload).toString('hex') }),
        onCloseFrame: (_c, code, reason) => this.seen.push({ kind: 'close-frame', code, reason }),
        onDrain: () => this.seen.push({ kind: 'drain' }),
        onClose: (_c, code, reason, error: SluiceError | null) =>
          this.seen.push({ kind: 'close', code, reason, error: error?.code ?? null }),
      },
    });
    this.test = new TestingChannel([this.connection]);
    this.peer = new WebSocketFrameEncoder({ role: peerRole });
    const parts: Buffer[] = [];
    this.peerDecoder = new WebSocketFrameDecoder(
      {
        onData: (opcode, data, start, end, _f, isMessageEnd) => {
          parts.push(Buffer.from(data.subarray(start, end)));
          if (!isMessageEnd) return;
          const bytes = Buffer.concat(parts.splice(0));
          this.frames.push({ kind: 'message', text: opcode === Opcode.TEXT ? bytes.toString() : null, bytes });
        },
        onPing: (data, start, end) =>
          this.frames.push({ kind: 'ping', hex: Buffer.from(data.subarray(start, end)).toString('hex') }),
        onPong: (data, start, end) =>
          this.frames.push({ kind: 'pong', hex: Buffer.from(data.subarray(start, end)).toString('hex') }),
        onClose: (code, reason) => this.frames.push({ kind: 'close-frame', code, reason }),
      },
      { role: peerRole, maxMessageSize: 2 ** 40 },
    );
  }

  /** The peer sends a data frame. */
  sendFrame(opcode: 0 | 1 | 2, payload: Buffer | string, isFinal = true): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const target = Buffer.alloc(this.peer.frameLength(bytes.length));
    this.peer.writeDataFrame(target, 0, opcode, bytes, 0, bytes.length, isFinal);
    this.test.pushRead(target);
  }

  /** A frame as bytes. */
  frame(opcode: 0 | 1 | 2, payload: Buffer | string, isFinal = true, isCompressed = false): Buffer {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const target = Buffer.alloc(this.peer.frameLength(bytes.length));
    this.peer.writeDataFrame(target, 0, opcode, bytes, 0, bytes.length, isFinal, isCompressed);
    return target;
  }

  sendPing(payload: string): void {
    const bytes = Buffer.from(payload);
    const target = Buffer.alloc(this.peer.frameLength(bytes.length));
    this.peer.writePing(target, 0, bytes);
    this.test.pushRead(target);
  }

  sendPong(payload: string): void {
    const bytes = Buffer.from(payload);
    const target = Buffer.alloc(this.peer.frameLength(bytes.length));
    this.peer.writePong(target, 0, bytes);
    this.test.pushRead(target);
  }

  sendClose(code?: number, reason = ''): void {
    const target = Buffer.alloc(this.peer.closeFrameLength(code, reason));
    this.peer.writeClose(target, 0, code, reason);
    this.test.pushRead(target);
  }

  /** Decodes what the connection wrote, completing the writes. */
  written(): Seen[] {
    this.test.runUntilIdle();
    this.test.flushWrites();
    const bytes = this.test.takeWritten();
    if (bytes.length > 0) this.peerDecoder.decode(bytes);
    return this.frames.splice(0);
  }

  closes(): Seen[] {
    return this.seen.filter((event) => event.kind === 'close');
  }
}

async function until(condition: () => boolean, test: TestingChannel): Promise<void> {
  // zlib runs on the thread pool: poll (bounded) until it has called back.
  for (let round = 0; round < 5000 && !condition(); round++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    test.runUntilIdle();
  }
  expect(condition()).to.equal(true);
}

describe('WebSocketConnection', () => {
  describe('reading', () => {
    it('delivers text and binary messages whole, fragments joined, a ping answered between fragments', () => {
      const h = new Harness();
      h.sendFrame(Opcode.TEXT, 'hello');
      h.sendFrame(Opcode.BINARY, Buffer.from([1, 2, 3]));
      h.sendFrame(Opcode.TEXT, 'frag', false);
      h.sendPing('p1');
      h.sendFrame(Opcode.CONTINUATION, 'mented');
      expect(h.seen).to.deep.equal([
        { kind: 'message', text: 'hello', bytes: Buffer.from('hello') },
        { kind: 'message', text: null, bytes: Buffer.from([1, 2, 3]) },
        { kind: 'ping', hex: Buffer.from('p1').toString('hex') },
        { kind: 'message', text: 'fragmented', bytes: Buffer.from('fragmented') },
      ]);
      expect(h.written()).to.deep.equal([{ kind: 'pong', hex: Buffer.from('p1').toString('hex') }]);
    });

    it('delivers messages split at every byte', () => {
      const h = new Harness();
      const bytes = Buffer.concat([h.frame(Opcode.TEXT, 'héllo wörld'), h.frame(Opcode.BINARY, Buffer.alloc(300, 7))]);
      for (const byte of bytes) h.test.pushRead(Buffer.from([byte]));
      expect(h.seen.map((event) => (event.kind === 'message' ? event.bytes.length : -1))).to.deep.equal([13, 300]);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('decodes handed-over bytes before what the channel delivers', () => {
      const seed = new Harness();
      const handed = Buffer.concat([seed.frame(Opcode.TEXT, 'first'), seed.frame(Opcode.TEXT, 'sec', false)]);
      const h = new Harness({ handedOverBytes: handed });
      h.sendFrame(Opcode.CONTINUATION, 'ond');
      expect(h.seen.map((event) => (event.kind === 'message' ? event.text : null))).to.deep.equal(['first', 'second']);
    });

    it('reports a pong', () => {
      const h = new Harness();
      h.sendPong('x');
      expect(h.seen).to.deep.equal([{ kind: 'pong', hex: '78' }]);
    });
  });

  describe('read back-pressure', () => {
    it('in manual window mode stops reading until delivered messages are consumed', () => {
      const h = new Harness({ isManualWindow: true, readWindowSize: 1024 });
      const frame = h.frame(Opcode.BINARY, Buffer.alloc(600));
      h.test.pushRead(Buffer.concat([frame, frame, frame, frame]));
      // 1024 bytes read: one whole message and part of the next; no credit while one is unconsumed.
      expect(h.seen.length).to.equal(1);
      expect(h.test.bufferedReadBytes).to.equal(4 * 608 - 1024);
      h.connection.consumeMessage();
      h.test.runUntilIdle();
      // The next 1024 bytes: messages 2 and 3 and part of 4.
      expect(h.seen.length).to.equal(3);
      h.connection.consumeMessage();
      h.test.runUntilIdle();
      expect(h.seen.length).to.equal(3);
      h.connection.consumeMessage();
      h.test.runUntilIdle();
      expect(h.seen.length).to.equal(4);
      expect(h.test.bufferedReadBytes).to.equal(0);
    });

    it('a message larger than the read window still arrives (a partial message is credited)', () => {
      const h = new Harness({ isManualWindow: true, readWindowSize: 1024 });
      h.sendFrame(Opcode.BINARY, Buffer.alloc(10_000, 1));
      expect(h.seen.length).to.equal(1);
    });
  });

  describe('writing', () => {
    it('sends text and binary, calls back once written, one write in flight', () => {
      const h = new Harness();
      const done: (string | null)[] = [];
      h.connection.send('hi', true, (error) => done.push(error?.code ?? null));
      h.connection.send(Buffer.from([9]), false, (error) => done.push(error?.code ?? null));
      h.test.runUntilIdle();
      expect(h.test.pendingWriteCount).to.equal(1);
      expect(done).to.deep.equal([]);
      expect(h.written()).to.deep.equal([
        { kind: 'message', text: 'hi', bytes: Buffer.from('hi') },
        { kind: 'message', text: null, bytes: Buffer.from([9]) },
      ]);
      expect(done).to.deep.equal([null, null]);
    });

    it('fragments a message larger than a pooled message and masks as a client', () => {
      const h = new Harness({}, 'client');
      const big = Buffer.alloc(700_000);
      for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
      h.connection.send(big, false);
      h.test.runUntilIdle();
      const messages = h.written();
      expect(messages.length).to.equal(1);
      expect((messages[0] as { bytes: Buffer }).bytes.equals(big)).to.equal(true);
    });

    it('returns false at the high-water mark and calls onDrain once written', () => {
      const h = new Harness({ highWaterMark: 1000 });
      expect(h.connection.send(Buffer.alloc(500), false)).to.equal(true);
      expect(h.connection.send(Buffer.alloc(600), false)).to.equal(false);
      expect(h.connection.bufferedAmount).to.equal(1100);
      h.written();
      expect(h.seen).to.deep.equal([{ kind: 'drain' }]);
      expect(h.connection.bufferedAmount).to.equal(0);
    });

    it('puts a ping between the fragments of a large message', () => {
      const h = new Harness();
      h.connection.send(Buffer.alloc(600_000, 3), false);
      h.test.runUntilIdle();
      h.connection.ping(Buffer.from('mid'));
      const frames = h.written();
      expect(frames.map((frame) => frame.kind)).to.deep.equal(['ping', 'message']);
      expect((frames[1] as { bytes: Buffer }).bytes.length).to.equal(600_000);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('a graceful shutdown writes the data queued before it, then Close 1001', () => {
      const h = new Harness();
      const done: (string | null)[] = [];
      h.connection.send('queued', true, (error) => done.push(error?.code ?? null));
      h.test.shutdown();
      expect(h.written().map((frame) => frame.kind)).to.deep.equal(['message', 'close-frame']);
      expect(done).to.deep.equal([null]);
      expect(h.test.isShutDown).to.equal(true);
    });

    it('sends nothing after its Close, not even a pong', () => {
      const h = new Harness();
      h.connection.close(1000);
      h.written();
      h.sendPing('late');
      expect(h.written()).to.deep.equal([]);
    });

    it('sends a ping ahead of queued data', () => {
      const h = new Harness();
      h.connection.send('data', true);
      h.connection.ping(Buffer.from('pp'));
      expect(h.written().map((frame) => frame.kind)).to.deep.equal(['ping', 'message']);
    });
  });

  describe('closing', () => {
    it('server: a received Close is echoed, then the server closes TCP', () => {
      const h = new Harness();
      h.sendClose(1000, 'bye');
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1000, reason: '' }]);
      expect(h.test.isShutDown).to.equal(true);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1000, reason: 'bye', error: null }]);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('an empty Close is reported as 1005 and echoed empty', () => {
      const h = new Harness();
      h.sendClose();
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1005, reason: '' }]);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1005, reason: '', error: null }]);
    });

    it('client: echoes a Close and waits for the TCP close, bounded by closeTimeoutMs', () => {
      const h = new Harness({ closeTimeoutMs: 1000 }, 'client');
      h.sendClose(1001);
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1001, reason: '' }]);
      expect(h.test.isShutDown).to.equal(false);
      h.test.advance(1000);
      expect(h.test.isShutDown).to.equal(true);
      expect(h.test.shutdownError).to.equal(null);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1001, reason: '', error: null }]);
    });

    it('close() sends Close after queued data and finishes when the peer answers', () => {
      const h = new Harness();
      h.connection.send('last', true);
      h.connection.close(4000, 'done');
      expect(() => h.connection.send('late', true))
        .to.throw()
        .with.property('code', 'WEBSOCKET_CONNECTION_CLOSED');
      expect(h.written()).to.deep.equal([
        { kind: 'message', text: 'last', bytes: Buffer.from('last') },
        { kind: 'close-frame', code: 4000, reason: 'done' },
      ]);
      expect(h.test.isShutDown).to.equal(false);
      h.sendClose(4000);
      expect(h.test.isShutDown).to.equal(true);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 4000, reason: '', error: null }]);
    });

    it('close() without an answer shuts down after closeTimeoutMs with WEBSOCKET_CLOSE_TIMEOUT (1006)', () => {
      const h = new Harness({ closeTimeoutMs: 500 });
      h.connection.close(1000);
      h.written();
      h.test.advance(499);
      expect(h.test.isShutDown).to.equal(false);
      h.test.advance(1);
      expect(h.test.isShutDown).to.equal(true);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: 'WEBSOCKET_CLOSE_TIMEOUT' }]);
    });

    it('close() behind a slow queue: the wait for the Close starts once ours is written (sim websocket: close timeout on a 4 KiB link)', () => {
      const h = new Harness({ closeTimeoutMs: 500 });
      h.connection.send(Buffer.alloc(4 << 20, 7), false);
      h.connection.close(1000);
      let rounds = 0;
      // The peer takes one outgoing message per 400 ms: longer than the timeout in all, never stalled.
      for (; h.test.pendingWriteCount > 0 || rounds === 0; rounds++) {
        h.test.runUntilIdle();
        h.test.advance(400);
        expect(h.test.isShutDown, `round ${rounds}`).to.equal(false);
        h.test.completeWrites(1);
        h.test.runUntilIdle();
        h.test.takeWritten();
      }
      expect(rounds).to.be.greaterThan(2);
      h.test.advance(499);
      expect(h.test.isShutDown).to.equal(false);
      h.test.advance(1);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: 'WEBSOCKET_CLOSE_TIMEOUT' }]);
    });

    it('close() toward a peer that takes nothing still times out with WEBSOCKET_CLOSE_TIMEOUT', () => {
      const h = new Harness({ closeTimeoutMs: 500 });
      h.connection.send(Buffer.alloc(4 << 20, 7), false);
      h.connection.close(1000);
      h.test.runUntilIdle();
      expect(h.test.pendingWriteCount).to.be.greaterThan(0);
      h.test.advance(500);
      // The timeout shut the channel down; the socket then fails what it still held (a broken pipe
      // had it come first, the connection would report that instead).
      h.test.failWrites();
      h.test.runUntilIdle();
      expect(h.test.isShutDown).to.equal(true);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: 'WEBSOCKET_CLOSE_TIMEOUT' }]);
    });

    it('refuses to send close codes 1005, 1006 and 1015', () => {
      const h = new Harness();
      for (const code of [1005, 1006, 1015]) {
        expect(() => h.connection.close(code))
          .to.throw()
          .with.property('code', 'WEBSOCKET_INVALID_OUTGOING_CLOSE_CODE');
      }
      expect(h.connection.state).to.equal('open');
    });

    it('a peer that vanishes is reported as 1006 and pending sends fail', () => {
      const h = new Harness();
      const done: (string | null)[] = [];
      h.connection.send('never', true, (error) => done.push(error?.code ?? null));
      h.test.peerClose();
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: 'IO_SOCKET_CLOSED' }]);
      expect(done.length).to.equal(1);
      expect(done[0]).to.not.equal(null);
    });

    it('a graceful channel shutdown sends Close 1001 first', () => {
      const h = new Harness();
      h.test.shutdown();
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1001, reason: '' }]);
      expect(h.test.isShutDown).to.equal(true);
    });
  });

  describe('failing the connection', () => {
    const cases: [string, (h: Harness) => void, number, string][] = [
      ['an unmasked client frame', (h) => h.test.pushRead(Buffer.from([0x81, 0x00])), 1002, 'WEBSOCKET_UNMASKED_FRAME'],
      ['invalid UTF-8', (h) => h.sendFrame(Opcode.TEXT, Buffer.from([0xc3, 0x28])), 1007, 'WEBSOCKET_INVALID_UTF8'],
      [
        'a message over maxMessageSize',
        (h) => h.sendFrame(Opcode.BINARY, Buffer.alloc(2000)),
        1009,
        'WEBSOCKET_MESSAGE_TOO_LARGE',
      ],
    ];
    for (const [what, act, closeCode, errorCode] of cases) {
      it(`sends Close ${closeCode} on ${what}, then closes without waiting`, () => {
        const h = new Harness({ maxMessageSize: 1000 });
        h.connection.send('queued', true);
        act(h);
        expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: closeCode, reason: '' }]);
        expect(h.test.isShutDown).to.equal(true);
        expect(h.test.shutdownError?.code).to.equal(errorCode);
        expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: errorCode }]);
        expect(h.test.messagePool.outstanding).to.equal(0);
      });
    }

    it('a throwing onMessage fails the connection with 1011', () => {
      const h = new Harness();
      h.connection.setListener({
        onMessage: () => {
          throw new Error('application bug');
        },
      });
      h.sendFrame(Opcode.TEXT, 'x');
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1011, reason: '' }]);
      expect(h.test.isShutDown).to.equal(true);
    });
  });

  describe('arguments', () => {
    it('refuses options out of range with WEBSOCKET_INVALID_ARGUMENT', () => {
      const bad: unknown[] = [
        { role: 'peer' },
        { role: 'server', maxMessageSize: -1 },
        { role: 'server', readWindowSize: 0 },
        { role: 'server', closeTimeoutMs: 1.5 },
      ];
      for (const options of bad) {
        expect(() => new WebSocketConnection(options as WebSocketConnectionOptions))
          .to.throw()
          .with.property('code', 'WEBSOCKET_INVALID_ARGUMENT');
      }
    });

    it('refuses a ping over 125 bytes, and a 17th queued ping', () => {
      const h = new Harness();
      expect(() => h.connection.ping(Buffer.alloc(126)))
        .to.throw()
        .with.property('code', 'WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG');
      for (let i = 0; i < 16; i++) h.connection.ping();
      expect(() => h.connection.ping())
        .to.throw()
        .with.property('code', 'WEBSOCKET_INVALID_ARGUMENT');
      expect(h.written().length).to.equal(16);
    });

    it('reports onClose exactly once', () => {
      const h = new Harness();
      h.sendClose(1000);
      h.written();
      h.test.shutdown();
      h.test.peerClose();
      expect(h.closes().length).to.equal(1);
    });
  });

  describe('keep-alive', () => {
    it('pings every pingIntervalMs and shuts down (1006, no Close) when no pong comes in pongTimeoutMs', () => {
      const h = new Harness({ pingIntervalMs: 1000, pongTimeoutMs: 300 });
      h.test.advance(1000);
      expect(h.written()).to.deep.equal([{ kind: 'ping', hex: '' }]);
      h.sendPong('');
      h.test.advance(1000);
      expect(h.written()).to.deep.equal([{ kind: 'ping', hex: '' }]);
      h.test.advance(299);
      expect(h.test.isShutDown).to.equal(false);
      h.test.advance(1);
      expect(h.test.isShutDown).to.equal(true);
      expect(h.written()).to.deep.equal([]);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1006, reason: '', error: 'WEBSOCKET_PING_TIMEOUT' }]);
    });
  });

  describe('permessage-deflate', () => {
    const params = {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    };

    it('inflates incoming messages in order and compresses outgoing ones', async () => {
      const h = new Harness({ perMessageDeflate: params, compressionThreshold: 0 });
      const deflater = new PerMessageDeflater();
      const compressed = await new Promise<Buffer>((resolve, reject) =>
        deflater.compress(Buffer.from('squeezed '.repeat(100)), (error, payload) =>
          error !== null || payload === null ? reject(error ?? new Error('no payload')) : resolve(payload),
        ),
      );
      deflater.close();
      h.test.pushRead(Buffer.concat([h.frame(Opcode.TEXT, compressed, true, true), h.frame(Opcode.TEXT, 'plain')]));
      await until(() => h.seen.length === 2, h.test);
      expect(h.seen.map((event) => (event.kind === 'message' ? event.text?.length : -1))).to.deep.equal([900, 5]);
      h.connection.send('out '.repeat(100), true);
      await until(() => h.test.pendingWriteCount > 0, h.test);
      const bytes = h.test.takeWritten();
      expect(bytes[0] & 0x40).to.equal(0x40); // RSV1
      expect(bytes.length).to.be.lessThan(100);
      h.test.completeWrites();
      h.test.shutdown();
    });

    it('delivers compressed messages and the Close behind them when the peer closes TCP while they inflate', async () => {
      const h = new Harness({ perMessageDeflate: params }, 'client');
      const deflater = new PerMessageDeflater();
      const compress = (text: string): Promise<Buffer> =>
        new Promise<Buffer>((resolve, reject) =>
          deflater.compress(Buffer.from(text), (error, payload) =>
            error !== null || payload === null ? reject(error ?? new Error('no payload')) : resolve(payload),
          ),
        );
      const first = await compress('first');
      const second = await compress('second');
      deflater.close();
      const close = Buffer.alloc(h.peer.closeFrameLength(1000, 'bye'));
      h.peer.writeClose(close, 0, 1000, 'bye');
      // One read with two compressed messages, a plain one and the Close, then the TCP close at once.
      h.test.pushRead(
        Buffer.concat([
          h.frame(Opcode.TEXT, first, true, true),
          h.frame(Opcode.TEXT, second, true, true),
          h.frame(Opcode.TEXT, 'third'),
          close,
        ]),
      );
      h.test.peerClose();
      await until(() => h.closes().length === 1, h.test);
      expect(h.seen.map((event) => (event.kind === 'message' ? event.text : event.kind))).to.deep.equal([
        'first',
        'second',
        'third',
        'close-frame',
        'close',
      ]);
      expect(h.closes()).to.deep.equal([{ kind: 'close', code: 1000, reason: 'bye', error: null }]);
      expect(h.test.isShutDown).to.equal(true);
    });

    it('keeps outgoing order when small messages skip compression', async () => {
      const h = new Harness({ perMessageDeflate: params, compressionThreshold: 100 });
      h.connection.send('big '.repeat(1000), true);
      h.connection.send('small', true);
      h.connection.send(Buffer.alloc(5000, 1), false);
      await until(() => {
        h.test.flushWrites();
        return h.connection.bufferedAmount === 0 && h.test.pendingWriteCount === 0;
      }, h.test);
      const bytes = h.test.takeWritten();
      // Three frames: RSV1 on the compressed ones only, in the order sent.
      const firstBytes: number[] = [];
      let offset = 0;
      for (let frame = 0; frame < 3; frame++) {
        firstBytes.push(bytes[offset]);
        const length = bytes[offset + 1] & 0x7f;
        const extended = length === 126 ? bytes.readUInt16BE(offset + 2) : length;
        offset += (length === 126 ? 4 : 2) + extended;
      }
      expect(offset).to.equal(bytes.length);
      expect(firstBytes).to.deep.equal([0xc1, 0x81, 0xc2]);
      h.test.shutdown();
    });

    it('fails with 1009 when a message inflates past maxMessageSize', async () => {
      const h = new Harness({ perMessageDeflate: params, maxMessageSize: 10_000 });
      const deflater = new PerMessageDeflater();
      const compressed = await new Promise<Buffer>((resolve, reject) =>
        deflater.compress(Buffer.alloc(1_000_000), (error, payload) =>
          error !== null || payload === null ? reject(error ?? new Error('no payload')) : resolve(payload),
        ),
      );
      deflater.close();
      expect(compressed.length).to.be.lessThan(10_000);
      h.test.pushRead(h.frame(Opcode.BINARY, compressed, true, true));
      await until(() => h.test.pendingWriteCount > 0, h.test);
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1009, reason: '' }]);
      expect(h.test.shutdownError?.code).to.equal('WEBSOCKET_MESSAGE_TOO_LARGE');
      expect(h.seen.filter((event) => event.kind === 'message')).to.deep.equal([]);
    });

    it('fails with 1007 on inflated text that is not UTF-8', async () => {
      const h = new Harness({ perMessageDeflate: params });
      const deflater = new PerMessageDeflater();
      const compressed = await new Promise<Buffer>((resolve, reject) =>
        deflater.compress(Buffer.from([0xff, 0xfe]), (error, payload) =>
          error !== null || payload === null ? reject(error ?? new Error('no payload')) : resolve(payload),
        ),
      );
      deflater.close();
      h.test.pushRead(h.frame(Opcode.TEXT, compressed, true, true));
      await until(() => h.test.pendingWriteCount > 0, h.test);
      expect(h.written()).to.deep.equal([{ kind: 'close-frame', code: 1007, reason: '' }]);
      expect(h.test.isShutDown).to.equal(true);
    });
  });
});
