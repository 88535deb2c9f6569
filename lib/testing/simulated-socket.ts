/**
 * A simulated TCP socket: the parts of `net.Socket` a transport handler uses, over a
 * {@link SimulatedNetwork} on virtual time.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { SimulatedNetwork, SimulatedSide } from './simulated-network.js';

/** Called once a write was taken (or failed), like `net.Socket.write`'s callback. */
export type SimulatedWriteCallback = (error?: Error | null) => void;

/** A Node-style socket error: a message and an errno-like `code`. */
export function simulatedSocketError(code: string, message: string): Error {
  return Object.assign(new Error(`${message} (simulated ${code})`), { code });
}

/** One write the pipe has not taken yet (the simulated kernel buffer is full). */
export interface SimulatedWaitingWrite {
  /** The bytes (a copy). */
  readonly data: Uint8Array;
  /** Its callback, if the writer gave one. */
  readonly callback: SimulatedWriteCallback | undefined;
}

/**
 * SimulatedPipe is one direction of a connection: the bytes its writer handed over that its
 * reader has not read yet (kernel send and receive buffers in one), bounded by a capacity;
 * writes beyond it wait, and their callbacks fire only once taken — so a reader that stops
 * reading pushes back on its writer as TCP does.
 */
export class SimulatedPipe {
  /** Bytes taken, in order, not yet delivered. */
  readonly chunks: Uint8Array[] = [];
  /** Bytes in `chunks`. */
  bufferedBytes = 0;
  /** Writes waiting for room. */
  readonly waiting: SimulatedWaitingWrite[] = [];
  /** The writer ended its side: a FIN follows the data (once `waiting` is empty). */
  isFinRequested = false;
  /** The FIN is in the pipe behind the data. */
  isFinTaken = false;
  /** The reader saw the FIN ('end'). */
  isFinDelivered = false;
  /** Nothing is delivered before this virtual time (a stall). */
  stalledUntilMs = 0;
  /** A delivery is scheduled. */
  isPumpScheduled = false;

  /** Creates the direction `name` with room for `capacity` bytes. */
  constructor(
    /** `client->server` or `server->client`, for traces. */
    readonly name: string,
    /** Bytes the pipe holds before writes wait. */
    readonly capacity: number,
  ) {}

  /** True when nothing is in flight in this direction (the FIN may have been delivered or not). */
  get isEmpty(): boolean {
    return this.bufferedBytes === 0 && this.waiting.length === 0;
  }

  /** Drops everything in flight (a reset); returns the callbacks of writes not yet taken. */
  clear(): SimulatedWriteCallback[] {
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    const callbacks = this.waiting.map((write) => write.callback).filter((callback) => callback !== undefined);
    this.waiting.length = 0;
    this.isFinRequested = this.isFinTaken = true;
    this.isFinDelivered = true;
    return callbacks;
  }
}

/**
 * SimulatedSocket quacks like the `net.Socket` a transport handler drives: `write(data, cb)`,
 * `end(cb)`, `destroy()`, `pause()`, `resume()`, `destroyed`, the `data`, `end`, `error` and
 * `close` events, and the option setters as no-ops. Its events come from tasks of the
 * network's virtual loop, never from inside the call that caused them, as Node's do. Pass it
 * where a `net.Socket` is expected with a cast (`socket as unknown as net.Socket`).
 *
 * It behaves like a Node socket with `allowHalfOpen: false`: the peer's FIN ends our side too.
 */
export class SimulatedSocket extends EventEmitter {
  /** True once the socket was destroyed (by us, an error or a reset). */
  destroyed = false;
  /** `write` after `end` or `destroy` fails. */
  writableEnded = false;
  /** True while 'data' events may be emitted. */
  private isFlowing = true;
  private hasFinished = false;
  private endCallbacks: SimulatedWriteCallback[] = [];
  /** A fault armed to fail the next write. */
  failNextWrite = false;
  /** A write failed: the connection is broken, and nothing written after reaches the peer. */
  private isWriteBroken = false;
  /** The address of the peer, for logs. */
  readonly remoteAddress: string;
  /** The peer's port, for logs. */
  readonly remotePort: number;

  /** Made by {@link SimulatedNetwork.connect}; not constructed directly. */
  constructor(
    private readonly network: SimulatedNetwork,
    /** Which end of the connection this is. */
    readonly side: SimulatedSide,
    /** What this socket writes into. */
    readonly outbound: SimulatedPipe,
    /** What this socket reads from. */
    readonly inbound: SimulatedPipe,
  ) {
    super();
    this.remoteAddress = side === 'client' ? '10.0.0.2' : '10.0.0.1';
    this.remotePort = side === 'client' ? 443 : 50000;
  }

  /** The socket at the other end. */
  get peer(): SimulatedSocket {
    return this.network.peerOf(this);
  }

  /** True while reads are not paused. */
  get isReading(): boolean {
    return this.isFlowing && !this.destroyed;
  }

  /** Hands `data` to the pipe (copied: the caller may reuse its memory once `callback` ran). */
  write(data: Uint8Array, callback?: SimulatedWriteCallback): boolean {
    if (this.destroyed || this.writableEnded) {
      const error = simulatedSocketError(this.destroyed ? 'ERR_STREAM_DESTROYED' : 'EPIPE', 'write after end');
      this.network.later(() => callback?.(error), 'write-after-end');
      if (!this.destroyed) this.network.later(() => this.fail(error), 'write-after-end');
      return false;
    }
    if (this.isWriteBroken) {
      // Node buffers writes until the failure destroys the socket, then fails them: none is sent.
      this.network.later(() => callback?.(simulatedSocketError('EPIPE', 'broken pipe')), 'write-after-fault');
      return false;
    }
    if (this.failNextWrite) {
      this.failNextWrite = false;
      this.isWriteBroken = true;
      const error = simulatedSocketError('EPIPE', 'broken pipe');
      this.network.trace(`${this.side} write-failed ${data.length}`);
      this.network.later(() => {
        callback?.(error);
        this.fail(error);
        // A broken connection is reset, not closed: a later write must not reach the peer after a
        // gap, and a FIN would pass a stream cut short for a whole one.
        this.network.reset(this, 'write failed');
      }, 'write-fault');
      return false;
    }
    this.outbound.waiting.push({ data: Uint8Array.prototype.slice.call(data), callback });
    this.network.takeWrites(this.outbound);
    return this.outbound.bufferedBytes < this.outbound.capacity;
  }

  /** Ends our side: a FIN follows what was written; `callback` runs once it is taken (Node's 'finish'). */
  end(callback?: SimulatedWriteCallback): this {
    if (callback !== undefined) {
      if (this.hasFinished) this.network.later(() => callback(), 'end-callback');
      else if (this.destroyed)
        this.network.later(() => callback(simulatedSocketError('ERR_STREAM_DESTROYED', 'destroyed')), 'end-callback');
      else this.endCallbacks.push(callback);
    }
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    this.outbound.isFinRequested = true;
    this.network.takeWrites(this.outbound);
    return this;
  }

  /** Closes at once. Unread input makes the peer see a reset (as the kernel answers RST). */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.network.trace(`${this.side} destroy${error === undefined ? '' : ` ${(error as { code?: string }).code}`}`);
    this.destroyed = true;
    this.writableEnded = true;
    const hasUnreadInput = this.inbound.bufferedBytes > 0 || this.inbound.waiting.length > 0;
    // Bytes the kernel took still go out, then a FIN; writes it had not taken are lost.
    const lost = this.outbound.waiting.splice(0).map((write) => write.callback);
    this.outbound.isFinRequested = true;
    this.network.takeWrites(this.outbound);
    const failure = simulatedSocketError('ERR_STREAM_DESTROYED', 'socket destroyed');
    const ending = this.endCallbacks.splice(0);
    this.network.later(() => {
      for (const callback of lost) callback?.(failure);
      if (!this.hasFinished) for (const callback of ending) callback(failure);
      if (error !== undefined) this.emit('error', error);
      this.emit('close', error !== undefined);
    }, 'close');
    if (hasUnreadInput) this.network.reset(this.peer, 'unread input at close');
    return this;
  }

  /** Stops 'data' events; the pipe fills and the peer's writes wait. */
  pause(): this {
    this.isFlowing = false;
    return this;
  }

  /** Resumes 'data' events. */
  resume(): this {
    if (this.isFlowing) return this;
    this.isFlowing = true;
    this.network.schedulePump(this.inbound);
    return this;
  }

  /** No-op (the simulated network has no Nagle). */
  setNoDelay(): this {
    return this;
  }

  /** No-op. */
  setKeepAlive(): this {
    return this;
  }

  /** No-op: timeouts belong to the handlers under test. */
  setTimeout(): this {
    return this;
  }

  /** No-op. */
  ref(): this {
    return this;
  }

  /** No-op. */
  unref(): this {
    return this;
  }

  /** @internal The pipe took our FIN: Node's 'finish'. */
  _onFinished(): void {
    if (this.hasFinished) return;
    this.hasFinished = true;
    for (const callback of this.endCallbacks.splice(0)) callback();
    this.closeIfDone();
  }

  /** @internal The peer's FIN arrived after its last byte. */
  _onPeerEnded(): void {
    if (this.destroyed) return;
    this.emit('end');
    // allowHalfOpen false: our side ends too.
    this.end();
    this.closeIfDone();
  }

  /** @internal An error (reset, failed write) ends the socket. */
  fail(error: Error): void {
    if (this.destroyed) return;
    this.destroy(error);
  }

  private closeIfDone(): void {
    if (this.hasFinished && this.inbound.isFinDelivered && !this.destroyed) this.destroy();
  }
}
