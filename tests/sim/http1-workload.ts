/**
 * The HTTP/1.1 workload of the simulator: one to three client connections to the real socket and
 * HTTP/1.1 server handlers (offering h2c), each of one kind: sluice's client carrying several
 * keep-alive exchanges in turn; a raw client pipelining its requests; or a raw client upgrading
 * to h2c, its GET becoming stream 1 and more requests following as HTTP/2 streams. Request and
 * response bodies have seeded sizes, framed by Content-Length or chunked (with trailers); the
 * server answers after a seeded delay.
 */
import {
  simulatedChannel,
  type Channel,
  type InvariantChecker,
  type SeededRandom,
  type SimulatedNetwork,
  type SluiceError,
} from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import { serverTransport } from './sim-transports.js';
import {
  HTTP1_SERVER_DEFAULTS,
  Http1ClientConnection,
  Http1ServerConnection,
  type Http1ClientStream,
  type Http1Fields,
  h2cUpgrade,
  type Http1ServerStream,
} from '../../handlers/http1/index.js';
import { Http2ServerConnection, type Http2Headers, type Http2Stream } from '../../handlers/http2/index.js';
import { runH2cClient, runPipelinedClient, type RawClientContext } from './http1-raw-clients.js';
import { trailersOf, type ExchangePlan } from './http1-plan.js';
import { Received, bodyBytes, hashOf, sendBody } from './sim-bodies.js';

/** How a connection's client talks: sluice's client one exchange at a time, pipelined raw bytes, or h2c. */
type ClientKind = 'sequential' | 'pipelined' | 'h2c';

/** What the workload plans for one connection. */
interface ConnectionPlan {
  readonly kind: ClientKind;
  readonly exchanges: readonly ExchangePlan[];
  /** Pipelined: the last request says `Connection: close` (else the client sends its FIN). */
  readonly isClosingByHeader: boolean;
  /** h2c: the connection preface follows the upgrade request at once (else it waits for the 101). */
  readonly isPrefaceEarly: boolean;
}

function planConnections(random: SeededRandom): ConnectionPlan[] {
  let index = 0;
  const size = (): number =>
    random.chance(0.25) ? 0 : random.chance(0.7) ? random.between(1, 20_000) : random.between(20_000, 150_000);
  // Long pipelines carry small bodies: the point is the requests queued, not the bytes.
  const smallSize = (): number => (random.chance(0.3) ? 0 : random.between(1, 4_000));
  const exchange = (kind: ClientKind, position: number, isLong: boolean): ExchangePlan => {
    const isUploadChunked = kind !== 'h2c' && random.chance(0.5);
    const isDownloadChunked = random.chance(0.5);
    // h2c: the upgraded GET has no body; the raw client's uploads stay within the initial windows.
    const uploadSize = kind === 'h2c' ? (position === 0 ? 0 : random.below(15_000)) : isLong ? smallSize() : size();
    return {
      index: index++,
      uploadSize,
      downloadSize: isLong ? smallSize() : size(),
      isUploadChunked,
      isDownloadChunked,
      hasUploadTrailers: isUploadChunked && random.chance(0.4),
      hasDownloadTrailers: isDownloadChunked && random.chance(0.4),
      trailerPad: random.chance(0.5) ? 0 : random.between(1, 600),
      chunkSize: random.pick([7, 100, 1000, 16_384, 65_536]),
      respondDelayMs: random.chance(0.5) ? 0 : random.below(50),
      gapMs: random.below(30),
    };
  };
  return Array.from({ length: random.between(1, 3) }, () => {
    const kind: ClientKind = random.chance(0.5) ? 'sequential' : random.chance(0.6) ? 'pipelined' : 'h2c';
    // Pipelined: sometimes more requests than the server reads ahead (maxPipelinedRequests).
    const isLong = kind === 'pipelined' && random.chance(0.2);
    const count = isLong ? random.between(17, 24) : random.between(1, 5);
    return {
      kind,
      exchanges: Array.from({ length: count }, (_, position) => exchange(kind, position, isLong)),
      isClosingByHeader: random.chance(0.5),
      isPrefaceEarly: random.chance(0.5),
    };
  });
}

/** Runs the HTTP/1.1 workload on `network`; what breaks an invariant goes to `checker`. */
export function http1Workload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const { seed, random } = network;
  const connections = planConnections(random);
  const plans = connections.flatMap((connection) => connection.exchanges);
  const channels: Channel[] = [];
  const atEnd: (() => void)[] = [];

  const serve = (stream: Http1ServerStream, connectionIndex: number): void => {
    const plan = plans[Number(stream.target.slice(1))];
    const label = `server exchange ${plan.index}`;
    network.trace(`server request ${plan.index}`);
    const upload = new Received();
    let trailers: Http1Fields | null = null;
    stream.handler = {
      onData: (_s, data, start, end) => upload.add(data, start, end),
      onTrailers: (_s, fields) => (trailers = fields),
      onEnd: () => {
        checker.check(
          upload.length === plan.uploadSize &&
            upload.digest() === hashOf(bodyBytes(seed, plan.index, 0, plan.uploadSize)),
          `${label}: upload of ${plan.uploadSize} bytes arrived as ${upload.length} bytes or corrupted`,
        );
        checker.check((trailers !== null) === plan.hasUploadTrailers, `${label}: upload trailers wrong`);
        network.at(network.loop.now() + plan.respondDelayMs, () => respond(stream, plan, label), 'http1-respond');
      },
      onClose: checker.once(`${label} onClose`, (_s: Http1ServerStream, error: SluiceError | null) => {
        if (error !== null) {
          checker.checkTyped(error, label);
          checker.check(
            network.isFaulted(connectionIndex),
            `${label} failed with ${error.code} on a connection without faults`,
          );
        }
      }),
    };
  };

  const respond = (stream: Http1ServerStream, plan: ExchangePlan, label: string): void => {
    if (stream.isClosed) return;
    const body = bodyBytes(seed, plan.index, 1, plan.downloadSize);
    if (!plan.isDownloadChunked && plan.downloadSize === 0) {
      stream.respond(200, [], true);
      return;
    }
    stream.respond(200, plan.isDownloadChunked ? [] : ['content-length', String(plan.downloadSize)]);
    sendBody(stream, body, plan.chunkSize, checker, label, () =>
      stream.end(plan.hasDownloadTrailers ? trailersOf('download', plan.trailerPad) : null),
    );
  };

  /** A stream of an upgraded (h2c) connection: the same plans, answered over HTTP/2. */
  const serveHttp2 = (stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void => {
    const plan = plans[Number(headerValue(headers, ':path').slice(1))];
    const label = `h2c server stream ${plan.index}`;
    network.trace(`h2c server stream ${plan.index}`);
    const upload = new Received();
    let isUploadDone = isEndStream;
    let isDownloadWritten = false;
    const finish = (): void => {
      if (isUploadDone && isDownloadWritten && !stream.isClosed) stream.end();
    };
    stream.handler = {
      onData: (_s, data, start, end) => upload.add(data, start, end),
      onEnd: () => {
        isUploadDone = true;
        checker.check(
          upload.length === plan.uploadSize &&
            upload.digest() === hashOf(bodyBytes(seed, plan.index, 0, plan.uploadSize)),
          `${label}: upload of ${plan.uploadSize} bytes arrived as ${upload.length} bytes or corrupted`,
        );
        finish();
      },
    };
    stream.sendHeaders([':status', '200']);
    sendBody(stream, bodyBytes(seed, plan.index, 1, plan.downloadSize), plan.chunkSize, checker, label, () => {
      isDownloadWritten = true;
      finish();
    });
  };
  const upgrades = [h2cUpgrade(() => new Http2ServerConnection({ onStream: serveHttp2 }))];

  connections.forEach(({ kind, exchanges, isClosingByHeader, isPrefaceEarly }, connectionIndex) => {
    const { client: clientSocket, server: serverSocket } = network.connect();
    const server = new Http1ServerConnection({
      onRequest: (stream) => {
        // A bounded queue within its bound: requests read ahead of their responses.
        checker.check(
          server.pendingResponseCount <= HTTP1_SERVER_DEFAULTS.maxPipelinedRequests,
          `conn ${connectionIndex}: ${server.pendingResponseCount} requests wait for responses`,
        );
        serve(stream, connectionIndex);
      },
      upgrades,
    });
    channels.push(simulatedChannel(network, serverSocket, serverTransport, (channel) => channel.appendHandler(server)));
    const context: RawClientContext = { network, checker, connection: connectionIndex, atEnd };
    if (kind === 'pipelined') {
      runPipelinedClient(context, clientSocket, exchanges, isClosingByHeader);
      return;
    }
    if (kind === 'h2c') {
      runH2cClient(context, clientSocket, exchanges, isPrefaceEarly);
      return;
    }
    const client = new Http1ClientConnection({ host: 'sim' });
    channels.push(simulatedChannel(network, clientSocket, socketTransport, (channel) => channel.appendHandler(client)));
    const sendFrom = (position: number): void => {
      if (position >= exchanges.length) {
        client.close();
        return;
      }
      const plan = exchanges[position];
      const label = `client exchange ${plan.index} (conn ${connectionIndex})`;
      const download = new Received();
      let trailers: Http1Fields | null = null;
      let stream: Http1ClientStream;
      const isEndStream = plan.uploadSize === 0 && !plan.isUploadChunked;
      network.trace(`client request ${plan.index}`);
      try {
        stream = client.request(
          'POST',
          `/${plan.index}`,
          plan.isUploadChunked ? [] : ['content-length', String(plan.uploadSize)],
          { isEndStream },
        );
      } catch (error) {
        // The connection went (a fault) between two exchanges: a typed refusal, no more requests.
        checker.checkTyped(error, `${label} request`);
        checker.check(network.isFaulted(connectionIndex), `${label} refused on a connection without faults`);
        return;
      }
      // Set once the request was accepted: a refused one owes no onClose.
      stream.handler = {
        onResponse: (_s, status) =>
          // A server timeout (408 after a stalled upload) answers early: only a fault excuses it.
          checker.check(status === 200 || network.isFaulted(connectionIndex), `${label}: status ${status}`),
        onData: (_s, data, start, end) => download.add(data, start, end),
        onTrailers: (_s, fields) => (trailers = fields),
        onClose: checker.once(`${label} onClose`, (_s: Http1ClientStream, error: SluiceError | null) => {
          network.trace(`client close ${plan.index} ${error?.code ?? 'ok'}`);
          if (error !== null) {
            checker.checkTyped(error, label);
            checker.check(
              network.isFaulted(connectionIndex),
              `${label} failed with ${error.code} on a connection without faults`,
            );
            return;
          }
          if (stream.status !== 200) return;
          checker.check(
            download.length === plan.downloadSize &&
              download.digest() === hashOf(bodyBytes(seed, plan.index, 1, plan.downloadSize)),
            `${label}: ended cleanly with ${download.length} of ${plan.downloadSize} bytes or corrupted`,
          );
          checker.check((trailers !== null) === plan.hasDownloadTrailers, `${label}: download trailers wrong`);
          network.at(network.loop.now() + plan.gapMs, () => sendFrom(position + 1), 'http1-next');
        }),
      };
      if (!isEndStream) {
        sendBody(stream, bodyBytes(seed, plan.index, 0, plan.uploadSize), plan.chunkSize, checker, label, () =>
          stream.end(plan.hasUploadTrailers ? trailersOf('upload', plan.trailerPad) : null),
        );
      }
    };
    network.at(random.below(100), () => sendFrom(0), 'http1-first');
  });

  network.run();
  for (const check of atEnd) check();
  checker.checkQuiescent(network, channels);
}

function headerValue(headers: Http2Headers, name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}
