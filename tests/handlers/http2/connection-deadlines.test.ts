/**
 * Stalled, silent and slow peers of an HTTP/2 server connection, in virtual time: the handshake
 * deadline, the idle timeout, the minimum response rate (whether the peer slows by TCP or by
 * withholding WINDOW_UPDATE) and the minimum request-body rate.
 */
import { expect } from 'chai';
import { IoErrors, PassThroughHandler, TestingChannel, type MinDataRate } from '../../../lib/index.js';
import { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import { Http2Server, type ServerStream } from '../../../handlers/http2/api/server.js';
import type { Http2ConnectionOptions } from '../../../handlers/http2/connection/connection-options.js';
import {
  ErrorCode,
  FrameType,
  GET,
  OK,
  POST,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  frameNames,
  ofType,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';

/** 1000 B/s after a 1 s grace: a byte earns a millisecond. */
const RATE: MinDataRate = Object.freeze({ bytesPerSecond: 1000, graceMs: 1000 });
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

/** The code of the error a stream or channel ended with. */
function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null | undefined)?.code;
}

/** A server whose only deadline under test is the response rate (others off unless given). */
function rateServer(connection: Http2ConnectionOptions = {}, peerSettings: [number, number][] = []) {
  return serverHarness({
    connection: {
      idleTimeoutMs: 0,
      writeTimeoutMs: 0,
      minRequestBodyDataRate: null,
      minResponseDataRate: RATE,
      ...connection,
    },
    peerSettings,
  });
}

/** Opens GET on stream `id` and answers it with headers and `size` body bytes queued. */
function download(h: Harness<Http2ServerConnection>, id: number, size: number): void {
  h.send(h.peer.headers(id, GET, { endStream: true }));
  const stream = h.received[h.received.length - 1].stream;
  stream.sendHeaders(OK);
  stream.write(Buffer.alloc(size, 0x61));
  stream.end();
}

/** Advances in `stepMs` steps (at most `maxSteps`), running `step` after each, until the channel shuts down. */
function stepUntilShutDown(
  h: Harness<Http2ServerConnection>,
  stepMs: number,
  maxSteps: number,
  step: () => void,
): WrittenFrame[] {
  const frames: WrittenFrame[] = [];
  for (let i = 0; i < maxSteps && !h.tc.isShutDown; i++) {
    h.tc.advance(stepMs);
    if (h.tc.isShutDown) break;
    step();
    frames.push(...h.flush());
  }
  frames.push(...h.flush());
  return frames;
}

describe('HTTP/2 connection: stalled, silent and slow peers', () => {
  describe('handshake deadline', () => {
    it('closes a silent connection at handshakeTimeoutMs with IO_HANDSHAKE_TIMEOUT, without GOAWAY', () => {
      const h = serverHarness({ handshake: false, connection: { handshakeTimeoutMs: 2000 } });
      const frames = h.written();
      h.tc.advance(1999);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      frames.push(...h.flush());
      expect(h.tc.isShutDown).to.equal(true);
      expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
      expect(ofType(frames, FrameType.GOAWAY)).to.have.length(0);
      h.finish();
    });

    it('closes a connection that sent part of the preface, or the preface without its SETTINGS', () => {
      for (const sent of [h2Preface().subarray(0, 10), h2Preface()]) {
        const h = serverHarness({ handshake: false, connection: { handshakeTimeoutMs: 2000 } });
        h.send(sent);
        h.tc.advance(2000);
        expect(h.tc.isShutDown, `after ${sent.length} bytes`).to.equal(true);
        expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
        h.finish();
      }
    });

    it('leaves a connection whose preface and SETTINGS came in time alone', () => {
      const h = serverHarness({ connection: { handshakeTimeoutMs: 2000, idleTimeoutMs: 0 } });
      h.tc.advance(60_000);
      expect(h.tc.isShutDown).to.equal(false);
      expectNoErrors(h.flush());
      h.finish();
    });

    it('counts from the connection’s acceptance: time before the HTTP/2 handler (a TLS handshake) counts', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      test.advance(1500);
      const connection = new Http2ServerConnection({ handshakeTimeoutMs: 2000 });
      test.socketSlot.adjacentRight!.insertRight(connection);
      test.advance(499);
      expect(test.isShutDown).to.equal(false);
      test.advance(1);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('does not apply to a client connection', () => {
      const h = clientHarness({
        handshake: false,
        connection: { handshakeTimeoutMs: 1000, settingsTimeoutMs: 100_000 },
      });
      h.flush();
      h.tc.advance(50_000);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });
  });

  describe('idle timeout', () => {
    it('sends GOAWAY(NO_ERROR) to a connection without a stream for idleTimeoutMs, then closes it', () => {
      const h = serverHarness({ connection: { idleTimeoutMs: 5000 } });
      h.tc.advance(4999);
      expectNoErrors(h.flush());
      h.tc.advance(1);
      const frames = h.flush();
      expect(frameNames(frames)).to.deep.equal(['GOAWAY:0', 'PING:0']);
      expectGoaway(frames, ErrorCode.NO_ERROR);
      const ping = ofType(frames, FrameType.PING)[0];
      const last = h.exchange(h.peer.ping(ping.opaque![0], ping.opaque![1], true));
      expectGoaway(last, ErrorCode.NO_ERROR, 0);
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.tc.shutdownError).to.equal(null);
      h.finish();
    });

    it('never cuts a request in flight, and counts from the end of the last one', () => {
      const h = serverHarness({ connection: { idleTimeoutMs: 5000 } });
      h.send(h.peer.headers(1, GET, { endStream: true }));
      h.tc.advance(60_000); // the handler is still working
      expectNoErrors(h.flush());
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      h.tc.advance(4999);
      expectNoErrors(h.flush());
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      expectGoaway(h.flush(), ErrorCode.NO_ERROR);
      h.finish();
    });

    it('is not kept away by PINGs', () => {
      const h = serverHarness({ connection: { idleTimeoutMs: 5000 } });
      for (let i = 0; i < 2; i++) {
        h.tc.advance(2000);
        expect(frameNames(h.exchange(h.peer.ping(1, i)))).to.deep.equal(['PING+ACK:0']);
      }
      h.tc.advance(1000);
      expectGoaway(h.flush(), ErrorCode.NO_ERROR);
      h.finish();
    });

    it('does not close a client connection', () => {
      const h = clientHarness({ connection: { idleTimeoutMs: 1000 } });
      h.tc.advance(60_000);
      expectNoErrors(h.flush());
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });
  });

  describe('minimum response rate, a reader withholding WINDOW_UPDATE', () => {
    it('cuts off a reader at half the rate: GOAWAY(ENHANCE_YOUR_CALM), IO_SEND_RATE_TOO_LOW', () => {
      const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]);
      download(h, 1, 50_000);
      h.flush();
      const frames = stepUntilShutDown(h, 1000, 60, () => h.send(h.peer.windowUpdate(1, 500)));
      expect(h.tc.isShutDown).to.equal(true);
      expectGoaway(frames, ErrorCode.ENHANCE_YOUR_CALM);
      expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      expect(codeOf(h.received[0].recorder.closeError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      h.finish();
    });

    it('keeps a reader at twice the rate until its download is done', () => {
      const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]);
      download(h, 1, 50_000);
      h.flush();
      for (let i = 0; i < 100 && !h.received[0].stream.isClosed; i++) {
        h.tc.advance(250);
        expectNoErrors(h.exchange(h.peer.windowUpdate(1, 500)));
      }
      expect(h.received[0].stream.isClosed, 'the whole body went out').to.equal(true);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('cuts off a reader that bursts, then trickles', () => {
      const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]);
      download(h, 1, 60_000);
      h.flush();
      h.tc.advance(500);
      h.exchange(h.peer.windowUpdate(1, 40_000)); // 40 kB at once: worth 40 s at the rate
      stepUntilShutDown(h, 1000, 60, () => h.send(h.peer.windowUpdate(1, 100)));
      expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      h.finish();
    });

    const UNTIMED: { name: string; exempt: boolean }[] = [
      { name: 'a stream set to setMinDataRate(null) (WebSocket, extended CONNECT)', exempt: true },
      { name: 'a CONNECT stream', exempt: false },
    ];
    for (const { name, exempt } of UNTIMED) {
      it(`does not time ${name}, whose window stays spent`, () => {
        const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]);
        const request = exempt ? GET : [':method', 'CONNECT', ':authority', 'example.test:443'];
        h.send(h.peer.headers(1, request, { endStream: exempt }));
        const stream = h.received[0].stream;
        if (exempt) stream.setMinDataRate(null);
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(10_000));
        h.flush();
        h.tc.advance(600_000);
        expectNoErrors(h.flush());
        expect(h.tc.isShutDown).to.equal(false);
        h.finish();
      });
    }
  });

  describe('minimum response rate, a reader slow through TCP', () => {
    /** A server with room in every window, whose writes the test completes one by one. */
    function tcpServer(): Harness<Http2ServerConnection> {
      const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1_000_000]]);
      h.exchange(h.peer.windowUpdate(0, 1_000_000));
      return h;
    }

    /**
     * Plays a reader that takes `bytesPerSecond` through TCP: each write (one message of up to
     * 16 KiB in the harness) completes after its size at that rate, for `count` writes or until
     * the connection is cut.
     */
    function drain(h: Harness<Http2ServerConnection>, bytesPerSecond: number, count: number): void {
      for (let i = 0; i < count && !h.tc.isShutDown && h.tc.pendingWriteCount > 0; i++) {
        h.tc.advance(Math.ceil((h.conn.outgoing.inFlightLength * 1000) / bytesPerSecond));
        if (h.tc.isShutDown) break;
        h.tc.completeWrites(1);
        h.written();
      }
    }

    it('cuts off a reader at half the rate, at once (nothing more can be written)', () => {
      const h = tcpServer();
      download(h, 1, 300_000);
      h.written();
      drain(h, 500, 12);
      expect(h.tc.isShutDown).to.equal(true);
      expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      h.finish();
    });

    it('keeps a reader at twice the rate', () => {
      const h = tcpServer();
      download(h, 1, 200_000);
      h.written();
      drain(h, 2000, 20);
      expect(h.tc.isShutDown).to.equal(false);
      expect(h.received[0].stream.isClosed, 'the whole body went out').to.equal(true);
      h.finish();
    });

    it('cuts off a reader that bursts, then trickles', () => {
      const h = tcpServer();
      download(h, 1, 300_000);
      h.written();
      drain(h, 10_000_000, 6); // 96 KiB at once
      drain(h, 400, 10); // then 400 B/s
      expect(codeOf(h.tc.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      h.finish();
    });
  });

  describe('minimum response rate, idle streams', () => {
    it('never cuts a streaming response idle between messages (SSE, gRPC)', () => {
      const h = rateServer({}, [[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]);
      h.send(h.peer.headers(1, GET, { endStream: true }));
      const stream = h.received[0].stream;
      stream.sendHeaders(OK);
      let sent = 0;
      for (let i = 0; i < 10; i++) {
        const event = Buffer.from(`data: event ${i}\n\n`);
        sent += event.length;
        stream.write(event);
        expectNoErrors(h.flush());
        h.tc.advance(60_000);
      }
      // Its window now spent, with nothing queued: still not timed.
      stream.write(Buffer.alloc(1000 - sent));
      h.flush();
      h.tc.advance(600_000);
      expectNoErrors(h.flush());
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });
  });

  describe('minimum request-body rate', () => {
    function uploadServer(connection: Http2ConnectionOptions = {}) {
      return serverHarness({
        connection: { idleTimeoutMs: 0, minResponseDataRate: null, minRequestBodyDataRate: RATE, ...connection },
      });
    }

    it('resets an uploader at half the rate: RST_STREAM(ENHANCE_YOUR_CALM), IO_RECEIVE_RATE_TOO_LOW; the connection goes on', () => {
      const h = uploadServer();
      h.send(h.peer.headers(1, POST));
      const frames: WrittenFrame[] = [];
      for (let i = 0; i < 60 && !h.received[0].stream.isClosed; i++) {
        h.tc.advance(1000);
        frames.push(...h.exchange(h.peer.data(1, 500)));
      }
      expectRst(frames, 1, ErrorCode.ENHANCE_YOUR_CALM);
      expect(codeOf(h.received[0].recorder.closeError)).to.equal(IoErrors.RECEIVE_RATE_TOO_LOW.code);
      expect(h.tc.isShutDown).to.equal(false);
      h.send(h.peer.headers(3, GET, { endStream: true }));
      expect(h.received).to.have.length(2);
      h.finish();
    });

    it('keeps an uploader at twice the rate', () => {
      const h = uploadServer();
      h.send(h.peer.headers(1, POST));
      for (let i = 0; i < 120; i++) {
        h.tc.advance(250);
        expectNoErrors(h.exchange(h.peer.data(1, 500, { endStream: i === 119 })));
      }
      expect(h.received[0].recorder.kinds).to.include('end');
      h.finish();
    });

    it('does not reset the peer of an application that stops reading (manual window)', () => {
      const h = uploadServer({ windowMode: 'manual' });
      h.send(h.peer.headers(1, POST), h.peer.data(1, 100));
      h.tc.advance(600_000);
      expectNoErrors(h.flush());
      expect(h.received[0].stream.isClosed).to.equal(false);
      h.finish();
    });

    it('times the convenient body only while its reader waits; the read fails with IO_RECEIVE_RATE_TOO_LOW', async () => {
      const streams: ServerStream[] = [];
      const server = new Http2Server({}, (stream) => {
        streams.push(stream);
      });
      const h = serverHarness({
        connection: {
          idleTimeoutMs: 0,
          minResponseDataRate: null,
          minRequestBodyDataRate: RATE,
          onStream: (stream, headers, isEndStream) => server.acceptStream(stream, headers, isEndStream),
        },
      });
      h.send(h.peer.headers(1, POST), h.peer.data(1, 100));
      const body = streams[0].body[Symbol.asyncIterator]();
      expect((await body.next()).value).to.have.length(100);
      // The application works on the chunk for ten minutes: nobody waits for the peer.
      h.tc.advance(600_000);
      expectNoErrors(h.flush());
      // Now it reads again, and the peer sends nothing.
      const read = body.next();
      read.catch(() => undefined);
      h.tc.advance(999);
      expectNoErrors(h.flush());
      h.tc.advance(1);
      expectRst(h.flush(), 1, ErrorCode.ENHANCE_YOUR_CALM);
      let failure: unknown = null;
      await read.catch((error: unknown) => (failure = error));
      expect(codeOf(failure)).to.equal(IoErrors.RECEIVE_RATE_TOO_LOW.code);
      h.finish();
    });

    it('is lifted for a stream set to setMinDataRate(null), and replaced by setMinDataRate(rate)', () => {
      const h = uploadServer();
      h.send(h.peer.headers(1, POST), h.peer.headers(3, POST));
      h.received[0].stream.setMinDataRate(null);
      h.received[1].stream.setMinDataRate({ bytesPerSecond: 1000, graceMs: 100_000 });
      h.tc.advance(99_000);
      expectNoErrors(h.flush());
      h.tc.advance(1000);
      expectRst(h.flush(), 3, ErrorCode.ENHANCE_YOUR_CALM);
      expect(h.received[0].stream.isClosed).to.equal(false);
      h.finish();
    });

    it('refuses a rate that is not one with HTTP2_INVALID_ARGUMENT', () => {
      const h = uploadServer();
      h.send(h.peer.headers(1, POST));
      expect(() => h.received[0].stream.setMinDataRate({ bytesPerSecond: 0, graceMs: 1 }))
        .to.throw()
        .with.property('code', 'HTTP2_INVALID_ARGUMENT');
      h.finish();
    });
  });
});

function h2Preface(): Buffer {
  return Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
}
