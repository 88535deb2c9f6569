/**
 * Bodies for the convenient layer: {@link Http2Body}, an incoming body read as an async
 * iterable whose flow-control credit goes back to the peer only as the consumer reads, and the
 * writer that sends an {@link Http2BodySource} with back-pressure.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { Http2SessionErrors } from '../errors.js';
import type { Http2Stream, Http2StreamFailure, WriteCallback } from '../connection/http2-stream.js';

/**
 * BodyCreditSink is what an {@link Http2Body} needs of its stream: a way to return receive
 * credit once the consumer took bytes, and to say when a reader waits for bytes (a server times
 * the request body's rate only then). An {@link Http2Stream} is one.
 * @internal
 */
export type BodyCreditSink = Pick<Http2Stream, 'updateWindow'> & Partial<Pick<Http2Stream, '_setReadWaiting'>>;

/**
 * BodyWriteSink is what the body writers need of a stream: whether it can still send, and a
 * `write` with a completion callback. An {@link Http2Stream} is one.
 * @internal
 */
export interface BodyWriteSink {
  /** True while the stream may still send. */
  readonly isWritable: boolean;
  /** Queues `chunk`; false once above the high-water mark (see `Http2Stream.write`). */
  write(chunk: Uint8Array, callback?: WriteCallback): boolean;
}

/**
 * Http2BodySource is what can be sent as a body: bytes, a string (UTF-8), or a sync or async
 * iterable of byte chunks or strings (a generator, a Node `Readable`, another
 * {@link Http2Body}). Chunks are not copied: do not change a chunk after yielding it.
 */
export type Http2BodySource = string | Uint8Array | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

interface PendingRead {
  resolve(result: IteratorResult<Buffer>): void;
  reject(error: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Http2Body is an incoming HTTP/2 body (a response body on the client, a request body on the
 * server), read once as an `AsyncIterable<Buffer>` or with `text()`, `bytes()`,
 * `arrayBuffer()` or `json()`.
 *
 * Flow control is manual: received bytes wait here, and their credit returns to the peer (as
 * WINDOW_UPDATE) only when the consumer takes them. A consumer that stops reading therefore
 * stops the peer after at most one stream window: {@link bufferedBytes} never exceeds the
 * window this endpoint advertised. If the stream fails, reading rejects with its
 * {@link Http2StreamError} / {@link Http2ConnectionError} (or the abort reason) and buffered
 * bytes are dropped.
 *
 * Leaving a `for await` loop early cancels the body: on the client the stream is reset with
 * CANCEL; on the server the rest of the request body is read and discarded.
 */
export class Http2Body implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private isEnded = false;
  private hasFailed = false;
  private failure: unknown = null;
  private isUsed = false;
  private isDiscarding = false;
  private pendingRead: PendingRead | null = null;
  private readonly stream: BodyCreditSink;
  private readonly onCancel: () => void;

  /** @internal Bodies are created by sessions, servers and the SDK client; `onCancel` runs when the reader gives up early. */
  constructor(stream: BodyCreditSink, onCancel: () => void) {
    this.stream = stream;
    this.onCancel = onCancel;
  }

  /** True once reading began (iteration, a helper, or `cancel`): a body is read once. */
  get bodyUsed(): boolean {
    return this.isUsed;
  }

  /** Bytes received and not yet taken by the consumer (bounded by the stream receive window). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True once the peer ended the body and every byte was taken. */
  get isComplete(): boolean {
    return this.isEnded && this.buffered === 0;
  }

  /** Reads the body chunk by chunk; each chunk taken returns its credit to the peer. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.markUsed();
    return {
      next: () => this.read(),
      return: () => {
        this.cancel();
        return Promise.resolve(DONE);
      },
    };
  }

  /** Reads the whole body into one buffer. */
  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    let length = 0;
    for await (const chunk of this) {
      parts.push(chunk);
      length += chunk.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
  }

  /** Reads the whole body into an `ArrayBuffer` of its exact length. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    return copy;
  }

  /** Reads the whole body as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** Reads the whole body as UTF-8 JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /**
   * Gives up on the body: buffered bytes are dropped and their credit returned; on the client
   * the stream is reset with CANCEL, on the server later bytes are discarded as they come.
   */
  cancel(): void {
    this.isUsed = true;
    if (this.isDiscarding) return;
    this.isDiscarding = true;
    const held = this.buffered;
    this.dropChunks();
    this.settleRead();
    if (this.isEnded || this.hasFailed) return;
    if (held > 0) this.stream.updateWindow(held);
    this.onCancel();
  }

  /** @internal Bytes arrived (`data[start..end)` is only valid now: copied). */
  _push(data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.isDiscarding) {
      this.stream.updateWindow(length);
      return;
    }
    const chunk = Buffer.allocUnsafe(length);
    chunk.set(data.subarray(start, end));
    const read = this.pendingRead;
    if (read !== null) {
      this.pendingRead = null;
      this.stream._setReadWaiting?.(false);
      this.stream.updateWindow(length);
      read.resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
    this.buffered += length;
  }

  /** @internal The peer ended the body. */
  _end(): void {
    if (this.isEnded || this.hasFailed) return;
    this.isEnded = true;
    if (this.head === this.chunks.length) this.settleRead();
  }

  /** @internal The stream failed before the body ended: readers get `error`. */
  _fail(error: unknown): void {
    if (this.isEnded || this.hasFailed) return;
    this.hasFailed = true;
    this.failure = error;
    this.dropChunks();
    this.settleRead();
  }

  private read(): Promise<IteratorResult<Buffer>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head];
      this.chunks[this.head] = EMPTY;
      this.head++;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      }
      this.buffered -= chunk.length;
      // The consumer took the bytes: only now may the peer send more (manual window mode).
      this.stream.updateWindow(chunk.length);
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.hasFailed) return Promise.reject(this.failure);
    if (this.isEnded || this.isDiscarding) return Promise.resolve(DONE);
    if (this.pendingRead !== null) {
      return Promise.reject(new SluiceError(Http2SessionErrors.BODY_USED, 'a body is read by one reader at a time'));
    }
    const waiting = new Promise<IteratorResult<Buffer>>((resolve, reject) => {
      this.pendingRead = { resolve, reject };
    });
    // The reader waits for the peer now: the request-body rate may time it.
    this.stream._setReadWaiting?.(true);
    return waiting;
  }

  private settleRead(): void {
    const read = this.pendingRead;
    if (read === null) return;
    this.pendingRead = null;
    this.stream._setReadWaiting?.(false);
    if (this.hasFailed && !this.isDiscarding) read.reject(this.failure);
    else read.resolve(DONE);
  }

  private dropChunks(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.buffered = 0;
  }

  private markUsed(): void {
    if (this.isUsed) {
      throw new SluiceError(
        Http2SessionErrors.BODY_USED,
        this.isDiscarding ? 'the body was canceled: nothing is left to read' : 'the body was already read',
      );
    }
    this.isUsed = true;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Queues `chunk` on `stream`. Returns null when the stream's buffer stays below its high-water
 * mark (no promise is made), else a promise that settles once the chunk is framed. Throws when
 * the stream can no longer send.
 * @internal
 */
export function writeChunk(stream: BodyWriteSink, chunk: Uint8Array): Promise<void> | null {
  const state: WriteState = { settle: null, earlyError: undefined };
  const isBelow = stream.write(chunk, (error) => {
    if (state.settle !== null) state.settle(error);
    else state.earlyError = error;
  });
  if (isBelow) return null;
  if (state.earlyError !== undefined) return state.earlyError === null ? null : Promise.reject(state.earlyError);
  return new Promise<void>((resolve, reject) => {
    state.settle = (error) => (error === null ? resolve() : reject(error));
  });
}

interface WriteState {
  settle: ((error: Http2StreamFailure | null) => void) | null;
  /** The callback fired before a promise was made (undefined: not yet). */
  earlyError: Http2StreamFailure | null | undefined;
}

/** Converts one chunk of a body source to bytes. @internal */
export function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new SluiceError(
    Http2SessionErrors.INVALID_BODY,
    `a body chunk must be a Uint8Array or a string, got ${typeof chunk}`,
  );
}

/**
 * Writes every chunk of `source` to `stream`, waiting whenever the stream's buffer is above its
 * high-water mark. Stops (resolving false) if the stream closes first; rejects if the source
 * throws. Does not end the stream.
 * @internal
 */
export async function writeBodySource(stream: BodyWriteSink, source: Http2BodySource): Promise<boolean> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    if (!stream.isWritable) return false;
    const wait = writeChunk(stream, toBytes(source));
    if (wait !== null) await wait;
    return true;
  }
  const iterator = isAsyncIterable(source) ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let isFinished = false;
  try {
    for (;;) {
      const step = await iterator.next();
      if (step.done === true) {
        isFinished = true;
        return true;
      }
      if (!stream.isWritable) return false;
      const wait = writeChunk(stream, toBytes(step.value));
      if (wait !== null) await wait;
    }
  } finally {
    // Stopped early (stream closed or write failed): let the source release what it holds.
    if (!isFinished) await iterator.return?.();
  }
}

/** True when `value` can be sent as a body ({@link Http2BodySource}). @internal */
export function isBodySource(value: unknown): value is Http2BodySource {
  if (typeof value === 'string' || value instanceof Uint8Array) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  return typeof candidate[Symbol.iterator] === 'function' || typeof candidate[Symbol.asyncIterator] === 'function';
}

/**
 * True when `source` can be sent again from its start (bytes, a string, an array of chunks);
 * false for a one-shot iterable (a generator, a Node `Readable`, an {@link Http2Body}).
 * @internal
 */
export function isReplayableBody(source: Http2BodySource): boolean {
  return typeof source === 'string' || source instanceof Uint8Array || Array.isArray(source);
}

function isAsyncIterable(
  source: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
): source is AsyncIterable<Uint8Array | string> {
  return typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** Marks `promise` handled: it never reports an unhandled rejection (awaiting it still throws). @internal */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(noop);
  return promise;
}

function noop(): void {}
