/**
 * The slow-peer workload of the simulator (the deadlines of issue 23): one HTTP/1.1 or HTTP/2
 * server, with short deadlines, serving two to five connections at once. Some peers are honest
 * (sluice's clients, bodies checked by hash); the others misbehave: silent after connecting, a
 * request head or connection preface trickled and never finished, a request body trickled below
 * the minimum rate, a response never read (TCP stalled, or on HTTP/2 its flow-control window
 * withheld), an HTTP/2 header block never finished, or an honest exchange and then silence. Each misbehaving connection must be closed by
 * the deadline meant for it, with that deadline's typed code (or the idle close, which has none),
 * before the peer would give up; honest connections must be served whole; nothing may leak.
 */
import {
  IoErrors,
  simulatedChannel,
  type Channel,
  type InvariantChecker,
  type MinDataRate,
  type SeededRandom,
  type SimulatedNetwork,
  type SimulatedSocket,
  type SluiceError,
} from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import { serverTransport } from './sim-transports.js';
import {
  Http1ClientConnection,
  Http1ConnectionErrors,
  Http1ServerConnection,
  type Http1ServerStream,
} from '../../handlers/http1/index.js';
import {
  Http2ClientConnection,
  Http2ServerConnection,
  type Http2Headers,
  type Http2Stream,
  type Http2StreamHandler,
} from '../../handlers/http2/index.js';
import { SettingId } from '../../handlers/http2/wire/constants.js';
import { PeerWriter } from '../handlers/http2/peer.js';
import { Received, bodyBytes, hashOf, sendBody } from './sim-bodies.js';

/** How one connection's peer behaves. */
type PeerKind = 'honest' | 'silent' | 'slow-head' | 'slow-upload' | 'non-reader' | 'idle';

const MISBEHAVING: readonly PeerKind[] = ['silent', 'slow-head', 'slow-upload', 'non-reader', 'idle'];

/** The server's deadlines: short, so a run covers them all within a minute of virtual time. */
const HANDSHAKE_TIMEOUT_MS = 2_000;
const HEADER_TIMEOUT_MS = 3_000;
const IDLE_TIMEOUT_MS = 4_000;
/** A write in flight is allowed its size ÷ rate (Kestrel's way): 16 s for a 256 KiB message here. */
const MIN_RESPONSE_RATE: MinDataRate = { bytesPerSecond: 16_384, graceMs: 1_000 };
const MIN_REQUEST_BODY_RATE: MinDataRate = { bytesPerSecond: 1_024, graceMs: 1_000 };
/** A misbehaving peer gives up (and closes) this long after it started: every deadline is shorter. */
const GIVE_UP_AFTER_MS = 60_000;
/** A response no pipe and window can hold: a peer that does not read leaves it waiting. */
const UNREAD_RESPONSE_SIZE = 4 * 1024 * 1024;

/**
 * The codes each misbehaviour may end with, by version: the deadline meant for it, and for a
 * non-reader on HTTP/2 the write deadline, which may come first. Null: the idle close (no error).
 */
const EXPECTED: Readonly<
  Record<'http1' | 'http2', Readonly<Record<Exclude<PeerKind, 'honest'>, readonly (string | null)[]>>>
> = {
  http1: {
    silent: [IoErrors.HANDSHAKE_TIMEOUT.code],
    'slow-head': [Http1ConnectionErrors.HEADER_TIMEOUT.code],
    'slow-upload': [IoErrors.RECEIVE_RATE_TOO_LOW.code],
    'non-reader': [IoErrors.SEND_RATE_TOO_LOW.code],
    idle: [null],
  },
  http2: {
    silent: [IoErrors.HANDSHAKE_TIMEOUT.code],
    'slow-head': [IoErrors.HANDSHAKE_TIMEOUT.code],
    'slow-upload': [IoErrors.RECEIVE_RATE_TOO_LOW.code],
    'non-reader': [IoErrors.SEND_RATE_TOO_LOW.code, 'HTTP2_WRITE_TIMEOUT'],
    idle: [null],
  },
};

/** One connection of the run. */
interface PeerPlan {
  readonly kind: PeerKind;
  /** When the peer connects and starts, ms. */
  readonly startAtMs: number;
  /** Honest: exchanges, each a body index with its sizes. */
  readonly exchanges: readonly { readonly index: number; readonly uploadSize: number; readonly downloadSize: number }[];
  /** Trickling peers: bytes per piece and ms between pieces (below every minimum rate). */
  readonly trickleBytes: number;
  /** A trickled HTTP/2 preface: so few bytes per piece that it cannot complete within the handshake deadline. */
  readonly prefaceTrickleBytes: number;
  readonly trickleEveryMs: number;
  /** HTTP/2 non-reader: withhold window credit instead of stopping reads. */
  readonly isWindowWithheld: boolean;
  /** HTTP/2 slow head: a whole preface, then a header block never finished (instead of a trickled preface). */
  readonly isBlockUnfinished: boolean;
}

function planPeers(random: SeededRandom): PeerPlan[] {
  let index = 0;
  return Array.from({ length: random.between(2, 5) }, (_, position) => {
    // At least one honest peer, to see it is not hurt by the others.
    const kind: PeerKind = position === 0 || random.chance(0.35) ? 'honest' : random.pick(MISBEHAVING);
    return {
      kind,
      startAtMs: random.below(500),
      exchanges: Array.from({ length: random.between(1, 3) }, () => ({
        index: index++,
        uploadSize: random.chance(0.5) ? 0 : random.between(1, 30_000),
        downloadSize: random.chance(0.2) ? 0 : random.between(1, 30_000),
      })),
      trickleBytes: random.between(1, 100),
      prefaceTrickleBytes: random.between(1, 4),
      trickleEveryMs: random.between(300, 900),
      isWindowWithheld: random.chance(0.5),
      isBlockUnfinished: random.chance(0.5),
    };
  });
}

/** What the server saw on one connection: codes of the connection and of its exchanges. */
interface ServerSide {
  readonly channel: Channel;
  readonly codes: Set<string | null>;
}

/** Runs the slow-peer workload on `network`; what breaks an invariant goes to `checker`. */
export function slowPeerWorkload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const { random, seed } = network;
  const version = random.chance(0.5) ? 'http1' : 'http2';
  const peers = planPeers(random);
  const channels: Channel[] = [];
  const uploads = new Map<number, number>();
  for (const peer of peers) for (const exchange of peer.exchanges) uploads.set(exchange.index, exchange.uploadSize);

  peers.forEach((peer, connection) => {
    const { client, server } = network.connect();
    const side =
      version === 'http1'
        ? http1Server(network, checker, server, connection)
        : http2Server(network, checker, server, connection);
    channels.push(side.channel);
    const label = `${version} conn ${connection} (${peer.kind})`;
    if (peer.kind === 'honest' || peer.kind === 'idle') {
      channels.push(honestClient(network, checker, version, client, connection, peer, label));
    } else {
      // Faults may reach the raw socket before the peer starts.
      client.on('error', () => {});
      network.at(peer.startAtMs, () => misbehave(network, version, client, peer), `slow-peer-${peer.kind}`);
    }
    if (peer.kind === 'honest') return;
    // The deadline's verdict, taken when the peer would give up.
    network.at(
      peer.startAtMs + GIVE_UP_AFTER_MS,
      () => {
        const isExcused = network.isFaulted(connection);
        checker.check(
          side.channel.isShuttingDown || isExcused,
          `${label}: the server still holds the connection after ${GIVE_UP_AFTER_MS} ms`,
        );
        const expected =
          version === 'http2' && peer.kind === 'slow-head' && peer.isBlockUnfinished
            ? ['HTTP2_ENHANCE_YOUR_CALM']
            : EXPECTED[version][peer.kind as Exclude<PeerKind, 'honest'>];
        const codes = new Set(side.codes);
        if (side.channel.isShuttingDown) codes.add(side.channel.shutdownError?.code ?? null);
        checker.check(
          expected.some((code) => codes.has(code)) || isExcused,
          `${label}: closed with [${[...codes].join(', ')}], not ${expected.join(' or ')}`,
        );
        network.trace(`slow-peer verdict conn ${connection} ${[...codes].join(',')}`);
        if (peer.kind !== 'idle') client.destroy();
      },
      'slow-peer-verdict',
    );
  });

  /** The server of one connection, by version; it records every code it closes with. */
  function http1Server(
    net: SimulatedNetwork,
    check: InvariantChecker,
    socket: SimulatedSocket,
    connection: number,
  ): ServerSide {
    const codes = new Set<string | null>();
    const connectionHandler = new Http1ServerConnection({
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      headerTimeoutMs: HEADER_TIMEOUT_MS,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      minResponseDataRate: MIN_RESPONSE_RATE,
      minRequestBodyDataRate: MIN_REQUEST_BODY_RATE,
      onError: (error) => codes.add(error.code),
      onRequest: (stream: Http1ServerStream) => {
        const [, kind, size] = stream.target.split('/');
        const upload = new Received();
        stream.handler = {
          onData: (_s, data, start, end) => upload.add(data, start, end),
          onEnd: () => {
            if (kind === 'exchange') checkUpload(check, seed, Number(size), uploads, upload, `conn ${connection}`);
            const body =
              kind === 'exchange'
                ? bodyBytes(seed, Number(size), 1, downloadOf(Number(size)))
                : Buffer.alloc(Number(size));
            stream.respond(200, ['content-length', String(body.length)]);
            sendBody(stream, body, 16_384, check, `server conn ${connection} ${stream.target}`, () => stream.end());
          },
          onClose: (_s, error: SluiceError | null) => {
            if (error !== null) check.checkTyped(error, `server conn ${connection}`);
            codes.add(error?.code ?? null);
          },
        };
      },
    });
    const channel = simulatedChannel(net, socket, serverTransport, (c) => c.appendHandler(connectionHandler));
    return { channel, codes };
  }

  function http2Server(
    net: SimulatedNetwork,
    check: InvariantChecker,
    socket: SimulatedSocket,
    connection: number,
  ): ServerSide {
    const codes = new Set<string | null>();
    const connectionHandler = new Http2ServerConnection({
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      keepAliveTimeoutMs: 5_000,
      headerBlockTimeoutMs: HEADER_TIMEOUT_MS,
      minResponseDataRate: MIN_RESPONSE_RATE,
      minRequestBodyDataRate: MIN_REQUEST_BODY_RATE,
      onError: (error) => codes.add(error.code),
      onStream: (stream: Http2Stream, headers: Http2Headers, isEndStream: boolean) => {
        const [, kind, size] = headerValue(headers, ':path').split('/');
        const upload = new Received();
        const respond = (): void => {
          if (kind === 'exchange') checkUpload(check, seed, Number(size), uploads, upload, `conn ${connection}`);
          const body =
            kind === 'exchange'
              ? bodyBytes(seed, Number(size), 1, downloadOf(Number(size)))
              : Buffer.alloc(Number(size));
          stream.sendHeaders([':status', '200']);
          sendBody(stream, body, 16_384, check, `server conn ${connection} stream ${stream.id}`, () => stream.end());
        };
        stream.handler = {
          onData: (_s, data, start, end) => upload.add(data, start, end),
          onEnd: respond,
          onClose: (_s, error) => {
            if (error !== null) check.checkTyped(error, `server conn ${connection} stream`);
            codes.add(error?.code ?? null);
          },
        };
        // END_STREAM on the HEADERS calls onEnd too (at once).
        void isEndStream;
      },
    });
    const channel = simulatedChannel(net, socket, serverTransport, (c) => c.appendHandler(connectionHandler));
    return { channel, codes };
  }

  function downloadOf(index: number): number {
    for (const peer of peers)
      for (const exchange of peer.exchanges) if (exchange.index === index) return exchange.downloadSize;
    return 0;
  }

  network.run();
  checker.checkQuiescent(network, channels);
}

function checkUpload(
  checker: InvariantChecker,
  seed: number,
  index: number,
  uploads: ReadonlyMap<number, number>,
  upload: Received,
  label: string,
): void {
  const size = uploads.get(index) ?? -1;
  checker.check(
    upload.length === size && upload.digest() === hashOf(bodyBytes(seed, index, 0, size)),
    `${label} exchange ${index}: upload of ${size} bytes arrived as ${upload.length} bytes or corrupted`,
  );
}

/**
 * sluice's client doing `peer`'s exchanges one after another, checked by hash; an honest peer then
 * closes, an idle one stays silent (the server's idle deadline must close it).
 */
function honestClient(
  network: SimulatedNetwork,
  checker: InvariantChecker,
  version: 'http1' | 'http2',
  socket: SimulatedSocket,
  connection: number,
  peer: PeerPlan,
  label: string,
): Channel {
  const seed = network.seed;
  const failed = (error: SluiceError, what: string): void => {
    checker.checkTyped(error, what);
    checker.check(network.isFaulted(connection), `${what} failed with ${error.code} on a connection without faults`);
  };
  const checkDownload = (download: Received, index: number, size: number, what: string): void =>
    checker.check(
      download.length === size && download.digest() === hashOf(bodyBytes(seed, index, 1, size)),
      `${what}: ${download.length} of ${size} bytes or corrupted`,
    );
  if (version === 'http1') {
    const client = new Http1ClientConnection({ host: 'sim' });
    const channel = simulatedChannel(network, socket, socketTransport, (c) => c.appendHandler(client));
    const next = (position: number): void => {
      if (position >= peer.exchanges.length) {
        if (peer.kind === 'honest') client.close();
        return;
      }
      const { index, uploadSize, downloadSize } = peer.exchanges[position];
      const what = `${label} exchange ${index}`;
      const download = new Received();
      let stream;
      try {
        stream = client.request('POST', `/exchange/${index}`, ['content-length', String(uploadSize)], {
          isEndStream: uploadSize === 0,
        });
      } catch (error) {
        failed(error as SluiceError, what);
        return;
      }
      stream.handler = {
        onData: (_s, data, start, end) => download.add(data, start, end),
        onClose: checker.once(`${what} onClose`, (s, error: SluiceError | null) => {
          if (error !== null) return failed(error, what);
          if (s.status !== 200) return checker.check(network.isFaulted(connection), `${what}: status ${s.status}`);
          checkDownload(download, index, downloadSize, what);
          network.at(network.loop.now() + 5, () => next(position + 1), 'slow-peer-next');
        }),
      };
      if (uploadSize > 0)
        sendBody(stream, bodyBytes(seed, index, 0, uploadSize), 4_096, checker, what, () => stream.end());
    };
    network.at(peer.startAtMs, () => next(0), 'slow-peer-honest');
    return channel;
  }
  const client = new Http2ClientConnection({});
  const channel = simulatedChannel(network, socket, socketTransport, (c) => c.appendHandler(client));
  let closed = 0;
  const open = (position: number): void => {
    const { index, uploadSize, downloadSize } = peer.exchanges[position];
    const what = `${label} stream ${index}`;
    const download = new Received();
    let stream: Http2Stream;
    const handler: Http2StreamHandler = { onData: (_s, data, start, end) => download.add(data, start, end) };
    try {
      stream = client.request(
        [':method', 'POST', ':scheme', 'http', ':authority', 'sim', ':path', `/exchange/${index}`],
        { isEndStream: uploadSize === 0, handler },
      );
    } catch (error) {
      failed(error as SluiceError, what);
      return;
    }
    // Owed once the request was taken (a refused one closes on a later turn).
    handler.onClose = checker.once(`${what} onClose`, (_s: Http2Stream, error: SluiceError | null) => {
      if (error !== null) failed(error, what);
      else checkDownload(download, index, downloadSize, what);
      if (++closed === peer.exchanges.length && peer.kind === 'honest') void client.close();
    });
    if (uploadSize > 0)
      sendBody(stream, bodyBytes(seed, index, 0, uploadSize), 4_096, checker, what, () => stream.end());
  };
  network.at(peer.startAtMs, () => peer.exchanges.forEach((_, position) => open(position)), 'slow-peer-honest');
  return channel;
}

/** A raw peer misbehaving as `peer.kind` says, on `socket`, until the verdict destroys it. */
function misbehave(
  network: SimulatedNetwork,
  version: 'http1' | 'http2',
  socket: SimulatedSocket,
  peer: PeerPlan,
): void {
  socket.on('data', () => {});
  const send = (bytes: Uint8Array): void => void (socket.destroyed || socket.writableEnded || socket.write(bytes));
  /** Sends `bytes` a few at a time, below every minimum rate, until the peer gives up. */
  const trickle = (bytes: Buffer, pieceSize = peer.trickleBytes): void => {
    let offset = 0;
    const piece = (): void => {
      if (socket.destroyed || offset >= bytes.length) return;
      send(bytes.subarray(offset, offset + pieceSize));
      offset += pieceSize;
      network.at(network.loop.now() + peer.trickleEveryMs, piece, 'slow-peer-trickle');
    };
    piece();
  };
  const writer = new PeerWriter();
  // HTTP/2 peers acknowledge the server's SETTINGS blindly: they may not read them.
  const preface = (windowSize: number): Buffer =>
    Buffer.concat([
      writer.preface(),
      writer.settings([SettingId.INITIAL_WINDOW_SIZE, windowSize]),
      writer.settingsAck(),
      ...(windowSize > 65_535 ? [writer.windowUpdate(0, windowSize)] : []),
    ]);
  const request = (path: string, isEndStream: boolean): Buffer =>
    writer.headers(
      1,
      [':method', isEndStream ? 'GET' : 'POST', ':scheme', 'http', ':authority', 'sim', ':path', path],
      {
        endStream: isEndStream,
      },
    );
  const uploadSize = 1_000_000;
  switch (peer.kind) {
    case 'silent':
      return;
    case 'slow-head':
      if (version === 'http1') {
        send(Buffer.from('GET /download/10 HTTP/1.1\r\n'));
        trickle(Buffer.from(`Host: sim\r\nX-Slow: ${'s'.repeat(10_000)}\r\n\r\n`));
      } else if (peer.isBlockUnfinished) {
        // HEADERS without END_HEADERS, and no CONTINUATION: headerBlockTimeoutMs ends it.
        const headers = [':method', 'GET', ':scheme', 'http', ':authority', 'sim', ':path', '/download/10'];
        send(Buffer.concat([preface(65_535), writer.headers(1, headers, { endStream: true, omitEndHeaders: true })]));
      } else trickle(preface(65_535), peer.prefaceTrickleBytes);
      return;
    case 'slow-upload':
      if (version === 'http1') {
        send(Buffer.from(`POST /upload/10 HTTP/1.1\r\nHost: sim\r\nContent-Length: ${uploadSize}\r\n\r\n`));
        trickle(Buffer.alloc(uploadSize, 0x75));
      } else {
        send(Buffer.concat([preface(65_535), request('/upload/10', false)]));
        // DATA frames of a few bytes each: the body's rate is what is slow, not the framing.
        const frames: Buffer[] = [];
        for (let i = 0; i < 200; i++) frames.push(writer.data(1, Buffer.alloc(peer.trickleBytes, 0x75)));
        let next = 0;
        const piece = (): void => {
          if (socket.destroyed || next >= frames.length) return;
          send(frames[next++]);
          network.at(network.loop.now() + peer.trickleEveryMs, piece, 'slow-peer-trickle');
        };
        piece();
      }
      return;
    case 'non-reader':
      if (version === 'http1') {
        send(Buffer.from(`GET /download/${UNREAD_RESPONSE_SIZE} HTTP/1.1\r\nHost: sim\r\n\r\n`));
        socket.pause();
      } else if (peer.isWindowWithheld) {
        // Reads everything but never returns credit: DATA waits behind a spent window.
        send(Buffer.concat([preface(65_535), request(`/download/${UNREAD_RESPONSE_SIZE}`, true)]));
      } else {
        send(Buffer.concat([preface(4 * UNREAD_RESPONSE_SIZE), request(`/download/${UNREAD_RESPONSE_SIZE}`, true)]));
        socket.pause();
      }
      return;
  }
}

function headerValue(headers: Http2Headers, name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}
