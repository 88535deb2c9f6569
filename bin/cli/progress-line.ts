/**
 * The text of `sluice get`'s progress line (curl's progress meter, on one line): byte counts,
 * rates and times as people read them. Pure functions; {@link ProgressMeter} in
 * `progress-meter.ts` decides when the line is drawn.
 *
 * @module
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * `bytes` in binary units: `512 B`, `1.5 KiB`, `300.0 KiB`, `12.3 MiB`, `1.25 GiB` — whole
 * bytes below 1 KiB, one decimal in KiB and MiB, two from GiB up.
 */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 1023.96 KiB rounds to "1024.0 KiB": say 1.0 MiB instead.
  const digits = unit >= 3 ? 2 : 1;
  if (Number(value.toFixed(digits)) >= 1024 && unit < UNITS.length - 1) return formatBytes(1024 ** (unit + 1));
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A rate in bytes per second: `1.2 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A duration as `m:ss` (`0:07`, `12:30`), `h:mm:ss` from an hour; seconds are rounded up. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** Time taken: `0.4 s`, `12.3 s` below a minute, then `m:ss` as {@link formatDuration}. */
export function formatElapsed(seconds: number): string {
  return seconds < 59.95 ? `${Math.max(0, seconds).toFixed(1)} s` : formatDuration(Math.round(seconds));
}

/** Where one transfer stands, for {@link formatTransfer}. */
export interface TransferFigures {
  /** `sent` for the request body, `received` for the response body. */
  readonly direction: 'sent' | 'received';
  /** Bytes so far. */
  readonly bytes: number;
  /** The length announced (file size, `content-length`), or null when unknown. */
  readonly total: number | null;
  /** Milliseconds since the transfer began (until it ended, once it has). */
  readonly elapsedMs: number;
  /** True once the transfer is over: the time taken is shown instead of the time left. */
  readonly isDone: boolean;
}

/**
 * One transfer's part of the line. With a known length:
 * `received 150.0 KiB of 300.0 KiB  50%  1.2 MiB/s  0:01 left`, and once done
 * `received 300.0 KiB of 300.0 KiB 100%  1.2 MiB/s  in 0.3 s`; without one, the count, the rate
 * and (when done) the time. The rate is the average since the start; the time left assumes it
 * holds (`--:--` while nothing has arrived yet).
 */
export function formatTransfer(figures: TransferFigures): string {
  const { direction, bytes, total, elapsedMs, isDone } = figures;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? bytes / seconds : 0;
  const parts = [`${direction} ${formatBytes(bytes)}${total === null ? '' : ` of ${formatBytes(total)}`}`];
  if (total !== null) {
    const percent = total === 0 ? 100 : Math.min(100, Math.floor((bytes / total) * 100));
    parts.push(`${String(percent).padStart(3)}%`);
  }
  if (seconds > 0) parts.push(formatRate(rate));
  if (isDone) parts.push(`in ${formatElapsed(seconds)}`);
  else if (total !== null) parts.push(`${rate > 0 ? formatDuration(Math.max(0, total - bytes) / rate) : '--:--'} left`);
  return parts.join('  ');
}

/** The whole line: each transfer's part (upload first), cut to `columns - 1` characters when the width is known. */
export function formatProgressLine(transfers: readonly TransferFigures[], columns?: number): string {
  const line = transfers.map(formatTransfer).join('  |  ');
  // One column short of the width: a line that fills it wraps on some terminals, and `\r` then
  // returns to the second row.
  return columns !== undefined && columns > 1 && line.length > columns - 1 ? line.slice(0, columns - 1) : line;
}

/**
 * What to write to replace a line of `previousLength` characters with `line` in place: a
 * carriage return, the line, and spaces over what is left of the longer previous one.
 */
export function overwriteLine(line: string, previousLength: number): string {
  return `\r${line}${' '.repeat(Math.max(0, previousLength - line.length))}`;
}
