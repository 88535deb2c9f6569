import { expect } from 'chai';
import { SluiceError } from '../../../lib/index.js';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import {
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  ofType,
  request,
  serverHarness,
} from './peer.js';

describe('HTTP/2 connection: limits', () => {
  describe('a peer that floods and never lets our writes complete', () => {
    it('holds the read window at half of maxQueuedControlFrames and returns it once the answers drain', () => {
      const h = serverHarness({ connection: { maxQueuedControlFrames: 100 } });
      h.send(h.peer.ping(0, 0)); // its ACK stays in flight: the peer does not read
      const windowBefore = h.tc.socketSlot.downstreamReadWindow();
      const flood = Buffer.concat(Array.from({ length: 60 }, (_, i) => h.peer.ping(1, i)));
      h.send(flood);
      expect(h.conn.gatherStatistics().queuedControlFrames).to.equal(60);
      expect(h.tc.socketSlot.downstreamReadWindow(), 'the window is not returned').to.equal(
        windowBefore - flood.length,
      );
      const acks = ofType(h.flush(), FrameType.PING);
      expect(acks).to.have.length(61);
      expect(h.tc.socketSlot.downstreamReadWindow(), 'returned after the queue drained').to.equal(windowBefore);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('sends GOAWAY(ENHANCE_YOUR_CALM) past maxQueuedControlFrames and stops reading: memory stays bounded', () => {
      const h = serverHarness({ connection: { maxQueuedControlFrames: 100 } });
      h.send(h.peer.ping(0, 0));
      for (let round = 0; round < 5; round++) {
        h.send(Buffer.concat(Array.from({ length: 40 }, (_, i) => h.peer.ping(round, i))));
        expect(h.conn.gatherStatistics().queuedControlFrames, `round ${round}`).to.be.at.most(100 + 40 + 1);
      }
      expect(h.tc.pendingWriteCount).to.equal(1);
      const frames = h.flush();
      expectGoaway(frames, ErrorCode.ENHANCE_YOUR_CALM);
      expect(ofType(frames, FrameType.PING).length, 'answers to the frames read before the limit').to.be.at.most(121);
      expect(h.tc.isShutDown).to.equal(true);
      h.finish();
    });

    it('sends GOAWAY(ENHANCE_YOUR_CALM) when SETTINGS frames flood the queue with ACKs', () => {
      const h = serverHarness({ connection: { maxQueuedControlFrames: 50 } });
      h.send(h.peer.ping(0, 0));
      h.send(Buffer.concat(Array.from({ length: 60 }, () => h.peer.settings())));
      expectGoaway(h.flush(), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('sends GOAWAY(ENHANCE_YOUR_CALM) when a peer opens streams and never reads the responses', () => {
      const h = serverHarness({
        connection: {
          maxQueuedControlFrames: 40,
          maxConcurrentStreams: 1000,
          onStream: (stream) => stream.sendHeaders([':status', '200'], true),
        },
      });
      h.send(h.peer.ping(0, 0));
      const requests: Buffer[] = [];
      for (let id = 1; id < 120; id += 2) requests.push(h.peer.headers(id, GET, { endStream: true }));
      h.send(Buffer.concat(requests));
      expect(h.conn.gatherStatistics().queuedControlFrames).to.be.at.most(61);
      expectGoaway(h.flush(), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });
  });

  describe('header limits', () => {
    it('refuses a header list larger than maxHeaderListSize with RST_STREAM(REFUSED_STREAM); HPACK stays in sync', () => {
      const h = serverHarness({ connection: { maxHeaderListSize: 1000 } });
      const frames = h.exchange(h.peer.headers(1, [...GET, 'x-big', 'v'.repeat(1200)], { endStream: true }));
      expectRst(frames, 1, ErrorCode.REFUSED_STREAM);
      expect(h.received).to.have.length(0);
      expectNoErrors(h.exchange(h.peer.headers(3, [...GET, 'x-small', 'ok'], { endStream: true })));
      expect(h.received[0].headers).to.deep.equal([...GET, 'x-small', 'ok']);
      h.finish();
    });

    it('sends GOAWAY(ENHANCE_YOUR_CALM) for more than maxContinuationFrames CONTINUATION frames', () => {
      const h = serverHarness({ connection: { maxContinuationFrames: 4 } });
      const frames = h.exchange(
        h.peer.headers(1, [...GET, 'x-a', 'b'.repeat(60)], { endStream: true, fragmentSize: 8 }),
      );
      expectGoaway(frames, ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('accepts a header block split into CONTINUATION frames within the limit', () => {
      const h = serverHarness({ connection: { maxContinuationFrames: 64 } });
      expectNoErrors(
        h.exchange(h.peer.headers(1, [...GET, 'x-a', 'b'.repeat(60)], { endStream: true, fragmentSize: 8 })),
      );
      expect(h.received[0].headers).to.deep.equal([...GET, 'x-a', 'b'.repeat(60)]);
      h.finish();
    });

    it('sends GOAWAY(ENHANCE_YOUR_CALM) for a header block larger than maxHeaderBlockSize', () => {
      const h = serverHarness({ connection: { maxHeaderBlockSize: 2000 } });
      const value = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(0x21 + ((i * 31) % 90))).join('');
      expectGoaway(
        h.exchange(h.peer.headers(1, [...GET, 'x-big', value], { endStream: true, fragmentSize: 1000 })),
        ErrorCode.ENHANCE_YOUR_CALM,
      );
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) when another frame interrupts a header block', () => {
      const h = serverHarness();
      const block = h.peer.headers(1, POST, { omitEndHeaders: true });
      expectGoaway(h.exchange(block, h.peer.ping(1, 1)), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('sends GOAWAY(FRAME_SIZE_ERROR) for a frame larger than our SETTINGS_MAX_FRAME_SIZE', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      expectGoaway(h.exchange(h.peer.data(1, 16_385)), ErrorCode.FRAME_SIZE_ERROR);
      h.finish();
    });
  });

  describe('settings and flow-control abuse', () => {
    it('sends GOAWAY(ENHANCE_YOUR_CALM) for SETTINGS with more than maxSettingsEntries entries; at the limit it ACKs', () => {
      const h = serverHarness({ connection: { maxSettingsEntries: 4 } });
      const entry: [number, number] = [SettingId.MAX_CONCURRENT_STREAMS, 100];
      const atLimit = h.exchange(h.peer.settings(...Array.from({ length: 4 }, () => entry)));
      expectNoErrors(atLimit);
      expect(ofType(atLimit, FrameType.SETTINGS).filter((frame) => frame.ack)).to.have.length(1);
      expectGoaway(h.exchange(h.peer.settings(...Array.from({ length: 5 }, () => entry))), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('data dribble (CVE-2019-9511): 1-byte WINDOW_UPDATEs get at most one byte and one DATA frame each, and no error', () => {
      const h = serverHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 0]] });
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      const { stream } = h.received[0];
      stream.sendHeaders(OK);
      stream.write(Buffer.alloc(10_000, 0x61));
      stream.end();
      const frames = h.flush();
      expect(bodyOf(frames, 1).length, 'nothing sent into a zero window').to.equal(0);
      const updates = 300;
      for (let i = 0; i < updates; i++) frames.push(...h.exchange(h.peer.windowUpdate(1, 1)));
      const data = ofType(frames, FrameType.DATA).filter((frame) => frame.length > 0);
      expect(bodyOf(frames, 1).length, 'DATA bytes never exceed the window granted').to.equal(updates);
      expect(data.length, 'at most one DATA frame per update').to.be.at.most(updates);
      expectNoErrors(frames);
      expect(h.connectionErrors).to.deep.equal([]);
      h.finish();
    });
  });

  describe('local limits', () => {
    it('client throws HTTP2_TOO_MANY_PENDING_STREAMS beyond maxPendingStreams', () => {
      const h = clientHarness({ connection: { maxPendingStreams: 2 }, peerSettings: [[3, 1]] });
      request(h);
      request(h);
      request(h);
      expect(() => request(h))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_TOO_MANY_PENDING_STREAMS');
      expect(h.conn.pendingStreamCount).to.equal(2);
      h.finish();
    });

    it('client rejects an invalid request header list with HTTP2_INVALID_HEADERS before sending anything', () => {
      const h = clientHarness();
      expect(() => h.conn.request([':method', 'GET', 'Bad', 'x'], { isEndStream: true }))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_INVALID_HEADERS');
      expect(h.flush()).to.deep.equal([]);
      h.finish();
    });
  });
});
