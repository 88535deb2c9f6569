import { expect } from 'chai';
import { ChannelErrors, PassThroughHandler, SluiceError, TestingChannel } from '../../lib/index.js';
import { ReadQueue } from '../../lib/read-queue.js';

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
});
