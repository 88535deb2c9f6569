/**
 * TLS options, their defaults, and the Node `TLSSocket` set-up shared by the TLS handler and the
 * native TLS transport.
 *
 * @module
 */
import type { Duplex } from 'node:stream';
import net from 'node:net';
import tls from 'node:tls';
import { SluiceError, type ChannelSlot } from '../../lib/index.js';
import { TlsErrors } from './tls-errors.js';
import { checkRequiredOptions } from '../../lib/argument-checks.js';

/**
 * Called once the handshake completed, with the negotiated ALPN protocol (null when none was
 * negotiated). It may install the next handler (`slot.insertRight(...)`); plaintext flows right
 * only after it returns. Throwing shuts the channel down with the thrown error (a
 * {@link SluiceError} keeps its code, e.g. `TLS_ALPN_MISMATCH`).
 */
export type TlsNegotiatedCallback = (slot: ChannelSlot, protocol: string | null) => void;

/** Certificates and keys in the forms Node's `tls` accepts. */
export type TlsPem = string | Buffer | Array<string | Buffer>;

/** Options both roles share; see {@link TLS_OPTIONS_DEFAULTS}. */
export interface TlsCommonOptions {
  /** ALPN protocols, most preferred first (e.g. `['h2', 'http/1.1']`). */
  ALPNProtocols?: readonly string[];
  /** Trusted CA certificates (PEM); Node's root store when absent. */
  ca?: TlsPem;
  /** Our certificate chain (PEM): the server's, or the client's for mutual TLS. */
  cert?: TlsPem;
  /** Our private key (PEM). */
  key?: TlsPem;
  /** Lowest TLS version to accept; Node's default (`TLSv1.2`) when absent. */
  minVersion?: tls.SecureVersion;
  /** OpenSSL cipher list (TLS 1.2 and below); Node's default when absent. */
  ciphers?: string;
  /** A prebuilt context; `ca`, `cert`, `key`, `minVersion` and `ciphers` are ignored when given. */
  secureContext?: tls.SecureContext;
  /** Fail with `TLS_NEGOTIATION_TIMEOUT` when the handshake has not completed after this many ms (loop clock). */
  negotiationTimeoutMs?: number;
  /** Ciphertext bytes the handler accepts before the TLS layer has consumed them (its read window). */
  ciphertextReadWindow?: number;
  /** Called once the handshake completed; see {@link TlsNegotiatedCallback} and `alpnPipeline`. */
  onNegotiated?: TlsNegotiatedCallback;
}

/** Options of the client role. */
export interface TlsClientOptions extends TlsCommonOptions {
  /** The client role. */
  role: 'client';
  /**
   * The server's name: sent as SNI and checked against the certificate. An IP address is not
   * sent as SNI (RFC 6066 §3) but still checked against the certificate's IP SANs.
   * `localhost` when absent.
   */
  servername?: string;
  /** Refuse servers whose certificate does not verify (default true). */
  rejectUnauthorized?: boolean;
  /** A session from an earlier connection's `onSession`, to resume it. */
  session?: Buffer;
  /** Receives each session ticket the server issues, for a later `session`. */
  onSession?: (session: Buffer) => void;
}

/** Options of the server role. */
export interface TlsServerOptions extends TlsCommonOptions {
  /** The server role. */
  role: 'server';
  /** Ask clients for a certificate (mutual TLS); default false. */
  requestCert?: boolean;
  /** With `requestCert`, refuse clients without a certificate that verifies against `ca` (default true). */
  rejectUnauthorized?: boolean;
  /**
   * Contexts per SNI server name (`'other.test'`, or `'*.example.com'` for one label); a client
   * asking for another name, or none, gets the default `cert`/`key`.
   */
  contexts?: Readonly<Record<string, tls.SecureContextOptions | tls.SecureContext>>;
  /** Chooses the context for an SNI name (replaces `contexts`); Node's `SNICallback` contract. */
  SNICallback?: (servername: string, callback: (error: Error | null, context?: tls.SecureContext) => void) => void;
}

/** Options of a TLS handler or transport: one of the two roles. */
export type TlsOptions = TlsClientOptions | TlsServerOptions;

/** Defaults of {@link TlsCommonOptions} and the roles' verification options. */
export const TLS_OPTIONS_DEFAULTS = Object.freeze({
  /** The handshake must finish within 10 s. */
  negotiationTimeoutMs: 10_000,
  /** 64 KiB of ciphertext may wait in the TLS layer before reads stop. */
  ciphertextReadWindow: 64 * 1024,
  /** Certificates are verified. */
  rejectUnauthorized: true,
  /** Servers do not ask for client certificates unless told to. */
  requestCert: false,
  /** The SNI name and certificate name checked when none is given. */
  servername: 'localhost',
});

/**
 * TLS_RECORD_OVERHEAD is the most a TLS record adds to its plaintext with the ciphers Node
 * negotiates by default: TLS 1.2 AES-GCM is 5 (header) + 8 (explicit nonce) + 16 (tag) = 29;
 * TLS 1.3 is 5 + 1 (inner content type) + 16 (tag) = 22; ChaCha20-Poly1305 is 5 + 16 = 21.
 */
export const TLS_RECORD_OVERHEAD = 29;

interface CompiledTls {
  readonly context: tls.SecureContext;
  readonly sniCallback: TlsServerOptions['SNICallback'] | undefined;
}

/** Compiled contexts per options object: channels built from one options object share them. */
const compiled = new WeakMap<TlsOptions, CompiledTls>();

function contextOptions(options: TlsCommonOptions): tls.SecureContextOptions {
  const result: tls.SecureContextOptions = {};
  if (options.ca !== undefined) result.ca = options.ca;
  if (options.cert !== undefined) result.cert = options.cert;
  if (options.key !== undefined) result.key = options.key;
  if (options.minVersion !== undefined) result.minVersion = options.minVersion;
  if (options.ciphers !== undefined) result.ciphers = options.ciphers;
  return result;
}

function isSecureContext(value: tls.SecureContextOptions | tls.SecureContext): value is tls.SecureContext {
  return 'context' in value && !('cert' in value) && !('key' in value);
}

/** Matches an SNI name against `contexts` keys: exact, then `*.` wildcards of one label. */
function sniFromContexts(
  contexts: Readonly<Record<string, tls.SecureContextOptions | tls.SecureContext>>,
): TlsServerOptions['SNICallback'] {
  const byName = new Map<string, tls.SecureContext>();
  for (const [name, value] of Object.entries(contexts)) {
    byName.set(name.toLowerCase(), isSecureContext(value) ? value : tls.createSecureContext(value));
  }
  return (servername, callback) => {
    const name = servername.toLowerCase();
    const dot = name.indexOf('.');
    const context = byName.get(name) ?? (dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined);
    // Undefined falls back to the default context (Node's contract).
    callback(null, context);
  };
}

/**
 * Compiles (once per options object) the secure context and SNI selection. Throws
 * `TLS_INVALID_OPTIONS` with Node's error as cause when a certificate or key does not parse.
 */
export function compileTlsOptions(options: TlsOptions): CompiledTls {
  checkRequiredOptions(options, 'TLS options', TlsErrors.INVALID_OPTIONS);
  let result = compiled.get(options);
  if (result !== undefined) return result;
  if (options.role !== 'client' && options.role !== 'server') {
    throw new SluiceError(TlsErrors.INVALID_OPTIONS, "TLS role must be 'client' or 'server'");
  }
  try {
    const context = options.secureContext ?? tls.createSecureContext(contextOptions(options));
    let sniCallback: TlsServerOptions['SNICallback'] | undefined;
    if (options.role === 'server') {
      sniCallback =
        options.SNICallback ?? (options.contexts !== undefined ? sniFromContexts(options.contexts) : undefined);
    }
    result = { context, sniCallback };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SluiceError(TlsErrors.INVALID_OPTIONS, `${TlsErrors.INVALID_OPTIONS.message}: ${detail}`, {
      cause: error,
    });
  }
  compiled.set(options, result);
  return result;
}

/**
 * Starts a Node TLS session over `transport` (our in-memory duplex, or a connected TCP socket
 * for the native transport). The client side uses `tls.connect({ socket })`, which verifies the
 * server (chain and host name) and emits `secureConnect` only for a server it accepts; the
 * server side is a `TLSSocket` with `isServer`, whose client-certificate check
 * {@link clientVerifyError} performs on `secure`.
 */
export function startTlsSocket(transport: Duplex, options: TlsOptions): tls.TLSSocket {
  const { context, sniCallback } = compileTlsOptions(options);
  const alpn = options.ALPNProtocols === undefined ? undefined : [...options.ALPNProtocols];
  if (options.role === 'client') {
    const servername = options.servername ?? TLS_OPTIONS_DEFAULTS.servername;
    const connectOptions: tls.ConnectionOptions = {
      socket: transport,
      secureContext: context,
      rejectUnauthorized: options.rejectUnauthorized ?? TLS_OPTIONS_DEFAULTS.rejectUnauthorized,
      // `host` is what the certificate is checked against; SNI must not carry an IP (RFC 6066 §3).
      host: servername,
    };
    if (net.isIP(servername) === 0) connectOptions.servername = servername;
    if (alpn !== undefined) connectOptions.ALPNProtocols = alpn;
    if (options.session !== undefined) connectOptions.session = options.session;
    return tls.connect(connectOptions);
  }
  const serverOptions: tls.TLSSocketOptions = {
    isServer: true,
    secureContext: context,
    requestCert: options.requestCert ?? TLS_OPTIONS_DEFAULTS.requestCert,
    rejectUnauthorized: options.rejectUnauthorized ?? TLS_OPTIONS_DEFAULTS.rejectUnauthorized,
  };
  if (alpn !== undefined) serverOptions.ALPNProtocols = alpn;
  if (sniCallback !== undefined) serverOptions.SNICallback = sniCallback;
  return new tls.TLSSocket(transport, serverOptions);
}

/** The part of Node's TLSWrap that reports the peer-verification result. */
interface VerifyingHandle {
  verifyError(): Error | null;
}

/**
 * For a server that requested a client certificate: the verification error of the client's
 * certificate once the handshake is done, or null when it verified (or none was requested).
 *
 * Node's `tls.Server` performs this check itself; a standalone server `TLSSocket` leaves it to
 * its owner and exposes the result only on its long-standing `ssl` handle (what `tls.Server`
 * uses too). Without it, a wrong client certificate would be accepted, so a missing handle
 * counts as a failure.
 */
export function clientVerifyError(socket: tls.TLSSocket, options: TlsServerOptions): Error | null {
  const isRequesting = options.requestCert ?? TLS_OPTIONS_DEFAULTS.requestCert;
  const isRejecting = options.rejectUnauthorized ?? TLS_OPTIONS_DEFAULTS.rejectUnauthorized;
  if (!isRequesting || !isRejecting) return null;
  const handle = (socket as unknown as { ssl?: Partial<VerifyingHandle> | null }).ssl;
  if (handle == null || typeof handle.verifyError !== 'function') {
    return new SluiceError(
      TlsErrors.CLIENT_CERTIFICATE_REJECTED,
      'cannot verify the client certificate on this Node version',
    );
  }
  return handle.verifyError();
}
