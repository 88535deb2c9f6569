/**
 * The client role of an HTTP/2 connection.
 *
 * @module
 */
import { log, LogLevel, SluiceError, Task } from '../../../lib/index.js';
import type { Http2ConnectionOptions, Http2Headers, Http2PeerSettings } from './connection-options.js';
import { ErrorCode } from '../wire/constants.js';
import { HeaderBlockKind, validateHeaderBlock } from './header-rules.js';
import { SUMMARY } from './header-state.js';
import { EXPLICIT_PRIORITY, checkedRank, type Http2Priority } from './priority.js';
import { requestRank } from './priority-signals.js';
import { Http2ApiErrors, Http2StreamError } from '../errors.js';
import { Http2Connection } from './http2-connection.js';
import { StreamState, type Http2Stream, type Http2StreamHandler } from './http2-stream.js';

/** Options of one request on an {@link Http2ClientConnection}. */
export interface Http2RequestOptions {
  /** The stream's callbacks. */
  handler?: Http2StreamHandler;
  /** True when the request has no body: END_STREAM goes with the HEADERS. */
  isEndStream?: boolean;
  /** Return receive credit manually with `stream.updateWindow` (overrides the connection's mode). */
  isManualWindow?: boolean;
  /**
   * The response's priority (RFC 9218): sent as the request's `priority` field (replacing one in
   * the headers); change it later with `stream.setPriority`. Without it, a `priority` field in
   * the headers is sent as it is (and read as the stream's priority).
   */
  priority?: Partial<Http2Priority>;
}

/**
 * Gets the server's settings once its first SETTINGS frame was applied (`error` null), or the
 * connection's error if it ended first (`settings` then holds the RFC defaults).
 */
export type RemoteSettingsCallback = (error: SluiceError | null, settings: Readonly<Http2PeerSettings>) => void;

interface PendingStream {
  readonly stream: Http2Stream;
  readonly headers: Http2Headers;
  readonly isEndStream: boolean;
}

/**
 * Http2ClientConnection is the client side of one HTTP/2 connection. `request` opens a stream
 * (or queues it while the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached) and returns it
 * at once; the response arrives through the stream's handler.
 *
 * @example
 * ```ts
 * const stream = connection.request(
 *   [':method', 'GET', ':scheme', 'http', ':authority', 'localhost', ':path', '/'],
 *   { isEndStream: true, handler: {
 *     onResponse: (s, headers) => console.log(headers),
 *     onData: (s, data, start, end) => process.stdout.write(data.subarray(start, end)),
 *     onClose: (s, error) => console.log('done', error?.code ?? 'ok'),
 *   } },
 * );
 * ```
 */
export class Http2ClientConnection extends Http2Connection {
  /** Always `client`. */
  get role(): 'client' {
    // A getter, not a field: the same for every connection, so none keeps it (8 octets each).
    return 'client';
  }
  private readonly pending: PendingStream[] = [];
  private isRemoteSettingsReceived = false;
  /** Callbacks waiting for the server's first SETTINGS; made by the first wait. */
  private settingsWaiters: RemoteSettingsCallback[] | null = null;

  /** Creates a client connection; install it in a channel slot. */
  constructor(options: Http2ConnectionOptions = {}) {
    super(options, false);
  }

  /** Streams waiting for the server's concurrency limit. */
  get pendingStreamCount(): number {
    return this.pending.length;
  }

  /**
   * Sends a request: `headers` is a flat list with the four request pseudo-headers first.
   * Throws `HTTP2_INVALID_HEADERS` for a malformed list, `HTTP2_INVALID_ARGUMENT` for a bad
   * `priority`, `HTTP2_CONNECTION_CLOSED` on a closed
   * connection, `HTTP2_TOO_MANY_PENDING_STREAMS` beyond `maxPendingStreams`. After a GOAWAY,
   * or once stream ids run out, the stream closes at once with a retryable
   * {@link Http2StreamError} (REFUSED_STREAM) — retry on a new connection.
   */
  request(headers: Http2Headers, options: Http2RequestOptions = {}): Http2Stream {
    this.assertOpen();
    // RFC 8441 §3: `:protocol` only once the server's SETTINGS enabled extended CONNECT.
    const violation = validateHeaderBlock(
      headers,
      HeaderBlockKind.REQUEST,
      this.peerSettings.enableConnectProtocol,
      SUMMARY,
    );
    if (violation !== null) throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, violation);
    const rank =
      options.priority === undefined
        ? requestRank(SUMMARY.priority)
        : checkedRank(options.priority, 'request') | EXPLICIT_PRIORITY;
    const stream = this.lifecycle.newStream(0, true);
    stream._priority = rank;
    if (options.handler !== undefined) stream.handler = options.handler;
    if (options.isManualWindow !== undefined) stream.isManualWindow = options.isManualWindow;
    stream._isHead = headers[1] === 'HEAD' || methodOf(headers) === 'HEAD';
    const isEndStream = options.isEndStream ?? false;
    if (this.isGoingAway || !this.lifecycle.hasStreamIdsLeft) {
      this.refuseLocally(
        stream,
        this.lifecycle.hasStreamIdsLeft ? 'the connection is going away' : 'stream identifiers exhausted',
      );
      return stream;
    }
    if (this.lifecycle.activeLocalStreams >= this.peerSettings.maxConcurrentStreams || this.pending.length > 0) {
      if (this.pending.length >= this.options.maxPendingStreams)
        throw new SluiceError(Http2ApiErrors.TOO_MANY_PENDING_STREAMS);
      this.pending.push({ stream, headers, isEndStream });
      return stream;
    }
    this.lifecycle.openLocal(stream, headers, isEndStream);
    // The last stream id is used (RFC 9113 §5.1.1): finish what is open, then close; the caller
    // opens a fresh connection for new requests (they fail retryably here).
    if (!this.lifecycle.hasStreamIdsLeft) void this.close();
    return stream;
  }

  /**
   * True once the server's first SETTINGS frame was applied (RFC 9113 §3.4: it opens the server's
   * preface). Until then {@link Http2Connection.peerSettings} holds the RFC defaults — for
   * instance `enableConnectProtocol` false even for a server that will enable it (RFC 8441 §3).
   */
  get hasRemoteSettings(): boolean {
    return this.isRemoteSettingsReceived;
  }

  /**
   * Calls `callback` on a later turn once the server's first SETTINGS were applied (at once if
   * they were), or with the connection's error (`HTTP2_CONNECTION_CLOSED` when it has none) if the
   * connection ends first. A callback that throws is logged and changes nothing.
   */
  onceRemoteSettings(callback: RemoteSettingsCallback): void {
    if (typeof callback !== 'function') {
      throw new SluiceError(Http2ApiErrors.INVALID_ARGUMENT, 'onceRemoteSettings(callback): callback is a function');
    }
    if (this.isRemoteSettingsReceived) {
      queueMicrotask(() => callSettingsWaiter(callback, null, this.peerSettings));
      return;
    }
    const slot = this.channelSlot;
    if (slot !== null && slot.channel.isShutDown) {
      const error = slot.channel.shutdownError ?? new SluiceError(Http2ApiErrors.CONNECTION_CLOSED);
      queueMicrotask(() => callSettingsWaiter(callback, error, this.peerSettings));
      return;
    }
    (this.settingsWaiters ??= []).push(callback);
  }

  /** @internal */
  override hasPendingLocalStreams(): boolean {
    return this.pending.length > 0;
  }

  /** @internal */
  override onPeerSettingsApplied(): void {
    if (!this.isRemoteSettingsReceived) {
      this.isRemoteSettingsReceived = true;
      this.settleSettingsWaiters(null);
    }
    this.openPending();
  }

  /** Also tells whoever still waits for the server's SETTINGS that they will not come. */
  override destroy(): void {
    super.destroy();
    this.settleSettingsWaiters(
      this.channelSlot?.channel.shutdownError ?? new SluiceError(Http2ApiErrors.CONNECTION_CLOSED),
    );
  }

  private settleSettingsWaiters(error: SluiceError | null): void {
    const waiters = this.settingsWaiters;
    if (waiters === null) return;
    this.settingsWaiters = null;
    for (const waiter of waiters) callSettingsWaiter(waiter, error, this.peerSettings);
  }

  /** @internal */
  override onStreamClosed(stream: Http2Stream): void {
    if (stream.isLocal) this.openPending();
  }

  /** @internal Waiting streams fail retryably: the server will not take new ones. */
  override onGoawayReceived(): void {
    for (const { stream } of this.pending.splice(0)) this.refuseLocally(stream, 'the peer sent GOAWAY');
  }

  private openPending(): void {
    while (this.pending.length > 0 && this.lifecycle.activeLocalStreams < this.peerSettings.maxConcurrentStreams) {
      if (this.isGoingAway || !this.lifecycle.hasStreamIdsLeft) {
        this.onGoawayReceived();
        return;
      }
      const next = this.pending.shift()!;
      if (next.stream.state === StreamState.CLOSED) continue;
      this.lifecycle.openLocal(next.stream, next.headers, next.isEndStream);
    }
  }

  private refuseLocally(stream: Http2Stream, reason: string): void {
    const error = new Http2StreamError(0, ErrorCode.REFUSED_STREAM, `request not sent: ${reason}`, { retryable: true });
    // Reported on a later turn, like every stream event, so the caller has its stream first: a
    // task of the connection's loop, not a microtask, so it runs in the loop's order (on a
    // virtual loop a microtask ran only after the test's run had ended: simulator seed 8).
    // The loop's task, not the channel's: a channel shutting down cancels its own, and the
    // stream must close either way.
    const close = (): void => this.closeStream(stream, error, 0);
    const loop = this.slot?.channel.loop;
    if (loop === undefined) queueMicrotask(close);
    else loop.scheduleNow(new Task(close, 'http2-refuse-stream'));
  }
}

function callSettingsWaiter(
  callback: RemoteSettingsCallback,
  error: SluiceError | null,
  settings: Readonly<Http2PeerSettings>,
): void {
  try {
    callback(error, settings);
  } catch (thrown) {
    // The SETTINGS frame is the connection's, not the callback's: it goes on.
    if (log.level >= LogLevel.WARN) {
      log.log(LogLevel.WARN, 'http2-connection', `a remote-settings callback threw: ${String(thrown)}`);
    }
  }
}

function methodOf(headers: Http2Headers): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === ':method') return headers[i + 1];
  return '';
}
