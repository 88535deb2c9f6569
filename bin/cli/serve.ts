/**
 * `sluice serve`: an HTTP/1.1 and HTTP/2 server built from the pipeline — socket (or TLS) slot,
 * the protocol's connection, the CLI's routes, WebSocket at `/ws` and h2c upgrades on HTTP/1.1 —
 * with graceful shutdown on SIGINT/SIGTERM and optional `node:cluster` workers sharing the port.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { promises as fs } from 'node:fs';
import {
  createStreamLogger,
  DEFAULT_MIN_DATA_RATE,
  EventLoopGroup,
  h2cUpgrade,
  HTTP2_CONNECTION_DEFAULTS,
  Http1ServerConnection,
  Http2ServerConnection,
  ProtocolSniffer,
  LogLevel,
  MAX_BUSY_POLL_MICROS,
  parseLogLevel,
  SERVER_WRITE_TIMEOUT_MS,
  ServerBootstrap,
  setLogger,
  type BootstrapOptions,
  type Channel,
  type ChannelSlot,
  type Http1Upgrade,
  type Http1ServerConnectionOptions,
  type Http2ConnectionOptions,
  type Listener,
  type MinDataRate,
} from '../../handlers/index.js';
import {
  acceptWebSocketOverHttp2,
  isWebSocketConnect,
  webSocketUpgrade,
  type WebSocket,
  type WebSocketConnection,
  type WebSocketServerOptions,
} from '../../handlers/websocket/index.js';
import { parseCommandLine, parseInteger } from './arguments.js';
import { describeError, ExitCode, failure, usageError } from './cli-errors.js';
import { Http1RouteStream } from './http1-route-stream.js';
import { createRoutes, type RouteStream } from './routes.js';
import { createDevelopmentCertificate, serverTlsTransport, type CertificatePair } from './tls.js';
import { createWebSocketRoutes } from './websocket-routes.js';

/** The help text of `sluice serve`. */
export const SERVE_HELP = `Usage: sluice serve [options]

Serves HTTP/1.1 and HTTP/2 on one port: on TCP the first bytes choose (HTTP/2 with prior
knowledge, or an HTTP/1.1 request, which may upgrade to HTTP/2 with Upgrade: h2c, as
curl --http2 asks); under --tls ALPN chooses (h2 preferred, then http/1.1).

Routes:
  GET /           a short text
  GET /bytes/N    N bytes of a fixed pattern (byte i is i % 251), streamed
  POST /echo      the request body, streamed back (flow-controlled both ways)
  GET /headers    the request headers as JSON
  GET /ws         WebSocket (HTTP/1.1 upgrade): every message echoed back
  GET /<file>     files under --root (content type by extension); 404 otherwise
Over HTTP/2 responses are sent in the order of their RFC 9218 priority (the priority header,
PRIORITY_UPDATE): lower urgency first, non-incremental ones in request order.

Options:
      --host HOST        address to listen on (default 127.0.0.1)
  -p, --port PORT        port to listen on, 0 for any free port (default 8080)
      --tls              TLS with ALPN h2 and http/1.1; without --cert/--key a development certificate
                         is created with openssl for this run (clients need -k)
      --cert FILE        certificate chain (PEM); implies --tls, needs --key
      --key FILE         private key (PEM); implies --tls, needs --cert
      --root DIR         serve the files under DIR
      --log-level LEVEL  none, fatal, error, warn, info, debug or trace (default warn)
  -w, --workers N        N processes (node:cluster), one event loop each, sharing the port
      --busy-poll US     keep each event loop polling without sleeping for US microseconds
                         after every read (0 = off, the default; up to 1000000): lower
                         latency for one-at-a-time requests, at the cost of a busy core
  -h, --help             show this help

Deadlines for stalled, silent and slow peers (0 turns one off):
      --handshake-timeout MS      TLS plus the HTTP/2 preface or first HTTP/1.1 request line
                                  must arrive within MS of the connection (default 10000)
      --idle-timeout MS           close a connection with no request for MS (default: 75000
                                  for HTTP/2, GOAWAY first; 5000 for HTTP/1.1 keep-alive)
      --min-response-rate B       the peer must take responses at B bytes/s (default 240)
      --min-request-body-rate B   request bodies must arrive at B bytes/s while read (default 240)
      --rate-grace MS             time before either rate applies (default 5000)
      --write-timeout MS          a write the peer does not take for MS closes the connection
                                  (default 30000)

Prints "listening on <url>" once ready. SIGINT or SIGTERM closes gracefully (GOAWAY, Connection:
close or WebSocket close 1001; in-flight requests finish; a second signal or 10 s later, connections
are cut) and exits 0.
Exit codes: 0 ok, 1 cannot listen or read a file, 2 usage.
`;

/** How long in-flight streams may take to finish after a shutdown signal. */
export const GRACEFUL_CLOSE_TIMEOUT_MS = 10_000;

/** Environment of cluster workers: the certificate files the primary chose. */
const WORKER_CERT_ENV = 'SLUICE_SERVE_WORKER_CERT';
const WORKER_KEY_ENV = 'SLUICE_SERVE_WORKER_KEY';

/** What `sluice serve` was asked to do, checked. */
export interface ServeSettings {
  /** Listen address. */
  host: string;
  /** Listen port (0: any free port). */
  port: number;
  /** Whether to serve TLS. */
  isTls: boolean;
  /** Certificate and key files, or null for a development certificate (with TLS). */
  certificateFiles: { certPath: string; keyPath: string } | null;
  /** Directory of files to serve, or null. */
  root: string | null;
  /** Log level of the process logger. */
  logLevel: LogLevel;
  /** Worker processes; 1 runs the server in this process. */
  workers: number;
  /** Busy-poll window of each event loop, µs; 0 (off) by default. */
  busyPollMicros: number;
  /** The deadlines for stalled, silent and slow peers. */
  deadlines: ServeDeadlines;
}

/** The deadlines `sluice serve` gives its connections; 0 turns one off. */
export interface ServeDeadlines {
  /** TLS plus the HTTP/2 preface or the first HTTP/1.1 request line, ms from the connection. */
  handshakeTimeoutMs: number;
  /** No request for this long closes a connection, ms; null: each protocol's default. */
  idleTimeoutMs: number | null;
  /** The rate the peer must take responses at, B/s. */
  minResponseRate: number;
  /** The rate a request body must arrive at while read, B/s. */
  minRequestBodyRate: number;
  /** Time before either rate applies, ms. */
  rateGraceMs: number;
  /** A write the peer does not take for this long closes the connection, ms. */
  writeTimeoutMs: number;
}

/** The longest deadline a flag takes, ms: a day. */
const MAX_DEADLINE_MS = 86_400_000;

/** Parses `serve`'s arguments; null when `--help` was asked for. Throws usage errors. */
export function parseServeArguments(args: string[]): ServeSettings | null {
  const { values } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', short: 'p', default: '8080' },
      tls: { type: 'boolean', default: false },
      cert: { type: 'string' },
      key: { type: 'string' },
      root: { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
      workers: { type: 'string', short: 'w', default: '1' },
      'busy-poll': { type: 'string', default: '0' },
      'handshake-timeout': { type: 'string', default: String(HTTP2_CONNECTION_DEFAULTS.handshakeTimeoutMs) },
      'idle-timeout': { type: 'string' },
      'min-response-rate': { type: 'string', default: String(DEFAULT_MIN_DATA_RATE.bytesPerSecond) },
      'min-request-body-rate': { type: 'string', default: String(DEFAULT_MIN_DATA_RATE.bytesPerSecond) },
      'rate-grace': { type: 'string', default: String(DEFAULT_MIN_DATA_RATE.graceMs) },
      'write-timeout': { type: 'string', default: String(SERVER_WRITE_TIMEOUT_MS) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const logLevel = parseLogLevel(values['log-level']);
  if (logLevel === undefined)
    throw usageError(`unknown log level '${values['log-level']}' (none, fatal, error, warn, info, debug, trace)`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw usageError('--cert and --key go together');
  if (values.host === '') throw usageError('--host must not be empty');
  return {
    host: values.host,
    port: parseInteger('--port', values.port, 0, 65_535),
    isTls: values.tls || values.cert !== undefined,
    certificateFiles:
      values.cert !== undefined && values.key !== undefined ? { certPath: values.cert, keyPath: values.key } : null,
    root: values.root ?? null,
    logLevel,
    workers: parseInteger('--workers', values.workers, 1, 256),
    busyPollMicros: parseInteger('--busy-poll', values['busy-poll'], 0, MAX_BUSY_POLL_MICROS),
    deadlines: {
      handshakeTimeoutMs: parseInteger('--handshake-timeout', values['handshake-timeout'], 0, MAX_DEADLINE_MS),
      idleTimeoutMs:
        values['idle-timeout'] === undefined
          ? null
          : parseInteger('--idle-timeout', values['idle-timeout'], 0, MAX_DEADLINE_MS),
      minResponseRate: parseInteger('--min-response-rate', values['min-response-rate'], 0, 1_000_000_000),
      minRequestBodyRate: parseInteger('--min-request-body-rate', values['min-request-body-rate'], 0, 1_000_000_000),
      rateGraceMs: parseInteger('--rate-grace', values['rate-grace'], 0, MAX_DEADLINE_MS),
      writeTimeoutMs: parseInteger('--write-timeout', values['write-timeout'], 0, MAX_DEADLINE_MS),
    },
  };
}

/** The connection options of both protocols for `deadlines`. */
export function deadlineOptions(deadlines: ServeDeadlines): {
  http1: Omit<Http1ServerConnectionOptions, 'onRequest'>;
  http2: Http2ConnectionOptions;
} {
  const rate = (bytesPerSecond: number): MinDataRate | null =>
    bytesPerSecond === 0 ? null : { bytesPerSecond, graceMs: deadlines.rateGraceMs };
  const common = {
    handshakeTimeoutMs: deadlines.handshakeTimeoutMs,
    minResponseDataRate: rate(deadlines.minResponseRate),
    minRequestBodyDataRate: rate(deadlines.minRequestBodyRate),
    ...(deadlines.idleTimeoutMs === null ? {} : { idleTimeoutMs: deadlines.idleTimeoutMs }),
  };
  return { http1: common, http2: { ...common, writeTimeoutMs: deadlines.writeTimeoutMs } };
}

/** Runs `sluice serve`; resolves with the exit code once the server has closed. */
export async function runServe(args: string[]): Promise<ExitCode> {
  const settings = parseServeArguments(args);
  if (settings === null) {
    process.stdout.write(SERVE_HELP);
    return ExitCode.OK;
  }
  setLogger(createStreamLogger(settings.logLevel));
  const root = settings.root === null ? null : await resolveRoot(settings.root);
  let files = settings.certificateFiles;
  let disposeCertificate = (): void => undefined;
  const workerCert = process.env[WORKER_CERT_ENV];
  const workerKey = process.env[WORKER_KEY_ENV];
  if (settings.isTls && files === null && cluster.isWorker && workerCert !== undefined && workerKey !== undefined) {
    files = { certPath: workerCert, keyPath: workerKey };
  } else if (settings.isTls && files === null) {
    const development = await createDevelopmentCertificate();
    disposeCertificate = () => development.dispose();
    process.on('exit', disposeCertificate);
    files = { certPath: development.certPath, keyPath: development.keyPath };
    process.stderr.write(
      `using a development certificate (self-signed for localhost, 127.0.0.1 and ::1, in ${development.directory}, removed on exit): for local testing only\n`,
    );
  }
  try {
    if (settings.workers > 1 && cluster.isPrimary) return await runPrimary(settings, files);
    const pair = settings.isTls && files !== null ? await readCertificatePair(files) : null;
    return await runServer(settings, root, pair);
  } finally {
    disposeCertificate();
  }
}

async function resolveRoot(root: string): Promise<string> {
  try {
    const real = await fs.realpath(root);
    if (!(await fs.stat(real)).isDirectory()) throw failure(`--root '${root}' is not a directory`);
    return real;
  } catch (error) {
    if (error instanceof Error && error.name === 'CliError') throw error;
    throw failure(`cannot use --root '${root}': ${describeError(error)}`, error);
  }
}

async function readCertificatePair(files: { certPath: string; keyPath: string }): Promise<CertificatePair> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await fs.readFile(file);
    } catch (error) {
      throw failure(`cannot read '${file}': ${describeError(error)}`, error);
    }
  };
  return { cert: await read(files.certPath), key: await read(files.keyPath) };
}

/** The URL a client uses for `host:port`. */
export function serverUrl(isTls: boolean, host: string, port: number): string {
  return `${isTls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * RunningServer is one process's listener and its HTTP/1.1 and HTTP/2 connections. `close`
 * stops accepting, closes every connection gracefully (GOAWAY, or `Connection: close` on the last
 * response: requests already begun finish) and, after `graceMs` or on `cut`, shuts the remaining
 * channels down.
 */
class RunningServer {
  /** Each open connection, with how to close it gracefully. */
  readonly connections = new Map<
    Http1ServerConnection | Http2ServerConnection | WebSocketConnection,
    () => Promise<void>
  >();
  listener: Listener | null = null;
  private closing: Promise<void> | null = null;
  private isClosing = false;
  private readonly routes: (stream: RouteStream, headers: string[], isEndStream: boolean) => void;
  /** What an HTTP/1.1 request may upgrade to: WebSocket, and HTTP/2 (h2c) on cleartext only. */
  private readonly upgrades: Http1Upgrade[];
  /** The WebSocket endpoints, on both versions (an HTTP/1.1 upgrade or an RFC 8441 extended CONNECT). */
  private readonly webSockets: WebSocketServerOptions;

  constructor(
    private readonly connectionOptions: Http2ConnectionOptions,
    private readonly http1Options: Omit<Http1ServerConnectionOptions, 'onRequest'>,
    routes: (stream: RouteStream, headers: string[], isEndStream: boolean) => void,
    isTls: boolean,
  ) {
    this.routes = routes;
    this.webSockets = createWebSocketRoutes((socket) => this.trackWebSocket(socket));
    this.upgrades = [webSocketUpgrade(this.webSockets)];
    if (!isTls) this.upgrades.push(h2cUpgrade((channel) => this.createHttp2(channel)));
  }

  /**
   * The connection for a cleartext channel: a sniffer that becomes HTTP/1.1 or HTTP/2 on the
   * first bytes, and closes a connection that says nothing decisive within the handshake deadline.
   */
  installSniffer(channel: Channel): void {
    channel.appendHandler(
      new ProtocolSniffer(
        (sniffed) => this.createHttp1(sniffed),
        (sniffed) => this.createHttp2(sniffed),
        this.http1Options.handshakeTimeoutMs,
      ),
    );
  }

  /** Puts the connection ALPN chose right of `slot` (the TLS slot). */
  install(slot: ChannelSlot, protocol: string | null): void {
    slot.insertRight(protocol === 'h2' ? this.createHttp2(slot.channel) : this.createHttp1(slot.channel));
  }

  private createHttp2(channel: Channel): Http2ServerConnection {
    const onStream = this.connectionOptions.onStream;
    const connection = new Http2ServerConnection({
      ...this.connectionOptions,
      enableConnectProtocol: true,
      onStream: (stream, headers, isEndStream) => {
        if (isWebSocketConnect(headers) && acceptWebSocketOverHttp2(stream, headers, this.webSockets)) return;
        onStream?.(stream, headers, isEndStream);
      },
      onClose: () => this.connections.delete(connection),
    });
    this.track(connection, channel, async () => {
      await connection.close();
    });
    return connection;
  }

  private createHttp1(channel: Channel): Http1ServerConnection {
    const clock = channel.loop.clock;
    const connection = new Http1ServerConnection({
      ...this.http1Options,
      isManualWindow: true,
      upgrades: this.upgrades,
      onRequest: (stream) =>
        this.routes(
          new Http1RouteStream(stream, clock),
          Http1RouteStream.headersOf(stream),
          stream.bodyKind === 'none',
        ),
    });
    this.track(connection, channel, async () => {
      connection.close();
      await channel.whenShutdown;
    });
    return connection;
  }

  /** A WebSocket opened by an upgrade: closed with 1001 (going away) on shutdown. */
  private trackWebSocket(socket: WebSocket): void {
    const channel = socket.connection.channelSlot?.channel;
    if (channel === undefined) return;
    this.track(socket.connection, channel, async () => {
      await socket.close(1001, 'server shutting down');
    });
  }

  private track(
    connection: Http1ServerConnection | Http2ServerConnection | WebSocketConnection,
    channel: Channel,
    close: () => Promise<void>,
  ): void {
    this.connections.set(connection, close);
    void channel.whenShutdown.then(() => this.connections.delete(connection));
    // A connection that starts after close() began: close this one too.
    if (this.isClosing) queueMicrotask(() => void close());
  }

  close(graceMs: number): Promise<void> {
    this.isClosing = true;
    this.closing ??= (async () => {
      const listener = this.listener;
      if (listener === null) return;
      listener.server.close();
      const graceful = Promise.all([...this.connections.values()].map((close) => close()));
      let timer: NodeJS.Timeout | null = null;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([graceful, deadline]);
      if (timer !== null) clearTimeout(timer);
      await listener.close();
    })();
    return this.closing;
  }

  /** Cuts every remaining connection now (second signal). */
  cut(): void {
    for (const channel of this.listener?.channels ?? []) channel.shutdown(null, true);
  }
}

async function runServer(
  settings: ServeSettings,
  root: string | null,
  pair: CertificatePair | null,
): Promise<ExitCode> {
  const routes = createRoutes({ root });
  const deadlines = settings.deadlines;
  const { http1, http2 } = deadlineOptions(deadlines);
  const server = new RunningServer(
    { maxConcurrentStreams: 128, ...http2, onStream: routes },
    http1,
    routes,
    pair !== null,
  );
  const bootstrapOptions: BootstrapOptions = {};
  if (settings.busyPollMicros > 0)
    bootstrapOptions.loopGroup = new EventLoopGroup({ busyPollMicros: settings.busyPollMicros });
  if (pair !== null) {
    // One deadline covers TLS and the first protocol bytes; off, TLS keeps its own default.
    const negotiationTimeoutMs = deadlines.handshakeTimeoutMs > 0 ? deadlines.handshakeTimeoutMs : undefined;
    bootstrapOptions.transport = serverTlsTransport(
      pair,
      (slot, protocol) => server.install(slot, protocol),
      negotiationTimeoutMs,
    );
  }
  try {
    server.listener = await new ServerBootstrap(bootstrapOptions).listen({
      host: settings.host,
      port: settings.port,
      socketOptions: { writeTimeoutMs: deadlines.writeTimeoutMs },
      pipeline: pair !== null ? undefined : (channel) => server.installSniffer(channel),
    });
  } catch (error) {
    throw failure(
      `cannot listen on ${serverUrl(pair !== null, settings.host, settings.port)}: ${describeError(error)}`,
      error,
    );
  }
  const url = serverUrl(pair !== null, settings.host, server.listener.port);
  // The signal handlers come before the line that says we listen: a SIGTERM sent on reading it
  // must find them, or the default action kills the process mid-way (seen under load).
  const stopRequested = whenStopRequested(() => server.cut());
  if (cluster.isWorker) process.send?.({ type: 'sluice-listening', port: server.listener.port });
  else process.stdout.write(`listening on ${url}\n`);
  if (settings.logLevel >= LogLevel.INFO) process.stderr.write(`serving ${url} (pid ${process.pid})\n`);
  await stopRequested;
  await server.close(GRACEFUL_CLOSE_TIMEOUT_MS);
  return ExitCode.OK;
}

/** What a cluster primary tells its workers: close gracefully, or cut the connections now. */
type PrimaryCommand = 'sluice-stop' | 'sluice-cut';

/**
 * Resolves on the first SIGINT or SIGTERM (or, in a worker, the primary's stop message); later
 * signals call `onCut`. In a cluster a terminal's Ctrl-C reaches every process as well as the
 * primary's message, so the message never counts as a second signal.
 */
function whenStopRequested(onCut: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let signalCount = 0;
    const onSignal = (): void => {
      signalCount++;
      if (signalCount === 1) resolve();
      else onCut();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (cluster.isWorker) {
      process.on('message', (message: unknown) => {
        if (message === 'sluice-stop') resolve();
        else if (message === 'sluice-cut') onCut();
      });
    }
  });
}

/** The `type` of the message a cluster worker sends its primary instead of printing its failure line. */
export const WORKER_FAILURE_MESSAGE = 'sluice-worker-failed';

function failureLineOf(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null;
  const { type, line } = message as { type?: unknown; line?: unknown };
  return type === WORKER_FAILURE_MESSAGE && typeof line === 'string' ? line : null;
}

/** Message a worker sends its primary once it listens. */
interface ListeningMessage {
  type: 'sluice-listening';
  port: number;
}

function isListeningMessage(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'sluice-listening';
}

/**
 * The cluster primary: forks the workers (each runs `runServer` on its own event loop; they
 * share the listening socket), prints the URL once all listen, forwards shutdown signals and
 * exits once every worker has. A worker that fails before listening fails the whole command.
 */
async function runPrimary(
  settings: ServeSettings,
  files: { certPath: string; keyPath: string } | null,
): Promise<ExitCode> {
  const env: NodeJS.ProcessEnv = {};
  if (files !== null) {
    env[WORKER_CERT_ENV] = files.certPath;
    env[WORKER_KEY_ENV] = files.keyPath;
  }
  const workers: Worker[] = [];
  let listeningCount = 0;
  let isStopping = false;
  let hasPrintedFailure = false;
  let worstExit: ExitCode = ExitCode.OK;
  const allExited = new Promise<void>((resolve) => {
    let exitedCount = 0;
    for (let i = 0; i < settings.workers; i++) {
      const worker = cluster.fork(env);
      workers.push(worker);
      worker.on('message', (message: unknown) => {
        const failureLine = failureLineOf(message);
        if (failureLine !== null && !hasPrintedFailure) {
          hasPrintedFailure = true;
          process.stderr.write(`${failureLine}\n`);
        }
        if (!isListeningMessage(message)) return;
        // Asked to stop before this worker listened (and so before it heard): tell it again.
        if (isStopping) worker.send('sluice-stop' satisfies PrimaryCommand);
        listeningCount++;
        if (listeningCount === settings.workers) {
          process.stdout.write(`listening on ${serverUrl(settings.isTls, settings.host, message.port)}\n`);
        }
      });
      worker.on('exit', (code, signal) => {
        exitedCount++;
        if (!isStopping) {
          // A worker died on its own (it printed why): stop the others, report failure.
          worstExit = ExitCode.FAILURE;
          if (!hasPrintedFailure)
            process.stderr.write(`sluice serve: worker ${worker.process.pid} exited (${signal ?? code})\n`);
          stop();
        } else if (code !== 0) {
          worstExit = ExitCode.FAILURE;
        }
        if (exitedCount === settings.workers) resolve();
      });
    }
  });
  const tell = (command: PrimaryCommand): void => {
    for (const worker of workers) if (worker.isConnected()) worker.send(command);
  };
  const stop = (): void => {
    isStopping = true;
    tell('sluice-stop');
  };
  let signalCount = 0;
  const onSignal = (): void => {
    signalCount++;
    if (signalCount === 1) stop();
    else tell('sluice-cut');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await allExited;
  return worstExit;
}
