/**
 * The HTTP/1.1 workload's raw clients: byte-level peers on a simulated socket for what sluice's
 * HTTP/1.1 client does not do — pipelining (it sends one request at a time) and the h2c upgrade
 * (it has no HTTP/2 side) — so the server is driven the way curl or a proxy drives it.
 */
import type { InvariantChecker, SimulatedNetwork, SimulatedSocket } from '../../lib/index.js';
import { ErrorCode, FrameType, SettingId } from '../../handlers/http2/wire/constants.js';
import { PeerReader, PeerWriter, type WrittenFrame } from '../handlers/http2/peer.js';
import { trailersOf, type ExchangePlan } from './http1-plan.js';
import { RawResponseReader, type RawResponse } from './raw-http1-responses.js';
import { bodyBytes, hashOf } from './sim-bodies.js';

/** What a raw client needs from its workload. */
export interface RawClientContext {
  readonly network: SimulatedNetwork;
  readonly checker: InvariantChecker;
  /** The connection's index: a fault on it excuses a failure. */
  readonly connection: number;
  /** Checked once the run is over. */
  readonly atEnd: (() => void)[];
}

/** The request bytes of `plan`, framed as it says; `isLast` closes the connection with `Connection: close`. */
function requestBytes(seed: number, plan: ExchangePlan, isClosing: boolean): Buffer {
  const body = bodyBytes(seed, plan.index, 0, plan.uploadSize);
  const head = [`POST /${plan.index} HTTP/1.1`, 'Host: sim'];
  if (isClosing) head.push('Connection: close');
  if (!plan.isUploadChunked) {
    head.push(`Content-Length: ${plan.uploadSize}`);
    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]);
  }
  head.push('Transfer-Encoding: chunked');
  const parts: Buffer[] = [Buffer.from(`${head.join('\r\n')}\r\n\r\n`)];
  for (let offset = 0; offset < body.length; offset += plan.chunkSize) {
    const chunk = body.subarray(offset, Math.min(body.length, offset + plan.chunkSize));
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  const trailers = plan.hasUploadTrailers ? trailersOf('upload', plan.trailerPad) : [];
  const trailerLines = trailers.flatMap((value, i) => (i % 2 === 0 ? [`${value}: ${trailers[i + 1]}\r\n`] : []));
  parts.push(Buffer.from(`0\r\n${trailerLines.join('')}\r\n`));
  return Buffer.concat(parts);
}

/** Writes `bytes` in `pieces` writes at seeded split points, a few ms apart; then calls `onWritten`. */
function writeInPieces(
  network: SimulatedNetwork,
  socket: SimulatedSocket,
  bytes: Buffer,
  pieces: number,
  onWritten: () => void = () => {},
): void {
  const cuts = new Set<number>();
  for (let i = 1; i < pieces; i++) cuts.add(network.random.below(bytes.length + 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  let atMs = network.loop.now();
  for (let i = 0; i + 1 < points.length; i++) {
    const piece = bytes.subarray(points[i], points[i + 1]);
    if (piece.length === 0) continue;
    network.at(atMs, () => void (socket.destroyed || socket.writableEnded || socket.write(piece)), 'raw-write');
    atMs += network.random.below(20);
  }
  network.at(atMs, onWritten, 'raw-written');
}

/** Wires the events of a raw client's socket; `onData` may throw (a malformed answer). */
function onSocket(
  context: RawClientContext,
  socket: SimulatedSocket,
  label: string,
  onData: (chunk: Buffer) => void,
  onClose: () => void,
): void {
  socket.on('data', (chunk: Buffer) => {
    try {
      onData(chunk);
    } catch (error) {
      context.checker.check(false, `${label}: ${String(error)}`);
      socket.destroy();
    }
  });
  // A reset or a failed write: the socket closes after it; the close decides.
  socket.on('error', () => {});
  socket.on('close', onClose);
  context.atEnd.push(() => context.checker.check(socket.destroyed, `${label}: the raw socket never closed`));
}

/**
 * A client that writes every request of `plans` back to back (pipelined, RFC 9112 §9.3.2) before
 * any response, in a few writes split at seeded points, then reads the responses in order: each
 * must be the one asked for (200, its body by hash, its trailers), or the connection failed under
 * a fault. It closes by `Connection: close` on the last request or by its own FIN.
 */
export function runPipelinedClient(
  context: RawClientContext,
  socket: SimulatedSocket,
  plans: readonly ExchangePlan[],
  isClosingByHeader: boolean,
): void {
  const { network, checker } = context;
  const label = `pipelined client (conn ${context.connection})`;
  const reader = new RawResponseReader();
  let answered = 0;
  const bytes = Buffer.concat(
    plans.map((plan, i) => requestBytes(network.seed, plan, isClosingByHeader && i === plans.length - 1)),
  );
  const check = (response: RawResponse): void => {
    const plan = plans[answered++];
    const what = `${label} exchange ${plan.index}`;
    network.trace(`pipelined response ${plan.index} ${response.status}`);
    if (response.status !== 200) {
      checker.check(network.isFaulted(context.connection), `${what}: status ${response.status}`);
      return;
    }
    checker.check(
      hashOf(response.body) === hashOf(bodyBytes(network.seed, plan.index, 1, plan.downloadSize)),
      `${what}: ${response.body.length} of ${plan.downloadSize} bytes or corrupted`,
    );
    checker.check(
      plan.hasDownloadTrailers
        ? response.trailers.get('x-sim-pad')?.length === plan.trailerPad
        : !response.trailers.has('x-sim-download'),
      `${what}: trailers wrong`,
    );
  };
  onSocket(
    context,
    socket,
    label,
    (chunk) => {
      reader.add(chunk);
      for (let response = reader.next(); response !== null; response = reader.next()) check(response);
      if (answered === plans.length && !isClosingByHeader) socket.end();
    },
    () =>
      checker.check(
        answered === plans.length || network.isFaulted(context.connection),
        `${label}: closed after ${answered} of ${plans.length} responses on a connection without faults`,
      ),
  );
  network.at(
    network.random.below(100),
    () => writeInPieces(network, socket, bytes, network.random.between(1, 4)),
    'pipelined-start',
  );
}

/** SETTINGS the h2c client announces in `HTTP2-Settings` and in its preface. */
const H2C_CLIENT_SETTINGS: [number, number][] = [
  [SettingId.ENABLE_PUSH, 0],
  [SettingId.INITIAL_WINDOW_SIZE, 65_535],
];

/** One stream of the h2c client. */
interface H2cStream {
  readonly plan: ExchangePlan;
  status: string | null;
  readonly body: Buffer[];
  isEnded: boolean;
}

/**
 * A client that upgrades to h2c (RFC 7540 §3.2): a GET with `Upgrade: h2c` and `HTTP2-Settings`
 * (`plans[0]`, answered as stream 1 over HTTP/2 after the 101), its connection preface either
 * right behind the request or after the 101 (as the seed says), then `plans[1..]` as POST streams
 * 3, 5, … It acknowledges SETTINGS and PINGs and returns every DATA byte's credit. Each stream must
 * end with 200 and its body by hash, or the connection failed under a fault. Uploads stay within
 * the initial windows (it does not track the server's).
 */
export function runH2cClient(
  context: RawClientContext,
  socket: SimulatedSocket,
  plans: readonly ExchangePlan[],
  isPrefaceEarly: boolean,
): void {
  const { network, checker } = context;
  const label = `h2c client (conn ${context.connection})`;
  const writer = new PeerWriter();
  const settings = writer.settings(...H2C_CLIENT_SETTINGS);
  const preface = Buffer.concat([writer.preface(), settings]);
  const upgrade = Buffer.from(
    [
      `GET /${plans[0].index} HTTP/1.1`,
      'Host: sim',
      'Connection: Upgrade, HTTP2-Settings',
      'Upgrade: h2c',
      `HTTP2-Settings: ${settings.subarray(9).toString('base64url')}`,
      '',
      '',
    ].join('\r\n'),
  );
  const streams = new Map<number, H2cStream>();
  plans.forEach((plan, i) => streams.set(1 + 2 * i, { plan, status: null, body: [], isEnded: false }));
  const http1 = new RawResponseReader();
  let frames: PeerReader | null = null;
  let isDone = false;
  // What is sent before the upgrade request (and an early preface) is all written waits for it.
  let heldBack: Buffer[] | null = [];
  const send = (bytes: Buffer): void => {
    if (heldBack !== null) heldBack.push(bytes);
    else if (!socket.destroyed && !socket.writableEnded) socket.write(bytes);
  };

  const startHttp2 = (rest: Buffer): void => {
    frames = new PeerReader('server');
    if (!isPrefaceEarly) send(preface);
    for (const [id, stream] of streams) {
      if (id === 1) continue;
      const plan = stream.plan;
      const headers = [':method', 'POST', ':scheme', 'http', ':authority', 'sim', ':path', `/${plan.index}`];
      send(writer.headers(id, headers, { endStream: plan.uploadSize === 0 }));
      const body = bodyBytes(network.seed, plan.index, 0, plan.uploadSize);
      for (let offset = 0; offset < body.length; offset += 16_384) {
        const end = Math.min(body.length, offset + 16_384);
        send(writer.data(id, body.subarray(offset, end), { endStream: end === body.length }));
      }
    }
    if (rest.length > 0) onFrames(frames.read([rest]));
  };

  const onFrames = (list: readonly WrittenFrame[]): void => {
    // Credit goes back once per read: one WINDOW_UPDATE per stream and one for the connection.
    const credit = new Map<number, number>();
    for (const frame of list) {
      const stream = streams.get(frame.streamId);
      switch (frame.type) {
        case FrameType.SETTINGS:
          if (!frame.ack) send(writer.settingsAck());
          break;
        case FrameType.PING:
          if (!frame.ack) send(writer.ping(frame.opaque![0], frame.opaque![1], true));
          break;
        case FrameType.HEADERS:
          if (stream !== undefined && frame.headers !== undefined) stream.status = frame.headers[1];
          break;
        case FrameType.DATA:
          if (stream === undefined) break;
          stream.body.push(frame.data!);
          credit.set(0, (credit.get(0) ?? 0) + frame.length);
          if (!frame.endStream) credit.set(frame.streamId, (credit.get(frame.streamId) ?? 0) + frame.length);
          else credit.delete(frame.streamId);
          break;
        case FrameType.RST_STREAM:
          checker.check(
            network.isFaulted(context.connection),
            `${label} stream ${frame.streamId}: RST_STREAM(${frame.errorCode}) on a connection without faults`,
          );
          if (stream !== undefined) stream.isEnded = true;
          break;
        case FrameType.GOAWAY:
          checker.check(
            frame.errorCode === ErrorCode.NO_ERROR || network.isFaulted(context.connection),
            `${label}: GOAWAY(${frame.errorCode}) ${frame.debug ?? ''} on a connection without faults`,
          );
          break;
      }
      if (stream !== undefined && frame.endStream) {
        stream.isEnded = true;
        const plan = stream.plan;
        network.trace(`h2c stream ${frame.streamId} ended ${stream.status}`);
        checker.check(stream.status === '200', `${label} stream ${frame.streamId}: status ${stream.status}`);
        const body = Buffer.concat(stream.body);
        checker.check(
          hashOf(body) === hashOf(bodyBytes(network.seed, plan.index, 1, plan.downloadSize)),
          `${label} stream ${frame.streamId}: ${body.length} of ${plan.downloadSize} bytes or corrupted`,
        );
      }
    }
    const updates = [...credit].filter(([, size]) => size > 0);
    if (updates.length > 0) send(Buffer.concat(updates.map(([id, size]) => writer.windowUpdate(id, size))));
    if (!isDone && [...streams.values()].every((stream) => stream.isEnded)) {
      isDone = true;
      send(writer.goaway(2 * (streams.size - 1) + 1, ErrorCode.NO_ERROR));
      socket.end();
    }
  };

  onSocket(
    context,
    socket,
    label,
    (chunk) => {
      if (frames !== null) {
        onFrames(frames.read([chunk]));
        return;
      }
      http1.add(chunk);
      const response = http1.next();
      if (response === null) return;
      network.trace(`h2c upgrade answered ${response.status}`);
      if (response.status !== 101) {
        checker.check(false, `${label}: the upgrade was answered ${response.status}`);
        socket.end();
        return;
      }
      startHttp2(http1.takeRest());
    },
    () =>
      checker.check(
        isDone || network.isFaulted(context.connection),
        `${label}: closed before every stream ended on a connection without faults`,
      ),
  );
  network.at(
    network.random.below(100),
    () =>
      writeInPieces(
        network,
        socket,
        isPrefaceEarly ? Buffer.concat([upgrade, preface]) : upgrade,
        network.random.between(1, 3),
        () => {
          const held = heldBack!;
          heldBack = null;
          held.forEach(send);
        },
      ),
    'h2c-start',
  );
}
