/**
 * The sluice side of the HTTP/1.1 server benchmark: `listenHttp1` on 127.0.0.1, `GET /` a small
 * text body, `POST /echo` the request body back (chunked).
 *
 * @module
 */
import { defaultEventLoopGroup, httpDate } from '../../handlers/index.js';
import { listenHttp1 } from '../../handlers/http1/index.js';
import { announce, reportStatsOnSignal, SMALL_BODY } from './routes.js';

/**
 * The small response's fields, one array reused for every response: only its `date` value
 * changes (the connection copies what it writes). Every server in the comparison sends `date`,
 * as RFC 9110 §6.6.1 asks of an origin server.
 */
const SMALL_FIELDS: string[] = ['content-type', 'text/plain', 'content-length', String(SMALL_BODY.length), 'date', ''];
const SMALL_FIELDS_DATE = SMALL_FIELDS.length - 1;

const loopGroup = defaultEventLoopGroup();
const listener = await listenHttp1({
  loopGroup,
  host: '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
  http1: {
    // node:http's bench server keeps idle connections 60 s too: equal timeouts, longer than the
    // idle-memory row's settling wait.
    idleTimeoutMs: 60_000,
    onRequest(stream) {
      const clock = loopGroup.loops[0].clock;
      if (stream.method === 'POST' && stream.target === '/echo') {
        stream.respond(200, ['date', httpDate(clock)]);
        stream.handler = {
          onData: (s, data, start, end) => void s.write(Buffer.from(data.subarray(start, end))),
          onEnd: (s) => s.end(),
        };
        return;
      }
      SMALL_FIELDS[SMALL_FIELDS_DATE] = httpDate(clock);
      stream.respond(200, SMALL_FIELDS);
      stream.write(SMALL_BODY);
      stream.end();
    },
  },
});
announce(listener.port);
reportStatsOnSignal(() => ({ ...loopGroup.loops[0].messagePool.statistics() }));
const stop = (): void => void listener.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
