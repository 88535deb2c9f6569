/**
 * The protocol handlers — HTTP/2 server and client, TLS — registered as plugins the same way a
 * user's plugin is, so pipelines name them: `['socket', 'tls', 'http2-server', 'my-plugin']`.
 *
 * @module
 */
import { SluiceError } from '../../lib/index.js';
import {
  HTTP2_CONNECTION_DEFAULTS,
  Http2ClientConnection,
  Http2ServerConnection,
  type Http2ConnectionOptions,
} from '../http2/index.js';
import { TlsHandler, type TlsOptions } from '../tls/index.js';
import { PluginErrors } from './plugin-errors.js';
import type { FactoryPluginSpec, OptionRule, OptionsSchema } from './registry.js';

/** The registry name of the HTTP/2 server connection. */
export const HTTP2_SERVER_PLUGIN_NAME = 'http2-server';
/** The registry name of the HTTP/2 client connection. */
export const HTTP2_CLIENT_PLUGIN_NAME = 'http2-client';
/** The registry name of the TLS handler. */
export const TLS_PLUGIN_NAME = 'tls';

/** Options of the `http2-client` plugin: the connection's, plus where to hand the connection. */
export interface Http2ClientPluginOptions extends Http2ConnectionOptions {
  /** Receives each connection built (to send requests on it). */
  onConnection?: (connection: Http2ClientConnection) => void;
}

const CALLBACKS = ['onStream', 'onGoaway', 'onRemoteSettings', 'onError', 'onClose'] as const;

/** Rules for every HTTP/2 connection option, derived from the defaults' types. */
function http2Schema(): OptionsSchema<Http2ConnectionOptions> {
  const rules: Record<string, OptionRule> = {};
  for (const [name, value] of Object.entries(HTTP2_CONNECTION_DEFAULTS)) {
    if (Array.isArray(value)) rules[name] = { type: 'array' };
    else if (typeof value === 'number') rules[name] = { type: 'number', min: 0 };
    else rules[name] = { type: 'string' };
  }
  rules['windowMode'] = { type: 'string', oneOf: ['auto', 'manual'] };
  rules['writeScheduler'] = { type: 'string', oneOf: ['rfc9218', 'round-robin'] };
  rules['windowUpdateRatio'] = { type: 'number', min: 0, max: 1 };
  for (const name of CALLBACKS) rules[name] = { type: 'function' };
  return rules as unknown as OptionsSchema<Http2ConnectionOptions>;
}

/** The registration of the HTTP/2 server connection (`onStream` handles requests). */
export const HTTP2_SERVER_PLUGIN: FactoryPluginSpec<Http2ConnectionOptions> = Object.freeze({
  validate: http2Schema(),
  factory: (options: Readonly<Http2ConnectionOptions>) => new Http2ServerConnection(options),
});

/** The registration of the HTTP/2 client connection; `onConnection` receives each one. */
export const HTTP2_CLIENT_PLUGIN: FactoryPluginSpec<Http2ClientPluginOptions> = Object.freeze({
  validate: { ...http2Schema(), onConnection: { type: 'function' as const } },
  factory: (options: Readonly<Http2ClientPluginOptions>) => {
    const { onConnection, ...connectionOptions } = options;
    const connection = new Http2ClientConnection(connectionOptions);
    onConnection?.(connection);
    return connection;
  },
});

/**
 * The registration of the TLS handler. Its options are {@link TlsOptions} (`role` required);
 * certificates may be strings or Buffers, so beyond `role` they are checked by Node when the
 * first connection is built.
 */
export const TLS_PLUGIN: FactoryPluginSpec<TlsOptions> = Object.freeze({
  factory: (options: Readonly<TlsOptions>) => {
    if (options.role !== 'client' && options.role !== 'server') {
      throw new SluiceError(
        PluginErrors.MISSING_OPTION,
        `plugin '${TLS_PLUGIN_NAME}': option 'role' must be 'client' or 'server'`,
      );
    }
    return new TlsHandler(options);
  },
});
