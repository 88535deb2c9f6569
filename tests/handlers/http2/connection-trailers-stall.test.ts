/**
 * Trailers queued after the task went idle must leave by themselves (issue 17, item 1): the
 * gRPC responder pattern (body written, write completed, then `end(trailers)`), trailers after
 * headers alone, and a client's request trailers after its body — each with the peer silent.
 */
import { expect } from 'chai';
import { FrameFlag, FrameType } from '../../../handlers/http2/wire/constants.js';
import {
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  frameNames,
  ofType,
  request,
  serverHarness,
  type WrittenFrame,
} from './peer.js';

const TRAILERS = ['grpc-status', '0', 'grpc-message', 'ok'];

/** The one HEADERS frame with END_STREAM on `streamId`. */
function trailersOf(frames: readonly WrittenFrame[], streamId: number): WrittenFrame {
  const ending = ofType(frames, FrameType.HEADERS).filter(
    (frame) => frame.streamId === streamId && (frame.flags & FrameFlag.END_STREAM) !== 0,
  );
  expect(ending, frameNames(frames).join(' ')).to.have.length(1);
  return ending[0];
}

describe('HTTP/2 connection: trailers queued while the task is idle', () => {
  it('server: body written and completed, then end(trailers) — the trailers go out with the peer silent', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }));
    const { stream } = h.received[0];
    stream.sendHeaders(OK);
    stream.write(Buffer.from('hello'));
    const body = h.flush();
    expect(bodyOf(body, 1).toString()).to.equal('hello');
    // The task is idle now; nothing from the peer will wake it.
    stream.end(TRAILERS);
    const frames = h.flush();
    expect(trailersOf(frames, 1).headers).to.deep.equal(TRAILERS);
    expect(stream.isClosed).to.equal(true);
    h.finish();
  });

  it('server: headers first, trailers later with no DATA at all', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }));
    const { stream } = h.received[0];
    stream.sendHeaders(OK);
    h.flush();
    stream.end(TRAILERS);
    expect(trailersOf(h.flush(), 1).headers).to.deep.equal(TRAILERS);
    h.finish();
  });

  it('server: a bidirectional stream ends with trailers after the client half-closed', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, POST));
    const { stream } = h.received[0];
    stream.sendHeaders(OK);
    stream.write(Buffer.from('reply'));
    h.flush();
    h.exchange(h.peer.data(1, 'request', { endStream: true }));
    stream.end(TRAILERS);
    expect(trailersOf(h.flush(), 1).headers).to.deep.equal(TRAILERS);
    expect(stream.isClosed).to.equal(true);
    h.finish();
  });

  it('client: request trailers after a body whose end comes a moment after its last chunk', () => {
    const h = clientHarness();
    const { stream } = request(h, POST, { isEndStream: false });
    stream.write(Buffer.from('chunk'));
    expect(bodyOf(h.flush(), 1).toString()).to.equal('chunk');
    stream.end(TRAILERS);
    expect(trailersOf(h.flush(), 1).headers).to.deep.equal(TRAILERS);
    h.finish();
  });

  it('trailers queued in a pass that also has a PING ACK to write still leave', () => {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
    const [first, second] = h.received;
    first.stream.sendHeaders(OK);
    second.stream.sendHeaders(OK);
    h.flush();
    first.stream.end(TRAILERS);
    second.stream.end(TRAILERS);
    h.send(h.peer.ping(0, 7));
    const frames = h.flush();
    trailersOf(frames, 1);
    trailersOf(frames, 3);
    expect(ofType(frames, FrameType.PING)).to.have.length(1);
    h.finish();
  });
});
