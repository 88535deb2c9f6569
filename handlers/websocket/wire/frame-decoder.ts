/**
 * WebSocket frame decoder: a byte-streaming state machine (RFC 6455 §5) that accepts its input
 * split at any byte.
 *
 * The decoder has explicit named states, one method per state, and a loop in
 * {@link WebSocketFrameDecoder.decode} that advances while bytes remain. It enforces everything a
 * frame sequence alone tells: masking by role (§5.1), reserved bits and opcodes (§5.2, RFC 7692
 * §6), minimal length encodings (§5.2), fragmentation (§5.4), control-frame rules (§5.5), the
 * Close payload (§5.5.1, §7.4), UTF-8 of uncompressed text as it arrives (§8.1) and a message size
 * limit (§10.4). The close handshake, ping replies and decompression are the connection's job.
 *
 * Hot path: nothing is allocated per byte or per frame. Masked payloads are **unmasked in place**
 * in the chunk given to `decode()` (the decoder owns its input, as a channel handler owns a read
 * message) and data is delivered as ranges of that chunk; control payloads (≤ 125 bytes) are
 * gathered in one buffer the decoder allocates once.
 *
 * @module
 */
import { MAX_CONTROL_PAYLOAD_LENGTH, Opcode, isSendableCloseCode, type DataOpcode } from './constants.js';
import { Utf8Validator, isValidUtf8 } from './utf8-validator.js';
import {
  WebSocketEncodeErrors,
  WebSocketProtocolError,
  WebSocketProtocolErrors,
  type WebSocketCloseErrorDefinition,
} from '../errors.js';
import { checkOptionalOptions, checkRequiredOptions } from '../../../lib/argument-checks.js';
import { SluiceError } from '../../../lib/errors.js';

/** Which side an endpoint is: a server reads masked frames, a client unmasked ones (RFC 6455 §5.1). */
export type WebSocketRole = 'server' | 'client';

/**
 * WebSocketFrameListener receives what a {@link WebSocketFrameDecoder} decodes, synchronously
 * from inside {@link WebSocketFrameDecoder.decode}, in wire order.
 *
 * Byte ranges (`data`, `start`, `end`) are views of the chunk passed to `decode()` (already
 * unmasked) or of the decoder's control buffer: valid only until the callback returns. Copy what
 * you keep. A listener method that throws makes `decode()` throw the same exception; the decoder
 * must not be used again. Callbacks must not call `decode()` re-entrantly.
 */
export interface WebSocketFrameListener {
  /**
   * Payload of a data frame, delivered as it arrives: one frame may arrive as several calls, the
   * last with `isFrameEnd`; every frame, even an empty one, produces at least one call.
   * `opcode` is the message's (text or binary), also for continuation frames. `isMessageEnd` is
   * true on the last call of the message's final (FIN) frame. `isCompressed` is the message's
   * RSV1 (permessage-deflate): its bytes are compressed, and UTF-8 was not checked.
   */
  onData(
    opcode: DataOpcode,
    data: Uint8Array,
    start: number,
    end: number,
    isFrameEnd: boolean,
    isMessageEnd: boolean,
    isCompressed: boolean,
  ): void;

  /** A Ping frame (RFC 6455 §5.5.2) with its application data `data[start..end)`; answer with a Pong. */
  onPing(data: Uint8Array, start: number, end: number): void;

  /** A Pong frame (RFC 6455 §5.5.3) with its application data `data[start..end)`. */
  onPong(data: Uint8Array, start: number, end: number): void;

  /**
   * A Close frame (RFC 6455 §5.5.1) whose code and reason passed every check: `code` is 1005
   * (no status) for an empty payload; `reason` is the decoded text, and `data[start..end)` its bytes.
   */
  onClose(code: number, reason: string, data: Uint8Array, start: number, end: number): void;
}

/** Options of a {@link WebSocketFrameDecoder}; defaults are in {@link FRAME_DECODER_DEFAULTS}. */
export interface WebSocketFrameDecoderOptions {
  /** Which side this endpoint is: a server requires masked frames, a client refuses them. */
  role?: WebSocketRole;
  /**
   * The largest message, bytes of payload over all its frames (compressed bytes for a compressed
   * message; the decompressor bounds the inflated size separately); more is
   * `WEBSOCKET_MESSAGE_TOO_LARGE` (1009), raised as soon as a frame header
   * announces it. At most 2^53−1.
   */
  maxMessageSize?: number;
  /** Whether permessage-deflate was negotiated: RSV1 is then allowed on a message's first frame (RFC 7692 §6). */
  isPerMessageDeflate?: boolean;
  /** Whether uncompressed text is checked as UTF-8 as it arrives (1007 on the first invalid byte). */
  validateUtf8?: boolean;
}

/** The defaults of {@link WebSocketFrameDecoderOptions}. */
export const FRAME_DECODER_DEFAULTS: Readonly<Required<WebSocketFrameDecoderOptions>> = Object.freeze({
  /** Server role. */
  role: 'server',
  /** 64 MiB: beyond what chat, RPC and streaming peers send, bounded per connection. */
  maxMessageSize: 64 * 1024 * 1024,
  /** No extension. */
  isPerMessageDeflate: false,
  /** Text is validated. */
  validateUtf8: true,
});

// Decoder states; one method each.
/** Reading the first two bytes of a frame header. */
const HEADER = 0;
/** Reading a 16- or 64-bit extended payload length. */
const EXTENDED_LENGTH = 1;
/** Reading the 4-byte masking key. */
const MASKING_KEY = 2;
/** Delivering a data frame's payload as it arrives. */
const DATA_PAYLOAD = 3;
/** Gathering a control frame's payload. */
const CONTROL_PAYLOAD = 4;
/** Failed: every call throws the error. */
const FAILED = 5;

type DecoderState =
  | typeof HEADER
  | typeof EXTENDED_LENGTH
  | typeof MASKING_KEY
  | typeof DATA_PAYLOAD
  | typeof CONTROL_PAYLOAD
  | typeof FAILED;

const FIN = 0x80;
const RSV1 = 0x40;
const RSV2_RSV3 = 0x30;
const MASK = 0x80;

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * The four bytes of the masking key being applied: one array for every decoder, as unmasking is
 * synchronous and each call fills it first.
 */
const MASK_SCRATCH = new Uint8Array(4);

/** `word` (a masking key, big-endian) as bytes in {@link MASK_SCRATCH}. */
function maskBytes(word: number): Uint8Array {
  MASK_SCRATCH[0] = word >>> 24;
  MASK_SCRATCH[1] = (word >>> 16) & 0xff;
  MASK_SCRATCH[2] = (word >>> 8) & 0xff;
  MASK_SCRATCH[3] = word & 0xff;
  return MASK_SCRATCH;
}

/**
 * WebSocketFrameDecoder turns the bytes a peer sends into {@link WebSocketFrameListener} calls,
 * for one connection.
 *
 * Errors: a violation makes {@link WebSocketFrameDecoder.decode} throw a
 * {@link WebSocketProtocolError} whose `closeCode` is the code to fail the connection with (1002,
 * 1007 or 1009); the decoder then stays failed and every later `decode()` throws the same error.
 * On no input does `decode()` throw anything else (listener exceptions aside). No data of the
 * offending frame is delivered after the check that fails; for invalid UTF-8, nothing of the
 * piece holding the invalid byte is delivered.
 */
export class WebSocketFrameDecoder {
  private readonly listener: WebSocketFrameListener;
  private readonly isServer: boolean;
  private readonly maxMessageSize: number;
  private readonly isPerMessageDeflate: boolean;
  private readonly shouldValidateUtf8: boolean;
  private readonly utf8 = new Utf8Validator();

  private state: DecoderState = HEADER;
  private failure: WebSocketProtocolError | null = null;

  // The current frame's header.
  private headerFilled = 0;
  private firstByte = 0;
  private isFin = false;
  private opcode = 0;
  private isMasked = false;
  private extendedLengthSize = 0;
  private lengthFilled = 0;
  private frameLength = 0;
  /**
   * The masking key as a big-endian 32-bit number, filled once per masked frame (a number rather
   * than a 4-byte array: a typed array costs ≈ 200 bytes of objects per connection). Unmasking
   * spreads it into {@link MASK_SCRATCH}.
   */
  private maskWord = 0;
  private maskFilled = 0;
  /** Payload bytes of the current frame already consumed (and unmasked). */
  private payloadOffset = 0;

  // The message being received (a data frame without FIN opens it; continuations extend it).
  /** The open message's opcode (text or binary), or 0 when no fragmented message is open. */
  private messageOpcode = 0;
  private isMessageCompressed = false;
  /** Whether the current message is text checked incrementally as UTF-8. */
  private isValidatingText = false;
  /** Payload bytes of the current message so far, this frame included. */
  private messageLength = 0;

  /**
   * Control payloads (≤ 125 bytes) are gathered here: made by the first control frame with a
   * payload, so an idle connection holds no 125-byte buffer (nor its ArrayBuffer outside the heap).
   */
  private controlBuffer: Uint8Array | null = null;

  /**
   * Creates a decoder reporting to `listener`; options default to {@link FRAME_DECODER_DEFAULTS}.
   * Throws `WEBSOCKET_INVALID_ARGUMENT` when the listener is missing or an option is not valid.
   */
  constructor(listener: WebSocketFrameListener, options: WebSocketFrameDecoderOptions = {}) {
    checkRequiredOptions(listener, 'new WebSocketFrameDecoder(listener)', WebSocketEncodeErrors.INVALID_ARGUMENT);
    checkOptionalOptions(options, 'new WebSocketFrameDecoder', WebSocketEncodeErrors.INVALID_ARGUMENT);
    const role = options.role ?? FRAME_DECODER_DEFAULTS.role;
    const maxMessageSize = options.maxMessageSize ?? FRAME_DECODER_DEFAULTS.maxMessageSize;
    if ((role !== 'server' && role !== 'client') || !isLimit(maxMessageSize)) {
      throw new SluiceError(
        WebSocketEncodeErrors.INVALID_ARGUMENT,
        "new WebSocketFrameDecoder: role 'server' or 'client', maxMessageSize a whole number from 0 to 2^53-1",
      );
    }
    this.listener = listener;
    this.isServer = role === 'server';
    this.maxMessageSize = maxMessageSize;
    this.isPerMessageDeflate = options.isPerMessageDeflate === true;
    this.shouldValidateUtf8 = options.validateUtf8 ?? FRAME_DECODER_DEFAULTS.validateUtf8;
  }

  /** The protocol error the decoder failed with, or null while it is healthy. */
  get error(): WebSocketProtocolError | null {
    return this.failure;
  }

  /** Whether the decoder sits between frames: the peer may close here without truncating a frame. */
  get isAtFrameBoundary(): boolean {
    return this.state === HEADER && this.headerFilled === 0;
  }

  /**
   * Payload bytes the current data frame still has to deliver when it is its message's last
   * (FIN), else -1: read during `onData`, it tells how large the whole message will be.
   */
  get finalFrameBytesLeft(): number {
    return this.isFin && this.state !== HEADER ? this.frameLength - this.payloadOffset : -1;
  }

  /** Whether a fragmented message is open (a data frame without FIN arrived, its final frame has not). */
  get isInMessage(): boolean {
    return this.messageOpcode !== 0;
  }

  /**
   * Decodes `bytes[start..end)`, calling the listener for what completes. Unmasks masked payload
   * bytes in place in `bytes`. Consumes everything (a partial frame is remembered). Throws a
   * {@link WebSocketProtocolError} on a violation (see {@link WebSocketFrameDecoder}).
   */
  decode(bytes: Uint8Array, start = 0, end = bytes.length): void {
    let at = start;
    while (at < end || this.isDueWithoutBytes()) {
      switch (this.state) {
        case HEADER:
          at = this.readHeader(bytes, at, end);
          break;
        case EXTENDED_LENGTH:
          at = this.readExtendedLength(bytes, at, end);
          break;
        case MASKING_KEY:
          at = this.readMaskingKey(bytes, at, end);
          break;
        case DATA_PAYLOAD:
          at = this.readDataPayload(bytes, at, end);
          break;
        case CONTROL_PAYLOAD:
          at = this.readControlPayload(bytes, at, end);
          break;
        default:
          throw this.failure as WebSocketProtocolError;
      }
    }
    if (this.state === FAILED) throw this.failure as WebSocketProtocolError;
  }

  /** An empty payload completes its frame without reading another byte. */
  private isDueWithoutBytes(): boolean {
    return (this.state === DATA_PAYLOAD || this.state === CONTROL_PAYLOAD) && this.frameLength === 0;
  }

  // ---------------------------------------------------------------------------- states

  /** HEADER: FIN, RSV, opcode; MASK and the 7-bit length. Most rules are checked here. */
  private readHeader(bytes: Uint8Array, at: number, end: number): number {
    if (this.headerFilled === 0) {
      this.firstByte = bytes[at++];
      this.headerFilled = 1;
      this.checkFirstByte();
      if (at === end) return at;
    }
    const second = bytes[at++];
    this.headerFilled = 0;
    this.isMasked = (second & MASK) !== 0;
    // RFC 6455 §5.1: a server closes on an unmasked frame, a client on a masked one.
    if (this.isServer && !this.isMasked) return this.fail(WebSocketProtocolErrors.UNMASKED_FRAME);
    if (!this.isServer && this.isMasked) return this.fail(WebSocketProtocolErrors.MASKED_FRAME);
    const length7 = second & 0x7f;
    if (this.opcode >= Opcode.CLOSE && length7 > MAX_CONTROL_PAYLOAD_LENGTH) {
      return this.fail(WebSocketProtocolErrors.CONTROL_TOO_LONG, `a control frame announces ${length7} > 125 bytes`);
    }
    this.maskFilled = 0;
    if (length7 < 126) {
      this.frameLength = length7;
      this.afterLength();
    } else {
      this.extendedLengthSize = length7 === 126 ? 2 : 8;
      this.lengthFilled = 0;
      this.frameLength = 0;
      this.state = EXTENDED_LENGTH;
    }
    return at;
  }

  /** EXTENDED_LENGTH: a 16- or 64-bit big-endian length, minimal and with the top bit clear (RFC 6455 §5.2). */
  private readExtendedLength(bytes: Uint8Array, at: number, end: number): number {
    while (at < end && this.lengthFilled < this.extendedLengthSize) {
      const byte = bytes[at++];
      if (this.lengthFilled === 0 && this.extendedLengthSize === 8 && byte >= 0x80) {
        return this.fail(WebSocketProtocolErrors.INVALID_LENGTH, 'a 64-bit payload length with its top bit set');
      }
      // Beyond 2^53 the sum is inexact but stays larger than any limit, which is all that is asked of it.
      this.frameLength = this.frameLength * 256 + byte;
      this.lengthFilled++;
    }
    if (this.lengthFilled < this.extendedLengthSize) return at;
    const smallest = this.extendedLengthSize === 2 ? 126 : 65_536;
    if (this.frameLength < smallest) {
      return this.fail(
        WebSocketProtocolErrors.INVALID_LENGTH,
        `a payload length of ${this.frameLength} in ${this.extendedLengthSize * 8} bits is not minimal`,
      );
    }
    this.afterLength();
    return at;
  }

  /** MASKING_KEY: the 4 bytes XORed into the payload (RFC 6455 §5.3). */
  private readMaskingKey(bytes: Uint8Array, at: number, end: number): number {
    while (at < end && this.maskFilled < 4) {
      this.maskWord = ((this.maskWord << 8) | bytes[at++]) >>> 0;
      this.maskFilled++;
    }
    if (this.maskFilled === 4) this.beginPayload();
    return at;
  }

  /** DATA_PAYLOAD: unmask in place, check text, deliver the range. */
  private readDataPayload(bytes: Uint8Array, at: number, end: number): number {
    const remaining = this.frameLength - this.payloadOffset;
    const count = remaining < end - at ? remaining : end - at;
    const stop = at + count;
    if (this.isMasked) unmask(bytes, at, stop, maskBytes(this.maskWord), this.payloadOffset);
    this.payloadOffset += count;
    const isFrameEnd = this.payloadOffset === this.frameLength;
    const isMessageEnd = isFrameEnd && this.isFin;
    if (this.isValidatingText) {
      const invalidAt = this.utf8.update(bytes, at, stop);
      if (invalidAt !== -1) {
        return this.fail(
          WebSocketProtocolErrors.INVALID_UTF8,
          `a text message has invalid UTF-8 (byte 0x${hex(bytes[invalidAt])})`,
        );
      }
      if (isMessageEnd && !this.utf8.isComplete) {
        return this.fail(WebSocketProtocolErrors.INVALID_UTF8, 'a text message ends inside a UTF-8 sequence');
      }
    }
    const opcode = this.messageOpcode as DataOpcode;
    const isCompressed = this.isMessageCompressed;
    if (isFrameEnd) {
      this.state = HEADER;
      if (isMessageEnd) this.endMessage();
    }
    this.listener.onData(opcode, bytes, at, stop, isFrameEnd, isMessageEnd, isCompressed);
    return stop;
  }

  /** CONTROL_PAYLOAD: gather (unmasking as it copies) up to 125 bytes, then dispatch. */
  private readControlPayload(bytes: Uint8Array, at: number, end: number): number {
    const buffer = (this.controlBuffer ??= new Uint8Array(MAX_CONTROL_PAYLOAD_LENGTH));
    const mask = maskBytes(this.maskWord);
    let filled = this.payloadOffset;
    const stop = Math.min(end, at + (this.frameLength - filled));
    if (this.isMasked) {
      for (let i = at; i < stop; i++, filled++) buffer[filled] = bytes[i] ^ mask[filled & 3];
    } else {
      for (let i = at; i < stop; i++, filled++) buffer[filled] = bytes[i];
    }
    this.payloadOffset = filled;
    if (filled === this.frameLength) {
      this.state = HEADER;
      this.dispatchControl(filled);
    }
    return stop;
  }

  // ---------------------------------------------------------------------------- checks

  /** RFC 6455 §5.2, §5.4, §5.5; RFC 7692 §6: what the first header byte alone decides. */
  private checkFirstByte(): void {
    const first = this.firstByte;
    const opcode = first & 0x0f;
    this.opcode = opcode;
    this.isFin = (first & FIN) !== 0;
    if ((first & RSV2_RSV3) !== 0) {
      this.fail(WebSocketProtocolErrors.RESERVED_BITS, 'RSV2 or RSV3 is set; no extension defines them');
    }
    const hasRsv1 = (first & RSV1) !== 0;
    if (opcode >= Opcode.CLOSE) {
      if (opcode > Opcode.PONG) this.fail(WebSocketProtocolErrors.UNKNOWN_OPCODE, `opcode 0x${opcode.toString(16)}`);
      if (!this.isFin) this.fail(WebSocketProtocolErrors.FRAGMENTED_CONTROL);
      if (hasRsv1) this.fail(WebSocketProtocolErrors.RESERVED_BITS, 'RSV1 on a control frame');
    } else if (opcode === Opcode.CONTINUATION) {
      if (this.messageOpcode === 0) this.fail(WebSocketProtocolErrors.UNEXPECTED_CONTINUATION);
      // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message only.
      if (hasRsv1) this.fail(WebSocketProtocolErrors.RESERVED_BITS, 'RSV1 on a continuation frame');
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      if (this.messageOpcode !== 0) this.fail(WebSocketProtocolErrors.EXPECTED_CONTINUATION);
      if (hasRsv1 && !this.isPerMessageDeflate) {
        this.fail(WebSocketProtocolErrors.RESERVED_BITS, 'RSV1 without permessage-deflate');
      }
    } else {
      this.fail(WebSocketProtocolErrors.UNKNOWN_OPCODE, `opcode 0x${opcode.toString(16)}`);
    }
  }

  /** The length is known: check the message size, then read the masking key or the payload. */
  private afterLength(): void {
    if (this.opcode < Opcode.CLOSE) {
      const messageSoFar = this.opcode === Opcode.CONTINUATION ? this.messageLength : 0;
      if (this.frameLength > this.maxMessageSize - messageSoFar) {
        this.fail(
          WebSocketProtocolErrors.MESSAGE_TOO_LARGE,
          `a message of more than ${this.maxMessageSize} bytes (limit maxMessageSize)`,
        );
      }
    }
    if (this.isMasked) this.state = MASKING_KEY;
    else this.beginPayload();
  }

  /** The header is complete: open or extend the message and start on the payload. */
  private beginPayload(): void {
    this.payloadOffset = 0;
    const opcode = this.opcode;
    if (opcode >= Opcode.CLOSE) {
      this.state = CONTROL_PAYLOAD;
      return;
    }
    if (opcode !== Opcode.CONTINUATION) {
      this.messageOpcode = opcode;
      this.messageLength = 0;
      this.isMessageCompressed = (this.firstByte & RSV1) !== 0;
      this.isValidatingText = opcode === Opcode.TEXT && this.shouldValidateUtf8 && !this.isMessageCompressed;
    }
    this.messageLength += this.frameLength;
    this.state = DATA_PAYLOAD;
  }

  private endMessage(): void {
    this.messageOpcode = 0;
    this.messageLength = 0;
    this.isMessageCompressed = false;
    this.isValidatingText = false;
    this.utf8.reset();
  }

  private dispatchControl(length: number): void {
    const buffer = this.controlBuffer ?? NO_CONTROL_PAYLOAD;
    if (this.opcode === Opcode.PING) {
      this.listener.onPing(buffer, 0, length);
    } else if (this.opcode === Opcode.PONG) {
      this.listener.onPong(buffer, 0, length);
    } else if (length === 0) {
      this.listener.onClose(1005, '', buffer, 0, 0);
    } else {
      // RFC 6455 §5.5.1: a body starts with a 2-byte code; RFC 6455 §7.4: only some codes travel.
      if (length === 1) this.fail(WebSocketProtocolErrors.INVALID_CLOSE_PAYLOAD);
      const code = (buffer[0] << 8) | buffer[1];
      if (!isSendableCloseCode(code)) this.fail(WebSocketProtocolErrors.INVALID_CLOSE_CODE, `close code ${code}`);
      if (!isValidUtf8(buffer, 2, length)) {
        this.fail(WebSocketProtocolErrors.INVALID_UTF8, 'the close reason is not valid UTF-8');
      }
      // A Close frame is rare: decoding its reason to a string is worth the allocation.
      this.listener.onClose(code, utf8Decoder.decode(buffer.subarray(2, length)), buffer, 2, length);
    }
  }

  /** Records the failure and throws it; typed as returning so states can `return this.fail(…)`. */
  private fail(definition: WebSocketCloseErrorDefinition, message?: string): never {
    const error = new WebSocketProtocolError(definition, message);
    this.failure = error;
    this.state = FAILED;
    throw error;
  }
}

/** The payload of a control frame that had none, before any had one. */
const NO_CONTROL_PAYLOAD = new Uint8Array(0);

/** Whether this machine stores a 32-bit word's low byte first (the word-wise XOR's key order). */
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** From this many bytes on, unmasking XORs whole 64-bit words (a typed-array view costs one object). */
const WORD_XOR_MIN_BYTES = 64;

/**
 * XORs `bytes[start..end)` with the masking key, `offset` being the first byte's position in the
 * payload (RFC 6455 §5.3). A long range is XORed eight bytes at a time through a
 * `BigUint64Array` over the 8-byte-aligned middle (four words a turn), the key rotated to where
 * that middle starts and doubled: what a large message's receive costs most. TurboFan keeps
 * those 64-bit values unboxed: 4.7 µs per 64 KiB here against 8.5 µs for 32-bit words eight a
 * turn, 17 µs one a turn and 100 µs a byte at a time (`node dist/bench/unmask.js`).
 */
export function unmask(bytes: Uint8Array, start: number, end: number, mask: Uint8Array, offset: number): void {
  let i = start;
  let j = offset & 3;
  if (IS_LITTLE_ENDIAN && end - start >= WORD_XOR_MIN_BYTES) {
    while (((bytes.byteOffset + i) & 7) !== 0) {
      bytes[i++] ^= mask[j];
      j = (j + 1) & 3;
    }
    const words = (end - i) >>> 3;
    const key = (mask[j] | (mask[(j + 1) & 3] << 8) | (mask[(j + 2) & 3] << 16) | (mask[(j + 3) & 3] << 24)) >>> 0;
    const wide = (BigInt(key) << 32n) | BigInt(key);
    const view = new BigUint64Array(bytes.buffer, bytes.byteOffset + i, words);
    const unrolled = words & ~3;
    let k = 0;
    for (; k < unrolled; k += 4) {
      view[k] ^= wide;
      view[k + 1] ^= wide;
      view[k + 2] ^= wide;
      view[k + 3] ^= wide;
    }
    for (; k < words; k++) view[k] ^= wide;
    i += words << 3; // whole words: the key position is unchanged
  }
  for (; i < end; i++) {
    bytes[i] ^= mask[j];
    j = (j + 1) & 3;
  }
}

function isLimit(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
