/**
 * The summary `sluice get -n N -m M` prints: counts, throughput and latency percentiles.
 *
 * @module
 */

/** What a run of repeated requests measured. */
export interface LoadResult {
  /** Requests attempted. */
  requestCount: number;
  /** Requests that failed (stream or connection error). */
  failedCount: number;
  /** Responses per `:status`. */
  statusCounts: ReadonlyMap<string, number>;
  /** Latency of each completed request, ms (request sent to stream closed). */
  latenciesMs: readonly number[];
  /** Response body bytes received. */
  bodyBytes: number;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
  /** Concurrent streams used. */
  concurrency: number;
  /** Requests sent more than once: the server refused them unprocessed (GOAWAY, REFUSED_STREAM). */
  resentCount: number;
  /** Connections opened (a new one replaces each that received GOAWAY). */
  connectionCount: number;
}

/**
 * The `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending) by the nearest-rank method;
 * NaN for an empty list.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function ms(value: number): string {
  return Number.isNaN(value) ? '-' : `${value.toFixed(2)} ms`;
}

/**
 * Formats the summary: four lines, each `label: values`. The first line begins
 * `requests: N total, S succeeded, F failed, M concurrent` (scripts and tests match it).
 */
export function formatLoadSummary(result: LoadResult): string {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const seconds = result.elapsedMs / 1000;
  const rate = seconds > 0 ? (result.requestCount - result.failedCount) / seconds : 0;
  const statuses = [...result.statusCounts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`);
  return (
    [
      `requests: ${result.requestCount} total, ${result.requestCount - result.failedCount} succeeded, ${result.failedCount} failed, ${result.concurrency} concurrent, ` +
        `${result.resentCount} resent, ${result.connectionCount} ${result.connectionCount === 1 ? 'connection' : 'connections'}`,
      `status: ${statuses.length > 0 ? statuses.join(', ') : 'none'}`,
      `time: ${seconds.toFixed(3)} s, ${rate.toFixed(1)} req/s, ${result.bodyBytes} body bytes`,
      `latency: p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? Number.NaN)}`,
    ].join('\n') + '\n'
  );
}
