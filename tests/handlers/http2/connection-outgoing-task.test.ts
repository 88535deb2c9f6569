import { expect } from 'chai';
import { IoErrors, SluiceError } from '../../../lib/index.js';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import {
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  expectGoaway,
  frameNames,
  ofType,
  request,
  serverHarness,
  type WrittenFrame,
} from './peer.js';

/** A header value whose HPACK block is larger than one 16 KiB frame. */
const BIG_VALUE = Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(0x21 + ((i * 7919) % 90))).join('');

function firstIndex(frames: readonly WrittenFrame[], type: number): number {
  return frames.findIndex((frame) => frame.type === type);
}

describe('HTTP/2 connection: the outgoing-frames task', () => {
  it('writes queued control frames before DATA in the next message', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }));
    const stream = h.received[0].stream;
    stream.sendHeaders(OK);
    stream.write(Buffer.alloc(40_000, 3));
    const first = h.written();
    expect(frameNames(first).slice(0, 2)).to.deep.equal(['HEADERS:1', 'DATA:1']);
    // While that message is in flight the peer asks for answers and a new stream is answered.
    h.send(h.peer.settings(), h.peer.windowUpdate(0, 1000), h.peer.headers(3, GET, { endStream: true }));
    h.received[1].stream.sendHeaders(OK, true);
    h.tc.completeWrites(1);
    const second = h.written();
    const names = frameNames(second);
    expect(names.slice(0, 2)).to.deep.equal(['SETTINGS+ACK:0', 'HEADERS:3']);
    expect(firstIndex(second, FrameType.DATA)).to.equal(2);
    h.finish();
  });

  it('keeps exactly one message in flight: nothing more is written before completeWrites', () => {
    const h = serverHarness();
    h.exchange(h.peer.windowUpdate(0, 1_000_000), h.peer.headers(1, GET, { endStream: true }));
    const stream = h.received[0].stream;
    stream.sendHeaders(OK);
    stream.write(Buffer.alloc(100_000, 4));
    h.tc.runUntilIdle();
    expect(h.tc.pendingWriteCount).to.equal(1);
    expect(h.tc.takeWrittenMessages()).to.have.length(1);
    // More work arrives and time passes: still one message.
    h.send(h.peer.ping(1, 1), h.peer.settings());
    h.tc.advance(5000);
    expect(h.tc.pendingWriteCount).to.equal(1);
    expect(h.tc.takeWrittenMessages()).to.have.length(0);
    for (let round = 0; round < 3; round++) {
      h.tc.completeWrites(1);
      expect(h.tc.pendingWriteCount, `after completion ${round + 1}`).to.equal(1);
      expect(h.tc.takeWrittenMessages()).to.have.length(1);
    }
    h.finish();
  });

  it('goes idle when there is nothing to write, and wakes when a frame is queued or a body is written', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }));
    const stream = h.received[0].stream;
    stream.sendHeaders(OK);
    expect(frameNames(h.flush())).to.deep.equal(['HEADERS:1']);
    const before = h.conn.gatherStatistics().messagesWritten;
    // A stream with no body ready is not polled, and no timer writes.
    h.tc.advance(60_000);
    expect(h.flush()).to.deep.equal([]);
    expect(h.conn.gatherStatistics().messagesWritten).to.equal(before);
    // A control frame wakes it.
    expect(frameNames(h.exchange(h.peer.ping(5, 6)))).to.deep.equal(['PING+ACK:0']);
    // So does a body write from outside any read.
    stream.write(Buffer.from('late body'));
    stream.end();
    const frames = h.flush();
    expect(bodyOf(frames, 1).toString()).to.equal('late body');
    expect(frames.at(-1)!.endStream).to.equal(true);
    expect(h.conn.gatherStatistics().messagesWritten).to.equal(before + 2);
    h.finish();
  });

  it('lets a PING ACK jump ahead of queued control frames', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
    h.send(h.peer.ping(9, 9));
    expect(frameNames(h.written())).to.deep.equal(['PING+ACK:0']); // in flight
    h.received[0].stream.sendHeaders(OK, true);
    h.received[1].stream.sendHeaders(OK, true);
    h.send(h.peer.ping(0xcafe, 0xbabe));
    h.tc.completeWrites(1);
    const frames = h.written();
    expect(frameNames(frames)).to.deep.equal(['PING+ACK:0', 'HEADERS:1', 'HEADERS:3']);
    expect(frames[0].opaque).to.deep.equal([0xcafe, 0xbabe]);
    h.finish();
  });

  const splitCases = [
    { name: 'inside a HEADERS frame split across messages', dataMessageSize: 16_384 },
    { name: 'between HEADERS and CONTINUATION when a message ends exactly at a frame end', dataMessageSize: 16_393 },
  ];
  for (const { name, dataMessageSize } of splitCases) {
    it(`never puts a PING ACK ${name}`, () => {
      const h = serverHarness({ channel: { messagePool: { dataMessageSize } } });
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      h.send(h.peer.ping(1, 1));
      expect(h.tc.pendingWriteCount).to.equal(1);
      h.received[0].stream.sendHeaders([':status', '200', 'x-big', BIG_VALUE], true);
      const frames = h.written();
      h.tc.completeWrites(1); // the first message of the header block goes out
      frames.push(...h.written());
      h.send(h.peer.ping(2, 2));
      frames.push(...h.flush());
      const names = frameNames(frames);
      const headers = names.indexOf('HEADERS:1');
      const lastContinuation = names.lastIndexOf('CONTINUATION:1');
      expect(headers).to.be.greaterThan(-1);
      expect(lastContinuation, 'the block needs CONTINUATION frames').to.be.greaterThan(headers);
      expect(
        names.slice(headers, lastContinuation + 1).every((n) => n === 'HEADERS:1' || n === 'CONTINUATION:1'),
        names.join(' '),
      ).to.equal(true);
      expect(names.indexOf('PING+ACK:0', headers), 'the ACK follows the block').to.equal(lastContinuation + 1);
      expect(ofType(frames, FrameType.HEADERS)[0].headers![3]).to.equal(BIG_VALUE);
      h.finish();
    });
  }

  describe('DATA and flow-control windows', () => {
    it('splits DATA by the stream window when it is the smaller, and resumes on WINDOW_UPDATE', () => {
      const h = clientHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1000]] });
      const { stream } = request(h, POST, { isEndStream: false });
      stream.write(Buffer.alloc(5000, 5));
      stream.end();
      const sizes = (frames: WrittenFrame[]): number[] => ofType(frames, FrameType.DATA).map((frame) => frame.length);
      expect(sizes(h.flush())).to.deep.equal([1000]);
      expect(sizes(h.exchange(h.peer.windowUpdate(1, 1500)))).to.deep.equal([1500]);
      const last = ofType(h.exchange(h.peer.windowUpdate(1, 10_000)), FrameType.DATA);
      expect(last.map((frame) => [frame.length, frame.endStream])).to.deep.equal([[2500, true]]);
      h.finish();
    });

    it('splits DATA by the connection window when it is the smaller, and resumes on WINDOW_UPDATE(0)', () => {
      const h = clientHarness({
        connection: { minDataSendWindow: 1 },
        peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1_000_000]],
      });
      const { stream } = request(h, POST, { isEndStream: false });
      stream.write(Buffer.alloc(70_000, 6));
      stream.end();
      expect(bodyOf(h.flush(), 1).length).to.equal(65_535);
      expect(h.conn._outAvailable).to.equal(0);
      const rest = ofType(h.exchange(h.peer.windowUpdate(0, 10_000)), FrameType.DATA);
      expect(rest.map((frame) => [frame.length, frame.endStream])).to.deep.equal([[4465, true]]);
      expect(h.conn._outAvailable).to.equal(10_000 - 4465);
      h.finish();
    });

    it('sends DATA round-robin, one frame per stream per pass, with writeScheduler round-robin', () => {
      const h = serverHarness({
        connection: { writeScheduler: 'round-robin' },
        channel: { messagePool: { dataMessageSize: 64 * 1024 } },
        peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1_000_000]],
      });
      h.exchange(h.peer.windowUpdate(0, 1_000_000));
      h.exchange(
        h.peer.headers(1, GET, { endStream: true }),
        h.peer.headers(3, GET, { endStream: true }),
        h.peer.headers(5, GET, { endStream: true }),
      );
      for (const { stream } of h.received) {
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(50_000, stream.id));
        stream.end();
      }
      const data = ofType(h.flush(), FrameType.DATA);
      const ids = data.map((frame) => frame.streamId);
      // Each frame goes to the next stream (in 1 → 3 → 5 order) that has not ended yet.
      const ended = new Set<number>();
      const cycle = [1, 3, 5];
      for (let i = 0; i + 1 < data.length; i++) {
        if (data[i].endStream) ended.add(data[i].streamId);
        let next = cycle[(cycle.indexOf(ids[i]) + 1) % 3];
        while (ended.has(next)) next = cycle[(cycle.indexOf(next) + 1) % 3]!;
        expect(ids[i + 1], `frame ${i + 1} of ${ids.join(',')}`).to.equal(next);
      }
      expect(ids.slice(0, 6)).to.deep.equal([1, 3, 5, 1, 3, 5]);
      for (const id of cycle) expect(bodyOf(data, id).length).to.equal(50_000);
      h.finish();
    });

    it('writes no DATA while the connection send window is below minDataSendWindow', () => {
      const h = clientHarness({
        connection: { minDataSendWindow: 256 },
        peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1_000_000]],
      });
      const a = request(h, POST, { isEndStream: false });
      a.stream.write(Buffer.alloc(65_435, 1));
      expect(bodyOf(h.flush(), 1).length).to.equal(65_435);
      expect(h.conn._outAvailable).to.equal(100);
      const b = request(h, POST, { isEndStream: false });
      b.stream.write(Buffer.alloc(1000, 2));
      expect(frameNames(h.flush())).to.deep.equal(['HEADERS:3']);
      expect(ofType(h.exchange(h.peer.windowUpdate(0, 100)), FrameType.DATA), 'window 200 < 256').to.have.length(0);
      const resumed = ofType(h.exchange(h.peer.windowUpdate(0, 56)), FrameType.DATA);
      expect(resumed.map((frame) => [frame.streamId, frame.length])).to.deep.equal([[3, 256]]);
      h.finish();
    });

    it('still sends the last bytes of a stream that fit in a connection window below minDataSendWindow', () => {
      const h = clientHarness({
        connection: { minDataSendWindow: 256 },
        peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1_000_000]],
      });
      const a = request(h, POST, { isEndStream: false });
      a.stream.write(Buffer.alloc(65_435, 1));
      h.flush();
      const b = request(h, POST, { isEndStream: false });
      b.stream.write(Buffer.alloc(50, 2));
      b.stream.end();
      const data = ofType(h.flush(), FrameType.DATA);
      expect(data.map((frame) => [frame.streamId, frame.length, frame.endStream])).to.deep.equal([[3, 50, true]]);
      h.finish();
    });
  });

  describe('shutdown and write failure', () => {
    it('waits for GOAWAY to be written before the channel shuts down', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      const recorder = h.received[0].recorder;
      const stream = h.received[0].stream;
      stream.sendHeaders(OK);
      stream.write(Buffer.alloc(200_000, 1));
      h.written();
      expect(h.tc.pendingWriteCount).to.equal(1);
      h.tc.shutdown();
      // DATA stops; the stream fails; GOAWAY waits for the message in flight.
      expect(recorder.closeCount).to.equal(1);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.completeWrites(1);
      const frames = h.written();
      expect(frameNames(frames)).to.deep.equal(['GOAWAY:0']);
      expectGoaway(frames, ErrorCode.NO_ERROR, 1);
      expect(h.tc.isShutDown, 'not before the GOAWAY write completes').to.equal(false);
      h.tc.completeWrites();
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.tc.shutdownError).to.equal(null);
      h.finish();
    });

    it('shuts down at once without GOAWAY when resources must be freed immediately', () => {
      const h = serverHarness();
      h.tc.shutdown(null, true);
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.written()).to.deep.equal([]);
      h.finish();
    });

    it('fails every stream exactly once with the write error and shuts the channel down', () => {
      const errors: SluiceError[] = [];
      const h = serverHarness({ connection: { onError: (error) => errors.push(error) } });
      h.exchange(
        h.peer.headers(1, GET, { endStream: true }),
        h.peer.headers(3, POST),
        h.peer.headers(5, GET, { endStream: true }),
      );
      const pings: (SluiceError | null)[] = [];
      h.conn.ping((error) => pings.push(error));
      for (const { stream } of h.received.slice(0, 2)) {
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(30_000, 1));
      }
      h.written();
      const failure = new SluiceError(IoErrors.BROKEN_PIPE, 'peer went away');
      h.tc.failWrites(failure);
      h.flush();
      for (const { recorder } of h.received) {
        expect(recorder.closeCount).to.equal(1);
        expect(recorder.closeError).to.equal(failure);
      }
      expect(pings).to.deep.equal([failure]);
      expect(errors).to.deep.equal([failure]);
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.tc.shutdownError).to.equal(failure);
      expect(h.conn.activeStreamCount).to.equal(0);
      h.finish();
      for (const { recorder } of h.received) expect(recorder.closeCount).to.equal(1);
    });

    it('drops DATA still queued behind a message in flight at shutdown; GOAWAY carries the last peer stream', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(7, GET, { endStream: true }));
      h.send(h.peer.ping(1, 2)); // its ACK stays in flight
      h.received[0].stream.sendHeaders(OK);
      h.received[0].stream.write(Buffer.from('never sent'));
      h.tc.shutdown();
      const frames = h.flush();
      expect(ofType(frames, FrameType.DATA)).to.have.length(0);
      expectGoaway(frames, ErrorCode.NO_ERROR, 7);
      h.finish();
    });
  });
});
