/**
 * Encodes a connection's control frames into its control-frame queue and wakes the
 * outgoing-frames task.
 *
 * @module
 * @internal
 */
import {
  FrameEncoder,
  PING_FRAME_LENGTH,
  RST_STREAM_FRAME_LENGTH,
  SETTINGS_ACK_FRAME_LENGTH,
  WINDOW_UPDATE_FRAME_LENGTH,
  goawayFrameLength,
  headerBlockFramesLength,
  priorityUpdateFrameLength,
  settingsFrameLength,
} from '../wire/frame-encoder.js';
import type { ChannelSlot } from '../../../lib/index.js';
import { ControlFrameQueue } from './control-frame-queue.js';
import type { OutgoingFramesTask } from './outgoing-frames-task.js';

/** Largest GOAWAY debug data we send. */
const MAX_GOAWAY_DEBUG_LENGTH = 256;

/**
 * ControlFrameWriter is where every part of a connection queues a control frame: the
 * connection's {@link ControlFrameQueue} itself (one object per connection, not two), with the
 * {@link FrameEncoder} that knows the peer's SETTINGS_MAX_FRAME_SIZE. It encodes each frame whole
 * into the queue (no object per frame) and wakes the outgoing-frames task, which writes the
 * queue ahead of DATA.
 *
 * @internal
 */
export class ControlFrameWriter extends ControlFrameQueue {
  /** The encoder; its `maxFrameSize` is the peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly encoder = new FrameEncoder();
  /** Read window withheld while too many of our answers wait to be written. */
  heldReadWindow = 0;
  private outgoing: OutgoingFramesTask | null = null;

  /**
   * After `length` bytes were decoded: returns their read window to `slot`, or holds it while
   * half of `maxQueued` frames or more wait — the peer is not reading our answers, so we stop
   * reading until they drain (CVE-2019-9512 family). False when more than `maxQueued` wait: the
   * caller fails the connection.
   */
  admitRead(slot: ChannelSlot, length: number, maxQueued: number): boolean {
    const count = this.frameCount;
    if (count > maxQueued) return false;
    if (count * 2 >= maxQueued) this.heldReadWindow += length;
    else slot.incrementReadWindow(length);
    return true;
  }

  /** The queue drained: the read window held back goes to `slot` once fewer than half of `maxQueued` wait. */
  releaseHeldReadWindow(slot: ChannelSlot | null, maxQueued: number): void {
    const held = this.heldReadWindow;
    if (held > 0 && this.frameCount * 2 < maxQueued && slot !== null) {
      this.heldReadWindow = 0;
      slot.incrementReadWindow(held);
    }
  }

  /** Binds the writer to the task it wakes (made after the writer: the task reads the queue). */
  attach(outgoing: OutgoingFramesTask): void {
    this.outgoing = outgoing;
  }

  /** HEADERS (+ CONTINUATION) carrying an HPACK-encoded `block`, never interleaved (RFC 9113 §6.10). */
  headerBlock(streamId: number, block: Uint8Array, isEndStream: boolean): void {
    const frameSize = this.encoder.maxFrameSize;
    const length = headerBlockFramesLength(block.length, frameSize);
    const buffer = this.reserve(length);
    const start = this.tail;
    const end = this.encoder.writeHeaderBlock(buffer, start, start + length, streamId, block, 0, isEndStream);
    this.commit(end - start, Math.max(1, Math.ceil(block.length / frameSize)));
    this.outgoing!.wake();
  }

  /** RST_STREAM (RFC 9113 §6.4). */
  rstStream(streamId: number, errorCode: number): void {
    const buffer = this.reserve(RST_STREAM_FRAME_LENGTH);
    this.commit(this.encoder.writeRstStream(buffer, this.tail, streamId, errorCode) - this.tail);
    this.outgoing!.wake();
  }

  /** PRIORITY_UPDATE (RFC 9218 §7.1, client): `value` is the priority field value for `streamId`. */
  priorityUpdate(streamId: number, value: string): void {
    const buffer = this.reserve(priorityUpdateFrameLength(value.length));
    this.commit(this.encoder.writePriorityUpdate(buffer, this.tail, streamId, value) - this.tail);
    this.outgoing!.wake();
  }

  /** WINDOW_UPDATE (RFC 9113 §6.9); stream 0 is the connection. */
  windowUpdate(streamId: number, increment: number): void {
    const buffer = this.reserve(WINDOW_UPDATE_FRAME_LENGTH);
    this.commit(this.encoder.writeWindowUpdate(buffer, this.tail, streamId, increment) - this.tail);
    this.outgoing!.wake();
  }

  /** GOAWAY (RFC 9113 §6.8) with `debug` as debug data, cut to 256 bytes. */
  goaway(lastStreamId: number, errorCode: number, debug: string): void {
    const debugData = Buffer.from(debug.slice(0, MAX_GOAWAY_DEBUG_LENGTH), 'utf8').subarray(0, MAX_GOAWAY_DEBUG_LENGTH);
    const buffer = this.reserve(goawayFrameLength(debugData.length));
    this.commit(this.encoder.writeGoaway(buffer, this.tail, lastStreamId, errorCode, debugData) - this.tail);
    this.outgoing!.wake();
  }

  /** SETTINGS (RFC 9113 §6.5) from a flat `[id, value, id, value, …]` list. */
  settings(settings: readonly number[]): void {
    const pairs: [number, number][] = [];
    for (let i = 0; i < settings.length; i += 2) pairs.push([settings[i], settings[i + 1]]);
    const buffer = this.reserve(settingsFrameLength(pairs.length));
    this.commit(this.encoder.writeSettings(buffer, this.tail, pairs) - this.tail);
    this.outgoing!.wake();
  }

  /** SETTINGS with ACK. */
  settingsAck(): void {
    const buffer = this.reserve(SETTINGS_ACK_FRAME_LENGTH);
    this.commit(this.encoder.writeSettingsAck(buffer, this.tail) - this.tail);
    this.outgoing!.wake();
  }

  /** PING (RFC 9113 §6.7) with the opaque data `high`, `low`. */
  ping(high: number, low: number): void {
    const buffer = this.reserve(PING_FRAME_LENGTH);
    this.commit(this.encoder.writePing(buffer, this.tail, high, low, false) - this.tail);
    this.outgoing!.wake();
  }

  /** The ACK of the peer's PING: ahead of other queued frames, at a frame boundary. */
  pingAck(high: number, low: number): void {
    this.pushPingAck(high, low);
    this.outgoing!.wake();
  }
}
