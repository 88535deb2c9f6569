/**
 * The queue of encoded control frames waiting for the outgoing-frames task.
 *
 * @module
 */
import { FRAME_HEADER_LENGTH } from '../wire/constants.js';
import { copyBytes } from '../../../lib/bytes.js';
import { writeFrameHeader } from '../wire/frame-encoder.js';
import { FrameType, FrameFlag } from '../wire/constants.js';
import { emptyList, lazyPush, lazyRemoveFirst, type LazyList } from '../../../lib/field-layout.js';

/** Bytes the queue starts with; it grows by doubling. */
const INITIAL_CAPACITY = 512;
/** The buffer of a queue that holds nothing. */
const NO_BUFFER = Buffer.alloc(0);
/**
 * Initial-size buffers lent back by empty queues, for the next queue that needs one. Shared by
 * every queue of the process: queues are used on their loop's thread only, and a buffer is
 * lent only while its queue is empty, so no two queues ever hold the same one.
 */
const SPARE_BUFFERS: Buffer[] = [];
/** Enough for the queues busy at one moment; beyond it an empty queue's buffer is garbage. */
const MAX_SPARE_BUFFERS = 256;

/**
 * ControlFrameQueue holds whole control frames (SETTINGS, ACKs, PING, WINDOW_UPDATE,
 * RST_STREAM, GOAWAY, HEADERS + CONTINUATION), encoded as bytes in arrival order, in one
 * growable buffer — no object per frame. The task copies them into outgoing messages; a frame
 * larger than the space left continues in the next message.
 *
 * PING ACKs wait in their own list and jump ahead of queued frames, but only at a frame
 * boundary: a frame partly copied is always finished first (RFC 9113 §4.1 framing, and
 * CONTINUATION frames may not be interleaved, §6.10), and never ahead of the connection's first
 * frame, its SETTINGS (the preface, §3.4) — a PING may arrive before that is written, in the same
 * segment as the peer's preface or an h2c upgrade request.
 */
export class ControlFrameQueue {
  /**
   * The encoded frames; writers append at `tail` after `reserve`. An empty queue lends its
   * buffer back to a spare list shared by all queues: most connections are idle most of the
   * time, and an idle one then holds no buffer at all.
   */
  buffer: Buffer = NO_BUFFER;
  private head = 0;
  /** Write position for the next frame. */
  tail = 0;
  /** Bytes of the frame at `head` still to copy (0 at a frame boundary). */
  private partialRemaining = 0;
  private wholeFrames = 0;
  /**
   * The last frame started was HEADERS/PUSH_PROMISE/CONTINUATION without END_HEADERS: until the
   * block's last frame starts, even a frame boundary is no place for a PING ACK (RFC 9113 §6.10).
   */
  private isInHeaderBlock = false;
  /** No frame was copied yet: the first queued, the connection's SETTINGS, goes before any PING ACK. */
  private isBeforeFirstFrame = true;
  /** Opaque data of PING ACKs to send, two numbers each: empty until the peer PINGs. */
  private pingAcks: LazyList<number> = emptyList();

  /** Frames waiting (PING ACKs included, a partly written frame counted). */
  get frameCount(): number {
    return this.wholeFrames + (this.pingAcks.length >> 1);
  }

  /** True when nothing waits. */
  get isEmpty(): boolean {
    return this.head === this.tail && this.pingAcks.length === 0;
  }

  /** Bytes waiting to be written (queued frames and PING ACKs). */
  get byteLength(): number {
    return this.tail - this.head + (this.pingAcks.length >> 1) * (FRAME_HEADER_LENGTH + 8);
  }

  /**
   * Makes room for `length` more bytes at `tail` and returns the buffer to write into
   * (`buffer`, from `tail`). The writer then calls `commit(length)`.
   */
  reserve(length: number): Buffer {
    if (this.tail + length <= this.buffer.length) return this.buffer;
    if (this.buffer === NO_BUFFER && length <= INITIAL_CAPACITY) {
      this.buffer = SPARE_BUFFERS.pop() ?? Buffer.allocUnsafe(INITIAL_CAPACITY);
      return this.buffer;
    }
    if (this.head > 0) {
      this.buffer.copy(this.buffer, 0, this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
      if (this.tail + length <= this.buffer.length) return this.buffer;
    }
    let capacity = Math.max(INITIAL_CAPACITY, this.buffer.length * 2);
    while (capacity < this.tail + length) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.tail);
    this.buffer = grown;
    return grown;
  }

  /** Records `frames` whole frames of `length` bytes written at `tail`. */
  commit(length: number, frames = 1): void {
    this.tail += length;
    this.wholeFrames += frames;
  }

  /** Queues a PING ACK echoing the peer's opaque data. */
  pushPingAck(opaqueHigh: number, opaqueLow: number): void {
    this.pingAcks = lazyPush(lazyPush(this.pingAcks, opaqueHigh), opaqueLow);
  }

  /**
   * Copies waiting frames into `target` from `offset` up to `limit` and returns the new offset:
   * first the rest of a partly written frame, then PING ACKs (at a frame boundary), then queued
   * frames in order; the last may be split when it does not fit.
   */
  copyInto(target: Uint8Array, offset: number, limit: number): number {
    if (this.partialRemaining === 0 && !this.isInHeaderBlock && (!this.isBeforeFirstFrame || this.head === this.tail)) {
      offset = this.writePingAcks(target, offset, limit);
    }
    const buffer = this.buffer;
    // Walk the frames that fit (their boundaries keep the PING ACK and CONTINUATION rules),
    // then copy them all at once: one copy per message, not one per frame.
    const start = this.head;
    const end = Math.min(this.tail, start + (limit - offset));
    let head = start;
    while (head < end) {
      if (this.partialRemaining === 0) {
        this.partialRemaining =
          FRAME_HEADER_LENGTH + ((buffer[head] << 16) | (buffer[head + 1] << 8) | buffer[head + 2]);
        const type = buffer[head + 3];
        this.isInHeaderBlock =
          (type === FrameType.HEADERS || type === FrameType.CONTINUATION || type === FrameType.PUSH_PROMISE) &&
          (buffer[head + 4] & FrameFlag.END_HEADERS) === 0;
      }
      const count = Math.min(this.partialRemaining, end - head);
      head += count;
      this.partialRemaining -= count;
      if (this.partialRemaining === 0) this.wholeFrames--;
    }
    copyBytes(target, offset, buffer, start, head);
    offset += head - start;
    if (head > start) this.isBeforeFirstFrame = false;
    this.head = head;
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      this.releaseBuffer();
    }
    return offset;
  }

  private writePingAcks(target: Uint8Array, offset: number, limit: number): number {
    const acks = this.pingAcks;
    let index = 0;
    while (index < acks.length && offset + FRAME_HEADER_LENGTH + 8 <= limit) {
      offset = writeFrameHeader(target, offset, 8, FrameType.PING, FrameFlag.ACK, 0);
      writeUint32(target, offset, acks[index]);
      writeUint32(target, offset + 4, acks[index + 1]);
      offset += 8;
      index += 2;
    }
    if (index > 0) this.pingAcks = lazyRemoveFirst(acks, index);
    return offset;
  }

  /** Drops everything (the connection stopped writing). */
  clear(): void {
    this.head = this.tail = this.partialRemaining = this.wholeFrames = 0;
    this.isInHeaderBlock = false;
    this.pingAcks = emptyList();
    this.releaseBuffer();
  }

  /** Lends an initial-size buffer back (a grown one stays: this connection needs the room). */
  private releaseBuffer(): void {
    if (this.buffer.length !== INITIAL_CAPACITY) return;
    if (SPARE_BUFFERS.length < MAX_SPARE_BUFFERS) SPARE_BUFFERS.push(this.buffer);
    this.buffer = NO_BUFFER;
  }
}

function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}
