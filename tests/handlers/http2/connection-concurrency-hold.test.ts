import { expect } from 'chai';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import { GET, expectRst, serverHarness } from './peer.js';

describe('HTTP/2 connection: concurrency held by application work (Rapid Reset)', () => {
  it('keeps a reset stream counted until the application releases its slot', () => {
    const h = serverHarness({
      connection: { maxConcurrentStreams: 2, onStream: (stream) => stream.holdConcurrencySlot() },
    });
    h.send(h.peer.headers(1, GET), h.peer.headers(3, GET));
    h.send(h.peer.rstStream(1, ErrorCode.CANCEL), h.peer.rstStream(3, ErrorCode.CANCEL));
    expect(h.received.map((received) => received.stream.isClosed)).to.deep.equal([true, true]);
    // Both streams are closed, but their work has not ended: a third stream is refused.
    h.send(h.peer.headers(5, GET));
    expectRst(h.flush(), 5, ErrorCode.REFUSED_STREAM);
    expect(h.received).to.have.length(2);
    h.received[0].stream.releaseConcurrencySlot();
    h.send(h.peer.headers(7, GET, { endStream: true }));
    expect(h.received.map((received) => received.stream.id)).to.deep.equal([1, 3, 7]);
    h.received[1].stream.releaseConcurrencySlot();
    h.received[2].stream.releaseConcurrencySlot();
    h.finish();
  });

  it('frees the slot at close when the application holds nothing', () => {
    const h = serverHarness({ connection: { maxConcurrentStreams: 1 } });
    h.send(h.peer.headers(1, GET), h.peer.rstStream(1, ErrorCode.CANCEL), h.peer.headers(3, GET, { endStream: true }));
    expect(h.received.map((received) => received.stream.id)).to.deep.equal([1, 3]);
    h.finish();
  });
});
