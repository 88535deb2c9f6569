/**
 * HTTP/2 frame decoder: a byte-streaming state machine (RFC 9113 §3.4, §4, §6) that accepts its
 * input split at any byte.
 *
 * The decoder has explicit named states, one method per state, and a loop in
 * {@link FrameDecoder.decode} that advances while bytes remain. It validates what a frame alone
 * tells (lengths, flags, stream-id rules, CONTINUATION ordering, padding, setting ranges) and
 * reports each frame to a {@link FrameListener}. Stream states (idle, closed, …), flow-control
 * windows and HPACK are the connection layer's job.
 *
 * Hot path: no object is allocated per frame. DATA is delivered as it arrives, as a range of the
 * chunk given to `decode()`; a header block that arrives whole in one chunk is delivered from
 * that chunk without copying; other payloads are parsed in place when whole, and otherwise
 * gathered in a reusable buffer.
 *
 * @module
 */
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MIN_MAX_FRAME_SIZE,
  SETTINGS_DEFAULTS,
} from './constants.js';
import { readSettingsPayload } from './settings-payload.js';
import { Http2ApiErrors, Http2ConnectionError, Http2StreamError } from '../errors.js';
import { checkOptionalOptions, checkRequiredOptions, describeValue } from '../../../lib/argument-checks.js';
import { SluiceError } from '../../../lib/errors.js';

export type { FrameListener, FramePriority } from './frame-listener.js';
import type { FrameListener, FramePriority } from './frame-listener.js';

/** Options of a {@link FrameDecoder}; defaults are in {@link FRAME_DECODER_DEFAULTS}. */
export interface FrameDecoderOptions {
  /**
   * Which side this endpoint is. A server first expects the client's 24-byte connection preface
   * (RFC 9113 §3.4) and rejects PUSH_PROMISE (RFC 9113 §8.4); a client rejects SETTINGS_ENABLE_PUSH
   * of 1 (RFC 9113 §6.5.2).
   */
  role?: 'client' | 'server';
  /**
   * Whether the first frame must be a SETTINGS frame without ACK, the peer's preface (RFC 9113 §3.4).
   */
  requireSettingsFirst?: boolean;
  /** Our SETTINGS_MAX_FRAME_SIZE: larger frames are a connection FRAME_SIZE_ERROR (RFC 9113 §4.2). */
  maxFrameSize?: number;
  /**
   * The most header block bytes (all fragments of one HEADERS or PUSH_PROMISE block) buffered;
   * a larger block is a connection ENHANCE_YOUR_CALM. See {@link FrameDecoder}.
   */
  maxHeaderBlockSize?: number;
  /**
   * The most CONTINUATION frames (empty ones included) in one header block; more is a connection
   * ENHANCE_YOUR_CALM (the CONTINUATION flood, CVE-2024-27316 and relatives).
   */
  maxContinuationFrames?: number;
}

/** The defaults of {@link FrameDecoderOptions}. */
export const FRAME_DECODER_DEFAULTS = {
  /** Client role. */
  role: 'client',
  /** The first frame must be SETTINGS. */
  requireSettingsFirst: true,
  /** The RFC default, 16 384. */
  maxFrameSize: SETTINGS_DEFAULTS.MAX_FRAME_SIZE,
  /** 256 KiB: room for very large cookies, bounded memory per connection. */
  maxHeaderBlockSize: 262_144,
  /** A 256 KiB block in 16 KiB frames needs 15; this leaves room for peers using smaller frames. */
  maxContinuationFrames: 64,
} as const;

// Decoder states; one method each.
/** Matching the 24-byte client connection preface (server role). */
const PREFACE = 0;
/** Reading a 9-byte frame header. */
const FRAME_HEADER = 1;
/** Reading the Pad Length byte of a PADDED DATA frame. */
const DATA_PAD_LENGTH = 2;
/** Delivering DATA bytes as they arrive. */
const DATA_PAYLOAD = 3;
/** Skipping the padding after a DATA payload or header block fragment. */
const PADDING = 4;
/** Reading the fields before a header block fragment: Pad Length, priority, promised stream id. */
const BLOCK_PREFIX = 5;
/** Gathering a header block fragment. */
const BLOCK_FRAGMENT = 6;
/** Gathering the payload of a small frame (SETTINGS, PING, GOAWAY, …). */
const PAYLOAD = 7;
/** Skipping the rest of a frame (a stream error, or an extension frame nobody listens to). */
const SKIP = 8;

type DecoderState =
  | typeof PREFACE
  | typeof FRAME_HEADER
  | typeof DATA_PAD_LENGTH
  | typeof DATA_PAYLOAD
  | typeof PADDING
  | typeof BLOCK_PREFIX
  | typeof BLOCK_FRAGMENT
  | typeof PAYLOAD
  | typeof SKIP;

const EMPTY = new Uint8Array(0);
/** A header block buffer grown beyond this is dropped after its block is delivered. */
const RETAINED_BLOCK_BUFFER_SIZE = 16_384;

/**
 * The pairs of the SETTINGS frame being reported, shared by every decoder: listeners get it only
 * for the length of their `onSettings` call (see {@link FrameListener.onSettings}), so one array
 * serves all connections instead of one each (40 octets per idle connection). Null while in use.
 */
let sharedSettings: number[] | null = [];

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * The part of a {@link FrameDecoder}'s state that only input split across chunks (or a HEADERS
 * frame with priority fields, or PUSH_PROMISE) needs. A decoder makes it by the first such need
 * and keeps it; an idle connection whose frames arrived whole (most) holds none, and a field
 * costs every connection 8 octets.
 */
class RareDecoderState {
  /**
   * Gathers a frame header split across chunks, and later the fields before a header block
   * fragment (never both at once). Allocated the first time it is needed.
   */
  scratch: Uint8Array = EMPTY;
  /** Small-frame payloads, gathered when split. */
  payloadBuffer: Uint8Array = EMPTY;
  /** The header block being gathered (its length is the decoder's `blockLength`). */
  blockBuffer: Uint8Array = EMPTY;
  /** PUSH_PROMISE: the promised stream id, from the fields before its fragment. */
  promisedStreamId = 0;
  /** Reused for every HEADERS frame with priority fields; made by the first. */
  priority: FramePriority | null = null;
}

/**
 * FrameDecoder turns the bytes a peer sends into {@link FrameListener} calls, for one connection.
 *
 * Errors (RFC 9113 §5.4): a connection error makes {@link FrameDecoder.decode} throw an
 * {@link Http2ConnectionError} carrying the RFC error code; the decoder then stays failed and
 * every later `decode()` throws the same error. A stream error is passed to
 * {@link FrameListener.onStreamError} and decoding goes on after the offending frame. On no input
 * does `decode()` throw anything else (listener exceptions aside).
 *
 * Header block limits: a block larger than `maxHeaderBlockSize` is a connection error of type
 * ENHANCE_YOUR_CALM. It is not a stream error because a block that is not decoded leaves the HPACK
 * context out of sync (RFC 9113 §4.3), and the decoder will not buffer it; not PROTOCOL_ERROR
 * because the peer broke no rule (SETTINGS_MAX_HEADER_LIST_SIZE is advisory, RFC 9113 §10.5.1):
 * it exceeded what we are willing to hold, which is what ENHANCE_YOUR_CALM says (RFC 9113 §7).
 */
export class FrameDecoder {
  private readonly listener: FrameListener;
  private readonly isServer: boolean;
  private ourMaxFrameSize: number;
  private readonly maxHeaderBlockSize: number;
  private readonly maxContinuationFrames: number;

  private state: DecoderState;
  private failure: Http2ConnectionError | null = null;
  private isAwaitingSettings: boolean;

  /** What only input split across chunks and rarer frames need: made by the first such need. */
  private rare: RareDecoderState | null = null;

  /**
   * Bytes gathered of the part being read when it arrives split: the preface, a frame header, a
   * header block's prefix fields or a small frame's payload. One field for all four (an idle
   * connection keeps every field): each state starts it at 0 and leaves it at 0.
   */
  private filled = 0;

  // The current frame's header.
  private frameLength = 0;
  private frameType = 0;
  private frameFlags = 0;
  private streamId = 0;

  /** Bytes left in the current state's part of the frame. */
  private remaining = 0;
  /** Padding bytes still to skip once the DATA payload or fragment is read. */
  private paddingRemaining = 0;
  /** DATA: flow-controlled bytes (Pad Length byte, padding) not yet reported. */
  private unreportedFlow = 0;

  /** Fields before a header block fragment (at most 1 + 5 bytes), gathered in `scratch`. */
  private prefixLength = 0;

  // The header block being gathered.
  private blockLength = 0;
  /** The stream whose CONTINUATION must come next; 0 when no header block is open. */
  private continuationStreamId = 0;
  private continuationCount = 0;
  private blockType = 0;
  private blockIsEndStream = false;
  private blockHasPriority = false;

  /** Creates a decoder reporting to `listener`; options default to {@link FRAME_DECODER_DEFAULTS}. */
  constructor(listener: FrameListener, options: FrameDecoderOptions = {}) {
    checkRequiredOptions(listener, 'new FrameDecoder(listener)', Http2ApiErrors.INVALID_ARGUMENT);
    checkOptionalOptions(options, 'new FrameDecoder', Http2ApiErrors.INVALID_ARGUMENT);
    this.listener = listener;
    this.isServer = (options.role ?? FRAME_DECODER_DEFAULTS.role) === 'server';
    this.ourMaxFrameSize = checkMaxFrameSize(options.maxFrameSize ?? FRAME_DECODER_DEFAULTS.maxFrameSize);
    this.maxHeaderBlockSize = options.maxHeaderBlockSize ?? FRAME_DECODER_DEFAULTS.maxHeaderBlockSize;
    this.maxContinuationFrames = options.maxContinuationFrames ?? FRAME_DECODER_DEFAULTS.maxContinuationFrames;
    this.isAwaitingSettings = options.requireSettingsFirst ?? FRAME_DECODER_DEFAULTS.requireSettingsFirst;
    this.state = this.isServer ? PREFACE : FRAME_HEADER;
  }

  /**
   * Our SETTINGS_MAX_FRAME_SIZE, the largest frame payload accepted. Raise it when the peer ACKs
   * SETTINGS that change it (RFC 9113 §6.5.3); it applies from the next frame header. Setting a
   * value outside 2^14..2^24−1 throws `HTTP2_INVALID_ARGUMENT`.
   */
  get maxFrameSize(): number {
    return this.ourMaxFrameSize;
  }

  /** Sets our SETTINGS_MAX_FRAME_SIZE (from the next frame header on). */
  set maxFrameSize(value: number) {
    this.ourMaxFrameSize = checkMaxFrameSize(value);
  }

  /** The connection error the decoder failed with, or null while it is healthy. */
  get error(): Http2ConnectionError | null {
    return this.failure;
  }

  /**
   * Whether the decoder sits between frames (the preface, if expected, is done and no frame is
   * partly read): the peer may close the connection here without truncating a frame.
   */
  get isAtFrameBoundary(): boolean {
    return this.state === FRAME_HEADER && this.filled === 0 && this.continuationStreamId === 0;
  }

  /**
   * Whether a header block is open: HEADERS or PUSH_PROMISE arrived without END_HEADERS (or its
   * first frame is partly read) and CONTINUATION frames are still due. The connection times such
   * a block out.
   */
  get isInHeaderBlock(): boolean {
    return this.continuationStreamId !== 0 || this.state === BLOCK_PREFIX || this.state === BLOCK_FRAGMENT;
  }

  /**
   * Decodes the next bytes of the connection — `chunk[start..end)`, so a caller need not cut a
   * view — in any split, calling the listener for each frame
   * as it completes (DATA as it arrives). Throws {@link Http2ConnectionError} on a connection error,
   * and again on every call after one.
   */
  decode(chunk: Uint8Array, start = 0, end: number = chunk.length): void {
    if (this.failure !== null) throw this.failure;
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case FRAME_HEADER:
          pos = this.readFrameHeader(chunk, pos, end);
          break;
        case DATA_PAYLOAD:
          pos = this.readDataPayload(chunk, pos, end);
          break;
        case BLOCK_FRAGMENT:
          pos = this.readBlockFragment(chunk, pos, end);
          break;
        case PAYLOAD:
          pos = this.readPayload(chunk, pos, end);
          break;
        case DATA_PAD_LENGTH:
          pos = this.readDataPadLength(chunk, pos);
          break;
        case PADDING:
          pos = this.readPadding(chunk, pos, end);
          break;
        case BLOCK_PREFIX:
          pos = this.readBlockPrefix(chunk, pos, end);
          break;
        case SKIP:
          pos = this.readSkip(pos, end);
          break;
        case PREFACE:
          pos = this.readPreface(chunk, pos, end);
          break;
      }
    }
  }

  // ---- states ------------------------------------------------------------------------------

  /** PREFACE: RFC 9113 §3.4, the client preface; any other byte is a connection PROTOCOL_ERROR. */
  private readPreface(chunk: Uint8Array, pos: number, end: number): number {
    while (pos < end && this.filled < CONNECTION_PREFACE.length) {
      if (chunk[pos] !== CONNECTION_PREFACE[this.filled]) {
        throw this.fail(ErrorCode.PROTOCOL_ERROR, 'invalid connection preface');
      }
      pos++;
      this.filled++;
    }
    if (this.filled === CONNECTION_PREFACE.length) {
      this.filled = 0;
      this.state = FRAME_HEADER;
    }
    return pos;
  }

  /** The rare state, made on first use. */
  private rareState(): RareDecoderState {
    return (this.rare ??= new RareDecoderState());
  }

  /** The scratch bytes, allocated on first use. */
  private scratchBytes(): Uint8Array {
    const rare = this.rareState();
    if (rare.scratch.length === 0) rare.scratch = new Uint8Array(FRAME_HEADER_LENGTH);
    return rare.scratch;
  }

  /** FRAME_HEADER: parses 9 bytes, in place when they are whole in the chunk (the fast path). */
  private readFrameHeader(chunk: Uint8Array, pos: number, end: number): number {
    let bytes = chunk;
    let at = pos;
    if (this.filled === 0 && end - pos >= FRAME_HEADER_LENGTH) {
      pos += FRAME_HEADER_LENGTH;
    } else {
      const header = this.scratchBytes();
      while (pos < end && this.filled < FRAME_HEADER_LENGTH) header[this.filled++] = chunk[pos++];
      if (this.filled < FRAME_HEADER_LENGTH) return pos;
      this.filled = 0;
      bytes = header;
      at = 0;
    }
    this.frameLength = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
    this.frameType = bytes[at + 3];
    this.frameFlags = bytes[at + 4];
    this.streamId = ((bytes[at + 5] & 0x7f) << 24) | (bytes[at + 6] << 16) | (bytes[at + 7] << 8) | bytes[at + 8];
    this.beginFrame();
    return pos;
  }

  /** DATA_PAD_LENGTH: the Pad Length byte of a DATA frame, RFC 9113 §6.1. */
  private readDataPadLength(chunk: Uint8Array, pos: number): number {
    const padLength = chunk[pos];
    const dataLength = this.frameLength - 1 - padLength;
    if (dataLength < 0) {
      throw this.fail(
        ErrorCode.PROTOCOL_ERROR,
        `DATA padding of ${padLength} bytes fills a ${this.frameLength}-byte payload`,
      );
    }
    this.remaining = dataLength;
    this.paddingRemaining = padLength;
    this.unreportedFlow = 1;
    if (dataLength > 0) {
      this.state = DATA_PAYLOAD;
    } else if (padLength > 0) {
      this.state = PADDING;
    } else {
      this.finishData(chunk, pos + 1);
    }
    return pos + 1;
  }

  /** DATA_PAYLOAD: passes the DATA bytes present in this chunk to the listener, unbuffered. */
  private readDataPayload(chunk: Uint8Array, pos: number, end: number): number {
    const available = end - pos;
    const length = available < this.remaining ? available : this.remaining;
    const flow = length + this.unreportedFlow;
    this.unreportedFlow = 0;
    this.remaining -= length;
    let isFrameEnd = false;
    if (this.remaining === 0) {
      if (this.paddingRemaining > 0) {
        this.state = PADDING;
      } else {
        this.state = FRAME_HEADER;
        isFrameEnd = true;
      }
    }
    const isEndStream = isFrameEnd && (this.frameFlags & FrameFlag.END_STREAM) !== 0;
    this.listener.onData(this.streamId, chunk, pos, pos + length, flow, isFrameEnd, isEndStream);
    return pos + length;
  }

  /** PADDING: skips padding (its content is not checked); ends the DATA frame or fragment. */
  private readPadding(chunk: Uint8Array, pos: number, end: number): number {
    const available = end - pos;
    const length = available < this.paddingRemaining ? available : this.paddingRemaining;
    this.paddingRemaining -= length;
    pos += length;
    if (this.frameType === FrameType.DATA) this.unreportedFlow += length;
    if (this.paddingRemaining === 0) {
      if (this.frameType === FrameType.DATA) this.finishData(chunk, pos);
      else this.state = FRAME_HEADER;
    }
    return pos;
  }

  /** BLOCK_PREFIX: Pad Length, priority fields and promised stream id before a fragment. */
  private readBlockPrefix(chunk: Uint8Array, pos: number, end: number): number {
    const prefix = this.scratchBytes();
    while (pos < end && this.filled < this.prefixLength) prefix[this.filled++] = chunk[pos++];
    if (this.filled < this.prefixLength) return pos;
    this.filled = 0;
    const flags = this.frameFlags;
    let at = 0;
    let padLength = 0;
    if ((flags & FrameFlag.PADDED) !== 0) padLength = prefix[at++];
    const fragmentLength = this.frameLength - this.prefixLength - padLength;
    if (fragmentLength < 0) {
      // RFC 9113 §6.2, §6.6: padding larger than the room left for the fragment.
      throw this.fail(
        ErrorCode.PROTOCOL_ERROR,
        `padding of ${padLength} bytes exceeds the ${this.frameLength}-byte payload`,
      );
    }
    this.paddingRemaining = padLength;
    let isSelfDependent = false;
    if (this.frameType === FrameType.PUSH_PROMISE) {
      this.rareState().promisedStreamId = readUint32(prefix, at) & 0x7fff_ffff;
    } else if ((flags & FrameFlag.PRIORITY) !== 0) {
      const dependency = readUint32(prefix, at);
      const priority = (this.rareState().priority ??= { streamDependency: 0, weight: 16, isExclusive: false });
      priority.streamDependency = dependency & 0x7fff_ffff;
      priority.isExclusive = dependency >= 0x8000_0000;
      priority.weight = prefix[at + 4] + 1;
      this.blockHasPriority = true;
      isSelfDependent = priority.streamDependency === this.streamId;
    }
    this.beginFragment(fragmentLength);
    if (isSelfDependent) {
      // RFC 7540 §5.3.1: a stream cannot depend on itself. The block is still delivered.
      this.reportStreamError(ErrorCode.PROTOCOL_ERROR, `stream ${this.streamId} depends on itself`);
    }
    if (this.remaining === 0) this.endFragment(chunk, pos);
    return pos;
  }

  /** BLOCK_FRAGMENT: gathers a header block fragment; a whole block in one chunk is not copied. */
  private readBlockFragment(chunk: Uint8Array, pos: number, end: number): number {
    const available = end - pos;
    if (this.blockLength === 0 && available >= this.remaining && (this.frameFlags & FrameFlag.END_HEADERS) !== 0) {
      // Fast path: the whole block is in this chunk; deliver it in place.
      const start = pos;
      pos += this.remaining;
      this.remaining = 0;
      this.continuationStreamId = 0;
      this.state = this.paddingRemaining > 0 ? PADDING : FRAME_HEADER;
      this.deliverBlock(chunk, start, pos);
      return pos;
    }
    // The buffer grows only here, so a block delivered in place never touches it.
    const rare = this.rareState();
    if (this.blockLength + this.remaining > rare.blockBuffer.length)
      this.growBlockBuffer(rare, this.blockLength + this.remaining);
    const length = available < this.remaining ? available : this.remaining;
    rare.blockBuffer.set(chunk.subarray(pos, pos + length), this.blockLength);
    this.blockLength += length;
    this.remaining -= length;
    pos += length;
    if (this.remaining === 0) this.endFragment(chunk, pos);
    return pos;
  }

  /** PAYLOAD: a small frame's payload, parsed in place when whole in the chunk. */
  private readPayload(chunk: Uint8Array, pos: number, end: number): number {
    const length = this.frameLength;
    if (this.filled === 0 && end - pos >= length) {
      this.state = FRAME_HEADER;
      this.completeFrame(chunk, pos);
      return pos + length;
    }
    const available = end - pos;
    const needed = length - this.filled;
    const take = available < needed ? available : needed;
    // Made here, not when the frame begins: a connection whose small frames arrive whole (most)
    // never has one.
    const rare = this.rareState();
    if (length > rare.payloadBuffer.length) {
      let size = 64;
      while (size < length) size *= 2;
      rare.payloadBuffer = new Uint8Array(size);
    }
    const buffer = rare.payloadBuffer;
    buffer.set(chunk.subarray(pos, pos + take), this.filled);
    this.filled += take;
    if (this.filled === length) {
      this.filled = 0;
      this.state = FRAME_HEADER;
      this.completeFrame(buffer, 0);
    }
    return pos + take;
  }

  /** SKIP: drops the rest of a frame. */
  private readSkip(pos: number, end: number): number {
    const available = end - pos;
    const length = available < this.remaining ? available : this.remaining;
    this.remaining -= length;
    if (this.remaining === 0) this.state = FRAME_HEADER;
    return pos + length;
  }

  // ---- frame starts: checks a frame header alone can decide ------------------------------------

  /** Validates the frame header just read and enters the state for its payload. */
  private beginFrame(): void {
    const type = this.frameType;
    const length = this.frameLength;
    const streamId = this.streamId;
    // RFC 9113 §4.2: a frame larger than our SETTINGS_MAX_FRAME_SIZE.
    if (length > this.ourMaxFrameSize) {
      throw this.fail(
        ErrorCode.FRAME_SIZE_ERROR,
        `frame of ${length} bytes exceeds max frame size ${this.ourMaxFrameSize}`,
      );
    }
    if (this.isAwaitingSettings) {
      // RFC 9113 §3.4: the peer's preface is a SETTINGS frame, its first frame.
      if (type !== FrameType.SETTINGS || (this.frameFlags & FrameFlag.ACK) !== 0) {
        throw this.fail(ErrorCode.PROTOCOL_ERROR, `first frame is type 0x${type.toString(16)}, not SETTINGS`);
      }
      this.isAwaitingSettings = false;
    }
    if (this.continuationStreamId !== 0 && type !== FrameType.CONTINUATION) {
      // RFC 9113 §6.10: nothing may come between a header block's frames.
      throw this.fail(
        ErrorCode.PROTOCOL_ERROR,
        `frame type 0x${type.toString(16)} inside the header block of stream ${this.continuationStreamId}`,
      );
    }
    switch (type) {
      case FrameType.DATA:
        this.requireStream(streamId, 'DATA');
        if ((this.frameFlags & FrameFlag.PADDED) !== 0) {
          if (length < 1) throw this.fail(ErrorCode.FRAME_SIZE_ERROR, 'PADDED DATA frame without a Pad Length byte');
          this.state = DATA_PAD_LENGTH;
        } else {
          this.paddingRemaining = 0;
          this.unreportedFlow = 0;
          this.remaining = length;
          if (length > 0) this.state = DATA_PAYLOAD;
          else this.finishData(EMPTY, 0);
        }
        return;
      case FrameType.HEADERS:
        this.requireStream(streamId, 'HEADERS');
        this.beginBlock(
          ((this.frameFlags & FrameFlag.PADDED) !== 0 ? 1 : 0) + ((this.frameFlags & FrameFlag.PRIORITY) !== 0 ? 5 : 0),
        );
        return;
      case FrameType.PRIORITY:
        this.requireStream(streamId, 'PRIORITY');
        if (length !== 5) {
          // RFC 9113 §6.3: a stream error, unlike the other fixed-length frames.
          this.skip(length);
          this.reportStreamError(ErrorCode.FRAME_SIZE_ERROR, `PRIORITY frame of ${length} bytes, not 5`);
          return;
        }
        this.beginPayload();
        return;
      case FrameType.RST_STREAM:
        this.requireStream(streamId, 'RST_STREAM');
        this.requireLength(length, 4, 'RST_STREAM');
        this.beginPayload();
        return;
      case FrameType.SETTINGS:
        this.requireConnection(streamId, 'SETTINGS');
        if ((this.frameFlags & FrameFlag.ACK) !== 0) {
          // RFC 9113 §6.5: an ACK carries no payload.
          if (length !== 0) throw this.fail(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS ACK with a ${length}-byte payload`);
        } else if (length % 6 !== 0) {
          throw this.fail(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS payload of ${length} bytes is not a multiple of 6`);
        }
        this.beginPayload();
        return;
      case FrameType.PUSH_PROMISE:
        // RFC 9113 §8.4: a client cannot push.
        if (this.isServer) throw this.fail(ErrorCode.PROTOCOL_ERROR, 'a client sent PUSH_PROMISE');
        this.requireStream(streamId, 'PUSH_PROMISE');
        this.beginBlock(((this.frameFlags & FrameFlag.PADDED) !== 0 ? 1 : 0) + 4);
        return;
      case FrameType.PING:
        this.requireConnection(streamId, 'PING');
        this.requireLength(length, 8, 'PING');
        this.beginPayload();
        return;
      case FrameType.GOAWAY:
        this.requireConnection(streamId, 'GOAWAY');
        if (length < 8) throw this.fail(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY frame of ${length} bytes, less than 8`);
        this.beginPayload();
        return;
      case FrameType.WINDOW_UPDATE:
        // RFC 9113 §6.9: any stream, including 0 (the connection).
        this.requireLength(length, 4, 'WINDOW_UPDATE');
        this.beginPayload();
        return;
      case FrameType.CONTINUATION:
        this.beginContinuation();
        return;
      case FrameType.PRIORITY_UPDATE:
        // RFC 9218 §7.1: only a client sends it, on stream 0; shorter than its stream id is a
        // FRAME_SIZE_ERROR, of connection scope on stream 0 (RFC 9113 §4.2).
        if (!this.isServer) throw this.fail(ErrorCode.PROTOCOL_ERROR, 'a server sent PRIORITY_UPDATE (RFC 9218 §7.1)');
        this.requireConnection(streamId, 'PRIORITY_UPDATE');
        if (length < 4)
          throw this.fail(ErrorCode.FRAME_SIZE_ERROR, `PRIORITY_UPDATE frame of ${length} bytes, less than 4`);
        this.beginPayload();
        return;
      default:
        // RFC 9113 §5.5: unknown frame types are ignored.
        if (this.listener.onUnknownFrame === undefined) this.skip(length);
        else this.beginPayload();
    }
  }

  /** RFC 9113 §6: frames of a stream on stream 0 are a connection PROTOCOL_ERROR. */
  private requireStream(streamId: number, name: string): void {
    if (streamId === 0) throw this.fail(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream 0`);
  }

  /** RFC 9113 §6.5, §6.7, §6.8: connection frames on another stream are a connection PROTOCOL_ERROR. */
  private requireConnection(streamId: number, name: string): void {
    if (streamId !== 0) throw this.fail(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream ${streamId}, not 0`);
  }

  /** RFC 9113 §6.4, §6.7, §6.9: a fixed-length frame of another length is a connection FRAME_SIZE_ERROR. */
  private requireLength(length: number, expected: number, name: string): void {
    if (length !== expected)
      throw this.fail(ErrorCode.FRAME_SIZE_ERROR, `${name} frame of ${length} bytes, not ${expected}`);
  }

  /** Starts a HEADERS or PUSH_PROMISE header block whose fragment follows `prefixLength` bytes. */
  private beginBlock(prefixLength: number): void {
    if (this.frameLength < prefixLength) {
      // RFC 9113 §4.2: too short for its mandatory fields; it carries a field block, so connection scope.
      throw this.fail(
        ErrorCode.FRAME_SIZE_ERROR,
        `frame of ${this.frameLength} bytes is shorter than its ${prefixLength} fixed bytes`,
      );
    }
    this.blockType = this.frameType;
    this.blockIsEndStream = (this.frameFlags & FrameFlag.END_STREAM) !== 0;
    this.blockHasPriority = false;
    this.blockLength = 0;
    this.continuationCount = 0;
    this.paddingRemaining = 0;
    if (prefixLength > 0) {
      this.prefixLength = prefixLength;
      this.filled = 0;
      this.state = BLOCK_PREFIX;
    } else {
      this.beginFragment(this.frameLength);
      if (this.remaining === 0) this.endFragment(EMPTY, 0);
    }
  }

  /** RFC 9113 §6.10: a CONTINUATION must continue the open header block of its own stream. */
  private beginContinuation(): void {
    if (this.continuationStreamId === 0) {
      throw this.fail(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${this.streamId} without an open header block`);
    }
    if (this.streamId !== this.continuationStreamId) {
      throw this.fail(
        ErrorCode.PROTOCOL_ERROR,
        `CONTINUATION on stream ${this.streamId} inside the header block of stream ${this.continuationStreamId}`,
      );
    }
    if (++this.continuationCount > this.maxContinuationFrames) {
      throw this.fail(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.maxContinuationFrames} CONTINUATION frames in one header block`,
      );
    }
    this.paddingRemaining = 0;
    this.beginFragment(this.frameLength);
    if (this.remaining === 0) this.endFragment(EMPTY, 0);
  }

  /** Enters BLOCK_FRAGMENT for `fragmentLength` bytes, enforcing the block size limit up front. */
  private beginFragment(fragmentLength: number): void {
    if (this.blockLength + fragmentLength > this.maxHeaderBlockSize) {
      throw this.fail(ErrorCode.ENHANCE_YOUR_CALM, `header block of more than ${this.maxHeaderBlockSize} bytes`);
    }
    this.remaining = fragmentLength;
    if (fragmentLength > 0) this.state = BLOCK_FRAGMENT;
  }

  /** Ends a fragment: delivers the block on END_HEADERS, otherwise waits for CONTINUATION. */
  private endFragment(chunk: Uint8Array, pos: number): void {
    this.state = this.paddingRemaining > 0 ? PADDING : FRAME_HEADER;
    if ((this.frameFlags & FrameFlag.END_HEADERS) === 0) {
      this.continuationStreamId = this.streamId;
      return;
    }
    this.continuationStreamId = 0;
    const block = this.blockLength === 0 ? chunk : this.rare!.blockBuffer;
    const start = this.blockLength === 0 ? pos : 0;
    const blockEnd = this.blockLength === 0 ? pos : this.blockLength;
    this.deliverBlock(block, start, blockEnd);
  }

  private deliverBlock(block: Uint8Array, start: number, end: number): void {
    this.blockLength = 0;
    const rare = this.rare;
    if (rare !== null && rare.blockBuffer.length > RETAINED_BLOCK_BUFFER_SIZE) rare.blockBuffer = EMPTY;
    if (this.blockType === FrameType.HEADERS) {
      this.listener.onHeaders(
        this.streamId,
        block,
        start,
        end,
        this.blockIsEndStream,
        this.blockHasPriority ? rare!.priority : null,
      );
    } else {
      // The promised stream id came in the prefix, which made the rare state.
      this.listener.onPushPromise(this.streamId, rare!.promisedStreamId, block, start, end);
    }
  }

  private growBlockBuffer(rare: RareDecoderState, needed: number): void {
    let size = rare.blockBuffer.length === 0 ? 4096 : rare.blockBuffer.length * 2;
    while (size < needed) size *= 2;
    if (size > this.maxHeaderBlockSize) size = Math.max(needed, this.maxHeaderBlockSize);
    const grown = new Uint8Array(size);
    grown.set(rare.blockBuffer.subarray(0, this.blockLength));
    rare.blockBuffer = grown;
  }

  /** Enters PAYLOAD for a small frame; a frame without payload completes at once. */
  private beginPayload(): void {
    const length = this.frameLength;
    if (length === 0) {
      this.state = FRAME_HEADER;
      this.completeFrame(EMPTY, 0);
      return;
    }
    this.filled = 0;
    this.state = PAYLOAD;
  }

  private skip(length: number): void {
    this.remaining = length;
    this.state = length > 0 ? SKIP : FRAME_HEADER;
  }

  // ---- frame ends ---------------------------------------------------------------------------

  /** Reports the end of a DATA frame with its unreported padding. */
  private finishData(chunk: Uint8Array, pos: number): void {
    this.state = FRAME_HEADER;
    const flow = this.unreportedFlow;
    this.unreportedFlow = 0;
    this.listener.onData(this.streamId, chunk, pos, pos, flow, true, (this.frameFlags & FrameFlag.END_STREAM) !== 0);
  }

  /** Parses a whole small-frame payload at `bytes[at..]` and reports it. */
  private completeFrame(bytes: Uint8Array, at: number): void {
    const streamId = this.streamId;
    switch (this.frameType) {
      case FrameType.PRIORITY: {
        const dependency = readUint32(bytes, at);
        const streamDependency = dependency & 0x7fff_ffff;
        if (streamDependency === streamId) {
          // RFC 7540 §5.3.1: a stream cannot depend on itself.
          this.reportStreamError(ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
          return;
        }
        this.listener.onPriority(streamId, streamDependency, bytes[at + 4] + 1, dependency >= 0x8000_0000);
        return;
      }
      case FrameType.RST_STREAM:
        this.listener.onRstStream(streamId, readUint32(bytes, at));
        return;
      case FrameType.SETTINGS:
        this.completeSettings(bytes, at);
        return;
      case FrameType.PING:
        this.listener.onPing(readUint32(bytes, at), readUint32(bytes, at + 4), (this.frameFlags & FrameFlag.ACK) !== 0);
        return;
      case FrameType.GOAWAY:
        this.listener.onGoaway(
          readUint32(bytes, at) & 0x7fff_ffff,
          readUint32(bytes, at + 4),
          bytes,
          at + 8,
          at + this.frameLength,
        );
        return;
      case FrameType.WINDOW_UPDATE: {
        const increment = readUint32(bytes, at) & 0x7fff_ffff;
        if (increment === 0) {
          // RFC 9113 §6.9: scope follows the stream the frame is on.
          if (streamId === 0)
            throw this.fail(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE with increment 0 on the connection');
          this.reportStreamError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE with increment 0 on stream ${streamId}`);
          return;
        }
        this.listener.onWindowUpdate(streamId, increment);
        return;
      }
      case FrameType.PRIORITY_UPDATE: {
        const prioritizedStreamId = readUint32(bytes, at) & 0x7fff_ffff;
        // RFC 9218 §7.1: stream 0 cannot be prioritized.
        if (prioritizedStreamId === 0) throw this.fail(ErrorCode.PROTOCOL_ERROR, 'PRIORITY_UPDATE for stream 0');
        this.listener.onPriorityUpdate?.(prioritizedStreamId, bytes, at + 4, at + this.frameLength);
        return;
      }
      default:
        this.listener.onUnknownFrame?.(this.frameType, this.frameFlags, streamId, bytes, at, at + this.frameLength);
    }
  }

  /** RFC 9113 §6.5.2: checks every value before reporting any, so a bad frame applies nothing. */
  private completeSettings(bytes: Uint8Array, at: number): void {
    // The module's array unless a listener decodes SETTINGS of another connection from its
    // onSettings call (then that one gets an array of its own).
    const settings = sharedSettings ?? [];
    sharedSettings = null;
    try {
      const violation = readSettingsPayload(bytes, at, at + this.frameLength, !this.isServer, settings);
      if (violation !== null) throw this.fail(violation.errorCode, violation.message);
      this.listener.onSettings(settings, (this.frameFlags & FrameFlag.ACK) !== 0);
    } finally {
      sharedSettings = settings;
    }
  }

  // ---- errors -------------------------------------------------------------------------------

  private reportStreamError(errorCode: number, message: string): void {
    this.listener.onStreamError(new Http2StreamError(this.streamId, errorCode, message, { frameType: this.frameType }));
  }

  /** Enters the failed state; the caller throws the returned error. */
  private fail(errorCode: number, message: string): Http2ConnectionError {
    this.failure = new Http2ConnectionError(errorCode, message);
    return this.failure;
  }
}

function checkMaxFrameSize(value: number): number {
  if (!Number.isInteger(value) || value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `maxFrameSize must be an integer in ${MIN_MAX_FRAME_SIZE}..${MAX_MAX_FRAME_SIZE}, not ${describeValue(value)}`,
    );
  }
  return value;
}
