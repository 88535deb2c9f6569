/**
 * The HTTP/2 workload of the simulator: one client and one server connection through the real
 * socket and HTTP/2 handlers, concurrent streams with uploads and downloads of seeded sizes,
 * trailers, resets from either side, and a GOAWAY mid-flight.
 */
import { simulatedChannel, type SeededRandom, type InvariantChecker, type SimulatedNetwork } from '../../lib/index.js';
import { socketTransport } from '../../handlers/socket/index.js';
import {
  ErrorCode,
  Http2ClientConnection,
  Http2ServerConnection,
  type Http2Headers,
  type Http2Stream,
  type Http2StreamFailure,
} from '../../handlers/http2/index.js';
import { Received, bodyBytes, hashOf, sendBody } from './sim-bodies.js';

/** What the workload plans for one stream. */
interface StreamPlan {
  readonly index: number;
  readonly startAtMs: number;
  readonly uploadSize: number;
  readonly downloadSize: number;
  readonly chunkSize: number;
  readonly hasTrailers: boolean;
  /** The client resets the stream once this many response bytes arrived (-1: never). */
  readonly clientResetAfter: number;
  /** The server resets the stream once this many request bytes arrived (-1: never). */
  readonly serverResetAfter: number;
}

const TRAILERS: Http2Headers = ['x-sim-status', 'done'];

function planStreams(random: SeededRandom): StreamPlan[] {
  const count = random.between(1, 10);
  const size = (): number =>
    random.chance(0.25) ? 0 : random.chance(0.7) ? random.between(1, 20_000) : random.between(20_000, 150_000);
  return Array.from({ length: count }, (_, index) => ({
    index,
    startAtMs: random.below(300),
    uploadSize: size(),
    downloadSize: size(),
    chunkSize: random.pick([7, 100, 1000, 16_384, 65_536]),
    hasTrailers: random.chance(0.4),
    clientResetAfter: random.chance(0.1) ? random.below(1000) : -1,
    serverResetAfter: random.chance(0.1) ? random.below(1000) : -1,
  }));
}

/** Runs the HTTP/2 workload on `network`; what breaks an invariant goes to `checker`. */
export function http2Workload(network: SimulatedNetwork, checker: InvariantChecker): void {
  const { seed, random } = network;
  const plans = planStreams(random);
  const goawayAtMs = random.chance(0.2) ? random.below(400) : -1;
  const serverSaw = new Set<number>();
  let isGoawaySent = false;
  const { client: clientSocket, server: serverSocket } = network.connect();

  const server = new Http2ServerConnection({
    onStream: (stream, headers, isEndStream) => {
      const index = Number(headerValue(headers, 'x-sim-stream'));
      const plan = plans[index];
      serverSaw.add(index);
      network.trace(`server stream ${index}`);
      const upload = new Received();
      let isUploadDone = isEndStream;
      let isDownloadWritten = false;
      const finish = (): void => {
        if (isUploadDone && isDownloadWritten && !stream.isClosed) stream.end(plan.hasTrailers ? TRAILERS : undefined);
      };
      stream.handler = {
        onData: (s, data, start, end) => {
          upload.add(data, start, end);
          if (plan.serverResetAfter >= 0 && upload.length > plan.serverResetAfter && !s.isClosed)
            s.reset(ErrorCode.CANCEL);
        },
        onEnd: () => {
          isUploadDone = true;
          checker.check(
            upload.length === plan.uploadSize,
            `stream ${index}: server got ${upload.length} of ${plan.uploadSize} upload bytes at END_STREAM`,
          );
          checker.check(
            upload.digest() === hashOf(bodyBytes(seed, index, 0, plan.uploadSize)),
            `stream ${index}: upload corrupted`,
          );
          finish();
        },
        onClose: checker.once(`server stream ${index} onClose`, (_s: Http2Stream, error: Http2StreamFailure | null) => {
          if (error !== null) checker.checkTyped(error, `server stream ${index}`);
        }),
      };
      stream.sendHeaders([':status', '200']);
      sendBody(
        stream,
        bodyBytes(seed, index, 1, plan.downloadSize),
        plan.chunkSize,
        checker,
        `server stream ${index}`,
        () => {
          isDownloadWritten = true;
          finish();
        },
      );
    },
  });

  let closedCount = 0;
  const client = new Http2ClientConnection({});
  const channels = [
    simulatedChannel(network, clientSocket, socketTransport, (channel) => channel.appendHandler(client)),
    simulatedChannel(network, serverSocket, socketTransport, (channel) => channel.appendHandler(server)),
  ];

  const open = (plan: StreamPlan): void => {
    if (channels[0].isShuttingDown) {
      closedCount++;
      return;
    }
    const download = new Received();
    let trailers: Http2Headers | null = null;
    let isResetByUs = false;
    const index = plan.index;
    network.trace(`client open ${index}`);
    let stream: Http2Stream;
    try {
      stream = client.request(
        [
          ':method',
          'POST',
          ':scheme',
          'http',
          ':authority',
          'sim',
          ':path',
          `/${index}`,
          'x-sim-stream',
          String(index),
        ],
        {
          isEndStream: plan.uploadSize === 0,
          handler: {
            onData: (s, data, start, end) => {
              download.add(data, start, end);
              if (plan.clientResetAfter >= 0 && download.length > plan.clientResetAfter && !s.isClosed) {
                isResetByUs = true;
                s.reset(ErrorCode.CANCEL);
              }
            },
            onTrailers: (_s, headers) => (trailers = headers),
            onClose: checker.once(
              `client stream ${index} onClose`,
              (_s: Http2Stream, error: Http2StreamFailure | null) => {
                network.trace(`client close ${index} ${error?.code ?? 'ok'}`);
                closedCount++;
                if (error === null) {
                  checker.check(
                    download.length === plan.downloadSize,
                    `stream ${index}: ended cleanly with ${download.length} of ${plan.downloadSize} bytes`,
                  );
                  checker.check(
                    download.digest() === hashOf(bodyBytes(seed, index, 1, plan.downloadSize)),
                    `stream ${index}: download corrupted`,
                  );
                  checker.check(
                    (trailers !== null) === plan.hasTrailers,
                    `stream ${index}: trailers ${trailers === null ? 'missing' : 'unexpected'}`,
                  );
                } else {
                  checker.checkTyped(error, `client stream ${index}`);
                  // Without a fault, a reset or a GOAWAY, every stream must succeed.
                  const isExcused =
                    isResetByUs ||
                    plan.serverResetAfter >= 0 ||
                    network.appliedFaults.length > 0 ||
                    (isGoawaySent && !serverSaw.has(index));
                  checker.check(isExcused, `stream ${index} failed with ${error.code} on a network without faults`);
                }
                if (closedCount === plans.length) void client.close();
              },
            ),
          },
        },
      );
    } catch (error) {
      checker.checkTyped(error, `request ${index}`);
      closedCount++;
      return;
    }
    if (plan.uploadSize > 0) {
      sendBody(
        stream,
        bodyBytes(seed, index, 0, plan.uploadSize),
        plan.chunkSize,
        checker,
        `client stream ${index}`,
        () => stream.end(plan.hasTrailers ? TRAILERS : undefined),
      );
    }
  };
  for (const plan of plans) network.at(plan.startAtMs, () => open(plan), 'workload-open');
  if (goawayAtMs >= 0)
    network.at(
      goawayAtMs,
      () => {
        isGoawaySent = true;
        network.trace('server goaway');
        void server.close();
      },
      'workload-goaway',
    );

  network.run();
  checker.checkQuiescent(network, channels);
}

function headerValue(headers: Http2Headers, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}
