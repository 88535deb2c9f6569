import { expect } from 'chai';
import { SluiceError, TestingChannel, type Channel, type IoMessage } from '../../../handlers/index.js';
import { PluginErrors, RateLimiterHandler } from '../../../handlers/plugins/index.js';

describe('RateLimiterHandler', () => {
  it('passes the first burst at once, then reads at the configured rate through the window', () => {
    const test = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1000, refillIntervalMs: 100 })]);
    test.pushRead(Buffer.alloc(3000, 1));
    expect(test.takeRead().length).to.equal(1000);
    // Not buffered by the limiter: the rest waits at the socket end for window.
    expect(test.bufferedReadBytes).to.equal(2000);
    test.advance(100);
    expect(test.takeRead().length).to.equal(100);
    test.advance(900);
    expect(test.takeRead().length).to.equal(900);
    test.advance(1000);
    expect(test.takeRead().length).to.equal(1000);
    expect(test.bufferedReadBytes).to.equal(0);
  });

  it('does not let an idle connection bank more than one burst', () => {
    const limiter = new RateLimiterHandler({ bytesPerSecond: 1000, burstBytes: 500 });
    const test = new TestingChannel([limiter]);
    test.advance(10_000);
    test.pushRead(Buffer.alloc(2000));
    expect(test.takeRead().length).to.equal(500);
    expect(limiter.bytesRead).to.equal(500);
  });

  it('has no timer pending when the bucket is full and the peer is quiet', () => {
    const test = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1000 })]);
    test.advance(5000);
    expect(test.loop.pendingTaskCount).to.equal(0);
  });

  it('never grants more window than the handler to its right has', () => {
    const test = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1_000_000 })], {
      applicationReadWindow: 10,
    });
    test.pushRead(Buffer.alloc(50));
    expect(test.takeRead().length).to.equal(10);
    expect(test.slot.windowSize).to.equal(0);
    test.openReadWindow(15);
    expect(test.takeRead().length).to.equal(15);
  });

  it('leaves writes alone unless a write rate is set', () => {
    const test = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 10 })]);
    test.pushWrite(Buffer.alloc(5000));
    expect(test.takeWritten().length).to.equal(5000);
    test.completeWrites();
  });

  it('queues writes beyond the write bucket and sends them as tokens refill, completions in order', () => {
    const limiter = new RateLimiterHandler({ bytesPerSecond: 1000, writeBytesPerSecond: 100 });
    const test = new TestingChannel([limiter], { autoCompleteWrites: true });
    const completed: number[] = [];
    const send = (size: number): void => {
      const message = test.applicationSlot.acquireMessageForWrite(size);
      message.append(Buffer.alloc(size, size));
      message.onCompletion = (_channel: Channel, done: IoMessage, error: SluiceError | null) => {
        if (error === null) completed.push(done.length);
      };
      test.pushWrite(message);
    };
    send(60);
    send(60);
    send(60);
    expect(completed).to.deep.equal([60]);
    expect(limiter.queuedWriteCount).to.equal(2);
    test.advance(200);
    expect(completed).to.deep.equal([60, 60]);
    test.advance(600);
    expect(completed).to.deep.equal([60, 60, 60]);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('sends queued writes at once on a graceful shutdown, and fails them when freeing immediately', () => {
    const graceful = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1000, writeBytesPerSecond: 10 })], {
      autoCompleteWrites: true,
    });
    graceful.pushWrite(Buffer.alloc(10));
    graceful.pushWrite(Buffer.alloc(10));
    graceful.shutdown();
    expect(graceful.takeWritten().length).to.equal(20);
    expect(graceful.isShutDown).to.equal(true);

    const abrupt = new TestingChannel([new RateLimiterHandler({ bytesPerSecond: 1000, writeBytesPerSecond: 10 })], {
      autoCompleteWrites: true,
    });
    const errors: Array<string | null> = [];
    for (let i = 0; i < 2; i++) {
      const message = abrupt.applicationSlot.acquireMessageForWrite(10);
      message.append(Buffer.alloc(10));
      message.onCompletion = (_channel, _message, error) => errors.push(error?.code ?? null);
      abrupt.pushWrite(message);
    }
    abrupt.shutdown(null, true);
    expect(errors).to.deep.equal([null, 'CHANNEL_SHUTDOWN_NOT_GRACEFUL']);
    expect(abrupt.messagePool.outstanding).to.equal(0);
  });

  it('rejects rates that are not positive with PLUGIN_INVALID_OPTIONS', () => {
    expect(() => new RateLimiterHandler({ bytesPerSecond: -1 }))
      .to.throw(SluiceError)
      .with.property('code', PluginErrors.INVALID_OPTIONS.code);
  });
});
