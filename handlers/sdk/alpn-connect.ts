/**
 * One TLS connection that offers ALPN "h2" and "http/1.1" and installs the handler of whichever
 * the server picks: how a connection manager learns which version an `https://` origin speaks.
 *
 * @module
 */
import { ClientBootstrap, SluiceError, type Channel, type EventLoopGroup } from '../../lib/index.js';
import {
  Http1ClientConnection,
  type Http1ClientConnectionOptions,
  type Http1ClientTlsOptions,
} from '../http1/index.js';
import { Http2ClientConnection, type Http2ConnectionOptions } from '../http2/index.js';
import { TlsErrors, nativeTlsTransport } from '../tls/index.js';

/** The connection {@link connectByAlpn} set up: HTTP/2 when the server chose "h2", HTTP/1.1 otherwise. */
export type AlpnConnection =
  | { readonly protocol: 'h2'; readonly connection: Http2ClientConnection }
  | { readonly protocol: 'http/1.1'; readonly connection: Http1ClientConnection };

/** Options of {@link connectByAlpn}. */
export interface AlpnConnectOptions {
  /** The address to dial. */
  readonly address: string;
  /** The port. */
  readonly port: number;
  /** TLS options (server name, CA, client certificate, negotiation timeout). */
  readonly tls: Http1ClientTlsOptions;
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Loops for the channel. */
  readonly loopGroup?: EventLoopGroup;
  /** Options of the HTTP/2 connection, installed when the server chose "h2". */
  readonly http2: Http2ConnectionOptions;
  /** Options of the HTTP/1.1 connection, installed when it chose "http/1.1" or nothing. */
  readonly http1: Http1ClientConnectionOptions;
}

/**
 * connectByAlpn dials over TLS offering ALPN `h2` then `http/1.1` (RFC 7301: the server's choice
 * decides) and resolves once the chosen connection is installed. A server that selects no
 * protocol is spoken to over HTTP/1.1 (what TLS servers without ALPN serve). Rejects with the
 * transport's or TLS's error.
 */
export async function connectByAlpn(options: AlpnConnectOptions): Promise<AlpnConnection> {
  let chosen: AlpnConnection | null = null;
  let markInstalled!: () => void;
  const installed = new Promise<void>((resolve) => (markInstalled = resolve));
  const transport = nativeTlsTransport({
    ...options.tls,
    role: 'client',
    ALPNProtocols: ['h2', 'http/1.1'],
    onNegotiated: (slot, protocol) => {
      if (protocol === 'h2') {
        const connection = new Http2ClientConnection(options.http2);
        slot.channel.appendHandler(connection);
        chosen = { protocol: 'h2', connection };
      } else if (protocol === null || protocol === 'http/1.1') {
        const connection = new Http1ClientConnection(options.http1);
        slot.channel.appendHandler(connection);
        chosen = { protocol: 'http/1.1', connection };
      } else {
        throw new SluiceError(
          TlsErrors.ALPN_MISMATCH,
          `${TlsErrors.ALPN_MISMATCH.message}: the server chose ${protocol}`,
        );
      }
      markInstalled();
    },
  });
  const bootstrap = new ClientBootstrap({
    transport,
    ...(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {}),
  });
  const channel: Channel = await bootstrap.connect({
    host: options.address,
    port: options.port,
    socketOptions: { connectTimeoutMs: options.connectTimeoutMs },
  });
  const outcome = await Promise.race([
    installed.then(() => null),
    channel.whenShutdown.then((error) => error ?? new SluiceError(TlsErrors.CLOSED)),
  ]);
  if (outcome !== null) throw outcome;
  return chosen!;
}
