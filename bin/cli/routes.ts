/**
 * The routes `sluice serve` answers, on the low-level stream API (an `RouteStream`, or an
 * HTTP/1.1 exchange through `Http1RouteStream`): `GET /`, `GET /bytes/N`,
 * `POST /echo`, `GET /headers`, and files under `--root`. Every response carries `date` (RFC
 * 9110 §6.6.1), one string per second from {@link httpDate}.
 *
 * @module
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import {
  ErrorCode,
  httpDate,
  log,
  LogLevel,
  type Clock,
  type Http2Headers,
  type SluiceError,
} from '../../handlers/index.js';

/** The body of `GET /`. */
export const ROOT_BODY = Buffer.from('hello from sluice: try /bytes/1048576, POST /echo, /headers\n');

/** The period of the `/bytes/N` pattern: byte `i` is `i % 251` (a prime, so chunk edges show). */
export const PATTERN_PERIOD = 251;

/**
 * PATTERN_BLOCK is a whole number of pattern periods (~64 KiB), so consecutive blocks continue
 * the pattern. It is never modified: every `/bytes/N` response writes views of it.
 */
const PATTERN_BLOCK: Buffer = (() => {
  const block = Buffer.allocUnsafe(PATTERN_PERIOD * 256);
  for (let i = 0; i < block.length; i++) block[i] = i % PATTERN_PERIOD;
  return block;
})();

/** Bytes read from a file per DATA write. */
const FILE_CHUNK_SIZE = 64 * 1024;

/** Content types by file extension; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
});

/** The content type `sluice serve` sends for a file name. */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * RouteStream is what the routes use of a stream: the slice of `Http2Stream` they call, so an
 * HTTP/2 stream is one as it is and an HTTP/1.1 exchange is one through `Http1RouteStream`.
 */
export interface RouteStream {
  /** A number for log lines. */
  readonly id: number;
  /** The connection loop's clock (for `date`). */
  readonly clock: Clock;
  /** True while the response may still be written. */
  readonly isWritable: boolean;
  /** Body credit returns by `updateWindow`. */
  isManualWindow: boolean;
  /** Receives the request body and write-side events. */
  handler: RouteStreamHandler;
  /** The response head (`:status` first) — with `isEndStream`, the whole response. */
  sendHeaders(headers: Http2Headers, isEndStream?: boolean): void;
  /** Body bytes; false above the high-water mark (continue on `onDrain`). */
  write(chunk: Uint8Array, callback?: (error: SluiceError | null) => void): boolean;
  /** Ends the response. */
  end(): void;
  /** Returns request-body credit. */
  updateWindow(size: number): void;
  /** Fails the stream. */
  reset(errorCode?: number): void;
}

/** RouteStreamHandler is what a route hears of its stream. */
export interface RouteStreamHandler {
  /** Request body bytes (`data[start..end)`, valid during the call). */
  onData?(stream: RouteStream, data: Uint8Array, start: number, end: number): void;
  /** The request body ended. */
  onEnd?(stream: RouteStream): void;
  /** The response buffer fell below the high-water mark. */
  onDrain?(stream: RouteStream): void;
  /** The stream closed. */
  onClose?(stream: RouteStream, error: unknown): void;
}

/** Options of {@link createRoutes}. */
export interface RoutesOptions {
  /** Directory whose files are served (absolute, already resolved); null serves no files. */
  root: string | null;
}

/** The first value of header `name` in a flat list, or `''`. */
function headerValue(headers: Http2Headers, name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}

/**
 * Creates the server's `onStream`: it routes each request by `:method` and `:path` and answers
 * on the stream. Errors while answering reset the stream (INTERNAL_ERROR), never the connection.
 */
export function createRoutes(
  options: RoutesOptions,
): (stream: RouteStream, headers: Http2Headers, isEndStream: boolean) => void {
  const root = options.root;
  return (stream, headers, isEndStream) => {
    const method = headerValue(headers, ':method');
    const fullPath = headerValue(headers, ':path');
    const query = fullPath.indexOf('?');
    const pathname = query < 0 ? fullPath : fullPath.slice(0, query);
    try {
      if (pathname === '/echo') {
        if (method === 'POST' || method === 'PUT') answerEcho(stream, headers, isEndStream);
        else answerText(stream, method, 405, 'use POST for /echo\n', ['allow', 'POST, PUT']);
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        answerText(stream, method, 405, `method ${method} not allowed here\n`, ['allow', 'GET, HEAD']);
        return;
      }
      if (pathname === '/headers') {
        answerHeaders(stream, method, headers);
        return;
      }
      const byteCount = parseBytesPath(pathname);
      if (byteCount >= 0) {
        answerPattern(stream, method, byteCount);
        return;
      }
      if (root !== null) {
        void answerFile(stream, method, root, pathname);
        return;
      }
      if (pathname === '/') answerBody(stream, method, 200, 'text/plain; charset=utf-8', ROOT_BODY, []);
      else answerText(stream, method, 404, 'not found\n', []);
    } catch (error) {
      failStream(stream, error);
    }
  };
}

/** Parses `/bytes/N`; returns N, or -1 when the path is something else. */
export function parseBytesPath(pathname: string): number {
  if (!pathname.startsWith('/bytes/')) return -1;
  const digits = pathname.slice('/bytes/'.length);
  if (!/^\d{1,15}$/.test(digits)) return -1;
  return Number(digits);
}

function failStream(stream: RouteStream, error: unknown): void {
  if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'sluice-serve', `stream ${stream.id}: ${String(error)}`);
  stream.reset(ErrorCode.INTERNAL_ERROR);
}

function answerText(stream: RouteStream, method: string, status: number, text: string, extraHeaders: string[]): void {
  answerBody(stream, method, status, 'text/plain; charset=utf-8', Buffer.from(text), extraHeaders);
}

/** Sends a whole body at once (small bodies only); HEAD gets the headers alone. */
function answerBody(
  stream: RouteStream,
  method: string,
  status: number,
  contentType: string,
  body: Buffer,
  extraHeaders: string[],
): void {
  if (!stream.isWritable) return;
  const headers = [
    ':status',
    String(status),
    'content-type',
    contentType,
    'content-length',
    String(body.length),
    'date',
    httpDate(stream.clock),
    ...extraHeaders,
  ];
  if (method === 'HEAD' || body.length === 0) {
    stream.sendHeaders(headers, true);
    return;
  }
  stream.sendHeaders(headers);
  stream.write(body);
  stream.end();
}

/** `GET /headers`: the request's header list as a JSON object (repeated names become arrays). */
function answerHeaders(stream: RouteStream, method: string, headers: Http2Headers): void {
  const fields: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    const previous = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (previous === undefined) fields[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else fields[name] = [previous, value];
  }
  answerBody(stream, method, 200, 'application/json', Buffer.from(`${JSON.stringify(fields, null, 2)}\n`), []);
}

/**
 * `GET /bytes/N`: N pattern bytes, streamed. Writing stops whenever `write` reports the stream's
 * buffer above its high-water mark and resumes on `onDrain`, so memory stays bounded whatever N.
 */
function answerPattern(stream: RouteStream, method: string, byteCount: number): void {
  const headers = [
    ':status',
    '200',
    'content-type',
    'application/octet-stream',
    'content-length',
    String(byteCount),
    'date',
    httpDate(stream.clock),
  ];
  if (method === 'HEAD' || byteCount === 0) {
    stream.sendHeaders(headers, true);
    return;
  }
  stream.sendHeaders(headers);
  let remaining = byteCount;
  const pump = (): void => {
    while (remaining > 0 && stream.isWritable) {
      // Only the last write is short, so every block starts at a period boundary.
      const count = Math.min(remaining, PATTERN_BLOCK.length);
      remaining -= count;
      const isBelowHighWater = stream.write(
        count === PATTERN_BLOCK.length ? PATTERN_BLOCK : PATTERN_BLOCK.subarray(0, count),
      );
      if (!isBelowHighWater) return;
    }
    if (remaining === 0 && stream.isWritable) stream.end();
  };
  stream.handler = { onDrain: pump };
  pump();
}

/**
 * `POST /echo`: the request body comes back as the response body, flow-controlled both ways.
 * The stream is in manual window mode: receive credit for a chunk is returned only once the
 * echoed copy was framed for sending, so a client that does not read its response stops being
 * allowed to send — buffered memory stays within one stream window.
 */
function answerEcho(stream: RouteStream, headers: Http2Headers, isEndStream: boolean): void {
  const contentType = headerValue(headers, 'content-type') || 'application/octet-stream';
  if (isEndStream) {
    stream.sendHeaders(
      [':status', '200', 'content-type', contentType, 'content-length', '0', 'date', httpDate(stream.clock)],
      true,
    );
    return;
  }
  stream.isManualWindow = true;
  stream.sendHeaders([':status', '200', 'content-type', contentType, 'date', httpDate(stream.clock)]);
  stream.handler = {
    onData(echoStream, data, start, end) {
      if (!echoStream.isWritable) return;
      const length = end - start;
      // The view is only valid during this callback; the copy lives until it is framed.
      const copy = Buffer.from(data.subarray(start, end));
      echoStream.write(copy, (error) => {
        if (error === null) echoStream.updateWindow(length);
      });
    },
    onEnd(echoStream) {
      if (echoStream.isWritable) echoStream.end();
    },
  };
}

/**
 * Serves `pathname` from `root`: percent-decoded, normalized, and refused (404) unless the real
 * path (symbolic links resolved) stays inside the real root. A directory serves its
 * `index.html`. The file is read chunk by chunk as the stream drains.
 */
async function answerFile(stream: RouteStream, method: string, root: string, pathname: string): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    answerText(stream, method, 400, 'bad percent-encoding in path\n', []);
    return;
  }
  if (decoded.includes('\0') || !decoded.startsWith('/')) {
    answerText(stream, method, 400, 'bad path\n', []);
    return;
  }
  let file: fs.FileHandle | null = null;
  try {
    const found = await resolveFile(root, decoded);
    if (found === null) {
      if (decoded === '/') answerBody(stream, method, 200, 'text/plain; charset=utf-8', ROOT_BODY, []);
      else answerText(stream, method, 404, 'not found\n', []);
      return;
    }
    if (!stream.isWritable) return;
    file = await fs.open(found.filePath, 'r');
    const size = found.stats.size;
    const headers = [
      ':status',
      '200',
      'content-type',
      contentTypeFor(found.filePath),
      'content-length',
      String(size),
      'date',
      httpDate(stream.clock),
    ];
    if (!stream.isWritable) return;
    if (method === 'HEAD' || size === 0) {
      stream.sendHeaders(headers, true);
      return;
    }
    stream.sendHeaders(headers);
    await streamFile(stream, file, size);
  } catch (error) {
    if (stream.isWritable) failStream(stream, error);
  } finally {
    await file?.close().catch(() => undefined);
  }
}

async function resolveFile(root: string, decoded: string): Promise<{ filePath: string; stats: Stats } | null> {
  const candidate = path.resolve(root, `.${decoded}`);
  if (!isInside(root, candidate)) return null;
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return null;
  }
  if (!isInside(root, real)) return null;
  let stats = await fs.stat(real);
  let filePath = real;
  if (stats.isDirectory()) {
    filePath = path.join(real, 'index.html');
    try {
      stats = await fs.stat(filePath);
    } catch {
      return null;
    }
  }
  return stats.isFile() ? { filePath, stats } : null;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Reads and writes `size` bytes; waits for `onDrain` when the stream's buffer is full. */
async function streamFile(stream: RouteStream, file: fs.FileHandle, size: number): Promise<void> {
  let drained: (() => void) | null = null;
  let closed: (() => void) | null = null;
  stream.handler = {
    onDrain: () => drained?.(),
    onClose: () => closed?.(),
  };
  const isClosed = new Promise<void>((resolve) => (closed = resolve));
  let position = 0;
  while (position < size && stream.isWritable) {
    // A fresh buffer per chunk: `write` keeps it until framed.
    const chunk = Buffer.allocUnsafe(Math.min(FILE_CHUNK_SIZE, size - position));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break; // the file shrank: end with what was sent (content-length will not match)
    position += bytesRead;
    if (!stream.isWritable) return;
    const isBelowHighWater = stream.write(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    if (!isBelowHighWater) {
      await Promise.race([new Promise<void>((resolve) => (drained = resolve)), isClosed]);
      drained = null;
    }
  }
  if (stream.isWritable) {
    if (position === size) stream.end();
    else stream.reset(ErrorCode.INTERNAL_ERROR);
  }
}
