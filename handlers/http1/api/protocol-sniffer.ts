/**
 * The cleartext protocol sniffer: one port for HTTP/1.1 and HTTP/2 with prior knowledge. It
 * reads the first bytes of a connection, then replaces itself in its slot with the matching
 * connection handler and hands over what it read.
 *
 * @module
 */
import {
  ChannelDirection,
  IoErrors,
  SluiceError,
  Task,
  TaskStatus,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import { Http1ConnectionErrors } from '../errors.js';

/**
 * The first bytes an HTTP/2 client sends with prior knowledge (RFC 9113 §3.4). An HTTP/1.1
 * request line differs from it by its 10th byte at the latest (`HTTP/1.x` against `HTTP/2.0`),
 * so the first 12 bytes decide; the HTTP/2 connection checks the rest of the preface itself.
 */
const HTTP2_PREFIX = Buffer.from('PRI * HTTP/2', 'latin1');

/** The read window of the sniffer's slot: the first read it waits for is at most this long. */
const SNIFF_WINDOW = 16 * 1024;

/**
 * How long a new connection may stay silent (or undecided) by default, ms, from its acceptance:
 * the servers' handshake timeout (Go's HTTP/2 server gives its preface 10 s).
 */
export const SNIFF_TIMEOUT_MS = 10_000;

/**
 * ProtocolSniffer sits where the connection handler will go, right of the socket (a cleartext
 * listener). On the first bytes it decides: the HTTP/2 connection preface (`PRI * HTTP/2.0…`,
 * RFC 9113 §3.4) installs `createHttp2(channel)`, anything else `createHttp1(channel)` — each replaces the
 * sniffer in its slot (`ChannelSlot.replace`), and the messages read so far are sent to it in
 * order, as if they had just arrived. Until then it holds those messages (at most
 * `PRI * HTTP/2`'s 12 bytes' worth of decision, in as many reads as the peer split them).
 *
 * Timing: the decision and the replacement run inside `processReadMessage`, synchronously. A
 * connection still undecided `timeoutMs` after it was accepted (the channel's creation: a silent
 * peer, or one that sent a few bytes of the preface and stopped) is closed with
 * `IO_HANDSHAKE_TIMEOUT`, the handshake deadline of the connection handlers that follow (which
 * count from the same moment); the timer runs on the loop's clock.
 */
export class ProtocolSniffer implements ChannelHandler {
  private readonly createHttp1: (channel: Channel) => ChannelHandler;
  private readonly createHttp2: (channel: Channel) => ChannelHandler;
  private readonly held: IoMessage[] = [];
  /** Bytes of the received data that matched `PRI * HTTP/2` so far. */
  private matched = 0;
  private isDecided = false;
  private readonly timeoutMs: number;
  private readonly timeoutTask: Task;
  private slot: ChannelSlot | null = null;

  /**
   * `createHttp1` / `createHttp2` build the handler that replaces the sniffer, for the channel
   * given; `timeoutMs` (default {@link SNIFF_TIMEOUT_MS}, 0 disables) bounds how long a
   * connection may stay undecided.
   */
  constructor(
    createHttp1: (channel: Channel) => ChannelHandler,
    createHttp2: (channel: Channel) => ChannelHandler,
    timeoutMs: number = SNIFF_TIMEOUT_MS,
  ) {
    if (typeof createHttp1 !== 'function' || typeof createHttp2 !== 'function') {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'new ProtocolSniffer(createHttp1, createHttp2)');
    }
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'timeoutMs is a number of ms, 0 or more');
    }
    this.createHttp1 = createHttp1;
    this.createHttp2 = createHttp2;
    this.timeoutMs = timeoutMs;
    this.timeoutTask = new Task(ProtocolSniffer.runTimeout, 'http-protocol-sniff-timeout', this);
  }

  private static runTimeout(this: void, status: TaskStatus, task: Task): void {
    const sniffer = task.target as ProtocolSniffer;
    if (status !== TaskStatus.RUN_READY || sniffer.isDecided) return;
    sniffer.slot?.channel.shutdown(
      new SluiceError(
        IoErrors.HANDSHAKE_TIMEOUT,
        `no HTTP/2 preface or HTTP/1.1 request line within ${sniffer.timeoutMs} ms of the connection`,
      ),
      true,
    );
  }

  /** Starts the timeout, counted from the channel's creation. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    if (this.timeoutMs > 0) slot.channel.scheduleTaskAt(this.timeoutTask, slot.channel.createdAtMs + this.timeoutMs);
  }

  /** Takes the message; once the bytes decide, replaces itself and hands over every held message. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    this.held.push(message);
    const data = message.data;
    let isHttp2: boolean | null = null;
    for (let i = message.copyMark; i < message.length; i++) {
      if (data[i] !== HTTP2_PREFIX[this.matched]) {
        isHttp2 = false;
        break;
      }
      this.matched++;
      if (this.matched === HTTP2_PREFIX.length) {
        isHttp2 = true;
        break;
      }
    }
    if (isHttp2 !== null) this.decide(slot, isHttp2);
  }

  private decide(slot: ChannelSlot, isHttp2: boolean): void {
    this.isDecided = true;
    if (this.timeoutTask.isScheduled) slot.channel.unscheduleTask(this.timeoutTask);
    const handler = isHttp2 ? this.createHttp2(slot.channel) : this.createHttp1(slot.channel);
    const newSlot = slot.replace(handler);
    const messages = this.held.splice(0);
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      if (newSlot.channel.isShutDown) {
        message.release();
        continue;
      }
      // As if the socket had sent it: the new slot's window is charged and its handler owns it.
      const left = newSlot.adjacentLeft;
      try {
        if (left !== null) left.sendMessage(message, ChannelDirection.READ);
        else handler.processReadMessage(newSlot, message);
      } catch (error) {
        message.release();
        for (let j = i + 1; j < messages.length; j++) messages[j].release();
        newSlot.channel.shutdown(error instanceof SluiceError ? error : null);
        return;
      }
    }
  }

  /** Nothing is written before the decision; passes writes on. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  /** Nothing is right of the sniffer: no window to pass on. */
  incrementReadWindow(): void {}

  /** Releases what it holds and completes the direction at once. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) this.releaseHeld();
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Enough for any first read to decide. */
  initialWindowSize(): number {
    return SNIFF_WINDOW;
  }

  /** The sniffer adds nothing to messages. */
  messageOverhead(): number {
    return 0;
  }

  /** Releases held messages and stops the timeout when removed before deciding. */
  destroy(): void {
    if (this.timeoutTask.isScheduled) this.slot?.channel.unscheduleTask(this.timeoutTask);
    if (!this.isDecided) this.releaseHeld();
  }

  private releaseHeld(): void {
    const messages = this.held.splice(0);
    for (const message of messages) message.release();
  }
}
