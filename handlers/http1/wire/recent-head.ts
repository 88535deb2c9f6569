/**
 * The last response head one connection wrote, kept so that the same head again is copied
 * rather than encoded character by character.
 *
 * @module
 * @internal
 */
import { putResponseHead, type Http1Fields } from './message-encoder.js';

const NO_FIELDS: Http1Fields = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

/**
 * RecentHead writes response heads for one connection's writer and remembers the last: a server
 * answering the same status and fields again (a health check, a fixed reply, the same object
 * within one second of `date`) copies the bytes it wrote before, where encoding costs about two
 * nanoseconds a character. The bytes are kept from the second time a head is seen, so a
 * connection whose heads always differ (a `content-length` per reply) pays only the comparison.
 * One connection's heads are never compared with another's: the writer forgets them when another
 * connection takes it ({@link RecentHead.forget}).
 *
 * @internal
 */
export class RecentHead {
  private status = 0;
  private reason = '';
  private httpMinorVersion = -1;
  /** The fields of the last head (the outgoing message's own copy: never changed after). */
  private fields: Http1Fields = NO_FIELDS;
  /** Its bytes, once it was seen twice; empty until then. */
  private bytes: Uint8Array = NO_BYTES;

  /** {@link putResponseHead}, from the remembered bytes when the head is the last one again. */
  put(
    target: Uint8Array,
    offset: number,
    status: number,
    reason: string,
    fields: Http1Fields,
    httpMinorVersion: number,
  ): number {
    if (!this.isLast(status, reason, fields, httpMinorVersion)) {
      this.status = status;
      this.reason = reason;
      this.fields = fields;
      this.httpMinorVersion = httpMinorVersion;
      this.bytes = NO_BYTES;
      return putResponseHead(target, offset, status, reason, fields, httpMinorVersion);
    }
    const remembered = this.bytes;
    if (remembered.length > 0) {
      target.set(remembered, offset);
      return offset + remembered.length;
    }
    const end = putResponseHead(target, offset, status, reason, fields, httpMinorVersion);
    // A copy (a Buffer's `slice` would be a view of the message, reused once it is written).
    const bytes = new Uint8Array(end - offset);
    for (let i = offset; i < end; i++) bytes[i - offset] = target[i];
    this.bytes = bytes;
    return end;
  }

  /** Forgets the last head (the writer now serves another connection). */
  forget(): void {
    this.status = 0;
    this.reason = '';
    this.fields = NO_FIELDS;
    this.httpMinorVersion = -1;
    this.bytes = NO_BYTES;
  }

  private isLast(status: number, reason: string, fields: Http1Fields, httpMinorVersion: number): boolean {
    const last = this.fields;
    if (status !== this.status || httpMinorVersion !== this.httpMinorVersion || fields.length !== last.length) {
      return false;
    }
    if (reason !== this.reason) return false;
    for (let i = 0; i < fields.length; i++) if (fields[i] !== last[i]) return false;
    return true;
  }
}
