/**
 * The WebSocket workload of the simulator: one to three connections, each HTTP/1.1 (the upgrade
 * through the server connection's upgrade seam and the client's handshake handler) or HTTP/2
 * (RFC 8441 extended CONNECT, one to three WebSockets on the connection), as the seed picks. Both
 * ends send seeded text and binary messages of 0 B to ~290 KiB (the largest go out in
 * fragments) and pings, consume what they read after a seeded delay, and close with seeded codes
 * — the client, the server or both at once; some seeds turn keep-alive pings on.
 *
 * The handshakes run on callbacks, not promises: a virtual loop runs no promise continuations,
 * so `webSocketUpgrade` (its accept step always awaits) and `connectWebSocket` stay out and the
 * pieces under them run instead. permessage-deflate stays out too: zlib completes on libuv's
 * thread pool, outside the virtual loop.
 */
import {
  simulatedChannel,
  type Channel,
  type InvariantChecker,
  type SeededRandom,
  type SimulatedNetwork,
  SluiceError,
} from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import { Http1ServerConnection, type Http1Fields, type Http1Upgrade } from '../../handlers/http1/index.js';
import { Http2ClientConnection, Http2ServerConnection } from '../../handlers/http2/index.js';
import {
  CloseCode,
  acceptWebSocket,
  acceptWebSocketOverHttp2,
  extendedConnectRequestHeaders,
  upgradeResponseHeaders,
  validateUpgradeRequest,
  type HandshakeHeaders,
  type WebSocket,
  type WebSocketAcceptOptions,
  type WebSocketConnection,
} from '../../handlers/websocket/index.js';
import { http1Handshake } from '../../handlers/websocket/api/connect-http1.js';
import { ClientHandshake as ExtendedConnectHandshake } from '../../handlers/websocket/api/http2-client.js';
import { bodyBytes } from './sim-bodies.js';

/** One message a side sends. */
interface MessagePlan {
  readonly size: number;
  readonly isText: boolean;
  /** Sent this long after the previous one (or the open), ms. */
  readonly gapMs: number;
}

/** What one end of a WebSocket does. */
interface SidePlan {
  readonly messages: readonly MessagePlan[];
  /** A ping this long after the open, each (ms). */
  readonly pingsAtMs: readonly number[];
  /** A message read is consumed (its read credit returned) this long after it arrived, ms. */
  readonly consumeDelayMs: number;
  /** This end starts the close once it wrote all and read all. */
  readonly isCloser: boolean;
  /** ...or once it handed all to `send` and read all: its Close queues behind its data. */
  readonly isEarlyClose: boolean;
  /** Its close code (undefined: an empty Close, which the peer reports as 1005). */
  readonly closeCode: number | undefined;
  readonly closeReason: string;
  readonly closeDelayMs: number;
}

/** One WebSocket: its index over the run (the path, the body seeds) and what each end does. */
interface SocketPlan {
  readonly index: number;
  readonly startDelayMs: number;
  readonly client: SidePlan;
  readonly server: SidePlan;
}

/** One TCP connection: its HTTP version, its WebSockets (one over HTTP/1.1) and their options. */
interface ConnectionPlan {
  readonly isHttp2: boolean;
  readonly sockets: readonly SocketPlan[];
  readonly options: WebSocketAcceptOptions;
}

const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.GOING_AWAY,
  CloseCode.NO_STATUS_RECEIVED,
]);

function planSide(random: SeededRandom, isCloser: boolean): SidePlan {
  const size = (): number => {
    const roll = random.below(100);
    if (roll < 10) return 0;
    if (roll < 35) return random.between(1, 125);
    if (roll < 80) return random.between(126, 65_535);
    if (roll < 95) return random.between(65_536, 200_000);
    return random.between(200_000, 290_000);
  };
  const closeCode = random.pick([undefined, 1000, 1001, 3000 + random.below(1000), 4000 + random.below(1000)]);
  return {
    messages: Array.from({ length: random.between(0, 5) }, () => ({
      size: size(),
      isText: random.chance(0.4),
      gapMs: random.chance(0.5) ? 0 : random.below(50),
    })),
    pingsAtMs: Array.from({ length: random.between(0, 3) }, () => random.below(400)),
    consumeDelayMs: random.chance(0.6) ? 0 : random.below(200),
    isCloser,
    isEarlyClose: random.chance(0.3),
    closeCode,
    closeReason: closeCode === undefined || random.chance(0.5) ? '' : `bye ${random.below(1000)}`,
    closeDelayMs: random.below(30),
  };
}

function planConnections(random: SeededRandom): ConnectionPlan[] {
  let index = 0;
  return Array.from({ length: random.between(1, 3) }, () => {
    const isHttp2 = random.chance(0.5);
    const isKeepAlive = random.chance(0.3);
    return {
      isHttp2,
      sockets: Array.from({ length: isHttp2 ? random.between(1, 3) : 1 }, () => {
        const closer = random.pick(['client', 'server', 'both'] as const);
        return {
          index: index++,
          startDelayMs: random.below(50),
          client: planSide(random, closer !== 'server'),
          server: planSide(random, closer !== 'client'),
        };
      }),
      options: {
        readWindowSize: random.pick([4096, 65_536, 256 * 1024]),
        closeTimeoutMs: random.pick([2000, 5000, 10_000]),
        ...(isKeepAlive ? { pingIntervalMs: random.between(50, 1000), pongTimeoutMs: 30_000 } : {}),
      },
    };
  });
}

/** The bytes of message `position` that `direction` (0 client, 1 server) of socket `index` sends: text is valid UTF-8. */
function messageBytes(seed: number, index: number, direction: number, position: number, plan: MessagePlan): Buffer {
  const bytes = bodyBytes(seed, index * 64 + position, direction, plan.size);
  if (!plan.isText) return bytes;
  // Mostly ASCII, with two- and three-byte characters that fragment boundaries may split.
  const text = Buffer.allocUnsafe(plan.size);
  let at = 0;
  for (let i = 0; at < plan.size; i++) {
    const roll = bytes[i];
    if (roll >= 240 && at + 3 <= plan.size) at += text.write('€', at);
    else if (roll >= 200 && at + 2 <= plan.size) at += text.write('é', at);
    else text[at++] = 0x20 + (roll % 95);
  }
  return text;
}

/** The code a side's Close carries as the peer reports it. */
function reportedCode(plan: SidePlan): number {
  return plan.closeCode ?? CloseCode.NO_STATUS_RECEIVED;
}

/**
 * One end of a WebSocket: sends its messages in turn, checks what the peer sends arrives whole
 * and in order, closes when its plan says, and checks how the connection ended.
 */
class Endpoint {
  /** Messages handed to `send` (none after the close started). */
  sentCount = 0;
  private writtenCount = 0;
  private receivedCount = 0;
  private connection: WebSocketConnection | null = null;
  /** How it ended: the code `onClose` reported, or null while open (or never opened). */
  closeCode: number | null = null;
  peer: Endpoint | null = null;

  constructor(
    private readonly network: SimulatedNetwork,
    private readonly checker: InvariantChecker,
    private readonly label: string,
    private readonly socket: SocketPlan,
    private readonly direction: number,
    private readonly onOver: () => void,
    /** The simulated connection it runs on (its index in connection order). */
    readonly connectionIndex: number,
  ) {}

  /** Whether a fault hit this endpoint's connection: only then may it fail. */
  private get isFaulty(): boolean {
    return this.network.isFaulted(this.connectionIndex);
  }

  private get plan(): SidePlan {
    return this.direction === 0 ? this.socket.client : this.socket.server;
  }

  private get peerPlan(): SidePlan {
    return this.direction === 0 ? this.socket.server : this.socket.client;
  }

  get isOpened(): boolean {
    return this.connection !== null;
  }

  /** The handshake succeeded: take the connection over. */
  start(connection: WebSocketConnection): void {
    const { network, checker, label } = this;
    this.connection = connection;
    network.trace(`${label} open`);
    connection.setListener({
      onMessage: (c, data, isText) => this.onMessage(c, data, isText),
      onPong: () => network.trace(`${label} pong`),
      onCloseFrame: (_c, code) => network.trace(`${label} close frame ${code}`),
      onClose: checker.once(`${label} onClose`, (_c: WebSocketConnection, code: number, _r: string, error) =>
        this.onClose(code, error),
      ),
    });
    const now = network.loop.now();
    for (const atMs of this.plan.pingsAtMs) {
      network.at(
        now + atMs,
        () => {
          if (connection.state === 'open') connection.ping(Buffer.from(`ping ${atMs}`));
        },
        'websocket-ping',
      );
    }
    this.sendFrom(0);
    this.maybeClose();
  }

  private sendFrom(position: number): void {
    const messages = this.plan.messages;
    if (position >= messages.length) return;
    const { network, checker, label } = this;
    const connection = this.connection!;
    network.at(
      network.loop.now() + messages[position].gapMs,
      () => {
        if (connection.state !== 'open') return;
        const data = messageBytes(network.seed, this.socket.index, this.direction, position, messages[position]);
        this.sentCount++;
        connection.send(
          data,
          messages[position].isText,
          checker.once(`${label} send ${position}`, (error: SluiceError | null) => {
            if (error !== null) {
              checker.checkTyped(error, `${label} send ${position}`);
              checker.check(this.isFaulty, `${label} send ${position} failed without faults`);
              return;
            }
            this.writtenCount++;
            this.maybeClose();
          }),
        );
        this.sendFrom(position + 1);
        this.maybeClose();
      },
      'websocket-send',
    );
  }

  private onMessage(connection: WebSocketConnection, data: Buffer, isText: boolean): void {
    const { network, checker, label } = this;
    const position = this.receivedCount++;
    network.trace(`${label} message ${position} ${data.length}`);
    const plan = this.peerPlan.messages[position];
    if (plan === undefined) {
      checker.check(false, `${label}: message ${position} arrived; the peer sends ${this.peerPlan.messages.length}`);
    } else {
      const expected = messageBytes(network.seed, this.socket.index, 1 - this.direction, position, plan);
      checker.check(
        isText === plan.isText && data.equals(expected),
        `${label}: message ${position} (${plan.size} bytes, ${plan.isText ? 'text' : 'binary'}) arrived ` +
          `as ${data.length} ${isText ? 'text' : 'binary'} bytes or corrupted`,
      );
    }
    const delay = this.plan.consumeDelayMs;
    if (delay === 0) connection.consumeMessage();
    else network.at(network.loop.now() + delay, () => connection.consumeMessage(), 'websocket-consume');
    this.maybeClose();
  }

  /**
   * A closer closes once everything it sends was written (or, closing early, handed to `send`)
   * and everything the peer sends was read.
   */
  private maybeClose(): void {
    const plan = this.plan;
    const connection = this.connection;
    if (!plan.isCloser || connection === null || connection.state !== 'open') return;
    const done = plan.isEarlyClose ? this.sentCount : this.writtenCount;
    if (done < plan.messages.length || this.receivedCount < this.peerPlan.messages.length) return;
    this.network.at(
      this.network.loop.now() + plan.closeDelayMs,
      () => {
        if (connection.state !== 'open') return;
        this.network.trace(`${this.label} close ${plan.closeCode ?? 'empty'}`);
        connection.close(plan.closeCode, plan.closeReason);
      },
      'websocket-close',
    );
  }

  private onClose(code: number, error: SluiceError | null): void {
    const { network, checker, label } = this;
    const isFaulty = this.isFaulty;
    network.trace(`${label} closed ${code} ${error?.code ?? 'ok'}`);
    this.closeCode = code;
    if (error !== null) {
      checker.checkTyped(error, label);
      checker.check(isFaulty, `${label} ended with ${error.code} on a network without faults`);
    }
    if (code === CloseCode.ABNORMAL_CLOSURE) {
      checker.check(isFaulty, `${label} ended without a Close (1006) on a network without faults`);
    } else {
      // A Close came: what the peer sent before it came too — never silently short.
      const expected = [this.socket.client, this.socket.server].filter((side) => side.isCloser).map(reportedCode);
      checker.check(
        expected.includes(code) || (isFaulty && NORMAL_CLOSE_CODES.has(code)),
        `${label}: the peer closed with ${code}, expected ${expected.join(' or ')}`,
      );
      const peerSent = this.peer?.sentCount ?? 0;
      checker.check(
        this.receivedCount === peerSent,
        `${label}: a clean Close after ${this.receivedCount} of the ${peerSent} messages the peer sent`,
      );
    }
    if (!isFaulty) {
      checker.check(
        this.receivedCount === this.peerPlan.messages.length && this.writtenCount === this.plan.messages.length,
        `${label}: read ${this.receivedCount} of ${this.peerPlan.messages.length} and wrote ` +
          `${this.writtenCount} of ${this.plan.messages.length} messages without faults`,
      );
    }
    this.onOver();
  }
}

/** The fields of a request's head keyed by lower-case name, as the handshake checks read them. */
function handshakeHeaders(fields: Http1Fields): HandshakeHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    const seen = headers[name];
    headers[name] = seen === undefined ? fields[i + 1] : [seen, fields[i + 1]].flat();
  }
  return headers;
}

/** Runs the WebSocket workload on `network`; what breaks an invariant goes to `checker`. */
export function websocketWorkload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const { random } = network;
  const connections = planConnections(random);
  const channels: Channel[] = [];
  const addChannel = (socket: WebSocket): void => {
    const channel = socket.connection.channelSlot?.channel;
    if (channel !== undefined && !channels.includes(channel)) channels.push(channel);
  };
  const endpoints = new Map<number, { client: Endpoint; server: Endpoint }>();

  for (const [connectionIndex, plan] of connections.entries()) {
    const { client: clientSocket, server: serverSocket } = network.connect();
    let openCount = plan.sockets.length;
    let closeClient = (): void => {};
    const onSocketOver = (): void => {
      if (--openCount === 0) closeClient();
    };
    for (const socket of plan.sockets) {
      const label = `ws ${socket.index} (conn ${connectionIndex}, HTTP/${plan.isHttp2 ? '2' : '1.1'})`;
      const client = new Endpoint(network, checker, `${label} client`, socket, 0, onSocketOver, connectionIndex);
      const server = new Endpoint(network, checker, `${label} server`, socket, 1, () => {}, connectionIndex);
      client.peer = server;
      server.peer = client;
      endpoints.set(socket.index, { client, server });
    }
    const serverStart = (socket: WebSocket, path: string): void => {
      addChannel(socket);
      const pair = endpoints.get(Number(path.slice(1)));
      if (pair === undefined) checker.check(false, `conn ${connectionIndex}: a WebSocket for ${path}`);
      else pair.server.start(socket.connection);
    };
    const clientStart = (socket: SocketPlan, label: string) => ({
      onOpen: (opened: WebSocket): void => {
        addChannel(opened);
        endpoints.get(socket.index)!.client.start(opened.connection);
      },
      onFail: (error: unknown): void => {
        network.trace(`${label} handshake failed`);
        checker.checkTyped(error, `${label} handshake`);
        checker.check(
          network.isFaulted(connectionIndex),
          `${label} handshake failed without faults on its connection: ${String(error)}`,
        );
        onSocketOver();
      },
    });

    if (plan.isHttp2) {
      const server = new Http2ServerConnection({
        enableConnectProtocol: true,
        onStream: (stream, headers) => {
          const isWebSocket = acceptWebSocketOverHttp2(stream, headers, {
            onWebSocket: (socket, request) => serverStart(socket, request.path),
            connection: plan.options,
          });
          checker.check(isWebSocket, `conn ${connectionIndex}: a stream that is not an extended CONNECT`);
        },
      });
      let hasSettings = false;
      const client: Http2ClientConnection = new Http2ClientConnection({
        onRemoteSettings: (settings) => {
          if (hasSettings) return;
          hasSettings = true;
          checker.check(settings.enableConnectProtocol, `conn ${connectionIndex}: extended CONNECT not enabled`);
          for (const socket of plan.sockets) {
            network.at(network.loop.now() + socket.startDelayMs, () => openOverHttp2(socket), 'websocket-open');
          }
        },
      });
      closeClient = () => void client.close();
      const openOverHttp2 = (socket: SocketPlan): void => {
        const label = `ws ${socket.index} (conn ${connectionIndex}, HTTP/2) client`;
        const { onOpen, onFail } = clientStart(socket, label);
        const settle = checker.once(`${label} handshake`, (outcome: WebSocket | { error: unknown }) =>
          'error' in outcome ? onFail(outcome.error) : onOpen(outcome),
        );
        const handshake = new ExtendedConnectHandshake(
          { connection: plan.options },
          false,
          (opened) => settle(opened),
          (error) => settle({ error }),
        );
        try {
          const fields = extendedConnectRequestHeaders({ scheme: 'http', authority: 'sim', path: `/${socket.index}` });
          handshake.start(client.request(fields, { handler: handshake, isManualWindow: true }));
        } catch (error) {
          // The connection went (a fault) before this WebSocket asked.
          settle({ error });
        }
      };
      channels.push(
        simulatedChannel(network, clientSocket, socketTransport, (channel) => channel.appendHandler(client)),
        simulatedChannel(network, serverSocket, socketTransport, (channel) => channel.appendHandler(server)),
      );
      continue;
    }

    const socket = plan.sockets[0];
    const label = `ws ${socket.index} (conn ${connectionIndex}, HTTP/1.1) client`;
    const upgrade: Http1Upgrade = {
      protocol: 'websocket',
      takes: () => true,
      onUpgrade: (exchange) => {
        const request = exchange.request;
        let fields: Http1Fields;
        try {
          fields = upgradeResponseHeaders(
            validateUpgradeRequest(request.method, handshakeHeaders(request.headers)),
          ).flat();
        } catch (error) {
          checker.check(false, `conn ${connectionIndex}: the upgrade request was refused: ${String(error)}`);
          exchange.refuse(400);
          return;
        }
        exchange.switchProtocols(fields, (slot, handedOverBytes) => {
          const opened = acceptWebSocket(
            slot,
            { role: 'server', perMessageDeflate: null },
            handedOverBytes,
            plan.options,
          );
          serverStart(opened, request.target);
          return opened.connection.channelSlot!;
        });
      },
    };
    const server = new Http1ServerConnection({
      upgrades: [upgrade],
      onRequest: () => checker.check(false, `conn ${connectionIndex}: a request that is not an upgrade`),
    });
    const { onOpen, onFail } = clientStart(socket, label);
    const settle = checker.once(`${label} handshake`, (outcome: WebSocket | { error: unknown }) =>
      'error' in outcome ? onFail(outcome.error) : onOpen(outcome),
    );
    const { handler: handshake } = http1Handshake(
      {
        isSecure: false,
        host: 'sim',
        port: 80,
        authority: 'sim',
        target: `/${socket.index}`,
        protocols: [],
        perMessageDeflate: null,
        fields: [],
        handshakeTimeoutMs: 10_000,
        connection: plan.options,
      },
      (outcome) => settle(outcome instanceof SluiceError ? { error: outcome } : outcome),
    );
    channels.push(
      simulatedChannel(network, clientSocket, socketTransport, (channel) => channel.appendHandler(handshake)),
      simulatedChannel(network, serverSocket, socketTransport, (channel) => channel.appendHandler(server)),
    );
  }

  network.run();
  for (const [index, { client, server }] of endpoints) {
    if (!network.isFaulted(client.connectionIndex)) {
      checker.check(client.closeCode !== null, `ws ${index} client never closed`);
      checker.check(server.closeCode !== null, `ws ${index} server never closed`);
    }
  }
  checker.checkQuiescent(network, channels);
}
