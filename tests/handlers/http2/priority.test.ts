/**
 * RFC 9218 priorities without a connection: the `priority` field value as RFC 8941 and RFC 9218
 * parse it, and the write scheduler's order.
 */
import { expect } from 'chai';
import { thrownCode } from '../../support/error-codes.js';
import {
  DEFAULT_PRIORITY,
  DEFAULT_RANK,
  PRIORITY_FIELD_INVALID,
  checkedRank,
  parsePriority,
  parsePriorityField,
  priorityFieldValue,
  priorityOfRank,
  rankOf,
  type Http2Priority,
} from '../../../handlers/http2/connection/priority.js';
import { Rfc9218Scheduler } from '../../../handlers/http2/connection/rfc9218-scheduler.js';
import { RoundRobinScheduler } from '../../../handlers/http2/connection/round-robin-scheduler.js';
import type { Http2Stream } from '../../../handlers/http2/connection/http2-stream.js';
import type { WriteScheduler } from '../../../handlers/http2/connection/write-scheduler.js';

const p = (urgency: number, incremental = false): Http2Priority => ({ urgency, incremental });

describe('RFC 9218 priority field (an RFC 8941 Dictionary)', () => {
  // [field value, priority it gives (null: not a Dictionary, the field is ignored)]
  const cases: [string, Http2Priority | null][] = [
    // RFC 9218 §4.1, §4.2, §8 examples.
    ['u=0', p(0)],
    ['u=5, i', p(5, true)],
    ['u=1', p(1)],
    // Booleans: a bare key is true; ?0 and ?1 (RFC 8941 §3.3.6).
    ['i', p(3, true)],
    ['i=?1', p(3, true)],
    ['i=?0', p(3)],
    ['u=2,i', p(2, true)],
    ['u=2 ,\ti', p(2, true)],
    ['  u=6, i  ', p(6, true)],
    ['', p(3)],
    // Out of range or of another type: ignored, the default stands (RFC 9218 §4).
    ['u=8', p(3)],
    ['u=-1', p(3)],
    ['u=-0', p(0)],
    ['u=1.5', p(3)],
    ['u="1"', p(3)],
    ['u=a', p(3)],
    ['u=?1', p(3)],
    ['u', p(3)],
    ['u=(1 2)', p(3)],
    ['u=:AQI=:', p(3)],
    ['i=1', p(3)],
    ['i=?1;a=2, u=4', p(4, true)],
    // A key given twice: the last counts (RFC 8941 §3.2), even when it is then ignored.
    ['u=1, u=2', p(2)],
    ['u=1, u=9', p(3)],
    ['i, i=?0', p(3)],
    // Parameters on a member are parsed and ignored; unknown members are ignored.
    ['u=1;foo=bar', p(1)],
    ['u=1;a;b=?0;c="x", i', p(1, true)],
    ['foo=bar, u=2, baz', p(2)],
    ['*x=1, u=6', p(6)],
    ['a=(1 "two" :AA==: ?1 tok);q=1, u=4', p(4)],
    ['a=(), u=4', p(4)],
    ['a="x\\"y\\\\", u=4', p(4)],
    ['a=12.345, u=4', p(4)],
    ['a=-999999999999999, u=4', p(4)],
    ['a=tok/en:x, u=4', p(4)],
    // Not a Dictionary: the whole field is ignored.
    ['u=1,', null],
    [',u=1', null],
    ['u=1,,i', null],
    ['U=1', null],
    ['1=u', null],
    ['u=1 i', null],
    ['u==1', null],
    ['u=1;', null],
    ['u=1;A=2', null],
    ['i=?2', null],
    ['a="x\\y"', null],
    ['a="unterminated', null],
    ['a=:AA A:', null],
    ['a=:AAA=', null],
    ['a=1234567890123456', null],
    ['a=1.2345', null],
    ['a=1.', null],
    ['a=1234567890123.1', null],
    ['a=-', null],
    ['a=(1 2', null],
    ['a=(1,2)', null],
    ['a=@1659578233', null],
    ['u=1, é', null],
    ['u=1\t', p(1)],
    ['\tu=1', null],
  ];
  for (const [value, expected] of cases) {
    it(`parses ${JSON.stringify(value)} as ${expected === null ? 'not a Dictionary' : JSON.stringify(expected)}`, () => {
      expect(parsePriority(value)).to.deep.equal(expected);
    });
  }

  it('keeps, for a response, the client parameters the server leaves out (RFC 9218 §8)', () => {
    // The RFC's example: the client asked u=5, i; the response says u=1; the result is u=1, i.
    expect(priorityOfRank(parsePriorityField('u=1', rankOf(5, true)))).to.deep.equal(p(1, true));
    expect(priorityOfRank(parsePriorityField('i=?0', rankOf(5, true)))).to.deep.equal(p(5));
    expect(priorityOfRank(parsePriorityField('u=9', rankOf(5, true)))).to.deep.equal(p(5, true));
    expect(parsePriorityField('u=1,', rankOf(5, true))).to.equal(PRIORITY_FIELD_INVALID);
  });

  it('writes every priority as a field value that parses back to it', () => {
    for (let urgency = 0; urgency <= 7; urgency++) {
      for (const incremental of [false, true]) {
        const rank = rankOf(urgency, incremental);
        expect(parsePriority(priorityFieldValue(rank))).to.deep.equal(p(urgency, incremental));
      }
    }
    expect(priorityFieldValue(rankOf(0, true))).to.equal('u=0, i');
    expect(priorityOfRank(DEFAULT_RANK)).to.deep.equal(DEFAULT_PRIORITY);
  });

  it('refuses a priority the application gives outside the RFC ranges with HTTP2_INVALID_ARGUMENT', () => {
    for (const bad of [null, 3, 'u=1', { urgency: 8 }, { urgency: -1 }, { urgency: 1.5 }, { incremental: 1 }]) {
      expect(
        thrownCode(() => checkedRank(bad, 'test')),
        JSON.stringify(bad),
      ).to.equal('HTTP2_INVALID_ARGUMENT');
    }
    expect(checkedRank({}, 'test')).to.equal(DEFAULT_RANK);
    expect(checkedRank({ incremental: true }, 'test')).to.equal(rankOf(3, true));
  });
});

/** A stream as the scheduler sees it: an id and a priority. */
function stream(id: number, urgency = 3, incremental = false): Http2Stream {
  return { id, _priority: rankOf(urgency, incremental) } as unknown as Http2Stream;
}

/**
 * Runs the task's loop against `scheduler` without a connection: each stream has `frames[id]`
 * frames to write; the stream taken writes one and goes back while it has more. `before(turn)`
 * may change things before each turn. Returns the ids in the order they wrote.
 */
function drain(
  scheduler: WriteScheduler,
  streams: readonly Http2Stream[],
  frames: Map<number, number>,
  before: (turn: number) => void = () => undefined,
): number[] {
  for (const s of streams) scheduler.add(s);
  const order: number[] = [];
  for (let turn = 0; turn < 100_000 && scheduler.size > 0; turn++) {
    before(turn);
    // What waitingAt says is next must be what next gives.
    const expected = scheduler.waitingAt(0);
    expect(scheduler.peek()).to.equal(expected);
    const taken = scheduler.next()!;
    expect(taken).to.equal(expected);
    order.push(taken.id);
    const left = frames.get(taken.id)! - 1;
    frames.set(taken.id, left);
    if (left > 0) scheduler.add(taken);
  }
  expect(scheduler.size).to.equal(0);
  return order;
}

const framesOf = (streams: readonly Http2Stream[], count: number): Map<number, number> =>
  new Map(streams.map((s) => [s.id, count]));

describe('RFC 9218 write scheduler', () => {
  // [name, streams (id, urgency, incremental), frames each, expected order]
  const table: [string, [number, number, boolean][], number, number[]][] = [
    [
      'lower urgency first',
      [
        [1, 7, false],
        [3, 0, false],
        [5, 3, false],
      ],
      2,
      [3, 3, 5, 5, 1, 1],
    ],
    [
      'non-incremental before incremental within an urgency',
      [
        [1, 3, true],
        [3, 3, false],
        [5, 3, true],
      ],
      2,
      [3, 3, 1, 5, 1, 5],
    ],
    [
      'non-incremental one at a time in stream-id order, whatever the order they came in',
      [
        [5, 3, false],
        [1, 3, false],
        [3, 3, false],
      ],
      2,
      [1, 1, 3, 3, 5, 5],
    ],
    [
      'incremental streams in turn',
      [
        [1, 3, true],
        [3, 3, true],
        [5, 3, true],
      ],
      3,
      [1, 3, 5, 1, 3, 5, 1, 3, 5],
    ],
    [
      'urgency before incrementality',
      [
        [1, 1, true],
        [3, 1, true],
        [5, 0, true],
        [7, 2, false],
      ],
      2,
      [5, 5, 1, 3, 1, 3, 7, 7],
    ],
    [
      'every rank in its place',
      [
        [15, 7, true],
        [13, 7, false],
        [11, 0, true],
        [9, 0, false],
        [7, 3, true],
        [5, 3, false],
      ],
      1,
      [9, 11, 5, 7, 13, 15],
    ],
  ];
  for (const [name, specs, count, expected] of table) {
    it(name, () => {
      const streams = specs.map(([id, urgency, incremental]) => stream(id, urgency, incremental));
      expect(drain(new Rfc9218Scheduler(), streams, framesOf(streams, count))).to.deep.equal(expected);
    });
  }

  it('serves a stream that opened later with a lower id first once it waits (request order)', () => {
    const scheduler = new Rfc9218Scheduler();
    const [one, three, five, seven] = [stream(1), stream(3), stream(5), stream(7)];
    scheduler.add(five);
    scheduler.add(seven);
    expect(scheduler.next()).to.equal(five);
    scheduler.add(five);
    scheduler.add(three);
    scheduler.add(one);
    expect([0, 1, 2, 3, 4].map((at) => scheduler.waitingAt(at)?.id)).to.deep.equal([1, 3, 5, 7, undefined]);
  });

  it('moves a stream reprioritized while it waits, and one reprioritized while taken', () => {
    const scheduler = new Rfc9218Scheduler();
    const streams = [stream(1, 3), stream(3, 3), stream(5, 3)];
    const frames = framesOf(streams, 3);
    const order = drain(scheduler, streams, frames, (turn) => {
      if (turn === 1) {
        // Stream 5 waits: it moves ahead of 1 and 3.
        const previous = streams[2]._priority;
        streams[2]._priority = rankOf(0, false);
        scheduler.reprioritize(streams[2], previous);
      }
    });
    expect(order).to.deep.equal([1, 5, 5, 5, 1, 1, 3, 3, 3]);

    // Taken by the task when it changes: nothing moves; it goes back under its new rank.
    const other = new Rfc9218Scheduler();
    const [a, b] = [stream(1, 3), stream(3, 3)];
    other.add(a);
    other.add(b);
    expect(other.next()).to.equal(a);
    const previous = a._priority;
    a._priority = rankOf(7, false);
    other.reprioritize(a, previous);
    expect(other.size).to.equal(1);
    other.add(a);
    expect([other.next(), other.next(), other.next()]).to.deep.equal([b, a, undefined]);
  });

  it('skips a blocked stream without holding back the others, and serves it first again when it returns', () => {
    // A stream whose window is spent leaves the scheduler (the task does not add it back) until
    // WINDOW_UPDATE adds it again.
    const scheduler = new Rfc9218Scheduler();
    const urgent = stream(1, 0);
    const bulk = [stream(3, 7, true), stream(5, 7, true)];
    scheduler.add(urgent);
    for (const s of bulk) scheduler.add(s);
    expect(scheduler.next()).to.equal(urgent); // writes, then is blocked: not added back
    const order: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = scheduler.next()!;
      order.push(s.id);
      scheduler.add(s);
    }
    expect(order).to.deep.equal([3, 5, 3, 5]);
    scheduler.add(urgent); // its window opened
    expect(scheduler.next()).to.equal(urgent);
  });

  it('is fair under many streams: 200 incremental ones take one turn each per round, 200 non-incremental ones go one by one', () => {
    const incremental = Array.from({ length: 200 }, (_, i) => stream(2 * i + 1, 4, true));
    const order = drain(new Rfc9218Scheduler(), incremental, framesOf(incremental, 5));
    for (let round = 0; round < 5; round++) {
      expect(order.slice(round * 200, (round + 1) * 200)).to.deep.equal(incremental.map((s) => s.id));
    }
    const sequential = Array.from({ length: 200 }, (_, i) => stream(2 * (199 - i) + 1, 4));
    const ids = drain(new Rfc9218Scheduler(), sequential, framesOf(sequential, 3));
    expect(ids).to.deep.equal(Array.from({ length: 200 }, (_, i) => 2 * i + 1).flatMap((id) => [id, id, id]));
  });

  it('keeps stream-id order through long backlogs (the queue compacts its front)', () => {
    const scheduler = new Rfc9218Scheduler();
    const many = Array.from({ length: 3000 }, (_, i) => stream(2 * i + 1, 5, true));
    const order = drain(scheduler, many, framesOf(many, 2));
    expect(order).to.deep.equal([...many, ...many].map((s) => s.id));
  });
});

describe('round-robin write scheduler', () => {
  it('ignores priorities: one frame per stream in turn, in the order they became ready', () => {
    const streams = [stream(5, 7), stream(1, 0), stream(3, 3, true)];
    expect(drain(new RoundRobinScheduler(), streams, framesOf(streams, 2))).to.deep.equal([5, 1, 3, 5, 1, 3]);
  });
});
