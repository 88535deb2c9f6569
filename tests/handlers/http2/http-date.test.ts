import { expect } from 'chai';
import { VirtualClock, type Clock } from '../../../lib/index.js';
import { httpDate } from '../../../handlers/http2/api/http-date.js';

/** A clock whose calendar reads are counted, to prove the value is formatted once per second. */
class CountingClock implements Clock {
  calendarReads = 0;
  constructor(
    private readonly virtual: VirtualClock,
    private readonly epochOffsetMs: number,
  ) {}
  now(): number {
    return this.virtual.now();
  }
  epochMs(): number {
    this.calendarReads++;
    return this.virtual.now() + this.epochOffsetMs;
  }
}

describe('httpDate (RFC 9110 §6.6.1)', () => {
  // Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110 §5.6.7, 250 ms into the second.
  const EXAMPLE_MS = Date.UTC(1994, 10, 6, 8, 49, 37) + 250;

  it('formats the clock calendar time as an IMF-fixdate', () => {
    expect(httpDate(new VirtualClock(EXAMPLE_MS))).to.equal('Sun, 06 Nov 1994 08:49:37 GMT');
  });

  it('reads and formats once per calendar second: the same string until the second is over', () => {
    const virtual = new VirtualClock(5_000);
    const clock = new CountingClock(virtual, EXAMPLE_MS - 5_000);
    const first = httpDate(clock);
    expect(first).to.equal('Sun, 06 Nov 1994 08:49:37 GMT');
    for (let i = 0; i < 100; i++) {
      virtual.setTime(5_000 + i * 7); // up to 693 ms later: still second :37
      expect(httpDate(clock)).to.equal(first);
    }
    expect(clock.calendarReads).to.equal(1);
    virtual.setTime(5_749); // 999 ms into the second
    expect(httpDate(clock)).to.equal(first);
    virtual.setTime(5_750); // the next second begins
    expect(httpDate(clock)).to.equal('Sun, 06 Nov 1994 08:49:38 GMT');
    expect(clock.calendarReads).to.equal(2);
    virtual.setTime(65_750);
    expect(httpDate(clock)).to.equal('Sun, 06 Nov 1994 08:50:38 GMT');
    expect(clock.calendarReads).to.equal(3);
  });

  it('follows a change of clock at once', () => {
    expect(httpDate(new VirtualClock(0))).to.equal('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(httpDate(new VirtualClock(EXAMPLE_MS))).to.equal('Sun, 06 Nov 1994 08:49:37 GMT');
  });

  it('reads the system calendar for a clock without epochMs', () => {
    const value = httpDate({ now: () => 0 });
    expect(value).to.match(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
    );
    expect(Math.abs(Date.parse(value) - Date.now())).to.be.below(60_000);
  });
});
