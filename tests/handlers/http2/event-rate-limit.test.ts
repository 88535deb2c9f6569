import { expect } from 'chai';
import { EventRateLimit } from '../../../handlers/http2/connection/event-rate-limit.js';

describe('EventRateLimit', () => {
  it('allows a burst of maxEvents and refuses the next', () => {
    const limit = new EventRateLimit(3, 1000);
    expect([limit.take(0), limit.take(0), limit.take(0), limit.take(0)]).to.deep.equal([true, true, true, false]);
  });

  it('refills continuously over the interval', () => {
    const limit = new EventRateLimit(10, 1000);
    for (let i = 0; i < 10; i++) limit.take(0);
    expect(limit.take(0)).to.equal(false);
    expect(limit.take(100)).to.equal(true); // 100 ms buys one event
    expect(limit.take(100)).to.equal(false);
    expect(limit.take(5000)).to.equal(true);
  });

  it('never holds more than one burst however long it waits', () => {
    const limit = new EventRateLimit(2, 1000);
    limit.take(0);
    let allowed = 0;
    for (let i = 0; i < 5; i++) if (limit.take(1_000_000)) allowed++;
    expect(allowed).to.equal(2);
  });

  it('is disabled with maxEvents 0', () => {
    const limit = new EventRateLimit(0, 1000);
    for (let i = 0; i < 100; i++) expect(limit.take(0)).to.equal(true);
  });
});
