/**
 * A length-prefixed framing handler: every frame on the wire is a 4-byte big-endian payload
 * length followed by the payload. A reusable example of a sluice handler plugin.
 *
 * @module
 */
import {
  ChannelDirection,
  SluiceError,
  asSluiceError,
  ChannelErrors,
  defineErrors,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';

/** Bytes of the length prefix in front of every frame. */
export const FRAME_HEADER_SIZE = 4;

/** The largest length a 4-byte unsigned prefix can carry. */
const MAX_ENCODABLE_FRAME_LENGTH = 0xffff_ffff;

/**
 * FrameTag bits the framer sets on the read messages it sends right. A frame may arrive in
 * several messages (it is streamed as the read window allows): the first carries `START`, the
 * last carries `END`; a frame that fits in one message carries both. An empty frame is one
 * zero-length message with both bits.
 */
export const FrameTag = {
  /** This message holds the first bytes of a frame. */
  START: 1,
  /** This message holds the last bytes of a frame. */
  END: 2,
} as const;

/** Errors of the framing protocol. */
export const FramingErrors = defineErrors('FRAMING', {
  FRAME_TOO_LARGE: 'the frame is longer than the framer accepts',
});

/** Options of a {@link LengthPrefixFramer}; see {@link LENGTH_PREFIX_FRAMER_DEFAULTS}. */
export interface LengthPrefixFramerOptions {
  /**
   * Longest payload accepted on read; a longer prefix shuts the channel down with
   * `FRAMING_FRAME_TOO_LARGE`. 0 means "the largest frame one write message can carry"
   * (pool data size less the overheads to the left, less the prefix), so whatever this
   * framer reads it can also write back.
   */
  maxFrameLength?: number;
  /**
   * Read window the framer starts with, before it learns the window of the handler to its
   * right. It may buffer up to this much beyond what the right side accepts.
   */
  initialWindowSize?: number;
}

/** Defaults of {@link LengthPrefixFramerOptions}. */
export const LENGTH_PREFIX_FRAMER_DEFAULTS: Readonly<Required<LengthPrefixFramerOptions>> = Object.freeze({
  maxFrameLength: 0,
  initialWindowSize: 64 * 1024,
});

/** Where the read-side parser is: collecting the 4 prefix bytes, or streaming payload. */
const ParseState = {
  HEADER: 0,
  PAYLOAD: 1,
} as const;
type ParseState = (typeof ParseState)[keyof typeof ParseState];

/**
 * LengthPrefixFramer turns a byte stream into frames and back.
 *
 * Read (left → right): the prefix is parsed across any split of the input; payload bytes are
 * sent right as they arrive, never more than the right slot's read window, tagged with
 * {@link FrameTag} bits so the next handler sees frame boundaries without the framer holding
 * whole frames. Bytes that do not fit the window wait here (inside the message they came in,
 * consumed up to its `copyMark`).
 *
 * Read windows: payload passes 1:1 and prefixes stop here, so the framer keeps its own window
 * at "what the right side accepts, less what it already holds". A prefix it consumes is
 * credited back at once, an opening on the right is passed left once the held bytes fit in it.
 *
 * Write (right → left): each message written through the framer is one frame. The prefix is
 * put in front of the payload in place when the message has room (writers that size messages
 * with `slot.acquireMaxMessageForWrite()` always leave room, because `messageOverhead()` is
 * the prefix); otherwise the frame is copied into a new message that inherits the original's
 * `onCompletion` and `userData`.
 *
 * @example
 * ```ts
 * pipeline: (channel) => {
 *   channel.appendHandler(new LengthPrefixFramer());
 *   channel.appendHandler(new EchoHandler());
 * }
 * ```
 */
export class LengthPrefixFramer implements ChannelHandler {
  private readonly configuredMaxFrameLength: number;
  private readonly startWindow: number;
  private maxFrameLengthValue = 0;

  /** Read messages not fully consumed, oldest first; `copyMark` says how far. */
  private readonly heldMessages: IoMessage[] = [];
  private state: ParseState = ParseState.HEADER;
  /** The prefix being collected; one buffer for the framer's life, no allocation per frame. */
  private readonly header = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  private payloadRemaining = 0;
  private isAtFrameStart = false;
  private isReadShutDown = false;

  /** Creates a framer; see {@link LengthPrefixFramerOptions}. */
  constructor(options: LengthPrefixFramerOptions = {}) {
    const settings = { ...LENGTH_PREFIX_FRAMER_DEFAULTS, ...options };
    if (!(settings.maxFrameLength >= 0 && settings.maxFrameLength <= MAX_ENCODABLE_FRAME_LENGTH)) {
      throw new RangeError(`maxFrameLength must be within 0..${MAX_ENCODABLE_FRAME_LENGTH}`);
    }
    if (!(settings.initialWindowSize > 0)) throw new RangeError('initialWindowSize must be positive');
    this.configuredMaxFrameLength = settings.maxFrameLength;
    this.startWindow = settings.initialWindowSize;
  }

  /** The longest payload accepted on read (resolved once the framer sits in a slot). */
  get maxFrameLength(): number {
    return this.maxFrameLengthValue;
  }

  /** Resolves the frame length limit from the pool and the overheads to the left. */
  installed(slot: ChannelSlot): void {
    this.maxFrameLengthValue =
      this.configuredMaxFrameLength > 0
        ? this.configuredMaxFrameLength
        : slot.channel.messagePool.dataMessageSize - slot.upstreamMessageOverhead - FRAME_HEADER_SIZE;
  }

  /** Takes the bytes, parses what it can and streams payload right within the window. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.isReadShutDown) {
      message.release();
      return;
    }
    message.copyMark = 0;
    this.heldMessages.push(message);
    this.pump(slot);
    this.creditLeftWindow(slot);
  }

  /** Prefixes the frame and sends it left; the message keeps its completion. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    const payloadLength = message.length;
    if (payloadLength > MAX_ENCODABLE_FRAME_LENGTH) {
      throw new SluiceError(FramingErrors.FRAME_TOO_LARGE, `a ${payloadLength}-byte frame cannot be prefixed`);
    }
    const data = message.data;
    if (data.length >= payloadLength + FRAME_HEADER_SIZE) {
      // In place: one memmove, no second message. Undone if the left side refuses it, so a
      // caller that still owns the message after a throw finds its payload unchanged.
      data.copyWithin(FRAME_HEADER_SIZE, 0, payloadLength);
      data.writeUInt32BE(payloadLength, 0);
      message.length = payloadLength + FRAME_HEADER_SIZE;
      try {
        slot.sendMessage(message, ChannelDirection.WRITE);
      } catch (error) {
        data.copyWithin(0, FRAME_HEADER_SIZE, payloadLength + FRAME_HEADER_SIZE);
        message.length = payloadLength;
        throw error;
      }
      return;
    }
    const framed = slot.acquireMessageForWrite(payloadLength + FRAME_HEADER_SIZE);
    if (framed.capacity < payloadLength + FRAME_HEADER_SIZE) {
      framed.release();
      throw new SluiceError(
        FramingErrors.FRAME_TOO_LARGE,
        `a ${payloadLength}-byte frame does not fit in one message (at most ${framed.capacity - FRAME_HEADER_SIZE})`,
      );
    }
    framed.data.writeUInt32BE(payloadLength, 0);
    framed.length = FRAME_HEADER_SIZE;
    framed.append(data, 0, payloadLength);
    framed.onCompletion = message.onCompletion;
    framed.userData = message.userData;
    try {
      slot.sendMessage(framed, ChannelDirection.WRITE);
    } catch (error) {
      framed.release();
      throw error;
    }
    // The frame carries the completion now; releasing clears it on the original.
    message.release();
  }

  /** The right side opened its window: send what waits, then pass the opening on. */
  incrementReadWindow(slot: ChannelSlot): void {
    this.pump(slot);
    this.creditLeftWindow(slot);
  }

  /** READ: drops held bytes (nobody will read them). WRITE: nothing is buffered on the write side. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      this.isReadShutDown = true;
      this.releaseHeld();
    }
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** See {@link LengthPrefixFramerOptions.initialWindowSize}. */
  initialWindowSize(): number {
    return this.startWindow;
  }

  /** The prefix. */
  messageOverhead(): number {
    return FRAME_HEADER_SIZE;
  }

  /** Returns held messages to the pool. */
  destroy(): void {
    this.releaseHeld();
  }

  /**
   * Parses held bytes and sends payload right until the input is used up or the right window
   * is zero. A state machine with one branch per state, so the prefix and payload may be split
   * anywhere across reads.
   */
  private pump(slot: ChannelSlot): void {
    const held = this.heldMessages;
    while (held.length > 0 && !this.isReadShutDown) {
      const input = held[0];
      if (input.copyMark === input.length) {
        held.shift();
        input.release();
        continue;
      }
      if (this.state === ParseState.HEADER) {
        this.readHeader(slot, input);
      } else if (!this.sendPayload(slot, input)) {
        return;
      }
    }
  }

  private readHeader(slot: ChannelSlot, input: IoMessage): void {
    const count = Math.min(FRAME_HEADER_SIZE - this.headerFilled, input.length - input.copyMark);
    input.data.copy(this.header, this.headerFilled, input.copyMark, input.copyMark + count);
    input.copyMark += count;
    this.headerFilled += count;
    if (this.headerFilled < FRAME_HEADER_SIZE) return;
    this.headerFilled = 0;
    const frameLength = this.header.readUInt32BE(0);
    if (frameLength > this.maxFrameLengthValue) {
      this.failRead(
        slot,
        new SluiceError(
          FramingErrors.FRAME_TOO_LARGE,
          `a ${frameLength}-byte frame exceeds the limit of ${this.maxFrameLengthValue}`,
        ),
      );
      return;
    }
    this.state = ParseState.PAYLOAD;
    this.payloadRemaining = frameLength;
    this.isAtFrameStart = true;
    if (frameLength === 0) this.sendEmptyFrame(slot);
  }

  /** Sends one chunk of the current frame; returns false when the right window is closed. */
  private sendPayload(slot: ChannelSlot, input: IoMessage): boolean {
    const window = slot.downstreamReadWindow();
    if (window <= 0) return false;
    const pool = slot.channel.messagePool;
    let count = input.length - input.copyMark;
    if (count > this.payloadRemaining) count = this.payloadRemaining;
    if (count > window) count = window;
    if (count > pool.dataMessageSize) count = pool.dataMessageSize;
    const chunk = pool.acquire(count);
    chunk.append(input.data, input.copyMark, input.copyMark + count);
    const isFrameEnd = count === this.payloadRemaining;
    chunk.tag = (this.isAtFrameStart ? FrameTag.START : 0) | (isFrameEnd ? FrameTag.END : 0);
    if (!this.forward(slot, chunk)) return false;
    input.copyMark += count;
    this.payloadRemaining -= count;
    this.isAtFrameStart = false;
    if (isFrameEnd) this.finishFrame();
    return true;
  }

  private sendEmptyFrame(slot: ChannelSlot): void {
    const chunk = slot.channel.messagePool.acquire(0);
    chunk.tag = FrameTag.START | FrameTag.END;
    if (this.forward(slot, chunk)) this.finishFrame();
  }

  private finishFrame(): void {
    this.state = ParseState.HEADER;
    this.isAtFrameStart = false;
  }

  /** Sends a chunk right; on refusal the chunk goes back to the pool and the channel shuts down. */
  private forward(slot: ChannelSlot, chunk: IoMessage): boolean {
    try {
      slot.sendMessage(chunk, ChannelDirection.READ);
      return true;
    } catch (thrown) {
      chunk.release();
      this.failRead(slot, asSluiceError(thrown, ChannelErrors.HANDLER_FAILED));
      return false;
    }
  }

  private failRead(slot: ChannelSlot, error: SluiceError): void {
    this.releaseHeld();
    this.isReadShutDown = true;
    slot.channel.shutdown(error);
  }

  /**
   * Keeps this slot's window at (right window − bytes held). Payload passes 1:1, so an opening
   * on the right is passed on once what is held fits in it; a prefix is consumed here, so its
   * bytes are credited back as soon as it is parsed. This bounds what the framer holds by its
   * initial window and never leaves the right side waiting for bytes the left may not send.
   * With back-pressure off windows are unlimited and nothing is sent.
   */
  private creditLeftWindow(slot: ChannelSlot): void {
    if (!slot.channel.isReadBackPressureEnabled || this.isReadShutDown) return;
    const target = slot.downstreamReadWindow() - this.unsentBytes();
    const missing = target - slot.windowSize;
    if (missing > 0) slot.incrementReadWindow(missing);
  }

  /** Every byte received and not yet sent right or consumed as a prefix. */
  private unsentBytes(): number {
    let unsent = 0;
    for (const message of this.heldMessages) unsent += message.length - message.copyMark;
    return unsent;
  }

  private releaseHeld(): void {
    const held = this.heldMessages;
    for (const message of held) message.release();
    held.length = 0;
  }
}
