/**
 * The client's HTTP/1.1 opening handshake (RFC 6455 §4.1) as a channel handler: it writes the
 * upgrade request, reads the response with the HTTP/1.1 response parser, and on a valid 101
 * replaces itself in its slot with a {@link WebSocketConnection} (through `acceptWebSocket`),
 * handing over the bytes that followed the 101 in the same read.
 *
 * Why a handler of its own rather than a request on `Http1ClientConnection` whose 101 answer
 * replaces it: that connection is built around reusable exchanges — keep-alive, `onReusable`,
 * read credit held per body, an outgoing task that may still own a message in flight, a 1xx being
 * an interim response — and every one of those would need an upgrade exception, while the slot
 * replacement needs the old handler to own nothing. The handshake is one request and one head:
 * this handler writes it in one go, holds no credit and no message once the 101 is read, and
 * shares the wire layer (`writeRequestHead`, `MessageParser`) with HTTP/1.1, so framing and
 * smuggling rules are the same code.
 *
 * @module
 */
import {
  ChannelDirection,
  ChannelErrors,
  IoErrors,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import { MessageParser, type MessageHead, type MessageParserOptions } from '../../http1/wire/message-parser.js';
import { requestHeadLength, writeRequestHead, type Http1Fields } from '../../http1/wire/message-encoder.js';
import { acceptWebSocket, type WebSocketAcceptOptions, type WebSocketHandshakeResult } from './accept.js';
import type { WebSocket } from './websocket.js';
import { WebSocketHandshakeError, WebSocketHandshakeErrors } from '../errors.js';
import { acceptPerMessageDeflateResponse, type PerMessageDeflateOptions } from '../wire/deflate-negotiation.js';
import { validateUpgradeResponse, type UpgradeOffer } from '../wire/handshake.js';

/** Options of a {@link WebSocketClientHandshake}. */
export interface WebSocketClientHandshakeOptions {
  /** The request target: the URL's path and query. */
  target: string;
  /** Every field of the request, flat `[name, value, …]`, Host and the upgrade fields included. */
  fields: Http1Fields;
  /** What the request offered, to check the response against. */
  offer: UpgradeOffer;
  /** The permessage-deflate options offered, or null when it was not offered. */
  perMessageDeflate: PerMessageDeflateOptions | null;
  /** Fail with `WEBSOCKET_HANDSHAKE_TIMEOUT` when no 101 arrived this long after installation (0: never). */
  timeoutMs: number;
  /** Options of the connection that replaces the handshake. */
  connection: WebSocketAcceptOptions;
  /** Limits of the response head. */
  parser?: MessageParserOptions;
  /** The handshake succeeded: the connection replaced this handler. Called once, on the loop. */
  onOpen(socket: WebSocket): void;
  /** The handshake failed (the channel is shutting down with `error`). Called once, on the loop. */
  onFail(error: SluiceError): void;
}

/** Read window while the response head arrives: its largest size (start line and header block) and more. */
const HANDSHAKE_READ_WINDOW = 64 * 1024;

/**
 * WebSocketClientHandshake is the handler that stands in a client channel's last slot until the
 * server's 101 arrives (see the module comment). It writes the request on its first task, so
 * nothing — no frame — is sent before the 101 (RFC 6455 §4.1). Exactly one of `onOpen` and
 * `onFail` is called.
 */
export class WebSocketClientHandshake implements ChannelHandler {
  private readonly options: WebSocketClientHandshakeOptions;
  private readonly parser: MessageParser;
  private readonly writeTask: Task;
  private readonly timeoutTask: Task;
  private slot: ChannelSlot | null = null;
  private isSettled = false;
  private status = 0;
  private headers: Record<string, string | string[]> = noHeaders();
  private responseBytes = 0;

  /** Creates the handler; install it where the WebSocket will run. */
  constructor(options: WebSocketClientHandshakeOptions) {
    this.options = options;
    this.parser = new MessageParser('response', this, options.parser);
    this.writeTask = new Task(WebSocketClientHandshake.runWrite, 'websocket-handshake-request', this);
    this.timeoutTask = new Task(WebSocketClientHandshake.runTimeout, 'websocket-handshake-timeout', this);
  }

  private static runWrite(this: void, status: TaskStatus, task: Task): void {
    if (status === TaskStatus.RUN_READY) (task.target as WebSocketClientHandshake).writeRequest();
  }

  private static runTimeout(this: void, status: TaskStatus, task: Task): void {
    if (status !== TaskStatus.RUN_READY) return;
    const handshake = task.target as WebSocketClientHandshake;
    handshake.fail(
      new WebSocketHandshakeError(
        WebSocketHandshakeErrors.HANDSHAKE_TIMEOUT,
        `no response to the upgrade request within ${handshake.options.timeoutMs} ms`,
      ),
    );
  }

  // ---------------------------------------------------------------- channel handler

  /** Schedules the request and arms the timeout. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    slot.channel.scheduleTaskNow(this.writeTask);
    if (this.options.timeoutMs > 0) slot.channel.scheduleTaskAfter(this.timeoutTask, this.options.timeoutMs);
  }

  /** Parses the response; on a 101 hands the connection over, with the bytes after the head. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.isSettled) {
      message.release();
      return;
    }
    const length = message.length;
    let position: number;
    try {
      position = this.parser.execute(message.data, 0, length);
    } catch (error) {
      message.release();
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
      return;
    }
    this.responseBytes += position;
    if (!this.parser.isStopped) {
      message.release();
      slot.incrementReadWindow(length);
      return;
    }
    // The connection copies what it is handed, so the message can go back to the pool after.
    const rest = position < length ? message.data.subarray(position, length) : undefined;
    try {
      this.open(slot, rest);
    } finally {
      message.release();
    }
  }

  /** Nothing is written through the handshake from its right. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    throw new SluiceError(
      ChannelErrors.INVALID_SLOT_OPERATION,
      `the WebSocket handshake does not accept raw writes (${message.length} bytes)`,
    );
  }

  /** Nothing to its right reads. */
  incrementReadWindow(): void {}

  /** The channel shuts down: before the 101 that is the handshake's failure. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ && !this.isSettled) {
      // A peer that closes cleanly (or a socket error meaning the same) gets the handshake's own
      // code; a reset, a TLS failure or a local error keeps its code.
      const isPeerClose = error === null || error.code === IoErrors.SOCKET_CLOSED.code;
      this.settleFailed(
        isPeerClose
          ? new WebSocketHandshakeError(
              WebSocketHandshakeErrors.HANDSHAKE_CLOSED,
              this.responseBytes === 0
                ? 'the server closed the connection without answering the upgrade request'
                : `the server closed the connection after ${this.responseBytes} bytes of its response`,
              error === null ? undefined : { cause: error },
            )
          : error,
      );
    }
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Room for the response head. */
  initialWindowSize(): number {
    return HANDSHAKE_READ_WINDOW;
  }

  /** No per-message overhead. */
  messageOverhead(): number {
    return 0;
  }

  // ---------------------------------------------------------------- parser listener

  /** @internal */
  onField(name: string, value: string): void {
    const key = name.toLowerCase();
    const previous = this.headers[key];
    if (previous === undefined) this.headers[key] = value;
    else if (typeof previous === 'string') this.headers[key] = [previous, value];
    else previous.push(value);
  }

  /** @internal */
  onHeadComplete(head: MessageHead): void {
    if (head.status === 101) {
      this.status = 101;
      return;
    }
    if (head.status < 200) {
      // An interim response (100, 103): the answer to the upgrade is still to come.
      this.headers = noHeaders();
      return;
    }
    // A final answer other than 101: the handshake failed (RFC 6455 §4.1); the rest of the
    // response is not read. validateUpgradeResponse throws the error that carries it.
    validateUpgradeResponse(head.status, this.headers, this.options.offer);
  }

  /** @internal */
  onBody(): void {}

  /** @internal */
  onTrailerField(): void {}

  /** @internal */
  onMessageComplete(): void {}

  // ---------------------------------------------------------------- steps

  private writeRequest(): void {
    const slot = this.slot;
    if (slot === null || this.isSettled) return;
    const { target, fields } = this.options;
    try {
      const head = Buffer.allocUnsafe(requestHeadLength('GET', target, fields));
      writeRequestHead(head, 0, 'GET', target, fields);
      // One message when it fits (it always does but for huge extra headers).
      let offset = 0;
      while (offset < head.length) {
        const message = slot.acquireMessageForWrite(head.length - offset);
        offset += message.append(head, offset);
        try {
          slot.sendMessage(message, ChannelDirection.WRITE);
        } catch (error) {
          message.release();
          throw error;
        }
      }
    } catch (error) {
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  private open(slot: ChannelSlot, rest: Uint8Array | undefined): void {
    let handshake: WebSocketHandshakeResult;
    let socket: WebSocket;
    try {
      // RFC 6455 §4.1: a response that breaks a rule fails the connection.
      const response = validateUpgradeResponse(this.status, this.headers, this.options.offer);
      const offered = this.options.perMessageDeflate;
      const perMessageDeflate = offered === null ? null : acceptPerMessageDeflateResponse(response.extensions, offered);
      handshake =
        response.protocol === undefined
          ? { role: 'client', perMessageDeflate }
          : { role: 'client', perMessageDeflate, protocol: response.protocol };
      if (this.timeoutTask.isScheduled) slot.channel.unscheduleTask(this.timeoutTask);
      // Replaces (and destroys) this handler; on a throw the slot is unchanged.
      socket = acceptWebSocket(slot, handshake, rest, this.options.connection);
    } catch (error) {
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
      return;
    }
    this.isSettled = true;
    this.options.onOpen(socket);
  }

  private fail(error: SluiceError): void {
    if (this.isSettled) return;
    this.settleFailed(error);
    this.slot?.channel.shutdown(error);
  }

  private settleFailed(error: SluiceError): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.options.onFail(error);
  }
}

function noHeaders(): Record<string, string | string[]> {
  return Object.create(null) as Record<string, string | string[]>;
}
