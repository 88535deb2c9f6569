/**
 * The one-API client: `connect(url, { protocol })` resolves with an {@link Http2Session} or an
 * {@link Http1Session}, both with `request(headers, init)` resolving a response with an
 * async-iterable body. For `https:` URLs `'auto'` negotiates by ALPN (h2 first); for `http:`
 * URLs `'auto'` is HTTP/1.1 and `'h2'` is prior knowledge. The client never sends `Upgrade: h2c`.
 *
 * @module
 */
import { isIP } from 'node:net';
import { ClientBootstrap, SluiceError, type BootstrapOptions, type Channel } from '../../../lib/index.js';
import { parseUrl } from '../../../lib/url.js';
import { TlsErrors, nativeTlsTransport } from '../../tls/index.js';
import {
  Http2Body,
  Http2ClientConnection,
  Http2Session,
  Http2SessionErrors,
  connect as connectHttp2Session,
  headersToObject,
  type Http2ConnectionOptions,
  type Http2HeaderInput,
  type Http2HeadersObject,
  type Http2RequestInit,
  type Http2SessionOptions,
} from '../../http2/index.js';
import { handled, isBodySource, writeBodySource, type BodyWriteSink } from '../../http2/api/body.js';
import { pseudoValue, splitHeaderInput } from '../../http2/api/header-objects.js';
import { connectHttp1, type ConnectHttp1Options, type Http1ClientTlsOptions } from './bootstrap.js';
import { Http1ClientConnection, type Http1ClientStream } from '../connection/client-connection.js';
import type { Http1ClientConnectionOptions } from '../connection/connection-options.js';
import type { Http1Fields } from '../wire/message-encoder.js';
import type { HttpProtocol } from './server-exchange.js';
import { Http1ConnectionErrors } from '../errors.js';

/** What {@link connect} speaks: `'auto'` (the default), `'h2'` or `'http/1.1'`. */
export type HttpProtocolChoice = 'auto' | HttpProtocol;

/** Options of {@link connect}. */
export interface HttpConnectOptions extends Http2SessionOptions {
  /**
   * The protocol. `'auto'` (default): for `https:` ALPN chooses, h2 preferred; for `http:`
   * HTTP/1.1 (as curl, undici and Go do). `'h2'`: HTTP/2 only — prior knowledge on `http:`,
   * ALPN h2 required on `https:`. `'http/1.1'`: HTTP/1.1 only.
   */
  protocol?: HttpProtocolChoice;
  /** Options of each HTTP/1.1 connection (windows, limits, …); `host` is the URL's. */
  http1?: Omit<Http1ClientConnectionOptions, 'isManualWindow' | 'onReusable' | 'onClose'>;
}

/** A session of either protocol; `protocol` tells which. */
export type HttpSession = Http2Session | Http1Session;

/**
 * Connects to `url` and resolves with a session of the protocol chosen (see
 * {@link HttpConnectOptions.protocol}). Rejects with the connect error (`IO_CONNECTION_REFUSED`,
 * `TLS_ALPN_MISMATCH`, …), `HTTP2_UNSUPPORTED_SCHEME` for a scheme other than http and https,
 * and `HTTP2_INVALID_OPTIONS` for an unknown `protocol`.
 *
 * @example
 * ```ts
 * const session = await connect('https://example.com'); // h2 or http/1.1, by ALPN
 * const response = await session.request({ ':path': '/' });
 * console.log(session.protocol, response.status, await response.body.text());
 * await session.close();
 * ```
 */
export async function connect(url: string | URL, options: HttpConnectOptions = {}): Promise<HttpSession> {
  const target = parseUrl(url, 'connect(url)');
  if (typeof options !== 'object' || options === null) {
    throw new SluiceError(Http2SessionErrors.INVALID_OPTIONS, 'connect(url, options): options are an object');
  }
  const { protocol = 'auto', http1, ...http2Options } = options;
  if (protocol !== 'auto' && protocol !== 'h2' && protocol !== 'http/1.1') {
    throw new SluiceError(
      Http2SessionErrors.INVALID_OPTIONS,
      `connect(url, options): protocol is 'auto', 'h2' or 'http/1.1', not ${String(protocol)}`,
    );
  }
  const isSecure = target.protocol === 'https:';
  if (!isSecure && target.protocol !== 'http:') {
    throw new SluiceError(Http2SessionErrors.UNSUPPORTED_SCHEME, `unsupported URL scheme '${target.protocol}'`);
  }
  if (protocol === 'h2') return connectHttp2Session(target, http2Options);
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = target.port === '' ? (isSecure ? 443 : 80) : Number(target.port);
  const { tls, http2, ...bootstrapOptions } = http2Options;
  const tlsOptions: Http1ClientTlsOptions | undefined = isSecure
    ? { ...(isIP(host) === 0 ? { servername: host } : {}), ...tls }
    : undefined;
  const http1Options: ConnectHttp1Options = {
    ...bootstrapOptions,
    host,
    port,
    http1: { host: target.host, ...http1, isManualWindow: true },
  };
  if (tlsOptions !== undefined) http1Options.tls = tlsOptions;
  if (protocol === 'http/1.1' || !isSecure) {
    const connection = await connectHttp1(http1Options);
    return new Http1Session(connection, http1Options, isSecure ? 'https' : 'http', target.host);
  }
  const negotiated = await connectNegotiated(http1Options, http2);
  if (negotiated instanceof Http2ClientConnection) return new Http2Session(negotiated, 'https', target.host);
  return new Http1Session(negotiated, http1Options, 'https', target.host);
}

/** Connects over TLS offering ALPN h2 and http/1.1, and installs the connection the server chose. */
async function connectNegotiated(
  options: ConnectHttp1Options,
  http2: Http2ConnectionOptions | undefined,
): Promise<Http2ClientConnection | Http1ClientConnection> {
  let installed: Http2ClientConnection | Http1ClientConnection | null = null;
  let markInstalled!: () => void;
  const whenInstalled = new Promise<void>((resolve) => (markInstalled = resolve));
  const bootstrapOptions: BootstrapOptions = { ...options };
  bootstrapOptions.transport = nativeTlsTransport({
    ...options.tls,
    role: 'client',
    ALPNProtocols: ['h2', 'http/1.1'],
    onNegotiated: (slot, protocol) => {
      installed =
        protocol === 'h2' ? new Http2ClientConnection(http2) : new Http1ClientConnection({ ...options.http1 });
      slot.channel.appendHandler(installed);
      markInstalled();
    },
  });
  const pipeline = (channel: Channel): void => options.pipeline?.(channel);
  const channel = await new ClientBootstrap(bootstrapOptions).connect({ ...options, pipeline });
  const outcome = await Promise.race([
    whenInstalled.then(() => null),
    channel.whenShutdown.then((error) => error ?? new SluiceError(TlsErrors.CLOSED)),
  ]);
  if (outcome !== null || installed === null) throw outcome ?? new SluiceError(TlsErrors.CLOSED);
  return installed;
}

/** Http1Response is a final response on an {@link Http1Session}, shaped like an HTTP/2 response. */
export interface Http1Response {
  /** The status code. */
  readonly status: number;
  /** The response headers, lower-case names, with `:status`. */
  readonly headers: Http2HeadersObject;
  /** The response head's fields as received, `[name, value, …]`. */
  readonly rawHeaders: Http1Fields;
  /** The body; credit returns to the server only as it is read. Read or cancel it: the connection serves the next request only after it. */
  readonly body: Http2Body;
  /** The trailers (`{}` when none) once the body ended; rejects if the exchange fails. */
  readonly trailers: Promise<Http2HeadersObject>;
}

/** One request waiting for the connection. */
interface QueuedRequest {
  headers: Http2HeaderInput;
  init: Http2RequestInit;
  resolve(response: Http1Response): void;
  reject(error: unknown): void;
}

/**
 * Http1Session is the HTTP/1.1 side of {@link connect}: `request` with the same shape as
 * {@link Http2Session.request}. HTTP/1.1 carries one exchange at a time per connection, so
 * requests run one after another over one keep-alive connection (a new one is opened when the
 * server closed it); a response body must be read (or canceled) before the next request goes.
 * For many requests in parallel use several sessions or the connection manager of `sluice/sdk`.
 */
export class Http1Session {
  /** Always `'http/1.1'`. */
  readonly protocol = 'http/1.1' as const;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The `Host` of requests (the URL's host and port). */
  readonly authority: string;
  private connection: Http1ClientConnection;
  private readonly options: ConnectHttp1Options;
  private readonly queue: QueuedRequest[] = [];
  private isBusy = false;
  private isClosing = false;
  /** Called once no request runs or waits (for `close`). */
  private onIdle: (() => void)[] = [];

  /** @internal Sessions come from {@link connect}. */
  constructor(connection: Http1ClientConnection, options: ConnectHttp1Options, scheme: string, authority: string) {
    if (!(connection instanceof Http1ClientConnection)) {
      throw new SluiceError(Http2SessionErrors.INVALID_OPTIONS, 'Http1Session objects come from connect');
    }
    this.connection = connection;
    this.options = options;
    this.scheme = scheme;
    this.authority = authority;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.isClosing;
  }

  /**
   * Sends a request and resolves with the response once its head arrives. `headers` as for
   * HTTP/2 (`:method`, `:path` or `init.method`/`init.path`; other pseudo-headers are dropped,
   * `:authority` becomes `Host`). Rejects with the connection's error (`HTTP1_…`;
   * `HTTP1_CONNECTION_CLOSED` after `close()`), with `HTTP2_INVALID_OPTIONS` for bad options, or
   * with what the body source threw.
   */
  request(headers: Http2HeaderInput = {}, init: Http2RequestInit = {}): Promise<Http1Response> {
    if (typeof init !== 'object' || init === null) {
      return Promise.reject(new SluiceError(Http2SessionErrors.INVALID_OPTIONS, 'request init is an object'));
    }
    if (init.body !== undefined && init.body !== null && !isBodySource(init.body)) {
      return Promise.reject(
        new SluiceError(Http2SessionErrors.INVALID_BODY, 'a body is bytes, a string or an iterable'),
      );
    }
    if (this.isClosing) {
      return Promise.reject(new SluiceError(Http1ConnectionErrors.CONNECTION_CLOSED, 'the session was closed'));
    }
    return new Promise<Http1Response>((resolve, reject) => {
      this.queue.push({ headers, init, resolve, reject });
      this.pump();
    });
  }

  /** Closes once the queued requests finished; requests made after `close` reject. */
  async close(): Promise<void> {
    this.isClosing = true;
    if (this.isBusy || this.queue.length > 0) await new Promise<void>((resolve) => this.onIdle.push(resolve));
    const channel = this.connection.channel;
    this.connection.close();
    if (channel !== null) await channel.whenShutdown;
  }

  private pump(): void {
    if (this.isBusy) return;
    const next = this.queue.shift();
    if (next === undefined) {
      const waiting = this.onIdle;
      this.onIdle = [];
      for (const resolve of waiting) resolve();
      return;
    }
    this.isBusy = true;
    void this.run(next).finally(() => {
      this.isBusy = false;
      this.pump();
    });
  }

  private async run(request: QueuedRequest): Promise<void> {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    try {
      if (!this.connection.isReusable) this.connection = await connectHttp1(this.options);
      this.start(request, done);
    } catch (error) {
      request.reject(error);
      done();
    }
    await finished;
  }

  private start(request: QueuedRequest, done: () => void): void {
    const pseudo: string[] = [];
    const regular: string[] = [];
    splitHeaderInput(request.headers, pseudo, regular);
    const init = request.init;
    const method = init.method ?? pseudoValue(pseudo, ':method') ?? 'GET';
    const path = init.path ?? pseudoValue(pseudo, ':path') ?? '/';
    const authority = pseudoValue(pseudo, ':authority') ?? this.authority;
    const fields: string[] = [];
    let hasHost = false;
    for (let i = 0; i < regular.length; i += 2) if (regular[i].toLowerCase() === 'host') hasHost = true;
    if (!hasHost) fields.push('host', authority);
    for (let i = 0; i < regular.length; i++) fields.push(regular[i]);
    const body = init.body;
    const hasBody = body !== undefined && body !== null;
    let resolveTrailers!: (trailers: Http2HeadersObject) => void;
    let rejectTrailers!: (error: unknown) => void;
    const trailers = handled(
      new Promise<Http2HeadersObject>((resolve, reject) => {
        resolveTrailers = resolve;
        rejectTrailers = reject;
      }),
    );
    let responseBody: Http2Body | null = null;
    let receivedTrailers: Http2HeadersObject | null = null;
    let isResponded = false;
    const stream: Http1ClientStream = this.connection.request(method, path, fields, {
      isEndStream: !hasBody && init.trailers === undefined,
      handler: {
        onInformational: (_stream, status, informationalFields) =>
          init.onInformational?.(status, lowerObject(informationalFields)),
        onResponse: (clientStream, status, responseFields) => {
          isResponded = true;
          responseBody = new Http2Body(clientStream, noop);
          const headers = lowerObject(responseFields);
          headers[':status'] = String(status);
          request.resolve({ status, headers, rawHeaders: responseFields, body: responseBody, trailers });
        },
        onData: (_stream, data, start, end) => responseBody?._push(data, start, end),
        onTrailers: (_stream, trailerFields) => (receivedTrailers = lowerObject(trailerFields)),
        onEnd: () => {
          responseBody?._end();
          resolveTrailers(receivedTrailers ?? (Object.create(null) as Http2HeadersObject));
        },
        onClose: (_stream, error) => {
          if (error !== null) {
            if (!isResponded) request.reject(error);
            responseBody?._fail(error);
            rejectTrailers(error);
          }
          done();
        },
      },
    });
    const signal = init.signal;
    if (signal !== undefined) {
      const abort = (): void => {
        if (!stream.isClosed) stream.reset(new SluiceError(Http2SessionErrors.ABORTED, 'the request was aborted'));
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    }
    if (!hasBody && init.trailers === undefined) return;
    const sink: BodyWriteSink = {
      get isWritable() {
        return !stream.isClosed;
      },
      write: (chunk, callback) => stream.write(chunk, callback),
    };
    let requestTrailers: string[] | null = null;
    if (init.trailers !== undefined) {
      requestTrailers = [];
      splitHeaderInput(init.trailers, [], requestTrailers);
    }
    void (async () => {
      try {
        if (hasBody && !(await writeBodySource(sink, body))) return;
        if (!stream.isClosed) stream.end(requestTrailers);
      } catch (error) {
        if (!stream.isClosed) stream.reset();
        if (!isResponded) request.reject(error);
      }
    })();
  }
}

/** A flat field list as an object with lower-case names. */
function lowerObject(fields: Http1Fields): Http2HeadersObject {
  const lowered: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) lowered.push(fields[i].toLowerCase(), fields[i + 1]);
  return headersToObject(lowered);
}

function noop(): void {}
