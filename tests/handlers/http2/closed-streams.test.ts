import { expect } from 'chai';
import fc from 'fast-check';
import { ClosedBy, ClosedStreams } from '../../../handlers/http2/connection/closed-streams.js';

describe('ClosedStreams', () => {
  it('remembers how each stream closed', () => {
    const cache = new ClosedStreams(4);
    cache.add(1, ClosedBy.END_STREAM);
    cache.add(3, ClosedBy.RESET_SENT);
    expect(cache.get(1)).to.equal(ClosedBy.END_STREAM);
    expect(cache.get(3)).to.equal(ClosedBy.RESET_SENT);
    expect(cache.get(5)).to.equal(undefined);
  });

  it('forgets the oldest stream first and never holds more than its capacity', () => {
    const cache = new ClosedStreams(3);
    for (let id = 1; id <= 99; id += 2) cache.add(id, ClosedBy.END_STREAM);
    expect(cache.size).to.equal(3);
    expect([95, 97, 99].map((id) => cache.get(id))).to.deep.equal([
      ClosedBy.END_STREAM,
      ClosedBy.END_STREAM,
      ClosedBy.END_STREAM,
    ]);
    expect(cache.get(93)).to.equal(undefined);
  });

  it('answers with the newest entry when a stream is added twice', () => {
    const cache = new ClosedStreams(4);
    cache.add(1, ClosedBy.END_STREAM);
    cache.add(3, ClosedBy.END_STREAM);
    cache.add(3, ClosedBy.RESET_SENT);
    expect(cache.get(1)).to.equal(ClosedBy.END_STREAM);
    expect(cache.get(3)).to.equal(ClosedBy.RESET_SENT);
  });

  it('keeps eviction order while its ring grows', () => {
    const cache = new ClosedStreams(40);
    for (let id = 1; id <= 100; id++) cache.add(id, ClosedBy.END_STREAM);
    expect(cache.size).to.equal(40);
    expect(cache.get(60)).to.equal(undefined);
    expect(cache.get(61)).to.equal(ClosedBy.END_STREAM);
    expect(cache.get(100)).to.equal(ClosedBy.END_STREAM);
  });
});

describe('ClosedStreams: index and allowances', () => {
  it('answers like a bounded list, newest entry first, under random adds, evictions and look-ups (the lazy index never misleads)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ id: fc.integer({ min: 1, max: 120 }), lookUp: fc.boolean() }), { maxLength: 400 }),
        (capacity, steps) => {
          const cache = new ClosedStreams(capacity);
          const model: [number, ClosedBy][] = [];
          const newest = (id: number): ClosedBy | undefined => model.findLast(([entry]) => entry === id)?.[1];
          for (const [step, { id, lookUp }] of steps.entries()) {
            const kind = (step % 4) as ClosedBy;
            cache.add(id, kind);
            model.push([id, kind]);
            if (model.length > capacity) model.shift();
            expect(cache.size).to.equal(model.length);
            // Look-ups between adds exercise the index's incremental upkeep and its rebuilds.
            if (lookUp) expect(cache.get(id), `stream ${id} after step ${step}`).to.equal(newest(id));
          }
          for (let id = 1; id <= 120; id++) expect(cache.get(id), `stream ${id}`).to.equal(newest(id));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('markReset updates a remembered entry in place, or remembers a forgotten stream anew', () => {
    const cache = new ClosedStreams(2);
    cache.add(1, ClosedBy.END_STREAM, 3, 1000, 0);
    cache.markReset(1, 500);
    expect(cache.get(1)).to.equal(ClosedBy.RESET_SENT);
    expect(cache.size).to.equal(1);
    expect(cache.takeData(1, 1), 'its data allowance was the one recorded at close').to.equal(false);
    cache.markReset(7, 500);
    expect(cache.get(7)).to.equal(ClosedBy.RESET_SENT);
    expect(cache.takeData(7, 500)).to.equal(true);
  });

  it('hands out each allowance once, and none for a stream it does not remember', () => {
    const cache = new ClosedStreams(8);
    cache.add(1, ClosedBy.END_STREAM, 2, 1000, 500);
    expect(cache.takeRstStream(1)).to.equal(true);
    expect(cache.takeRstStream(1)).to.equal(false);
    expect(cache.takeEnd(1)).to.equal(true);
    expect(cache.takeEnd(1)).to.equal(false);
    expect(cache.takePriority(1)).to.equal(true);
    expect(cache.takePriority(1)).to.equal(false);
    expect(cache.takeData(1, 400)).to.equal(true);
    expect(cache.takeData(1, 101)).to.equal(false);
    expect(cache.takeData(1, 100)).to.equal(true);
    // Two DATA frames sent: three late updates, within 1000 + 65 535 bytes.
    expect([
      cache.takeWindowUpdate(1, 66_000),
      cache.takeWindowUpdate(1, 500),
      cache.takeWindowUpdate(1, 35),
      cache.takeWindowUpdate(1, 1),
    ]).to.deep.equal([true, true, true, false]);
    for (const take of [
      (id: number) => cache.takeRstStream(id),
      (id: number) => cache.takeEnd(id),
      (id: number) => cache.takePriority(id),
    ])
      expect(take(3)).to.equal(false);
    expect(cache.takeWindowUpdate(3, 1)).to.equal(false);
    expect(cache.takeData(3, 1)).to.equal(false);
  });

  it('remembers nothing with capacity 0', () => {
    const cache = new ClosedStreams(0);
    cache.add(1, ClosedBy.RESET_SENT);
    expect(cache.size).to.equal(0);
    expect(cache.get(1)).to.equal(undefined);
  });
});
