/**
 * The HTTP/1.1 workload of the simulator: one to three client connections through the real
 * socket and HTTP/1.1 handlers, each carrying several keep-alive exchanges in turn, with request
 * and response bodies of seeded sizes framed by Content-Length or chunked (with trailers), and
 * the server answering after a seeded delay.
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
import {
  HTTP1_SERVER_DEFAULTS,
  Http1ClientConnection,
  Http1ServerConnection,
  type Http1ClientStream,
  type Http1Fields,
  type Http1ServerStream,
} from '../../handlers/http1/index.js';
import { Received, bodyBytes, hashOf, sendBody } from './sim-bodies.js';

/** What the workload plans for one exchange. */
interface ExchangePlan {
  /** Unique over the run: the body seeds and the request target. */
  readonly index: number;
  readonly uploadSize: number;
  readonly downloadSize: number;
  readonly isUploadChunked: boolean;
  readonly isDownloadChunked: boolean;
  readonly hasUploadTrailers: boolean;
  readonly hasDownloadTrailers: boolean;
  readonly chunkSize: number;
  /** The server answers this long after the request was read whole, ms. */
  readonly respondDelayMs: number;
  /** The client waits this long after the previous exchange before sending this one, ms. */
  readonly gapMs: number;
}

const UPLOAD_TRAILERS: Http1Fields = ['x-sim-upload', 'done'];
const DOWNLOAD_TRAILERS: Http1Fields = ['x-sim-download', 'done'];

function planConnections(random: SeededRandom): ExchangePlan[][] {
  let index = 0;
  const size = (): number =>
    random.chance(0.25) ? 0 : random.chance(0.7) ? random.between(1, 20_000) : random.between(20_000, 150_000);
  return Array.from({ length: random.between(1, 3) }, () =>
    Array.from({ length: random.between(1, 5) }, () => {
      const isUploadChunked = random.chance(0.5);
      const isDownloadChunked = random.chance(0.5);
      return {
        index: index++,
        uploadSize: size(),
        downloadSize: size(),
        isUploadChunked,
        isDownloadChunked,
        hasUploadTrailers: isUploadChunked && random.chance(0.4),
        hasDownloadTrailers: isDownloadChunked && random.chance(0.4),
        chunkSize: random.pick([7, 100, 1000, 16_384, 65_536]),
        respondDelayMs: random.chance(0.5) ? 0 : random.below(50),
        gapMs: random.below(30),
      };
    }),
  );
}

/** Runs the HTTP/1.1 workload on `network`; what breaks an invariant goes to `checker`. */
export function http1Workload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const { seed, random } = network;
  const connections = planConnections(random);
  const plans = connections.flat();
  const channels: Channel[] = [];

  const serve = (stream: Http1ServerStream): void => {
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
            network.appliedFaults.length > 0,
            `${label} failed with ${error.code} on a network without faults`,
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
      stream.end(plan.hasDownloadTrailers ? DOWNLOAD_TRAILERS : null),
    );
  };

  connections.forEach((exchanges, connectionIndex) => {
    const { client: clientSocket, server: serverSocket } = network.connect();
    const server = new Http1ServerConnection({
      onRequest: (stream) => {
        // A bounded queue within its bound: requests read ahead of their responses.
        checker.check(
          server.pendingResponseCount <= HTTP1_SERVER_DEFAULTS.maxPipelinedRequests,
          `conn ${connectionIndex}: ${server.pendingResponseCount} requests wait for responses`,
        );
        serve(stream);
      },
    });
    const client = new Http1ClientConnection({ host: 'sim' });
    channels.push(
      simulatedChannel(network, clientSocket, socketTransport, (channel) => channel.appendHandler(client)),
      simulatedChannel(network, serverSocket, socketTransport, (channel) => channel.appendHandler(server)),
    );
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
        checker.check(network.appliedFaults.length > 0, `${label} refused on a network without faults`);
        return;
      }
      // Set once the request was accepted: a refused one owes no onClose.
      stream.handler = {
        onResponse: (_s, status) =>
          // A server timeout (408 after a stalled upload) answers early: only a fault excuses it.
          checker.check(status === 200 || network.appliedFaults.length > 0, `${label}: status ${status}`),
        onData: (_s, data, start, end) => download.add(data, start, end),
        onTrailers: (_s, fields) => (trailers = fields),
        onClose: checker.once(`${label} onClose`, (_s: Http1ClientStream, error: SluiceError | null) => {
          network.trace(`client close ${plan.index} ${error?.code ?? 'ok'}`);
          if (error !== null) {
            checker.checkTyped(error, label);
            checker.check(
              network.appliedFaults.length > 0,
              `${label} failed with ${error.code} on a network without faults`,
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
          stream.end(plan.hasUploadTrailers ? UPLOAD_TRAILERS : null),
        );
      }
    };
    network.at(random.below(100), () => sendFrom(0), 'http1-first');
  });

  network.run();
  checker.checkQuiescent(network, channels);
}
