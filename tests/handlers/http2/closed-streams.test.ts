import { expect } from 'chai';
import { ClosedBy, ClosedStreams } from '../../../handlers/http2/closed-streams.js';

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
    expect([95, 97, 99].map((id) => cache.get(id))).to.deep.equal([ClosedBy.END_STREAM, ClosedBy.END_STREAM, ClosedBy.END_STREAM]);
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
