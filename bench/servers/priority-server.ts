/**
 * The sluice server of the "urgent under bulk" benchmark: `GET /bytes/N` on the low-level API,
 * with the write scheduler `WRITE_SCHEDULER` names (`rfc9218`, the default, or `round-robin`).
 *
 * It counts, as the benchmark asks, the bulk DATA bytes it encodes between decoding an urgent
 * request's HEADERS (`priority: u=0`) and encoding that response's END_STREAM, and prints them
 * as one line, `urgent {"bulkBytes":…,"serverMillis":…}`. "Encoded" is what the streams framed:
 * bytes given to `write` less those still buffered (`bufferedBytes`).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { httpDate, listenHttp2, type Http2Stream } from '../../handlers/index.js';
import { announce, parseBytesPath, patternHeaders, PATTERN_BLOCK } from './routes.js';

/** A bulk response and the bytes its route gave to `write`. */
interface Bulk {
  readonly stream: Http2Stream;
  written: number;
}

const bulks = new Set<Bulk>();

/** Bulk DATA bytes framed so far, over every bulk response of the process. */
let framedBefore = 0;

function bulkBytesFramed(): number {
  let framed = framedBefore;
  for (const bulk of bulks) framed += bulk.written - bulk.stream.bufferedBytes;
  return framed;
}

/** Streams `count` pattern bytes with back-pressure; `onEnded` runs once END_STREAM is framed. */
function sendPattern(stream: Http2Stream, count: number, bulk: Bulk | null, onEnded: () => void): void {
  let remaining = count;
  const pump = (): void => {
    while (remaining > 0 && stream.isWritable) {
      const size = Math.min(remaining, PATTERN_BLOCK.length);
      remaining -= size;
      if (bulk !== null) bulk.written += size;
      if (!stream.write(size === PATTERN_BLOCK.length ? PATTERN_BLOCK : PATTERN_BLOCK.subarray(0, size))) return;
    }
    if (remaining === 0 && stream.isWritable) stream.end(undefined, onEnded);
  };
  stream.handler = {
    onDrain: pump,
    onClose: () => {
      if (bulk === null || !bulks.delete(bulk)) return;
      // What it framed stays counted; what it still buffered was never encoded.
      framedBefore += bulk.written - stream.bufferedBytes;
    },
  };
  pump();
}

const writeScheduler = process.env['WRITE_SCHEDULER'] === 'round-robin' ? 'round-robin' : 'rfc9218';
const listener = await listenHttp2({
  host: '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
  http2: {
    maxConcurrentStreams: 100,
    writeScheduler,
    onStream(stream, headers) {
      let path = '';
      for (let i = 0; i < headers.length; i += 2) if (headers[i] === ':path') path = headers[i + 1];
      const count = Math.max(0, parseBytesPath(path));
      stream.sendHeaders(patternHeaders(count, httpDate(stream.clock)));
      if (stream.priority.urgency === 0) {
        // The HEADERS were just decoded: count from here to the END_STREAM's encoding.
        const bulkAtHeaders = bulkBytesFramed();
        const startedAt = performance.now();
        sendPattern(stream, count, null, () => {
          const line = { bulkBytes: bulkBytesFramed() - bulkAtHeaders, serverMillis: performance.now() - startedAt };
          process.stdout.write(`urgent ${JSON.stringify(line)}\n`);
        });
        return;
      }
      const bulk: Bulk = { stream, written: 0 };
      bulks.add(bulk);
      sendPattern(stream, count, bulk, () => undefined);
    },
  },
});
announce(listener.port);
const stop = (): void => void listener.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
