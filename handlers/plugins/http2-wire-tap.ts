/**
 * An HTTP/2 wire tap: follows one direction of a connection's bytes, frame by frame, without
 * touching them.
 *
 * @module
 */
import { CONNECTION_PREFACE, FRAME_HEADER_LENGTH, MAX_MAX_FRAME_SIZE } from '../http2/wire/constants.js';
import { FrameDecoder, type FrameListener, type FramePriority } from '../http2/wire/frame-decoder.js';
import type { Http2StreamError } from '../http2/errors.js';
import { checkOptionalOptions, checkRequiredOptions } from '../../lib/argument-checks.js';
import { PluginErrors } from './plugin-errors.js';

/**
 * TappedFrame describes one whole frame a {@link Http2WireTap} saw. The tap reuses one instance:
 * read it during {@link WireTapListener.onFrame} only.
 */
export interface TappedFrame {
  /** The frame type code (RFC 9113 §6); other values are extension frames. */
  type: number;
  /** The flags byte. */
  flags: number;
  /** The stream identifier (0 for the connection). */
  streamId: number;
  /** The payload length from the frame header. */
  length: number;
  /** The first payload bytes: `excerpt[0..excerptLength)`; at most the tap's `excerptLimit`. */
  readonly excerpt: Uint8Array;
  /** How many bytes of `excerpt` are valid. */
  excerptLength: number;
}

/**
 * WireTapListener receives what a {@link Http2WireTap} sees, synchronously from `feed`, in wire
 * order. The stream callbacks come from the tap's {@link FrameDecoder} and fire while the frame
 * is decoded, just before that frame's `onFrame`.
 */
export interface WireTapListener {
  /** The 24-byte client connection preface went by (RFC 9113 §3.4). */
  onPreface?(): void;
  /** One whole frame went by and decoded without a connection error. */
  onFrame(frame: TappedFrame): void;
  /** A complete header block (HEADERS and its CONTINUATIONs) on `streamId`; `isEndStream` from the HEADERS frame. */
  onHeaders?(streamId: number, isEndStream: boolean): void;
  /** The last DATA frame of `streamId` (END_STREAM). */
  onDataEndStream?(streamId: number): void;
  /** RST_STREAM on `streamId`. */
  onRstStream?(streamId: number, errorCode: number): void;
  /** The bytes are not valid HTTP/2 (or not HTTP/2 at all); the tap stops following this direction. */
  onDecodeError(error: Error): void;
}

/** Options of an {@link Http2WireTap}. */
export interface Http2WireTapOptions {
  /**
   * Whether this direction starts with the client connection preface, i.e. carries what the
   * client sends. `'auto'` (the default) decides on the first byte: the preface starts with `P`
   * (0x50), which no first frame can (it would announce a payload over 5 MB).
   */
  carriesPreface?: boolean | 'auto';
  /** How many payload bytes of each frame to keep in {@link TappedFrame.excerpt}; 0 keeps none. */
  excerptLimit?: number;
}

/** Default of {@link Http2WireTapOptions.excerptLimit}. */
export const WIRE_TAP_DEFAULT_EXCERPT_LIMIT = 32;

/**
 * Http2WireTap follows the bytes of one direction of an HTTP/2 connection, in any split, and
 * reports each whole frame with its header and the first payload bytes. It runs a
 * {@link FrameDecoder} in step with its own frame splitter: each frame's bytes are decoded
 * before the frame is reported, so a frame is reported only when it is valid, and the stream
 * events (HEADERS, END_STREAM, RST_STREAM) come from the decoder. On a decode error it reports
 * once and ignores everything after.
 *
 * The decoder's role is the receiver's of these bytes: a direction that carries the preface is
 * what a client sends, so it is decoded as a server would. Its maximum frame size is the RFC's
 * largest, because a tap does not see which SETTINGS were acknowledged.
 *
 * Cost: nothing per byte beyond the decoder's work; one `subarray` view per frame, none when a
 * chunk ends inside a frame.
 *
 * @example
 * ```ts
 * const tap = new Http2WireTap({
 *   onFrame: (frame) => console.log(frame.type, frame.streamId, frame.length),
 *   onDecodeError: (error) => console.log('not HTTP/2:', error.message),
 * });
 * tap.feed(bytesReceived);
 * ```
 */
export class Http2WireTap {
  private readonly listener: WireTapListener;
  private carriesPreface: boolean | 'auto';
  private decoder: FrameDecoder | null = null;
  private isStopped = false;
  private prefaceRemaining = 0;
  private readonly header = new Uint8Array(FRAME_HEADER_LENGTH);
  private headerFilled = 0;
  private payloadRemaining = 0;
  private readonly frame: TappedFrame;
  private readonly excerptLimit: number;

  /** Creates a tap reporting to `listener`. */
  constructor(listener: WireTapListener, options: Http2WireTapOptions = {}) {
    checkRequiredOptions(listener, 'new Http2WireTap(listener)', PluginErrors.INVALID_OPTIONS);
    checkOptionalOptions(options, 'new Http2WireTap', PluginErrors.INVALID_OPTIONS);
    this.listener = listener;
    this.carriesPreface = options.carriesPreface ?? 'auto';
    this.excerptLimit = Math.max(0, Math.floor(options.excerptLimit ?? WIRE_TAP_DEFAULT_EXCERPT_LIMIT));
    this.frame = {
      type: 0,
      flags: 0,
      streamId: 0,
      length: 0,
      excerpt: new Uint8Array(this.excerptLimit),
      excerptLength: 0,
    };
  }

  /** Whether the tap stopped following (after a decode error). */
  get isFollowing(): boolean {
    return !this.isStopped;
  }

  /** Follows the next bytes of this direction. Never throws for any input. */
  feed(chunk: Uint8Array): void {
    if (this.isStopped || chunk.length === 0) return;
    if (this.decoder === null) this.start(chunk[0] === CONNECTION_PREFACE[0]);
    const end = chunk.length;
    let pos = 0;
    let decodedTo = 0;
    // Bounded: every pass consumes at least one byte or reports a zero-length frame whose header
    // just completed (which also consumed bytes).
    while (pos < end) {
      if (this.prefaceRemaining > 0) {
        const count = Math.min(this.prefaceRemaining, end - pos);
        pos += count;
        this.prefaceRemaining -= count;
        if (this.prefaceRemaining === 0) {
          if (!this.decodeRange(chunk, decodedTo, pos)) return;
          decodedTo = pos;
          this.listener.onPreface?.();
        }
        continue;
      }
      if (this.headerFilled < FRAME_HEADER_LENGTH) {
        while (this.headerFilled < FRAME_HEADER_LENGTH && pos < end) this.header[this.headerFilled++] = chunk[pos++]!;
        if (this.headerFilled < FRAME_HEADER_LENGTH) break;
        this.beginFrame();
      } else {
        const count = Math.min(this.payloadRemaining, end - pos);
        this.keepExcerpt(chunk, pos, count);
        pos += count;
        this.payloadRemaining -= count;
      }
      if (this.payloadRemaining === 0) {
        if (!this.decodeRange(chunk, decodedTo, pos)) return;
        decodedTo = pos;
        this.headerFilled = 0;
        this.listener.onFrame(this.frame);
      }
    }
    if (decodedTo < end) this.decodeRange(chunk, decodedTo, end);
  }

  private start(startsWithPreface: boolean): void {
    const carries = this.carriesPreface === 'auto' ? startsWithPreface : this.carriesPreface;
    this.carriesPreface = carries;
    this.prefaceRemaining = carries ? CONNECTION_PREFACE.length : 0;
    this.decoder = new FrameDecoder(new TapFrameListener(this.listener), {
      role: carries ? 'server' : 'client',
      requireSettingsFirst: true,
      maxFrameSize: MAX_MAX_FRAME_SIZE,
    });
  }

  private beginFrame(): void {
    const header = this.header;
    const frame = this.frame;
    frame.length = (header[0] << 16) | (header[1] << 8) | header[2];
    frame.type = header[3]!;
    frame.flags = header[4]!;
    frame.streamId = ((header[5] << 24) | (header[6] << 16) | (header[7] << 8) | header[8]) & 0x7fff_ffff;
    frame.excerptLength = 0;
    this.payloadRemaining = frame.length;
  }

  private keepExcerpt(chunk: Uint8Array, pos: number, count: number): void {
    const frame = this.frame;
    const room = this.excerptLimit - frame.excerptLength;
    const take = count < room ? count : room;
    for (let i = 0; i < take; i++) frame.excerpt[frame.excerptLength++] = chunk[pos + i]!;
  }

  /** Feeds `chunk[from..to)` to the decoder; on a connection error reports it and stops. */
  private decodeRange(chunk: Uint8Array, from: number, to: number): boolean {
    if (from === to) return true;
    try {
      this.decoder!.decode(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
      return true;
    } catch (error) {
      this.isStopped = true;
      this.listener.onDecodeError(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }
}

/** Forwards the decoder's stream events to the tap's listener; everything else is only validated. */
class TapFrameListener implements FrameListener {
  constructor(private readonly listener: WireTapListener) {}

  onData(
    streamId: number,
    _data: Uint8Array,
    _start: number,
    _end: number,
    _flow: number,
    isFrameEnd: boolean,
    isEndStream: boolean,
  ): void {
    if (isFrameEnd && isEndStream) this.listener.onDataEndStream?.(streamId);
  }

  onHeaders(
    streamId: number,
    _block: Uint8Array,
    _start: number,
    _end: number,
    isEndStream: boolean,
    _priority: FramePriority | null,
  ): void {
    this.listener.onHeaders?.(streamId, isEndStream);
  }

  onPriority(): void {}

  onRstStream(streamId: number, errorCode: number): void {
    this.listener.onRstStream?.(streamId, errorCode);
  }

  onSettings(): void {}

  onPushPromise(): void {}

  onPing(): void {}

  onGoaway(): void {}

  onWindowUpdate(): void {}

  /** A stream error is the connection's business; the frame still went by and is reported. */
  onStreamError(_error: Http2StreamError): void {}
}
