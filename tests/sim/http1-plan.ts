/** What the HTTP/1.1 workload plans for an exchange, shared by its clients and its server. */
import type { Http1Fields } from '../../handlers/http1/index.js';

/** What the workload plans for one exchange (over h2c: one stream). */
export interface ExchangePlan {
  /** Unique over the run: the body seeds and the request target. */
  readonly index: number;
  readonly uploadSize: number;
  readonly downloadSize: number;
  readonly isUploadChunked: boolean;
  readonly isDownloadChunked: boolean;
  readonly hasUploadTrailers: boolean;
  readonly hasDownloadTrailers: boolean;
  /** Length of the trailers' padding field: trailers that may not fit the end of a write. */
  readonly trailerPad: number;
  readonly chunkSize: number;
  /** The server answers this long after the request was read whole, ms. */
  readonly respondDelayMs: number;
  /** The client waits this long after the previous exchange before sending this one, ms. */
  readonly gapMs: number;
}

/** The trailers of an upload or download: a marker and a padding field of `pad` bytes. */
export function trailersOf(direction: 'upload' | 'download', pad: number): Http1Fields {
  return [`x-sim-${direction}`, 'done', 'x-sim-pad', 'p'.repeat(pad)];
}
