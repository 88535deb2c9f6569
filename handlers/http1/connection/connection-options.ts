/**
 * Options of the HTTP/1.1 connections, with their defaults in one place.
 *
 * @module
 */
import { DEFAULT_MIN_DATA_RATE, type MinDataRate, type SluiceError } from '../../../lib/index.js';
import type { MessageParserOptions } from '../wire/message-parser.js';
import type { Http1ServerStream } from './server-stream.js';
import type { Http1ClientConnection } from './client-connection.js';
import type { Http1Upgrade } from './upgrade.js';

/** The defaults of {@link Http1ServerConnectionOptions}. */
export const HTTP1_SERVER_DEFAULTS = Object.freeze({
  /**
   * The first request line must arrive within 10 s of the connection being accepted (TLS
   * included): Go's HTTP/2 server gives its preface 10 s, h2o its handshakes 10 s.
   */
  handshakeTimeoutMs: 10_000,
  /** The peer takes response bytes at 240 B/s after a 5 s grace (Kestrel's `MinResponseDataRate`). */
  minResponseDataRate: DEFAULT_MIN_DATA_RATE,
  /** A request body read by the application comes at 240 B/s after a 5 s grace (Kestrel's `MinRequestBodyDataRate`). */
  minRequestBodyDataRate: DEFAULT_MIN_DATA_RATE,
  /** Close a keep-alive connection after 5 s without a request (node:http's `keepAliveTimeout`). */
  idleTimeoutMs: 5_000,
  /** A request head must arrive whole within 20 s of its first byte (slowloris). */
  headerTimeoutMs: 20_000,
  /** Requests read ahead of their responses; reading stops (read back-pressure) at this many. */
  maxPipelinedRequests: 16,
  /** Bytes the socket may deliver before the connection returns them: bounds unread request body. */
  readWindowSize: 64 * 1024,
  /** A request body up to this size is read and dropped after a final response sent without 100 Continue; larger, the connection closes. */
  maxDrainBodySize: 64 * 1024,
  /** Buffered response bytes above which `write` returns false. */
  highWaterMark: 64 * 1024,
});

/** The defaults of {@link Http1ClientConnectionOptions}. */
export const HTTP1_CLIENT_DEFAULTS = Object.freeze({
  /** Send the body anyway when neither 100 Continue nor a final status came within 1 s (RFC 9110 §10.1.1). */
  continueTimeoutMs: 1_000,
  /** Bytes the socket may deliver before the connection returns them: bounds unread response body. */
  readWindowSize: 64 * 1024,
  /** Buffered request bytes above which `write` returns false. */
  highWaterMark: 64 * 1024,
});

/**
 * Options of an {@link Http1ServerConnection}. Every limit has a safe default. The figures are read
 * and checked once per options object, when the first connection is made with it, and shared by
 * the connections given the same object (a listener's): give a new object to change them.
 */
export interface Http1ServerConnectionOptions {
  /**
   * Called for each request once its head is read and checked, in request order, synchronously on
   * the connection's loop. Set `stream.handler` here to receive the body; answer with
   * `stream.respond` now or later. Pipelined requests may arrive before earlier ones are answered:
   * responses are written in request order whatever order they are given in. A throw fails this
   * request's exchange and closes the connection.
   */
  onRequest: (stream: Http1ServerStream) => void;
  /** Close an idle keep-alive connection after this many ms; 0 disables. Default {@link HTTP1_SERVER_DEFAULTS}. */
  idleTimeoutMs?: number;
  /** Time a request head may take from its first byte (answered by closing); 0 disables. */
  headerTimeoutMs?: number;
  /**
   * The first request line must arrive within this many ms of the connection being accepted (a
   * TLS handshake before it counts), or the connection closes with `IO_HANDSHAKE_TIMEOUT`; until
   * then the idle timeout does not apply. 0 disables (the idle timeout then covers a silent
   * connection). Default {@link HTTP1_SERVER_DEFAULTS}.
   */
  handshakeTimeoutMs?: number;
  /**
   * The rate the peer must take response bytes at, timed only while response bytes wait for it
   * (buffered, or in a write the socket has not taken): below it the connection closes with
   * `IO_SEND_RATE_TOO_LOW`. `stream.setMinDataRate(null)` lifts it for one exchange. null: none.
   */
  minResponseDataRate?: MinDataRate | null;
  /**
   * The rate a request body must arrive at while the application reads it (without
   * `isManualWindow`, as it is delivered; with it, only while the convenient body's reader waits,
   * so an application that stops reading never blames its peer). Below it the request fails with
   * `IO_RECEIVE_RATE_TOO_LOW`: 408 and `Connection: close` if no response began, else the
   * connection closes. `stream.setMinDataRate` overrides it per exchange. null: none.
   */
  minRequestBodyDataRate?: MinDataRate | null;
  /** Requests accepted ahead of their responses before reading stops; at least 1. */
  maxPipelinedRequests?: number;
  /** The connection's read window in bytes (at least 1024). */
  readWindowSize?: number;
  /**
   * Body credit is returned only when the application calls `stream.updateWindow(n)` (as HTTP/2's
   * manual window mode), so a slow consumer stops the peer through TCP. Default false: returned
   * as delivered.
   */
  isManualWindow?: boolean;
  /** See {@link HTTP1_SERVER_DEFAULTS}.maxDrainBodySize. */
  maxDrainBodySize?: number;
  /** Buffered response bytes above which `write` returns false. */
  highWaterMark?: number;
  /** Limits of the request parser (start line, header block, field count, body size…). */
  parser?: MessageParserOptions;
  /**
   * The protocols a request may switch the connection to with `Upgrade` (RFC 9110 §7.8), e.g.
   * `h2cUpgrade(…)`; none by default (every request is served as HTTP/1.1). A request's `Upgrade`
   * tokens are tried in its order of preference, each against the upgrades of that `protocol` in
   * this order. The list is read, not copied: connections may share one; do not change it.
   */
  upgrades?: readonly Http1Upgrade[];
  /** A connection-level failure (a write error, a parse error, a timeout, a failed upgrade). Not called for a normal close. */
  onError?: (error: SluiceError) => void;
}

/** Options of an {@link Http1ClientConnection}. */
export interface Http1ClientConnectionOptions {
  /** The `Host` written on requests that carry none (RFC 9112 §3.2). */
  host?: string;
  /** See {@link HTTP1_CLIENT_DEFAULTS}.continueTimeoutMs. */
  continueTimeoutMs?: number;
  /** The connection's read window in bytes (at least 1024). */
  readWindowSize?: number;
  /** Body credit is returned only by `stream.updateWindow(n)`; default false. */
  isManualWindow?: boolean;
  /** Buffered request bytes above which `write` returns false. */
  highWaterMark?: number;
  /** Limits of the response parser. */
  parser?: MessageParserOptions;
  /** The connection finished an exchange and can carry another request (keep-alive). */
  onReusable?: (connection: Http1ClientConnection) => void;
  /** The connection closed (after its last exchange, or with the error that closed it). */
  onClose?: (connection: Http1ClientConnection, error: SluiceError | null) => void;
}

/** Reads a numeric option with its default and a minimum; throws a RangeError otherwise. */
export function numberOption(name: string, value: number | undefined, fallback: number, minimum: number): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'number' || Number.isNaN(chosen) || chosen < minimum) {
    throw new RangeError(`${name} must be a number of at least ${minimum}, got ${String(value)}`);
  }
  return chosen;
}
