import { expect } from 'chai';
import { ErrorCode, FrameType, MAX_STREAM_ID, SettingId } from '../../../handlers/http2/wire/constants.js';
import { Http2StreamError } from '../../../handlers/http2/errors.js';
import type { Http2StreamFailure } from '../../../handlers/http2/connection/http2-stream.js';
import { GET, OK, POST, bodyOf, clientHarness, expectRst, frameNames, ofType, request } from './peer.js';
import { ioTurns } from '../../support/waiting.js';

describe('HTTP/2 connection: client requests', () => {
  it('sends the request headers as given and reports the response in order: response, data, end, close', () => {
    const h = clientHarness();
    const { recorder } = request(h, [...GET, 'accept', 'text/plain']);
    const sent = ofType(h.flush(), FrameType.HEADERS);
    expect(sent.map((frame) => [frame.streamId, frame.endStream, frame.headers])).to.deep.equal([
      [1, true, [...GET, 'accept', 'text/plain']],
    ]);
    h.exchange(h.peer.headers(1, [...OK, 'content-length', '5']), h.peer.data(1, 'hello', { endStream: true }));
    expect(recorder.kinds).to.deep.equal(['response', 'data', 'end', 'close']);
    expect(recorder.events[0].headers).to.deep.equal([...OK, 'content-length', '5']);
    expect(recorder.body.toString()).to.equal('hello');
    h.finish();
  });

  it('reports a response that ends with its HEADERS as response(isEndStream) then end and close', () => {
    const h = clientHarness();
    const { recorder } = request(h);
    h.flush();
    h.exchange(h.peer.headers(1, [':status', '204'], { endStream: true }));
    expect(recorder.kinds).to.deep.equal(['response', 'end', 'close']);
    expect(recorder.events[0].isEndStream).to.equal(true);
    h.finish();
  });

  it('sends a request body: write callbacks fire once framed, end() puts END_STREAM on the last DATA frame', () => {
    const h = clientHarness();
    const { stream } = request(h, POST, { isEndStream: false });
    const callbacks: (Http2StreamFailure | null)[] = [];
    stream.write(Buffer.from('part one, '), (error) => callbacks.push(error));
    stream.write(Buffer.from('part two'), (error) => callbacks.push(error));
    stream.end(undefined, (error) => callbacks.push(error));
    const frames = h.flush();
    expect(callbacks).to.deep.equal([null, null, null]);
    expect(bodyOf(frames, 1).toString()).to.equal('part one, part two');
    const data = ofType(frames, FrameType.DATA);
    expect(data.at(-1)!.endStream).to.equal(true);
    expect(data.slice(0, -1).every((frame) => !frame.endStream)).to.equal(true);
    expect(() => stream.write(Buffer.from('more'))).to.throw();
    h.finish();
  });

  it('end() without a body sends an empty DATA frame with END_STREAM', () => {
    const h = clientHarness();
    const { stream } = request(h, POST, { isEndStream: false });
    h.flush();
    stream.end();
    const data = ofType(h.flush(), FrameType.DATA);
    expect(data.map((frame) => [frame.length, frame.endStream])).to.deep.equal([[0, true]]);
    h.finish();
  });

  it('write() returns false above the high-water mark and onDrain follows once the buffer is framed', () => {
    const h = clientHarness({
      connection: { streamHighWaterMark: 1000 },
      peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 500]],
    });
    const { stream, recorder } = request(h, POST, { isEndStream: false });
    expect(stream.write(Buffer.alloc(600))).to.equal(true);
    expect(stream.write(Buffer.alloc(600))).to.equal(false);
    h.flush();
    expect(recorder.kinds, 'only 500 bytes may go').to.not.include('drain');
    expect(stream.bufferedBytes).to.equal(700);
    h.exchange(h.peer.windowUpdate(1, 1000));
    expect(stream.bufferedBytes).to.equal(0);
    expect(recorder.kinds).to.include('drain');
    h.finish();
  });

  it('stream.reset() sends RST_STREAM(CANCEL) and closes the stream with that error; later response frames are ignored', () => {
    const h = clientHarness();
    const { stream, recorder } = request(h);
    h.flush();
    stream.reset();
    expectRst(h.flush(), 1, ErrorCode.CANCEL);
    const error = recorder.closeError as Http2StreamError;
    expect([error.errorCode, error.streamId]).to.deep.equal([ErrorCode.CANCEL, 1]);
    expect(h.exchange(h.peer.headers(1, OK), h.peer.data(1, 'late', { endStream: true }))).to.deep.equal([]);
    expect(recorder.closeCount).to.equal(1);
    expect(recorder.kinds).to.deep.equal(['close']);
    h.finish();
  });

  it('fails queued writes with the reset error when the peer resets the stream', () => {
    const h = clientHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 0]] });
    const { stream, recorder } = request(h, POST, { isEndStream: false });
    const results: (Http2StreamFailure | null)[] = [];
    stream.write(Buffer.from('held back by a zero window'), (error) => results.push(error));
    h.flush();
    h.exchange(h.peer.rstStream(1, ErrorCode.INTERNAL_ERROR));
    expect(results).to.have.length(1);
    expect((results[0] as Http2StreamError).errorCode).to.equal(ErrorCode.INTERNAL_ERROR);
    expect(recorder.closeCount).to.equal(1);
    h.finish();
  });

  it('the connection keeps serving other streams after one is reset', () => {
    const h = clientHarness();
    const first = request(h);
    const second = request(h);
    h.flush();
    h.exchange(h.peer.rstStream(1, ErrorCode.CANCEL), h.peer.headers(3, OK, { endStream: true }));
    expect(first.recorder.closeCount).to.equal(1);
    expect(second.recorder.closeError).to.equal(null);
    expect(frameNames(h.flush())).to.deep.equal([]);
    h.finish();
  });

  it('stream-id exhaustion: after the last odd id a new request fails retryably with REFUSED_STREAM and the connection closes gracefully', async () => {
    const h = clientHarness();
    // Jump near the end of the id space (ids only have to increase, RFC 9113 §5.1.1); the same
    // poke the hardening suite used over a socket.
    (h.conn as unknown as { lifecycle: { nextLocalStreamId: number } }).lifecycle.nextLocalStreamId = MAX_STREAM_ID - 2;
    const requests = [request(h), request(h), request(h)];
    expect(requests.slice(0, 2).map(({ stream }) => stream.id)).to.deep.equal([MAX_STREAM_ID - 2, MAX_STREAM_ID]);
    h.flush();
    h.exchange(
      h.peer.headers(MAX_STREAM_ID - 2, OK, { endStream: true }),
      h.peer.headers(MAX_STREAM_ID, OK, { endStream: true }),
    );
    h.flush();
    await ioTurns(1); // a refusal is reported on a later turn
    h.flush();
    expect(requests[0].recorder.closeError).to.equal(null);
    expect(requests[1].recorder.closeError).to.equal(null);
    const refused = requests[2].recorder.closeError;
    expect(refused).to.be.instanceOf(Http2StreamError);
    expect((refused as Http2StreamError).errorCode).to.equal(ErrorCode.REFUSED_STREAM);
    expect((refused as Http2StreamError).retryable).to.equal(true);
    expect(h.tc.isShutDown, 'the connection closed').to.equal(true);
    expect(h.tc.shutdownError, 'gracefully').to.equal(null);
    expect(h.connectionErrors).to.deep.equal([]);
    h.finish();
  });
});
