/**
 * How `sluice get` opens a connection: h2c or TLS (ALPN h2) by the URL, and with `-v` a frame
 * logger between the transport and the HTTP/2 connection.
 *
 * @module
 */
import {
  connectHttp2,
  type ConnectHttp2Options,
  type Http2ClientConnection,
  type Http2ConnectionOptions,
} from '../../handlers/index.js';
import { FrameLoggerHandler } from '../../handlers/plugins/frame-logger-handler.js';
import { clientTlsTransport } from './tls.js';

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
      channel.appendHandler(
        new FrameLoggerHandler({ role: 'client', sink: (line) => process.stderr.write(`* ${line}\n`) }),
      );
    };
  }
  return connectHttp2(options);
}
