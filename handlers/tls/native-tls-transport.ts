/**
 * The native TLS transport: Node's TLS socket directly on the TCP handle, wrapped by the socket
 * handler — the alternative arrangement to socket slot + {@link TlsHandler} slot.
 *
 * @module
 */
import type net from 'node:net';
import type tls from 'node:tls';
import {
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  type ChannelSlot,
  type TransportHandlerFactory,
} from '../../lib/index.js';
import { SocketHandler, type SocketHandlerOptions } from '../socket/index.js';
import { checkArgument } from '../../lib/argument-checks.js';
import { TlsErrors, fromNodeTlsError, tlsErrorDefinitionFor, type TlsRole } from './tls-errors.js';
import {
  TLS_OPTIONS_DEFAULTS,
  clientVerifyError,
  compileTlsOptions,
  startTlsSocket,
  type TlsOptions,
} from './tls-options.js';

/**
 * NativeTlsSocketHandler is the first slot of a channel whose TLS runs inside Node's TLS
 * socket on the TCP handle (OpenSSL fed by libuv directly, no JavaScript duplex in between). It
 * behaves as a {@link SocketHandler} over the plaintext side, starts reading only once the
 * handshake completed and `onNegotiated` installed what follows, and reports handshake
 * failures and the negotiation timeout with the same `TLS_*` codes as {@link TlsHandler}.
 *
 * Only for TLS directly on TCP; TLS over another slot (a proxy tunnel) needs {@link TlsHandler}.
 */
export class NativeTlsSocketHandler extends SocketHandler {
  private readonly options: TlsOptions;
  private readonly role: TlsRole;
  private channelSlot: ChannelSlot | null = null;
  private isNegotiatedValue = false;
  private isReadRequested = false;
  private hasFailed = false;
  private protocol: string | null = null;
  private readonly timeoutTask: Task;

  /**
   * Starts TLS on the connected `rawSocket` (handshake begins at once); `socketOptions` are the
   * socket handler's (a write timeout also bounds a close_notify the peer never reads).
   */
  constructor(rawSocket: net.Socket, options: TlsOptions, socketOptions: SocketHandlerOptions = {}) {
    checkArgument(
      typeof (rawSocket as Partial<net.Socket> | null)?.on === 'function',
      'new NativeTlsSocketHandler(rawSocket)',
      'rawSocket is a connected net.Socket',
      rawSocket,
    );
    compileTlsOptions(options);
    const tlsSocket = startTlsSocket(rawSocket, options);
    let self: NativeTlsSocketHandler | null = null;
    // Registered before the socket handler's own listener, so TLS failures keep their codes.
    tlsSocket.on('error', (error: Error) => self?.handleTlsError(error));
    super(tlsSocket, socketOptions);
    // The error listener above must exist before super() subscribes, so it reaches `this` late.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    self = this;
    this.options = options;
    this.role = options.role;
    this.timeoutTask = new Task((status) => this.handleNegotiationTimeout(status), 'native-tls-negotiation-timeout');
    tlsSocket.once(options.role === 'client' ? 'secureConnect' : 'secure', () => this.handleSecure(tlsSocket));
  }

  /** The negotiated ALPN protocol, or null. */
  get negotiatedProtocol(): string | null {
    return this.protocol;
  }

  /** Remembers the slot and starts the negotiation timer. */
  override installed(slot: ChannelSlot): void {
    super.installed(slot);
    this.channelSlot = slot;
    slot.channel.scheduleTaskAfter(
      this.timeoutTask,
      this.options.negotiationTimeoutMs ?? TLS_OPTIONS_DEFAULTS.negotiationTimeoutMs,
    );
  }

  /** Reads start once the handshake completed and the next handler is in place. */
  override triggerRead(): void {
    this.isReadRequested = true;
    if (this.isNegotiatedValue) super.triggerRead();
  }

  private handleSecure(tlsSocket: tls.TLSSocket): void {
    const slot = this.channelSlot;
    if (slot === null || this.hasFailed) return;
    if (this.options.role === 'server') {
      const verifyError = clientVerifyError(tlsSocket, this.options);
      if (verifyError !== null) {
        this.fail(fromNodeTlsError(verifyError, 'server', false, TlsErrors.CLIENT_CERTIFICATE_REJECTED));
        tlsSocket.destroy();
        return;
      }
    }
    this.isNegotiatedValue = true;
    slot.channel.cancelTask(this.timeoutTask);
    this.protocol = typeof tlsSocket.alpnProtocol === 'string' ? tlsSocket.alpnProtocol : null;
    try {
      this.options.onNegotiated?.(slot, this.protocol);
    } catch (thrown) {
      this.fail(asSluiceError(thrown, TlsErrors.ALPN_MISMATCH));
      return;
    }
    if (this.isReadRequested) super.triggerRead();
  }

  private handleTlsError(error: Error): void {
    const code = (error as { code?: unknown }).code;
    // Errors that are not about TLS (a reset after the handshake) keep their io codes.
    if (typeof code === 'string' && tlsErrorDefinitionFor(code, this.role, this.isNegotiatedValue) === null) return;
    this.fail(fromNodeTlsError(error, this.role, this.isNegotiatedValue));
  }

  private handleNegotiationTimeout(status: TaskStatus): void {
    if (status !== TaskStatus.RUN_READY || this.isNegotiatedValue) return;
    const timeoutMs = this.options.negotiationTimeoutMs ?? TLS_OPTIONS_DEFAULTS.negotiationTimeoutMs;
    this.fail(new SluiceError(TlsErrors.NEGOTIATION_TIMEOUT, `no TLS handshake within ${timeoutMs} ms`));
  }

  private fail(error: SluiceError): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.channelSlot?.channel.shutdown(error);
  }
}

/**
 * nativeTlsTransport returns a bootstrap transport that puts TLS inside the first slot
 * ({@link NativeTlsSocketHandler}) instead of a socket slot plus a {@link TlsHandler} slot.
 * Options are the handler's; `onNegotiated` installs what follows. Contexts are compiled once.
 *
 * @example
 * ```ts
 * const bootstrap = new ServerBootstrap({ transport: nativeTlsTransport({ role: 'server', cert, key,
 *   onNegotiated: alpnPipeline({ h2: () => new Http2ServerConnection() }) }) });
 * ```
 */
export function nativeTlsTransport(options: TlsOptions): TransportHandlerFactory {
  compileTlsOptions(options);
  return (socket, transportOptions) => new NativeTlsSocketHandler(socket, options, transportOptions);
}
