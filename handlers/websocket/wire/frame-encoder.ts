/**
 * WebSocket frame encoder: writes whole frames (RFC 6455 §5.2) into a caller-sized buffer, as
 * the HTTP/2 `FrameEncoder` does. Each `write…` method returns the offset after what it wrote;
 * the `…Length` methods say how many bytes a frame takes, so a caller sizes its pooled message
 * first. Everything is checked before the first byte is written: a method that throws leaves the
 * target untouched.
 *
 * A client masks every frame (RFC 6455 §5.3) with a key from its {@link MaskKeySource}; the
 * payload is XORed while it is copied, so the caller's bytes are never modified. Nothing is
 * allocated per frame; a close reason is encoded straight into the target.
 *
 * @module
 */
import { MAX_CONTROL_PAYLOAD_LENGTH, Opcode, isSendableCloseCode } from './constants.js';
import { DEFAULT_MASK_KEYS, type MaskKeySource } from './mask-keys.js';
import type { WebSocketRole } from './frame-decoder.js';
import { WebSocketEncodeErrors } from '../errors.js';
import { checkOptionalOptions } from '../../../lib/argument-checks.js';
import { copyBytes } from '../../../lib/bytes.js';
import { SluiceError } from '../../../lib/errors.js';

/** Options of a {@link WebSocketFrameEncoder}. */
export interface WebSocketFrameEncoderOptions {
  /** Which side writes: a client masks its frames, a server does not (RFC 6455 §5.1). Default `'server'`. */
  role?: WebSocketRole;
  /** Where a client's masking keys come from; default a shared pool over `crypto.randomFillSync`. */
  maskKeys?: MaskKeySource;
}

/** The opcodes of data frames: continuation (0x0), text (0x1), binary (0x2) — `Opcode`'s values. */
// Spelled as numbers: the documentation cannot link into the frozen table's members.
export type DataFrameOpcode = 0x0 | 0x1 | 0x2;

/**
 * The bytes of a frame header for a payload of `payloadLength` bytes, with the masking key if
 * masked. Throws `WEBSOCKET_INVALID_ARGUMENT` when `payloadLength` is not a number.
 */
export function frameHeaderLength(payloadLength: number, isMasked: boolean): number {
  if (typeof payloadLength !== 'number') {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'frameHeaderLength(payloadLength): a number');
  }
  const lengthBytes = payloadLength < 126 ? 2 : payloadLength < 65_536 ? 4 : 10;
  return isMasked ? lengthBytes + 4 : lengthBytes;
}

/**
 * The UTF-8 length of a close reason, or -1 when it holds a lone surrogate (which UTF-8 cannot
 * encode; `Buffer.from` would silently write U+FFFD instead). Throws `WEBSOCKET_INVALID_ARGUMENT`
 * when `reason` is not a string.
 */
export function closeReasonLength(reason: string): number {
  if (typeof reason !== 'string') {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'closeReasonLength(reason): a string');
  }
  let length = 0;
  for (let i = 0; i < reason.length; i++) {
    const unit = reason.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 1 < reason.length ? reason.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return -1;
      length += 4;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return -1;
    } else length += 3;
  }
  return length;
}

/**
 * WebSocketFrameEncoder writes frames for one endpoint. It holds no per-connection state besides
 * its role and key source, so one encoder may serve many connections of the same role.
 */
export class WebSocketFrameEncoder {
  /** Whether frames are masked (the client role). */
  readonly isMasking: boolean;
  private readonly maskKeys: MaskKeySource;

  /** Creates an encoder; throws `WEBSOCKET_INVALID_ARGUMENT` on a role other than `'server'`/`'client'`. */
  constructor(options: WebSocketFrameEncoderOptions = {}) {
    checkOptionalOptions(options, 'new WebSocketFrameEncoder', WebSocketEncodeErrors.INVALID_ARGUMENT);
    const role = options.role ?? 'server';
    const maskKeys = options.maskKeys ?? DEFAULT_MASK_KEYS;
    if ((role !== 'server' && role !== 'client') || typeof maskKeys?.nextMaskKey !== 'function') {
      throw new SluiceError(
        WebSocketEncodeErrors.INVALID_ARGUMENT,
        "new WebSocketFrameEncoder: role 'server' or 'client', maskKeys an object with nextMaskKey(target, offset)",
      );
    }
    this.isMasking = role === 'client';
    this.maskKeys = maskKeys;
  }

  /** The bytes a frame with a `payloadLength`-byte payload takes (header, masking key, payload). */
  frameLength(payloadLength: number): number {
    return frameHeaderLength(payloadLength, this.isMasking) + payloadLength;
  }

  /**
   * The bytes a Close frame with `code` and `reason` takes. Throws what
   * {@link WebSocketFrameEncoder.writeClose} would for the same arguments.
   */
  closeFrameLength(code?: number, reason = ''): number {
    return this.frameLength(closePayloadLength(code, reason));
  }

  /**
   * Writes a data frame carrying `payload[start..end)`: `opcode` text, binary or continuation;
   * `isFinal` sets FIN; `isCompressed` sets RSV1 (permessage-deflate; only on a message's first
   * frame, RFC 7692 §6.1). Returns the offset after the frame. Throws `WEBSOCKET_BUFFER_TOO_SMALL`
   * or `WEBSOCKET_INVALID_ARGUMENT` before writing anything.
   */
  writeDataFrame(
    target: Uint8Array,
    offset: number,
    opcode: DataFrameOpcode,
    payload: Uint8Array,
    start = 0,
    end = payload.length,
    isFinal = true,
    isCompressed = false,
  ): number {
    if (opcode !== Opcode.CONTINUATION && opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) {
      throw new SluiceError(
        WebSocketEncodeErrors.INVALID_ARGUMENT,
        `writeDataFrame: opcode 0, 1 or 2, not ${String(opcode)}`,
      );
    }
    if (isCompressed && opcode === Opcode.CONTINUATION) {
      throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'writeDataFrame: RSV1 only on the first frame');
    }
    checkRange(payload, start, end);
    const first = (isFinal ? 0x80 : 0) | (isCompressed ? 0x40 : 0) | opcode;
    return this.writeFrame(target, offset, first, payload, start, end);
  }

  /** Writes a Ping frame with `payload[start..end)` (≤ 125 bytes, else `WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG`). */
  writePing(target: Uint8Array, offset: number, payload: Uint8Array = EMPTY, start = 0, end = payload.length): number {
    return this.writeControl(target, offset, Opcode.PING, payload, start, end);
  }

  /** Writes a Pong frame with `payload[start..end)` (≤ 125 bytes); a reply echoes the Ping's data (RFC 6455 §5.5.3). */
  writePong(target: Uint8Array, offset: number, payload: Uint8Array = EMPTY, start = 0, end = payload.length): number {
    return this.writeControl(target, offset, Opcode.PONG, payload, start, end);
  }

  /**
   * Writes a Close frame (RFC 6455 §5.5.1): no body when `code` is undefined, else the code and
   * the UTF-8 `reason`. Throws before writing: `WEBSOCKET_INVALID_OUTGOING_CLOSE_CODE` for a code
   * that may not be sent (1005, 1006, 1015, 1004, unassigned), `WEBSOCKET_INVALID_OUTGOING_REASON`
   * for a reason without a code or with a lone surrogate, `WEBSOCKET_CONTROL_PAYLOAD_TOO_LONG` when
   * the code and reason exceed 125 bytes, `WEBSOCKET_BUFFER_TOO_SMALL`.
   */
  writeClose(target: Uint8Array, offset: number, code?: number, reason = ''): number {
    const payloadLength = closePayloadLength(code, reason);
    let at = this.writeHeader(target, offset, 0x80 | Opcode.CLOSE, payloadLength);
    if (code === undefined) return at;
    const payloadStart = at;
    target[at++] = code >>> 8;
    target[at++] = code & 0xff;
    at = encodeUtf8(reason, target, at);
    if (this.isMasking) maskInPlace(target, payloadStart, at, target, payloadStart - 4);
    return at;
  }

  private writeControl(
    target: Uint8Array,
    offset: number,
    opcode: number,
    payload: Uint8Array,
    start: number,
    end: number,
  ): number {
    checkRange(payload, start, end);
    if (end - start > MAX_CONTROL_PAYLOAD_LENGTH) {
      throw new SluiceError(
        WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG,
        `a control payload of ${end - start} bytes (at most 125)`,
      );
    }
    return this.writeFrame(target, offset, 0x80 | opcode, payload, start, end);
  }

  private writeFrame(
    target: Uint8Array,
    offset: number,
    firstByte: number,
    payload: Uint8Array,
    start: number,
    end: number,
  ): number {
    const at = this.writeHeader(target, offset, firstByte, end - start);
    if (!this.isMasking) return copyBytes(target, at, payload, start, end);
    return maskCopy(target, at, payload, start, end, target, at - 4);
  }

  /** Checks the room, then writes FIN/RSV/opcode, the length and (client) a fresh masking key. */
  private writeHeader(target: Uint8Array, offset: number, firstByte: number, payloadLength: number): number {
    const total = this.frameLength(payloadLength);
    if (!Number.isInteger(offset) || offset < 0 || offset + total > target.length) {
      throw new SluiceError(
        WebSocketEncodeErrors.BUFFER_TOO_SMALL,
        `a frame of ${total} bytes does not fit at offset ${offset} of a ${target.length}-byte buffer`,
      );
    }
    let at = offset;
    target[at++] = firstByte;
    const maskBit = this.isMasking ? 0x80 : 0;
    if (payloadLength < 126) {
      target[at++] = maskBit | payloadLength;
    } else if (payloadLength < 65_536) {
      target[at++] = maskBit | 126;
      target[at++] = payloadLength >>> 8;
      target[at++] = payloadLength & 0xff;
    } else {
      target[at++] = maskBit | 127;
      const high = Math.floor(payloadLength / 0x1_0000_0000);
      const low = payloadLength >>> 0;
      target[at++] = high >>> 24;
      target[at++] = (high >>> 16) & 0xff;
      target[at++] = (high >>> 8) & 0xff;
      target[at++] = high & 0xff;
      target[at++] = low >>> 24;
      target[at++] = (low >>> 16) & 0xff;
      target[at++] = (low >>> 8) & 0xff;
      target[at++] = low & 0xff;
    }
    if (this.isMasking) {
      this.maskKeys.nextMaskKey(target, at);
      at += 4;
    }
    return at;
  }
}

const EMPTY = new Uint8Array(0);

/** The payload length of a Close frame, after every check writeClose makes. */
function closePayloadLength(code: number | undefined, reason: string): number {
  if (typeof reason !== 'string') {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_OUTGOING_REASON, 'the close reason is a string');
  }
  if (code === undefined) {
    if (reason !== '') {
      throw new SluiceError(WebSocketEncodeErrors.INVALID_OUTGOING_REASON, 'a close reason needs a close code');
    }
    return 0;
  }
  // RFC 6455 §7.4.1: 1005, 1006 and 1015 are reported locally and MUST NOT be sent.
  if (!isSendableCloseCode(code)) {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_OUTGOING_CLOSE_CODE, `close code ${String(code)}`);
  }
  const reasonLength = closeReasonLength(reason);
  if (reasonLength < 0) {
    throw new SluiceError(WebSocketEncodeErrors.INVALID_OUTGOING_REASON, 'the close reason has a lone surrogate');
  }
  if (2 + reasonLength > MAX_CONTROL_PAYLOAD_LENGTH) {
    throw new SluiceError(
      WebSocketEncodeErrors.CONTROL_PAYLOAD_TOO_LONG,
      `a close reason of ${reasonLength} UTF-8 bytes (at most 123)`,
    );
  }
  return 2 + reasonLength;
}

function checkRange(payload: Uint8Array, start: number, end: number): void {
  if (
    !(payload instanceof Uint8Array) ||
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    start > end ||
    end > payload.length
  ) {
    throw new SluiceError(
      WebSocketEncodeErrors.INVALID_ARGUMENT,
      'a payload is a Uint8Array and 0 ≤ start ≤ end ≤ length',
    );
  }
}

/** Writes `text` as UTF-8 at `at` (already checked to hold no lone surrogate) and returns the end. */
function encodeUtf8(text: string, target: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    let point = text.charCodeAt(i);
    if (point >= 0xd800 && point <= 0xdbff) {
      point = 0x10000 + ((point - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
    }
    if (point < 0x80) {
      target[at++] = point;
    } else if (point < 0x800) {
      target[at++] = 0xc0 | (point >> 6);
      target[at++] = 0x80 | (point & 0x3f);
    } else if (point < 0x10000) {
      target[at++] = 0xe0 | (point >> 12);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    } else {
      target[at++] = 0xf0 | (point >> 18);
      target[at++] = 0x80 | ((point >> 12) & 0x3f);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    }
  }
  return at;
}

/** Copies `source[start..end)` to `target` at `at`, XORed with the key at `key[keyAt..keyAt+4)`. */
function maskCopy(
  target: Uint8Array,
  at: number,
  source: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
  keyAt: number,
): number {
  const m0 = key[keyAt];
  const m1 = key[keyAt + 1];
  const m2 = key[keyAt + 2];
  const m3 = key[keyAt + 3];
  let i = start;
  const wholeEnd = end - ((end - start) & 3);
  for (; i < wholeEnd; i += 4) {
    target[at++] = source[i] ^ m0;
    target[at++] = source[i + 1] ^ m1;
    target[at++] = source[i + 2] ^ m2;
    target[at++] = source[i + 3] ^ m3;
  }
  if (i < end) target[at++] = source[i++] ^ m0;
  if (i < end) target[at++] = source[i++] ^ m1;
  if (i < end) target[at++] = source[i] ^ m2;
  return at;
}

/** XORs `bytes[start..end)` in place with the key at `key[keyAt..keyAt+4)`. */
function maskInPlace(bytes: Uint8Array, start: number, end: number, key: Uint8Array, keyAt: number): void {
  maskCopy(bytes, start, bytes, start, end, key, keyAt);
}
