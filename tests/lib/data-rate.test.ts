import { expect } from 'chai';
import { DataRateClock, checkMinDataRate } from '../../lib/data-rate.js';
import { DEFAULT_MIN_DATA_RATE, IoErrors, SluiceError } from '../../lib/index.js';

/** 1000 B/s after a 1000 ms grace: 1 byte earns 1 ms. */
const RATE = Object.freeze({ bytesPerSecond: 1000, graceMs: 1000 });

/**
 * Drives a clock the way its owners do — a check at each `nextCheckAt` — while a peer moves
 * `bytesPerStep` bytes every `stepMs`; returns the time it was found late, or null within `untilMs`.
 */
function lateAt(clock: DataRateClock, bytesPerStep: number, stepMs: number, untilMs: number): number | null {
  let bytes = 0;
  let nextStep = stepMs;
  clock.restart(0, 0);
  let checkAt = clock.nextCheckAt(0, 0);
  for (let round = 0; round < 100_000; round++) {
    const now = Math.min(checkAt, nextStep);
    if (now > untilMs) return null;
    if (now === nextStep) {
      bytes += bytesPerStep;
      nextStep += stepMs;
    }
    if (now === checkAt) {
      if (clock.isLate(now, bytes)) return now;
      checkAt = clock.nextCheckAt(now, bytes);
    }
  }
  throw new Error('the clock never settled');
}

describe('DataRateClock', () => {
  it('finds a peer at half the minimum rate late, after about twice the grace', () => {
    const at = lateAt(new DataRateClock(RATE), 50, 100, 60_000); // 500 B/s
    expect(at).to.not.equal(null);
    expect(at!).to.be.greaterThan(RATE.graceMs);
  });

  it('never finds a peer at twice the minimum rate late', () => {
    expect(lateAt(new DataRateClock(RATE), 200, 100, 600_000)).to.equal(null); // 2000 B/s
  });

  it('finds a peer that bursts and then trickles late: a burst banks at most one grace', () => {
    const clock = new DataRateClock(RATE);
    clock.restart(0, 0);
    // A megabyte at once would earn 1000 s; the check caps the credit at one grace.
    expect(clock.isLate(500, 1_000_000)).to.equal(false);
    let bytes = 1_000_000;
    let found: number | null = null;
    for (let now = 600; now <= 10_000 && found === null; now += 100) {
      bytes += 10; // 100 B/s from here on
      if (clock.isLate(now, bytes)) found = now;
    }
    expect(found, 'cut off within the grace and what the trickle earned').to.not.equal(null);
  });

  it('counts no time while paused: a stream idle between messages is never late', () => {
    const clock = new DataRateClock(RATE);
    clock.restart(0, 0);
    clock.pause(400);
    expect(clock.nextCheckAt(3_600_000, 0)).to.equal(Infinity);
    expect(clock.isLate(3_600_000, 0)).to.equal(false);
    clock.resume(3_600_000, 0);
    expect(clock.isLate(3_600_599, 0)).to.equal(false);
    expect(clock.isLate(3_600_600, 0)).to.equal(true);
  });

  it('checks within one grace while it runs, and when the credit runs out', () => {
    const clock = new DataRateClock(RATE);
    clock.restart(0, 0);
    expect(clock.nextCheckAt(0, 0)).to.equal(1000);
    expect(clock.nextCheckAt(0, 10_000)).to.equal(1000);
    expect(clock.nextCheckAt(900, 0)).to.equal(1000);
    expect(clock.timeFor(2000)).to.equal(2000);
  });
});

describe('checkMinDataRate', () => {
  it('takes a rate or null', () => {
    expect(checkMinDataRate(null, 'rate')).to.equal(null);
    expect(checkMinDataRate(RATE, 'rate')).to.equal(RATE);
    expect(checkMinDataRate(DEFAULT_MIN_DATA_RATE, 'rate')).to.deep.equal({ bytesPerSecond: 240, graceMs: 5000 });
  });

  const BAD: readonly unknown[] = [
    undefined,
    0,
    'fast',
    {},
    { bytesPerSecond: 0, graceMs: 0 },
    { bytesPerSecond: -1, graceMs: 0 },
    { bytesPerSecond: Infinity, graceMs: 0 },
    { bytesPerSecond: 1, graceMs: -1 },
    { bytesPerSecond: 1, graceMs: NaN },
    { bytesPerSecond: '1', graceMs: 0 },
  ];
  for (const value of BAD) {
    it(`refuses ${JSON.stringify(value) ?? String(value)} with IO_INVALID_OPTIONS`, () => {
      expect(() => checkMinDataRate(value, 'rate'))
        .to.throw(SluiceError)
        .with.property('code', IoErrors.INVALID_OPTIONS.code);
    });
  }
});

describe('DataRateClock kept in whole ms, and reset', () => {
  it('counts time in whole ms of the loop clock (a fraction costs no heap number and at most a ms)', () => {
    const clock = new DataRateClock(RATE);
    clock.restart(0.4, 0);
    clock.pause(999.9);
    // 999 ms counted of the 1000 ms grace: not late yet; one more ms is.
    expect(clock.isLate(999.9, 0)).to.equal(false);
    clock.resume(1500.2, 0);
    expect(clock.isLate(1501.2, 0)).to.equal(true);
  });

  it('reset makes a stopped clock that never ran: the next resume starts a new count with a new grace', () => {
    const clock = new DataRateClock(RATE);
    clock.restart(0, 0);
    expect(clock.isLate(1500, 0)).to.equal(true);
    clock.reset();
    expect(clock.isRunning).to.equal(false);
    clock.resume(2000, 100);
    expect(clock.isLate(2999, 100)).to.equal(false);
    expect(clock.isLate(3000, 100)).to.equal(true);
  });
});
