/**
 * A test-only opening handshake for loopback tests, standing where the HTTP/1.1 handler will: the
 * server side reads the upgrade request and answers 101 (or 400/426), the client side writes the
 * upgrade request and reads the 101. Then it either stays as a pass-through and forwards every
 * later byte unchanged to a WebSocketConnection it put to its right (`'forward'`), or replaces
 * itself with one through `acceptWebSocket`, handing over the bytes read past the handshake
 * (`'replace'`, the seam the HTTP/1.1 upgrade will use).
 */
import {
  ChannelDirection,
  SluiceError,
  Task,
  TaskStatus,
  ChannelErrors,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../../lib/index.js';
import { WebSocketConnection } from '../../../handlers/websocket/connection/websocket-connection.js';
import { WebSocket } from '../../../handlers/websocket/api/websocket.js';
import {
  acceptWebSocket,
  type WebSocketAcceptOptions,
  type WebSocketHandshakeResult,
} from '../../../handlers/websocket/api/accept.js';
import {
  generateWebSocketKey,
  upgradeResponseHeaders,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type HandshakeHeaders,
} from '../../../handlers/websocket/wire/handshake.js';
import {
  acceptPerMessageDeflateResponse,
  negotiatePerMessageDeflate,
  offerPerMessageDeflate,
  type PerMessageDeflateOptions,
} from '../../../handlers/websocket/wire/deflate-negotiation.js';
import { WebSocketHandshakeError } from '../../../handlers/websocket/errors.js';

/** Options of a {@link TestHandshakeHandler}. */
export interface TestHandshakeOptions {
  role: 'server' | 'client';
  /** How the WebSocket takes over. */
  mode?: 'forward' | 'replace';
  /** permessage-deflate options to offer (client) or accept (server); off when absent. */
  perMessageDeflate?: PerMessageDeflateOptions;
  /** Options of the WebSocket connection. */
  connection?: WebSocketAcceptOptions;
  /** Called with the WebSocket once the handshake is done (or with the error that failed it). */
  onWebSocket: (error: Error | null, socket: WebSocket | null) => void;
  /** Client: the request path and host. */
  path?: string;
  host?: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 16 * 1024;

function parseHead(head: string): { startLine: string; headers: Record<string, string | string[]> } {
  const lines = head.split('\r\n');
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    headers[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return { startLine: lines[0] ?? '', headers };
}

/** The test handshake handler (see the module comment). */
export class TestHandshakeHandler implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private head: Buffer = Buffer.alloc(0);
  private isUpgraded = false;
  private key = '';
  private readonly requestTask: Task;

  constructor(private readonly options: TestHandshakeOptions) {
    this.requestTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.writeRequest();
    }, 'test-handshake-request');
  }

  installed(slot: ChannelSlot): void {
    this.slot = slot;
    if (this.options.role === 'client') slot.channel.scheduleTaskNow(this.requestTask);
  }

  private write(text: string): void {
    const slot = this.slot!;
    const bytes = Buffer.from(text, 'latin1');
    const message = slot.acquireMessageForWrite(bytes.length);
    message.append(bytes);
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  private writeRequest(): void {
    this.key = generateWebSocketKey();
    const lines = [
      `GET ${this.options.path ?? '/'} HTTP/1.1`,
      `Host: ${this.options.host ?? 'localhost'}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${this.key}`,
      'Sec-WebSocket-Version: 13',
    ];
    if (this.options.perMessageDeflate !== undefined) {
      lines.push(`Sec-WebSocket-Extensions: ${offerPerMessageDeflate(this.options.perMessageDeflate)}`);
    }
    this.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.isUpgraded) {
      slot.sendMessage(message, ChannelDirection.READ);
      return;
    }
    const length = message.length;
    this.head = Buffer.concat([this.head, message.data.subarray(0, length)]);
    message.release();
    const end = this.head.indexOf(HEAD_END);
    if (end < 0) {
      if (this.head.length > MAX_HEAD) slot.channel.shutdown(new SluiceError(ChannelErrors.HANDLER_FAILED, 'head'));
      else slot.incrementReadWindow(length);
      return;
    }
    const rest = Buffer.from(this.head.subarray(end + 4));
    const { startLine, headers } = parseHead(this.head.subarray(0, end).toString('latin1'));
    this.head = Buffer.alloc(0);
    let handshake: WebSocketHandshakeResult;
    try {
      handshake = this.options.role === 'server' ? this.answer(startLine, headers) : this.check(startLine, headers);
    } catch (error) {
      if (error instanceof WebSocketHandshakeError && this.options.role === 'server') {
        const extra = error.status === 426 ? 'Sec-WebSocket-Version: 13\r\n' : '';
        this.write(`HTTP/1.1 ${error.status} No\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
      }
      this.options.onWebSocket(error as Error, null);
      slot.channel.shutdown(null);
      return;
    }
    this.isUpgraded = true;
    if (this.options.mode === 'replace') {
      const socket = acceptWebSocket(slot, handshake, rest, this.options.connection);
      this.options.onWebSocket(null, socket);
      return;
    }
    const connection = new WebSocketConnection({
      ...this.options.connection,
      role: handshake.role,
      perMessageDeflate: handshake.perMessageDeflate,
      isManualWindow: true,
    });
    const socket = new WebSocket(connection, handshake.protocol);
    slot.insertRight(connection);
    // Our window: what the handshake consumed comes back now; forwarded bytes come back as the right returns them.
    slot.incrementReadWindow(length - rest.length);
    this.options.onWebSocket(null, socket);
    if (rest.length > 0) {
      const forward = slot.channel.messagePool.acquire(rest.length);
      forward.append(rest);
      slot.sendMessage(forward, ChannelDirection.READ);
    }
  }

  private answer(startLine: string, headers: HandshakeHeaders): WebSocketHandshakeResult {
    const method = startLine.split(' ')[0] ?? '';
    const request = validateUpgradeRequest(method, headers);
    const negotiated =
      this.options.perMessageDeflate === undefined
        ? null
        : negotiatePerMessageDeflate(request.extensions, this.options.perMessageDeflate);
    const fields = upgradeResponseHeaders(request, negotiated === null ? {} : { extensions: negotiated.response });
    this.write(
      `HTTP/1.1 101 Switching Protocols\r\n${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`,
    );
    return { role: 'server', perMessageDeflate: negotiated?.params ?? null };
  }

  private check(startLine: string, headers: HandshakeHeaders): WebSocketHandshakeResult {
    const status = Number(startLine.split(' ')[1]);
    const offered = this.options.perMessageDeflate;
    const response = validateUpgradeResponse(status, headers, {
      key: this.key,
      extensions: offered === undefined ? [] : ['permessage-deflate'],
    });
    const params = offered === undefined ? null : acceptPerMessageDeflateResponse(response.extensions, offered);
    const result: WebSocketHandshakeResult = { role: 'client', perMessageDeflate: params };
    return response.protocol === undefined ? result : { ...result, protocol: response.protocol };
  }

  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  incrementReadWindow(slot: ChannelSlot, size: number): void {
    if (this.isUpgraded) slot.incrementReadWindow(size);
  }

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (!this.isUpgraded && direction === ChannelDirection.READ) {
      this.isUpgraded = true;
      this.options.onWebSocket(error ?? new Error('closed before the handshake'), null);
    }
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return 64 * 1024;
  }

  messageOverhead(): number {
    return 0;
  }
}
