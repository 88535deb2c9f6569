/**
 * One outgoing HTTP/1.1 message (a response on a server, a request on a client): its head, its
 * interim 1xx heads, its body queue and its framing, written piece by piece into the message the
 * outgoing task fills.
 *
 * @module
 */
import {
  CHUNK_END_LENGTH,
  checkedLastChunkLength,
  checkedRequestHeadLength,
  checkedResponseHeadLength,
  chunkHeaderLength,
  isFieldValue,
  isToken,
  putLastChunk,
  putRequestHead,
  putResponseHead,
  writeChunkEnd,
  writeChunkHeader,
  type Http1Fields,
} from '../wire/message-encoder.js';
import type { RecentHead } from '../wire/recent-head.js';
import { SluiceError } from '../../../lib/index.js';
import { Http1ConnectionErrors, Http1EncodeErrors } from '../errors.js';

/** Called once a chunk given to `write` (or the end given to `end`) was copied into an outgoing message, or failed. */
export type Http1WriteCallback = (error: SluiceError | null) => void;

/**
 * How an outgoing body is delimited (RFC 9112 §6): nothing, `Content-Length`, the chunked coding,
 * or the connection's close (responses to HTTP/1.0 peers whose length is unknown).
 */
export const BodyFraming = {
  /** No body may follow the head (HEAD, 204, 304, a request ended with its head). */
  NONE: 0,
  /** `Content-Length` bytes. */
  LENGTH: 1,
  /** Chunked transfer coding; trailers possible. */
  CHUNKED: 2,
  /** Until the connection closes (a response to HTTP/1.0 without a length). */
  CLOSE: 3,
} as const;
/** A {@link BodyFraming} value. */
export type BodyFraming = (typeof BodyFraming)[keyof typeof BodyFraming];

const NO_FIELDS: Http1Fields = Object.freeze([]);

/**
 * Checks an outgoing field list before anything is queued, so a bad field is the caller's
 * exception at the call, not a failure inside the outgoing task.
 * @internal
 */
export function checkOutgoingFields(fields: unknown): Http1Fields {
  if (!Array.isArray(fields) || fields.length % 2 !== 0) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      'fields must be a flat array [name, value, …] of even length',
    );
  }
  for (let i = 0; i < fields.length; i += 2) {
    const name: unknown = fields[i];
    const value: unknown = fields[i + 1];
    if (typeof name !== 'string' || !isToken(name)) {
      throw new SluiceError(
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_NAME,
        `the field name ${String(name)} is not a token`,
      );
    }
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new SluiceError(
        Http1EncodeErrors.INVALID_OUTGOING_FIELD_VALUE,
        `the value of ${name} contains CR, LF, NUL, another control character or a character above U+00FF`,
      );
    }
  }
  return fields as Http1Fields;
}

/**
 * OutgoingMessage queues what one message sends and writes it on request of the outgoing task.
 * Write callbacks run when their bytes were copied into the pooled message (the caller's memory
 * may be reused then), as in HTTP/2; a callback that throws is remembered in `thrown` for the
 * connection to act on. Not for applications.
 * @internal
 */
export class OutgoingMessage {
  /** The head is queued (respond / request called). */
  isHeadQueued = false;
  /** The head is written. */
  isHeadWritten = false;
  /** The end (last chunk, or the last body byte) is queued. */
  isEndQueued = false;
  /** The end is written: the message is complete on the wire. */
  isEndWritten = false;
  /** The body waits (a request's `Expect: 100-continue`): only the head is written. */
  isBodyHeld = false;
  /** Body bytes are accepted and dropped (HEAD, 204, 304): callbacks still run. */
  isBodyDiscarded = false;
  /** How the body is delimited. */
  framing: BodyFraming = BodyFraming.NONE;
  /** The declared Content-Length, or -1. */
  declaredLength = -1;
  /** Body bytes accepted so far (against `declaredLength`). */
  bodyBytesAccepted = 0;
  /** Bytes queued and not yet copied. */
  bufferedBytes = 0;
  /** What a write or end callback threw, for the connection to fail the exchange with. */
  thrown: unknown = null;
  /** Whether anything was thrown (a thrown `undefined` counts). */
  hasThrown = false;

  // head
  private isRequest = false;
  private status = 0;
  private reason = '';
  private method = '';
  private target = '';
  private fields: Http1Fields = NO_FIELDS;
  private httpMinorVersion = 1;
  /** The head's length once measured (-1 before): the task sizes its message, then writes the head. */
  private headSize = -1;
  /** Interim heads `[status, reason, fields, …]` to write before the final head. */
  private interim: (number | string | Http1Fields)[] | null = null;

  // body: [chunk, callback, chunk, callback, …] from `queueHead`; created on the first write
  private writes: (Uint8Array | Http1WriteCallback | null)[] | null = null;
  private queueHead = 0;
  /** Bytes of the chunk at `queueHead` already copied. */
  private chunkOffset = 0;
  private trailers: Http1Fields | null = null;
  /** Callbacks of discarded or empty writes, run on the next fill so they are never synchronous; created when needed. */
  private pendingCallbacks: Http1WriteCallback[] | null = null;
  private endCallback: Http1WriteCallback | null = null;

  /** Queues a response head. */
  setResponseHead(status: number, reason: string, fields: Http1Fields, httpMinorVersion: number): void {
    this.status = status;
    this.reason = reason;
    // A copy: the head is written later, unchecked, and the caller may reuse its list meanwhile.
    this.fields = fields.slice();
    this.httpMinorVersion = httpMinorVersion;
    this.headSize = -1;
    this.isHeadQueued = true;
  }

  /** Queues a request head. */
  setRequestHead(method: string, target: string, fields: Http1Fields): void {
    this.isRequest = true;
    this.method = method;
    this.target = target;
    this.fields = fields.slice(); // see setResponseHead
    this.headSize = -1;
    this.isHeadQueued = true;
  }

  /** Queues an interim (1xx) response head, written before the final one. */
  queueInterim(status: number, reason: string, fields: Http1Fields): void {
    (this.interim ??= []).push(status, reason, fields.slice()); // see setResponseHead
  }

  /** Queues body bytes; the callback runs once they are copied. */
  queueBody(chunk: Uint8Array, callback: Http1WriteCallback | null): void {
    this.bodyBytesAccepted += chunk.length;
    if (this.isBodyDiscarded || chunk.length === 0) {
      if (callback !== null) (this.pendingCallbacks ??= []).push(callback);
      return;
    }
    // The first write makes a list of exactly its two entries (`[]` and a push would reserve 17).
    if (this.writes === null) this.writes = [chunk, callback];
    else this.writes.push(chunk, callback);
    this.bufferedBytes += chunk.length;
  }

  /** Queues the end: trailers (chunked only; dropped otherwise) and a callback. */
  queueEnd(trailers: Http1Fields | null, callback: Http1WriteCallback | null): void {
    this.isEndQueued = true;
    this.trailers = this.framing === BodyFraming.CHUNKED && trailers !== null ? trailers.slice() : null; // see setResponseHead
    this.endCallback = callback;
  }

  /** Whether the task has something to write for this message now. */
  get hasWork(): boolean {
    if (this.pendingCallbacks !== null) return true;
    if (this.interim !== null && this.interim.length > 0) return true;
    if (!this.isHeadQueued) return false;
    if (!this.isHeadWritten) return true;
    if (this.isBodyHeld) return false;
    return this.bufferedBytes > 0 || (this.isEndQueued && !this.isEndWritten);
  }

  /** Roughly how many bytes are waiting, to size the pooled message. */
  get pendingSize(): number {
    let size = this.bufferedBytes + 32;
    const interim = this.interim;
    if (interim !== null) {
      for (let i = 2; i < interim.length; i += 3)
        size += checkedResponseHeadLength(interim[i - 1] as string, interim[i] as Http1Fields);
    }
    if (this.isHeadQueued && !this.isHeadWritten) size += this.headLength();
    if (this.trailers !== null) size += checkedLastChunkLength(this.trailers);
    return size;
  }

  private headLength(): number {
    if (this.headSize < 0) {
      this.headSize = this.isRequest
        ? checkedRequestHeadLength(this.method, this.target, this.fields)
        : checkedResponseHeadLength(this.reason, this.fields);
    }
    return this.headSize;
  }

  /**
   * Writes what fits of this message into `target[offset..limit)` and returns the new offset.
   * Pieces are written whole (heads, chunk headers, the last chunk) or not at all; body bytes are
   * split across messages as space allows. A final response head goes through `recentHead`, the
   * connection's last one, when there is one.
   */
  fill(target: Buffer, offset: number, limit: number, recentHead: RecentHead | null = null): number {
    if (this.pendingCallbacks !== null) this.runPendingCallbacks();
    const interim = this.interim;
    while (interim !== null && interim.length > 0) {
      const reason = interim[1] as string;
      const fields = interim[2] as Http1Fields;
      if (checkedResponseHeadLength(reason, fields) > limit - offset) return offset;
      offset = putResponseHead(target, offset, interim[0] as number, reason, fields, 1);
      interim.splice(0, 3);
    }
    if (!this.isHeadQueued) return offset;
    if (!this.isHeadWritten) {
      const length = this.headLength();
      if (length > limit - offset) {
        if (offset === 0) throw new RangeError(`a ${length}-byte head does not fit in one ${limit}-byte message`);
        return offset;
      }
      if (this.isRequest) offset = putRequestHead(target, offset, this.method, this.target, this.fields, 1);
      else if (recentHead !== null) {
        offset = recentHead.put(target, offset, this.status, this.reason, this.fields, this.httpMinorVersion);
      } else offset = putResponseHead(target, offset, this.status, this.reason, this.fields, this.httpMinorVersion);
      this.isHeadWritten = true;
      this.fields = NO_FIELDS;
    }
    if (this.isBodyHeld) return offset;
    offset = this.fillBody(target, offset, limit);
    if (this.bufferedBytes === 0 && this.isEndQueued && !this.isEndWritten)
      offset = this.fillEnd(target, offset, limit);
    return offset;
  }

  private fillBody(target: Buffer, offset: number, limit: number): number {
    let writes = this.writes;
    const isChunked = this.framing === BodyFraming.CHUNKED;
    while (writes !== null && this.queueHead < writes.length) {
      const chunk = writes[this.queueHead] as Uint8Array;
      let size = chunk.length - this.chunkOffset;
      let space = limit - offset;
      if (isChunked) space -= chunkHeaderLength(space) + CHUNK_END_LENGTH;
      if (space <= 0) return offset;
      if (size > space) size = space;
      if (isChunked) offset = writeChunkHeader(target, offset, size);
      target.set(
        this.chunkOffset === 0 && size === chunk.length
          ? chunk
          : chunk.subarray(this.chunkOffset, this.chunkOffset + size),
        offset,
      );
      offset += size;
      if (isChunked) offset = writeChunkEnd(target, offset);
      this.bufferedBytes -= size;
      this.chunkOffset += size;
      if (this.chunkOffset < chunk.length) return offset;
      const callback = writes[this.queueHead + 1] as Http1WriteCallback | null;
      writes[this.queueHead] = null;
      writes[this.queueHead + 1] = null;
      this.queueHead += 2;
      this.chunkOffset = 0;
      if (this.queueHead === writes.length) {
        // Drained: the list is dropped, not truncated (setting `length` is a runtime call).
        this.writes = null;
        this.queueHead = 0;
      }
      if (callback !== null) this.call(callback, null);
      // The callback may have queued more (into this list, or a new one once it was dropped).
      writes = this.writes;
    }
    return offset;
  }

  private fillEnd(target: Buffer, offset: number, limit: number): number {
    if (this.framing === BodyFraming.CHUNKED) {
      const trailers = this.trailers ?? NO_FIELDS;
      if (checkedLastChunkLength(trailers) > limit - offset) return offset;
      offset = putLastChunk(target, offset, trailers);
    }
    this.isEndWritten = true;
    const callback = this.endCallback;
    this.endCallback = null;
    if (callback !== null) this.call(callback, null);
    return offset;
  }

  private runPendingCallbacks(): void {
    const callbacks = this.pendingCallbacks ?? [];
    this.pendingCallbacks = null;
    for (const callback of callbacks) this.call(callback, null);
  }

  /** Fails every queued write and the end with `error` (the exchange is over); nothing more is written. */
  fail(error: SluiceError): void {
    const writes = this.writes;
    const callbacks: Http1WriteCallback[] = this.pendingCallbacks ?? [];
    this.pendingCallbacks = null;
    if (writes !== null) {
      for (let i = this.queueHead + 1; i < writes.length; i += 2) {
        const callback = writes[i] as Http1WriteCallback | null;
        if (callback !== null) callbacks.push(callback);
      }
      writes.length = 0;
      this.queueHead = 0;
    }
    if (this.endCallback !== null) callbacks.push(this.endCallback);
    this.endCallback = null;
    this.bufferedBytes = 0;
    this.interim = null;
    this.isHeadQueued = this.isHeadWritten = this.isEndQueued = this.isEndWritten = true;
    for (const callback of callbacks) this.call(callback, error);
  }

  private call(callback: Http1WriteCallback, error: SluiceError | null): void {
    try {
      callback(error);
    } catch (thrown) {
      if (!this.hasThrown) {
        this.hasThrown = true;
        this.thrown = thrown;
      }
    }
  }
}
