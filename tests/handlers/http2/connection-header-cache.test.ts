import { expect } from 'chai';
import { FrameType } from '../../../handlers/http2/wire/constants.js';
import type { Http2Stream } from '../../../handlers/http2/connection/http2-stream.js';
import { httpDate } from '../../../handlers/http2/api/http-date.js';
import { GET, ofType, serverHarness } from './peer.js';

/** Opens `count` requests and answers each with `respond`, returning the response HEADERS frames. */
function respondTo(count: number, respond: (stream: Http2Stream, index: number) => void) {
  const h = serverHarness();
  for (let i = 0; i < count; i++) h.send(h.peer.headers(2 * i + 1, GET, { endStream: true }));
  h.received.forEach((received, index) => respond(received.stream, index));
  const headers = ofType(h.flush(), FrameType.HEADERS);
  return { h, headers };
}

describe('HTTP/2 connection: repeated response headers', () => {
  it('sends the same bytes for an equal list once the HPACK table stops changing, and the peer decodes them', () => {
    const constant = [':status', '200', 'content-type', 'text/plain', 'x-test', 'cached'];
    const { h, headers } = respondTo(4, (stream) => {
      stream.sendHeaders(constant);
      stream.end();
    });
    expect(headers.map((frame) => frame.headers)).to.deep.equal([constant, constant, constant, constant]);
    // The second encoding only references the table; the third and fourth repeat it exactly.
    expect(headers[2].block!.equals(headers[1].block!)).to.equal(true);
    expect(headers[3].block!.equals(headers[1].block!)).to.equal(true);
    expect(headers[1].block!.length).to.be.lessThan(headers[0].block!.length);
    h.finish();
  });

  it('with a date field from httpDate, equal responses repeat their bytes except right after the second changes', () => {
    const h = serverHarness();
    const blocks: Buffer[] = [];
    const dates: string[] = [];
    for (let i = 0; i < 8; i++) {
      if (i === 4) h.tc.advance(1000); // the calendar second changes once, between responses 3 and 4
      h.send(h.peer.headers(2 * i + 1, GET, { endStream: true }));
      const { stream } = h.received[i];
      // A new list each time, as a server builds it; the date string is shared within a second.
      stream.sendHeaders([':status', '200', 'content-type', 'text/plain', 'date', httpDate(stream.clock)], true);
      const frame = ofType(h.flush(), FrameType.HEADERS)[0];
      blocks.push(frame.block!);
      dates.push(frame.headers![5]);
    }
    expect(new Set(dates.slice(0, 4)).size).to.equal(1);
    expect(new Set(dates.slice(4)).size).to.equal(1);
    expect(dates[4]).to.not.equal(dates[0]);
    // Per second: one encoding that indexes the new date, one that only references the table,
    // and from then on the cached bytes of the second.
    const isSameAsPrevious = blocks.map((block, i) => i > 0 && block.equals(blocks[i - 1]));
    expect(isSameAsPrevious).to.deep.equal([false, false, true, true, false, false, true, true]);
    h.finish();
  });

  it('encodes again when the application edits the array it sent before', () => {
    const reused = [':status', '200', 'x-count', '0'];
    const { h, headers } = respondTo(3, (stream, index) => {
      reused[3] = String(index === 2 ? 2 : 0);
      stream.sendHeaders(reused);
      stream.end();
    });
    expect(headers.map((frame) => frame.headers![3])).to.deep.equal(['0', '0', '2']);
    h.finish();
  });

  it('validates a list that differs from the cached one', () => {
    const { h } = respondTo(2, (stream, index) => {
      if (index === 0) {
        stream.sendHeaders([':status', '200']);
        stream.end();
      } else {
        expect(() => stream.sendHeaders([':status', '200', 'Bad-Name', 'x'])).to.throw(/uppercase/);
        stream.reset();
      }
    });
    h.finish();
  });
});
