import { expect } from 'chai';
import { ChannelErrors, PassThroughHandler, SluiceError, TestingChannel, type ChannelSlot } from '../../lib/index.js';
import { ReadQueue, deliverChunk } from '../../lib/read-queue.js';

/** Delivers through `deliver` to a neighbour that refuses every read: -1, the channel failed, nothing leaked. */
function expectRefusedDelivery(deliver: (slot: ChannelSlot) => number): void {
  const refusing = Object.assign(new PassThroughHandler(), {
    processReadMessage(): never {
      throw new SluiceError(ChannelErrors.INVALID_SLOT_OPERATION, 'refused');
    },
  });
  const test = new TestingChannel([refusing]);
  expect(deliver(test.socketSlot)).to.equal(-1);
  test.runUntilIdle();
  expect(test.shutdownError?.code).to.equal(ChannelErrors.INVALID_SLOT_OPERATION.code);
  expect(test.messagePool.outstanding).to.equal(0);
}

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
    expectRefusedDelivery((slot) => {
      const queue = new ReadQueue();
      queue.push(Buffer.from('data'));
      return queue.deliver(slot);
    });
  });

  describe('deliverChunk', () => {
    it('sends right what the window allows and returns how much went; the caller keeps the rest', () => {
      const test = new TestingChannel([new PassThroughHandler()], { applicationReadWindow: 5 });
      expect(deliverChunk(test.socketSlot, Buffer.from('hello world'))).to.equal(5);
      test.runUntilIdle();
      expect(test.takeRead().toString()).to.equal('hello');
      expect(deliverChunk(test.socketSlot, Buffer.from('more'))).to.equal(0);
      test.openReadWindow(100);
      expect(deliverChunk(test.socketSlot, Buffer.from(' world'))).to.equal(6);
      test.runUntilIdle();
      expect(test.takeRead().toString()).to.equal(' world');
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('returns -1 and shuts the channel down with CHANNEL_HANDLER_FAILED when the neighbour throws', () => {
      expectRefusedDelivery((slot) => deliverChunk(slot, Buffer.from('data')));
    });
  });
});
