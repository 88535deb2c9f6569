/**
 * The one-API server stream: {@link HttpServerStream}, what a {@link createServer} handler gets
 * for a request over either protocol, and {@link Http1ServerExchange}, its HTTP/1.1 side over
 * an {@link Http1ServerStream} (the HTTP/2 side is the `ServerStream` of `sluice/http2`).
 *
 * @module
 */
import { SluiceError, type Clock, type MinDataRate } from '../../../lib/index.js';
import {
  Http2ApiErrors,
  Http2Body,
  Http2SessionErrors,
  headersToObject,
  httpDate,
  type Http2BodySource,
  type Http2HeaderInput,
  type Http2HeadersObject,
  type RespondOptions,
} from '../../http2/index.js';
import { handled, toBytes, writeBodySource, writeChunk, type BodyWriteSink } from '../../http2/api/body.js';
import { pseudoValue, splitHeaderInput } from '../../http2/api/header-objects.js';
import type { Http1Fields } from '../wire/message-encoder.js';
import { Http1ServerStream, type Http1ServerStreamHandler } from '../connection/server-stream.js';
import type { Http1WriteCallback } from '../connection/outgoing-message.js';

/** The protocols the one API speaks, by their ALPN names. */
export type HttpProtocol = 'http/1.1' | 'h2';

/**
 * HttpServerStream is one request on a {@link createServer} server, the same over HTTP/1.1 and
 * HTTP/2: the request (`method`, `path`, `authority`, `scheme`, `headers` with the HTTP/2
 * pseudo-headers, `body` as an async iterable, `trailers`) and the response (`respond`,
 * `informational`, `write`, `end(chunk?, trailers?)`, `send`, `reset`). Over HTTP/2 it is a
 * `ServerStream`; over HTTP/1.1 an {@link Http1ServerExchange}. Argument errors carry the same
 * codes on both (`HTTP2_ALREADY_RESPONDED`, `HTTP2_INVALID_HEADERS`, `HTTP2_INVALID_BODY`), so
 * one handler serves both.
 */
export interface HttpServerStream {
  /** The protocol of the request: `'h2'` or `'http/1.1'`. */
  readonly protocol: HttpProtocol;
  /** The method. */
  readonly method: string;
  /** The request target's path and query (`:path`; the request target for HTTP/1.1). */
  readonly path: string;
  /** `:authority` (HTTP/1.1: the `Host` field), empty when absent. */
  readonly authority: string;
  /** `:scheme`: `http` or `https`. */
  readonly scheme: string;
  /** The request headers, names in lower case, pseudo-headers included (made up from the request line on HTTP/1.1). */
  readonly headers: Http2HeadersObject;
  /** The request body; on both protocols the peer is held back by the read window until it is read. */
  readonly body: Http2Body;
  /** The request trailers (`{}` when none), once the body ended; rejects if the request fails. */
  readonly trailers: Promise<Http2HeadersObject>;
  /** True for a HEAD request: the response carries no body. */
  readonly isHead: boolean;
  /** True once the final response head was sent. */
  readonly hasResponded: boolean;
  /** True once the exchange closed (completed or failed). */
  readonly isClosed: boolean;
  /** Aborted when the exchange fails before completing. */
  readonly signal: AbortSignal;
  /** Sends the final response head (status 200–599); see `ServerStream.respond`. */
  respond(status: number, headers?: Http2HeaderInput, options?: RespondOptions): void;
  /** Sends a 1xx response before the final one (not 101). */
  informational(status: number, headers?: Http2HeaderInput): void;
  /** Queues body bytes, responding 200 first if needed; resolves when more may be written. */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Ends the response, with a last chunk and trailers (HTTP/1.1: chunked framing carries them). */
  end(chunk?: Uint8Array | string, trailers?: Http2HeaderInput): Promise<void>;
  /** Sends a whole body source with back-pressure, then ends with optional trailers. */
  send(source: Http2BodySource, trailers?: Http2HeaderInput): Promise<void>;
  /** Fails the exchange (HTTP/2: RST_STREAM; HTTP/1.1: the connection closes). */
  reset(): void;
  /**
   * Lifts (`null`) the server's minimum data rates for this request — its body is not timed and
   * its response does not count toward the response rate (long polls, tunnels) — or times its
   * body at `rate` instead of `minRequestBodyDataRate`. Throws the protocol's `INVALID_ARGUMENT`
   * code for anything else.
   */
  setMinDataRate(rate: MinDataRate | null): void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Http1ServerExchange is the {@link HttpServerStream} of one HTTP/1.1 request. It runs the
 * connection in manual window mode: body credit returns as `body` is read, so an unread body
 * stops the client through TCP. A response without `content-length` is chunked (trailers from
 * `end`) to HTTP/1.1 clients and delimited by the close to HTTP/1.0 ones; a `date` field is
 * added unless the server's `sendDate` is false.
 */
export class Http1ServerExchange implements HttpServerStream {
  /** Always `'http/1.1'`. */
  readonly protocol = 'http/1.1' as const;
  /** The low-level exchange. */
  readonly http1Stream: Http1ServerStream;
  /** The method. */
  readonly method: string;
  /** The request target. */
  readonly path: string;
  /** The `Host` field, empty when absent (HTTP/1.0). */
  readonly authority: string;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The request headers, lower-case names, with `:method`, `:path`, `:scheme` and `:authority`. */
  readonly headers: Http2HeadersObject;
  /** The request head's fields as received, `[name, value, …]`. */
  readonly rawHeaders: Http1Fields;
  /** The request body. */
  readonly body: Http2Body;
  /** The request trailers, once the body ended. */
  readonly trailers: Promise<Http2HeadersObject>;
  private readonly dateClock: Clock | null;
  private readonly events: ExchangeEvents;
  private readonly sink: BodyWriteSink;
  private isResponded = false;
  private isEndCalled = false;

  /** @internal Exchanges are created by the one-API server. */
  constructor(stream: Http1ServerStream, scheme: string, dateClock: Clock | null) {
    if (!(stream instanceof Http1ServerStream)) {
      throw new SluiceError(Http2SessionErrors.INVALID_OPTIONS, 'Http1ServerExchange objects come from createServer');
    }
    this.http1Stream = stream;
    this.scheme = scheme;
    this.dateClock = dateClock;
    this.method = stream.method;
    this.path = stream.target;
    this.authority = stream.header('host') ?? '';
    this.rawHeaders = stream.headers;
    const flat: string[] = [':method', this.method, ':path', this.path, ':scheme', scheme];
    if (this.authority !== '') flat.push(':authority', this.authority);
    const fields = stream.headers;
    for (let i = 0; i + 1 < fields.length; i += 2) flat.push(fields[i].toLowerCase(), fields[i + 1]);
    this.headers = headersToObject(flat);
    this.body = new Http2Body(stream, noop);
    this.events = new ExchangeEvents(this.body);
    this.trailers = this.events.trailers;
    this.sink = {
      get isWritable() {
        return !stream.isClosed && !stream.isEnded;
      },
      write: (chunk: Uint8Array, callback?: Http1WriteCallback) => stream.write(chunk, callback),
    };
    stream.handler = this.events;
  }

  /** True for a HEAD request. */
  get isHead(): boolean {
    return this.method === 'HEAD';
  }

  /** True once the final response head was given. */
  get hasResponded(): boolean {
    return this.isResponded;
  }

  /** True once the exchange closed. */
  get isClosed(): boolean {
    return this.http1Stream.isClosed;
  }

  /** Aborted with the exchange's error when it fails. */
  get signal(): AbortSignal {
    return this.events.signal;
  }

  /**
   * Gives the final response head: `respond(200, { 'content-type': 'text/plain' })` or
   * `respond({ ':status': 200, … })`. Throws `HTTP2_ALREADY_RESPONDED` when given already,
   * `HTTP2_INVALID_HEADERS` for a malformed list or a status outside 200–599, and the
   * connection's errors (`HTTP1_FRAMING_FIELD` for `transfer-encoding`, …) before anything is sent.
   */
  respond(status: number, headers?: Http2HeaderInput, options?: RespondOptions): void;
  /** Gives the final response head from one object with `:status`. */
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
    let status: number;
    if (typeof statusOrHeaders === 'number') {
      status = statusOrHeaders;
      splitHeaderInput(headersOrOptions as Http2HeaderInput | undefined, pseudo, regular);
      options = maybeOptions;
    } else {
      splitHeaderInput(statusOrHeaders, pseudo, regular);
      status = Number(pseudoValue(pseudo, ':status'));
      options = headersOrOptions as RespondOptions | undefined;
    }
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, `a final status is 200–599, got ${String(status)}`);
    }
    if (this.dateClock !== null && !hasField(regular, 'date')) regular.push('date', httpDate(this.dateClock));
    const isEndStream = options?.endStream === true;
    this.http1Stream.respond(status, regular, isEndStream);
    this.isResponded = true;
    if (isEndStream) this.isEndCalled = true;
  }

  /** Sends a 1xx response (not 101); `HTTP2_ALREADY_RESPONDED` after the final one. */
  informational(status: number, headers?: Http2HeaderInput): void {
    if (this.isResponded) throw new SluiceError(Http2SessionErrors.ALREADY_RESPONDED);
    const regular: string[] = [];
    splitHeaderInput(headers, [], regular);
    this.http1Stream.sendInformational(status, regular);
  }

  /** Queues body bytes (strings as UTF-8), responding 200 first; resolves when more may be written. */
  write(chunk: Uint8Array | string): Promise<void> {
    try {
      const bytes = toBytes(chunk);
      if (!this.isResponded) this.respond(200);
      const wait = writeChunk(this.sink, bytes);
      return wait === null ? RESOLVED : handled(wait);
    } catch (error) {
      return handled(Promise.reject(this.events.failure ?? error));
    }
  }

  /** Ends the response with an optional last chunk and trailers; resolves once the end was handed to the socket. */
  end(chunk?: Uint8Array | string, trailers?: Http2HeaderInput): Promise<void> {
    if (this.isEndCalled) return RESOLVED;
    try {
      const bytes = chunk === undefined ? null : toBytes(chunk);
      let flatTrailers: string[] | null = null;
      if (trailers !== undefined) {
        flatTrailers = [];
        const pseudoTrailers: string[] = [];
        splitHeaderInput(trailers, pseudoTrailers, flatTrailers);
        if (pseudoTrailers.length > 0) {
          throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, 'trailers carry no pseudo-headers');
        }
      }
      if (!this.isResponded) this.respond(200);
      if (this.isEndCalled) return RESOLVED;
      if (bytes !== null && bytes.length > 0) this.http1Stream.write(bytes);
      this.isEndCalled = true;
      return handled(
        new Promise<void>((resolve, reject) => {
          this.http1Stream.end(flatTrailers, (error) => (error === null ? resolve() : reject(error)));
        }),
      );
    } catch (error) {
      return handled(Promise.reject(this.events.failure ?? error));
    }
  }

  /** Sends a whole body (bytes, a string, a (async) iterable) with back-pressure, then ends. */
  async send(source: Http2BodySource, trailers?: Http2HeaderInput): Promise<void> {
    if (!this.isResponded) this.respond(200);
    let isComplete: boolean;
    try {
      isComplete = await writeBodySource(this.sink, source);
    } catch (error) {
      if (this.events.failure !== null) throw this.events.failure;
      this.reset();
      throw error;
    }
    if (!isComplete)
      throw (
        this.events.failure ??
        new SluiceError(Http2SessionErrors.INVALID_BODY, 'the exchange closed before the body was sent')
      );
    await this.end(undefined, trailers);
  }

  /** Fails the exchange; HTTP/1.1 cannot drop one exchange, so its connection closes. */
  reset(): void {
    if (!this.http1Stream.isClosed) this.http1Stream.reset();
  }

  /** See {@link HttpServerStream.setMinDataRate} (`Http1ServerStream.setMinDataRate`). */
  setMinDataRate(rate: MinDataRate | null): void {
    this.http1Stream.setMinDataRate(rate);
  }
}

/** The low-level handler behind an exchange: body, trailers, failure. */
class ExchangeEvents implements Http1ServerStreamHandler {
  readonly trailers: Promise<Http2HeadersObject>;
  failure: SluiceError | null = null;
  private receivedTrailers: Http2HeadersObject | null = null;
  private settleTrailers: { resolve(trailers: Http2HeadersObject): void; reject(error: unknown): void } | null = null;
  private abortController: AbortController | null = null;
  private readonly body: Http2Body;

  constructor(body: Http2Body) {
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

  onData(_stream: Http1ServerStream, data: Uint8Array, start: number, end: number): void {
    this.body._push(data, start, end);
  }

  onTrailers(_stream: Http1ServerStream, trailers: Http1Fields): void {
    const lowered: string[] = [];
    for (let i = 0; i + 1 < trailers.length; i += 2) lowered.push(trailers[i].toLowerCase(), trailers[i + 1]);
    this.receivedTrailers = headersToObject(lowered);
  }

  onEnd(): void {
    this.body._end();
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.resolve(this.receivedTrailers ?? (Object.create(null) as Http2HeadersObject));
  }

  onClose(_stream: Http1ServerStream, error: SluiceError | null): void {
    if (error === null) return;
    this.failure = error;
    this.body._fail(error);
    const settle = this.settleTrailers;
    this.settleTrailers = null;
    settle?.reject(error);
    this.abortController?.abort(error);
  }
}

/** True when the flat list has a field named `name` (any case). */
function hasField(fields: readonly string[], name: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if (fields[i].toLowerCase() === name) return true;
  return false;
}

function noop(): void {}
