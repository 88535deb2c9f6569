/**
 * Bootstraps: build channels for outgoing connections and for accepted ones.
 *
 * `lib/` never imports `handlers/`, so the first slot's handler comes from a
 * {@link TransportHandlerFactory}; `sluice/socket` provides the socket handler's and makes it
 * the default when imported (the main `sluice` entry imports it).
 *
 * @module
 */
import net from 'node:net';
import { Channel, type ChannelOptions } from './channel.js';
import type { ChannelHandler } from './channel-handler.js';
import { IoErrors, SluiceError } from './errors.js';
import { checkArgument, checkOptionalOptions, describeValue } from './argument-checks.js';
import { defaultEventLoopGroup, type EventLoop, type EventLoopGroup } from './event-loop.js';
import { log, LogLevel, useServerDefaultLogger } from './logging.js';
import { fromNodeSocketError } from './socket-errors.js';
import type { ChannelStatisticsOptions } from './statistics.js';
import { Task, TaskStatus } from './task.js';

/** What a transport handler is told about its socket besides the socket itself. */
export interface TransportOptions {
  /** A write that makes no progress for this many ms closes the connection (`IO_WRITE_TIMEOUT`); 0: no limit. */
  readonly writeTimeoutMs: number;
  /**
   * Without a `writeTimeoutMs`, a graceful close whose flush makes no progress for this many ms
   * ends anyway (`IO_WRITE_TIMEOUT`); 0: the flush may wait forever. Absent: the transport's default.
   */
  readonly closeFlushTimeoutMs?: number;
}

/** Makes the first slot's handler for a connected socket; `options` come from the bootstrap's socket options. */
export type TransportHandlerFactory = (socket: net.Socket, options?: TransportOptions) => ChannelHandler;

let defaultTransport: TransportHandlerFactory | null = null;

/**
 * Sets the transport used by bootstraps created without one (`sluice/socket` sets its socket
 * handler). Throws `IO_INVALID_OPTIONS` for what is not a function (and keeps the one it had).
 */
export function setDefaultTransport(factory: TransportHandlerFactory): void {
  checkArgument(typeof factory === 'function', 'setDefaultTransport(factory)', 'factory is a function', factory);
  defaultTransport = factory;
}

function resolveTransport(factory: TransportHandlerFactory | undefined): TransportHandlerFactory {
  const transport = factory ?? defaultTransport;
  if (transport === null) {
    throw new SluiceError(
      IoErrors.NO_TRANSPORT,
      "no transport: import 'sluice' or 'sluice/socket', or pass { transport }",
    );
  }
  return transport;
}

/** Socket options; see {@link SOCKET_OPTIONS_DEFAULTS}. */
export interface SocketOptions {
  /** Give up connecting after this many ms (`IO_CONNECT_TIMEOUT`). */
  connectTimeoutMs?: number;
  /** TCP keep-alive probes. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, ms. */
  keepAliveInitialDelayMs?: number;
  /** Disable Nagle's algorithm (send small writes at once). */
  noDelay?: boolean;
  /** Address family for host names: 4, 6, or 0 for either. */
  family?: 0 | 4 | 6;
  /**
   * A write the peer does not take for this many ms — no write completes while one waits, or a
   * graceful close cannot flush — fails the writes and closes the connection (`IO_WRITE_TIMEOUT`);
   * 0 (the default) sets no limit. The HTTP servers set 30 000. Passed to the transport factory.
   */
  writeTimeoutMs?: number;
  /**
   * Without a `writeTimeoutMs`, how long a graceful close may wait to flush toward a peer that
   * takes none of it, ms (from the last write that completed): then the socket is destroyed and
   * the close ends with `IO_WRITE_TIMEOUT`. Default 30 000 ({@link CLOSE_FLUSH_TIMEOUT_MS}), so a
   * client closing toward a peer that stopped reading is not held forever; 0: no limit.
   */
  closeFlushTimeoutMs?: number;
}

/** Default of {@link SocketOptions.closeFlushTimeoutMs}, ms. */
export const CLOSE_FLUSH_TIMEOUT_MS = 30_000;

/** Defaults of {@link SocketOptions}. */
export const SOCKET_OPTIONS_DEFAULTS: Readonly<Required<SocketOptions>> = Object.freeze({
  connectTimeoutMs: 3000,
  keepAlive: false,
  keepAliveInitialDelayMs: 0,
  noDelay: true,
  family: 0,
  writeTimeoutMs: 0,
  closeFlushTimeoutMs: CLOSE_FLUSH_TIMEOUT_MS,
});

/**
 * The `socketOptions.writeTimeoutMs` the HTTP servers (`createServer`, `listenHttp2`, `sluice
 * serve`) use unless given, ms: a write the peer does not take for 30 s closes the connection,
 * as HTTP/2's `writeTimeoutMs` does for its messages (nginx's `send_timeout` is 60 s).
 */
export const SERVER_WRITE_TIMEOUT_MS = 30_000;

/** Where to connect or listen: TCP host and port, or a Unix socket path. */
export interface Endpoint {
  /** Host name or address (TCP). */
  host?: string;
  /** Port (TCP); 0 to listen on any free port. */
  port?: number;
  /** Unix socket path (instead of host/port). */
  path?: string;
}

/** What both bootstraps share about the channels they build. */
export interface ChannelSetupOptions {
  /** Socket options. */
  socketOptions?: SocketOptions;
  /** Read back-pressure (on by default). */
  enableReadBackPressure?: boolean;
  /** Periodic statistics for each channel. */
  statistics?: ChannelStatisticsOptions;
  /**
   * Installs the caller's handlers right of the transport slot; runs during channel setup,
   * before the transport starts reading.
   */
  pipeline?: (channel: Channel) => void;
}

/** Options of {@link ClientBootstrap.connect}. */
export interface ConnectOptions extends Endpoint, ChannelSetupOptions {
  /** Called once: with the channel when set up, or with the error when connecting failed. */
  onSetup?: (error: SluiceError | null, channel: Channel | null) => void;
  /** Called once the channel (if it was set up) has shut down. */
  onShutdown?: (channel: Channel, error: SluiceError | null) => void;
}

/** Options of a bootstrap: which loops and which transport. */
export interface BootstrapOptions {
  /** Loops to spread channels over; the process default group otherwise. */
  loopGroup?: EventLoopGroup;
  /** First-slot handler factory; the default transport otherwise. */
  transport?: TransportHandlerFactory;
}

function applySocketOptions(socket: net.Socket, options: Required<SocketOptions>): void {
  socket.setNoDelay(options.noDelay);
  if (options.keepAlive) socket.setKeepAlive(true, options.keepAliveInitialDelayMs);
}

/**
 * The options of the channels one bootstrap call makes. A listener makes them once and all its
 * channels share them (nothing in them is per connection), so an accepted connection carries no
 * options object or callbacks of its own.
 */
function channelOptionsFor(
  options: ChannelSetupOptions,
  onSetup: (channel: Channel) => void,
  onShutdown: ((channel: Channel, error: SluiceError | null) => void) | undefined,
): ChannelOptions {
  const channelOptions: ChannelOptions = {
    enableReadBackPressure: options.enableReadBackPressure ?? true,
    onSetupCompleted: (channel) => {
      options.pipeline?.(channel);
      onSetup(channel);
      channel.first?.handler.triggerRead?.();
    },
  };
  if (options.statistics !== undefined) channelOptions.statistics = options.statistics;
  if (onShutdown !== undefined) channelOptions.onShutdownCompleted = onShutdown;
  return channelOptions;
}

function buildChannel(
  loop: EventLoop,
  socket: net.Socket,
  transport: TransportHandlerFactory,
  channelOptions: ChannelOptions,
  transportOptions: TransportOptions,
): Channel {
  const channel = new Channel(loop, channelOptions);
  channel.appendHandler(transport(socket, transportOptions));
  return channel;
}

/** What the transport is told, from the socket options (checked once per bootstrap call). */
function transportOptionsFor(options: Required<SocketOptions>): TransportOptions {
  const { writeTimeoutMs, closeFlushTimeoutMs } = options;
  for (const [name, value] of [
    ['writeTimeoutMs', writeTimeoutMs],
    ['closeFlushTimeoutMs', closeFlushTimeoutMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        `socketOptions.${name} must be a number of ms, 0 or more, not ${describeValue(value)}`,
      );
    }
  }
  return Object.freeze({ writeTimeoutMs, closeFlushTimeoutMs });
}

/**
 * ClientBootstrap opens connections and builds a channel for each: the transport (socket) slot
 * first, then whatever `pipeline` installs.
 *
 * @example
 * ```ts
 * const bootstrap = new ClientBootstrap();
 * const channel = await bootstrap.connect({
 *   host: '127.0.0.1', port: 8080,
 *   pipeline: (channel) => channel.appendHandler(new MyProtocolHandler()),
 * });
 * ```
 */
export class ClientBootstrap {
  private readonly loopGroup: EventLoopGroup;
  private readonly transport: TransportHandlerFactory;

  /** Creates a bootstrap; throws `IO_NO_TRANSPORT` when no transport is known. */
  constructor(options: BootstrapOptions = {}) {
    checkOptionalOptions(options, 'bootstrap');
    this.loopGroup = options.loopGroup ?? defaultEventLoopGroup();
    this.transport = resolveTransport(options.transport);
  }

  /**
   * Connects and resolves with the set-up channel, or rejects with `IO_CONNECTION_REFUSED`,
   * `IO_CONNECT_TIMEOUT`, `IO_DNS_FAILURE`, …. When `onSetup` is given, the promise's
   * rejection is already handled (no unhandled rejection if the caller ignores it).
   */
  connect(options: ConnectOptions): Promise<Channel> {
    const invalid = addressProblem(options, 'connect');
    if (invalid !== null) {
      const error = new SluiceError(IoErrors.INVALID_OPTIONS, `ClientBootstrap.connect: ${invalid}`);
      (options as Partial<ConnectOptions> | null)?.onSetup?.(error, null);
      return Promise.reject(error);
    }
    const socketOptions = { ...SOCKET_OPTIONS_DEFAULTS, ...options.socketOptions };
    let transportOptions: TransportOptions;
    try {
      transportOptions = transportOptionsFor(socketOptions);
    } catch (error) {
      options.onSetup?.(error as SluiceError, null);
      return Promise.reject(error);
    }
    const loop = this.loopGroup.next();
    const promise = new Promise<Channel>((resolve, reject) => {
      let isSettled = false;
      const fail = (error: SluiceError): void => {
        if (isSettled) return;
        isSettled = true;
        loop.cancel(timeoutTask);
        socket.destroy();
        if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'bootstrap', `connect failed: ${error.code}`);
        options.onSetup?.(error, null);
        reject(error);
      };
      const timeoutTask = new Task((status) => {
        if (status === TaskStatus.RUN_READY) {
          fail(new SluiceError(IoErrors.CONNECT_TIMEOUT, `no connection within ${socketOptions.connectTimeoutMs} ms`));
        }
      }, 'connect-timeout');
      const onError = (error: Error): void => fail(fromNodeSocketError(error));
      const socket =
        options.path !== undefined
          ? net.connect({ path: options.path })
          : net.connect({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, family: socketOptions.family });
      socket.once('error', onError);
      loop.scheduleAfter(timeoutTask, socketOptions.connectTimeoutMs);
      socket.once('connect', () => {
        if (isSettled) return;
        isSettled = true;
        loop.cancel(timeoutTask);
        socket.off('error', onError);
        applySocketOptions(socket, socketOptions);
        const channelOptions = channelOptionsFor(
          options,
          (channel) => {
            options.onSetup?.(null, channel);
            resolve(channel);
          },
          options.onShutdown,
        );
        buildChannel(loop, socket, this.transport, channelOptions, transportOptions);
      });
    });
    if (options.onSetup !== undefined) promise.catch(() => undefined);
    return promise;
  }
}

/** Options of {@link ServerBootstrap.listen}. */
export interface ListenOptions extends Endpoint, ChannelSetupOptions {
  /** Pending-connection queue length. */
  backlog?: number;
  /** Called for each accepted connection once its channel is set up. */
  onAcceptSetup?: (channel: Channel) => void;
  /** Called when an accepted connection's channel has shut down. */
  onAcceptShutdown?: (channel: Channel, error: SluiceError | null) => void;
}

/** The address a {@link Listener} is bound to. */
export type ListenerAddress = TcpListenerAddress | UnixListenerAddress;

/** A TCP listener's address. */
export interface TcpListenerAddress {
  /** The bound address, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** The bound port. */
  port: number;
  /** `IPv4` or `IPv6`. */
  family: string;
}

/** A Unix socket listener's address. */
export interface UnixListenerAddress {
  /** The socket's path. */
  path: string;
}

/**
 * Listener is a bound server socket and the channels it accepted. `close()` stops accepting,
 * shuts every open channel down gracefully, and resolves when all have shut down.
 */
export class Listener {
  /** Channels accepted and not yet shut down. */
  readonly channels = new Set<Channel>();
  private closing: Promise<void> | null = null;

  /** @internal Listeners come from {@link ServerBootstrap.listen}. */
  constructor(
    /** The Node server socket. */
    readonly server: net.Server,
  ) {}

  /** True once `close()` was called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** Where the listener is bound. */
  get address(): ListenerAddress {
    const address = this.server.address();
    if (address === null) throw new SluiceError(IoErrors.LISTENER_CLOSED);
    if (typeof address === 'string') return { path: address };
    return { host: address.address, port: address.port, family: address.family };
  }

  /** The bound TCP port (throws for Unix sockets). */
  get port(): number {
    const address = this.address;
    if (!('port' in address)) throw new SluiceError(IoErrors.INVALID_OPTIONS, 'a Unix socket listener has no port');
    return address.port;
  }

  /**
   * Stops accepting and shuts every channel down gracefully (with `error`, null by default);
   * resolves once the server socket and every channel have closed. Calling again returns the
   * same promise.
   */
  close(error: SluiceError | null = null): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const serverClosed = new Promise<void>((done) => this.server.close(() => done()));
      const channelsClosed = [...this.channels].map((channel) => {
        channel.shutdown(error);
        return channel.whenShutdown;
      });
      void Promise.all([serverClosed, ...channelsClosed]).then(() => resolve());
    });
    return this.closing;
  }
}

/**
 * ServerBootstrap listens and builds a channel for every accepted connection, spreading them
 * over its loop group.
 *
 * @example
 * ```ts
 * const listener = await new ServerBootstrap().listen({
 *   host: '127.0.0.1', port: 0,
 *   pipeline: (channel) => channel.appendHandler(new EchoHandler()),
 * });
 * console.log(listener.port);
 * await listener.close();
 * ```
 */
export class ServerBootstrap {
  private readonly loopGroup: EventLoopGroup;
  private readonly transport: TransportHandlerFactory;

  /** Creates a bootstrap; throws `IO_NO_TRANSPORT` when no transport is known. */
  constructor(options: BootstrapOptions = {}) {
    checkOptionalOptions(options, 'bootstrap');
    this.loopGroup = options.loopGroup ?? defaultEventLoopGroup();
    this.transport = resolveTransport(options.transport);
  }

  /**
   * Binds and resolves with the listener, or rejects with `IO_ADDRESS_IN_USE`, …. Unless
   * `setLogger` chose a logger, the process logs WARN and above to stderr from now on.
   */
  listen(options: ListenOptions): Promise<Listener> {
    const invalid = addressProblem(options, 'listen');
    if (invalid !== null)
      return Promise.reject(new SluiceError(IoErrors.INVALID_OPTIONS, `ServerBootstrap.listen: ${invalid}`));
    useServerDefaultLogger();
    const socketOptions = { ...SOCKET_OPTIONS_DEFAULTS, ...options.socketOptions };
    let transportOptions: TransportOptions;
    try {
      transportOptions = transportOptionsFor(socketOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    const server = net.createServer({ noDelay: socketOptions.noDelay });
    const listener = new Listener(server);
    const channelOptions = channelOptionsFor(
      options,
      (ready) => options.onAcceptSetup?.(ready),
      (closed, error) => {
        listener.channels.delete(closed);
        options.onAcceptShutdown?.(closed, error);
      },
    );
    server.on('connection', (socket) => {
      if (listener.isClosing) {
        socket.destroy();
        return;
      }
      applySocketOptions(socket, socketOptions);
      const channel = buildChannel(this.loopGroup.next(), socket, this.transport, channelOptions, transportOptions);
      listener.channels.add(channel);
    });
    return new Promise<Listener>((resolve, reject) => {
      const onError = (error: Error): void => reject(fromNodeSocketError(error));
      server.once('error', onError);
      const onListening = (): void => {
        server.off('error', onError);
        // Errors after binding (e.g. EMFILE on accept) are logged, not thrown.
        server.on('error', (error) => {
          if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'bootstrap', `listener error: ${error.message}`);
        });
        resolve(listener);
      };
      if (options.path !== undefined) server.listen({ path: options.path, backlog: options.backlog }, onListening);
      else
        server.listen(
          { host: options.host ?? '127.0.0.1', port: options.port ?? 0, backlog: options.backlog },
          onListening,
        );
    });
  }
}

/**
 * What is wrong with where to connect or listen, or null: checked before any socket exists, so
 * a bad address is `IO_INVALID_OPTIONS` rather than Node's `ERR_SOCKET_BAD_PORT` thrown from
 * inside, or a connection attempt to a default nobody asked for. `connect` needs a `port` from
 * 1 to 65535 (or a `path`); `listen` takes a `port` from 0 (any free port) to 65535.
 */
function addressProblem(options: unknown, what: 'connect' | 'listen'): string | null {
  if (typeof options !== 'object' || options === null) return 'options must be an object';
  const { host, port, path } = options as { host?: unknown; port?: unknown; path?: unknown };
  if (path !== undefined) return typeof path === 'string' && path.length > 0 ? null : 'path must be a non-empty string';
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) return 'host must be a non-empty string';
  if (port === undefined) return what === 'connect' ? 'a port (with a host) or a path is required' : null;
  const lowest = what === 'connect' ? 1 : 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < lowest || port > 65_535) {
    return `port must be a whole number from ${lowest} to 65535, not ${describeValue(port)}`;
  }
  return null;
}
