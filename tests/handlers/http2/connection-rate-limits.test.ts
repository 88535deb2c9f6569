/**
 * The connection's abuse budgets in virtual time, on the testing channel: peer resets (Rapid
 * Reset), resets the peer makes us send (MadeYouReset) and glitches (frames doing no work). Each
 * budget is a token bucket of `max…PerInterval` events per `abuseIntervalMs`: the events of one
 * burst pass, the next gets GOAWAY(ENHANCE_YOUR_CALM), and the budget refills as virtual time
 * passes. (The wall-clock floods over real sockets are in `npm run test:hardening`.)
 */
import { expect } from 'chai';
import { ErrorCode, FrameType } from '../../../handlers/http2/wire/constants.js';
import type { Http2ConnectionOptions } from '../../../handlers/http2/connection/connection-options.js';
import type { Http2Connection } from '../../../handlers/http2/connection/http2-connection.js';
import { Http2ConnectionError } from '../../../handlers/http2/errors.js';
import { FREE_PRIORITY_UPDATES_PER_STREAM } from '../../../handlers/http2/connection/priority-signals.js';
import {
  GET,
  POST,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  frameNames,
  ofType,
  request,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';

/** Events per burst in these tests. */
const BURST = 4;
/** The interval of the budgets, virtual ms. */
const INTERVAL_MS = 1000;
/** Virtual time that buys one event back. */
const ONE_EVENT_MS = INTERVAL_MS / BURST;

type BudgetOption = 'maxPeerResetsPerInterval' | 'maxLocalResetsPerInterval' | 'maxGlitchesPerInterval';

/** A connection under test and how its peer spends one event of the budget. */
interface Spender {
  readonly h: Harness<Http2Connection>;
  /** Sends the `index`-th event (each on fresh streams) and returns the frames answered. */
  spend(index: number): WrittenFrame[];
  /** Asserts the answer to an event the budget allowed. */
  expectAllowed(frames: WrittenFrame[], index: number): void;
}

/** One budget and one way a peer spends it. */
interface BudgetCase {
  readonly name: string;
  readonly option: BudgetOption;
  start(connection: Http2ConnectionOptions): Spender;
}

const serverStreamId = (index: number): number => 1 + 2 * index;

const CASES: readonly BudgetCase[] = [
  {
    name: 'peer resets (Rapid Reset, CVE-2023-44487): server, HEADERS + RST_STREAM(CANCEL)',
    option: 'maxPeerResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: (index) => {
          const id = serverStreamId(index);
          return h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.rstStream(id, ErrorCode.CANCEL));
        },
        expectAllowed: (frames, index) => {
          expectNoErrors(frames);
          expect(h.received[index].recorder.closeCount, 'the reset closed the stream').to.equal(1);
        },
      };
    },
  },
  {
    name: 'peer resets (Rapid Reset): client, the server resets each request',
    option: 'maxPeerResetsPerInterval',
    start(connection) {
      const h = clientHarness({ connection });
      return {
        h,
        spend: () => {
          const { stream } = request(h);
          h.flush();
          return h.exchange(h.peer.rstStream(stream.id, ErrorCode.CANCEL));
        },
        expectAllowed: (frames) => expectNoErrors(frames),
      };
    },
  },
  {
    name: 'local resets (MadeYouReset, CVE-2025-8671): server, WINDOW_UPDATE 0 on an open stream',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: (index) => {
          const id = serverStreamId(index);
          return h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.windowUpdate(id, 0));
        },
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index), ErrorCode.PROTOCOL_ERROR),
      };
    },
  },
  {
    name: 'local resets (MadeYouReset): server, DATA after END_STREAM',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: (index) => {
          const id = serverStreamId(index);
          return h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.data(id, 1));
        },
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index), ErrorCode.STREAM_CLOSED),
      };
    },
  },
  {
    name: 'local resets (CVE-2019-9516 and kin): server, a request with a zero-length header name is refused',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: (index) =>
          h.exchange(h.peer.headers(serverStreamId(index), [...GET, '', 'empty name'], { endStream: true })),
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index), ErrorCode.PROTOCOL_ERROR),
      };
    },
  },
  {
    name: 'local resets: server, streams beyond MAX_CONCURRENT_STREAMS are refused',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection: { ...connection, maxConcurrentStreams: 1 } });
      h.exchange(h.peer.headers(1, GET, { endStream: true })); // held open: the application never answers
      return {
        h,
        spend: (index) => h.exchange(h.peer.headers(serverStreamId(index + 1), GET, { endStream: true })),
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index + 1), ErrorCode.REFUSED_STREAM),
      };
    },
  },
  {
    name: 'local resets: server, WINDOW_UPDATE overflowing a stream window',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: (index) => {
          const id = serverStreamId(index);
          return h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.windowUpdate(id, 0x7fff_ffff));
        },
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index), ErrorCode.FLOW_CONTROL_ERROR),
      };
    },
  },
  {
    name: 'local resets (forced): client, a malformed response (:status 101) is reset',
    option: 'maxLocalResetsPerInterval',
    start(connection) {
      const h = clientHarness({ connection });
      return {
        h,
        spend: () => {
          const { stream } = request(h);
          h.flush();
          return h.exchange(h.peer.headers(stream.id, [':status', '101']));
        },
        expectAllowed: (frames, index) => expectRst(frames, serverStreamId(index), ErrorCode.PROTOCOL_ERROR),
      };
    },
  },
  {
    name: 'glitches (CVE-2019-9518): server, empty DATA without END_STREAM',
    option: 'maxGlitchesPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      h.exchange(h.peer.headers(1, POST));
      return { h, spend: () => h.exchange(h.peer.data(1, 0)), expectAllowed: (frames) => expectNoErrors(frames) };
    },
  },
  {
    name: 'glitches: server, PRIORITY on an idle stream',
    option: 'maxGlitchesPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      return {
        h,
        spend: () => h.exchange(h.peer.priority(101, 0)),
        expectAllowed: (frames) => expect(frameNames(frames)).to.deep.equal([]),
      };
    },
  },
  {
    name: 'glitches: server, PRIORITY_UPDATE beyond the free ones of an open stream (RFC 9218)',
    option: 'maxGlitchesPerInterval',
    start(connection) {
      const h = serverHarness({ connection });
      h.exchange(h.peer.headers(1, GET)); // held open
      for (let i = 0; i < FREE_PRIORITY_UPDATES_PER_STREAM; i++)
        expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=2')));
      return {
        h,
        spend: (index) => h.exchange(h.peer.priorityUpdate(1, `u=${index % 8}`)),
        expectAllowed: (frames) => expect(frameNames(frames)).to.deep.equal([]),
      };
    },
  },
  {
    name: 'glitches: client, frames of an unknown type',
    option: 'maxGlitchesPerInterval',
    start(connection) {
      const h = clientHarness({ connection });
      return {
        h,
        spend: () => h.exchange(h.peer.raw(0xfa, 0, 0, Buffer.alloc(8))),
        expectAllowed: (frames) => expect(frameNames(frames)).to.deep.equal([]),
      };
    },
  },
];

/** Starts `budget` with a burst of {@link BURST} per {@link INTERVAL_MS}. */
function startWithBudget(budget: BudgetCase, max = BURST): Spender {
  // The peer stays quiet for many intervals with streams open: no idle timeout, no body rate.
  return budget.start({
    [budget.option]: max,
    abuseIntervalMs: INTERVAL_MS,
    idleTimeoutMs: 0,
    minRequestBodyDataRate: null,
  });
}

/** Spends `count` events from `first` on, each of which the budget must allow. */
function spendAllowed(spender: Spender, first: number, count: number): void {
  for (let index = first; index < first + count; index++) {
    const frames = spender.spend(index);
    expect(ofType(frames, FrameType.GOAWAY), `event ${index}: ${frameNames(frames).join(' ')}`).to.have.length(0);
    spender.expectAllowed(frames, index);
  }
  expect(spender.h.tc.isShutDown, 'the connection goes on').to.equal(false);
}

/** Spends one event over the budget: GOAWAY(ENHANCE_YOUR_CALM), and the connection closes. */
function spendOver(spender: Spender, index: number): void {
  expectGoaway(spender.spend(index), ErrorCode.ENHANCE_YOUR_CALM);
  expect(spender.h.tc.isShutDown, 'closed after the GOAWAY').to.equal(true);
  const errors = spender.h.connectionErrors;
  expect(errors, 'one connection error reported').to.have.length(1);
  expect(errors[0]).to.be.instanceOf(Http2ConnectionError);
  expect((errors[0] as Http2ConnectionError).errorCode).to.equal(ErrorCode.ENHANCE_YOUR_CALM);
}

describe('HTTP/2 connection: abuse budgets in virtual time', () => {
  for (const budget of CASES) {
    describe(budget.name, () => {
      it(`allows a burst of ${BURST} within one interval: no GOAWAY`, () => {
        const spender = startWithBudget(budget);
        spendAllowed(spender, 0, BURST);
        spender.h.finish();
      });

      it(`sends GOAWAY(ENHANCE_YOUR_CALM) for event ${BURST + 1} within the interval`, () => {
        const spender = startWithBudget(budget);
        spendAllowed(spender, 0, BURST);
        spender.h.tc.advance(ONE_EVENT_MS - 1); // not yet a whole event back
        spendOver(spender, BURST);
        spender.h.finish();
      });

      it('refills as virtual time passes: one event per interval/burst, a whole burst per interval', () => {
        const spender = startWithBudget(budget);
        spendAllowed(spender, 0, BURST);
        spender.h.tc.advance(ONE_EVENT_MS);
        spendAllowed(spender, BURST, 1);
        spender.h.tc.advance(INTERVAL_MS);
        spendAllowed(spender, BURST + 1, BURST);
        spendOver(spender, 2 * BURST + 1);
        spender.h.finish();
      });

      it('never saves more than one burst, however long the peer stays quiet', () => {
        const spender = startWithBudget(budget);
        spendAllowed(spender, 0, 1);
        spender.h.tc.advance(100 * INTERVAL_MS);
        spendAllowed(spender, 1, BURST);
        spendOver(spender, BURST + 1);
        spender.h.finish();
      });

      it('is off with 0', () => {
        const spender = startWithBudget(budget, 0);
        spendAllowed(spender, 0, 3 * BURST);
        spender.h.finish();
      });
    });
  }
});

/** The default budget, at its size (HTTP2_CONNECTION_DEFAULTS: 200 peer resets per 30 s). */
describe('HTTP/2 connection: abuse budget defaults', () => {
  it('a server answers 200 peer resets in one interval and sends GOAWAY(ENHANCE_YOUR_CALM) at the 201st', () => {
    const h = serverHarness();
    for (let index = 0; index < 200; index++) {
      const id = serverStreamId(index);
      expectNoErrors(h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.rstStream(id, ErrorCode.CANCEL)));
    }
    const id = serverStreamId(200);
    expectGoaway(
      h.exchange(h.peer.headers(id, GET, { endStream: true }), h.peer.rstStream(id, ErrorCode.CANCEL)),
      ErrorCode.ENHANCE_YOUR_CALM,
    );
    h.finish();
  });
});
