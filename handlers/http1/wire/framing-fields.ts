/**
 * The fields that frame an HTTP/1.1 message or steer its connection — `Content-Length`,
 * `Transfer-Encoding`, `Host`, `Connection`, `Upgrade`, `Expect` — read from one header section,
 * and the request-smuggling rules they must obey (RFC 9112 §3.2, §6.1, §6.3, §11.2).
 *
 * @module
 */
import { bytesOf, equalsIgnoringCase, isDigit, isWhitespace } from './char-classes.js';
import { Http1ParseError, Http1ParseErrors } from '../errors.js';

const HOST = bytesOf('host');
const EXPECT = bytesOf('expect');
const UPGRADE = bytesOf('upgrade');
const CONNECTION = bytesOf('connection');
const CONTENT_LENGTH = bytesOf('content-length');
const TRANSFER_ENCODING = bytesOf('transfer-encoding');
const CHUNKED = bytesOf('chunked');
const CLOSE = bytesOf('close');
const KEEP_ALIVE = bytesOf('keep-alive');
const CONTINUE = bytesOf('100-continue');
const COMMA = 0x2c;

/**
 * FramingFields collects, field by field, what one header section says about framing and the
 * connection; the message parser owns one and resets it per message. Methods throw an
 * {@link Http1ParseError} for a rule a single field breaks; {@link FramingFields.checkTransferEncoding}
 * checks the rules that need the whole section.
 */
export class FramingFields {
  /** Host field lines seen (requests). */
  hostCount = 0;
  /** The Content-Length value, -1 when absent. */
  contentLength = -1;
  /** A Transfer-Encoding field was present (even an empty one). */
  hasTransferEncoding = false;
  /** Non-empty transfer codings listed, over all Transfer-Encoding lines. */
  transferCodingCount = 0;
  /** How often `chunked` was listed. */
  chunkedCount = 0;
  /** Whether the last coding listed is `chunked`. */
  isChunkedLast = false;
  /** Whether a coding other than `chunked` was listed. */
  hasUnknownCoding = false;
  /** `Connection: close`. */
  hasConnectionClose = false;
  /** `Connection: keep-alive`. */
  hasConnectionKeepAlive = false;
  /** `Connection: upgrade`. */
  hasConnectionUpgrade = false;
  /** A non-empty Upgrade field. */
  hasUpgradeField = false;
  /** `Expect: 100-continue`. */
  expectContinue = false;

  /** Forgets the previous message's fields. */
  reset(): void {
    this.hostCount = 0;
    this.contentLength = -1;
    this.hasTransferEncoding = false;
    this.transferCodingCount = 0;
    this.chunkedCount = 0;
    this.isChunkedLast = false;
    this.hasUnknownCoding = false;
    this.hasConnectionClose = false;
    this.hasConnectionKeepAlive = false;
    this.hasConnectionUpgrade = false;
    this.hasUpgradeField = false;
    this.expectContinue = false;
  }

  /**
   * Notes one field line, `name` = `bytes[nameStart..nameEnd)` (a token) and its value
   * `bytes[valueStart..valueEnd)` (trimmed, no control bytes), if it is one of the framing fields.
   */
  inspect(
    bytes: Uint8Array,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
    isRequest: boolean,
  ): void {
    // Dispatch on the name's length first: most fields are none of these and cost one compare.
    switch (nameEnd - nameStart) {
      case 4:
        if (equalsIgnoringCase(bytes, nameStart, nameEnd, HOST) && isRequest && ++this.hostCount > 1) {
          // RFC 9112 §3.2: more than one Host field line is a 400.
          throw new Http1ParseError(Http1ParseErrors.REPEATED_HOST, 'more than one Host field line');
        }
        return;
      case 6:
        if (
          equalsIgnoringCase(bytes, nameStart, nameEnd, EXPECT) &&
          equalsIgnoringCase(bytes, valueStart, valueEnd, CONTINUE)
        )
          this.expectContinue = true;
        return;
      case 7:
        if (equalsIgnoringCase(bytes, nameStart, nameEnd, UPGRADE)) this.hasUpgradeField = valueEnd > valueStart;
        return;
      case 10:
        if (equalsIgnoringCase(bytes, nameStart, nameEnd, CONNECTION)) this.readConnection(bytes, valueStart, valueEnd);
        return;
      case 14:
        if (equalsIgnoringCase(bytes, nameStart, nameEnd, CONTENT_LENGTH))
          this.readContentLength(bytes, valueStart, valueEnd);
        return;
      case 17:
        if (equalsIgnoringCase(bytes, nameStart, nameEnd, TRANSFER_ENCODING))
          this.readTransferEncoding(bytes, valueStart, valueEnd);
        return;
    }
  }

  /**
   * RFC 9110 §8.6: `1*DIGIT`. A list or repeated lines of one identical value count as that value
   * (the RFC allows either this or rejecting; identical values frame the message the same way in
   * every parser, so accepting them cannot smuggle anything). Differing values are a 400.
   */
  private readContentLength(bytes: Uint8Array, start: number, end: number): void {
    let at = start;
    do {
      while (at < end && isWhitespace(bytes[at])) at++;
      const digitsStart = at;
      let value = 0;
      while (at < end && isDigit(bytes[at])) {
        value = value * 10 + bytes[at] - 0x30;
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new Http1ParseError(Http1ParseErrors.INVALID_CONTENT_LENGTH, 'a Content-Length above 2^53-1');
        }
        at++;
      }
      if (at === digitsStart) {
        throw new Http1ParseError(Http1ParseErrors.INVALID_CONTENT_LENGTH, 'a Content-Length element without digits');
      }
      while (at < end && isWhitespace(bytes[at])) at++;
      if (at < end && bytes[at] !== COMMA) {
        throw new Http1ParseError(Http1ParseErrors.INVALID_CONTENT_LENGTH, 'a Content-Length that is not a number');
      }
      at++; // past the comma
      if (this.contentLength >= 0 && this.contentLength !== value) {
        throw new Http1ParseError(
          Http1ParseErrors.CONFLICTING_CONTENT_LENGTH,
          `Content-Length values ${this.contentLength} and ${value}`,
        );
      }
      this.contentLength = value;
    } while (at < end);
    if (bytes[end - 1] === COMMA) {
      throw new Http1ParseError(Http1ParseErrors.INVALID_CONTENT_LENGTH, 'a Content-Length list ending with a comma');
    }
  }

  /** RFC 9112 §6.1: a list of transfer codings, possibly over several lines; judged by {@link checkTransferEncoding}. */
  private readTransferEncoding(bytes: Uint8Array, start: number, end: number): void {
    this.hasTransferEncoding = true;
    let at = start;
    while (at < end) {
      let elementEnd = at;
      while (elementEnd < end && bytes[elementEnd] !== COMMA) elementEnd++;
      let from = at;
      let to = elementEnd;
      while (from < to && isWhitespace(bytes[from])) from++;
      while (to > from && isWhitespace(bytes[to - 1])) to--;
      // RFC 9110 §5.6.1: empty list elements are ignored.
      if (to > from) {
        this.transferCodingCount++;
        this.isChunkedLast = equalsIgnoringCase(bytes, from, to, CHUNKED);
        if (this.isChunkedLast) this.chunkedCount++;
        else this.hasUnknownCoding = true;
      }
      at = elementEnd + 1;
    }
  }

  /** RFC 9110 §7.6.1: connection options; only close, keep-alive and upgrade matter here. */
  private readConnection(bytes: Uint8Array, start: number, end: number): void {
    let at = start;
    while (at < end) {
      let elementEnd = at;
      while (elementEnd < end && bytes[elementEnd] !== COMMA) elementEnd++;
      let from = at;
      let to = elementEnd;
      while (from < to && isWhitespace(bytes[from])) from++;
      while (to > from && isWhitespace(bytes[to - 1])) to--;
      if (equalsIgnoringCase(bytes, from, to, CLOSE)) this.hasConnectionClose = true;
      else if (equalsIgnoringCase(bytes, from, to, KEEP_ALIVE)) this.hasConnectionKeepAlive = true;
      else if (equalsIgnoringCase(bytes, from, to, UPGRADE)) this.hasConnectionUpgrade = true;
      at = elementEnd + 1;
    }
  }

  /**
   * The Transfer-Encoding rules that need the whole header section (RFC 9112 §6.1, §6.3, §7), in
   * this order: not in HTTP/1.0; not with Content-Length; not empty; `chunked` last; `chunked`
   * once; no other coding (sluice decodes only `chunked`, so any other is 501).
   */
  checkTransferEncoding(isHttp11: boolean): void {
    if (!isHttp11) {
      // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
      throw new Http1ParseError(Http1ParseErrors.INVALID_TRANSFER_ENCODING, 'Transfer-Encoding in an HTTP/1.0 message');
    }
    if (this.contentLength >= 0) {
      // RFC 9112 §6.1, §11.2: both is how requests are smuggled; rejected in either role.
      throw new Http1ParseError(
        Http1ParseErrors.CONTENT_LENGTH_WITH_TRANSFER_ENCODING,
        'both Content-Length and Transfer-Encoding',
      );
    }
    if (this.transferCodingCount === 0) {
      throw new Http1ParseError(Http1ParseErrors.INVALID_TRANSFER_ENCODING, 'an empty Transfer-Encoding');
    }
    if (!this.isChunkedLast) {
      // RFC 9112 §6.3, rule 4: in a request the length cannot be determined: 400. A response would
      // run until close, but with a coding sluice cannot decode: rejected the same way.
      throw new Http1ParseError(Http1ParseErrors.CHUNKED_NOT_FINAL, 'chunked is not the final transfer coding');
    }
    if (this.chunkedCount > 1) {
      // RFC 9112 §7: chunked must not be applied more than once.
      throw new Http1ParseError(Http1ParseErrors.INVALID_TRANSFER_ENCODING, 'chunked applied more than once');
    }
    if (this.hasUnknownCoding) {
      // RFC 9112 §6.1: a server answers 501 to a coding it does not understand.
      throw new Http1ParseError(Http1ParseErrors.UNKNOWN_TRANSFER_CODING, 'a transfer coding other than chunked');
    }
  }
}
