/**
 * The value of HTTP's `date` response field (RFC 9110 §6.6.1), formatted at most once per
 * second.
 *
 * An origin server with a clock must send `date` on 2xx, 3xx and 4xx responses. Formatting a
 * date allocates and costs a microsecond; a server answering 100 000 requests a second must not
 * do it per response. {@link httpDate} keeps the last value and reformats it only once the
 * calendar second it shows is over, measured on the loop's monotonic clock — so between two
 * refreshes every response gets the very same string, which also lets the connection's cache
 * of encoded header blocks match a repeated response by identity.
 *
 * @module
 */
import { SluiceError, systemClock, type Clock } from '../../../lib/index.js';
import { Http2ApiErrors } from '../errors.js';

/**
 * The one cached value. A process normally runs every loop on the system clock, so one entry
 * serves all; a call with another clock (virtual-time tests) reformats and takes it over.
 */
let cachedClock: Clock | null = null;
let cachedValue = '';
/** Loop-clock time (ms) at which the cached second ends. */
let refreshAt = 0;
/**
 * For the system clock, whether the cached value still shows the current second: a timer clears
 * it when the second ends, so a call reads no clock at all — `performance.now()` returns a
 * double, a 16-byte heap number per response in the allocation profile.
 */
let isSystemValueCurrent = false;

function expireSystemValue(): void {
  isSystemValueCurrent = false;
}

/**
 * Returns the current time as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110
 * §5.6.7) for the `date` field. The calendar time is `clock.epochMs()` (the system's when the
 * clock has none); it is read and formatted only when the second shown is over on `clock.now()`
 * or `clock` differs from the previous call's, so repeated calls within a second return the
 * same string and allocate nothing (with the system clock they read no clock either: an unref'd
 * timer marks the value stale when its second ends). Synchronous; throws `HTTP2_INVALID_ARGUMENT`
 * only when `clock` is not a clock.
 */
export function httpDate(clock: Clock): string {
  if (
    clock === cachedClock &&
    clock !== null &&
    (clock === systemClock ? isSystemValueCurrent : clock.now() < refreshAt)
  )
    return cachedValue;
  // Checked where the cache misses (once a second at most), so the common call costs nothing more.
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      'httpDate(clock): clock is a Clock (stream.clock, systemClock, …)',
    );
  }
  const now = clock.now();
  const epochMs = Math.floor(clock.epochMs?.() ?? Date.now());
  cachedClock = clock;
  cachedValue = new Date(epochMs).toUTCString();
  // Refresh when this calendar second ends, not one second from now: the value never lags.
  const untilNextSecond = 1000 - (((epochMs % 1000) + 1000) % 1000);
  refreshAt = now + untilNextSecond;
  if (clock === systemClock) {
    isSystemValueCurrent = true;
    // Unref'd: a cached date must not keep the process alive.
    setTimeout(expireSystemValue, untilNextSecond).unref();
  }
  return cachedValue;
}
