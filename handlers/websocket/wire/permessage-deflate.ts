/**
 * permessage-deflate compression (RFC 7692 §7.2) on `node:zlib`: a compressor and a decompressor
 * for one connection, honoring context takeover and window bits.
 *
 * Both are **asynchronous**: zlib runs on libuv's thread pool and the callback comes on a later
 * turn, so the connection layer queues messages behind them (the decoder and encoder stay
 * synchronous and allocation-free; compression is where a message's bytes are copied anyway).
 *
 * The decompression bound: a few kilobytes can inflate to gigabytes. The decompressor counts
 * output as zlib produces it, in chunks of at most 16 KiB; the chunk that passes `maxMessageSize`
 * stops it (the zlib stream is destroyed, so no more is inflated) and the message fails with
 * {@link WebSocketProtocolErrors.MESSAGE_TOO_LARGE} (1009). Memory held is at most
 * `maxMessageSize` plus one chunk.
 *
 * @module
 */
import zlib from 'node:zlib';
import {
  WebSocketEncodeErrors,
  WebSocketProtocolError,
  WebSocketProtocolErrors,
  type WebSocketCloseErrorDefinition,
} from '../errors.js';
import { SluiceError } from '../../../lib/errors.js';
import { checkOptionalOptions } from '../../../lib/argument-checks.js';

/** The tail a sync flush ends with, removed by the sender and put back by the receiver (RFC 7692 §7.2.1, §7.2.2). */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** zlib's output chunk: the granularity of the decompression bound. */
const OUTPUT_CHUNK = 16 * 1024;

/** Options of a {@link PerMessageDeflater}. */
export interface PerMessageDeflaterOptions {
  /** Window bits, 9–15 (our negotiated send window; see `perMessageDeflateSide`). Default 15. */
  windowBits?: number;
  /** Reset the context after every message (negotiated `…_no_context_takeover` for our side). */
  noContextTakeover?: boolean;
  /** zlib compression level 0–9 (default 6, zlib's default). */
  level?: number;
  /** zlib memory level 1–9 (default 8). */
  memLevel?: number;
}

/** Options of a {@link PerMessageInflater}. */
export interface PerMessageInflaterOptions {
  /** Window bits of the peer's compressor, 8–15 (8 is read as 9, which accepts it). Default 15. */
  windowBits?: number;
  /** Reset the context after every message (the peer's negotiated `…_no_context_takeover`). */
  noContextTakeover?: boolean;
  /** The largest inflated message, bytes; more is `WEBSOCKET_MESSAGE_TOO_LARGE` (1009). Default 64 MiB. */
  maxMessageSize?: number;
}

function checkInteger(value: unknown, low: number, high: number, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= low && value <= high) return value;
  throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, `${what}: a whole number from ${low} to ${high}`);
}

/**
 * PerMessageDeflater compresses one connection's outgoing messages, one at a time in the order
 * given. The result is a message's payload for a frame with RSV1 set (RFC 7692 §6).
 */
export class PerMessageDeflater {
  private readonly stream: zlib.DeflateRaw;
  private readonly noContextTakeover: boolean;
  private readonly queue: {
    data: Uint8Array;
    callback: (error: SluiceError | null, payload: Buffer | null) => void;
  }[] = [];
  private chunks: Buffer[] = [];
  private isBusy = false;
  private failure: SluiceError | null = null;

  /** Creates a compressor; throws `WEBSOCKET_INVALID_ARGUMENT` on options out of range. */
  constructor(options: PerMessageDeflaterOptions = {}) {
    checkOptionalOptions(options, 'new PerMessageDeflater', WebSocketEncodeErrors.INVALID_ARGUMENT);
    this.noContextTakeover = options.noContextTakeover === true;
    this.stream = zlib.createDeflateRaw({
      windowBits: checkInteger(options.windowBits ?? 15, 9, 15, 'PerMessageDeflater windowBits'),
      level: checkInteger(options.level ?? 6, 0, 9, 'PerMessageDeflater level'),
      memLevel: checkInteger(options.memLevel ?? 8, 1, 9, 'PerMessageDeflater memLevel'),
    });
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.stream.on('error', (error) =>
      this.fail(new SluiceError(WebSocketEncodeErrors.COMPRESSION_FAILED, undefined, { cause: error })),
    );
  }

  /**
   * Compresses the whole message `data` and calls `callback` on a later turn with the payload
   * (the deflate stream without its `00 00 ff ff` tail), or with `WEBSOCKET_COMPRESSION_FAILED`.
   * `data` is read only after earlier messages are done: do not modify it until the callback.
   */
  compress(data: Uint8Array, callback: (error: SluiceError | null, payload: Buffer | null) => void): void {
    if (this.failure !== null) {
      const failure = this.failure;
      process.nextTick(() => callback(failure, null));
      return;
    }
    this.queue.push({ data, callback });
    if (!this.isBusy) this.next();
  }

  /** Frees zlib's memory; pending and later calls fail with `WEBSOCKET_COMPRESSION_FAILED`. */
  close(): void {
    this.fail(new SluiceError(WebSocketEncodeErrors.COMPRESSION_FAILED, 'the compressor is closed'));
  }

  private next(): void {
    const item = this.queue.shift();
    if (item === undefined) {
      this.isBusy = false;
      return;
    }
    this.isBusy = true;
    this.chunks = [];
    this.stream.write(item.data);
    this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      if (this.failure !== null) return;
      let payload = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [];
      // RFC 7692 §7.2.1: remove the 4-octet tail a sync flush ends with.
      if (payload.length >= 4 && payload.subarray(payload.length - 4).equals(DEFLATE_TAIL)) {
        payload = payload.subarray(0, payload.length - 4);
      }
      if (this.noContextTakeover) this.stream.reset();
      item.callback(null, payload);
      this.next();
    });
  }

  private fail(error: SluiceError): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.stream.destroy();
    const pending = this.queue.splice(0);
    for (const item of pending) process.nextTick(() => item.callback(error, null));
  }
}

/**
 * PerMessageInflater decompresses one connection's incoming compressed messages: feed a message's
 * payload with {@link PerMessageInflater.write} as frames arrive, then {@link PerMessageInflater.finish}
 * at its end. One message at a time.
 */
export class PerMessageInflater {
  private readonly stream: zlib.InflateRaw;
  private readonly noContextTakeover: boolean;
  private readonly maxMessageSize: number;
  private chunks: Buffer[] = [];
  private inflated = 0;
  private peak = 0;
  private failure: WebSocketProtocolError | null = null;
  private pendingCallback: ((error: WebSocketProtocolError | null, message: Buffer | null) => void) | null = null;

  /** Creates a decompressor; throws `WEBSOCKET_INVALID_ARGUMENT` on options out of range. */
  constructor(options: PerMessageInflaterOptions = {}) {
    checkOptionalOptions(options, 'new PerMessageInflater', WebSocketEncodeErrors.INVALID_ARGUMENT);
    this.noContextTakeover = options.noContextTakeover === true;
    const maxMessageSize = options.maxMessageSize ?? 64 * 1024 * 1024;
    if (typeof maxMessageSize !== 'number' || !Number.isSafeInteger(maxMessageSize) || maxMessageSize < 0) {
      throw new SluiceError(WebSocketEncodeErrors.INVALID_ARGUMENT, 'PerMessageInflater maxMessageSize: 0 to 2^53-1');
    }
    this.maxMessageSize = maxMessageSize;
    const windowBits = checkInteger(options.windowBits ?? 15, 8, 15, 'PerMessageInflater windowBits');
    this.stream = zlib.createInflateRaw({ windowBits: Math.max(9, windowBits), chunkSize: OUTPUT_CHUNK });
    this.stream.on('data', (chunk: Buffer) => this.onOutput(chunk));
    this.stream.on('error', (error) =>
      this.fail(WebSocketProtocolErrors.INVALID_COMPRESSED_DATA, error.message, error),
    );
  }

  /** The most inflated bytes held for one message so far: at most `maxMessageSize` plus one zlib chunk (16 KiB). */
  get peakInflatedBytes(): number {
    return this.peak;
  }

  /** The error the decompressor failed with, or null. */
  get error(): WebSocketProtocolError | null {
    return this.failure;
  }

  /** Feeds compressed payload `data[start..end)` of the current message (copied: the range may be reused after the call). */
  write(data: Uint8Array, start = 0, end = data.length): void {
    if (this.failure !== null || end <= start) return;
    this.stream.write(Buffer.from(data.subarray(start, end)));
  }

  /**
   * Ends the current message: calls `callback` on a later turn with the inflated message, or with
   * a {@link WebSocketProtocolError}: `WEBSOCKET_MESSAGE_TOO_LARGE` (1009) past `maxMessageSize`,
   * `WEBSOCKET_INVALID_COMPRESSED_DATA` (1007) when the data does not inflate. After an error the
   * decompressor is dead (the connection fails).
   */
  finish(callback: (error: WebSocketProtocolError | null, message: Buffer | null) => void): void {
    if (this.failure !== null) {
      const failure = this.failure;
      process.nextTick(() => callback(failure, null));
      return;
    }
    this.pendingCallback = callback;
    // RFC 7692 §7.2.2: append the tail the sender removed, then inflate what is there.
    this.stream.write(DEFLATE_TAIL);
    this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      if (this.failure !== null || this.pendingCallback !== callback) return;
      this.pendingCallback = null;
      const message = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.inflated);
      this.chunks = [];
      this.inflated = 0;
      if (this.noContextTakeover) this.stream.reset();
      callback(null, message);
    });
  }

  /** Frees zlib's memory; a pending `finish` fails with `WEBSOCKET_INVALID_COMPRESSED_DATA`. */
  close(): void {
    this.fail(WebSocketProtocolErrors.INVALID_COMPRESSED_DATA, 'the decompressor is closed');
  }

  private onOutput(chunk: Buffer): void {
    if (this.failure !== null) return;
    this.inflated += chunk.length;
    if (this.inflated > this.peak) this.peak = this.inflated;
    if (this.inflated > this.maxMessageSize) {
      this.fail(
        WebSocketProtocolErrors.MESSAGE_TOO_LARGE,
        `a compressed message inflates past ${this.maxMessageSize} bytes (limit maxMessageSize)`,
      );
      return;
    }
    this.chunks.push(chunk);
  }

  private fail(definition: WebSocketCloseErrorDefinition, message: string, cause?: unknown): void {
    if (this.failure !== null) return;
    this.failure = new WebSocketProtocolError(definition, message, cause === undefined ? undefined : { cause });
    this.chunks = [];
    // Destroying the stream stops zlib: nothing more is inflated for this connection.
    this.stream.destroy();
    const callback = this.pendingCallback;
    this.pendingCallback = null;
    const failure = this.failure;
    if (callback !== null) process.nextTick(() => callback(failure, null));
  }
}
