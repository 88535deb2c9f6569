/**
 * How `sluice get` opens a connection: HTTP/1.1, h2c with prior knowledge, or TLS with ALPN
 * (h2 and http/1.1 offered, or one of them), and with `-v` a frame logger between the transport
 * and an HTTP/2 connection.
 *
 * @module
 */
import {
  ClientBootstrap,
  connectHttp1,
  connectHttp2,
  Http1ClientConnection,
  Http2ClientConnection,
  SluiceError,
  TlsErrors,
  type ConnectHttp1Options,
  type ConnectHttp2Options,
  type Channel,
  type Http2ConnectionOptions,
} from '../../handlers/index.js';
import { FrameLoggerHandler } from '../../handlers/plugins/frame-logger-handler.js';
import { clientTlsOptions, clientTlsTransport, negotiatingTlsTransport } from './tls.js';

/** What `get` speaks: `auto` (https: by ALPN, h2 preferred; http: HTTP/1.1), `h2`, or `http/1.1`. */
export type GetProtocol = 'auto' | 'h2' | 'http/1.1';

/** A connection of the protocol chosen. */
export type GetConnection =
  { protocol: 'h2'; connection: Http2ClientConnection } | { protocol: 'http/1.1'; connection: Http1ClientConnection };

/** What {@link connectToServer} needs of `get`'s settings. */
export interface ConnectionTarget {
  /** Host to connect to (brackets of an IPv6 literal removed). */
  host: string;
  /** Port to connect to. */
  port: number;
  /** https:// */
  isTls: boolean;
  /** Verify the server certificate (false with `-k`). */
  isVerifying: boolean;
  /** CA certificates (PEM) trusted besides Node's roots (`--cacert`), or null. */
  ca: Buffer | null;
  /** Log every frame to stderr. */
  isVerbose: boolean;
}

/**
 * Opens one HTTP/2 connection to `target`; `http2` carries the connection's callbacks (the
 * load mode's stream manager wires its events there). Rejects with the connect, TLS or ALPN
 * error as the bootstrap reports it (`IO_CONNECTION_REFUSED`, `TLS_CERTIFICATE_UNTRUSTED`, …).
 */
export function connectToServer(
  target: ConnectionTarget,
  http2?: Http2ConnectionOptions,
): Promise<Http2ClientConnection> {
  const options: ConnectHttp2Options = { host: target.host, port: target.port };
  if (http2 !== undefined) options.http2 = http2;
  if (target.isTls) {
    options.transport = clientTlsTransport({ servername: target.host, isVerifying: target.isVerifying, ca: target.ca });
  }
  if (target.isVerbose) {
    options.pipeline = (channel) => {
      channel.appendHandler(frameLogger());
    };
  }
  return connectHttp2(options);
}

/** The frame logger `-v` puts in front of an HTTP/2 connection. */
function frameLogger(): FrameLoggerHandler {
  return new FrameLoggerHandler({ role: 'client', sink: (line) => process.stderr.write(`* ${line}\n`) });
}

/**
 * Opens one connection of `protocol` to `target`: `h2` as {@link connectToServer}; `http/1.1`
 * over TCP or TLS (ALPN http/1.1), in manual window mode; `auto` is HTTP/1.1 on `http:` and
 * negotiates by ALPN on `https:` (h2 preferred). Rejects as the bootstrap reports it.
 */
export async function connectWithProtocol(target: ConnectionTarget, protocol: GetProtocol): Promise<GetConnection> {
  const effective = protocol === 'auto' && !target.isTls ? 'http/1.1' : protocol;
  if (effective === 'h2') return { protocol: 'h2', connection: await connectToServer(target) };
  const tlsOptions = clientTlsOptions({ servername: target.host, isVerifying: target.isVerifying, ca: target.ca });
  if (effective === 'http/1.1') {
    const options: ConnectHttp1Options = { host: target.host, port: target.port, http1: { isManualWindow: true } };
    if (target.isTls) {
      const { role: _role, ...tls } = tlsOptions;
      options.tls = tls;
    }
    return { protocol: 'http/1.1', connection: await connectHttp1(options) };
  }
  let chosen: GetConnection | null = null;
  let markInstalled!: () => void;
  const installed = new Promise<void>((resolve) => (markInstalled = resolve));
  const transport = negotiatingTlsTransport(
    { servername: target.host, isVerifying: target.isVerifying, ca: target.ca },
    (slot, negotiated) => {
      if (negotiated === 'h2') {
        const connection = new Http2ClientConnection();
        if (target.isVerbose) slot.channel.appendHandler(frameLogger());
        slot.channel.appendHandler(connection);
        chosen = { protocol: 'h2', connection };
      } else {
        const connection = new Http1ClientConnection({ host: `${target.host}:${target.port}`, isManualWindow: true });
        slot.channel.appendHandler(connection);
        chosen = { protocol: 'http/1.1', connection };
      }
      markInstalled();
    },
  );
  const channel: Channel = await new ClientBootstrap({ transport }).connect({
    host: target.host,
    port: target.port,
    pipeline: () => undefined,
  });
  const outcome = await Promise.race([
    installed.then(() => null),
    channel.whenShutdown.then((error) => error ?? new SluiceError(TlsErrors.CLOSED)),
  ]);
  if (outcome !== null) throw outcome;
  if (chosen === null) throw new SluiceError(TlsErrors.CLOSED);
  return chosen;
}
