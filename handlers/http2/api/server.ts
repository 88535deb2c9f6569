/**
 * The convenient HTTP/2 server: `createServer(options, onStream)` → {@link Http2Server},
 * `listen` → {@link Http2ServerListener}; each request is a {@link ServerStream} with an
 * async-iterable body (manual flow control) and promise-based writes. Built on
 * {@link Http2ServerConnection}.
 *
 * @module
 */
import {
  log,
  LogLevel,
  SluiceError,
  type Channel,
  type Clock,
  Listener,
  type ListenerAddress,
  type MinDataRate,
} from '../../../lib/index.js';
import {
  Http2Body,
  handled,
  isBodySource,
  toBytes,
  writeBodySource,
  writeChunk,
  type Http2BodySource,
} from './body.js';
import type { Http2ConnectionOptions, Http2Headers } from '../connection/connection-options.js';
import { ErrorCode } from '../wire/constants.js';
import {
  headersToObject,
  pseudoValue,
  splitHeaderInput,
  type Http2HeaderInput,
  type Http2HeadersObject,
} from './header-objects.js';
import { listenHttp2, type ListenHttp2Options } from './bootstrap.js';
import { Http2ApiErrors, Http2StreamError, Http2SessionErrors } from '../errors.js';
import { httpDate } from './http-date.js';
import { checkRequiredOptions } from '../../../lib/argument-checks.js';
import { Http2ServerConnection } from '../connection/server-connection.js';
import type { Http2Priority } from '../connection/priority.js';
import {
  assertValidTrailers,
  Http2Stream,
  type Http2StreamFailure,
  type Http2StreamHandler,
} from '../connection/http2-stream.js';

/** Handles one request; a thrown error or rejected promise answers 500 (or resets the stream) and goes to `onError`. */
export type ServerStreamListener = (stream: ServerStream) => void | Promise<void>;

/**
 * Options of {@link createServer}: the bootstrap's (loop group, socket options, `tls` with
 * ALPN h2, `pipeline`, …) and each connection's `http2` options.
 */
export interface Http2ServerOptions extends Omit<ListenHttp2Options, 'http2' | 'host' | 'port' | 'path' | 'backlog'> {
  /** Options of each accepted connection (windows, limits, …); `onStream` is the server's. */
  http2?: Omit<Http2ConnectionOptions, 'onStream'>;
  /**
   * A request handler failed (`stream` set) or a connection ended with an error (`stream`
   * null). Without it, failures are logged at WARN.
   */
  onError?: (error: unknown, stream: ServerStream | null) => void;
  /**
   * Send a `date` field with every final response that has none (RFC 9110 §6.6.1: an origin
   * server with a clock must). The value is formatted at most once per second from the
   * connection's loop clock; a `date` the handler gives is kept. Default true; turn it off for
   * a server without a trustworthy clock.
   */
  sendDate?: boolean;
}

/** Options of {@link Http2Server.listen}. */
export interface Http2ListenOptions {
  /** The address to bind; `127.0.0.1` by default. */
  host?: string;
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** Pending-connection queue length. */
  backlog?: number;
}

/** Options of {@link ServerStream.respond}. */
export interface RespondOptions {
  /** The response has no body: END_STREAM goes with the headers. */
  endStream?: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Creates an HTTP/2 server (h2c with prior knowledge; TLS plugs in through
 * `options.pipeline`). `onStream` gets a {@link ServerStream} per request.
 *
 * @example
 * ```ts
 * const server = createServer({}, async (stream) => {
 *   if (stream.path === '/echo') {
 *     stream.respond(200, { 'content-type': 'application/octet-stream' });
 *     await stream.send(stream.body); // flow-controlled both ways
 *   } else {
 *     stream.respond(200, { 'content-type': 'text/plain' });
 *     await stream.end('hello\n');
 *   }
 * });
 * const listener = await server.listen({ host: '127.0.0.1', port: 8080 });
 * console.log(`listening on http://127.0.0.1:${listener.port}`);
 * await listener.close(); // graceful: GOAWAY, in-flight streams finish
 * ```
 */
export function createServer(options: Http2ServerOptions, onStream: ServerStreamListener): Http2Server;
/** Creates an HTTP/2 server with default options. */
export function createServer(onStream: ServerStreamListener): Http2Server;
export function createServer(
  optionsOrListener: Http2ServerOptions | ServerStreamListener,
  onStream?: ServerStreamListener,
): Http2Server {
  if (typeof optionsOrListener === 'function') return new Http2Server({}, optionsOrListener);
  checkRequiredOptions(optionsOrListener, 'createServer(options, onStream)');
  if (typeof onStream !== 'function') {
    throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'createServer(options, onStream): onStream is a function');
  }
  return new Http2Server(optionsOrListener, onStream);
}

/** Http2Server holds the request handler and options; each `listen` binds one {@link Http2ServerListener}. */
export class Http2Server {
  private readonly options: Http2ServerOptions;
  private readonly onStream: ServerStreamListener;
  private readonly listeners = new Set<Http2ServerListener>();

  /** @internal Servers come from {@link createServer}. */
  constructor(options: Http2ServerOptions, onStream: ServerStreamListener) {
    this.options = options;
    this.onStream = onStream;
  }

  /** Binds and resolves with the listener; rejects with `IO_ADDRESS_IN_USE`, …. */
  async listen(options: Http2ListenOptions = {}): Promise<Http2ServerListener> {
    const { http2, onError: _onError, sendDate: _sendDate, ...bootstrapOptions } = this.options;
    const connectionOptions = http2 ?? {};
    const listener = await listenHttp2({
      ...bootstrapOptions,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
      http2: {
        ...connectionOptions,
        onStream: (stream, headers, isEndStream) => this.acceptStream(stream, headers, isEndStream),
        onError: (error) => {
          connectionOptions.onError?.(error);
          this.report(error, null);
        },
      },
    });
    const serverListener: Http2ServerListener = new Http2ServerListener(listener, () =>
      this.listeners.delete(serverListener),
    );
    this.listeners.add(serverListener);
    return serverListener;
  }

  /** Closes every listener gracefully (see {@link Http2ServerListener.close}). */
  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.close()));
  }

  /**
   * @internal Runs the handler for a request stream of a connection this server did not
   * install itself (the one-API server of `sluice/http1` shares the handling).
   */
  acceptStream(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    // Request bodies are read on demand: credit returns as the handler reads (RFC 9113 §5.2).
    stream.isManualWindow = true;
    const serverStream = new ServerStream(
      stream,
      headers,
      isEndStream,
      this.options.sendDate === false ? null : stream.clock,
    );
    // The handler's work counts toward the concurrency limit until it ends, even if the client
    // resets the stream meanwhile (Rapid Reset, CVE-2023-44487).
    stream.holdConcurrencySlot();
    let result: void | Promise<void>;
    try {
      result = this.onStream(serverStream);
    } catch (error) {
      stream.releaseConcurrencySlot();
      this.failHandler(serverStream, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => stream.releaseConcurrencySlot(),
        (error: unknown) => {
          stream.releaseConcurrencySlot();
          this.failHandler(serverStream, error);
        },
      );
    } else {
      stream.releaseConcurrencySlot();
    }
  }

  /** A handler threw: answer 500 if nothing was sent, else reset; never let it reach the connection. */
  private failHandler(stream: ServerStream, error: unknown): void {
    this.report(error, stream);
    if (stream.isClosed) return;
    try {
      if (!stream.hasResponded) {
        stream.respond(500, { 'content-type': 'text/plain; charset=utf-8' });
        void stream.end('internal server error\n');
      } else {
        stream.reset(ErrorCode.INTERNAL_ERROR);
      }
    } catch {
      stream.reset(ErrorCode.INTERNAL_ERROR);
    }
  }

  /** @internal Reports a failure to `onError`, or logs it at WARN. */
  report(error: unknown, stream: ServerStream | null): void {
    const onError = this.options.onError;
    if (onError !== undefined) {
      try {
        onError(error, stream);
      } catch {
        // An onError that throws must not take the connection down.
      }
      return;
    }
    if (log.level >= LogLevel.WARN) {
      log.log(
        LogLevel.WARN,
        'http2',
        `${stream === null ? 'connection' : `stream ${stream.id}`} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/**
 * Http2ServerListener is a bound HTTP/2 server socket and its connections. `close()` is
 * graceful.
 */
export class Http2ServerListener {
  private readonly listener: Listener;
  private readonly onClosed: () => void;
  private closing: Promise<void> | null = null;

  /** @internal Listeners come from {@link Http2Server.listen}. */
  constructor(listener: Listener, onClosed: () => void) {
    if (!(listener instanceof Listener) || typeof onClosed !== 'function') {
      throw new SluiceError(
        Http2ApiErrors.INVALID_ARGUMENT,
        'Http2ServerListener objects come from Http2Server.listen',
      );
    }
    this.listener = listener;
    this.onClosed = onClosed;
  }

  /** The bound TCP port. */
  get port(): number {
    return this.listener.port;
  }

  /** Where the listener is bound. */
  get address(): ListenerAddress {
    return this.listener.address;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.listener.channels.size;
  }

  /** True once `close()` was called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /**
   * Closes gracefully and resolves when everything is closed: stops accepting, sends each
   * connection GOAWAY (first with the largest stream id, then after a PING round trip the real
   * last one, RFC 9113 §6.8), lets streams in flight finish, closes the sockets. A connection
   * still negotiating TLS is closed at once. Calling again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  private async closeGracefully(): Promise<void> {
    // net.Server#close stops accepting now and calls back once every socket has closed.
    const serverClosed = new Promise<void>((resolve) => this.listener.server.close(() => resolve()));
    await Promise.all([...this.listener.channels].map((channel) => closeChannelGracefully(channel)));
    await serverClosed;
    this.onClosed();
  }
}

/** @internal Closes one accepted channel: gracefully through its HTTP/2 connection when it has one. */
export async function closeChannelGracefully(channel: Channel): Promise<void> {
  await Promise.race([channel.whenSetup, channel.whenShutdown]);
  let connection: Http2ServerConnection | null = null;
  for (const slot of channel.slots()) {
    const handler = slot.handler;
    if (handler instanceof Http2ServerConnection) connection = handler;
  }
  if (connection === null || connection.channelSlot === null) channel.shutdown(null);
  else await connection.close();
  await channel.whenShutdown;
}

/**
 * ServerStream is one request on an {@link Http2Server}: the request (`method`, `path`,
 * `headers`, `body`, `trailers`) and the response (`respond`, `informational`, `write`,
 * `end`, `send`, `reset`).
 *
 * Back-pressure contract: `write(chunk)` returns a promise that resolves when the stream can
 * take more — at once while fewer than the connection's `streamHighWaterMark` bytes wait to be
 * framed, otherwise once this chunk has been framed (which waits for the peer's flow-control
 * window). Await every write and memory stays bounded; a rejection (the stream failed) that
 * nobody awaits is not reported as unhandled. Chunks are not copied: do not change a chunk
 * until its write resolved.
 *
 * Every call checks its arguments before it sends anything: one that throws or rejects for a
 * bad argument leaves the stream as it was (no headers sent), so the handler can still respond.
 *
 * A response to HEAD, and a 204 or 304 response, has no body: written bytes are discarded (no
 * error). A final response carries a `date` field unless the server's `sendDate` is false or
 * the handler gave one. A response that
 * ends while the request body is still coming and was never read stops the upload with
 * RST_STREAM(NO_ERROR) (RFC 9113 §8.1) instead of waiting for it.
 */
export class ServerStream {
  /** The protocol the request came over: always `'h2'` here (the one-API server also serves `'http/1.1'`). */
  readonly protocol = 'h2' as const;
  /** The low-level stream. */
  readonly http2Stream: Http2Stream;
  /** `:method`. */
  readonly method: string;
  /** `:path` (empty for CONNECT). */
  readonly path: string;
  /** `:authority` (empty when absent). */
  readonly authority: string;
  /** `:scheme` (empty for CONNECT). */
  readonly scheme: string;
  /** The request headers, pseudo-headers included. */
  readonly headers: Http2HeadersObject;
  /** The request headers as received, a flat `[name, value, …]` list. */
  readonly rawHeaders: Http2Headers;
  /** The request body; credit returns to the client only as it is read. */
  readonly body: Http2Body;
  /**
   * The request trailers (`{}` when none), once the body ended; rejects if the stream fails
   * first (never reported as unhandled).
   */
  readonly trailers: Promise<Http2HeadersObject>;
  private readonly events: ServerStreamEvents;
  private isResponded = false;
  private isEndCalled = false;
  /** The clock `date` values are read from; null when the server sends none. */
  private readonly dateClock: Clock | null;

  /** @internal Server streams are created by {@link Http2Server}. */
  constructor(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean, dateClock: Clock | null) {
    // Not in the published types, but callable: refuse what is not a stream (once per request).
    if (!(stream instanceof Http2Stream) || !Array.isArray(headers)) {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'ServerStream objects come from createServer');
    }
    this.http2Stream = stream;
    this.dateClock = dateClock;
    this.rawHeaders = headers;
    this.headers = headersToObject(headers);
    this.method = pseudoValue(headers, ':method') ?? '';
    this.path = pseudoValue(headers, ':path') ?? '';
    this.authority = pseudoValue(headers, ':authority') ?? '';
    this.scheme = pseudoValue(headers, ':scheme') ?? '';
    this.body = new Http2Body(stream, noop);
    this.events = new ServerStreamEvents(this, this.body);
    this.trailers = this.events.trailers;
    stream.handler = this.events;
    if (isEndStream) this.events.onEnd();
  }

  /** The stream identifier. */
  get id(): number {
    return this.http2Stream.id;
  }

  /** True for a HEAD request: the response carries no body. */
  get isHead(): boolean {
    return this.method === 'HEAD';
  }

  /** True once the final response headers were sent. */
  get hasResponded(): boolean {
    return this.isResponded;
  }

  /** True once the stream closed (completed, reset, or its connection failed). */
  get isClosed(): boolean {
    return this.http2Stream.isClosed;
  }

  /** Response bytes given to `write` and not yet framed. */
  get bufferedBytes(): number {
    return this.http2Stream.bufferedBytes;
  }

  /**
   * The response's priority (RFC 9218): what the request's `priority` field and the client's
   * PRIORITY_UPDATE frames asked for, or what the handler set since (see
   * {@link ServerStream.setPriority}).
   */
  get priority(): Http2Priority {
    return this.http2Stream.priority;
  }

  /**
   * Overrides the client's priority for this response (RFC 9218 §8): its DATA is scheduled by it
   * from now on; a member left out takes its default (urgency 3, not incremental). A `priority`
   * field in the response headers overrides the members it names the same way. Throws
   * `HTTP2_INVALID_ARGUMENT` for an urgency that is not an integer 0–7 or an `incremental` that
   * is not a boolean.
   */
  setPriority(priority: Partial<Http2Priority>): void {
    this.http2Stream.setPriority(priority);
  }

  /** Aborted (with the stream's error) when the stream fails before completing — e.g. the client reset it. */
  get signal(): AbortSignal {
    return this.events.signal;
  }

  /** Resolves when the stream closes: null when it completed, else why it failed (never rejects). */
  get closed(): Promise<Http2StreamFailure | null> {
    return this.events.closed;
  }

  /**
   * Sends the final response headers: `respond(200, { 'content-type': 'text/plain' })` or
   * `respond({ ':status': 200, … })`. Adds `date` (see the server's `sendDate`); leaves out
   * `content-length` on a 204 (RFC 9110 §8.6). Throws `HTTP2_ALREADY_RESPONDED` when sent
   * already, `HTTP2_INVALID_HEADERS` for a malformed list or a 1xx status (101 is not HTTP/2;
   * send others with `informational`), and `HTTP2_WRITE_AFTER_END` or `HTTP2_STREAM_CLOSED` when the stream is
   * closed — in every case before anything is sent.
   */
  respond(status: number, headers?: Http2HeaderInput, options?: RespondOptions): void;
  /** Sends the final response headers from one object with `:status`. */
  respond(headers: Http2HeaderInput, options?: RespondOptions): void;
  respond(
    statusOrHeaders: number | Http2HeaderInput,
    headersOrOptions?: Http2HeaderInput | RespondOptions,
    maybeOptions?: RespondOptions,
  ): void {
    if (this.isResponded) throw new SluiceError(Http2SessionErrors.ALREADY_RESPONDED);
    const pseudo: string[] = [];
    const regular: string[] = [];
    let options: RespondOptions | undefined;
    if (typeof statusOrHeaders === 'number') {
      pseudo.push(':status', String(statusOrHeaders));
      splitHeaderInput(headersOrOptions as Http2HeaderInput | undefined, pseudo, regular);
      options = maybeOptions;
    } else {
      splitHeaderInput(statusOrHeaders, pseudo, regular);
      options = headersOrOptions as RespondOptions | undefined;
    }
    checkStatus(Number(pseudoValue(pseudo, ':status')), false);
    // RFC 9110 §6.6.1; one string per second, so repeated responses still match the header cache.
    if (this.dateClock !== null && !hasField(regular, 'date')) regular.push('date', httpDate(this.dateClock));
    const isEndStream = options?.endStream === true;
    this.http2Stream.sendHeaders(concat(pseudo, regular), isEndStream);
    this.isResponded = true;
    if (isEndStream) {
      this.isEndCalled = true;
      this.events.onResponseEnded();
    }
  }

  /**
   * Sends a 1xx informational response (e.g. 103 Early Hints) before the final one. Throws
   * `HTTP2_ALREADY_RESPONDED` after the final response and `HTTP2_INVALID_HEADERS` for a status
   * outside 1xx, for 101 (not HTTP/2, RFC 9113 §8.6) or a malformed list, before sending anything.
   */
  informational(status: number, headers?: Http2HeaderInput): void {
    if (this.isResponded)
      throw new SluiceError(
        Http2SessionErrors.ALREADY_RESPONDED,
        'an informational response must come before the final one',
      );
    checkStatus(status, true);
    const pseudo = [':status', String(status)];
    const regular: string[] = [];
    splitHeaderInput(headers, pseudo, regular);
    this.http2Stream.sendHeaders(concat(pseudo, regular), false);
  }

  /**
   * Queues body bytes (a string is sent as UTF-8), responding 200 first if `respond` was not
   * called. See the class for the back-pressure contract. Rejects if the stream failed or
   * already ended, and with `HTTP2_INVALID_BODY` (before responding) for a chunk that is
   * neither bytes nor a string.
   */
  write(chunk: Uint8Array | string): Promise<void> {
    try {
      const bytes = toBytes(chunk);
      if (!this.isResponded) this.respond(200);
      const wait = writeChunk(this.http2Stream, bytes);
      return wait === null ? RESOLVED : handled(wait);
    } catch (error) {
      return handled(Promise.reject(this.events.failure ?? error));
    }
  }

  /**
   * Ends the response: an optional last chunk, then END_STREAM, with `trailers` as a final
   * HEADERS frame when given. Responds 200 first if needed. Resolves once END_STREAM was
   * framed; rejects if the stream failed first, and — before sending anything — with
   * `HTTP2_INVALID_BODY` for a bad chunk or `HTTP2_INVALID_HEADERS` for bad trailers. Ending
   * twice resolves at once.
   */
  end(chunk?: Uint8Array | string, trailers?: Http2HeaderInput): Promise<void> {
    if (this.isEndCalled) return RESOLVED;
    try {
      const bytes = chunk === undefined ? null : toBytes(chunk);
      const flatTrailers = this.checkedTrailers(trailers);
      if (!this.isResponded) this.respond(200);
      if (this.isEndCalled) return RESOLVED;
      if (bytes !== null) this.http2Stream.write(bytes);
      let onEnded: (error: Http2StreamFailure | null) => void = noop;
      const ended = new Promise<void>((resolve, reject) => {
        onEnded = (error) => {
          if (error !== null) {
            reject(error);
            return;
          }
          this.events.onResponseEnded();
          resolve();
        };
      });
      // Outside the executor: on a closed stream this throws, and the catch below reports the
      // stream's failure (the peer's reset) as write() does, not the slot error.
      this.http2Stream.end(flatTrailers, onEnded);
      this.isEndCalled = true;
      return handled(ended);
    } catch (error) {
      return handled(Promise.reject(this.events.failure ?? error));
    }
  }

  /**
   * Sends a whole body — bytes, a string, or a (async) iterable such as another stream's
   * `body` — with back-pressure, then ends with optional trailers. Responds 200 first if
   * needed. Rejects if the stream fails or the source throws (the stream is then reset with
   * INTERNAL_ERROR), and with `HTTP2_INVALID_BODY` before responding when `source` is not a
   * body source or an array holding something else than bytes and strings (a chunk a lazy
   * source yields is checked as it comes, after the response began).
   */
  async send(source: Http2BodySource, trailers?: Http2HeaderInput): Promise<void> {
    if (!isBodySource(source))
      throw new SluiceError(
        Http2SessionErrors.INVALID_BODY,
        `a body must be bytes, a string or an iterable of them, got ${typeof source}`,
      );
    // An array's chunks can be checked before the response begins; a lazy source's only as they come.
    if (Array.isArray(source) && !source.every((chunk) => typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      throw new SluiceError(Http2SessionErrors.INVALID_BODY, 'every chunk of a body array is bytes or a string');
    }
    this.checkedTrailers(trailers); // refused before the response begins, not after the body
    if (!this.isResponded) this.respond(200);
    let isComplete: boolean;
    try {
      isComplete = await writeBodySource(this.http2Stream, source);
    } catch (error) {
      if (this.events.failure !== null) throw this.events.failure;
      this.reset(ErrorCode.INTERNAL_ERROR);
      throw error;
    }
    if (!isComplete)
      throw (
        this.events.failure ??
        new SluiceError(Http2SessionErrors.INVALID_BODY, 'the stream closed before the body was sent')
      );
    await this.end(undefined, trailers);
  }

  /** Resets the stream with RST_STREAM(`errorCode`, CANCEL by default); `HTTP2_INVALID_ARGUMENT` for a code that is not one. */
  reset(errorCode: number = ErrorCode.CANCEL): void {
    this.http2Stream.reset(errorCode);
  }

  /**
   * Lifts (`null`) the server's minimum data rates for this request — its body is not timed, and
   * its response does not count toward the connection's response rate (a long poll, a stream
   * proxied to a slow backend) — or times its body at `rate` instead. See
   * `Http2Stream.setMinDataRate`; throws `HTTP2_INVALID_ARGUMENT` for anything else.
   */
  setMinDataRate(rate: MinDataRate | null): void {
    this.http2Stream.setMinDataRate(rate);
  }

  /** Trailers as a flat list, checked (RFC 9113 §8.1: no pseudo-headers); throws `HTTP2_INVALID_HEADERS`. */
  private checkedTrailers(trailers: Http2HeaderInput | undefined): Http2Headers | undefined {
    if (trailers === undefined) return undefined;
    const pseudoTrailers: string[] = [];
    let flatTrailers: string[] = [];
    splitHeaderInput(trailers, pseudoTrailers, flatTrailers);
    // Pseudo-headers are not allowed in trailers: checked with the rest.
    if (pseudoTrailers.length > 0) flatTrailers = concat(pseudoTrailers, flatTrailers);
    assertValidTrailers(flatTrailers, this.id);
    return flatTrailers;
  }
}

/** The stream handler behind a {@link ServerStream}: body, trailers, close notifications. */
class ServerStreamEvents implements Http2StreamHandler {
  readonly trailers: Promise<Http2HeadersObject>;
  failure: Http2StreamFailure | null = null;
  private receivedTrailers: Http2HeadersObject | null = null;
  private settleTrailers: { resolve(trailers: Http2HeadersObject): void; reject(error: unknown): void } | null = null;
  private abortController: AbortController | null = null;
  private closedPromise: Promise<Http2StreamFailure | null> | null = null;
  private resolveClosed: ((error: Http2StreamFailure | null) => void) | null = null;
  private isClosedSeen = false;
  private isResponseEnded = false;
  private isRequestEnded = false;
  private readonly owner: ServerStream;
  private readonly body: Http2Body;

  constructor(owner: ServerStream, body: Http2Body) {
    this.owner = owner;
    this.body = body;
    this.trailers = handled(
      new Promise<Http2HeadersObject>((resolve, reject) => {
        this.settleTrailers = { resolve, reject };
      }),
    );
  }

  get signal(): AbortSignal {
    if (this.abortController === null) {
      this.abortController = new AbortController();
      if (this.failure !== null) this.abortController.abort(this.failure);
    }
    return this.abortController.signal;
  }

  get closed(): Promise<Http2StreamFailure | null> {
    if (this.closedPromise === null) {
      this.closedPromise = this.isClosedSeen
        ? Promise.resolve(this.failure)
        : new Promise<Http2StreamFailure | null>((resolve) => {
            this.resolveClosed = resolve;
          });
    }
    return this.closedPromise;
  }

  onData(_stream: Http2Stream, data: Uint8Array, start: number, end: number): void {
    this.body._push(data, start, end);
  }

  onTrailers(_stream: Http2Stream, headers: Http2Headers): void {
    this.receivedTrailers = headersToObject(headers);
  }

  onEnd(): void {
    if (this.isRequestEnded) return;
    this.isRequestEnded = true;
    this.body._end();
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.resolve(this.receivedTrailers ?? (Object.create(null) as Http2HeadersObject));
  }

  /**
   * Our END_STREAM is out. If the handler never read the request body and it is still coming,
   * ask the client to stop with RST_STREAM(NO_ERROR) (RFC 9113 §8.1) rather than wait for it.
   */
  onResponseEnded(): void {
    this.isResponseEnded = true;
    const stream = this.owner.http2Stream;
    if (!this.isRequestEnded && !this.body.bodyUsed && !stream.isClosed) stream.reset(ErrorCode.NO_ERROR);
  }

  onClose(_stream: Http2Stream, error: Http2StreamFailure | null): void {
    this.isClosedSeen = true;
    // Our own NO_ERROR reset after a complete response is a success.
    const isSuccess =
      error === null ||
      (this.isResponseEnded && error instanceof Http2StreamError && error.errorCode === ErrorCode.NO_ERROR);
    if (!isSuccess) {
      this.failure = error;
      this.body._fail(error);
      const settle = this.settleTrailers;
      this.settleTrailers = null;
      settle?.reject(error);
      this.abortController?.abort(error);
    } else if (!this.isRequestEnded) {
      // We stopped the request body after a complete response: nobody will read the rest.
      this.body.cancel();
      const settle = this.settleTrailers;
      this.settleTrailers = null;
      settle?.reject(error);
    }
    const resolve = this.resolveClosed;
    this.resolveClosed = null;
    resolve?.(this.failure);
  }
}

/**
 * Checks a status given to `respond` (final: not 1xx) or `informational` (1xx), and refuses 101
 * in both (RFC 9113 §8.6). A status that is not a three-digit number is left to the header
 * rules, which refuse it too.
 */
function checkStatus(status: number, isInformational: boolean): void {
  if (typeof status !== 'number' || !Number.isInteger(status)) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_HEADERS,
      `a status is a whole number, not ${status === null ? 'null' : typeof status}`,
    );
  }
  if (status === 101)
    throw new SluiceError(
      Http2ApiErrors.INVALID_HEADERS,
      'status 101 (Switching Protocols) is not allowed in HTTP/2 (RFC 9113 §8.6)',
    );
  const isInformationalStatus = status >= 100 && status <= 199;
  if (isInformational && !isInformationalStatus) {
    throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, `an informational status is 1xx, got ${status}`);
  }
  if (!isInformational && isInformationalStatus) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_HEADERS,
      `respond() sends the final response; send ${status} with informational()`,
    );
  }
}

/** True when the flat list has a field named `name`. */
function hasField(fields: readonly string[], name: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return true;
  return false;
}

function concat(pseudo: string[], regular: readonly string[]): string[] {
  for (let i = 0; i < regular.length; i++) pseudo.push(regular[i]);
  return pseudo;
}

function noop(): void {}
