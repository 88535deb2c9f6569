import { expect } from 'chai';
import { ControlFrameQueue } from '../../../handlers/http2/connection/control-frame-queue.js';
import { FrameEncoder, RST_STREAM_FRAME_LENGTH } from '../../../handlers/http2/wire/frame-encoder.js';
import { FrameType } from '../../../handlers/http2/wire/constants.js';

function queueRst(queue: ControlFrameQueue, streamId: number): void {
  const buffer = queue.reserve(RST_STREAM_FRAME_LENGTH);
  queue.commit(new FrameEncoder().writeRstStream(buffer, queue.tail, streamId, 8) - queue.tail);
}

function queueRaw(queue: ControlFrameQueue, payloadLength: number, streamId: number): void {
  const payload = Buffer.alloc(payloadLength, 0xab);
  const buffer = queue.reserve(9 + payloadLength);
  queue.commit(
    new FrameEncoder(16_384).writeFrame(buffer, queue.tail, 0x20, 0, streamId, payload, 0, payloadLength) - queue.tail,
  );
}

/** Frame types and stream ids in a byte stream of whole frames. */
function frames(bytes: Buffer): string[] {
  const result: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    result.push(`${bytes[at + 3]}:${bytes.readUInt32BE(at + 5) & 0x7fffffff}`);
    at += 9 + length;
  }
  return result;
}

describe('ControlFrameQueue', () => {
  it('copies whole frames in order and counts them', () => {
    const queue = new ControlFrameQueue();
    queueRst(queue, 1);
    queueRst(queue, 3);
    expect(queue.frameCount).to.equal(2);
    const target = Buffer.alloc(100);
    const end = queue.copyInto(target, 0, target.length);
    expect(end).to.equal(2 * RST_STREAM_FRAME_LENGTH);
    expect(frames(target.subarray(0, end))).to.deep.equal([`${FrameType.RST_STREAM}:1`, `${FrameType.RST_STREAM}:3`]);
    expect(queue.isEmpty).to.equal(true);
    expect(queue.frameCount).to.equal(0);
  });

  it("holds no buffer while empty, and queues sharing lent buffers never see each other's frames", () => {
    const a = new ControlFrameQueue();
    const b = new ControlFrameQueue();
    expect(a.buffer.length, 'a new queue holds nothing').to.equal(0);
    queueRst(a, 1);
    const target = Buffer.alloc(100);
    a.copyInto(target, 0, target.length);
    expect(a.buffer.length, 'an emptied queue lends its buffer back').to.equal(0);
    // b now takes the buffer a lent; a needs another one while b still holds its frame.
    queueRst(b, 3);
    queueRst(a, 5);
    expect(a.buffer).to.not.equal(b.buffer);
    const fromA = Buffer.alloc(100);
    const fromB = Buffer.alloc(100);
    expect(frames(fromA.subarray(0, a.copyInto(fromA, 0, 100)))).to.deep.equal([`${FrameType.RST_STREAM}:5`]);
    expect(frames(fromB.subarray(0, b.copyInto(fromB, 0, 100)))).to.deep.equal([`${FrameType.RST_STREAM}:3`]);
  });

  it('keeps a grown buffer across empty spells', () => {
    const queue = new ControlFrameQueue();
    queueRaw(queue, 2000, 1);
    const grown = queue.buffer;
    expect(grown.length).to.be.at.least(2009);
    const target = Buffer.alloc(4096);
    expect(frames(target.subarray(0, queue.copyInto(target, 0, target.length)))).to.deep.equal(['32:1']);
    expect(queue.buffer).to.equal(grown);
  });

  it('continues a frame that did not fit in the next message before anything else', () => {
    const queue = new ControlFrameQueue();
    queueRaw(queue, 100, 5);
    const first = Buffer.alloc(40);
    expect(queue.copyInto(first, 0, 40)).to.equal(40);
    queue.pushPingAck(1, 2);
    const second = Buffer.alloc(200);
    const end = queue.copyInto(second, 0, 200);
    // The rest of the split frame comes first; the PING ACK waits for the frame boundary.
    expect(end).to.equal(109 - 40);
    const joined = Buffer.concat([first, second.subarray(0, end)]);
    expect(frames(joined)).to.deep.equal(['32:5']);
    const third = Buffer.alloc(200);
    const ackEnd = queue.copyInto(third, 0, 200);
    expect(frames(third.subarray(0, ackEnd))).to.deep.equal([`${FrameType.PING}:0`]);
    expect(third.readUInt32BE(9)).to.equal(1);
    expect(third.readUInt32BE(13)).to.equal(2);
  });

  it('puts PING ACKs ahead of queued frames at a frame boundary', () => {
    const queue = new ControlFrameQueue();
    queueRst(queue, 1);
    queue.copyInto(Buffer.alloc(100), 0, 100);
    queueRst(queue, 7);
    queue.pushPingAck(0xdead, 0xbeef);
    const target = Buffer.alloc(100);
    const end = queue.copyInto(target, 0, 100);
    expect(frames(target.subarray(0, end))).to.deep.equal([`${FrameType.PING}:0`, `${FrameType.RST_STREAM}:7`]);
  });

  it('puts no PING ACK ahead of the first frame, the SETTINGS preface (RFC 9113 §3.4)', () => {
    const queue = new ControlFrameQueue();
    const settings = queue.reserve(9);
    queue.commit(new FrameEncoder().writeSettings(settings, queue.tail, []) - queue.tail);
    queue.pushPingAck(1, 2);
    queueRst(queue, 7);
    const target = Buffer.alloc(100);
    let end = 0;
    // The task copies until nothing more goes: the ACK follows in the same message.
    for (let pass = 0; pass < 3; pass++) end = queue.copyInto(target, end, 100);
    expect(frames(target.subarray(0, end))).to.deep.equal([
      `${FrameType.SETTINGS}:0`,
      `${FrameType.RST_STREAM}:7`,
      `${FrameType.PING}:0`,
    ]);
  });

  it('writes a PING ACK when nothing was queued before it', () => {
    const queue = new ControlFrameQueue();
    queue.pushPingAck(1, 2);
    const target = Buffer.alloc(100);
    expect(frames(target.subarray(0, queue.copyInto(target, 0, 100)))).to.deep.equal([`${FrameType.PING}:0`]);
  });

  it('grows past its initial size and keeps every byte', () => {
    const queue = new ControlFrameQueue();
    for (let i = 0; i < 1000; i++) queueRst(queue, 2 * i + 1);
    const target = Buffer.alloc(1000 * RST_STREAM_FRAME_LENGTH);
    const end = queue.copyInto(target, 0, target.length);
    const ids = frames(target.subarray(0, end)).map((frame) => Number(frame.split(':')[1]));
    expect(ids).to.deep.equal(Array.from({ length: 1000 }, (_unused, i) => 2 * i + 1));
  });

  it('drops everything on clear', () => {
    const queue = new ControlFrameQueue();
    queueRst(queue, 1);
    queue.pushPingAck(1, 1);
    queue.clear();
    expect(queue.isEmpty).to.equal(true);
    expect(queue.copyInto(Buffer.alloc(50), 0, 50)).to.equal(0);
  });
});
