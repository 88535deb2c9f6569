/**
 * HTTP/2 frame encoder: writes whole frames (RFC 9113 §4.1, §6) into a caller-provided buffer.
 *
 * Every `write*` method takes the target buffer and an offset, writes one frame (or, for header
 * blocks, as many whole frames as fit) and returns the offset just past what it wrote. Nothing
 * is allocated per frame: no `Buffer.concat`, no temporary arrays, no closures (the one exception:
 * copying a payload over 64 bytes takes a short-lived `subarray` view, because `Uint8Array#set`
 * then beats a byte loop by far and Node's `Buffer#copy` makes the same view). The caller sizes
 * its space first with the `*FrameLength` helpers; a write that would not fit throws a
 * `RangeError` (a programming error, never a peer's doing) instead of silently truncating, which
 * is what a typed array would do with an out-of-range index.
 *
 * Stream identifiers, error codes and window increments are written as given (the reserved bit is
 * cleared); choosing legal values is the connection layer's job.
 *
 * @module
 */
import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MIN_MAX_FRAME_SIZE,
  SETTINGS_DEFAULTS,
} from './constants.js';
import { copyBytes } from '../../../lib/bytes.js';
import { describeValue } from '../../../lib/argument-checks.js';
import { SluiceError } from '../../../lib/errors.js';
import { Http2ApiErrors } from '../errors.js';

/** Length of a whole PRIORITY frame, header included (RFC 9113 §6.3: 5-byte payload). */
export const PRIORITY_FRAME_LENGTH = FRAME_HEADER_LENGTH + 5;
/** Length of a whole RST_STREAM frame, header included (RFC 9113 §6.4: 4-byte payload). */
export const RST_STREAM_FRAME_LENGTH = FRAME_HEADER_LENGTH + 4;
/** Length of a whole SETTINGS ACK frame (RFC 9113 §6.5: empty payload). */
export const SETTINGS_ACK_FRAME_LENGTH = FRAME_HEADER_LENGTH;
/** Length of a whole PING frame, header included (RFC 9113 §6.7: 8-byte payload). */
export const PING_FRAME_LENGTH = FRAME_HEADER_LENGTH + 8;
/** Length of a whole WINDOW_UPDATE frame, header included (RFC 9113 §6.9: 4-byte payload). */
export const WINDOW_UPDATE_FRAME_LENGTH = FRAME_HEADER_LENGTH + 4;

/**
 * The length of a whole PRIORITY_UPDATE frame (RFC 9218 §7.1) whose Priority Field Value is
 * `valueLength` bytes: the header, the 4-byte Prioritized Stream ID, the value.
 */
export function priorityUpdateFrameLength(valueLength: number): number {
  checkLength('priorityUpdateFrameLength', valueLength);
  return FRAME_HEADER_LENGTH + 4 + valueLength;
}

/**
 * Throws `HTTP2_INVALID_ARGUMENT` unless `length` is a number. The length helpers size a frame
 * before it is written (once per header block or control frame, never per DATA chunk), so a typeof
 * check each is nothing; without it a non-number would size a frame as NaN or a string.
 */
function checkLength(what: string, length: unknown): void {
  if (typeof length !== 'number') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${what}: a length is a number, not ${describeValue(length)}`,
    );
  }
}

/**
 * The length of a whole frame, header included, with a payload of `payloadLength` bytes
 * (CONTINUATION and extension frames).
 */
export function frameLength(payloadLength: number): number {
  checkLength('frameLength', payloadLength);
  return FRAME_HEADER_LENGTH + payloadLength;
}

/**
 * The length of a whole DATA frame carrying `dataLength` bytes; with `padLength` (0–255) the frame
 * is PADDED and also carries the Pad Length byte and `padLength` zero bytes (RFC 9113 §6.1).
 */
export function dataFrameLength(dataLength: number, padLength?: number): number {
  checkLength('dataFrameLength', dataLength);
  checkLength('dataFrameLength', padLength ?? 0);
  return FRAME_HEADER_LENGTH + dataLength + (padLength === undefined ? 0 : 1 + padLength);
}

/**
 * The length of a whole HEADERS frame carrying `fragmentLength` bytes of header block, with the
 * 5 priority bytes when `hasPriority` and padding as for {@link dataFrameLength} (RFC 9113 §6.2).
 */
export function headersFrameLength(fragmentLength: number, hasPriority: boolean, padLength?: number): number {
  checkLength('headersFrameLength', fragmentLength);
  checkLength('headersFrameLength', padLength ?? 0);
  return FRAME_HEADER_LENGTH + fragmentLength + (hasPriority ? 5 : 0) + (padLength === undefined ? 0 : 1 + padLength);
}

/** The length of a whole SETTINGS frame with `count` settings (RFC 9113 §6.5.1: 6 bytes each). */
export function settingsFrameLength(count: number): number {
  checkLength('settingsFrameLength', count);
  return FRAME_HEADER_LENGTH + 6 * count;
}

/**
 * The length of a whole PUSH_PROMISE frame carrying `fragmentLength` bytes of header block
 * (RFC 9113 §6.6: 4-byte promised stream id, optional padding).
 */
export function pushPromiseFrameLength(fragmentLength: number, padLength?: number): number {
  checkLength('pushPromiseFrameLength', fragmentLength);
  checkLength('pushPromiseFrameLength', padLength ?? 0);
  return FRAME_HEADER_LENGTH + 4 + fragmentLength + (padLength === undefined ? 0 : 1 + padLength);
}

/** The length of a whole GOAWAY frame with `debugLength` bytes of debug data (RFC 9113 §6.8). */
export function goawayFrameLength(debugLength: number): number {
  checkLength('goawayFrameLength', debugLength);
  return FRAME_HEADER_LENGTH + 8 + debugLength;
}

/**
 * The total length of the HEADERS + CONTINUATION frames that carry a whole header block of
 * `blockLength` bytes when every frame is filled up to `maxFrameSize` (no priority, no padding).
 * An empty block still takes one HEADERS frame.
 */
export function headerBlockFramesLength(blockLength: number, maxFrameSize: number): number {
  checkLength('headerBlockFramesLength', blockLength);
  checkLength('headerBlockFramesLength', maxFrameSize);
  const frames = blockLength === 0 ? 1 : Math.ceil(blockLength / maxFrameSize);
  return frames * FRAME_HEADER_LENGTH + blockLength;
}

/**
 * Writes a 9-byte frame header (RFC 9113 §4.1) at `offset` and returns `offset + 9`. The reserved
 * bit of the stream identifier is written as 0.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  payloadLength: number,
  type: number,
  flags: number,
  streamId: number,
): number {
  target[offset] = payloadLength >>> 16;
  target[offset + 1] = payloadLength >>> 8;
  target[offset + 2] = payloadLength;
  target[offset + 3] = type;
  target[offset + 4] = flags;
  target[offset + 5] = (streamId >>> 24) & 0x7f;
  target[offset + 6] = streamId >>> 16;
  target[offset + 7] = streamId >>> 8;
  target[offset + 8] = streamId;
  return offset + FRAME_HEADER_LENGTH;
}

/** Writes a big-endian 32-bit value at `offset` and returns `offset + 4`. */
function writeUint32(target: Uint8Array, offset: number, value: number): number {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
  return offset + 4;
}

/** Writes `count` zero bytes of padding (RFC 9113 §6.1: padding octets MUST be zero). */
function writePadding(target: Uint8Array, offset: number, count: number): number {
  for (let i = 0; i < count; i++) target[offset + i] = 0;
  return offset + count;
}

/** Throws when `end` is beyond the target: typed arrays drop such writes silently. */
function checkSpace(target: Uint8Array, end: number): void {
  if (end > target.length) throw new RangeError(`frame does not fit: needs ${end} bytes, target has ${target.length}`);
}

/** Throws when `padLength` is not undefined or an integer 0–255 (it is written in one byte). */
function checkPadLength(padLength: number | undefined): void {
  if (padLength !== undefined && !(padLength >= 0 && padLength <= 255)) {
    throw new RangeError(`padLength must be 0..255, got ${padLength}`);
  }
}

/**
 * FrameEncoder writes HTTP/2 frames for one connection into message buffers.
 *
 * It holds the peer's SETTINGS_MAX_FRAME_SIZE ({@link FrameEncoder.maxFrameSize}), the largest
 * payload it will put in one frame; the connection updates it when the peer's SETTINGS arrive.
 * Methods run synchronously, write only into `target`, and allocate nothing. The target must be
 * a plain `Uint8Array` or `Buffer` the caller owns (typically a pooled message's data).
 */
export class FrameEncoder {
  /**
   * How far the last {@link FrameEncoder.writeHeaderBlock} or {@link FrameEncoder.writePushPromiseBlock}
   * call got in its header block: the block offset to pass to the next call. Equal to the block's
   * length when the block is complete.
   */
  headerBlockOffset = 0;

  /**
   * Whether the last {@link FrameEncoder.writeHeaderBlock} or {@link FrameEncoder.writePushPromiseBlock}
   * call finished its block (the frame with END_HEADERS is written). Unlike comparing
   * {@link FrameEncoder.headerBlockOffset} with the block length, this is also right for an empty block.
   */
  isHeaderBlockComplete = false;

  private peerMaxFrameSize: number;

  /** Creates an encoder; `maxFrameSize` defaults to the RFC default 16 384 (RFC 9113 §6.5.2). */
  constructor(maxFrameSize: number = SETTINGS_DEFAULTS.MAX_FRAME_SIZE) {
    this.peerMaxFrameSize = FrameEncoder.checkMaxFrameSize(maxFrameSize);
  }

  /**
   * The peer's SETTINGS_MAX_FRAME_SIZE: the largest frame payload written. Setting a value outside
   * 2^14..2^24−1 (RFC 9113 §6.5.2) throws `HTTP2_INVALID_ARGUMENT`.
   */
  get maxFrameSize(): number {
    return this.peerMaxFrameSize;
  }

  /** Sets the peer's SETTINGS_MAX_FRAME_SIZE; `HTTP2_INVALID_ARGUMENT` outside 2^14..2^24−1. */
  set maxFrameSize(value: number) {
    this.peerMaxFrameSize = FrameEncoder.checkMaxFrameSize(value);
  }

  private static checkMaxFrameSize(value: number): number {
    if (!Number.isInteger(value) || value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
      throw new SluiceError(
        Http2ApiErrors.INVALID_ARGUMENT,
        `maxFrameSize must be an integer in ${MIN_MAX_FRAME_SIZE}..${MAX_MAX_FRAME_SIZE}, not ${describeValue(value)}`,
      );
    }
    return value;
  }

  private checkPayload(payloadLength: number): void {
    if (payloadLength > this.peerMaxFrameSize) {
      throw new RangeError(
        `frame payload of ${payloadLength} bytes exceeds the peer's max frame size ${this.peerMaxFrameSize}`,
      );
    }
  }

  /**
   * Writes a DATA frame (RFC 9113 §6.1) carrying `length` bytes copied from `src` at `srcOffset`.
   * With `padLength` (0–255) the frame is PADDED; the whole payload (data, Pad Length byte and
   * padding) counts against flow control and must not exceed {@link FrameEncoder.maxFrameSize}.
   * Returns the offset after the frame.
   */
  writeData(
    target: Uint8Array,
    offset: number,
    streamId: number,
    src: Uint8Array,
    srcOffset: number,
    length: number,
    isEndStream: boolean,
    padLength?: number,
  ): number {
    checkPadLength(padLength);
    const payloadLength = padLength === undefined ? length : length + 1 + padLength;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let flags = isEndStream ? FrameFlag.END_STREAM : 0;
    if (padLength !== undefined) flags |= FrameFlag.PADDED;
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.DATA, flags, streamId);
    if (padLength !== undefined) target[at++] = padLength;
    at = copyBytes(target, at, src, srcOffset, srcOffset + length);
    return padLength === undefined ? at : writePadding(target, at, padLength);
  }

  /**
   * Writes one HEADERS frame (RFC 9113 §6.2) carrying `length` bytes of an HPACK-encoded header
   * block from `block` at `blockOffset`. With `priority` the frame carries the deprecated priority
   * fields (RFC 9113 §5.3.2; weight 1–256); with `padLength` it is PADDED. Without `isEndHeaders`
   * the caller must follow it with CONTINUATION frames on the same stream and nothing in between
   * (RFC 9113 §6.10); {@link FrameEncoder.writeHeaderBlock} does that splitting itself.
   * Returns the offset after the frame.
   */
  writeHeaders(
    target: Uint8Array,
    offset: number,
    streamId: number,
    block: Uint8Array,
    blockOffset: number,
    length: number,
    isEndStream: boolean,
    isEndHeaders: boolean,
    priority?: PriorityFields,
    padLength?: number,
  ): number {
    checkPadLength(padLength);
    const payloadLength = headersFrameLength(length, priority !== undefined, padLength) - FRAME_HEADER_LENGTH;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let flags = (isEndStream ? FrameFlag.END_STREAM : 0) | (isEndHeaders ? FrameFlag.END_HEADERS : 0);
    if (padLength !== undefined) flags |= FrameFlag.PADDED;
    if (priority !== undefined) flags |= FrameFlag.PRIORITY;
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.HEADERS, flags, streamId);
    if (padLength !== undefined) target[at++] = padLength;
    if (priority !== undefined) {
      at = writePriorityFields(target, at, priority.streamDependency, priority.weight, priority.isExclusive);
    }
    at = copyBytes(target, at, block, blockOffset, blockOffset + length);
    return padLength === undefined ? at : writePadding(target, at, padLength);
  }

  /**
   * Writes a PRIORITY frame (RFC 9113 §6.3) for `streamId`; `weight` is 1–256 (sent as weight − 1).
   * Returns the offset after the frame ({@link PRIORITY_FRAME_LENGTH} bytes).
   */
  writePriority(
    target: Uint8Array,
    offset: number,
    streamId: number,
    streamDependency: number,
    weight: number,
    isExclusive: boolean,
  ): number {
    checkSpace(target, offset + PRIORITY_FRAME_LENGTH);
    const at = writeFrameHeader(target, offset, 5, FrameType.PRIORITY, 0, streamId);
    return writePriorityFields(target, at, streamDependency, weight, isExclusive);
  }

  /**
   * Writes a RST_STREAM frame (RFC 9113 §6.4) ending `streamId` with `errorCode` (RFC 9113 §7).
   * Returns the offset after the frame ({@link RST_STREAM_FRAME_LENGTH} bytes).
   */
  writeRstStream(target: Uint8Array, offset: number, streamId: number, errorCode: number): number {
    checkSpace(target, offset + RST_STREAM_FRAME_LENGTH);
    const at = writeFrameHeader(target, offset, 4, FrameType.RST_STREAM, 0, streamId);
    return writeUint32(target, at, errorCode);
  }

  /**
   * Writes a SETTINGS frame (RFC 9113 §6.5) with `settings` as `[identifier, value]` pairs, in
   * order, on stream 0. Values are written as unsigned 32-bit numbers. Returns the offset after
   * the frame ({@link settingsFrameLength} bytes).
   */
  writeSettings(target: Uint8Array, offset: number, settings: ReadonlyArray<readonly [number, number]>): number {
    const payloadLength = 6 * settings.length;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.SETTINGS, 0, 0);
    for (let i = 0; i < settings.length; i++) {
      const setting = settings[i];
      target[at] = setting[0] >>> 8;
      target[at + 1] = setting[0];
      at = writeUint32(target, at + 2, setting[1]);
    }
    return at;
  }

  /**
   * Writes a SETTINGS frame with the ACK flag and no payload (RFC 9113 §6.5.3), acknowledging the
   * peer's SETTINGS. Returns the offset after the frame ({@link SETTINGS_ACK_FRAME_LENGTH} bytes).
   */
  writeSettingsAck(target: Uint8Array, offset: number): number {
    checkSpace(target, offset + SETTINGS_ACK_FRAME_LENGTH);
    return writeFrameHeader(target, offset, 0, FrameType.SETTINGS, FrameFlag.ACK, 0);
  }

  /**
   * Writes one PUSH_PROMISE frame (RFC 9113 §6.6) on `streamId` reserving `promisedStreamId`, with
   * `length` bytes of header block from `block` at `blockOffset` and optional padding. Without
   * `isEndHeaders` CONTINUATION frames must follow; {@link FrameEncoder.writePushPromiseBlock}
   * splits a large block itself. Returns the offset after the frame.
   */
  writePushPromise(
    target: Uint8Array,
    offset: number,
    streamId: number,
    promisedStreamId: number,
    block: Uint8Array,
    blockOffset: number,
    length: number,
    isEndHeaders: boolean,
    padLength?: number,
  ): number {
    checkPadLength(padLength);
    const payloadLength = pushPromiseFrameLength(length, padLength) - FRAME_HEADER_LENGTH;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let flags = isEndHeaders ? FrameFlag.END_HEADERS : 0;
    if (padLength !== undefined) flags |= FrameFlag.PADDED;
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.PUSH_PROMISE, flags, streamId);
    if (padLength !== undefined) target[at++] = padLength;
    at = writeUint32(target, at, promisedStreamId & 0x7fff_ffff);
    at = copyBytes(target, at, block, blockOffset, blockOffset + length);
    return padLength === undefined ? at : writePadding(target, at, padLength);
  }

  /**
   * Writes a PING frame (RFC 9113 §6.7) whose 8 opaque bytes are `opaqueHigh` then `opaqueLow`
   * (big-endian 32-bit halves); with `isAck` it answers the peer's PING with the same bytes.
   * Returns the offset after the frame ({@link PING_FRAME_LENGTH} bytes).
   */
  writePing(target: Uint8Array, offset: number, opaqueHigh: number, opaqueLow: number, isAck: boolean): number {
    checkSpace(target, offset + PING_FRAME_LENGTH);
    const at = writeFrameHeader(target, offset, 8, FrameType.PING, isAck ? FrameFlag.ACK : 0, 0);
    return writeUint32(target, writeUint32(target, at, opaqueHigh), opaqueLow);
  }

  /**
   * Writes a GOAWAY frame (RFC 9113 §6.8) with the last stream id this endpoint may process,
   * an error code, and optional debug data (`debugLength` bytes of `debugData` from
   * `debugOffset`, default all of it). Returns the offset after the frame.
   */
  writeGoaway(
    target: Uint8Array,
    offset: number,
    lastStreamId: number,
    errorCode: number,
    debugData?: Uint8Array,
    debugOffset = 0,
    debugLength: number = debugData === undefined ? 0 : debugData.length - debugOffset,
  ): number {
    const payloadLength = 8 + debugLength;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.GOAWAY, 0, 0);
    at = writeUint32(target, at, lastStreamId & 0x7fff_ffff);
    at = writeUint32(target, at, errorCode);
    return debugData === undefined ? at : copyBytes(target, at, debugData, debugOffset, debugOffset + debugLength);
  }

  /**
   * Writes a WINDOW_UPDATE frame (RFC 9113 §6.9) adding `increment` (1..2^31−1) to the window of
   * `streamId`, or of the connection when `streamId` is 0. Returns the offset after the frame
   * ({@link WINDOW_UPDATE_FRAME_LENGTH} bytes).
   */
  writeWindowUpdate(target: Uint8Array, offset: number, streamId: number, increment: number): number {
    checkSpace(target, offset + WINDOW_UPDATE_FRAME_LENGTH);
    const at = writeFrameHeader(target, offset, 4, FrameType.WINDOW_UPDATE, 0, streamId);
    return writeUint32(target, at, increment & 0x7fff_ffff);
  }

  /**
   * Writes a PRIORITY_UPDATE frame (RFC 9218 §7.1) on stream 0 giving `prioritizedStreamId` the
   * priority `value`, a Priority field value in ASCII (`u=0, i`; each char one byte). Only a
   * client sends it. Returns the offset after the frame ({@link priorityUpdateFrameLength} bytes).
   */
  writePriorityUpdate(target: Uint8Array, offset: number, prioritizedStreamId: number, value: string): number {
    const payloadLength = 4 + value.length;
    this.checkPayload(payloadLength);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + payloadLength);
    let at = writeFrameHeader(target, offset, payloadLength, FrameType.PRIORITY_UPDATE, 0, 0);
    at = writeUint32(target, at, prioritizedStreamId & 0x7fff_ffff);
    for (let i = 0; i < value.length; i++) target[at++] = value.charCodeAt(i) & 0xff;
    return at;
  }

  /**
   * Writes one CONTINUATION frame (RFC 9113 §6.10) with `length` bytes of header block from
   * `block` at `blockOffset`. It must directly follow a HEADERS, PUSH_PROMISE or CONTINUATION frame
   * of the same stream without END_HEADERS. Returns the offset after the frame.
   */
  writeContinuation(
    target: Uint8Array,
    offset: number,
    streamId: number,
    block: Uint8Array,
    blockOffset: number,
    length: number,
    isEndHeaders: boolean,
  ): number {
    this.checkPayload(length);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + length);
    const at = writeFrameHeader(
      target,
      offset,
      length,
      FrameType.CONTINUATION,
      isEndHeaders ? FrameFlag.END_HEADERS : 0,
      streamId,
    );
    return copyBytes(target, at, block, blockOffset, blockOffset + length);
  }

  /**
   * Writes a frame of any type, typically an extension frame (RFC 9113 §5.5), with raw `flags` and
   * `length` bytes of payload from `payload` at `payloadOffset`. Returns the offset after the frame.
   */
  writeFrame(
    target: Uint8Array,
    offset: number,
    type: number,
    flags: number,
    streamId: number,
    payload: Uint8Array,
    payloadOffset: number,
    length: number,
  ): number {
    this.checkPayload(length);
    checkSpace(target, offset + FRAME_HEADER_LENGTH + length);
    const at = writeFrameHeader(target, offset, length, type, flags, streamId);
    return copyBytes(target, at, payload, payloadOffset, payloadOffset + length);
  }

  /**
   * Writes as much of a header block as fits before `limit`, as whole frames: a HEADERS frame
   * first (when `blockOffset` is 0), then CONTINUATION frames, each at most
   * {@link FrameEncoder.maxFrameSize} bytes of payload, the last one with END_HEADERS
   * (RFC 9113 §4.3, §6.10). `isEndStream` sets END_STREAM on the HEADERS frame.
   *
   * Emission is resumable: the call returns the offset after what it wrote and leaves in
   * {@link FrameEncoder.headerBlockOffset} how much of `block` is now written. Until
   * {@link FrameEncoder.isHeaderBlockComplete} is true, the caller sends the filled message and calls again with a fresh target
   * and that block offset — writing no other frame on the connection in between, because the peer
   * treats anything between HEADERS and the final CONTINUATION as a connection error. A frame is
   * written only if its header and at least one block byte fit (an empty block needs 9 bytes), so
   * a call may write nothing; it returns `offset` then.
   */
  writeHeaderBlock(
    target: Uint8Array,
    offset: number,
    limit: number,
    streamId: number,
    block: Uint8Array,
    blockOffset: number,
    isEndStream: boolean,
  ): number {
    return this.writeBlockFrames(
      target,
      offset,
      limit,
      FrameType.HEADERS,
      streamId,
      0,
      block,
      blockOffset,
      isEndStream,
    );
  }

  /**
   * Writes as much of a PUSH_PROMISE header block as fits before `limit`: PUSH_PROMISE first (when
   * `blockOffset` is 0) then CONTINUATION frames, resumable exactly like
   * {@link FrameEncoder.writeHeaderBlock}.
   */
  writePushPromiseBlock(
    target: Uint8Array,
    offset: number,
    limit: number,
    streamId: number,
    promisedStreamId: number,
    block: Uint8Array,
    blockOffset: number,
  ): number {
    return this.writeBlockFrames(
      target,
      offset,
      limit,
      FrameType.PUSH_PROMISE,
      streamId,
      promisedStreamId,
      block,
      blockOffset,
      false,
    );
  }

  private writeBlockFrames(
    target: Uint8Array,
    offset: number,
    limit: number,
    firstType: number,
    streamId: number,
    promisedStreamId: number,
    block: Uint8Array,
    blockOffset: number,
    isEndStream: boolean,
  ): number {
    if (limit > target.length) limit = target.length;
    const blockLength = block.length;
    let at = offset;
    let consumed = blockOffset;
    let isFirst = blockOffset === 0;
    // An empty block is a single empty HEADERS/PUSH_PROMISE frame; `isFirst` then ends the loop.
    while (consumed < blockLength || (isFirst && blockLength === 0)) {
      const prefixLength = isFirst && firstType === FrameType.PUSH_PROMISE ? 4 : 0;
      const room = Math.min(limit - at - FRAME_HEADER_LENGTH, this.peerMaxFrameSize) - prefixLength;
      const fragmentLength = Math.min(room, blockLength - consumed);
      if (fragmentLength < 0 || (fragmentLength === 0 && blockLength !== 0)) break;
      const isLast = consumed + fragmentLength === blockLength;
      let flags = isLast ? FrameFlag.END_HEADERS : 0;
      if (isFirst) {
        if (isEndStream) flags |= FrameFlag.END_STREAM;
        at = writeFrameHeader(target, at, prefixLength + fragmentLength, firstType, flags, streamId);
        if (prefixLength !== 0) at = writeUint32(target, at, promisedStreamId & 0x7fff_ffff);
        isFirst = false;
      } else {
        at = writeFrameHeader(target, at, fragmentLength, FrameType.CONTINUATION, flags, streamId);
      }
      at = copyBytes(target, at, block, consumed, consumed + fragmentLength);
      consumed += fragmentLength;
    }
    this.headerBlockOffset = consumed;
    this.isHeaderBlockComplete = consumed === blockLength && (blockLength !== 0 || at !== offset);
    return at;
  }
}

/**
 * PriorityFields are the deprecated priority fields of a HEADERS frame (RFC 9113 §5.3.2, §6.2):
 * the stream depended on, the weight 1–256, and whether the dependency is exclusive.
 */
export interface PriorityFields {
  /** The stream this one depends on (0 for the root). */
  readonly streamDependency: number;
  /** Weight 1–256 (sent on the wire as weight − 1). */
  readonly weight: number;
  /** Whether the dependency is exclusive (the E bit). */
  readonly isExclusive: boolean;
}

function writePriorityFields(
  target: Uint8Array,
  offset: number,
  streamDependency: number,
  weight: number,
  isExclusive: boolean,
): number {
  const dependency = (streamDependency & 0x7fff_ffff) | (isExclusive ? 0x8000_0000 : 0);
  const at = writeUint32(target, offset, dependency);
  target[at] = weight - 1;
  return at + 1;
}
