/**
 * WebSocketConnection's copy-free pair: `onMessageView` (a message as a view valid during the
 * call — of the pooled read message when the message is whole in one read, else of a pooled
 * assembly) and `sendCopy` (the payload copied before it returns, framed straight into a pooled
 * outgoing message when nothing is queued ahead). On the testing channel.
 */
import { expect } from 'chai';
import { TestingChannel } from '../../../lib/index.js';
import { WebSocketConnection } from '../../../handlers/websocket/connection/websocket-connection.js';
import type { WebSocketConnectionOptions } from '../../../handlers/websocket/connection/connection-options.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import { WebSocketFrameDecoder } from '../../../handlers/websocket/wire/frame-decoder.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';

interface Received {
  readonly text: string | null;
  readonly bytes: Buffer;
}

/** A server connection whose listener takes messages as views (copying them for the test), and a client peer. */
class ViewHarness {
  readonly received: Received[] = [];
  readonly test: TestingChannel;
  readonly connection: WebSocketConnection;
  private readonly peer = new WebSocketFrameEncoder({ role: 'client' });
  private readonly written: Received[] = [];
  private readonly parts: Buffer[] = [];
  private readonly peerDecoder = new WebSocketFrameDecoder(
    {
      onData: (opcode, data, start, end, _isFrameEnd, isMessageEnd) => {
        this.parts.push(Buffer.from(data.subarray(start, end)));
        if (!isMessageEnd) return;
        const bytes = Buffer.concat(this.parts.splice(0));
        this.written.push({ text: opcode === Opcode.TEXT ? bytes.toString() : null, bytes });
      },
      onPing: () => {},
      onPong: () => {},
      onClose: () => {},
    },
    { role: 'client', maxMessageSize: 2 ** 40 },
  );

  constructor(
    options: Partial<WebSocketConnectionOptions> = {},
    onView: (connection: WebSocketConnection, data: Buffer, isText: boolean) => void = () => {},
  ) {
    this.connection = new WebSocketConnection({
      role: 'server',
      ...options,
      listener: {
        onMessageView: (connection, data, isText) => {
          this.received.push({ text: isText ? data.toString('utf8') : null, bytes: Buffer.from(data) });
          onView(connection, data, isText);
        },
      },
    });
    this.test = new TestingChannel([this.connection]);
  }

  /** A client frame as bytes. */
  frame(opcode: 0 | 1 | 2, payload: Buffer | string, isFinal = true): Buffer {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const target = Buffer.alloc(this.peer.frameLength(bytes.length));
    this.peer.writeDataFrame(target, 0, opcode, bytes, 0, bytes.length, isFinal);
    return target;
  }

  /** Decodes what the connection wrote, completing the writes. */
  writtenMessages(): Received[] {
    this.test.runUntilIdle();
    this.test.flushWrites();
    const bytes = this.test.takeWritten();
    if (bytes.length > 0) this.peerDecoder.decode(bytes);
    return this.written.splice(0);
  }
}

/** `length` bytes that differ from one offset to the next. */
function pattern(length: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe('WebSocketConnection onMessageView and sendCopy', () => {
  describe('onMessageView', () => {
    it('hands a message whole in one read as a view of the read, whose memory the next read reuses', () => {
      const kept: Buffer[] = [];
      const h = new ViewHarness({}, (_connection, data) => kept.push(data));
      h.test.pushRead(h.frame(Opcode.BINARY, pattern(200, 1)));
      expect(h.received[0].bytes.equals(pattern(200, 1))).to.equal(true);
      expect(h.test.messagePool.outstanding).to.equal(0);
      // Not a copy: the pooled read message went back and carries the next read.
      h.test.pushRead(h.frame(Opcode.BINARY, pattern(200, 2)));
      expect(h.received[1].bytes.equals(pattern(200, 2))).to.equal(true);
      expect(kept[0].equals(pattern(200, 1))).to.equal(false);
    });

    it('delivers messages split into two reads at every offset, and into three at every second cut', () => {
      const seed = new ViewHarness();
      // 200 bytes: the word-wise unmask runs on both sides of a cut.
      const stream = Buffer.concat([seed.frame(Opcode.BINARY, pattern(200)), seed.frame(Opcode.TEXT, 'héllo wörld')]);
      const splits: number[][] = [];
      for (let cut = 0; cut <= stream.length; cut++) splits.push([0, cut, stream.length]);
      for (let cut = 4; cut < stream.length; cut += 7) splits.push([0, 3, cut, stream.length]);
      for (const bounds of splits) {
        const h = new ViewHarness();
        for (let i = 0; i + 1 < bounds.length; i++) h.test.pushRead(stream.subarray(bounds[i], bounds[i + 1]));
        const points = bounds.slice(1, -1);
        expect(
          h.received.map((message) => message.text ?? message.bytes.length),
          `cuts ${points.join(',')}`,
        ).to.deep.equal([200, 'héllo wörld']);
        expect(h.received[0].bytes.equals(pattern(200)), `cuts ${points.join(',')}`).to.equal(true);
        expect(h.test.messagePool.outstanding).to.equal(0);
      }
    });

    it('gathers a message larger than one read in a pooled message and gives it back after the call', () => {
      const h = new ViewHarness({ readWindowSize: 4096 });
      h.test.pushRead(h.frame(Opcode.BINARY, pattern(100_000, 3)));
      expect(h.received.length).to.equal(1);
      expect(h.received[0].bytes.equals(pattern(100_000, 3))).to.equal(true);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('keeps wire order: a message behind a fragmented one in the same read waits as its own copy', () => {
      const h = new ViewHarness();
      h.test.pushRead(
        Buffer.concat([
          h.frame(Opcode.TEXT, 'frag', false),
          h.frame(Opcode.CONTINUATION, 'mented'),
          h.frame(Opcode.BINARY, pattern(300, 4)),
          h.frame(Opcode.TEXT, 'last'),
        ]),
      );
      expect(h.received.map((message) => message.text ?? message.bytes.length)).to.deep.equal([
        'fragmented',
        300,
        'last',
      ]);
      expect(h.received[1].bytes.equals(pattern(300, 4))).to.equal(true);
    });

    it('counts a message consumed when the call returns, in manual window mode too', () => {
      const h = new ViewHarness({ isManualWindow: true, readWindowSize: 1024 });
      const frame = h.frame(Opcode.BINARY, pattern(600));
      h.test.pushRead(Buffer.concat([frame, frame, frame, frame]));
      // Without consumeMessage: every message arrived, every byte was read.
      expect(h.received.length).to.equal(4);
      expect(h.test.bufferedReadBytes).to.equal(0);
    });

    it('delivers nothing that follows a Close in the same read (RFC 6455 §5.5.1)', () => {
      const h = new ViewHarness();
      const close = Buffer.alloc(new WebSocketFrameEncoder({ role: 'client' }).closeFrameLength(1000));
      new WebSocketFrameEncoder({ role: 'client' }).writeClose(close, 0, 1000);
      h.test.pushRead(Buffer.concat([h.frame(Opcode.TEXT, 'before'), close, h.frame(Opcode.TEXT, 'after')]));
      expect(h.received.map((message) => message.text)).to.deep.equal(['before']);
    });

    it('fails with 1011 when the callback throws and delivers nothing after it', () => {
      const h = new ViewHarness({}, () => {
        throw new Error('listener bug');
      });
      h.test.pushRead(Buffer.concat([h.frame(Opcode.TEXT, 'one'), h.frame(Opcode.TEXT, 'two')]));
      expect(h.received.map((message) => message.text)).to.deep.equal(['one']);
      const written = h.test.takeWritten();
      // A Close frame with 1011 (internal error).
      expect([written[0], written[2] * 256 + written[3]]).to.deep.equal([0x88, 1011]);
    });
  });

  describe('sendCopy', () => {
    it('copies before it returns: the caller may reuse the buffer at once', () => {
      const h = new ViewHarness();
      const buffer = pattern(5000, 5);
      expect(h.connection.sendCopy(buffer, false)).to.equal(true);
      buffer.fill(0);
      const text = Buffer.from('héllo');
      h.connection.sendCopy(text, true);
      text.fill(0);
      expect(
        h.writtenMessages().map((message) => message.text ?? message.bytes.equals(pattern(5000, 5))),
      ).to.deep.equal([true, 'héllo']);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('echoes views: every message back, in order, with no pooled message left out', () => {
      const h = new ViewHarness({}, (connection, data, isText) => connection.sendCopy(data, isText));
      const sizes = [0, 1, 125, 126, 65_535, 65_536, 70_000, 300_000];
      for (const [index, size] of sizes.entries()) h.test.pushRead(h.frame(Opcode.BINARY, pattern(size, index)));
      const echoed = h.writtenMessages();
      expect(echoed.map((message) => message.bytes.length)).to.deep.equal(sizes);
      for (const [index, size] of sizes.entries())
        expect(echoed[index].bytes.equals(pattern(size, index))).to.equal(true);
      expect(h.test.messagePool.outstanding).to.equal(0);
    });

    it('goes behind what send queued, calls back once written, and counts in bufferedAmount and the high-water mark', () => {
      const h = new ViewHarness({ highWaterMark: 3000 });
      const done: (string | null)[] = [];
      h.connection.send(Buffer.from('queued first'), true);
      h.connection.sendCopy(pattern(1000, 6), false, (error) => done.push(error?.code ?? null));
      expect(h.connection.bufferedAmount).to.equal(1012);
      expect(h.writtenMessages().map((message) => message.text ?? message.bytes.length)).to.deep.equal([
        'queued first',
        1000,
      ]);
      expect(done).to.deep.equal([null]);
      // Framed straight into the next write (no callback): still buffered until written.
      expect(h.connection.sendCopy(pattern(2000), false)).to.equal(true);
      expect(h.connection.sendCopy(pattern(2000), false)).to.equal(false);
      expect(h.connection.bufferedAmount).to.equal(4000);
      h.connection.send('after', true);
      expect(h.writtenMessages().map((message) => message.text ?? message.bytes.length)).to.deep.equal([
        2000,
        2000,
        'after',
      ]);
      expect(h.connection.bufferedAmount).to.equal(0);
    });

    it('a graceful shutdown writes copied frames before the Close; a failure drops them and leaves no pooled message', () => {
      const graceful = new ViewHarness();
      graceful.connection.sendCopy(pattern(100), false);
      graceful.test.shutdown();
      expect(graceful.writtenMessages().map((message) => message.bytes.length)).to.deep.equal([100]);
      expect(graceful.test.isShutDown).to.equal(true);
      expect(graceful.test.messagePool.outstanding).to.equal(0);

      const failed = new ViewHarness();
      failed.connection.sendCopy(pattern(100), false);
      failed.connection.sendCopy(pattern(400_000), false); // larger than a pooled message: its own copy
      // A protocol error (an unmasked frame) fails the connection before anything was written.
      failed.test.pushRead(Buffer.from([0x82, 0x01, 0x00]));
      failed.test.flushWrites();
      expect(failed.writtenMessages()).to.deep.equal([]);
      expect(failed.test.messagePool.outstanding).to.equal(0);
    });

    it('throws WEBSOCKET_CONNECTION_CLOSED once the close started', () => {
      const h = new ViewHarness();
      h.connection.close(1000);
      expect(() => h.connection.sendCopy(pattern(10), false))
        .to.throw()
        .with.property('code', 'WEBSOCKET_CONNECTION_CLOSED');
    });
  });
});
