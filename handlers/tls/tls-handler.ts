/**
 * The TLS handler: Node's `tls.TLSSocket` over an in-memory duplex backed by the channel.
 *
 * @module
 */
import { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import {
  ChannelDirection,
  ChannelErrors,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  log,
  LogLevel,
  type Channel,
  type ChannelHandler,
  type ChannelSlot,
  type HandlerStatistics,
  type IoMessage,
} from '../../lib/index.js';
import { TlsErrors, fromNodeTlsError, type TlsRole } from './tls-errors.js';
import {
  TLS_OPTIONS_DEFAULTS,
  TLS_RECORD_OVERHEAD,
  clientVerifyError,
  compileTlsOptions,
  startTlsSocket,
  type TlsOptions,
} from './tls-options.js';
import { PendingWrites, completeWrite } from '../../lib/pending-writes.js';
import { ReadQueue } from '../../lib/read-queue.js';

/** Counters and handshake facts a {@link TlsHandler} reports each statistics interval. */
export interface TlsStatistics extends HandlerStatistics {
  /** Always `tls`. */
  readonly category: 'tls';
  /** Our role. */
  readonly role: TlsRole;
  /** Loop-clock time the handshake started, ms. */
  readonly handshakeStartMs: number;
  /** Loop-clock time the handshake completed, ms; null until then. */
  readonly handshakeEndMs: number | null;
  /** The negotiated ALPN protocol; null when none (or not yet). */
  readonly protocol: string | null;
  /** The negotiated TLS version (`TLSv1.3`, …); null until the handshake completed. */
  readonly tlsVersion: string | null;
  /** The negotiated cipher's OpenSSL name; null until the handshake completed. */
  readonly cipher: string | null;
  /** Whether the client resumed an earlier session. */
  readonly isSessionReused: boolean;
  /** Ciphertext bytes received in the interval. */
  readonly bytesIn: number;
  /** Ciphertext bytes sent in the interval. */
  readonly bytesOut: number;
  /** Plaintext bytes delivered right in the interval. */
  readonly plaintextBytesIn: number;
  /** Plaintext bytes written by the application in the interval. */
  readonly plaintextBytesOut: number;
  /** Decrypted plaintext waiting for the window to the right, now. */
  readonly bufferedPlaintextBytes: number;
}

/** One batch of ciphertext the TLS layer wrote; its callback fires once every message of it completed. */
class CiphertextWrite {
  pendingMessages = 0;
  error: SluiceError | null = null;
  isSealed = false;
  constructor(readonly callback: (error?: Error | null) => void) {}

  finishIfDone(): void {
    if (this.isSealed && this.pendingMessages === 0) this.callback(this.error);
  }
}

/** Shared completion of ciphertext messages (no closure per message): `userData` is the batch. */
function onCiphertextWritten(_channel: Channel, message: IoMessage, error: SluiceError | null): void {
  const batch = message.userData as CiphertextWrite;
  if (error !== null && batch.error === null) batch.error = error;
  batch.pendingMessages--;
  batch.finishIfDone();
}

/**
 * The channel side of the TLS session: what the TLS layer reads is ciphertext pushed from the
 * channel; what it writes becomes messages sent toward the socket.
 */
class CiphertextDuplex extends Duplex {
  constructor(private readonly owner: TlsHandler) {
    // Half-open: the handler decides when the session ends, not the stream machinery.
    super({ allowHalfOpen: true, decodeStrings: true });
  }

  override _read(): void {
    // Ciphertext is pushed as the channel delivers it; the read window bounds it.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.owner._writeCiphertext(chunk, null, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.owner._writeCiphertext(null, chunks, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.owner._onCiphertextFinished();
  }
}

/**
 * TlsHandler encrypts a channel: it sits between the socket slot and the protocol handler, in
 * the client or server role, on Node's `tls.TLSSocket` over an in-memory duplex (no native
 * addon, so it works over any slot — a socket, a proxy tunnel, a testing channel).
 *
 * - Reads: ciphertext messages from the left are handed to the TLS layer without copying and
 *   released as it consumes them; the handler's read window opens by what was consumed, so a
 *   slow consumer holds at most `ciphertextReadWindow` bytes of ciphertext here and the socket
 *   stops reading. Plaintext goes right in pooled messages, never more than the window to the
 *   right; at a zero window the TLS layer is paused, and at most one decrypted chunk (plus
 *   Node's own readable buffer of 16 KiB) waits.
 * - Writes: each plaintext message is encrypted by the TLS layer; its `onCompletion` fires once
 *   the records carrying it were written by the socket (ciphertext messages sent left complete
 *   the TLS layer's writes). Writes made before the handshake completed wait for it.
 * - Handshake: `onNegotiated(slot, protocol)` runs once it completed (see `alpnPipeline`);
 *   plaintext flows right only after it returns. `negotiationTimeoutMs` (10 s by default, on
 *   the loop clock) fails it with `TLS_NEGOTIATION_TIMEOUT`. Failures map to `TLS_*` codes.
 * - Shutdown: the read side delivers all plaintext already received, waiting for the window
 *   to the right to open if it must (with `freeScarceResourcesImmediately` it drops it); the
 *   graceful write side sends close_notify and completes once it was written; with
 *   `freeScarceResourcesImmediately` the session is destroyed at once. A peer that ends the
 *   session shuts the channel down after buffered plaintext was delivered: with `TLS_CLOSED`
 *   when the TLS layer sees its end first, with `IO_SOCKET_CLOSED` when the transport below
 *   sees the FIN that usually follows close_notify first.
 *
 * @example
 * ```ts
 * channel.appendHandler(new TlsHandler({
 *   role: 'client', servername: 'example.com', ALPNProtocols: ['h2'],
 *   onNegotiated: alpnPipeline({ h2: () => new MyHttp2Handler() }),
 * }));
 * ```
 */
export class TlsHandler implements ChannelHandler {
  private readonly options: TlsOptions;
  private readonly role: TlsRole;
  private slot: ChannelSlot | null = null;
  private socket: tls.TLSSocket | null = null;
  private duplex: CiphertextDuplex | null = null;
  private readonly timeoutTask: Task;

  private isNegotiatedValue = false;
  private isReady = false;
  private hasFailed = false;
  private isReadShutDown = false;
  private isWriteShutDown = false;
  private isCiphertextInputOpen = false;
  private isCiphertextFinished = false;
  private isPaused = false;
  private hasPeerEnded = false;
  private isDestroyed = false;
  private pendingWriteShutdown: { slot: ChannelSlot; error: SluiceError | null; free: boolean } | null = null;

  /** Ciphertext messages handed to the TLS layer and not yet consumed by it, oldest first. */
  private readonly ciphertextQueue: IoMessage[] = [];
  private ciphertextQueueHead = 0;
  /** Bytes of the oldest queued ciphertext message already consumed. */
  private ciphertextConsumed = 0;
  /** Plaintext waiting for the window to the right (at most one chunk while paused). */
  private readonly plaintextQueue = new ReadQueue();
  /** A read-side shutdown waiting for the application to take the plaintext still held. */
  private pendingReadShutdown: { slot: ChannelSlot; error: SluiceError | null; free: boolean } | null = null;
  private maxBufferedPlaintext = 0;
  /** Writes from the right made before the handshake completed. */
  private readonly writesBeforeReady: IoMessage[] = [];
  /** Plaintext messages given to the TLS layer, oldest first; completed by its write callbacks in order. */
  private readonly writesInFlight = new PendingWrites();

  private handshakeStartMs = 0;
  private handshakeEndMs: number | null = null;
  private protocol: string | null = null;
  private tlsVersion: string | null = null;
  private cipher: string | null = null;
  private isSessionReused = false;
  private peerCertificateValue: X509Certificate | undefined = undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private plaintextBytesIn = 0;
  private plaintextBytesOut = 0;

  private readonly onPlaintext = (chunk: Buffer): void => this.handlePlaintext(chunk);
  private readonly onCiphertextConsumed = (chunk: Buffer): void => this.handleCiphertextConsumed(chunk.length);
  private readonly onSecure = (): void => this.handleSecure();
  private readonly onError = (error: Error): void => this.handleError(error);
  private readonly onEnd = (): void => this.handlePeerEnd();
  private readonly onClose = (): void => this.handleClose();
  private readonly onPlaintextWritten = (error?: Error | null): void => this.completeOldestWrite(error ?? null);

  /**
   * Creates a handler; the handshake starts when it is installed in a slot. Contexts are
   * compiled once per options object (reuse one object for many channels). Throws
   * `TLS_INVALID_OPTIONS` when a certificate or key does not parse.
   */
  constructor(options: TlsOptions) {
    compileTlsOptions(options);
    this.options = options;
    this.role = options.role;
    this.timeoutTask = new Task((status) => this.handleNegotiationTimeout(status), 'tls-negotiation-timeout');
  }

  /** True once the handshake completed (and the peer was accepted). */
  get isNegotiated(): boolean {
    return this.isNegotiatedValue;
  }

  /** The negotiated ALPN protocol, or null (none, or not negotiated yet). */
  get negotiatedProtocol(): string | null {
    return this.protocol;
  }

  /** The peer's certificate, kept from the handshake; undefined before it completed or when the peer sent none. */
  get peerCertificate(): X509Certificate | undefined {
    return this.peerCertificateValue;
  }

  /** Decrypted plaintext waiting for the window to the right: ours plus the TLS socket's readable buffer. */
  get bufferedPlaintextBytes(): number {
    return this.plaintextQueue.byteLength + (this.socket?.readableLength ?? 0);
  }

  /** The largest {@link bufferedPlaintextBytes} seen so far (a debugging aid for back-pressure bounds). */
  get maxBufferedPlaintextBytes(): number {
    return this.maxBufferedPlaintext;
  }

  /** Ciphertext held for the TLS layer, not yet consumed by it. */
  get bufferedCiphertextBytes(): number {
    let total = -this.ciphertextConsumed;
    for (let i = this.ciphertextQueueHead; i < this.ciphertextQueue.length; i++)
      total += this.ciphertextQueue[i].length;
    return Math.max(0, total);
  }

  /** Starts the handshake and the negotiation timer. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    const channel = slot.channel;
    this.handshakeStartMs = channel.loop.now();
    const duplex = new CiphertextDuplex(this);
    this.duplex = duplex;
    const socket = startTlsSocket(duplex, this.options);
    this.socket = socket;
    // After Node's own 'data' listener (added by the TLS socket), so consumption is counted.
    duplex.on('data', this.onCiphertextConsumed);
    duplex.on('error', this.onError);
    socket.on(this.role === 'client' ? 'secureConnect' : 'secure', this.onSecure);
    socket.on('error', this.onError);
    socket.on('data', this.onPlaintext);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    if (this.role === 'client' && this.options.role === 'client' && this.options.onSession !== undefined) {
      const onSession = this.options.onSession;
      socket.on('session', (session: Buffer) => onSession(session));
    }
    // The TLS socket looks at already-buffered input on the next tick; ciphertext is pushed
    // only after that so it is never fed twice.
    process.nextTick(() => {
      this.isCiphertextInputOpen = true;
      this.pushQueuedCiphertext(this.ciphertextQueueHead);
    });
    channel.scheduleTaskAfter(
      this.timeoutTask,
      this.options.negotiationTimeoutMs ?? TLS_OPTIONS_DEFAULTS.negotiationTimeoutMs,
    );
  }

  /** Ciphertext from the left: handed to the TLS layer (no copy); released once consumed. */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    this.bytesIn += message.length;
    if (this.duplex === null || this.isReadShutDown || this.isDestroyed || message.length === 0) {
      message.release();
      return;
    }
    this.ciphertextQueue.push(message);
    if (this.isCiphertextInputOpen) this.pushQueuedCiphertext(this.ciphertextQueue.length - 1);
  }

  /** Plaintext from the right: encrypted now, or once the handshake completed. */
  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    if (this.isWriteShutDown || this.isDestroyed || this.socket === null) {
      throw new SluiceError(ChannelErrors.SLOT_SHUT_DOWN, 'the TLS handler is closed for writing');
    }
    if (!this.isReady) {
      this.writesBeforeReady.push(message);
      return;
    }
    this.writePlaintext(message);
  }

  /** The window to the right opened: deliver waiting plaintext, resume the TLS layer. Not propagated left: the ciphertext window opens as ciphertext is consumed. */
  incrementReadWindow(): void {
    const pending = this.pendingReadShutdown;
    if (pending === null) {
      this.deliverPlaintext(false);
      return;
    }
    this.deliverPlaintext(true);
    if (this.plaintextQueue.isEmpty) this.completeReadShutdown(pending.slot, pending.error, pending.free);
  }

  /** See {@link TlsHandler}. */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) {
      const socket = this.socket;
      if (!free && socket !== null && this.isReady) {
        // Feed the ciphertext still held (a paused duplex hands it over on read(), through
        // Node's own 'data' listener), pull what Node decrypted, and deliver it: what the window
        // does not take now waits for the application to open it (windows still open during the
        // read phase of a shutdown), then the read side completes.
        const duplex = this.duplex;
        for (let round = 0; duplex !== null && duplex.readableLength > 0 && round < 64; round++) duplex.read();
        // read() hands each chunk to our own 'data' listener, which queues it.
        while (socket.read() !== null);
        this.deliverPlaintext(true);
        if (!this.plaintextQueue.isEmpty) {
          this.pendingReadShutdown = { slot, error, free };
          return;
        }
      }
      this.completeReadShutdown(slot, error, free);
      return;
    }
    this.isWriteShutDown = true;
    this.failWritesBeforeReady(error);
    const socket = this.socket;
    if (free || socket === null || socket.destroyed || !this.isNegotiatedValue || this.isCiphertextFinished) {
      if (free || !this.isCiphertextFinished) socket?.destroy();
      slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    // Graceful: close_notify after pending writes; done when the duplex saw the end of the
    // ciphertext (every message, close_notify included, completed by the socket) or the
    // session closed first.
    this.pendingWriteShutdown = { slot, error, free };
    socket.end();
  }

  private completeReadShutdown(slot: ChannelSlot, error: SluiceError | null, free: boolean): void {
    this.pendingReadShutdown = null;
    this.isReadShutDown = true;
    this.plaintextQueue.clear();
    slot.onHandlerShutdownComplete(ChannelDirection.READ, error, free);
  }

  /** Window of ciphertext accepted before the TLS layer consumed it. */
  initialWindowSize(): number {
    return this.options.ciphertextReadWindow ?? TLS_OPTIONS_DEFAULTS.ciphertextReadWindow;
  }

  /** One record's overhead, {@link TLS_RECORD_OVERHEAD}, so a max-size write fits one record. */
  messageOverhead(): number {
    return TLS_RECORD_OVERHEAD;
  }

  /** Handshake facts and byte counters. */
  gatherStatistics(): TlsStatistics {
    return {
      category: 'tls',
      role: this.role,
      handshakeStartMs: this.handshakeStartMs,
      handshakeEndMs: this.handshakeEndMs,
      protocol: this.protocol,
      tlsVersion: this.tlsVersion,
      cipher: this.cipher,
      isSessionReused: this.isSessionReused,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      plaintextBytesIn: this.plaintextBytesIn,
      plaintextBytesOut: this.plaintextBytesOut,
      bufferedPlaintextBytes: this.bufferedPlaintextBytes,
    };
  }

  /** Zeroes the byte counters (handshake facts stay). */
  resetStatistics(): void {
    this.bytesIn = this.bytesOut = this.plaintextBytesIn = this.plaintextBytesOut = 0;
  }

  /** Destroys the session and releases every message it still holds. */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    const socket = this.socket;
    const duplex = this.duplex;
    if (socket !== null) {
      socket.off('data', this.onPlaintext);
      socket.off('end', this.onEnd);
      socket.off('close', this.onClose);
      socket.off('secure', this.onSecure);
      socket.off('secureConnect', this.onSecure);
      // The error listener stays: a late error on a destroyed session must not become uncaught.
      socket.destroy();
    }
    if (duplex !== null) {
      duplex.off('data', this.onCiphertextConsumed);
      duplex.destroy();
    }
    const failure = new SluiceError(ChannelErrors.SHUT_DOWN);
    this.failWritesBeforeReady(failure);
    this.failWritesInFlight(failure);
    for (let i = this.ciphertextQueueHead; i < this.ciphertextQueue.length; i++) this.ciphertextQueue[i].release();
    this.ciphertextQueue.length = 0;
    this.ciphertextQueueHead = 0;
    this.plaintextQueue.clear();
  }

  /** @internal The TLS layer wrote ciphertext: pack it into messages sent left. */
  _writeCiphertext(
    single: Buffer | null,
    many: Array<{ chunk: Buffer }> | null,
    callback: (error?: Error | null) => void,
  ): void {
    const batch = new CiphertextWrite(callback);
    const slot = this.slot;
    if (slot === null || this.isDestroyed) {
      callback(new SluiceError(ChannelErrors.SHUT_DOWN, 'the TLS handler is closed'));
      return;
    }
    let total = 0;
    if (single !== null) total = single.length;
    else for (const entry of many!) total += entry.chunk.length;
    this.bytesOut += total;
    let message: IoMessage | null = null;
    const count = single !== null ? 1 : many!.length;
    for (let index = 0; index < count && batch.error === null; index++) {
      const chunk = single ?? many![index].chunk;
      let offset = 0;
      while (offset < chunk.length && batch.error === null) {
        if (message === null) message = slot.acquireMessageForWrite(total);
        const copied = message.append(chunk, offset);
        offset += copied;
        total -= copied;
        if (message.remaining === 0 || total === 0) {
          this.sendCiphertext(slot, message, batch);
          message = null;
        }
      }
    }
    if (message !== null) message.release();
    batch.isSealed = true;
    batch.finishIfDone();
  }

  /** @internal The TLS layer ended its output (close_notify written and completed). */
  _onCiphertextFinished(): void {
    this.isCiphertextFinished = true;
    this.finishWriteShutdown();
  }

  private sendCiphertext(slot: ChannelSlot, message: IoMessage, batch: CiphertextWrite): void {
    message.onCompletion = onCiphertextWritten;
    message.userData = batch;
    batch.pendingMessages++;
    try {
      slot.sendMessage(message, ChannelDirection.WRITE);
    } catch (thrown) {
      batch.pendingMessages--;
      batch.error = asSluiceError(thrown, ChannelErrors.HANDLER_FAILED);
      message.release();
    }
  }

  private pushQueuedCiphertext(from: number): void {
    const duplex = this.duplex;
    if (duplex === null || this.isDestroyed) return;
    for (let i = from; i < this.ciphertextQueue.length; i++) {
      const message = this.ciphertextQueue[i];
      duplex.push(message.data.subarray(0, message.length));
    }
  }

  /** The TLS layer took `count` ciphertext bytes: release consumed messages and open our window by as much. */
  private handleCiphertextConsumed(count: number): void {
    const queue = this.ciphertextQueue;
    let consumed = this.ciphertextConsumed + count;
    while (this.ciphertextQueueHead < queue.length) {
      const message = queue[this.ciphertextQueueHead];
      if (message.length > consumed) break;
      consumed -= message.length;
      queue[this.ciphertextQueueHead++] = undefined as unknown as IoMessage;
      message.release();
    }
    if (this.ciphertextQueueHead === queue.length) {
      queue.length = 0;
      this.ciphertextQueueHead = 0;
    }
    this.ciphertextConsumed = consumed;
    if (!this.isReadShutDown) this.slot?.incrementReadWindow(count);
  }

  private handleSecure(): void {
    const socket = this.socket;
    const slot = this.slot;
    if (socket === null || slot === null || this.isNegotiatedValue || this.hasFailed) return;
    if (this.options.role === 'server') {
      const verifyError = clientVerifyError(socket, this.options);
      if (verifyError !== null) {
        this.fail(fromNodeTlsError(verifyError, 'server', false, TlsErrors.CLIENT_CERTIFICATE_REJECTED));
        socket.destroy();
        return;
      }
    }
    this.isNegotiatedValue = true;
    slot.channel.cancelTask(this.timeoutTask);
    this.handshakeEndMs = slot.channel.loop.now();
    this.protocol = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null;
    this.tlsVersion = socket.getProtocol();
    this.cipher = socket.getCipher()?.name ?? null;
    this.isSessionReused = socket.isSessionReused();
    this.peerCertificateValue = socket.getPeerX509Certificate();
    if (log.level >= LogLevel.DEBUG) {
      log.log(
        LogLevel.DEBUG,
        'tls',
        `channel ${slot.channel.id} ${this.role} negotiated ${this.tlsVersion} ${this.cipher} alpn=${this.protocol}`,
      );
    }
    try {
      this.options.onNegotiated?.(slot, this.protocol);
    } catch (thrown) {
      this.fail(asSluiceError(thrown, TlsErrors.ALPN_MISMATCH));
      return;
    }
    if (slot.channel.isShuttingDown) return;
    this.isReady = true;
    const waiting = this.writesBeforeReady.splice(0);
    for (const message of waiting) this.writePlaintext(message);
    this.deliverPlaintext(false);
  }

  private writePlaintext(message: IoMessage): void {
    const length = message.length;
    const data = message.data;
    this.writesInFlight.push(message);
    this.plaintextBytesOut += length;
    this.socket!.write(length === data.length ? data : data.subarray(0, length), this.onPlaintextWritten);
  }

  private handlePlaintext(chunk: Buffer): void {
    if (this.isReadShutDown || this.isDestroyed) return;
    this.plaintextQueue.push(chunk);
    const buffered = this.bufferedPlaintextBytes;
    if (buffered > this.maxBufferedPlaintext) this.maxBufferedPlaintext = buffered;
    this.deliverPlaintext(false);
  }

  /** Sends queued plaintext right within the window; pauses the TLS layer while any waits. */
  private deliverPlaintext(isShuttingDownRead: boolean): void {
    const slot = this.slot;
    const socket = this.socket;
    if (slot === null || socket === null || this.isDestroyed) return;
    const channel = slot.channel;
    const queue = this.plaintextQueue;
    if (this.isReady) {
      const sent = queue.deliver(slot, isShuttingDownRead);
      if (sent < 0) return;
      this.plaintextBytesIn += sent;
    }
    if (isShuttingDownRead) return;
    if (!queue.isEmpty) {
      if (!this.isPaused) {
        this.isPaused = true;
        socket.pause();
      }
    } else if (this.hasPeerEnded) {
      channel.shutdown(new SluiceError(TlsErrors.CLOSED));
    } else if (this.isPaused) {
      this.isPaused = false;
      socket.resume();
    }
  }

  private completeOldestWrite(error: Error | null): void {
    this.writesInFlight.completeOldest(this.slot?.channel ?? null, error === null ? null : this.failureOf(error));
  }

  private failureOf(error: Error): SluiceError {
    return (
      this.slot?.channel.shutdownError ??
      fromNodeTlsError(error, this.role, this.isNegotiatedValue, ChannelErrors.SHUTDOWN_NOT_GRACEFUL)
    );
  }

  private failWritesBeforeReady(error: SluiceError | null): void {
    const waiting = this.writesBeforeReady.splice(0);
    const failure = error ?? new SluiceError(ChannelErrors.SHUTDOWN_NOT_GRACEFUL, 'the TLS handshake did not complete');
    for (const message of waiting) completeWrite(this.slot?.channel ?? null, message, failure);
  }

  private failWritesInFlight(error: SluiceError): void {
    this.writesInFlight.failAll(this.slot?.channel ?? null, error);
  }

  private handleNegotiationTimeout(status: TaskStatus): void {
    if (status !== TaskStatus.RUN_READY || this.isNegotiatedValue) return;
    const timeoutMs = this.options.negotiationTimeoutMs ?? TLS_OPTIONS_DEFAULTS.negotiationTimeoutMs;
    this.fail(new SluiceError(TlsErrors.NEGOTIATION_TIMEOUT, `no TLS handshake within ${timeoutMs} ms`));
  }

  private handleError(error: Error): void {
    const fallback = this.isNegotiatedValue ? TlsErrors.PROTOCOL_ERROR : TlsErrors.HANDSHAKE_FAILED;
    this.fail(fromNodeTlsError(error, this.role, this.isNegotiatedValue, fallback));
  }

  private handlePeerEnd(): void {
    this.hasPeerEnded = true;
    if (this.plaintextQueue.isEmpty) this.slot?.channel.shutdown(new SluiceError(TlsErrors.CLOSED));
  }

  private handleClose(): void {
    const channel = this.slot?.channel;
    if (channel !== undefined && !channel.isShuttingDown && !this.hasPeerEnded) {
      channel.shutdown(new SluiceError(this.isNegotiatedValue ? TlsErrors.CLOSED : TlsErrors.HANDSHAKE_FAILED));
    }
    this.failWritesInFlight(channel?.shutdownError ?? new SluiceError(TlsErrors.CLOSED));
    this.finishWriteShutdown();
  }

  private finishWriteShutdown(): void {
    const request = this.pendingWriteShutdown;
    if (request === null) return;
    this.pendingWriteShutdown = null;
    if (!request.slot.isWriteShutDown)
      request.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, request.error, request.free);
  }

  private fail(error: SluiceError): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'tls', `${this.role} TLS failure: ${error.message}`);
    this.slot?.channel.shutdown(error);
  }
}

/**
 * The function type {@link alpnPipeline} returns: an `onNegotiated` callback that installs the
 * handler for the negotiated protocol.
 */
export type AlpnSelector = (slot: ChannelSlot, protocol: string | null) => void;

/** Options of {@link alpnPipeline}. */
export interface AlpnPipelineOptions {
  /** Handler for a protocol missing from the map, or for no negotiated protocol. */
  fallback?: () => ChannelHandler;
}

/**
 * alpnPipeline builds an `onNegotiated` callback that installs, right of the TLS slot, the
 * handler made by `map[protocol]`. A protocol missing from the map (or none negotiated) uses
 * `fallback`; without one the channel shuts down with `TLS_ALPN_MISMATCH`.
 *
 * @example
 * ```ts
 * new TlsHandler({ role: 'server', cert, key, ALPNProtocols: ['h2', 'http/1.1'],
 *   onNegotiated: alpnPipeline({ h2: () => new Http2ServerConnection() }, { fallback: () => new MyHttp1Handler() }) });
 * ```
 */
export function alpnPipeline(
  map: Readonly<Record<string, () => ChannelHandler>>,
  options: AlpnPipelineOptions = {},
): AlpnSelector {
  return (slot, protocol) => {
    const factory = (protocol !== null && Object.hasOwn(map, protocol) ? map[protocol] : undefined) ?? options.fallback;
    if (factory === undefined) {
      throw new SluiceError(
        TlsErrors.ALPN_MISMATCH,
        `${TlsErrors.ALPN_MISMATCH.message}: ${protocol === null ? 'none negotiated' : `no handler for "${protocol}"`}`,
      );
    }
    slot.insertRight(factory());
  };
}

/**
 * tlsPipeline returns a bootstrap `pipeline` that appends a {@link TlsHandler} with `options`
 * (one options object for every channel, so contexts are compiled once). Use `onNegotiated`
 * (e.g. {@link alpnPipeline}) to install what follows TLS; handlers appended after it by the
 * caller receive plaintext only once the handshake completed.
 *
 * @example
 * ```ts
 * await new ServerBootstrap().listen({ port: 8443,
 *   pipeline: tlsPipeline({ role: 'server', cert, key, ALPNProtocols: ['h2'],
 *     onNegotiated: alpnPipeline({ h2: () => new Http2ServerConnection() }) }) });
 * ```
 */
export function tlsPipeline(options: TlsOptions): (channel: Channel) => void {
  compileTlsOptions(options);
  return (channel) => {
    channel.appendHandler(new TlsHandler(options));
  };
}
