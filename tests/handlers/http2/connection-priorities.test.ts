/**
 * RFC 9218 priorities on a connection: the `priority` field and PRIORITY_UPDATE frames decide
 * the order of DATA, the frame's errors have their codes and scopes, and the client sends both.
 */
import { expect } from 'chai';
import { thrownCode } from '../../support/error-codes.js';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import type { Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import { FREE_PRIORITY_UPDATES_PER_STREAM } from '../../../handlers/http2/connection/priority-signals.js';
import {
  GET,
  OK,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  frameNames,
  ofType,
  request,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';

/** A GET carrying `priority: value`. */
const getWith = (value: string): Http2Headers => [...GET, 'priority', value];

/** Windows large enough that flow control never decides the order. */
const BIG_WINDOWS: [number, number][] = [[SettingId.INITIAL_WINDOW_SIZE, 4_000_000]];

/** A server whose peer opened big windows. */
function bigWindowServer(options: Parameters<typeof serverHarness>[0] = {}): Harness<Http2ServerConnection> {
  const h = serverHarness({ peerSettings: BIG_WINDOWS, ...options });
  h.exchange(h.peer.windowUpdate(0, 4_000_000));
  return h;
}

/** Every received stream answers 200 with `size` bytes of its id and ends. */
function answerAll(h: Harness<Http2ServerConnection>, size: number, headers: Http2Headers = OK): void {
  for (const { stream } of h.received) {
    if (stream.isClosed) continue;
    stream.sendHeaders(headers);
    stream.write(Buffer.alloc(size, stream.id));
    stream.end();
  }
}

/** The stream ids of the DATA frames, in wire order. */
const dataOrder = (frames: readonly WrittenFrame[]): number[] =>
  ofType(frames, FrameType.DATA).map((frame) => frame.streamId);

/** `order` with runs of one id written once: `[3, 3, 5, 3]` → `[3, 5, 3]`. */
const runs = (order: readonly number[]): number[] => order.filter((id, i) => i === 0 || order[i - 1] !== id);

describe('HTTP/2 connection: RFC 9218 priorities', () => {
  describe('SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218 §2.1)', () => {
    it('is 1 in the first SETTINGS of both roles', () => {
      for (const h of [serverHarness(), clientHarness()]) {
        const first = h.handshakeFrames.find((frame) => frame.type === FrameType.SETTINGS && !frame.ack)!;
        const settings = first.settings!;
        const at = settings.findIndex((value, i) => i % 2 === 0 && value === SettingId.NO_RFC7540_PRIORITIES);
        expect(at, `${h.conn.role} SETTINGS ${settings.join(',')}`).to.be.at.least(0);
        expect(settings[at + 1]).to.equal(1);
        h.finish();
      }
    });

    it('answers a value other than 0 or 1 with GOAWAY(PROTOCOL_ERROR)', () => {
      const h = serverHarness();
      expectGoaway(h.exchange(h.peer.settings([SettingId.NO_RFC7540_PRIORITIES, 2])), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('records the peer announcing it', () => {
      const h = clientHarness({ peerSettings: [[SettingId.NO_RFC7540_PRIORITIES, 1]] });
      expect(h.conn.peerSettings.noRfc7540Priorities).to.equal(true);
      h.finish();
    });
  });

  describe('the order of DATA', () => {
    it('sends lower urgency first, non-incremental before incremental, one at a time in id order, incremental in turn', () => {
      const h = bigWindowServer();
      h.exchange(
        h.peer.headers(1, getWith('u=5'), { endStream: true }),
        h.peer.headers(3, getWith('u=1'), { endStream: true }),
        h.peer.headers(5, GET, { endStream: true }), // no field: u=3
        h.peer.headers(7, getWith('u=1, i'), { endStream: true }),
        h.peer.headers(9, getWith('i, u=1'), { endStream: true }),
        h.peer.headers(11, getWith('u=0'), { endStream: true }),
        h.peer.headers(13, getWith('u=1'), { endStream: true }),
      );
      expect(h.received.map(({ stream }) => stream.priority)).to.deep.equal([
        { urgency: 5, incremental: false },
        { urgency: 1, incremental: false },
        { urgency: 3, incremental: false },
        { urgency: 1, incremental: true },
        { urgency: 1, incremental: true },
        { urgency: 0, incremental: false },
        { urgency: 1, incremental: false },
      ]);
      answerAll(h, 40_000); // three frames or more each (message ends cut frames short)
      const frames = h.flush();
      expectNoErrors(frames);
      const order = runs(dataOrder(frames));
      expect(order.slice(0, 3), order.join(',')).to.deep.equal([11, 3, 13]);
      expect(order.slice(-2), order.join(',')).to.deep.equal([5, 1]);
      // The two incremental streams in turn, frame by frame.
      const incremental = order.slice(3, -2);
      expect(incremental.length, order.join(',')).to.be.at.least(6);
      expect(incremental, order.join(',')).to.deep.equal(incremental.map((_, i) => (i % 2 === 0 ? 7 : 9)));
      h.finish();
    });

    it('serves streams without priorities one at a time in request order (the default, u=3)', () => {
      const h = bigWindowServer();
      h.exchange(
        h.peer.headers(1, GET, { endStream: true }),
        h.peer.headers(3, GET, { endStream: true }),
        h.peer.headers(5, GET, { endStream: true }),
      );
      // Written in reverse order: the scheduler still goes by stream id.
      for (const { stream } of [...h.received].reverse()) {
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(40_000, stream.id));
        stream.end();
      }
      expect(runs(dataOrder(h.flush()))).to.deep.equal([1, 3, 5]);
      h.finish();
    });

    it('lets CONNECT tunnels share the connection (incremental by default), unless their field says i=?0', () => {
      const h = bigWindowServer();
      const connect = (authority: string): Http2Headers => [':method', 'CONNECT', ':authority', authority];
      h.exchange(
        h.peer.headers(1, connect('a.test:443')),
        h.peer.headers(3, connect('b.test:443')),
        h.peer.headers(5, [...connect('c.test:443'), 'priority', 'i=?0, u=4']),
        h.peer.headers(7, [...connect('d.test:443'), 'priority', 'u=4']),
      );
      expect(h.received.map(({ stream }) => stream.priority)).to.deep.equal([
        { urgency: 3, incremental: true },
        { urgency: 3, incremental: true },
        { urgency: 4, incremental: false },
        { urgency: 4, incremental: true },
      ]);
      for (const { stream } of h.received) {
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(40_000, stream.id));
      }
      const order = runs(dataOrder(h.flush()));
      expect(order.slice(0, 4), order.join(',')).to.deep.equal([1, 3, 1, 3]);
      h.finish();
    });

    it('ignores RFC 7540 priorities: PRIORITY frames and the priority fields of HEADERS change nothing', () => {
      const h = bigWindowServer();
      h.exchange(
        h.peer.headers(1, getWith('u=4'), { endStream: true }),
        h.peer.headers(3, getWith('u=2'), {
          endStream: true,
          priority: { streamDependency: 1, weight: 1, isExclusive: true },
        }),
        h.peer.priority(1, 0, 256),
      );
      answerAll(h, 40_000);
      expect(runs(dataOrder(h.flush()))).to.deep.equal([3, 1]);
      h.finish();
    });

    it('lets a response priority field override the parameters it names (RFC 9218 §8)', () => {
      const h = bigWindowServer();
      h.exchange(
        h.peer.headers(1, getWith('u=5, i'), { endStream: true }),
        h.peer.headers(3, getWith('u=2'), { endStream: true }),
      );
      const [first, second] = h.received;
      first.stream.sendHeaders([':status', '200', 'priority', 'u=1']);
      first.stream.write(Buffer.alloc(40_000, 1));
      first.stream.end();
      second.stream.sendHeaders(OK);
      second.stream.write(Buffer.alloc(40_000, 3));
      second.stream.end();
      expect(first.stream.priority).to.deep.equal({ urgency: 1, incremental: true });
      expect(runs(dataOrder(h.flush()))).to.deep.equal([1, 3]);
      h.finish();
    });

    it('moves a stream the server reprioritizes mid-response', () => {
      const h = bigWindowServer();
      h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
      answerAll(h, 60_000);
      const first = h.written(); // one 16 KiB message: stream 1 goes first
      expect(runs(dataOrder(first))).to.deep.equal([1]);
      h.received[1].stream.setPriority({ urgency: 0 });
      const rest = h.flush();
      expect(runs(dataOrder(rest))).to.deep.equal([3, 1]);
      expect(dataOrder([...first, ...rest]).filter((id) => id === 1)).to.have.length.above(2);
      h.finish();
    });

    it('skips a stream blocked on its window without starving the others, and serves it first once it opens', () => {
      const h = serverHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 20_000]] });
      h.exchange(h.peer.windowUpdate(0, 1_000_000));
      h.exchange(
        h.peer.headers(1, getWith('u=0'), { endStream: true }),
        h.peer.headers(3, getWith('u=7'), { endStream: true }),
      );
      answerAll(h, 50_000);
      const blocked = h.flush();
      expect(runs(dataOrder(blocked))).to.deep.equal([1, 3]);
      const bytesOf = (frames: readonly WrittenFrame[], id: number): number =>
        ofType(frames, FrameType.DATA)
          .filter((frame) => frame.streamId === id)
          .reduce((sum, frame) => sum + frame.length, 0);
      expect([bytesOf(blocked, 1), bytesOf(blocked, 3)]).to.deep.equal([20_000, 20_000]);
      // Both windows open in one read, the background stream's first: the urgent one still goes first.
      const reopened = h.exchange(h.peer.windowUpdate(3, 30_000), h.peer.windowUpdate(1, 30_000));
      expect(runs(dataOrder(reopened))).to.deep.equal([1, 3]);
      expect([bytesOf(reopened, 1), bytesOf(reopened, 3)]).to.deep.equal([30_000, 30_000]);
      h.finish();
    });

    it('keeps round-robin with writeScheduler round-robin, priorities aside', () => {
      const h = bigWindowServer({ connection: { writeScheduler: 'round-robin' } });
      h.exchange(
        h.peer.headers(1, getWith('u=7'), { endStream: true }),
        h.peer.headers(3, getWith('u=0'), { endStream: true }),
      );
      answerAll(h, 40_000);
      expect(dataOrder(h.flush())).to.deep.equal([1, 3, 1, 3, 1, 3]);
      h.finish();
    });

    it('refuses a writeScheduler that is not one with IO_INVALID_OPTIONS', () => {
      expect(thrownCode(() => new Http2ServerConnection({ writeScheduler: 'fifo' as unknown as 'rfc9218' }))).to.equal(
        'IO_INVALID_OPTIONS',
      );
    });
  });

  describe('PRIORITY_UPDATE received (server)', () => {
    it('reprioritizes an open stream mid-response', () => {
      const h = bigWindowServer();
      h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, GET, { endStream: true }));
      answerAll(h, 60_000);
      expect(runs(dataOrder(h.written()))).to.deep.equal([1]);
      h.send(h.peer.priorityUpdate(3, 'u=0'));
      const rest = h.flush();
      expectNoErrors(rest);
      expect(runs(dataOrder(rest))).to.deep.equal([3, 1]);
      expect(h.received[1].stream.priority).to.deep.equal({ urgency: 0, incremental: false });
      h.finish();
    });

    it('keeps an update that comes before the stream opens and applies it then (the last one wins)', () => {
      const h = bigWindowServer();
      expectNoErrors(
        h.exchange(
          h.peer.priorityUpdate(3, 'u=6'),
          h.peer.priorityUpdate(3, 'u=0, i'),
          h.peer.headers(1, GET, { endStream: true }),
          h.peer.headers(3, getWith('u=7'), { endStream: true }),
        ),
      );
      expect(h.received[1].stream.priority).to.deep.equal({ urgency: 0, incremental: true });
      answerAll(h, 40_000);
      expect(runs(dataOrder(h.flush()))).to.deep.equal([3, 1]);
      h.finish();
    });

    it('ignores an update whose value is not a Dictionary (RFC 9218 §7 allows ignoring it)', () => {
      const h = bigWindowServer();
      h.exchange(h.peer.headers(1, getWith('u=2'), { endStream: true }));
      expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=0,')));
      expect(h.received[0].stream.priority).to.deep.equal({ urgency: 2, incremental: false });
      // A Dictionary whose members are all ignored means the defaults: a complete set (§7).
      expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=9, x')));
      expect(h.received[0].stream.priority).to.deep.equal({ urgency: 3, incremental: false });
      h.finish();
    });

    it('ignores an update for a closed stream: no RST_STREAM, no GOAWAY', () => {
      const h = bigWindowServer();
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      expect(h.received[0].stream.isClosed).to.equal(true);
      expect(h.exchange(h.peer.priorityUpdate(1, 'u=0'))).to.deep.equal([]);
      h.finish();
    });

    it('answers more idle streams prioritized than SETTINGS_MAX_CONCURRENT_STREAMS leaves room for with GOAWAY(PROTOCOL_ERROR)', () => {
      const h = bigWindowServer({ connection: { maxConcurrentStreams: 3 } });
      h.exchange(h.peer.headers(1, GET)); // open: counts as active
      expectNoErrors(
        h.exchange(
          h.peer.priorityUpdate(3, 'u=1'),
          h.peer.priorityUpdate(5, 'u=1'),
          h.peer.priorityUpdate(3, 'u=2'), // the same stream again: still two kept
        ),
      );
      expectGoaway(h.exchange(h.peer.priorityUpdate(7, 'u=1')), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('frees the room of kept updates once their streams are no longer idle', () => {
      const h = bigWindowServer({ connection: { maxConcurrentStreams: 2 } });
      h.exchange(h.peer.priorityUpdate(1, 'u=1'), h.peer.priorityUpdate(3, 'u=1'));
      // Stream 5 opens: 1 and 3 never did and are closed now (RFC 9113 §5.1.1).
      h.exchange(h.peer.headers(5, GET, { endStream: true }));
      expectNoErrors(h.exchange(h.peer.priorityUpdate(7, 'u=1')));
      h.finish();
    });

    const connectionErrors: [string, (h: Harness<Http2ServerConnection>) => Buffer, number][] = [
      ['a push stream never promised (an even id)', (h) => h.peer.priorityUpdate(2, 'u=1'), ErrorCode.PROTOCOL_ERROR],
      ['stream 0 as the prioritized stream', (h) => h.peer.priorityUpdate(0, 'u=1'), ErrorCode.PROTOCOL_ERROR],
      [
        'the frame on a stream other than 0',
        (h) => h.peer.raw(FrameType.PRIORITY_UPDATE, 0, 1, Buffer.from([0, 0, 0, 1, 0x69])),
        ErrorCode.PROTOCOL_ERROR,
      ],
      [
        'a frame shorter than 4 bytes',
        (h) => h.peer.raw(FrameType.PRIORITY_UPDATE, 0, 0, Buffer.from([0, 0, 1])),
        ErrorCode.FRAME_SIZE_ERROR,
      ],
    ];
    for (const [name, frame, code] of connectionErrors) {
      it(`answers ${name} with GOAWAY(${code === ErrorCode.PROTOCOL_ERROR ? 'PROTOCOL_ERROR' : 'FRAME_SIZE_ERROR'}) (RFC 9218 §7.1)`, () => {
        const h = bigWindowServer();
        h.exchange(h.peer.headers(1, GET));
        const frames = h.exchange(frame(h));
        expectGoaway(frames, code);
        expect(ofType(frames, FrameType.RST_STREAM), 'a connection error, not a stream error').to.have.length(0);
        h.finish();
      });
    }

    it(`lets ${FREE_PRIORITY_UPDATES_PER_STREAM} updates per open stream and one after it closed go free, and counts the rest as glitches`, () => {
      const h = bigWindowServer({ connection: { maxGlitchesPerInterval: 2, abuseIntervalMs: 1_000_000 } });
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      for (let i = 0; i < FREE_PRIORITY_UPDATES_PER_STREAM; i++)
        expectNoErrors(h.exchange(h.peer.priorityUpdate(1, `u=${i}`)));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=1'))); // crossed the close: free
      expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=1'))); // glitch 1
      expectNoErrors(h.exchange(h.peer.priorityUpdate(1, 'u=1'))); // glitch 2
      expectGoaway(h.exchange(h.peer.priorityUpdate(1, 'u=1')), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('answers a flood of updates for idle streams with GOAWAY(ENHANCE_YOUR_CALM) at the default budget', () => {
      const h = bigWindowServer();
      let frames: WrittenFrame[] = [];
      for (let i = 0; i < 2000 && !h.tc.isShutDown; i++) frames = h.exchange(h.peer.priorityUpdate(101, 'u=1'));
      expectGoaway(frames, ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });
  });

  describe('a client', () => {
    it('answers a PRIORITY_UPDATE from the server with GOAWAY(PROTOCOL_ERROR) (RFC 9218 §7.1)', () => {
      const h = clientHarness();
      const { stream } = request(h);
      h.flush();
      expectGoaway(h.exchange(h.peer.priorityUpdate(stream.id, 'u=1')), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });

    it('sends the request option as the priority field, replacing one in the headers', () => {
      const h = clientHarness();
      const { stream } = request(h, getWith('u=6'), { isEndStream: true, priority: { urgency: 0, incremental: true } });
      const headers = ofType(h.flush(), FrameType.HEADERS)[0].headers!;
      expect(headers.filter((_, i) => i % 2 === 0 && headers[i] === 'priority')).to.have.length(1);
      expect(headers[headers.indexOf('priority') + 1]).to.equal('u=0, i');
      expect(stream.priority).to.deep.equal({ urgency: 0, incremental: true });
      // Without the option, the headers' field is sent as it is and read as the stream's priority.
      const plain = request(h, getWith('u=6, i'));
      const sent = ofType(h.flush(), FrameType.HEADERS)[0].headers!;
      expect(sent[sent.indexOf('priority') + 1]).to.equal('u=6, i');
      expect(plain.stream.priority).to.deep.equal({ urgency: 6, incremental: true });
      h.finish();
    });

    it('sends PRIORITY_UPDATE for setPriority once the request is out, to a server that takes them', () => {
      const h = clientHarness({ peerSettings: [[SettingId.NO_RFC7540_PRIORITIES, 1]] });
      const { stream } = request(h, GET, { isEndStream: true });
      h.flush();
      stream.setPriority({ urgency: 1, incremental: true });
      const updates = ofType(h.flush(), FrameType.PRIORITY_UPDATE);
      expect(updates.map((frame) => [frame.streamId, frame.priorityUpdate])).to.deep.equal([
        [0, { streamId: stream.id, value: 'u=1, i' }],
      ]);
      h.finish();
    });

    it('sends no PRIORITY_UPDATE to a server that did not announce SETTINGS_NO_RFC7540_PRIORITIES = 1 (RFC 9218 §2.1.1)', () => {
      const h = clientHarness();
      const { stream } = request(h, GET, { isEndStream: true });
      h.flush();
      stream.setPriority({ urgency: 1 });
      expect(frameNames(h.flush())).to.deep.equal([]);
      expect(stream.priority).to.deep.equal({ urgency: 1, incremental: false });
      h.finish();
    });

    it('puts a priority set while the request waits for a stream into its HEADERS', () => {
      const h = clientHarness({ peerSettings: [[SettingId.MAX_CONCURRENT_STREAMS, 1]] });
      const first = request(h, GET, { isEndStream: true });
      const waiting = request(h, GET, { isEndStream: true });
      h.flush();
      expect(waiting.stream.id).to.equal(0);
      waiting.stream.setPriority({ urgency: 2 });
      h.send(h.peer.headers(first.stream.id, OK, { endStream: true }));
      const headers = ofType(h.flush(), FrameType.HEADERS);
      expect(headers.map((frame) => frame.streamId)).to.deep.equal([3]);
      const fields = headers[0].headers!;
      expect(fields[fields.indexOf('priority') + 1]).to.equal('u=2');
      h.finish();
    });

    it('refuses a bad priority with HTTP2_INVALID_ARGUMENT and sends nothing', () => {
      const h = clientHarness();
      expect(thrownCode(() => request(h, GET, { isEndStream: true, priority: { urgency: 8 } }))).to.equal(
        'HTTP2_INVALID_ARGUMENT',
      );
      const { stream } = request(h, GET, { isEndStream: true });
      expect(thrownCode(() => stream.setPriority({ incremental: 'yes' as unknown as boolean }))).to.equal(
        'HTTP2_INVALID_ARGUMENT',
      );
      expect(ofType(h.flush(), FrameType.HEADERS)).to.have.length(1);
      h.finish();
    });
  });
});
