/**
 * The WebSocket outgoing task: the one place a WebSocket connection writes.
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

/**
 * What the task needs from its connection.
 * @internal
 */
export interface WebSocketOutgoingHost {
  /** Whether anything is ready to be written (control frames, ready data, a Close). */
  hasOutgoingWork(): boolean;
  /** How many bytes the next write wants at most (to pick a small or a full pooled message). */
  outgoingSizeHint(): number;
  /**
   * A pooled message the host already framed data into (see `sendCopy`), to be written first and
   * filled on from its `length`; null when there is none. The task owns what it takes.
   */
  takeStagedMessage(): IoMessage | null;
  /** Writes whole frames into `target[start..limit)`; returns the offset after the last frame. */
  fillOutgoing(target: Uint8Array, start: number, limit: number): number;
  /** The message in flight was written (or a pass ended with nothing to write). */
  onOutgoingWritten(): void;
  /** A write failed or could not be sent. */
  onOutgoingFailed(error: SluiceError): void;
}

/**
 * WebSocketOutgoingTask writes for one connection in the shape of the HTTP/1.1 and HTTP/2 tasks:
 * when woken it fills one pooled message with what the connection has ready, sends it and stops;
 * the message's completion schedules it again (scheduled, not called, so other channels get
 * their turn). One message in flight. On failure it releases the message and reports to the host.
 *
 * Hot path: the task and the completion function are reused; nothing is allocated per write.
 * @internal
 */
export class WebSocketOutgoingTask {
  /** Writing stopped for good (write failure or shutdown). */
  isWritingStopped = false;
  /** Messages sent since creation. */
  messagesWritten = 0;
  /** Bytes sent since creation. */
  bytesWritten = 0;
  private isActive = false;
  private isMessageInFlight = false;
  private readonly task: Task;
  private slot: ChannelSlot | null = null;

  /** Creates the task for a connection. */
  constructor(private readonly host: WebSocketOutgoingHost) {
    this.task = new Task(WebSocketOutgoingTask.runTask, 'websocket-outgoing', this);
  }

  private static runTask(this: void, status: TaskStatus, task: Task): void {
    (task.target as WebSocketOutgoingTask).run(status);
  }

  private static onWriteComplete(this: void, channel: Channel, message: IoMessage, error: SluiceError | null): void {
    (message.userData as WebSocketOutgoingTask).handleWriteComplete(channel, error);
  }

  /** Binds the task to the connection's slot. */
  attach(slot: ChannelSlot): void {
    this.slot = slot;
  }

  /** True while a message is being written. */
  get hasMessageInFlight(): boolean {
    return this.isMessageInFlight;
  }

  /** Makes sure the task will run: schedules it unless it is already scheduled or a write is in flight. */
  wake(): void {
    if (this.isActive || this.slot === null || this.isWritingStopped) return;
    this.isActive = true;
    this.slot.channel.scheduleTaskNow(this.task);
  }

  private run(status: TaskStatus): void {
    const slot = this.slot;
    if (status === TaskStatus.CANCELED || slot === null || this.isWritingStopped) {
      this.isActive = false;
      return;
    }
    const host = this.host;
    if (!host.hasOutgoingWork()) {
      this.isActive = false;
      return;
    }
    let message: IoMessage | null = null;
    try {
      const small = slot.channel.messagePool.smallMessageSize;
      message =
        host.takeStagedMessage() ??
        (host.outgoingSizeHint() <= small ? slot.acquireMessageForWrite(small) : slot.acquireMaxMessageForWrite());
      const written = host.fillOutgoing(message.data, message.length, message.capacity);
      if (written === 0) {
        message.release();
        message = null;
        this.isActive = false;
        host.onOutgoingWritten();
        return;
      }
      message.length = written;
      message.onCompletion = WebSocketOutgoingTask.onWriteComplete;
      message.userData = this;
      this.isMessageInFlight = true;
      this.messagesWritten++;
      this.bytesWritten += written;
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
      host.onOutgoingFailed(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  private handleWriteComplete(channel: Channel, error: SluiceError | null): void {
    this.isMessageInFlight = false;
    if (error !== null) {
      this.isActive = false;
      this.isWritingStopped = true;
      this.host.onOutgoingFailed(error);
      return;
    }
    this.host.onOutgoingWritten();
    if (this.isWritingStopped || !this.host.hasOutgoingWork()) {
      this.isActive = false;
      return;
    }
    // Scheduled, not called: other channels on the loop get their turn first.
    channel.scheduleTaskNow(this.task);
  }
}
