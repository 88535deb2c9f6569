/**
 * The queue of a WebSocket connection's outgoing data messages.
 *
 * @module
 */
import type { IoMessage, SluiceError } from '../../../lib/index.js';
import { Opcode, type DataOpcode } from '../wire/constants.js';
import type { WebSocketFrameEncoder } from '../wire/frame-encoder.js';

/** The completion of a `send`: null once the message reached the socket, else why it never will. */
export type WebSocketSendCallback = (error: SluiceError | null) => void;

/**
 * One outgoing data message.
 * @internal
 */
export interface OutgoingData {
  opcode: DataOpcode;
  payload: Uint8Array;
  /** Bytes of `payload` already framed. */
  offset: number;
  isCompressed: boolean;
  /** False while being compressed. */
  isReady: boolean;
  isStarted: boolean;
  /** Bytes counted in `queuedBytes` (the uncompressed size). */
  countedBytes: number;
  callback: WebSocketSendCallback | null;
  /** The pooled message `payload` is a copy in (`sendCopy`), released once the last byte is framed. */
  held: IoMessage | null;
}

/** The largest frame header: 2 + 8 bytes of length + 4 of masking key (RFC 6455 §5.2). */
export const MAX_FRAME_HEADER = 14;
/** The smallest data fragment worth starting at the end of a nearly full pooled message. */
const MIN_FRAGMENT = 1024;

/**
 * WebSocketSendQueue holds the data messages a connection was asked to send, in order, frames
 * them into the pooled message the outgoing task fills — a message larger than the room left
 * continues as continuation frames in the next one — and calls each message's callback once the
 * write holding its last byte completed. A message being compressed blocks the ones behind it.
 * @internal
 */
export class WebSocketSendQueue {
  /** Queued message bytes not yet framed (uncompressed sizes). */
  queuedBytes = 0;
  private readonly queue: OutgoingData[] = [];
  private readonly writtenInFlight: OutgoingData[] = [];

  /** Creates the queue; `onCallbackThrew` hears of a callback that threw on success. */
  constructor(
    private readonly encoder: WebSocketFrameEncoder,
    private readonly onCallbackThrew: (error: unknown) => void,
  ) {}

  /** True when no message waits to be framed. */
  get isEmpty(): boolean {
    return this.queue.length === 0;
  }

  /** True when the first message can be framed now. */
  get isHeadReady(): boolean {
    const head = this.queue[0];
    return head !== undefined && head.isReady;
  }

  /** True when the first message is still being compressed. */
  get isHeadCompressing(): boolean {
    const head = this.queue[0];
    return head !== undefined && !head.isReady;
  }

  /** Bytes the first message still has to frame (0 when empty). */
  get headRemaining(): number {
    const head = this.queue[0];
    return head === undefined ? 0 : head.payload.length - head.offset;
  }

  /**
   * Queues a message; `isCompressing` holds it (and those behind it) until {@link compressed}.
   * `held` is the pooled message `payload` lies in, if any: the queue releases it.
   */
  push(
    isText: boolean,
    payload: Uint8Array,
    isCompressing: boolean,
    callback: WebSocketSendCallback | null,
    held: IoMessage | null = null,
  ): OutgoingData {
    const entry: OutgoingData = {
      opcode: isText ? Opcode.TEXT : Opcode.BINARY,
      payload,
      offset: 0,
      isCompressed: isCompressing,
      isReady: !isCompressing,
      isStarted: false,
      countedBytes: payload.length,
      callback,
      held,
    };
    this.queuedBytes += payload.length;
    this.queue.push(entry);
    return entry;
  }

  /** A queued message's compressed payload is ready. */
  compressed(entry: OutgoingData, payload: Uint8Array): void {
    entry.payload = payload;
    entry.isReady = true;
  }

  /** Frames ready messages into `target[start..limit)`; returns the offset after the last frame. */
  fill(target: Uint8Array, start: number, limit: number): number {
    const encoder = this.encoder;
    let offset = start;
    const queue = this.queue;
    while (queue.length > 0) {
      const head = queue[0];
      if (!head.isReady) break;
      const remaining = head.payload.length - head.offset;
      const room = limit - offset - MAX_FRAME_HEADER;
      if (room < (remaining < MIN_FRAGMENT ? remaining : MIN_FRAGMENT) || room < 0) break;
      const chunk = remaining < room ? remaining : room;
      const isFinal = chunk === remaining;
      offset = encoder.writeDataFrame(
        target,
        offset,
        head.isStarted ? Opcode.CONTINUATION : head.opcode,
        head.payload,
        head.offset,
        head.offset + chunk,
        isFinal,
        // RFC 7692 §6.1: RSV1 on the first frame only.
        head.isCompressed && !head.isStarted,
      );
      head.isStarted = true;
      head.offset += chunk;
      if (!isFinal) break;
      if (head.held !== null) {
        head.held.release();
        head.held = null;
      }
      queue.shift();
      this.queuedBytes -= head.countedBytes;
      this.writtenInFlight.push(head);
    }
    return offset;
  }

  /** The write in flight completed: the messages that ended in it are sent. */
  onWritten(): void {
    const done = this.writtenInFlight;
    for (let index = 0; index < done.length; index++) this.complete(done[index], null);
    done.length = 0;
  }

  /** Nothing more will be written: every message not written gets `error`. */
  failAll(error: SluiceError): void {
    for (const entry of this.writtenInFlight) this.complete(entry, error);
    this.writtenInFlight.length = 0;
    for (const entry of this.queue) {
      entry.held?.release();
      entry.held = null;
      this.complete(entry, error);
    }
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private complete(entry: OutgoingData, error: SluiceError | null): void {
    const callback = entry.callback;
    entry.callback = null;
    if (callback === null) return;
    try {
      callback(error);
    } catch (thrown) {
      if (error === null) this.onCallbackThrew(thrown);
    }
  }
}
