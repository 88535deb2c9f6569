import { expect } from 'chai';
import { SluiceError } from '../../../lib/index.js';
import { ErrorCode, FrameType, MAX_STREAM_ID } from '../../../handlers/http2/wire/constants.js';
import { GRACEFUL_CLOSE_PING_WAIT_MS } from '../../../handlers/http2/connection/http2-connection.js';
import { Http2ConnectionError, Http2StreamError } from '../../../handlers/http2/errors.js';
import {
  GET,
  OK,
  POST,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  frameNames,
  ofType,
  request,
  serverHarness,
} from './peer.js';
import { ioTurns } from '../../support/waiting.js';

describe('HTTP/2 connection: PING and GOAWAY', () => {
  describe('PING', () => {
    const payloads: [number, number][] = [
      [0, 0],
      [0xffff_ffff, 0x1234_5678],
      [0x8000_0000, 1],
    ];
    for (const [high, low] of payloads) {
      it(`answers PING ${high.toString(16)}:${low.toString(16)} with a PING ACK carrying the same payload`, () => {
        const h = serverHarness();
        const frames = h.exchange(h.peer.ping(high, low));
        expect(frameNames(frames)).to.deep.equal(['PING+ACK:0']);
        expect(frames[0].opaque).to.deep.equal([high, low]);
        h.finish();
      });
    }

    it('ignores an unsolicited PING ACK', () => {
      const h = clientHarness();
      expect(h.exchange(h.peer.ping(1, 2, true))).to.deep.equal([]);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('reports the round-trip time of ping() in virtual milliseconds', () => {
      const h = clientHarness();
      const results: [SluiceError | null, number][] = [];
      h.conn.ping((error, rtt) => results.push([error, rtt]));
      const sent = h.flush();
      expect(frameNames(sent)).to.deep.equal(['PING:0']);
      const [high, low] = sent[0].opaque!;
      h.tc.advance(42);
      expect(results).to.deep.equal([]);
      expect(h.exchange(h.peer.ping(high, low, true))).to.deep.equal([]);
      expect(results).to.deep.equal([[null, 42]]);
      h.finish();
    });

    it('matches ACKs to their PINGs by payload', () => {
      const h = serverHarness();
      const rtts: number[] = [];
      h.conn.ping((_error, rtt) => rtts.push(1000 + rtt));
      h.tc.advance(10);
      h.conn.ping((_error, rtt) => rtts.push(2000 + rtt));
      const [first, second] = ofType(h.flush(), FrameType.PING);
      h.tc.advance(5);
      h.exchange(h.peer.ping(second.opaque![0], second.opaque![1], true));
      h.exchange(h.peer.ping(first.opaque![0], first.opaque![1], true));
      expect(rtts).to.deep.equal([2005, 1015]);
      h.finish();
    });

    it('refuses more than maxOutstandingPings PINGs with HTTP2_TOO_MANY_PINGS until one is answered', () => {
      const h = clientHarness({ connection: { maxOutstandingPings: 2 } });
      h.conn.ping(() => {});
      h.conn.ping(() => {});
      expect(() => h.conn.ping(() => {}))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_TOO_MANY_PINGS');
      const [first] = ofType(h.flush(), FrameType.PING);
      h.exchange(h.peer.ping(first.opaque![0], first.opaque![1], true));
      expect(() => h.conn.ping(() => {})).to.not.throw();
      h.finish();
    });

    it('fails outstanding pings when the connection shuts down', () => {
      const h = clientHarness();
      const errors: (SluiceError | null)[] = [];
      h.conn.ping((error) => errors.push(error));
      h.flush();
      h.finish();
      expect(errors).to.have.length(1);
      expect(errors[0]).to.be.instanceOf(SluiceError);
    });

    it('sends GOAWAY(FRAME_SIZE_ERROR) for a PING whose length is not 8', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.raw(FrameType.PING, 0, 0, Buffer.alloc(7))), ErrorCode.FRAME_SIZE_ERROR);
      h.finish();
    });

    it('sends GOAWAY(PROTOCOL_ERROR) for a PING on a stream', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.raw(FrameType.PING, 0, 1, Buffer.alloc(8))), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });
  });

  describe('GOAWAY received', () => {
    it('tells onGoaway before any refused stream fails, so a retry never picks this connection again', () => {
      const events: string[] = [];
      const h = clientHarness({ connection: { onGoaway: () => events.push('goaway') } });
      const streams = [request(h), request(h), request(h)];
      for (const [index, { recorder }] of streams.entries()) {
        const onClose = recorder.onClose.bind(recorder);
        recorder.onClose = (stream, error) => {
          events.push(`close ${index}`);
          onClose(stream, error);
        };
      }
      h.flush();
      h.exchange(h.peer.goaway(1, ErrorCode.NO_ERROR));
      expect(events).to.deep.equal(['goaway', 'close 1', 'close 2']);
      h.exchange(h.peer.headers(1, OK, { endStream: true }));
      h.finish();
    });

    it('fails local streams above the last id with a retryable Http2StreamError; lower ones complete', () => {
      const seen: [number, number, string][] = [];
      const h = clientHarness({
        connection: { onGoaway: (last, code, debug) => seen.push([last, code, debug.toString()]) },
      });
      const streams = [request(h), request(h), request(h)];
      h.flush();
      expect(h.exchange(h.peer.goaway(3, ErrorCode.NO_ERROR, 'maintenance'))).to.deep.equal([]);
      expect(seen).to.deep.equal([[3, ErrorCode.NO_ERROR, 'maintenance']]);
      const refused = streams[2].recorder.closeError;
      expect(refused).to.be.instanceOf(Http2StreamError);
      expect((refused as Http2StreamError).retryable).to.equal(true);
      expect((refused as Http2StreamError).errorCode).to.equal(ErrorCode.REFUSED_STREAM);
      expect(streams[0].recorder.closeCount + streams[1].recorder.closeCount).to.equal(0);
      const frames = h.exchange(h.peer.headers(1, OK, { endStream: true }), h.peer.headers(3, OK, { endStream: true }));
      expect(streams[0].recorder.closeError).to.equal(null);
      expect(streams[1].recorder.closeError).to.equal(null);
      // Nothing is left: the connection closes on its own, with GOAWAY(NO_ERROR) and no reset.
      expect(ofType(frames, FrameType.RST_STREAM)).to.have.length(0);
      expectGoaway(frames, ErrorCode.NO_ERROR, 0);
      expect(h.tc.isShutDown).to.equal(true);
      h.finish();
    });

    it('refuses new requests retryably after GOAWAY', async () => {
      const h = clientHarness();
      const open = request(h);
      h.flush();
      h.exchange(h.peer.goaway(1, ErrorCode.NO_ERROR));
      expect(h.conn.isGoingAway).to.equal(true);
      const late = request(h);
      expect(ofType(h.flush(), FrameType.HEADERS), 'not sent').to.have.length(0);
      await ioTurns(1);
      const error = late.recorder.closeError as Http2StreamError;
      expect([error.errorCode, error.retryable]).to.deep.equal([ErrorCode.REFUSED_STREAM, true]);
      expect(open.recorder.closeCount).to.equal(0);
      h.exchange(h.peer.headers(1, OK, { endStream: true }));
      h.finish();
    });

    it('fails requests waiting for a concurrency slot retryably on GOAWAY', async () => {
      const h = clientHarness({ peerSettings: [[3, 1]] });
      request(h);
      const waiting = request(h);
      h.flush();
      h.exchange(h.peer.goaway(1, ErrorCode.NO_ERROR));
      await ioTurns(1);
      expect((waiting.recorder.closeError as Http2StreamError).retryable).to.equal(true);
      expect(h.conn.pendingStreamCount).to.equal(0);
      h.exchange(h.peer.headers(1, OK, { endStream: true }));
      h.finish();
    });

    it('shuts down at once when GOAWAY arrives and no stream is open', () => {
      const h = serverHarness();
      const frames = h.exchange(h.peer.goaway(0, ErrorCode.NO_ERROR));
      expectGoaway(frames, ErrorCode.NO_ERROR, 0);
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.tc.shutdownError).to.equal(null);
      h.finish();
    });
  });

  describe('closing', () => {
    it('server close() toward a peer that never answers the PING: the final GOAWAY goes after GRACEFUL_CLOSE_PING_WAIT_MS, then the channel shuts down', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      void h.conn.close();
      expect(frameNames(h.flush())).to.deep.equal(['GOAWAY:0', 'PING:0']);
      h.tc.advance(GRACEFUL_CLOSE_PING_WAIT_MS - 1);
      expect(h.flush()).to.deep.equal([]);
      h.tc.advance(1);
      expectGoaway(h.flush(), ErrorCode.NO_ERROR, 1);
      expect(h.tc.isShutDown).to.equal(true);
      h.finish();
    });

    it('server close(): GOAWAY(2^31−1), PING, then GOAWAY(last id) after the PING ACK; shuts down when streams finish', async () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, POST));
      let closed: SluiceError | null | undefined;
      void h.conn.close().then((error) => (closed = error));
      const announce = h.flush();
      expect(frameNames(announce)).to.deep.equal(['GOAWAY:0', 'PING:0']);
      expectGoaway(announce, ErrorCode.NO_ERROR, MAX_STREAM_ID);
      // A request the client sent before it saw the GOAWAY is still served.
      expectNoErrors(h.exchange(h.peer.headers(3, GET, { endStream: true })));
      expect(h.received.map(({ stream }) => stream.id)).to.deep.equal([1, 3]);
      const ping = ofType(announce, FrameType.PING)[0];
      const final = h.exchange(h.peer.ping(ping.opaque![0], ping.opaque![1], true));
      expectGoaway(final, ErrorCode.NO_ERROR, 3);
      // Beyond the last id: ignored.
      expect(h.exchange(h.peer.headers(5, GET, { endStream: true }))).to.deep.equal([]);
      expect(h.received).to.have.length(2);
      // In-flight streams finish, then the channel shuts down.
      h.received[1].stream.sendHeaders(OK, true);
      h.flush();
      expect(h.tc.isShutDown).to.equal(false);
      h.send(h.peer.data(1, 'last', { endStream: true }));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      expect(h.received.map(({ recorder }) => recorder.closeError)).to.deep.equal([null, null]);
      expect(h.tc.isShutDown).to.equal(true);
      await ioTurns(1);
      expect(closed).to.equal(null);
      h.finish();
    });

    it('client close(): GOAWAY at once, new requests refused retryably, open ones finish', () => {
      const h = clientHarness();
      const open = request(h);
      h.flush();
      void h.conn.close();
      expectGoaway(h.flush(), ErrorCode.NO_ERROR, 0);
      const late = request(h);
      // The refusal is reported on a later turn of the connection's loop.
      h.tc.runUntilIdle();
      expect((late.recorder.closeError as Http2StreamError).retryable).to.equal(true);
      expect(h.tc.isShutDown).to.equal(false);
      h.exchange(h.peer.headers(1, OK, { endStream: true }));
      h.flush();
      expect(open.recorder.closeError).to.equal(null);
      expect(h.tc.isShutDown).to.equal(true);
      h.finish();
    });

    it('abort(): GOAWAY with the code, streams fail with a connection error', () => {
      const h = clientHarness();
      const open = request(h);
      h.flush();
      h.conn.abort(ErrorCode.CANCEL, 'bye');
      expectGoaway(h.flush(), ErrorCode.CANCEL, 0);
      expect(open.recorder.closeError).to.be.instanceOf(Http2ConnectionError);
      expect((h.tc.shutdownError as Http2ConnectionError).errorCode).to.equal(ErrorCode.CANCEL);
      h.finish();
    });

    it('request() on a shut-down connection throws HTTP2_CONNECTION_CLOSED', () => {
      const h = clientHarness();
      h.finish();
      expect(() => h.conn.request(GET, { isEndStream: true }))
        .to.throw(SluiceError)
        .with.property('code', 'HTTP2_CONNECTION_CLOSED');
    });
  });
});
