/**
 * The TLS handler family: a TLS handler on Node's `tls` over any slot, ALPN selection of the
 * next handler, the `TLS_*` error table, and the native TLS transport (Node's TLS socket on
 * the TCP handle, wrapped by the socket handler).
 *
 * @module sluice/tls
 */
export { TlsErrors, type TlsRole } from './tls-errors.js';
export {
  TLS_OPTIONS_DEFAULTS,
  TLS_RECORD_OVERHEAD,
  type TlsClientOptions,
  type TlsCommonOptions,
  type TlsNegotiatedCallback,
  type TlsOptions,
  type TlsPem,
  type TlsServerOptions,
} from './tls-options.js';
export {
  TlsHandler,
  alpnPipeline,
  tlsPipeline,
  type AlpnPipelineOptions,
  type AlpnSelector,
  type TlsStatistics,
} from './tls-handler.js';
export { NativeTlsSocketHandler, nativeTlsTransport } from './native-tls-transport.js';
