/**
 * The sluice side of the server benchmark: h2c on 127.0.0.1, the shared routes, low-level API.
 *
 * @module
 */
import {
  defaultEventLoopGroup,
  EventLoopGroup,
  httpDate,
  listenHttp2,
  type Http2Stream,
} from '../../handlers/index.js';
import {
  announce,
  benchTls,
  parseBytesPath,
  patternHeaders,
  PATTERN_BLOCK,
  reportStatsOnSignal,
  SMALL_BODY,
} from './routes.js';

/**
 * The small response's headers, one array reused for every response: only its `date` value
 * changes, once per second (the connection copies what it caches, so editing the array is safe).
 * Every server in the comparison sends `date`, as RFC 9110 §6.6.1 asks of an origin server.
 */
const SMALL_HEADERS: string[] = [
  ':status',
  '200',
  'content-type',
  'text/plain',
  'content-length',
  String(SMALL_BODY.length),
  'date',
  '',
];
const SMALL_HEADERS_DATE = SMALL_HEADERS.length - 1;

function header(headers: readonly string[], name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}

/** Streams `remaining` pattern bytes, keeping at most two blocks queued. */
function sendPattern(stream: Http2Stream, remaining: number): void {
  const pump = (): void => {
    while (remaining > 0 && stream.isWritable) {
      const count = Math.min(remaining, PATTERN_BLOCK.length);
      remaining -= count;
      const isBelow = stream.write(count === PATTERN_BLOCK.length ? PATTERN_BLOCK : PATTERN_BLOCK.subarray(0, count));
      if (!isBelow) return;
    }
    if (remaining === 0 && stream.isWritable) stream.end();
  };
  stream.handler = { onDrain: pump };
  pump();
}

const tls = benchTls();
// BUSY_POLL_MICROS turns on the loop's opt-in busy poll (the bench's informational c1 m1 row).
const busyPollMicros = Number(process.env['BUSY_POLL_MICROS'] ?? 0);
const loopGroup = busyPollMicros > 0 ? new EventLoopGroup({ busyPollMicros }) : defaultEventLoopGroup();
const listener = await listenHttp2({
  ...(tls === null ? {} : { tls }),
  loopGroup,
  host: '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
  http2: {
    maxConcurrentStreams: 1000,
    onStream(stream, headers) {
      const path = header(headers, ':path');
      const method = header(headers, ':method');
      if (method === 'POST' && path === '/echo') {
        stream.sendHeaders([':status', '200', 'date', httpDate(stream.clock)]);
        stream.handler = {
          onData: (s, data, start, end) => {
            s.write(Buffer.from(data.subarray(start, end)));
          },
          onEnd: (s) => s.end(),
        };
        return;
      }
      const count = parseBytesPath(path);
      if (count >= 0) {
        stream.sendHeaders(patternHeaders(count, httpDate(stream.clock)));
        sendPattern(stream, count);
        return;
      }
      SMALL_HEADERS[SMALL_HEADERS_DATE] = httpDate(stream.clock);
      stream.sendHeaders(SMALL_HEADERS);
      stream.write(SMALL_BODY);
      stream.end();
    },
  },
});
announce(listener.port, tls !== null);
reportStatsOnSignal(() => ({ ...loopGroup.loops[0].messagePool.statistics() }));
const stop = (): void => void listener.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
