/**
 * HTTP/2 protocol constants, named as in RFC 9113.
 *
 * @module
 */

/** The client connection preface, RFC 9113 §3.4: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`. */
export const CONNECTION_PREFACE: Uint8Array = new Uint8Array([
  0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53,
  0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
]);

/** Size of every frame header, RFC 9113 §4.1. */
export const FRAME_HEADER_LENGTH = 9;

/** Frame types, RFC 9113 §6. */
export const FrameType = {
  /** DATA carries a stream's body (§6.1). */
  DATA: 0x0,
  /** HEADERS opens a stream and carries a header block fragment (§6.2). */
  HEADERS: 0x1,
  /** PRIORITY, deprecated priority signal (§6.3). */
  PRIORITY: 0x2,
  /** RST_STREAM ends a stream at once (§6.4). */
  RST_STREAM: 0x3,
  /** SETTINGS announces configuration, or acknowledges it (§6.5). */
  SETTINGS: 0x4,
  /** PUSH_PROMISE reserves a pushed stream (§6.6). */
  PUSH_PROMISE: 0x5,
  /** PING measures round trips and checks liveness (§6.7). */
  PING: 0x6,
  /** GOAWAY starts connection shutdown (§6.8). */
  GOAWAY: 0x7,
  /** WINDOW_UPDATE grants flow-control credit (§6.9). */
  WINDOW_UPDATE: 0x8,
  /** CONTINUATION continues a header block (§6.10). */
  CONTINUATION: 0x9,
  /** PRIORITY_UPDATE (RFC 9218 §7.1): a client's priority for a stream, sent on stream 0. */
  PRIORITY_UPDATE: 0x10,
} as const;
/** A frame type code; other values are extension frames. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Frame flags, RFC 9113 §6. The same bit means different things on different frame types. */
export const FrameFlag = {
  /** DATA, HEADERS: the last frame the endpoint sends on the stream. */
  END_STREAM: 0x1,
  /** SETTINGS, PING: this frame acknowledges the peer's. */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION: the header block is complete. */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE: the payload is padded. */
  PADDED: 0x8,
  /** HEADERS: the payload starts with priority fields. */
  PRIORITY: 0x20,
} as const;

/** Setting identifiers, RFC 9113 §6.5.2. */
export const SettingId = {
  /** SETTINGS_HEADER_TABLE_SIZE: the sender's HPACK decoder table size (§6.5.2). */
  HEADER_TABLE_SIZE: 0x1,
  /** SETTINGS_ENABLE_PUSH: whether server push is allowed (§6.5.2). */
  ENABLE_PUSH: 0x2,
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams the receiver may open (§6.5.2). */
  MAX_CONCURRENT_STREAMS: 0x3,
  /** SETTINGS_INITIAL_WINDOW_SIZE: each stream's initial send window (§6.5.2). */
  INITIAL_WINDOW_SIZE: 0x4,
  /** SETTINGS_MAX_FRAME_SIZE: the largest frame payload the sender accepts (§6.5.2). */
  MAX_FRAME_SIZE: 0x5,
  /** SETTINGS_MAX_HEADER_LIST_SIZE: advisory header list limit (§6.5.2). */
  MAX_HEADER_LIST_SIZE: 0x6,
  /** RFC 8441 (extended CONNECT); parsed, not acted on. */
  ENABLE_CONNECT_PROTOCOL: 0x8,
  /** RFC 9218 §2.1. */
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

/** Error codes, RFC 9113 §7. */
export const ErrorCode = {
  /** Graceful shutdown (§7). */
  NO_ERROR: 0x0,
  /** A protocol rule was broken (§7). */
  PROTOCOL_ERROR: 0x1,
  /** An unexpected internal error (§7). */
  INTERNAL_ERROR: 0x2,
  /** Flow control was violated (§7). */
  FLOW_CONTROL_ERROR: 0x3,
  /** SETTINGS were not acknowledged in time (§7). */
  SETTINGS_TIMEOUT: 0x4,
  /** A frame arrived on a half-closed stream (§7). */
  STREAM_CLOSED: 0x5,
  /** A frame had an invalid size (§7). */
  FRAME_SIZE_ERROR: 0x6,
  /** The stream was refused before any processing (§7). */
  REFUSED_STREAM: 0x7,
  /** The stream is no longer needed (§7). */
  CANCEL: 0x8,
  /** The HPACK context cannot be maintained (§7). */
  COMPRESSION_ERROR: 0x9,
  /** A CONNECT tunnel was reset or closed abnormally (§7). */
  CONNECT_ERROR: 0xa,
  /** The peer is generating excessive load (§7). */
  ENHANCE_YOUR_CALM: 0xb,
  /** The TLS properties are below the minimum (§7). */
  INADEQUATE_SECURITY: 0xc,
  /** The endpoint requires HTTP/1.1 (§7). */
  HTTP_1_1_REQUIRED: 0xd,
} as const;
/** An HTTP/2 error code; unknown codes received from a peer are kept as numbers. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const FRAME_TYPE_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, code] of Object.entries(FrameType)) names[code] = name;
  return names;
})();

/**
 * The RFC 9113 name of a frame type (`HEADERS`, …), or `UNKNOWN_0x..` for extension types (and
 * `UNKNOWN` for what is not a number: a formatter for logs never throws).
 */
export function frameTypeName(type: number): string {
  if (typeof type !== 'number') return 'UNKNOWN';
  return FRAME_TYPE_NAMES[type] ?? `UNKNOWN_0x${type.toString(16).padStart(2, '0')}`;
}

/**
 * The RFC name of an error code, or `UNKNOWN_0x..` for codes the RFC does not define (and
 * `UNKNOWN` for what is not a number).
 */
export function errorCodeName(code: number): string {
  if (typeof code !== 'number') return 'UNKNOWN';
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  return `UNKNOWN_0x${code.toString(16)}`;
}

/** Default values of the settings, RFC 9113 §6.5.2. */
export const SETTINGS_DEFAULTS = {
  /** 4096 octets. */
  HEADER_TABLE_SIZE: 4096,
  /** Push allowed until the client says otherwise. */
  ENABLE_PUSH: 1,
  /** No limit until the peer sets one. */
  MAX_CONCURRENT_STREAMS: Infinity,
  /** 2^16 − 1 octets. */
  INITIAL_WINDOW_SIZE: 65_535,
  /** 2^14 octets. */
  MAX_FRAME_SIZE: 16_384,
  /** No limit until the peer sets one. */
  MAX_HEADER_LIST_SIZE: Infinity,
} as const;

/** Largest flow-control window, RFC 9113 §6.9.1: 2^31 − 1. */
export const MAX_WINDOW_SIZE = 0x7fff_ffff;
/** Smallest value of SETTINGS_MAX_FRAME_SIZE, RFC 9113 §6.5.2: 2^14. */
export const MIN_MAX_FRAME_SIZE = 16_384;
/** Largest value of SETTINGS_MAX_FRAME_SIZE, RFC 9113 §6.5.2: 2^24 − 1. */
export const MAX_MAX_FRAME_SIZE = 16_777_215;
/** Largest stream identifier, RFC 9113 §5.1.1: 2^31 − 1. */
export const MAX_STREAM_ID = 0x7fff_ffff;
/** Initial connection flow-control window, RFC 9113 §6.9.2; only WINDOW_UPDATE changes it. */
export const INITIAL_CONNECTION_WINDOW_SIZE = 65_535;

/** The flags each frame type defines, RFC 9113 §6, in bit order. */
const FLAGS_BY_TYPE: ReadonlyArray<ReadonlyArray<readonly [number, string]>> = (() => {
  const table: Array<Array<readonly [number, string]>> = [];
  const endStream = [FrameFlag.END_STREAM, 'END_STREAM'] as const;
  const endHeaders = [FrameFlag.END_HEADERS, 'END_HEADERS'] as const;
  const padded = [FrameFlag.PADDED, 'PADDED'] as const;
  const ack = [FrameFlag.ACK, 'ACK'] as const;
  table[FrameType.DATA] = [endStream, padded];
  table[FrameType.HEADERS] = [endStream, endHeaders, padded, [FrameFlag.PRIORITY, 'PRIORITY']];
  table[FrameType.SETTINGS] = [ack];
  table[FrameType.PUSH_PROMISE] = [endHeaders, padded];
  table[FrameType.PING] = [ack];
  table[FrameType.CONTINUATION] = [endHeaders];
  return table;
})();

/**
 * The flags of a frame by their RFC names joined with `|` (`END_STREAM|END_HEADERS`), bits the
 * type does not define as hex (`0x40`), `-` when none is set, or `?` when either argument is
 * not a number (a formatter for logs never throws).
 */
export function frameFlagNames(type: number, flags: number): string {
  if (typeof type !== 'number' || typeof flags !== 'number') return '?';
  if (flags === 0) return '-';
  const parts: string[] = [];
  let rest = flags;
  for (const [bit, name] of FLAGS_BY_TYPE[type] ?? []) {
    if ((flags & bit) !== 0) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16).padStart(2, '0')}`);
  return parts.join('|');
}
