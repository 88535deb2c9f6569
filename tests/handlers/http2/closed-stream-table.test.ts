/**
 * The closed-stream table (issue 17): for each frame type and each way a stream closed, the RFC
 * 9113 answer — ignored (free, within what a legal peer may still send), ignored but counted as
 * a frame doing no work, a stream error, or a connection error — with its code and scope. The
 * expected table is written here on its own, from the RFC, not read from the code.
 */
import { expect } from 'chai';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import type { Http2ClientConnection } from '../../../handlers/http2/connection/client-connection.js';
import type { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import {
  POST,
  OK,
  GET,
  clientHarness,
  expectGoaway,
  expectRst,
  frameNames,
  request,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';

/** What the connection answers. */
type Answer =
  | 'free' // ignored, and not counted: a legal race
  | 'counted' // ignored, but counted as a frame doing no work
  | 'stream STREAM_CLOSED'
  | 'connection STREAM_CLOSED'
  | 'connection PROTOCOL_ERROR';

type CloseKind =
  'END_STREAM, ours last' | "END_STREAM, the peer's last" | 'reset sent' | 'reset received' | 'forgotten';

/** A frame type under test and how the peer writes it on stream 1. */
interface LateFrame {
  readonly name: string;
  readonly write: (h: Harness<Http2ServerConnection>) => Buffer;
}

const LATE_FRAMES: Record<string, LateFrame> = {
  DATA: { name: 'DATA', write: (h) => h.peer.data(1, 'late') },
  HEADERS: { name: 'HEADERS (trailers)', write: (h) => h.peer.headers(1, ['x-late', '1'], { endStream: true }) },
  WINDOW_UPDATE: { name: 'WINDOW_UPDATE', write: (h) => h.peer.windowUpdate(1, 1000) },
  RST_STREAM: { name: 'RST_STREAM', write: (h) => h.peer.rstStream(1, ErrorCode.CANCEL) },
  PRIORITY: { name: 'PRIORITY', write: (h) => h.peer.priority(1, 0) },
};

/**
 * RFC 9113 §5.1 ("closed"), §6.1 (DATA on a stream not open: stream error STREAM_CLOSED), and
 * the choices of issue 17 (HEADERS on a closed stream: connection error STREAM_CLOSED).
 */
const TABLE: Record<string, Record<CloseKind, Answer>> = {
  DATA: {
    'END_STREAM, ours last': 'stream STREAM_CLOSED',
    "END_STREAM, the peer's last": 'stream STREAM_CLOSED',
    'reset sent': 'free',
    'reset received': 'stream STREAM_CLOSED',
    forgotten: 'stream STREAM_CLOSED',
  },
  HEADERS: {
    'END_STREAM, ours last': 'connection STREAM_CLOSED',
    "END_STREAM, the peer's last": 'connection STREAM_CLOSED',
    'reset sent': 'free',
    'reset received': 'connection STREAM_CLOSED',
    forgotten: 'connection PROTOCOL_ERROR',
  },
  WINDOW_UPDATE: {
    'END_STREAM, ours last': 'free',
    "END_STREAM, the peer's last": 'free',
    'reset sent': 'free',
    'reset received': 'counted',
    forgotten: 'counted',
  },
  RST_STREAM: {
    'END_STREAM, ours last': 'free',
    "END_STREAM, the peer's last": 'free',
    'reset sent': 'free',
    'reset received': 'counted',
    forgotten: 'counted',
  },
  PRIORITY: {
    'END_STREAM, ours last': 'free',
    "END_STREAM, the peer's last": 'free',
    'reset sent': 'free',
    'reset received': 'free',
    forgotten: 'counted',
  },
};

/** Our stream receive window: what a peer may have in flight when we reset. */
const STREAM_WINDOW = 48_000;
/** A body long enough to take several DATA frames (credit the peer may return late). */
const BODY = Buffer.alloc(40_000, 7);

/**
 * A server whose stream 1 closed as `kind`, with a glitch budget of one that is already spent:
 * the next counted frame gets GOAWAY(ENHANCE_YOUR_CALM), a free one gets nothing.
 */
function closedAs(kind: CloseKind): Harness<Http2ServerConnection> {
  const h = serverHarness({
    connection: {
      maxGlitchesPerInterval: 1,
      maxClosedStreams: kind === 'forgotten' ? 1 : 100,
      initialStreamWindowSize: STREAM_WINDOW,
    },
  });
  switch (kind) {
    case 'END_STREAM, ours last': {
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      const { stream } = h.received[0];
      stream.sendHeaders(OK);
      stream.write(BODY);
      stream.end();
      break;
    }
    case "END_STREAM, the peer's last": {
      h.exchange(h.peer.headers(1, POST));
      const { stream } = h.received[0];
      stream.sendHeaders(OK);
      stream.write(BODY);
      stream.end();
      h.flush();
      h.exchange(h.peer.data(1, 'body', { endStream: true }));
      break;
    }
    case 'reset sent':
      h.exchange(h.peer.headers(1, POST));
      h.received[0].stream.reset();
      break;
    case 'reset received':
      h.exchange(h.peer.headers(1, POST), h.peer.rstStream(1, ErrorCode.CANCEL));
      break;
    case 'forgotten':
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      h.exchange(h.peer.headers(3, GET, { endStream: true }));
      h.received[1].stream.sendHeaders(OK, true);
      break;
  }
  const frames = h.flush();
  expect(
    frameNames(frames).filter((name) => name.startsWith('GOAWAY')),
    'set-up without errors',
  ).to.deep.equal([]);
  expect(h.received[0].stream.isClosed, 'stream 1 closed').to.equal(true);
  // Spend the one glitch the budget allows: an unknown frame type does no work.
  expect(h.exchange(h.peer.raw(0xfa, 0, 0))).to.deep.equal([]);
  return h;
}

function expectAnswer(h: Harness<Http2ServerConnection>, frames: WrittenFrame[], answer: Answer): void {
  switch (answer) {
    case 'free':
      expect(frameNames(frames), 'ignored, not counted').to.deep.equal([]);
      expect(h.tc.isShutDown).to.equal(false);
      break;
    case 'counted':
      expectGoaway(frames, ErrorCode.ENHANCE_YOUR_CALM);
      break;
    case 'stream STREAM_CLOSED':
      expectRst(frames, 1, ErrorCode.STREAM_CLOSED);
      expect(h.tc.isShutDown).to.equal(false);
      break;
    case 'connection STREAM_CLOSED':
      expectGoaway(frames, ErrorCode.STREAM_CLOSED);
      break;
    case 'connection PROTOCOL_ERROR':
      expectGoaway(frames, ErrorCode.PROTOCOL_ERROR);
      break;
  }
}

describe('HTTP/2 connection: the closed-stream table (RFC 9113 §5.1)', () => {
  for (const [type, row] of Object.entries(TABLE)) {
    for (const [kind, answer] of Object.entries(row) as [CloseKind, Answer][]) {
      it(`${LATE_FRAMES[type].name} on a stream closed by ${kind}: ${answer}`, () => {
        const h = closedAs(kind);
        expectAnswer(h, h.exchange(LATE_FRAMES[type].write(h)), answer);
        h.finish();
      });
    }
  }

  describe('what a legal peer may still send, and no more', () => {
    it('late WINDOW_UPDATEs: one per DATA frame we sent, plus one; the next is counted', () => {
      const h = closedAs('END_STREAM, ours last');
      // 40 000 bytes went in three DATA frames (16 KiB messages): four late updates are free.
      for (let i = 0; i < 4; i++) expect(h.exchange(h.peer.windowUpdate(1, 8192)), `update ${i}`).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.windowUpdate(1, 1)), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('late WINDOW_UPDATE credit: no more than the DATA we sent plus one initial window', () => {
      const h = closedAs('END_STREAM, ours last');
      expect(h.exchange(h.peer.windowUpdate(1, BODY.length))).to.deep.equal([]);
      expect(h.exchange(h.peer.windowUpdate(1, 65_535))).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.windowUpdate(1, 1)), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('a bodiless stream still allows one late WINDOW_UPDATE (a window raise that crossed the close)', () => {
      const h = closedAs('forgotten');
      // Stream 3 is remembered; it sent no DATA.
      expect(h.exchange(h.peer.windowUpdate(3, 10_000))).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.windowUpdate(3, 10_000)), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('one late RST_STREAM per stream; a second is counted', () => {
      const h = closedAs("END_STREAM, the peer's last");
      expect(h.exchange(h.peer.rstStream(1, ErrorCode.NO_ERROR))).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.rstStream(1, ErrorCode.NO_ERROR)), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('after our reset: DATA up to the window the stream had (48 000) and one trailer block are free; a second block is counted', () => {
      const h = closedAs('reset sent');
      for (let i = 0; i < 3; i++) expect(h.exchange(h.peer.data(1, 16_000)), `DATA ${i}`).to.deep.equal([]);
      expect(h.exchange(h.peer.headers(1, ['x-trailer', '1'], { endStream: true }))).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.headers(1, ['x-trailer', '2'], { endStream: true })), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('after our reset: DATA beyond the window the stream had is counted', () => {
      const h = closedAs('reset sent');
      for (let i = 0; i < 3; i++) expect(h.exchange(h.peer.data(1, 16_000)), `DATA ${i}`).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.data(1, 1)), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('a refused stream ignores its request body in flight', () => {
      const h = serverHarness({ connection: { maxConcurrentStreams: 1, maxGlitchesPerInterval: 1 } });
      h.exchange(h.peer.headers(1, POST));
      const frames = h.exchange(
        h.peer.headers(3, POST),
        h.peer.data(3, 16_000),
        h.peer.data(3, 16_000),
        h.peer.data(3, 'end', { endStream: true }),
      );
      expectRst(frames, 3, ErrorCode.REFUSED_STREAM);
      expect(frameNames(frames)).to.deep.equal(['RST_STREAM:3']);
      h.finish();
    });
  });

  describe('client role', () => {
    /** A client whose request 1 closed by the server's END_STREAM (ours went with the request). */
    function clientClosed(): Harness<Http2ClientConnection> {
      const h = clientHarness({ connection: { maxGlitchesPerInterval: 1 } });
      request(h);
      h.flush();
      h.exchange(h.peer.headers(1, OK), h.peer.data(1, 'body', { endStream: true }));
      expect(h.exchange(h.peer.raw(0xfa, 0, 0))).to.deep.equal([]);
      return h;
    }

    it("a late WINDOW_UPDATE on a stream closed by the server's END_STREAM: free", () => {
      const h = clientClosed();
      expect(h.exchange(h.peer.windowUpdate(1, 100))).to.deep.equal([]);
      h.finish();
    });

    it('HEADERS on a stream closed by END_STREAM both ways: connection error STREAM_CLOSED', () => {
      const h = clientClosed();
      expectGoaway(h.exchange(h.peer.headers(1, ['x-late', '1'], { endStream: true })), ErrorCode.STREAM_CLOSED);
      h.finish();
    });

    it('HEADERS on a request stream the cache forgot: ignored, counted', () => {
      const h = clientHarness({ connection: { maxGlitchesPerInterval: 1, maxClosedStreams: 1 } });
      for (let i = 0; i < 2; i++) {
        request(h);
        h.flush();
        h.exchange(h.peer.headers(1 + 2 * i, OK, { endStream: true }));
      }
      expect(h.exchange(h.peer.raw(0xfa, 0, 0))).to.deep.equal([]);
      expectGoaway(h.exchange(h.peer.headers(1, OK, { endStream: true })), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });
  });
});

describe("HTTP/2 connection: Go's x/net/http2 client replayed (WINDOW_UPDATEs after END_STREAM)", () => {
  it('40 downloads of 1 MiB, each followed by 28 late WINDOW_UPDATEs as Go returns credit while its application reads: no GOAWAY', () => {
    // What Go's transport sends: a 4 MiB stream window and a 1 GiB connection window up front,
    // then WINDOW_UPDATEs as its application reads — many after the response's END_STREAM.
    const h = serverHarness({
      peerSettings: [
        [0x2, 0],
        [0x4, 4 * 1024 * 1024],
        [0x6, 10 * 1024 * 1024],
      ],
    });
    h.exchange(h.peer.windowUpdate(0, 1 << 30));
    const body = Buffer.alloc(1024 * 1024, 0x47);
    const downloads = 40;
    let received = 0;
    for (let i = 0; i < downloads; i++) {
      const id = 2 * i + 1;
      h.exchange(h.peer.headers(id, [...GET.slice(0, 6), ':path', '/bytes/1048576'], { endStream: true }));
      const { stream } = h.received[i];
      stream.sendHeaders(OK);
      stream.write(body);
      stream.end();
      const frames = h.flush();
      expect(
        frames.some((frame) => frame.streamId === id && frame.endStream),
        `download ${i} ended`,
      ).to.equal(true);
      expect(stream.isClosed).to.equal(true);
      received++;
      const late: Buffer[] = [];
      for (let step = 0; step < 28; step++)
        late.push(h.peer.windowUpdate(id, 32 * 1024), h.peer.windowUpdate(0, 32 * 1024));
      expect(frameNames(h.exchange(...late)), `answers to download ${i}'s late updates`).to.deep.equal([]);
    }
    expect(received).to.equal(downloads);
    expect(h.connectionErrors).to.deep.equal([]);
    expect(h.tc.isShutDown).to.equal(false);
    h.finish();
  });
});
