/**
 * The HTTP/1.1 outgoing task: the one place an HTTP/1.1 connection writes.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  Task,
  TaskStatus,
  asSluiceError,
  type Channel,
  type ChannelSlot,
  type IoMessage,
  type SluiceError,
} from '../../../lib/index.js';
import { RecentHead } from '../wire/recent-head.js';
import type { OutgoingMessage } from './outgoing-message.js';

/**
 * What the task needs from its connection.
 * @internal
 */
export interface Http1OutgoingHost {
  /** The message being written now (a server's oldest unfinished response, a client's request), or null. */
  currentOutgoing(): OutgoingMessage | null;
  /**
   * The current message's end was written: the connection moves on to the next one. Returns
   * false when nothing may follow it in this write (the connection closes after it).
   */
  onOutgoingEnded(message: OutgoingMessage): boolean;
  /** A callback of the message threw (its `thrown`). */
  onOutgoingCallbackThrew(message: OutgoingMessage): void;
  /** A message the task sent was written, or a pass ended with nothing to send (the connection may close, tell of drain, or finish a shutdown). */
  onWriteCompleted(): void;
  /** A write failed or could not be sent: shut the connection down with it. */
  onWriteFailed(error: SluiceError): void;
}

/**
 * Test-only switches that plant bugs, so the deterministic simulator's tests can show it finds
 * them (tests/sim). Never set outside those tests.
 * @internal
 */
export const plantedHttp1Bugs = {
  /**
   * A body's end (a chunked body's last chunk, with its trailers) queued while a message is in
   * flight, with no body bytes left before it, is left unsent: the write completion goes
   * inactive without re-checking for it (`wake` did nothing while the task was active).
   */
  dropEndQueuedInFlight: false,
};

/**
 * Http1OutgoingTask writes for one connection, in the shape of the HTTP/2 outgoing-frames task:
 * when woken it fills one pooled message with what the current outgoing messages have ready —
 * heads, body bytes (chunk-framed when chunked), last chunks — in order, sends it, and stops; the
 * message's completion schedules it again (scheduled, not called, so other channels get their
 * turn). One message in flight. On failure it releases the message and reports to the host.
 *
 * Hot path: the task, its function and its completion are reused; the function and the
 * completion are shared by every connection. It is its own {@link Task} (one object, not two). A
 * server connection takes one from a pool ({@link Http1OutgoingTask.take}) when it has output and
 * gives it back once it has been idle a while ({@link Http1OutgoingTask.give}), so idle keep-alive
 * connections carry none.
 * @internal
 */
export class Http1OutgoingTask extends Task {
  /** Tasks given back, at most {@link Http1OutgoingTask.poolLimit}; bound to no connection. */
  private static readonly idle: Http1OutgoingTask[] = [];
  /** How many given-back tasks wait at most (as many as the idle parser pool keeps parsers). */
  static readonly poolLimit = 64;

  /** Writing stopped for good (write failure or immediate shutdown). */
  isWritingStopped = false;
  /** Messages sent since the task was made or taken from the pool. */
  messagesWritten = 0;
  /** Bytes sent since the task was made or taken from the pool. */
  bytesWritten = 0;
  private isActive = false;
  private isMessageInFlight = false;
  private slot: ChannelSlot | null = null;
  /** The connection's last response head, copied when the next is the same. */
  private readonly recentHead = new RecentHead();

  /** Creates the task for a connection. */
  constructor(private host: Http1OutgoingHost) {
    super(Http1OutgoingTask.runTask, 'http1-outgoing');
  }

  /** A task for `host`, bound to `slot`: one given back by another connection, or a new one. */
  static take(host: Http1OutgoingHost, slot: ChannelSlot): Http1OutgoingTask {
    const task = Http1OutgoingTask.idle.pop() ?? new Http1OutgoingTask(host);
    task.host = host;
    task.slot = slot;
    return task;
  }

  /**
   * Gives `task` back for another connection; false (the caller keeps it) while it is scheduled,
   * a message is in flight, or writing stopped. Its counters start again from 0 (the caller
   * adds them to its own first).
   */
  static give(task: Http1OutgoingTask): boolean {
    if (task.isActive || task.isMessageInFlight || task.isWritingStopped) return false;
    // Not the connection's any more: a waiting task must not keep it alive.
    task.host = NO_HOST;
    task.slot = null;
    task.messagesWritten = task.bytesWritten = 0;
    // Another connection's heads are not compared with the next one's.
    task.recentHead.forget();
    if (Http1OutgoingTask.idle.length < Http1OutgoingTask.poolLimit) Http1OutgoingTask.idle.push(task);
    return true;
  }

  private static runTask(this: void, status: TaskStatus, task: Task): void {
    (task as Http1OutgoingTask).run(status);
  }

  private static onWriteComplete(this: void, channel: Channel, message: IoMessage, error: SluiceError | null): void {
    (message.userData as Http1OutgoingTask).handleWriteComplete(channel, error);
  }

  /** Binds the task to the connection's slot. */
  attach(slot: ChannelSlot): void {
    this.slot = slot;
  }

  /** True while a message is being written. */
  get hasMessageInFlight(): boolean {
    return this.isMessageInFlight;
  }

  /** True while the task is scheduled or a message is in flight. */
  get isBusy(): boolean {
    return this.isActive || this.isMessageInFlight;
  }

  /** Makes sure the task will run: schedules it unless it is already scheduled or a write is in flight. */
  wake(): void {
    if (this.isActive || this.slot === null || this.isWritingStopped) return;
    this.isActive = true;
    this.slot.channel.scheduleTaskNow(this);
  }

  private run(status: TaskStatus): void {
    const slot = this.slot;
    if (status === TaskStatus.CANCELED || slot === null || this.isWritingStopped) {
      this.isActive = false;
      return;
    }
    const host = this.host;
    let current = host.currentOutgoing();
    if (current === null || !current.hasWork) {
      this.isActive = false;
      return;
    }
    let message: IoMessage | null = null;
    try {
      const small = slot.channel.messagePool.smallMessageSize;
      const needed = current.pendingSize;
      message = needed <= small ? slot.acquireMessageForWrite(small) : slot.acquireMaxMessageForWrite();
      const target = message.data;
      const limit = message.capacity;
      let offset = 0;
      while (current !== null) {
        offset = current.fill(target, offset, limit, this.recentHead);
        if (current.hasThrown) host.onOutgoingCallbackThrew(current);
        if (!current.isEndWritten || !host.onOutgoingEnded(current)) break;
        current = host.currentOutgoing();
        if (current === null || !current.hasWork || offset >= limit) break;
      }
      if (offset === 0) {
        message.release();
        message = null;
        this.isActive = false;
        // A pass may have ended a message without bytes (a close-delimited end): look again.
        if (host.currentOutgoing()?.hasWork === true) this.wake();
        else host.onWriteCompleted();
        return;
      }
      message.length = offset;
      message.onCompletion = Http1OutgoingTask.onWriteComplete;
      message.userData = this;
      this.isMessageInFlight = true;
      this.messagesWritten++;
      this.bytesWritten += offset;
      const sending = message;
      message = null;
      try {
        slot.sendMessage(sending, ChannelDirection.WRITE);
      } catch (error) {
        // Not accepted: we still own it.
        this.isMessageInFlight = false;
        sending.release();
        throw error;
      }
    } catch (error) {
      message?.release();
      this.isActive = false;
      this.isWritingStopped = true;
      host.onWriteFailed(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  private handleWriteComplete(channel: Channel, error: SluiceError | null): void {
    this.isMessageInFlight = false;
    this.isActive = false;
    const host = this.host;
    if (error !== null) {
      this.isWritingStopped = true;
      host.onWriteFailed(error);
      return;
    }
    // The host may close the connection, finish a shutdown (and stop the writing), wake the task
    // (output given from a drain callback), or give the task back (a host may as it falls idle).
    host.onWriteCompleted();
    if (this.host !== host || this.isActive || this.isWritingStopped) return;
    const current = host.currentOutgoing();
    if (current === null || !current.hasWork || (plantedHttp1Bugs.dropEndQueuedInFlight && isOnlyEndLeft(current))) {
      return;
    }
    // Scheduled, not called: other channels on the loop get their turn first.
    this.isActive = true;
    channel.scheduleTaskNow(this);
  }
}

/** The host of a task waiting in the pool: nothing is asked of it while it waits. */
const NO_HOST: Http1OutgoingHost = {
  currentOutgoing: () => null,
  onOutgoingEnded: () => false,
  onOutgoingCallbackThrew() {},
  onWriteCompleted() {},
  onWriteFailed() {},
};

/** The message has nothing left to write but its end (the planted bug's condition). */
function isOnlyEndLeft(message: OutgoingMessage): boolean {
  return message.isHeadWritten && message.bufferedBytes === 0 && message.isEndQueued && !message.isEndWritten;
}
