/**
 * `sluice get`: an HTTP/2 client in the manner of curl and nghttp — one request printed or
 * saved, or `-n` requests over `-m` concurrent streams summarized.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import type { Writable } from 'node:stream';
import type {
  EventLoop,
  Http1ClientConnection,
  Http1ClientStream,
  Http1Fields,
  Http2ClientConnection,
  Http2Headers,
  Http2Stream,
  Http2StreamFailure,
} from '../../handlers/index.js';
import { parsePriority } from '../../handlers/index.js';
import { parseCommandLine, parseInteger, parseUrlArgument, splitHeaderLine } from './arguments.js';
import { describeError, ExitCode, failure, usageError } from './cli-errors.js';
import { connectWithProtocol, type ConnectionTarget, type GetConnection, type GetProtocol } from './get-connection.js';
import { MAX_RESENDS, runLoad } from './load.js';
import { ProgressMeter, type Transfer } from './progress-meter.js';
import { describeConnectError, readCertificateAuthorities } from './tls.js';

/** The help text of `sluice get`. */
export const GET_HELP = `Usage: sluice get URL [options]

Sends one request and prints the response body, or with -n sends it N times over HTTP/2 and
prints a summary. By default https:// negotiates HTTP/2 or HTTP/1.1 by ALPN (h2 preferred) and
http:// speaks HTTP/1.1, as curl does.

Options:
  -H, --header 'NAME: VALUE'  add a request header (repeatable; 'host' sets :authority)
  -d, --data DATA             send DATA as the body (POST unless -X); @FILE reads FILE, @- stdin
  -X, --method METHOD         the request method (default GET, or POST with -d)
      --priority 'u=U, i'     the response's priority (RFC 9218): urgency U 0-7 (default 3, lower
                              first), i for incremental; sent as the priority header
  -o, --output FILE           write the body to FILE instead of stdout
  -v, --verbose               print request and response headers (and over HTTP/2 every frame
                              sent and received) to stderr
      --http1.1               speak HTTP/1.1 only (ALPN http/1.1 on https://)
      --http2-prior-knowledge speak HTTP/2 only: h2c with prior knowledge on http://, ALPN h2
                              on https://
  -n, --requests N            send the request N times and print a summary instead of bodies
  -m, --concurrency M         with -n: at most M requests in flight at once (default 1)
  -k, --insecure              do not verify the server's certificate (https://)
      --cacert FILE           trust the CA certificates in FILE (PEM) besides Node's roots;
                              NODE_EXTRA_CA_CERTS=FILE does the same for every Node program
  -h, --help                  show this help

With -n the requests go over HTTP/2 (h2c with prior knowledge on http://, ALPN h2 on https://);
--http1.1 cannot be combined with it. Requests the server refused without processing them (above the last stream id of
its GOAWAY, or REFUSED_STREAM) are sent again on a new connection, at most ${MAX_RESENDS} times each;
the summary counts them as resent. A new connection replaces each one that received GOAWAY.

With -o FILE or -d @FILE, a progress line on stderr counts the bytes (size, rate, time left
when the length is known) when stderr is a terminal, like curl's; not with -v, not while the
body goes to a terminal on stdout, and never when stderr is redirected.

Any response status counts as success (like curl without -f).
Exit codes: 0 ok, 1 request, connection or file failure, 2 usage (including a bad URL).
`;

/** Bytes of a request body written per `write`. */
const BODY_CHUNK_SIZE = 64 * 1024;

/** Connection-specific header fields HTTP/2 forbids (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** A header name: an RFC 9110 token, lowercase for HTTP/2. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Where the request body comes from. */
export type BodySource =
  { kind: 'none' } | { kind: 'text'; text: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

/** What `sluice get` was asked to do, checked. */
export interface GetSettings {
  /** The parsed URL. */
  url: URL;
  /** Host to connect to (brackets of an IPv6 literal removed). */
  host: string;
  /** Port to connect to. */
  port: number;
  /** https:// */
  isTls: boolean;
  /** Verify the server certificate (false with `-k`). */
  isVerifying: boolean;
  /** `--cacert FILE`: extra trusted CA certificates (PEM), or null. */
  caFile: string | null;
  /** The request header list, pseudo-headers first (content-length is added once the body is known). */
  headers: Http2Headers;
  /** The request body. */
  body: BodySource;
  /** Output file, or null for stdout. */
  output: string | null;
  /** Print headers and frames to stderr. */
  isVerbose: boolean;
  /** Times to send the request. */
  requestCount: number;
  /** Requests in flight at once (`-m`). */
  concurrency: number;
  /** Whether to summarize (`-n` given) rather than print the body. */
  isLoadMode: boolean;
  /** The protocol to speak (`--http1.1`, `--http2-prior-knowledge`, or negotiation). */
  protocol: GetProtocol;
}

/** Parses `get`'s arguments; null when `--help` was asked for. Throws usage errors. */
export function parseGetArguments(args: string[]): GetSettings | null {
  const { values, positionals } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      data: { type: 'string', short: 'd' },
      method: { type: 'string', short: 'X' },
      priority: { type: 'string' },
      output: { type: 'string', short: 'o' },
      verbose: { type: 'boolean', short: 'v', default: false },
      requests: { type: 'string', short: 'n' },
      concurrency: { type: 'string', short: 'm' },
      insecure: { type: 'boolean', short: 'k', default: false },
      cacert: { type: 'string' },
      'http1.1': { type: 'boolean', default: false },
      'http2-prior-knowledge': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const url = parseUrlArgument(positionals, ['http', 'https']);
  if (url.username !== '' || url.password !== '')
    throw usageError('credentials in the URL are not supported; use -H authorization');
  const isTls = url.protocol === 'https:';
  if (values.cacert === '') throw usageError('--cacert needs a file name');
  const requestCount = values.requests === undefined ? 1 : parseInteger('-n', values.requests, 1, 10_000_000);
  const concurrency = values.concurrency === undefined ? 1 : parseInteger('-m', values.concurrency, 1, 10_000);
  // -m alone used to switch to summary mode without a word; it only means something with -n.
  if (values.concurrency !== undefined && values.requests === undefined)
    throw usageError('-m needs -n (the number of requests to send)');
  const isLoadMode = values.requests !== undefined;
  if (values['http1.1'] && values['http2-prior-knowledge'])
    throw usageError('--http1.1 and --http2-prior-knowledge exclude each other');
  if (isLoadMode && values['http1.1']) throw usageError('-n/-m speak HTTP/2 only: --http1.1 cannot be used with them');
  const protocol: GetProtocol = values['http1.1'] ? 'http/1.1' : values['http2-prior-knowledge'] ? 'h2' : 'auto';
  if (isLoadMode && values.output !== undefined)
    throw usageError('-o cannot be used with -n/-m (bodies are counted, not kept)');
  const body = parseBodySource(values.data);
  const method = values.method ?? (body.kind === 'none' ? 'GET' : 'POST');
  if (!TOKEN.test(method.toLowerCase())) throw usageError(`invalid method '${method}'`);
  let authority = url.host;
  const extra: string[] = [];
  let hasUserAgent = false;
  for (const line of values.header) {
    const [name, value] = parseHeaderLine(line);
    if (name === 'host') authority = value;
    else extra.push(name, value);
    if (name === 'user-agent') hasUserAgent = true;
  }
  if (!hasUserAgent) extra.push('user-agent', 'sluice');
  if (values.priority !== undefined) {
    const value = values.priority.trim();
    if (parsePriority(value) === null)
      throw usageError(`invalid --priority '${values.priority}' (an RFC 9218 priority, such as 'u=0, i')`);
    for (let i = extra.length - 2; i >= 0; i -= 2) if (extra[i] === 'priority') extra.splice(i, 2);
    extra.push('priority', value);
  }
  const headers = [
    ':method',
    method,
    ':scheme',
    isTls ? 'https' : 'http',
    ':authority',
    authority,
    ':path',
    `${url.pathname}${url.search}`,
    ...extra,
  ];
  return {
    url,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (isTls ? 443 : 80) : Number(url.port),
    isTls,
    isVerifying: !values.insecure,
    caFile: values.cacert ?? null,
    headers,
    body,
    output: values.output ?? null,
    isVerbose: values.verbose,
    requestCount,
    concurrency: Math.min(concurrency, requestCount),
    isLoadMode,
    protocol,
  };
}

function parseBodySource(data: string | undefined): BodySource {
  if (data === undefined) return { kind: 'none' };
  if (data === '@-') return { kind: 'stdin' };
  if (data.startsWith('@')) {
    if (data.length === 1) throw usageError("-d @ needs a file name (or '@-' for stdin)");
    return { kind: 'file', path: data.slice(1) };
  }
  return { kind: 'text', text: data };
}

/** Parses `-H 'Name: value'` into a lowercase name and a trimmed value allowed in HTTP/2. */
export function parseHeaderLine(line: string): [string, string] {
  const [name, value] = splitHeaderLine(line);
  if (CONNECTION_SPECIFIC_HEADERS.has(name) || (name === 'te' && value.toLowerCase() !== 'trailers')) {
    throw usageError(`header '${name}' is not allowed in HTTP/2 (RFC 9113 §8.2.2)`);
  }
  return [name, value];
}

async function readBody(source: BodySource): Promise<Buffer | null> {
  switch (source.kind) {
    case 'none':
      return null;
    case 'text':
      return Buffer.from(source.text, 'utf8');
    case 'file':
      try {
        return await fs.readFile(source.path);
      } catch (error) {
        throw failure(`cannot read '${source.path}': ${describeError(error)}`, error);
      }
    case 'stdin': {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
  }
}

/** Runs `sluice get`; resolves with the exit code. */
export async function runGet(args: string[]): Promise<ExitCode> {
  const settings = parseGetArguments(args);
  if (settings === null) {
    process.stdout.write(GET_HELP);
    return ExitCode.OK;
  }
  const body = await readBody(settings.body);
  const headers = body === null ? settings.headers : [...settings.headers, 'content-length', String(body.length)];
  const target = { ...settings, ca: await readCertificateAuthorities(settings.caFile) };
  if (settings.isLoadMode) return runLoad({ ...target, displayHost: settings.url.host }, headers, body);
  const output = await openOutput(settings.output);
  const chosen = await connect(target);
  const loop = chosen.protocol === 'h2' ? chosen.connection.channelSlot?.channel.loop : chosen.connection.channel?.loop;
  const progress = showsProgress(settings) && loop !== undefined ? trackProgress(loop, settings, body) : null;
  try {
    if (chosen.protocol === 'h2') return await fetchOnce(chosen.connection, settings, headers, body, output, progress);
    return await fetchOnceHttp1(chosen.connection, settings, headers, body, output, progress);
  } finally {
    progress?.meter.finish();
    if (chosen.protocol === 'h2') {
      await chosen.connection.close();
    } else {
      const channel = chosen.connection.channel;
      chosen.connection.close();
      if (channel !== null) await channel.whenShutdown;
    }
    if (output !== process.stdout) await new Promise<void>((resolve) => output.end(resolve));
  }
}

/**
 * Whether `get` draws its progress line: stderr must be a terminal (never when it is
 * redirected), a body must go to or come from a file (`-o FILE`, `-d @FILE`), and neither `-v`
 * nor a body printed on a terminal stdout may share the screen with it — as curl does.
 */
function showsProgress(settings: GetSettings): boolean {
  if (process.stderr.isTTY !== true || settings.isVerbose) return false;
  if (settings.output === null && process.stdout.isTTY === true) return false;
  return settings.output !== null || settings.body.kind === 'file';
}

/** What the progress line counts: the `-d @FILE` upload and the `-o FILE` download, each when asked for. */
interface GetProgress {
  readonly meter: ProgressMeter;
  readonly upload: Transfer | null;
  readonly download: Transfer | null;
}

function trackProgress(loop: EventLoop, settings: GetSettings, body: Buffer | null): GetProgress {
  const meter = new ProgressMeter(loop, process.stderr);
  const upload = settings.body.kind === 'file' && body !== null ? meter.track('sent', body.length) : null;
  const download = settings.output !== null ? meter.track('received', null) : null;
  meter.start();
  return { meter, upload, download };
}

/**
 * The body length a response announces: its `content-length`, or null when it has none or a
 * malformed one, or when its body is empty whatever the field says (a response to HEAD, 204,
 * 304; RFC 9110 §8.6).
 */
export function announcedLength(method: string, status: number, fields: readonly string[]): number | null {
  if (method === 'HEAD' || status === 204 || status === 304) return null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i].toLowerCase() !== 'content-length') continue;
    const value = fields[i + 1].trim();
    return /^\d{1,15}$/.test(value) ? Number(value) : null;
  }
  return null;
}

async function openOutput(file: string | null): Promise<Writable> {
  if (file === null) return process.stdout;
  try {
    const handle = await fs.open(file, 'w');
    return handle.createWriteStream();
  } catch (error) {
    throw failure(`cannot write '${file}': ${describeError(error)}`, error);
  }
}

async function connect(settings: GetSettings & ConnectionTarget): Promise<GetConnection> {
  try {
    return await connectWithProtocol(settings, settings.protocol);
  } catch (error) {
    throw failure(`cannot connect to ${settings.url.host}: ${describeConnectError(error)}`, error);
  }
}

function printHeaders(prefix: string, headers: Http2Headers): void {
  let text = '';
  for (let i = 0; i < headers.length; i += 2) text += `${prefix} ${headers[i]}: ${headers[i + 1]}\n`;
  process.stderr.write(text);
}

/**
 * Writes `body` in chunks as the stream accepts them (stops when `write` reports the
 * high-water mark and continues on `onDrain`), then ends the stream. Returns the pump to call
 * from `onDrain`.
 */
function bodyPump(getStream: () => Http2Stream | null, body: Buffer, upload: Transfer | null): () => void {
  let offset = 0;
  return () => {
    const stream = getStream();
    if (stream === null) return;
    while (offset < body.length && stream.isWritable) {
      const chunk = body.subarray(offset, offset + BODY_CHUNK_SIZE);
      offset += chunk.length;
      upload?.add(chunk.length);
      if (!stream.write(chunk)) return;
    }
    if (offset === body.length && stream.isWritable) {
      stream.end();
      upload?.end();
    }
  };
}

/**
 * One request; the body goes to `output` in manual window mode: receive credit for each chunk
 * returns once the output accepted it, so a slow disk or pipe slows the server instead of
 * buffering here.
 */
function fetchOnce(
  connection: Http2ClientConnection,
  settings: GetSettings,
  headers: Http2Headers,
  body: Buffer | null,
  output: Writable,
  progress: GetProgress | null,
): Promise<ExitCode> {
  const download = progress?.download ?? null;
  const method = settings.headers[1]; // the header list starts ':method', METHOD
  return new Promise<ExitCode>((resolve, reject) => {
    let outputError: Error | null = null;
    let stream: Http2Stream | null = null;
    const pump = body === null ? null : bodyPump(() => stream, body, progress?.upload ?? null);
    if (settings.isVerbose) printHeaders('>', headers);
    // Output errors (EPIPE from `| head`, a full disk) arrive through the write callbacks below.
    output.on('error', () => undefined);
    try {
      stream = connection.request(headers, {
        isEndStream: body === null,
        isManualWindow: true,
        handler: {
          onInformational: (_s, informational) => settings.isVerbose && printHeaders('<', informational),
          onResponse: (_s, response) => {
            if (settings.isVerbose) printHeaders('<', response);
            download?.setTotal(announcedLength(method, Number(response[response.indexOf(':status') + 1]), response));
          },
          onTrailers: (_s, trailers) => settings.isVerbose && printHeaders('<', trailers),
          onData: (dataStream, data, start, end) => {
            const length = end - start;
            download?.add(length);
            // The view is valid only during this callback: the copy is what the output keeps.
            output.write(Buffer.from(data.subarray(start, end)), (error) => {
              if (error == null) {
                dataStream.updateWindow(length);
              } else if (outputError === null) {
                outputError = error;
                dataStream.reset();
              }
            });
          },
          onDrain: () => pump?.(),
          onClose: (_s, error: Http2StreamFailure | null) => {
            download?.end();
            if (outputError !== null)
              reject(failure(`cannot write output: ${describeError(outputError)}`, outputError));
            else if (error !== null) reject(failure(`request failed: ${describeConnectError(error)}`, error));
            else resolve(ExitCode.OK);
          },
        },
      });
    } catch (error) {
      reject(failure(`request failed: ${describeConnectError(error)}`, error));
      return;
    }
    pump?.();
  });
}

/**
 * One request over HTTP/1.1: the HTTP/2-style header list becomes the request line and fields
 * (`:authority` is `host`); the body goes to `output` with read credit returned as the output
 * accepts it (the connection is in manual window mode), as over HTTP/2.
 */
function fetchOnceHttp1(
  connection: Http1ClientConnection,
  settings: GetSettings,
  headers: Http2Headers,
  body: Buffer | null,
  output: Writable,
  progress: GetProgress | null,
): Promise<ExitCode> {
  const upload = progress?.upload ?? null;
  const download = progress?.download ?? null;
  let method = 'GET';
  let target = '/';
  const fields: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (name === ':method') method = value;
    else if (name === ':path') target = value;
    else if (name === ':authority') fields.push('host', value);
    else if (!name.startsWith(':')) fields.push(name, value);
  }
  return new Promise<ExitCode>((resolve, reject) => {
    let outputError: Error | null = null;
    let stream: Http1ClientStream | null = null;
    let offset = 0;
    const pump = (): void => {
      if (stream === null || body === null) return;
      while (offset < body.length && !stream.isClosed) {
        const chunk = body.subarray(offset, offset + BODY_CHUNK_SIZE);
        offset += chunk.length;
        upload?.add(chunk.length);
        if (!stream.write(chunk)) return;
      }
      if (offset === body.length && !stream.isClosed) {
        stream.end();
        upload?.end();
      }
    };
    if (settings.isVerbose) {
      process.stderr.write(`> ${method} ${target} HTTP/1.1\n`);
      printFields('>', fields);
    }
    output.on('error', () => undefined);
    const printHead = (status: number, reason: string, responseFields: Http1Fields): void => {
      if (!settings.isVerbose) return;
      process.stderr.write(`< HTTP/1.1 ${status}${reason === '' ? '' : ` ${reason}`}\n`);
      printFields('<', responseFields);
    };
    try {
      stream = connection.request(method, target, fields, {
        isEndStream: body === null,
        handler: {
          onInformational: (_s, status, informational) => printHead(status, '', informational),
          onResponse: (_s, status, response, reason) => {
            printHead(status, reason, response);
            download?.setTotal(announcedLength(method, status, response));
          },
          onTrailers: (_s, trailers) => settings.isVerbose && printFields('<', trailers),
          onData: (dataStream, data, start, end) => {
            const length = end - start;
            download?.add(length);
            output.write(Buffer.from(data.subarray(start, end)), (error) => {
              if (error == null) {
                dataStream.updateWindow(length);
              } else if (outputError === null) {
                outputError = error;
                dataStream.reset();
              }
            });
          },
          onDrain: () => pump(),
          onClose: (_s, error) => {
            download?.end();
            if (outputError !== null)
              reject(failure(`cannot write output: ${describeError(outputError)}`, outputError));
            else if (error !== null) reject(failure(`request failed: ${describeConnectError(error)}`, error));
            else resolve(ExitCode.OK);
          },
        },
      });
    } catch (error) {
      reject(failure(`request failed: ${describeConnectError(error)}`, error));
      return;
    }
    pump();
  });
}

function printFields(prefix: string, fields: readonly string[]): void {
  let text = '';
  for (let i = 0; i + 1 < fields.length; i += 2) text += `${prefix} ${fields[i]}: ${fields[i + 1]}\n`;
  process.stderr.write(text);
}
