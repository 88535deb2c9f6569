/**
 * The callbacks of a {@link WebSocketConnection}.
 *
 * @module
 */
import type { SluiceError } from '../../../lib/index.js';
import type { WebSocketConnection } from './websocket-connection.js';

/**
 * WebSocketConnectionListener receives what a {@link WebSocketConnection} reads, on the channel's
 * loop, in wire order for messages and the Close. A callback that throws fails the connection
 * with 1011 (internal error).
 */
export interface WebSocketConnectionListener {
  /**
   * A whole message (fragments joined, inflated, text checked as UTF-8): `data` is the
   * application's to keep. Text arrives as its UTF-8 bytes with `isText` true. In manual window
   * mode, acknowledge it with {@link WebSocketConnection.consumeMessage} once consumed.
   */
  onMessage?(connection: WebSocketConnection, data: Buffer, isText: boolean): void;
  /**
   * A whole message as {@link WebSocketConnectionListener.onMessage} has it, but `data` is a view
   * **valid only until the callback returns** (often of a pooled read buffer the next read
   * reuses): copy what you keep, and echo it with {@link WebSocketConnection.sendCopy}, not
   * `send`. When set, it is called instead of `onMessage`, and the message counts as consumed
   * when it returns (no {@link WebSocketConnection.consumeMessage}, even in manual window mode).
   * What it saves: the message's own buffer — for a 64 KiB message its allocation and garbage.
   */
  onMessageView?(connection: WebSocketConnection, data: Buffer, isText: boolean): void;
  /** A Ping with its payload (the Pong is already queued). Valid only during the call. */
  onPing?(connection: WebSocketConnection, payload: Uint8Array): void;
  /** A Pong with its payload. Valid only during the call. */
  onPong?(connection: WebSocketConnection, payload: Uint8Array): void;
  /** The peer's Close frame arrived (`code` 1005 when it had none); our answer is queued. */
  onCloseFrame?(connection: WebSocketConnection, code: number, reason: string): void;
  /** Queued outgoing bytes fell below the high-water mark after `send` returned false. */
  onDrain?(connection: WebSocketConnection): void;
  /**
   * The connection is over (called once, when its channel shuts down): `code` and `reason` are
   * the peer's Close (1005 when it had no code), or 1006 when no Close was received — then
   * `error` says why (a protocol error we failed with, a timeout, the socket's error) or is null.
   */
  onClose?(connection: WebSocketConnection, code: number, reason: string, error: SluiceError | null): void;
}
