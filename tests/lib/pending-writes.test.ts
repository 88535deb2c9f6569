import { expect } from 'chai';
import { ChannelErrors, IoErrors, SluiceError, TestingChannel, type IoMessage } from '../../lib/index.js';
import { PendingWrites, completeWrite } from '../../lib/pending-writes.js';

describe('PendingWrites', () => {
  it('completes messages oldest first, exactly once each, and releases them', () => {
    const test = new TestingChannel();
    const pool = test.messagePool;
    const completions: string[] = [];
    const pending = new PendingWrites();
    const messages: IoMessage[] = [];
    for (const name of ['a', 'b', 'c']) {
      const message = pool.acquire(8);
      message.onCompletion = (_channel, _message, error) => completions.push(`${name}:${error?.code ?? 'ok'}`);
      pending.push(message);
      messages.push(message);
    }
    expect(pending.completeOldest(test.channel, null)).to.equal(true);
    pending.failAll(test.channel, new SluiceError(IoErrors.BROKEN_PIPE));
    expect(completions).to.deep.equal(['a:ok', 'b:IO_BROKEN_PIPE', 'c:IO_BROKEN_PIPE']);
    expect(pending.size).to.equal(0);
    expect(pending.completeOldest(test.channel, null)).to.equal(false);
    expect(messages.every((message) => message.isReleased)).to.equal(true);
    expect(pool.outstanding).to.equal(0);
    test.shutdown();
  });

  it('releases the message even when its completion throws', () => {
    const test = new TestingChannel();
    const message = test.messagePool.acquire(4);
    message.onCompletion = () => {
      throw new Error('completion bug');
    };
    expect(() => completeWrite(test.channel, message, new SluiceError(ChannelErrors.SHUT_DOWN))).to.throw(
      'completion bug',
    );
    expect(message.isReleased).to.equal(true);
    test.shutdown();
  });
});
