/**
 * IdleTimers on a virtual loop: entries are released and closed in idle order at their marks,
 * one busy again leaves without a trace, and an empty list holds no timer.
 */
import { expect } from 'chai';
import { VirtualEventLoop } from '../../lib/index.js';
import { IdleTimers, type IdleEntry, type IdleLink } from '../../lib/idle-timers.js';

/** An entry that records what happened to it, and when. */
class Entry implements IdleEntry {
  _idlePrev: IdleLink | null = null;
  _idleNext: IdleLink | null = null;
  _idleSince = 0;
  readonly events: string[] = [];
  constructor(
    private readonly loop: VirtualEventLoop,
    readonly name: string,
    private readonly log: string[],
  ) {}
  _onIdleRelease(): void {
    this.log.push(`${this.name} released at ${this.loop.now()}`);
  }
  _onIdleTimeout(): void {
    this.log.push(`${this.name} closed at ${this.loop.now()}`);
  }
}

describe('lib IdleTimers', () => {
  let loop: VirtualEventLoop;
  let log: string[];
  beforeEach(() => {
    loop = new VirtualEventLoop();
    log = [];
  });

  it('releases then closes each entry at its own marks, in the order they fell idle', () => {
    const list = IdleTimers.of(loop, 5000, 1000);
    const a = new Entry(loop, 'a', log);
    const b = new Entry(loop, 'b', log);
    list.add(a);
    loop.advance(300);
    list.add(b);
    loop.advance(10_000);
    expect(log).to.deep.equal(['a released at 1000', 'b released at 1300', 'a closed at 5000', 'b closed at 5300']);
    expect(IdleTimers.isListed(a)).to.equal(false);
    expect(loop.nextDeadline).to.equal(undefined);
  });

  it('forgets an entry that is busy again, and times it afresh when it falls idle again', () => {
    const list = IdleTimers.of(loop, 5000, 1000);
    const a = new Entry(loop, 'a', log);
    const b = new Entry(loop, 'b', log);
    list.add(a);
    list.add(b);
    loop.advance(500);
    IdleTimers.remove(a);
    loop.advance(2000);
    list.add(a);
    loop.advance(10_000);
    expect(log).to.deep.equal(['b released at 1000', 'a released at 3500', 'b closed at 5000', 'a closed at 7500']);
  });

  it('keeps its timer when the last entry leaves busy, and drops it when told the entry closed', () => {
    const list = IdleTimers.of(loop, 5000, 1000);
    const a = new Entry(loop, 'a', log);
    list.add(a);
    expect(loop.nextDeadline).to.equal(1000);
    IdleTimers.remove(a);
    expect(loop.nextDeadline).to.equal(1000);
    list.add(a); // busy and idle again at once: the timer due earlier stands
    expect(loop.nextDeadline).to.equal(1000);
    IdleTimers.remove(a);
    list.disarmIfEmpty();
    expect(loop.nextDeadline).to.equal(undefined);
    IdleTimers.remove(a); // not listed: nothing happens
    loop.advance(10_000);
    expect(log).to.deep.equal([]);
  });

  it('keeps its timer while an entry is listed when told of another closing', () => {
    const list = IdleTimers.of(loop, 5000, 1000);
    const a = new Entry(loop, 'a', log);
    list.add(a);
    list.disarmIfEmpty();
    loop.advance(1000);
    expect(log).to.deep.equal(['a released at 1000']);
  });

  it('is one list per loop and timeout; a release mark past the timeout is the timeout', () => {
    expect(IdleTimers.of(loop, 5000, 1000)).to.equal(IdleTimers.of(loop, 5000, 1000));
    expect(IdleTimers.of(loop, 5000, 1000)).to.not.equal(IdleTimers.of(loop, 6000, 1000));
    expect(IdleTimers.of(new VirtualEventLoop(), 5000, 1000)).to.not.equal(IdleTimers.of(loop, 5000, 1000));
    const short = IdleTimers.of(loop, 200, 1000);
    expect(short.releaseAfterMs).to.equal(200);
    const a = new Entry(loop, 'a', log);
    short.add(a);
    loop.advance(200);
    expect(log).to.deep.equal(['a released at 200', 'a closed at 200']);
  });

  it('never closes an entry of a list without a timeout, but still releases it', () => {
    const list = IdleTimers.of(loop, Infinity, 1000);
    const a = new Entry(loop, 'a', log);
    list.add(a);
    loop.advance(1_000_000);
    expect(log).to.deep.equal(['a released at 1000']);
    expect(IdleTimers.isListed(a)).to.equal(true);
    IdleTimers.remove(a);
  });

  it('handles every due entry when one callback throws, then throws the first error', () => {
    const list = IdleTimers.of(loop, 5000, 1000);
    const a = new Entry(loop, 'a', log);
    const b = new Entry(loop, 'b', log);
    a._onIdleRelease = () => {
      throw new Error('a failed');
    };
    list.add(a);
    list.add(b);
    expect(() => loop.advance(1000)).to.throw('a failed');
    expect(log).to.deep.equal(['b released at 1000']);
    loop.advance(5000);
    expect(log).to.deep.equal(['b released at 1000', 'a closed at 5000', 'b closed at 5000']);
  });
});
