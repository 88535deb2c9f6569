/**
 * What the HTTP/2 frame decoder reports, frame by frame, to the layer above it.
 *
 * @module
 */
import type { Http2StreamError } from '../errors.js';

/**
 * FramePriority is the deprecated priority information of a HEADERS frame (RFC 9113 §5.3.2,
 * §6.2). The decoder passes one reused instance; read it during the callback only.
 */
export interface FramePriority {
  /** The stream depended on (0 for the root). */
  streamDependency: number;
  /** Weight 1–256 (the wire value plus one). */
  weight: number;
  /** Whether the dependency is exclusive (the E bit). */
  isExclusive: boolean;
}

/**
 * FrameListener receives the frames a {@link FrameDecoder} decodes, synchronously from inside
 * {@link FrameDecoder.decode}, in wire order.
 *
 * Byte ranges (`data`, `start`, `end`) are views of the chunk passed to `decode()` or of the
 * decoder's internal buffers: they are valid only until the callback returns. Copy what you keep.
 * A listener method that throws makes `decode()` throw the same exception; the rest of that chunk
 * is not decoded and the decoder must not be used again (the connection is torn down).
 * Callbacks must not call `decode()` re-entrantly.
 */
export interface FrameListener {
  /**
   * DATA payload (RFC 9113 §6.1) of `streamId`, delivered incrementally: one frame may arrive as
   * several calls, in order, the last with `isFrameEnd`. `flowControlledLength` is how many bytes
   * of the frame's payload this call accounts for flow control (RFC 9113 §6.9): the data bytes
   * plus any Pad Length byte and padding; over all calls of one frame it sums to the frame's
   * length. A padded frame's padding is reported with the last call, which may carry no data.
   * `isEndStream` (END_STREAM) is true only on the frame's last call. Every DATA frame, even an
   * empty one, produces at least one call.
   */
  onData(
    streamId: number,
    data: Uint8Array,
    start: number,
    end: number,
    flowControlledLength: number,
    isFrameEnd: boolean,
    isEndStream: boolean,
  ): void;

  /**
   * A complete header block of `streamId` (HEADERS plus any CONTINUATION frames, RFC 9113 §4.3),
   * delivered once END_HEADERS arrives, as `block[start..end)`. `priority` is the HEADERS frame's
   * priority fields, or null; a reused object.
   */
  onHeaders(
    streamId: number,
    block: Uint8Array,
    start: number,
    end: number,
    isEndStream: boolean,
    priority: FramePriority | null,
  ): void;

  /** A PRIORITY frame (RFC 9113 §6.3); `weight` is 1–256. Deprecated by RFC 9113; most ignore it. */
  onPriority(streamId: number, streamDependency: number, weight: number, isExclusive: boolean): void;

  /** A RST_STREAM frame (RFC 9113 §6.4) ending `streamId` with `errorCode`. */
  onRstStream(streamId: number, errorCode: number): void;

  /**
   * A SETTINGS frame (RFC 9113 §6.5). `settings` is a reused flat array of identifier/value pairs
   * `[id0, value0, id1, value1, …]` in wire order (apply in order: a later value wins), holding only
   * settings this decoder knows ({@link SettingId}); unknown ones are ignored (RFC 9113 §6.5.2).
   * Every value is already range-checked. For an ACK, `settings` is empty and `isAck` is true.
   */
  onSettings(settings: readonly number[], isAck: boolean): void;

  /**
   * A complete PUSH_PROMISE header block (RFC 9113 §6.6) on `streamId` reserving
   * `promisedStreamId`, delivered once END_HEADERS arrives.
   */
  onPushPromise(streamId: number, promisedStreamId: number, block: Uint8Array, start: number, end: number): void;

  /** A PING frame (RFC 9113 §6.7); its 8 opaque bytes as two big-endian unsigned 32-bit halves. */
  onPing(opaqueHigh: number, opaqueLow: number, isAck: boolean): void;

  /** A GOAWAY frame (RFC 9113 §6.8); the debug data is `debugData[start..end)`. */
  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void;

  /** A WINDOW_UPDATE frame (RFC 9113 §6.9) with a non-zero increment; `streamId` 0 is the connection. */
  onWindowUpdate(streamId: number, increment: number): void;

  /**
   * A PRIORITY_UPDATE frame (RFC 9218 §7.1, server role only): the client's new priority for
   * `prioritizedStreamId` (never 0), its Priority Field Value as ASCII bytes `value[start..end)`.
   * The decoder has checked what the frame alone tells (stream 0, at least 4 bytes, a non-zero
   * id, a client as sender); whether the stream may be prioritized is the connection's business.
   * Optional: without it the frame is checked and dropped.
   */
  onPriorityUpdate?(prioritizedStreamId: number, value: Uint8Array, start: number, end: number): void;

  /**
   * A stream error found in a frame (RFC 9113 §5.4.2): the connection should reset that stream.
   * Decoding continues with the next frame. A HEADERS frame whose priority makes the stream depend
   * on itself is reported here first, and its header block is still delivered afterwards, because
   * the block must be decoded to keep the HPACK state in sync (RFC 9113 §4.3).
   */
  onStreamError(error: Http2StreamError): void;

  /**
   * A frame of an unknown (extension) type, RFC 9113 §5.5. Optional: without it such frames are
   * skipped unread.
   */
  onUnknownFrame?(type: number, flags: number, streamId: number, payload: Uint8Array, start: number, end: number): void;
}
