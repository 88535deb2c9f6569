/**
 * The connection under `connectWebSocket`, whichever HTTP version runs on it: TCP for `ws://`, TLS
 * offering the given ALPN protocols for `wss://`, with what runs on it installed once the
 * protocol is known; and the wait for what that installed to settle, racing the channel's end.
 *
 * @module
 */
import { isIP } from 'node:net';
import {
  ClientBootstrap,
  SluiceError,
  type BootstrapOptions,
  type Channel,
  type ChannelSlot,
} from '../../../lib/index.js';
// ws:// connects with the default transport: the socket handler, which this import registers.
import '../../socket/index.js';
import { TlsErrors, nativeTlsTransport } from '../../tls/index.js';
import { WebSocketHandshakeError, WebSocketHandshakeErrors } from '../errors.js';
import type { WebSocketClientRequest, WebSocketConnectOptions } from './connect.js';

/**
 * Installs what runs on the connection: over TCP at once (`protocol` null), over TLS once it
 * negotiated, with the ALPN protocol chosen (null when the server chose none). A throw shuts the
 * channel down with the error.
 */
export type InstallClientProtocol = (channel: Channel, protocol: string | null) => void;

/**
 * Connects for `request` — over TLS offering `alpnProtocols` when it is secure — and resolves with
 * the channel once connected; `install` runs as {@link InstallClientProtocol} says. Rejects with
 * the connect error (`IO_CONNECTION_REFUSED`, …); TLS failures end the channel instead (see
 * {@link settleOnChannel}).
 */
export async function openClientChannel(
  request: WebSocketClientRequest,
  options: WebSocketConnectOptions,
  alpnProtocols: readonly string[],
  install: InstallClientProtocol,
): Promise<Channel> {
  const {
    tls,
    pipeline,
    protocols: _protocols,
    headers: _headers,
    perMessageDeflate: _perMessageDeflate,
    connection: _connection,
    handshakeTimeoutMs: _handshakeTimeoutMs,
    http2: _http2,
    ...connectOptions
  } = options;
  const bootstrapOptions: BootstrapOptions = { ...connectOptions };
  let channelPipeline: (channel: Channel) => void;
  if (request.isSecure) {
    bootstrapOptions.transport = nativeTlsTransport({
      ...(isIP(request.host) === 0 ? { servername: request.host } : {}),
      ...tls,
      role: 'client',
      ALPNProtocols: [...alpnProtocols],
      onNegotiated: (slot: ChannelSlot, protocol: string | null) => install(slot.channel, protocol),
    });
    channelPipeline = (channel) => pipeline?.(channel);
  } else {
    channelPipeline = (channel) => {
      pipeline?.(channel);
      install(channel, null);
    };
  }
  return new ClientBootstrap(bootstrapOptions).connect({
    ...connectOptions,
    host: request.host,
    port: request.port,
    pipeline: channelPipeline,
  });
}

/** `TLS_ALPN_MISMATCH` for a server that chose `protocol`, which was not offered. */
export function alpnMismatch(protocol: string, offered: readonly string[]): SluiceError {
  return new SluiceError(
    TlsErrors.ALPN_MISMATCH,
    `${TlsErrors.ALPN_MISMATCH.message}: the server negotiated ${protocol}, not ${offered.join(' or ')}`,
  );
}

/**
 * Resolves with what `outcome` settles with, unless it is an error or the channel ends first (TLS
 * failed, the server closed before anything was installed): then rejects with that error (a clean
 * end is `WEBSOCKET_HANDSHAKE_CLOSED`) once the channel has shut down, so no connection is left.
 */
export async function settleOnChannel<T>(channel: Channel, outcome: Promise<T | SluiceError>): Promise<T> {
  const result = await Promise.race([
    outcome,
    channel.whenShutdown.then(
      (error) => error ?? new WebSocketHandshakeError(WebSocketHandshakeErrors.HANDSHAKE_CLOSED),
    ),
  ]);
  if (!(result instanceof SluiceError)) return result;
  await channel.whenShutdown;
  throw result;
}
