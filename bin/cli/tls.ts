/**
 * TLS for the command line: the server and client transports (TLS with ALPN `h2` inside the
 * first slot, from `sluice/tls`) and the development certificate `serve --tls` makes when no
 * `--cert` is given. The rest of the CLI only sees {@link TransportHandlerFactory}s, so the
 * arrangement (native TLS socket or socket slot + TLS handler) can change here alone.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { SluiceError, type ChannelSlot, type TransportHandlerFactory } from '../../handlers/index.js';
import { nativeTlsTransport, TlsErrors } from '../../handlers/tls/index.js';
import { describeError, failure } from './cli-errors.js';

/** The ALPN protocol both sides insist on (RFC 9113 §3.2). */
export const ALPN_H2 = 'h2';

/** A certificate and its private key, PEM. */
export interface CertificatePair {
  /** The certificate chain (PEM). */
  cert: Buffer;
  /** The private key (PEM). */
  key: Buffer;
}

function requireH2(protocol: string | null): void {
  if (protocol !== ALPN_H2) {
    const got = protocol === null ? 'no ALPN protocol' : `ALPN protocol "${protocol}"`;
    throw new SluiceError(TlsErrors.ALPN_MISMATCH, `the peer negotiated ${got}, not "${ALPN_H2}"`);
  }
}

/**
 * A server transport: TLS with ALPN `h2` then `http/1.1` (the server's preference); once the
 * handshake chose, `install` puts the matching connection right of the TLS slot (a client that
 * offers no ALPN gets HTTP/1.1). The handshake must complete within `negotiationTimeoutMs`.
 */
export function serverTlsTransport(
  pair: CertificatePair,
  install: (slot: ChannelSlot, protocol: string | null) => void,
  negotiationTimeoutMs?: number,
): TransportHandlerFactory {
  return nativeTlsTransport({
    role: 'server',
    cert: pair.cert,
    key: pair.key,
    ...(negotiationTimeoutMs !== undefined ? { negotiationTimeoutMs } : {}),
    ALPNProtocols: [ALPN_H2, 'http/1.1'],
    onNegotiated: (slot, protocol) => install(slot, protocol),
  });
}

/** Options of {@link clientTlsTransport}. */
export interface ClientTlsOptions {
  /** The server's name: SNI (unless an IP address) and the name the certificate must match. */
  servername: string;
  /** False skips certificate verification (`-k`). */
  isVerifying: boolean;
  /** CA certificates (PEM) trusted besides Node's roots (`--cacert`), or null. */
  ca: Buffer | null;
}

/**
 * A client transport: TLS offering only ALPN `h2`, verifying the server against Node's root
 * store unless `isVerifying` is false. A server that does not choose `h2` fails the connection.
 */
export function clientTlsTransport(options: ClientTlsOptions): TransportHandlerFactory {
  return nativeTlsTransport({
    ...clientTlsOptions(options),
    ALPNProtocols: [ALPN_H2],
    onNegotiated: (_slot, protocol) => requireH2(protocol),
  });
}

/**
 * A client transport offering ALPN `h2` and `http/1.1` (h2 preferred); `install` puts the
 * connection the server chose right of the TLS slot (no ALPN answer means HTTP/1.1).
 */
export function negotiatingTlsTransport(
  options: ClientTlsOptions,
  install: (slot: ChannelSlot, protocol: string | null) => void,
): TransportHandlerFactory {
  return nativeTlsTransport({
    ...clientTlsOptions(options),
    ALPNProtocols: [ALPN_H2, 'http/1.1'],
    onNegotiated: (slot, protocol) => install(slot, protocol),
  });
}

/** The TLS options `get` verifies the server with. */
export function clientTlsOptions(options: ClientTlsOptions): {
  role: 'client';
  servername: string;
  rejectUnauthorized: boolean;
  ca?: string[];
} {
  return {
    role: 'client',
    servername: options.servername,
    rejectUnauthorized: options.isVerifying,
    // Node's roots stay trusted: `ca` alone would replace them.
    ...(options.ca === null ? {} : { ca: [...tls.rootCertificates, options.ca.toString('utf8')] }),
  };
}

/** The PEM file of `--cacert`, read; null without it. A file that cannot be read is a failure (exit 1). */
export async function readCertificateAuthorities(file: string | null): Promise<Buffer | null> {
  if (file === null) return null;
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw failure(`cannot read '${file}': ${describeError(error)}`, error);
  }
}

/** {@link describeError}, with what to do about a certificate nobody trusts. */
export function describeConnectError(error: unknown): string {
  const text = describeError(error);
  return text.includes('TLS_CERTIFICATE_UNTRUSTED')
    ? `${text}; trust its CA with --cacert FILE, or skip verification with -k`
    : text;
}

/** A development certificate on disk; `dispose` removes its directory. */
export interface DevelopmentCertificate {
  /** The certificate file (PEM). */
  certPath: string;
  /** The private key file (PEM). */
  keyPath: string;
  /** The temporary directory holding both. */
  directory: string;
  /** Removes the directory (idempotent, synchronous so it can run on exit). */
  dispose(): void;
}

/**
 * Creates a self-signed certificate for `localhost`, 127.0.0.1 and ::1 (P-256, valid 7 days)
 * with the `openssl` command in a fresh temporary directory. It is meant for local testing
 * only: clients must skip verification (`curl -k`, `sluice get -k`). Fails with exit code 1
 * when `openssl` is missing or fails.
 */
export async function createDevelopmentCertificate(): Promise<DevelopmentCertificate> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-dev-cert-'));
  const certPath = path.join(directory, 'cert.pem');
  const keyPath = path.join(directory, 'key.pem');
  const dispose = (): void => rmSync(directory, { recursive: true, force: true });
  const args = [
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '7',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ];
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      dispose();
      const reason =
        (error as { code?: unknown }).code === 'ENOENT'
          ? 'openssl is not installed'
          : stderr.trim().split('\n')[0] || error.message;
      reject(failure(`cannot create a development certificate (${reason}); pass --cert and --key`, error));
    });
  });
  return { certPath, keyPath, directory, dispose };
}
