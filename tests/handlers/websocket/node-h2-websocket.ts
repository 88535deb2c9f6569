/**
 * A WebSocket endpoint nobody here wrote, over a `node:http2` stream: the `ws` package's own
 * `Receiver` and `Sender` speak WebSocket on a node stream of an RFC 8441 extended CONNECT (the
 * client's request stream or the server's stream). It answers Pings, answers a Close with a Close,
 * ends the stream as a TCP close would (RFC 8441 §5: the server after the close handshake, either
 * side when the peer ended), and records everything for the test to look at.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { ws, type WsPerMessageDeflate, type WsSink } from './ws-codec.js';

/** A message the `ws` Receiver read. */
export interface NodeWsMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** The `ws` codec on one node HTTP/2 stream. */
export class NodeWebSocket {
  readonly messages: NodeWsMessage[] = [];
  readonly pings: Buffer[] = [];
  readonly pongs: Buffer[] = [];
  readonly errors: Error[] = [];
  /** The peer's Close (code and reason), once it came. */
  readonly closeFrame: Promise<{ code: number; reason: string }>;
  /** The stream closed: its RST_STREAM code (0 when it ended cleanly both ways). */
  readonly streamClosed: Promise<number>;
  /** The peer ended its side (END_STREAM). */
  readonly peerEnded: Promise<void>;
  private readonly sender: ReturnType<typeof makeSender>;
  private readonly waiters: ((message: NodeWsMessage) => void)[] = [];
  private readonly pongWaiters: ((payload: Buffer) => void)[] = [];
  private isCloseSent = false;
  private isCloseReceived = false;

  constructor(
    readonly stream: http2.ClientHttp2Stream | http2.ServerHttp2Stream,
    readonly role: 'client' | 'server',
    perMessageDeflate: WsPerMessageDeflate | null = null,
  ) {
    const extensions = perMessageDeflate === null ? {} : { 'permessage-deflate': perMessageDeflate };
    this.sender = makeSender(stream, extensions);
    const receiver = new ws.Receiver({ isServer: role === 'server', extensions });
    receiver.on('message', (data, isBinary) => {
      const message = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary };
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter(message);
      else this.messages.push(message);
    });
    receiver.on('ping', (payload) => {
      this.pings.push(payload);
      if (!this.isCloseSent) this.sender.pong(payload, this.isMasking, () => undefined);
    });
    receiver.on('pong', (payload) => {
      const waiter = this.pongWaiters.shift();
      if (waiter !== undefined) waiter(payload);
      else this.pongs.push(payload);
    });
    receiver.on('error', (error) => {
      this.errors.push(error);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    this.closeFrame = new Promise((resolve) =>
      receiver.on('conclude', (code, reason) => {
        this.isCloseReceived = true;
        resolve({ code, reason: reason.toString() });
        if (!this.isCloseSent) this.close(code === 1005 ? undefined : code, '');
        else this.endIfServer();
      }),
    );
    stream.on('data', (chunk: Buffer) => receiver.write(chunk));
    stream.on('error', (error: Error) => this.errors.push(error));
    this.peerEnded = new Promise((resolve) =>
      stream.on('end', () => {
        resolve();
        // The peer closed "TCP": close ours too.
        if (!stream.writableEnded && !stream.destroyed) stream.end();
      }),
    );
    this.streamClosed = new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode ?? 0)));
  }

  private get isMasking(): boolean {
    return this.role === 'client';
  }

  /** Sends a message; resolves when node took it. */
  send(data: Uint8Array | string, options: { binary?: boolean; compress?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sender.send(
        data,
        {
          binary: options.binary ?? typeof data !== 'string',
          compress: options.compress ?? false,
          fin: true,
          mask: this.isMasking,
        },
        (error) => (error === undefined || error === null ? resolve() : reject(error)),
      ),
    );
  }

  /** Sends a Ping. */
  ping(payload: Uint8Array | string): void {
    this.sender.ping(payload, this.isMasking, () => undefined);
  }

  /** Sends a Close (once). */
  close(code: number | undefined, reason = ''): void {
    if (this.isCloseSent) return;
    this.isCloseSent = true;
    this.sender.close(code, reason, this.isMasking, () => {
      if (this.isCloseReceived) this.endIfServer();
    });
  }

  /** The next message (one already read first). */
  nextMessage(): Promise<NodeWsMessage> {
    const message = this.messages.shift();
    if (message !== undefined) return Promise.resolve(message);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next Pong's payload. */
  nextPong(): Promise<Buffer> {
    const pong = this.pongs.shift();
    if (pong !== undefined) return Promise.resolve(pong);
    return new Promise((resolve) => this.pongWaiters.push(resolve));
  }

  /** RFC 6455 §7.1.1: the server closes the connection once both Close frames went; here, END_STREAM. */
  private endIfServer(): void {
    if (this.role === 'server' && !this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }
}

function makeSender(stream: Duplex, extensions: Record<string, unknown>) {
  return new ws.Sender(stream as unknown as WsSink, extensions);
}
