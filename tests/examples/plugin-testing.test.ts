import { expect } from 'chai';
import { SluiceError, TestingChannel } from '../../handlers/index.js';
import { PluginErrors, PluginRegistry } from '../../handlers/plugins/index.js';
import { QuotaErrors, QuotaHandler } from '../../examples/plugin-testing/quota-handler.js';

/** The handler is normally built by the registry; a test may also build it directly. */
function newQuota(maxBytes: number, applicationReadWindow?: number): { test: TestingChannel; quota: QuotaHandler } {
  const quota = new QuotaHandler({ maxBytes });
  const test = new TestingChannel([quota], applicationReadWindow === undefined ? {} : { applicationReadWindow });
  return { test, quota };
}

describe('examples/plugin-testing: QuotaHandler', () => {
  it('passes reads within the quota unchanged', () => {
    const { test, quota } = newQuota(10);
    test.pushRead('hello');
    expect(test.takeRead().toString()).to.equal('hello');
    expect(quota.remaining).to.equal(5);
    expect(test.channel.isShuttingDown).to.equal(false);
  });

  it('closes the connection with QUOTA_EXCEEDED when a read goes beyond, delivering nothing of it', () => {
    const { test } = newQuota(4);
    test.pushRead('hello');
    expect(test.takeRead().length).to.equal(0);
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError?.code).to.equal(QuotaErrors.EXCEEDED.code);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('passes writes both before and after reads, and they complete', () => {
    const { test } = newQuota(100);
    test.pushWrite('request');
    expect(test.takeWritten().toString()).to.equal('request');
    test.completeWrites();
    expect(test.pendingWriteCount).to.equal(0);
  });

  it('never accepts more than the application end allows (windows)', () => {
    const { test } = newQuota(100, 3);
    test.pushRead('abcdef');
    expect(test.takeRead().toString()).to.equal('abc');
    expect(test.bufferedReadBytes).to.equal(3);
    test.openReadWindow(3);
    expect(test.takeRead().toString()).to.equal('def');
  });

  it('is built per connection by name through a registry, with its options validated up front', () => {
    const registry = new PluginRegistry({ builtins: false }).register(QuotaHandler);
    expect(() => registry.pipeline(['quota']))
      .to.throw(SluiceError)
      .with.property('code', PluginErrors.MISSING_OPTION.code);
    const test = new TestingChannel([]);
    const [slot] = registry
      .pipeline([{ name: 'quota', options: { maxBytes: 2 } }])
      .install(test.channel, test.socketSlot);
    test.runUntilIdle();
    const quota = slot.handler as QuotaHandler;
    expect(quota).to.be.instanceOf(QuotaHandler);
    expect(quota.options).to.deep.equal({ maxBytes: 2 });
    test.pushRead('abc');
    expect(test.shutdownError?.code).to.equal(QuotaErrors.EXCEEDED.code);
  });
});
