/**
 * The convenient WebSocket API: promises, an async iterable of messages, a close event.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { SluiceError } from '../../../lib/index.js';
import { WebSocketConnectionErrors, WebSocketEncodeErrors } from '../errors.js';
import { WebSocketConnection } from '../connection/websocket-connection.js';

/** A received message: text as a string, binary as bytes. */
export type WebSocketMessage = string | Uint8Array;

/** How a WebSocket ended, as its `close` event and {@link WebSocket.closed} report it. */
export interface WebSocketCloseEvent {
  /** The peer's close code (1005 when its Close had none), or 1006 when no Close was received. */
  readonly code: number;
  /** The peer's close reason. */
  readonly reason: string;
  /** Whether a Close frame was received (the close handshake happened, at least the peer's half). */
  readonly wasClean: boolean;
  /** Why it ended abnormally (a protocol error, a timeout, the socket's error), or null. */
  readonly error: SluiceError | null;
}

/** The events of a {@link WebSocket}. */
export interface WebSocketEvents {
  /** Once, when the connection is over. */
  close: [event: WebSocketCloseEvent];
}

/**
 * WebSocket is the convenient layer over a {@link WebSocketConnection} (which it drives in manual
 * window mode): `send` resolves when the message reached the socket, so awaiting it is the
 * back-pressure; messages are read with `for await (const message of ws)` — a message counts as
 * consumed (and read credit goes back to the socket) when the loop takes it; `close()` runs the
 * close handshake; `ping()` measures a round trip. Nothing it does emits `'error'`: failures reject
 * the promise of the call, and the end of the connection is one `close` event (and
 * {@link WebSocket.closed}).
 *
 * A client gets one from `connectWebSocket`. A handshake creates one with `acceptWebSocket` or
 * `serveWebSocketChannel`, or over a connection constructed with `isManualWindow: true` before the
 * channel delivers anything.
 */
export class WebSocket extends EventEmitter<WebSocketEvents> {
  /** The connection underneath. */
  readonly connection: WebSocketConnection;
  /** The subprotocol the handshake chose, or undefined. */
  readonly protocol: string | undefined;
  /** Resolves once the connection is over (never rejects). */
  readonly closed: Promise<WebSocketCloseEvent>;
  private readonly received: WebSocketMessage[] = [];
  private readonly waiting: ((result: IteratorResult<WebSocketMessage>) => void)[] = [];
  private readonly pings = new Map<
    number,
    { sentAt: number; resolve: (rtt: number) => void; reject: (error: SluiceError) => void }
  >();
  private nextPingId = 1;
  private closeEvent: WebSocketCloseEvent | null = null;
  private resolveClosed!: (event: WebSocketCloseEvent) => void;

  /**
   * Drives `connection` (replacing its listener); `protocol` is the negotiated subprotocol.
   * Throws `WEBSOCKET_INVALID_ARGUMENT` when `connection` is not a {@link WebSocketConnection}.
   */
  constructor(connection: WebSocketConnection, protocol?: string) {
    if (!(connection instanceof WebSocketConnection) || !(protocol === undefined || typeof protocol === 'string')) {
      throw new SluiceError(
        WebSocketEncodeErrors.INVALID_ARGUMENT,
        'new WebSocket(connection, protocol): a WebSocketConnection and a string or undefined',
      );
    }
    super();
    this.connection = connection;
    this.protocol = protocol;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    connection.setListener({
      onMessage: (_connection, data, isText) => this.onMessage(isText ? data.toString('utf8') : data),
      onPong: (_connection, payload) => this.onPong(payload),
      onClose: (_connection, code, reason, error) => this.onClose({ code, reason, wasClean: code !== 1006, error }),
    });
  }

  /** Where the close handshake stands. */
  get readyState(): 'open' | 'closing' | 'closed' {
    return this.connection.state;
  }

  /** The negotiated extensions: `'permessage-deflate'` or `''` (as `ws` reports them). */
  get extensions(): string {
    return this.connection.isPerMessageDeflate ? 'permessage-deflate' : '';
  }

  /** Outgoing bytes queued and not yet written. */
  get bufferedAmount(): number {
    return this.connection.bufferedAmount;
  }

  /**
   * Sends a message (a string as text, bytes as binary); resolves once its last byte was handed to
   * the socket, rejects with `WEBSOCKET_CONNECTION_CLOSED` (or the connection's error) if it never
   * will be. Do not modify `data` before it settles.
   */
  send(data: WebSocketMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.connection.send(data, typeof data === 'string', (error) => (error === null ? resolve() : reject(error)));
      } catch (error) {
        reject(error);
      }
    });
  }

  /**
   * Starts the close handshake with `code` (1000 by default) and `reason`; resolves with how the
   * connection ended. Rejects (changing nothing) for a code that may not be sent (1005, 1006, …).
   */
  close(code = 1000, reason = ''): Promise<WebSocketCloseEvent> {
    try {
      this.connection.close(code, reason);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.closed;
  }

  /**
   * Sends a Ping and resolves with the round-trip time in ms when its Pong arrives; rejects once
   * closing, or when the connection ends before the Pong (with its error, or
   * `WEBSOCKET_CONNECTION_CLOSED`).
   */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = this.nextPingId++;
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(id >>> 0);
      try {
        this.connection.ping(payload);
      } catch (error) {
        reject(error);
        return;
      }
      this.pings.set(id >>> 0, { sentAt: this.now(), resolve, reject });
    });
  }

  /** The messages as they arrive; the iteration ends when the connection is over. */
  [Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    return {
      next: () => {
        const message = this.received.shift();
        if (message !== undefined) {
          this.connection.consumeMessage();
          return Promise.resolve({ value: message, done: false });
        }
        if (this.closeEvent !== null) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiting.push(resolve));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** The same as iterating the WebSocket itself. */
  get messages(): AsyncIterable<WebSocketMessage> {
    return { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
  }

  private now(): number {
    return this.connection.channelSlot?.channel.loop.now() ?? performance.now();
  }

  private onMessage(message: WebSocketMessage): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) {
      this.received.push(message);
      return;
    }
    this.connection.consumeMessage();
    waiter({ value: message, done: false });
  }

  private onPong(payload: Uint8Array): void {
    if (payload.length !== 4) return;
    const id = Buffer.from(payload.buffer, payload.byteOffset, 4).readUInt32BE(0);
    const pending = this.pings.get(id);
    if (pending === undefined) return;
    this.pings.delete(id);
    pending.resolve(this.now() - pending.sentAt);
  }

  private onClose(event: WebSocketCloseEvent): void {
    this.closeEvent = event;
    for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
    // Pings never answered: their promises reject.
    const error = event.error ?? new SluiceError(WebSocketConnectionErrors.CONNECTION_CLOSED);
    for (const pending of this.pings.values()) pending.reject(error);
    this.pings.clear();
    this.resolveClosed(event);
    this.emit('close', event);
  }
}
