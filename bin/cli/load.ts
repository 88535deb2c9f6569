/**
 * `sluice get -n N -m M`: N requests, at most M in flight, counted rather than printed.
 *
 * The requests go through the SDK's stream manager with one live connection at a time. A
 * server that ends a connection with a graceful GOAWAY (nginx does after 1000 requests, its
 * `keepalive_requests`) has not processed the streams above the GOAWAY's last stream id; the
 * manager sends those again on a new connection, as it does for REFUSED_STREAM, and new
 * requests go to the new connection while the old one drains.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import {
  Http2StreamManager,
  type Http2Headers,
  type ManagedRequest,
  type StreamManagerConnectionFactory,
} from '../../handlers/index.js';
import { describeError, ExitCode, failure } from './cli-errors.js';
import { connectToServer, type ConnectionTarget } from './get-connection.js';
import { formatLoadSummary, type LoadResult } from './latency-summary.js';

/**
 * Times a request the server refused without processing it is sent again before it counts
 * as failed. A few absorb GOAWAYs and brief refusals; a server that refuses everything fails
 * the run after this many tries of its first request, instead of looping.
 */
export const MAX_RESENDS = 4;

/** What the load run needs: where to connect, how many requests and how many at once. */
export interface LoadSettings extends ConnectionTarget {
  /** `host[:port]` as in the URL, for messages. */
  displayHost: string;
  /** Requests to send. */
  requestCount: number;
  /** Requests in flight at once. */
  concurrency: number;
}

/** Whether the stream closed because the server refused it unprocessed (REFUSED_STREAM, above a GOAWAY's last id). */
function isRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}

/**
 * Sends `settings.requestCount` requests (`headers`, `body`), at most `settings.concurrency` at
 * once; prints the summary and resolves with exit code 0, or rejects with a one-line failure
 * (after the summary) when a request failed. Stops starting requests once a connection cannot
 * be opened or a request was refused {@link MAX_RESENDS} + 1 times; those not sent count as failed.
 */
export async function runLoad(settings: LoadSettings, headers: Http2Headers, body: Buffer | null): Promise<ExitCode> {
  const connect: StreamManagerConnectionFactory = (events) =>
    connectToServer(settings, {
      onRemoteSettings: () => events.onRemoteSettings(),
      onGoaway: () => events.onGoaway(),
      onClose: (error) => events.onClose(error),
    });
  const manager = new Http2StreamManager({
    host: settings.host,
    port: settings.port,
    connect,
    // One connection at a time: a replacement opens only once the current one got GOAWAY.
    maxConnections: 1,
    idealConcurrency: settings.concurrency,
    maxPendingAcquisitions: settings.concurrency,
    // A request waits for a stream only while a connection is set up or the server's
    // MAX_CONCURRENT_STREAMS is below -m; slow responses are not a reason to fail it.
    acquireTimeoutMs: 0,
    maxStreamRetries: MAX_RESENDS,
  });
  try {
    return await drive(manager, settings, headers, body);
  } finally {
    await manager.close();
  }
}

function drive(
  manager: Http2StreamManager,
  settings: LoadSettings,
  headers: Http2Headers,
  body: Buffer | null,
): Promise<ExitCode> {
  return new Promise<ExitCode>((resolve, reject) => {
    const statusCounts = new Map<string, number>();
    const latenciesMs: number[] = [];
    let startedCount = 0;
    let finishedCount = 0;
    let failedCount = 0;
    let resentCount = 0;
    let bodyBytes = 0;
    let firstError: string | null = null;
    let firstCause: unknown = null;
    let isStopping = false;
    const startedAt = performance.now();

    const finish = (): void => {
      const { connectionsOpened } = manager.metrics;
      if (connectionsOpened === 0 && firstError !== null) {
        // Not one connection: the same single line as without -n, no summary of nothing.
        reject(failure(`cannot connect to ${settings.displayHost}: ${firstError}`, firstCause));
        return;
      }
      const notSent = settings.requestCount - startedCount;
      const result: LoadResult = {
        requestCount: settings.requestCount,
        failedCount: failedCount + notSent,
        statusCounts,
        latenciesMs,
        bodyBytes,
        elapsedMs: performance.now() - startedAt,
        concurrency: settings.concurrency,
        resentCount,
        connectionCount: connectionsOpened,
      };
      process.stdout.write(formatLoadSummary(result));
      if (result.failedCount === 0) {
        resolve(ExitCode.OK);
        return;
      }
      const skipped = notSent > 0 ? ` (${notSent} not sent)` : '';
      reject(
        failure(
          `${result.failedCount} of ${settings.requestCount} requests failed${skipped}; first: ${firstError}`,
          firstCause,
        ),
      );
    };

    const onFinished = (request: ManagedRequest | null, error: unknown): void => {
      finishedCount++;
      // Counts requests, not sends: a request refused more than once is one resent request.
      if ((request?.retries ?? 0) > 0) resentCount++;
      if (error !== null) {
        failedCount++;
        if (firstError === null) {
          firstCause = error;
          firstError = isRefusal(error)
            ? `refused ${(request?.retries ?? 0) + 1} times without being processed: ${describeError(error)}`
            : describeError(error);
        }
        // A server that refuses even the resends, or that cannot be reached, would refuse the
        // rest as well: end the run rather than try every remaining request.
        if (isRefusal(error) || manager.metrics.connectFailures > 0) isStopping = true;
      }
      if (!isStopping && startedCount < settings.requestCount) startOne();
      else if (finishedCount === startedCount) finish();
    };

    const startOne = (): void => {
      startedCount++;
      const sentAt = performance.now();
      let request: ManagedRequest | null = null;
      try {
        request = manager.request({
          headers,
          body,
          handler: {
            onResponse: (response) => {
              const status = response[1] ?? '?';
              statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
            },
            onData: (_data, start, end) => {
              bodyBytes += end - start;
            },
            onClose: (error) => {
              if (error === null) latenciesMs.push(performance.now() - sentAt);
              onFinished(request, error);
            },
          },
        });
      } catch (error) {
        // Only a closed manager or a full queue throw, and neither happens while this runs.
        queueMicrotask(() => onFinished(null, error));
      }
    };

    for (let i = 0; i < settings.concurrency; i++) startOne();
  });
}
