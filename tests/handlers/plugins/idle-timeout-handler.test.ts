import { expect } from 'chai';
import { SluiceError, TestingChannel } from '../../../handlers/index.js';
import { IdleTimeoutHandler, PluginErrors } from '../../../handlers/plugins/index.js';

describe('IdleTimeoutHandler', () => {
  it('closes the channel with PLUGIN_IDLE_TIMEOUT after the timeout without traffic', () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 1000 })]);
    test.advance(999);
    expect(test.channel.isShuttingDown).to.equal(false);
    test.advance(1);
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError?.code).to.equal(PluginErrors.IDLE_TIMEOUT.code);
    expect(test.shutdownError?.message).to.contain('1000 ms');
  });

  it('re-arms on reads and writes, measuring from the last one', () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 1000 })]);
    test.advance(800);
    test.pushRead('a');
    test.advance(800);
    test.pushWrite('b');
    test.completeWrites();
    test.advance(999);
    expect(test.channel.isShuttingDown).to.equal(false);
    test.advance(1);
    expect(test.shutdownError?.code).to.equal(PluginErrors.IDLE_TIMEOUT.code);
    expect(test.takeRead().toString()).to.equal('a');
    expect(test.takeWritten().toString()).to.equal('b');
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('keeps one timer task pending however much traffic passes (no re-arm per message)', () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 1000 })]);
    const pendingBefore = test.loop.pendingTaskCount;
    for (let i = 0; i < 50; i++) test.pushRead('x');
    expect(test.loop.pendingTaskCount).to.equal(pendingBefore);
    expect(test.loop.nextDeadline).to.equal(1000);
  });

  it("with watch 'reads' ignores writes", () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 100, watch: 'reads' })]);
    test.advance(60);
    test.pushWrite('w');
    test.completeWrites();
    test.advance(40);
    expect(test.shutdownError?.code).to.equal(PluginErrors.IDLE_TIMEOUT.code);
    expect(test.shutdownError?.message).to.contain('no reads for 100 ms');
  });

  it('stops its timer when the channel shuts down for another reason', () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 100 })]);
    test.shutdown();
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError).to.equal(null);
    test.advance(1000);
    expect(test.shutdownError).to.equal(null);
    expect(test.loop.pendingTaskCount).to.equal(0);
  });

  it('respects the read window of the handler to its right (pass-through window)', () => {
    const test = new TestingChannel([new IdleTimeoutHandler({ timeoutMs: 1000 })], { applicationReadWindow: 4 });
    test.pushRead('abcdefgh');
    expect(test.takeRead().toString()).to.equal('abcd');
    test.openReadWindow(4);
    expect(test.takeRead().toString()).to.equal('efgh');
  });

  it('rejects a non-positive timeout with PLUGIN_INVALID_OPTIONS', () => {
    expect(() => new IdleTimeoutHandler({ timeoutMs: 0 }))
      .to.throw(SluiceError)
      .with.property('code', PluginErrors.INVALID_OPTIONS.code);
  });
});
