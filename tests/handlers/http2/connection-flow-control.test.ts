import { expect } from 'chai';
import { ErrorCode, FrameType, MAX_WINDOW_SIZE, SettingId } from '../../../handlers/http2/wire/constants.js';
import { Http2ConnectionError, Http2StreamError } from '../../../handlers/http2/errors.js';
import {
  OK,
  POST,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  ofType,
  request,
  serverHarness,
  type WrittenFrame,
} from './peer.js';

function updates(frames: readonly WrittenFrame[]): [number, number][] {
  return ofType(frames, FrameType.WINDOW_UPDATE).map((frame) => [frame.streamId, frame.increment!]);
}

describe('HTTP/2 connection: flow control', () => {
  describe('receive windows', () => {
    it('sends GOAWAY(FLOW_CONTROL_ERROR) when DATA exceeds the connection receive window', () => {
      const h = serverHarness({ connection: { connectionWindowSize: 65_535, windowMode: 'manual' } });
      h.exchange(h.peer.headers(1, POST), h.peer.headers(3, POST));
      // 4 × 16 000 = 64 000 on two streams (each within its 1 MiB stream window), then 1 536 more.
      expectNoErrors(
        h.exchange(h.peer.data(1, 16_000), h.peer.data(3, 16_000), h.peer.data(1, 16_000), h.peer.data(3, 16_000)),
      );
      expectNoErrors(h.exchange(h.peer.data(1, 1535)));
      const frames = h.exchange(h.peer.data(3, 1));
      expectGoaway(frames, ErrorCode.FLOW_CONTROL_ERROR, 3);
      expect((h.tc.shutdownError as Http2ConnectionError).errorCode).to.equal(ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });

    it('answers DATA beyond a stream receive window with RST_STREAM(FLOW_CONTROL_ERROR); the connection lives on', () => {
      const h = serverHarness({ connection: { initialStreamWindowSize: 1000 } });
      h.exchange(h.peer.headers(1, POST), h.peer.headers(3, POST));
      const frames = h.exchange(h.peer.data(1, 1001));
      expectRst(frames, 1, ErrorCode.FLOW_CONTROL_ERROR);
      expect((h.received[0].recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.FLOW_CONTROL_ERROR);
      expectNoErrors(h.exchange(h.peer.data(3, 1000, { endStream: true })));
      expect(h.received[1].recorder.body.length).to.equal(1000);
      h.finish();
    });

    it('counts padding against the windows and returns its credit at once', () => {
      const h = serverHarness({ connection: { initialStreamWindowSize: 1000, windowUpdateRatio: 0.1 } });
      h.exchange(h.peer.headers(1, POST));
      // 100 data bytes + 1 Pad Length byte + 200 padding = 301 flow-controlled bytes.
      const frames = h.exchange(h.peer.data(1, 100, { padLength: 200 }));
      expect(
        updates(frames)
          .filter(([id]) => id === 1)
          .reduce((sum, [, n]) => sum + n, 0),
      ).to.equal(301);
      expect(h.received[0].recorder.body.length).to.equal(100);
      h.finish();
    });

    it('counts DATA on a closed stream against the connection window and returns it', () => {
      const h = serverHarness({ connection: { connectionWindowSize: 65_535 } });
      h.exchange(h.peer.headers(1, POST));
      h.received[0].stream.reset();
      h.flush();
      const frames = h.exchange(h.peer.data(1, 16_000), h.peer.data(1, 16_000), h.peer.data(1, 16_000));
      // Batched: 32 000 is below half of 65 535, 48 000 is above.
      expect(updates(frames), 'connection credit returned').to.deep.equal([[0, 48_000]]);
      expect(ofType(frames, FrameType.RST_STREAM)).to.have.length(0);
      h.finish();
    });
  });

  describe('WINDOW_UPDATE', () => {
    it('sends GOAWAY(FLOW_CONTROL_ERROR) when WINDOW_UPDATE pushes the connection window past 2^31−1', () => {
      const h = serverHarness();
      expectNoErrors(h.exchange(h.peer.windowUpdate(0, MAX_WINDOW_SIZE - 65_535)));
      expectGoaway(h.exchange(h.peer.windowUpdate(0, 1)), ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });

    it('sends RST_STREAM(FLOW_CONTROL_ERROR) when WINDOW_UPDATE pushes a stream window past 2^31−1', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      expectNoErrors(h.exchange(h.peer.windowUpdate(1, MAX_WINDOW_SIZE - 65_535)));
      expectRst(h.exchange(h.peer.windowUpdate(1, 1)), 1, ErrorCode.FLOW_CONTROL_ERROR);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) for a WINDOW_UPDATE increment of 0 on the connection', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.windowUpdate(0, 0)), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('sends RST_STREAM(PROTOCOL_ERROR) for a WINDOW_UPDATE increment of 0 on an open stream', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      expectRst(h.exchange(h.peer.windowUpdate(1, 0)), 1, ErrorCode.PROTOCOL_ERROR);
      expect((h.received[0].recorder.closeError as Http2StreamError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('sends GOAWAY(FRAME_SIZE_ERROR) for a WINDOW_UPDATE whose length is not 4', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.raw(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(5))), ErrorCode.FRAME_SIZE_ERROR);
      h.finish();
    });
  });

  describe('automatic WINDOW_UPDATE', () => {
    const cases = [
      { ratio: 0.5, window: 1000, below: 499, threshold: 500 },
      { ratio: 0.25, window: 4000, below: 999, threshold: 1000 },
    ];
    for (const { ratio, window, below, threshold } of cases) {
      it(`returns stream credit in one WINDOW_UPDATE once ${threshold} of ${window} bytes are consumed (ratio ${ratio})`, () => {
        const h = serverHarness({ connection: { initialStreamWindowSize: window, windowUpdateRatio: ratio } });
        h.exchange(h.peer.headers(1, POST));
        expect(updates(h.exchange(h.peer.data(1, below))), 'below the threshold').to.deep.equal([]);
        expect(updates(h.exchange(h.peer.data(1, threshold - below)))).to.deep.equal([[1, threshold]]);
        // The peer can now send a full window again.
        expectNoErrors(h.exchange(h.peer.data(1, window)));
        h.finish();
      });
    }

    it('returns connection credit in one WINDOW_UPDATE(0) once half the connection window is consumed', () => {
      const h = serverHarness({ connection: { connectionWindowSize: 65_535 } });
      h.exchange(h.peer.headers(1, POST));
      const first = updates(h.exchange(h.peer.data(1, 16_000), h.peer.data(1, 16_000)));
      expect(first.filter(([id]) => id === 0)).to.deep.equal([]);
      const second = updates(h.exchange(h.peer.data(1, 768)));
      expect(second.filter(([id]) => id === 0)).to.deep.equal([[0, 32_768]]);
      h.finish();
    });

    it('sends no stream WINDOW_UPDATE once the peer ended the stream', () => {
      const h = serverHarness({ connection: { initialStreamWindowSize: 1000 } });
      h.exchange(h.peer.headers(1, POST));
      const frames = h.exchange(h.peer.data(1, 900, { endStream: true }));
      expect(updates(frames).filter(([id]) => id === 1)).to.deep.equal([]);
      h.finish();
    });
  });

  describe('manual window mode', () => {
    it('sends no WINDOW_UPDATE until the application calls stream.updateWindow(n)', () => {
      const h = serverHarness({
        connection: { windowMode: 'manual', initialStreamWindowSize: 1000, connectionWindowSize: 65_535 },
      });
      h.exchange(h.peer.headers(1, POST));
      expect(updates(h.exchange(h.peer.data(1, 1000))), 'nothing returned automatically').to.deep.equal([]);
      const stream = h.received[0].stream;
      stream.updateWindow(600);
      expect(updates(h.flush())).to.deep.equal([[1, 600]]);
      expectNoErrors(h.exchange(h.peer.data(1, 600)));
      // The window is spent again: one byte more is a stream FLOW_CONTROL_ERROR.
      expectRst(h.exchange(h.peer.data(1, 1)), 1, ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });

    it('returns only credit that was delivered (updateWindow beyond it is capped)', () => {
      const h = serverHarness({ connection: { windowMode: 'manual', initialStreamWindowSize: 1000 } });
      h.exchange(h.peer.headers(1, POST), h.peer.data(1, 700));
      h.received[0].stream.updateWindow(5000);
      expect(updates(h.flush())).to.deep.equal([[1, 700]]);
      h.finish();
    });

    it('client request with isManualWindow holds credit until updateWindow', () => {
      const h = clientHarness({ connection: { initialStreamWindowSize: 1000 } });
      const manual = request(h, POST, { isEndStream: true, isManualWindow: true });
      h.flush();
      expect(updates(h.exchange(h.peer.headers(1, OK), h.peer.data(1, 800)))).to.deep.equal([]);
      manual.stream.updateWindow(800);
      expect(updates(h.flush())).to.deep.equal([[1, 800]]);
      h.finish();
    });

    it('a slow consumer bounds what the peer may send: the windows close at the advertised sizes', () => {
      const h = serverHarness({
        connection: { windowMode: 'manual', initialStreamWindowSize: 16_384, connectionWindowSize: 65_535 },
      });
      h.exchange(
        h.peer.headers(1, POST),
        h.peer.headers(3, POST),
        h.peer.headers(5, POST),
        h.peer.headers(7, POST),
        h.peer.headers(9, POST),
      );
      for (const id of [1, 3, 5]) expectNoErrors(h.exchange(h.peer.data(id, 16_384)));
      expectNoErrors(h.exchange(h.peer.data(7, 16_383)));
      // 65 535 bytes held by the application: the next byte on any stream breaks the connection window.
      expectGoaway(h.exchange(h.peer.data(9, 1)), ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });
  });

  describe('send windows', () => {
    it('client honours the peer INITIAL_WINDOW_SIZE for request bodies', () => {
      const h = clientHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 10]] });
      const { stream } = request(h, POST, { isEndStream: false });
      stream.write(Buffer.alloc(25, 1));
      stream.end();
      expect(ofType(h.flush(), FrameType.DATA).map((frame) => frame.length)).to.deep.equal([10]);
      expect(ofType(h.exchange(h.peer.windowUpdate(1, 10)), FrameType.DATA).map((frame) => frame.length)).to.deep.equal(
        [10],
      );
      const last = ofType(h.exchange(h.peer.windowUpdate(1, 10)), FrameType.DATA);
      expect(last.map((frame) => [frame.length, frame.endStream])).to.deep.equal([[5, true]]);
      h.finish();
    });
  });
});
