/**
 * Options of an HTTP/2 connection, with their defaults in one place.
 *
 * @module
 */
import { DEFAULT_MIN_DATA_RATE, type MinDataRate, type SluiceError } from '../../../lib/index.js';
import type { Http2ConnectionError } from '../errors.js';
import type { Http2Stream } from './http2-stream.js';

/**
 * Http2Headers is a header list as a flat array `[name0, value0, name1, value1, …]`: names
 * lowercase, pseudo-headers first, values Latin-1 byte strings. Flat arrays cost one allocation
 * per list instead of one per field, which keeps the fast path fast.
 */
export type Http2Headers = string[];

/**
 * Options of an HTTP/2 connection (both roles); see {@link HTTP2_CONNECTION_DEFAULTS}.
 *
 * An options object is read once, when the first connection is made with it, and the result is
 * shared by every later connection made with the same object (a server's connections carry one
 * copy, not one each): change options by passing a new object, not by editing one in use.
 */
export interface Http2ConnectionOptions {
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS we advertise: streams the peer may open at once. Excess
   * streams are refused with RST_STREAM(REFUSED_STREAM).
   */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: each stream's receive window, bytes. */
  initialStreamWindowSize?: number;
  /** The connection receive window we open at start (RFC 9113 §6.9.2 starts it at 65 535). */
  connectionWindowSize?: number;
  /**
   * When received-and-consumed bytes reach this fraction of a window, a WINDOW_UPDATE returns
   * them (batching: fewer, larger updates).
   */
  windowUpdateRatio?: number;
  /**
   * `auto`: receive windows are returned as soon as data is delivered. `manual`: the
   * application returns credit with `stream.updateWindow(n)` after it consumed data, so a slow
   * consumer slows the peer instead of buffering. Streams can override it.
   */
  windowMode?: 'auto' | 'manual';
  /** SETTINGS_MAX_FRAME_SIZE we advertise: the largest frame payload we accept. */
  maxFrameSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE we advertise: the peer encoder's dynamic table size. */
  headerTableSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce while decoding (name + value + 32 per field). */
  maxHeaderListSize?: number;
  /** Header block bytes (HEADERS + CONTINUATION) buffered before HPACK; more is GOAWAY(ENHANCE_YOUR_CALM). */
  maxHeaderBlockSize?: number;
  /** CONTINUATION frames per header block, empty ones included; more is GOAWAY(ENHANCE_YOUR_CALM). */
  maxContinuationFrames?: number;
  /**
   * Control frames queued and not yet written (answers to a peer that does not read). At half,
   * reading stops until the queue drains; at the limit, GOAWAY(ENHANCE_YOUR_CALM).
   */
  maxQueuedControlFrames?: number;
  /**
   * Recently closed streams remembered — how each closed and what a legal peer may still send on
   * it — to tell a late frame of a legal race from a protocol error (docs/security.md).
   */
  maxClosedStreams?: number;
  /** PINGs we sent and are waiting for. */
  maxOutstandingPings?: number;
  /** Our SETTINGS frames waiting for ACK. */
  maxPendingSettings?: number;
  /** An ACK for our SETTINGS must arrive within this many ms, else GOAWAY(SETTINGS_TIMEOUT). */
  settingsTimeoutMs?: number;
  /** Send a PING after this many ms without reads (0: never). */
  keepAliveIntervalMs?: number;
  /** A keep-alive PING must be answered within this many ms, else the connection closes. */
  keepAliveTimeoutMs?: number;
  /** DATA is not written while the connection send window is below this many bytes (and the stream wants more). */
  minDataSendWindow?: number;
  /** Local requests waiting for the peer's concurrency limit (client). */
  maxPendingStreams?: number;
  /** Stream write buffer level (bytes not yet framed) above which `write` returns false. */
  streamHighWaterMark?: number;
  /** Header names, besides authorization and proxy-authorization, to send never-indexed. */
  sensitiveHeaderNames?: readonly string[];
  /**
   * RST_STREAM frames the peer may send per `abuseIntervalMs` (Rapid Reset, CVE-2023-44487);
   * more is GOAWAY(ENHANCE_YOUR_CALM). 0 disables the limit.
   */
  maxPeerResetsPerInterval?: number;
  /**
   * RST_STREAM frames the peer may make us send per `abuseIntervalMs` by breaking stream rules
   * (MadeYouReset, CVE-2025-8671); more is GOAWAY(ENHANCE_YOUR_CALM). 0 disables the limit.
   */
  maxLocalResetsPerInterval?: number;
  /**
   * Frames that do no useful work — empty DATA without END_STREAM, PRIORITY, unknown types,
   * frames on closed streams — allowed per `abuseIntervalMs` (CVE-2019-9518 and relatives);
   * more is GOAWAY(ENHANCE_YOUR_CALM). 0 disables the limit.
   */
  maxGlitchesPerInterval?: number;
  /** The interval of the three limits above, ms. */
  abuseIntervalMs?: number;
  /** Entries one SETTINGS frame may carry; more is GOAWAY(ENHANCE_YOUR_CALM). */
  maxSettingsEntries?: number;
  /** A header block begun without END_HEADERS must complete within this many ms (GOAWAY(ENHANCE_YOUR_CALM)); 0: no limit. */
  headerBlockTimeoutMs?: number;
  /**
   * A write that the peer has not taken after this many ms closes the connection
   * (`HTTP2_WRITE_TIMEOUT`): a peer that opens windows but never reads cannot hold us; 0: no limit.
   */
  writeTimeoutMs?: number;
  /**
   * Server only: announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in the initial SETTINGS (RFC 8441
   * §3), so clients may open extended CONNECT streams (`:method CONNECT` with `:protocol`, as
   * WebSocket over HTTP/2 does). Off, a request carrying `:protocol` is malformed: RST_STREAM
   * (PROTOCOL_ERROR). The setting is sent once and never withdrawn. A client ignores the option:
   * the setting has no meaning from a client (RFC 8441 §3), so a client never sends it.
   */
  enableConnectProtocol?: boolean;
  /**
   * The order streams write their DATA in: `rfc9218` (the default) by the RFC 9218 priority of
   * each response — urgency first, then non-incremental responses one at a time in request
   * order, then incremental ones in turn; `round-robin` one frame per stream in turn, priorities
   * ignored (docs/http2.md, "Priorities").
   */
  writeScheduler?: 'rfc9218' | 'round-robin';
  /**
   * Server role: the client's preface — its 24 bytes and first SETTINGS — must arrive within this
   * many ms of the connection being accepted (a TLS handshake before it counts), or the
   * connection closes without GOAWAY (`IO_HANDSHAKE_TIMEOUT`): a silent TCP connection, or a
   * preface sent in part, holds nothing for long. 0: no limit. Go's server waits 10 s.
   */
  handshakeTimeoutMs?: number;
  /**
   * Server role: a connection with no stream — none open, none whose work the application still
   * holds — for this many ms closes gracefully: GOAWAY(NO_ERROR), then the final GOAWAY after a
   * PING round trip (RFC 9113 §6.8). A request in flight is never cut; PINGs do not keep a
   * connection busy. 0: never. nginx uses its keep-alive timeout (75 s), h2o 10 s, Kestrel 130 s.
   */
  idleTimeoutMs?: number;
  /**
   * Server role: the rate the peer must take our DATA at, Kestrel's way: timed only while DATA
   * waits for the peer (queued behind a spent flow-control window, or in a message the socket has
   * not taken), never while nothing is queued (an SSE or gRPC stream idle between messages is
   * not timed); credit never banks beyond the grace. Below it the connection is cut with
   * `IO_SEND_RATE_TOO_LOW` (GOAWAY(ENHANCE_YOUR_CALM) when it can still be written). A stream
   * leaves it with `stream.setMinDataRate(null)`. null: no minimum.
   */
  minResponseDataRate?: MinDataRate | null;
  /**
   * Server role: the rate each request body must arrive at while the application reads it (an
   * auto-window stream from HEADERS to END_STREAM; a manual-window one only while the convenient
   * body's reader waits, so a slow application never blames its peer). Below it the stream is
   * reset with RST_STREAM(ENHANCE_YOUR_CALM) and fails with `IO_RECEIVE_RATE_TOO_LOW`.
   * `stream.setMinDataRate` overrides it per stream. null: no minimum.
   */
  minRequestBodyDataRate?: MinDataRate | null;
  /** A peer-initiated stream opened (server: a request). Set the stream's handler here. */
  onStream?: (stream: Http2Stream, headers: Http2Headers, isEndStream: boolean) => void;
  /** The peer sent GOAWAY. */
  onGoaway?: (lastStreamId: number, errorCode: number, debugData: Buffer) => void;
  /** The peer's SETTINGS arrived and were applied. */
  onRemoteSettings?: (settings: Readonly<Http2PeerSettings>) => void;
  /** The connection ended with a connection error (ours or the peer's) or a transport error. */
  onError?: (error: Http2ConnectionError | SluiceError) => void;
  /** The connection's channel has shut down. */
  onClose?: (error: SluiceError | null) => void;
}

/**
 * Defaults of {@link Http2ConnectionOptions}, chosen against nghttp2, Go's x/net/http2 and
 * Kestrel: 100 concurrent streams (nghttp2 and Kestrel 100, Go 250); 1 MiB stream and 4 MiB
 * connection windows (Go 1 MiB / 1 GiB upper bound, Kestrel 768 KiB / 1 MiB) — windows only
 * bound memory in manual mode, where the application holds data; 256 KiB header lists (Go
 * 1 MiB, Kestrel 32 KiB) so 100 KiB cookies pass; 64 CONTINUATION frames; 10 000 queued
 * control frames (nghttp2 caps queued ACKs at 1000 per window of reads); 200 peer resets and
 * 200 forced resets per 30 s (Netty: 200 per 30 s); 1000 glitches per 30 s; 32 settings per
 * frame (nghttp2); 10 s to finish a header block; 30 s for the peer to take a write; a server
 * gives a preface 10 s (Go), closes a connection idle for 75 s (nginx's keep-alive timeout) and
 * wants 240 B/s after a 5 s grace both ways (Kestrel's minimum data rates; docs/security.md); extended
 * CONNECT off (RFC 8441 is opt-in), DATA by RFC 9218 priority.
 */
export const HTTP2_CONNECTION_DEFAULTS: Readonly<Required<Omit<Http2ConnectionOptions, Http2ConnectionCallbackName>>> =
  Object.freeze({
    maxConcurrentStreams: 100,
    initialStreamWindowSize: 1024 * 1024,
    connectionWindowSize: 4 * 1024 * 1024,
    windowUpdateRatio: 0.5,
    windowMode: 'auto',
    maxFrameSize: 16_384,
    headerTableSize: 4096,
    maxHeaderListSize: 256 * 1024,
    maxHeaderBlockSize: 256 * 1024,
    maxContinuationFrames: 64,
    maxQueuedControlFrames: 10_000,
    maxClosedStreams: 1000,
    maxOutstandingPings: 10,
    maxPendingSettings: 10,
    settingsTimeoutMs: 10_000,
    keepAliveIntervalMs: 0,
    keepAliveTimeoutMs: 20_000,
    minDataSendWindow: 256,
    maxPendingStreams: 10_000,
    streamHighWaterMark: 64 * 1024,
    sensitiveHeaderNames: [],
    maxPeerResetsPerInterval: 200,
    maxLocalResetsPerInterval: 200,
    maxGlitchesPerInterval: 1000,
    abuseIntervalMs: 30_000,
    maxSettingsEntries: 32,
    headerBlockTimeoutMs: 10_000,
    writeTimeoutMs: 30_000,
    enableConnectProtocol: false,
    writeScheduler: 'rfc9218',
    handshakeTimeoutMs: 10_000,
    idleTimeoutMs: 75_000,
    minResponseDataRate: DEFAULT_MIN_DATA_RATE,
    minRequestBodyDataRate: DEFAULT_MIN_DATA_RATE,
  });

/** The callback options of {@link Http2ConnectionOptions} (they have no defaults). */
export type Http2ConnectionCallbackName = 'onStream' | 'onGoaway' | 'onRemoteSettings' | 'onError' | 'onClose';

/** The settings the peer announced, RFC 9113 §6.5.2, as this connection applies them. */
export interface Http2PeerSettings {
  /** The peer decoder's dynamic table size (our encoder uses at most this). */
  headerTableSize: number;
  /** Whether the peer accepts server push. */
  enablePush: boolean;
  /** Streams we may open at once. */
  maxConcurrentStreams: number;
  /** Initial send window of each stream. */
  initialWindowSize: number;
  /** Largest frame payload we may send. */
  maxFrameSize: number;
  /** Advisory limit of the header list size the peer accepts. */
  maxHeaderListSize: number;
  /**
   * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): the server accepts extended CONNECT. Only a
   * server's value means anything; a server that sent 1 may not take it back (a client treats 0
   * after 1 as a connection error of type PROTOCOL_ERROR).
   */
  enableConnectProtocol: boolean;
  /**
   * SETTINGS_NO_RFC7540_PRIORITIES = 1 (RFC 9218 §2.1): the peer ignores RFC 7540 priority signals,
   * and (a server) takes RFC 9218 PRIORITY_UPDATE frames.
   */
  noRfc7540Priorities: boolean;
}
