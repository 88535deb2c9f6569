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

  it('updates a stream added twice without evicting another', () => {
    const cache = new ClosedStreams(2);
    cache.add(1, ClosedBy.END_STREAM);
    cache.add(3, ClosedBy.END_STREAM);
    cache.add(3, ClosedBy.RESET_SENT);
    expect(cache.size).to.equal(2);
    expect(cache.get(1)).to.equal(ClosedBy.END_STREAM);
    expect(cache.get(3)).to.equal(ClosedBy.RESET_SENT);
  });
});
