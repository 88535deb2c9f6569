/**
 * The CLI's routes over HTTP/1.1: {@link Http1RouteStream} presents an {@link Http1ServerStream}
 * as the {@link RouteStream} the routes answer on (the slice of `Http2Stream` they use), so
 * `sluice serve` answers both protocols with one set of routes.
 *
 * @module
 */
import type { Clock, Http1ServerStream, SluiceError } from '../../handlers/index.js';
import type { RouteStream, RouteStreamHandler } from './routes.js';

let nextExchangeId = 1;

/**
 * Http1RouteStream is one HTTP/1.1 exchange as a {@link RouteStream}: `sendHeaders` gives the
 * response head (`:status` and the fields; pseudo-headers dropped), `write`/`end` the body
 * (framed by the connection: by length or chunked), `reset` fails the exchange (the connection
 * closes), and `handler` receives the request body. The connection runs in manual window mode,
 * so `updateWindow` returns credit for body bytes as the route consumed them.
 */
export class Http1RouteStream implements RouteStream {
  /** A process-wide exchange number, for log lines. */
  readonly id = nextExchangeId++;
  /** The connection loop's clock. */
  readonly clock: Clock;
  private readonly stream: Http1ServerStream;
  private routeHandler: RouteStreamHandler = {};

  constructor(stream: Http1ServerStream, clock: Clock) {
    this.stream = stream;
    this.clock = clock;
  }

  /** The request head as an HTTP/2-style flat list: pseudo-headers first, lower-case names. */
  static headersOf(stream: Http1ServerStream): string[] {
    const headers = [':method', stream.method, ':path', stream.target];
    const host = stream.header('host');
    if (host !== undefined) headers.push(':authority', host);
    const fields = stream.headers;
    for (let i = 0; i + 1 < fields.length; i += 2) headers.push(fields[i].toLowerCase(), fields[i + 1]);
    return headers;
  }

  get isWritable(): boolean {
    return !this.stream.isClosed && !this.stream.isEnded;
  }

  /** Always true: `sluice serve` runs its HTTP/1.1 connections in manual window mode. */
  get isManualWindow(): boolean {
    return true;
  }

  /** Accepted for the routes' sake: the connection is in manual window mode already. */
  set isManualWindow(_value: boolean) {}

  get handler(): RouteStreamHandler {
    return this.routeHandler;
  }

  set handler(handler: RouteStreamHandler) {
    this.routeHandler = handler;
    this.stream.handler = {
      onData: (_stream, data, start, end) => handler.onData?.(this, data, start, end),
      onEnd: () => handler.onEnd?.(this),
      onDrain: () => handler.onDrain?.(this),
      onClose: (_stream, error) => handler.onClose?.(this, error),
    };
  }

  sendHeaders(headers: readonly string[], isEndStream = false): void {
    let status = 200;
    const fields: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i];
      if (name === ':status') status = Number(headers[i + 1]);
      else if (!name.startsWith(':')) fields.push(name, headers[i + 1]);
    }
    this.stream.respond(status, fields, isEndStream);
  }

  write(chunk: Uint8Array, callback?: (error: SluiceError | null) => void): boolean {
    return this.stream.write(chunk, callback);
  }

  end(): void {
    this.stream.end();
  }

  updateWindow(size: number): void {
    this.stream.updateWindow(size);
  }

  reset(): void {
    if (!this.stream.isClosed) this.stream.reset();
  }
}
