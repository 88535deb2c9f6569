import { expect } from 'chai';
import { ChannelErrors, PassThroughHandler, SluiceError, TestingChannel } from '../../lib/index.js';
import { READ_WRAP_MIN_BYTES, ReadQueue } from '../../lib/read-queue.js';
import type { ChannelSlot, IoMessage } from '../../lib/index.js';

describe('ReadQueue', () => {
  it('sends right no more than the window, in order, and keeps the rest', () => {
    const test = new TestingChannel([new PassThroughHandler()], { applicationReadWindow: 5 });
    const queue = new ReadQueue();
    queue.push(Buffer.from('hello '));
    queue.push(Buffer.from('world'));
    expect(queue.byteLength).to.equal(11);
    expect(queue.deliver(test.socketSlot)).to.equal(5);
    test.runUntilIdle();
    expect(test.takeRead().toString()).to.equal('hello');
    expect([queue.byteLength, queue.isEmpty]).to.deep.equal([6, false]);
    test.openReadWindow(100);
    expect(queue.deliver(test.socketSlot)).to.equal(6);
    test.runUntilIdle();
    expect(test.takeRead().toString()).to.equal(' world');
    queue.push(Buffer.from('dropped'));
    queue.clear();
    expect(queue.isEmpty).to.equal(true);
    test.shutdown();
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('returns -1 and shuts the channel down with CHANNEL_HANDLER_FAILED when the neighbour throws', () => {
    const refusing = Object.assign(new PassThroughHandler(), {
      processReadMessage(): never {
        throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'refused');
      },
    });
    const test = new TestingChannel([refusing]);
    const queue = new ReadQueue();
    queue.push(Buffer.from('data'));
    expect(queue.deliver(test.socketSlot)).to.equal(-1);
    test.runUntilIdle();
    expect(test.shutdownError?.code).to.equal(ChannelErrors.INVALID_SLOT_OPERATION.code);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('hands chunks of READ_WRAP_MIN_BYTES or more right as they are, copies smaller ones into pooled messages', () => {
    const seen: { bytes: string; sharesMemory: boolean }[] = [];
    const large = Buffer.alloc(READ_WRAP_MIN_BYTES * 2 + 10, 0x61);
    const small = Buffer.from('small');
    const recording = Object.assign(new PassThroughHandler(), {
      processReadMessage(_slot: ChannelSlot, message: IoMessage): void {
        const data = message.data.subarray(0, message.length);
        seen.push({ bytes: data.toString('latin1'), sharesMemory: data.buffer === large.buffer });
        message.release();
      },
    });
    // A window of 1.5 wrap sizes: the large chunk goes in two wrapped pieces and a copied tail.
    const test = new TestingChannel([recording], { applicationReadWindow: READ_WRAP_MIN_BYTES * 1.5 });
    const queue = new ReadQueue();
    queue.push(large);
    queue.push(small);
    expect(queue.deliver(test.socketSlot)).to.equal(READ_WRAP_MIN_BYTES * 1.5);
    test.runUntilIdle();
    test.openReadWindow(large.length);
    expect(queue.deliver(test.socketSlot)).to.equal(large.length + small.length - READ_WRAP_MIN_BYTES * 1.5);
    test.runUntilIdle();
    expect(seen.map((entry) => [entry.bytes.length, entry.sharesMemory])).to.deep.equal([
      [READ_WRAP_MIN_BYTES * 1.5, true],
      [READ_WRAP_MIN_BYTES / 2 + 10, false],
      [small.length, false],
    ]);
    expect(seen.map((entry) => entry.bytes).join('')).to.equal(large.toString('latin1') + 'small');
    test.shutdown();
    expect(test.messagePool.outstanding).to.equal(0);
  });
});
