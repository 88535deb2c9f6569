/**
 * The echo server: socket → length-prefix framer → echo handler.
 *
 * @module
 */
import {
  ServerBootstrap,
  type Channel,
  type EventLoopGroup,
  type Listener,
  type SluiceError,
} from '../../handlers/index.js';
import { ECHO_HANDLER_DEFAULTS, EchoHandler, type EchoHandlerOptions } from './echo-handler.js';
import { LengthPrefixFramer, type LengthPrefixFramerOptions } from './length-prefix-framer.js';

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  /** Address to bind (TCP); 127.0.0.1 by default. */
  host?: string;
  /** Port (TCP); 0 picks a free one. */
  port?: number;
  /** Unix socket path, instead of host and port. */
  path?: string;
  /** Loops for accepted channels; the process default otherwise. */
  loopGroup?: EventLoopGroup;
  /** Options of each connection's framer. */
  framer?: LengthPrefixFramerOptions;
  /** Options of each connection's echo handler. */
  echo?: EchoHandlerOptions;
  /** Called when an accepted connection has shut down (with its first error, if any). */
  onConnectionClosed?: (channel: Channel, error: SluiceError | null) => void;
}

/**
 * Installs the echo pipeline right of the socket slot: a {@link LengthPrefixFramer}, then an
 * {@link EchoHandler}. Pass it as a bootstrap's `pipeline` to serve echo on any listener.
 */
export function installEchoPipeline(channel: Channel, options: Pick<EchoServerOptions, 'framer' | 'echo'> = {}): void {
  // The echo handler needs a whole frame before it answers, so a frame may be no longer than
  // its read window: otherwise neither side could move.
  const echoWindow = options.echo?.readWindow ?? ECHO_HANDLER_DEFAULTS.readWindow;
  channel.appendHandler(new LengthPrefixFramer({ maxFrameLength: echoWindow, ...options.framer }));
  channel.appendHandler(new EchoHandler(options.echo));
}

/**
 * Starts an echo server and resolves with its listener once bound. `listener.close()` stops
 * accepting, lets every connection finish writing its echoes, and resolves when all are closed.
 */
export function startEchoServer(options: EchoServerOptions = {}): Promise<Listener> {
  const bootstrap = new ServerBootstrap(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {});
  return bootstrap.listen({
    ...(options.path !== undefined
      ? { path: options.path }
      : { host: options.host ?? '127.0.0.1', port: options.port ?? 0 }),
    pipeline: (channel) => installEchoPipeline(channel, options),
    ...(options.onConnectionClosed !== undefined ? { onAcceptShutdown: options.onConnectionClosed } : {}),
  });
}
