/**
 * A connection's header state: both HPACK contexts, the caches that let repeated header lists
 * skip work, and the HPACK settings that arrive before the contexts exist.
 *
 * @module
 * @internal
 */
import { SluiceError } from '../../../lib/index.js';
import { Http2ApiErrors } from '../errors.js';
import { HpackDecoder, type HEADER_LIST_TOO_LARGE } from '../wire/hpack-decoder.js';
import { HpackEncoder } from '../wire/hpack-encoder.js';
import type { Http2Headers } from './connection-options.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import { CONTENT_LENGTH_ABSENT, HeaderBlockKind, HeaderBlockSummary, validateHeaderBlock } from './header-rules.js';
import type { Http2Stream } from './http2-stream.js';

/** An HPACK setting change the header state applies, or keeps until it is made. @internal */
export const enum HpackSetting {
  /** The peer's SETTINGS_HEADER_TABLE_SIZE: our encoder's table limit. */
  PEER_TABLE_SIZE,
  /** Our acknowledged SETTINGS_HEADER_TABLE_SIZE: our decoder's table limit. */
  OWN_TABLE_SIZE,
  /** Our acknowledged SETTINGS_MAX_HEADER_LIST_SIZE: our decoder's list limit. */
  OWN_HEADER_LIST_SIZE,
}

/**
 * What validation learned of the header list it checked last. One serves every connection:
 * validation and the reads of its result happen in one synchronous step.
 *
 * @internal
 */
export const SUMMARY = new HeaderBlockSummary();

/**
 * HPACK setting changes that came before the HPACK contexts were made: the smallest and the last
 * value of each (-1: none). Applying the smallest and then the last gives the state every
 * sequence of changes would have given (a table size update signals exactly those two, RFC 7541
 * §4.2), so contexts made late are as if they had existed all along.
 */
class DeferredHpackSettings {
  peerTableMin = -1;
  peerTableLast = -1;
  ownTableMin = -1;
  ownTableLast = -1;
  ownListSize = -1;
}

/**
 * HeaderState is one connection's header machinery. The HPACK contexts (RFC 7541 §2.2) and the
 * caches are made by the first header block in either direction — an idle connection never
 * needs them — so HPACK setting changes that come earlier are kept until then in a
 * {@link DeferredHpackSettings}, which the contexts' making drops (a connection that carried a
 * request keeps neither its object nor five fields for it).
 *
 * @internal
 */
export class HeaderState {
  private contexts: HeaderContexts | null = null;
  private deferred: DeferredHpackSettings | null = null;

  /** Header state for a connection with `options` (nothing is made until the first block). */
  constructor(private readonly options: ResolvedHttp2Options) {}

  /** Decodes a received header block (always: the HPACK context must stay in sync, RFC 9113 §4.3). */
  decode(block: Uint8Array, start: number, end: number): string[] | typeof HEADER_LIST_TOO_LARGE {
    return this.made().decoder.decode(block, start, end);
  }

  /** HPACK-encodes `headers` now, so the table order matches the wire order. */
  encode(headers: Http2Headers): Uint8Array {
    return this.made().encoder.encode(headers);
  }

  /** Applies an HPACK setting now, or keeps it for when the contexts are made. */
  apply(setting: HpackSetting, value: number): void {
    if (this.contexts !== null) {
      this.contexts.apply(setting, value);
      return;
    }
    const deferred = (this.deferred ??= new DeferredHpackSettings());
    if (setting === HpackSetting.PEER_TABLE_SIZE) {
      deferred.peerTableMin = deferred.peerTableMin < 0 ? value : Math.min(deferred.peerTableMin, value);
      deferred.peerTableLast = value;
    } else if (setting === HpackSetting.OWN_TABLE_SIZE) {
      deferred.ownTableMin = deferred.ownTableMin < 0 ? value : Math.min(deferred.ownTableMin, value);
      deferred.ownTableLast = value;
    } else {
      deferred.ownListSize = value;
    }
  }

  /**
   * Validates and encodes a header block the application sends on `stream` (a request,
   * response or trailers, by `kind`) and returns the bytes to queue. Throws
   * `HTTP2_INVALID_HEADERS` before anything changes: a refused block leaves no trace. A list equal
   * to the last one sent, with the HPACK table unchanged since, reuses its bytes.
   */
  encodeForStream(stream: Http2Stream, headers: Http2Headers, kind: HeaderBlockKind, isEndStream: boolean): Uint8Array {
    const contexts = this.made();
    const encoder = contexts.encoder;
    if (contexts.isSentAgain(headers, kind)) {
      // The same list again with the HPACK table unchanged: the bytes already sent are valid.
      if (contexts.sentStatus >= 200) markFinalResponseSent(stream, contexts.sentStatus);
      SUMMARY.priority = contexts.sentPriority;
      return contexts.sentBlock;
    }
    const violation = validateHeaderBlock(headers, kind, false, SUMMARY);
    if (violation !== null) throw new SluiceError(Http2ApiErrors.INVALID_HEADERS, `stream ${stream.id}: ${violation}`);
    const status = SUMMARY.status;
    const isResponse = kind === HeaderBlockKind.RESPONSE;
    if (isResponse && status < 200 && isEndStream) {
      throw new SluiceError(
        Http2ApiErrors.INVALID_HEADERS,
        `stream ${stream.id}: a 1xx response cannot end the stream`,
      );
    }
    if (isResponse && status >= 200) markFinalResponseSent(stream, status);
    // RFC 9110 §8.6: no content-length on a 1xx or 204 response. A 304's describes the
    // representation it validates and is kept. Rare: the copy costs nothing on the common path.
    const sentHeaders =
      isResponse && SUMMARY.contentLength !== CONTENT_LENGTH_ABSENT && (status < 200 || status === 204)
        ? withoutField(headers, 'content-length')
        : headers;
    const generation = encoder.generation;
    const block = encoder.encode(sentHeaders);
    // An encoding that left the table as it was can be sent again while it stays so.
    if (encoder.generation === generation) contexts.rememberSent(headers, kind, status, SUMMARY.priority, block);
    return block;
  }

  /**
   * Whether received request `fields` are valid; {@link SUMMARY} then holds their method,
   * content-length and priority. A request whose decoded fields are the very strings of the last valid request
   * (repeated requests decode to the same table entries) is valid too: compared, not re-validated.
   */
  isValidRequest(fields: readonly string[]): boolean {
    const contexts = this.made();
    if (contexts.matchesLastRequest(fields)) {
      SUMMARY.method = contexts.requestMethod;
      SUMMARY.contentLength = contexts.requestContentLength;
      SUMMARY.priority = contexts.requestPriority;
      return true;
    }
    // RFC 8441 §3: `:protocol` is allowed once we announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1,
    // which the initial SETTINGS do when the option is on (a client must wait for it to use it).
    const isExtendedConnectEnabled = this.options.enableConnectProtocol;
    if (validateHeaderBlock(fields, HeaderBlockKind.REQUEST, isExtendedConnectEnabled, SUMMARY) !== null) return false;
    contexts.rememberRequest(fields, SUMMARY);
    return true;
  }

  /** The contexts, made (and brought up to date with deferred settings) on first use. */
  private made(): HeaderContexts {
    let contexts = this.contexts;
    if (contexts !== null) return contexts;
    contexts = new HeaderContexts(this.options);
    this.contexts = contexts;
    const deferred = this.deferred;
    if (deferred === null) return contexts;
    this.deferred = null;
    if (deferred.peerTableMin >= 0) {
      contexts.apply(HpackSetting.PEER_TABLE_SIZE, deferred.peerTableMin);
      contexts.apply(HpackSetting.PEER_TABLE_SIZE, deferred.peerTableLast);
    }
    if (deferred.ownTableMin >= 0) {
      contexts.apply(HpackSetting.OWN_TABLE_SIZE, deferred.ownTableMin);
      contexts.apply(HpackSetting.OWN_TABLE_SIZE, deferred.ownTableLast);
    }
    if (deferred.ownListSize >= 0) contexts.apply(HpackSetting.OWN_HEADER_LIST_SIZE, deferred.ownListSize);
    return contexts;
  }
}

/** What the two caches hold before their first use: shared, so idle connections allocate nothing. */
const NO_FIELDS: readonly string[] = Object.freeze([]);
const NO_BLOCK = Buffer.alloc(0);

/**
 * Both HPACK contexts and the header caches, made once header blocks flow. The caches' fields
 * are this object's own (not two cache objects beside it): every connection that served a
 * request keeps them, and an object costs 32 octets before its first field.
 *
 * The sent-headers cache is the last header list sent whose encoding did not change the HPACK
 * table: while the table stays unchanged, sending an equal list again reuses its bytes and skips
 * validation and encoding — the common case of a server answering with constant headers.
 * Equality is checked field by field against a copy (cheap: equal strings are usually the same
 * strings), so an application that reuses and edits one array is still encoded correctly.
 *
 * The request cache is the last request header list that passed validation, with what
 * validation learned of it.
 */
class HeaderContexts {
  readonly encoder: HpackEncoder;
  readonly decoder: HpackDecoder;
  /** A copy of the last header list we sent (see above). */
  private sentList: readonly string[] = NO_FIELDS;
  private sentKind = -1;
  /** The encoder's generation when {@link HeaderContexts.sentBlock} was encoded. */
  private sentGeneration = -1;
  sentStatus = -1;
  sentPriority: string | null = null;
  /** The bytes the last sent list encoded to. */
  sentBlock: Buffer = NO_BLOCK;
  /** A copy of the last valid request's fields. */
  private requestFields: readonly string[] = NO_FIELDS;
  requestMethod = '';
  requestContentLength = -1;
  requestPriority: string | null = null;

  constructor(options: ResolvedHttp2Options) {
    this.encoder = new HpackEncoder({ sensitiveHeaderNames: options.sensitiveHeaderNames });
    this.decoder = new HpackDecoder({ maxHeaderListSize: options.maxHeaderListSize });
  }

  apply(setting: HpackSetting, value: number): void {
    if (setting === HpackSetting.PEER_TABLE_SIZE) this.encoder.applyPeerHeaderTableSize(value);
    else if (setting === HpackSetting.OWN_TABLE_SIZE) this.decoder.setMaxTableSize(value);
    else this.decoder.setMaxHeaderListSize(value);
  }

  /** True when `headers` of `kind` equal the last list sent and the HPACK table is as it left it. */
  isSentAgain(headers: Http2Headers, kind: HeaderBlockKind): boolean {
    return (
      kind === this.sentKind &&
      this.encoder.generation === this.sentGeneration &&
      isSameFieldList(this.sentList, headers)
    );
  }

  /** Remembers a list just sent, encoded to `block` without changing the HPACK table. */
  rememberSent(
    headers: Http2Headers,
    kind: HeaderBlockKind,
    status: number,
    priority: string | null,
    block: Uint8Array,
  ): void {
    this.sentList = headers.slice();
    this.sentKind = kind;
    this.sentGeneration = this.encoder.generation;
    this.sentStatus = status;
    this.sentPriority = priority;
    if (this.sentBlock.length !== block.length) this.sentBlock = Buffer.allocUnsafe(block.length);
    this.sentBlock.set(block);
  }

  /** True when `fields` holds the same strings, in order, as the last valid request. */
  matchesLastRequest(fields: readonly string[]): boolean {
    return this.requestFields.length > 0 && isSameFieldList(this.requestFields, fields);
  }

  /** Remembers a request that passed validation, and what `summary` learned of it. */
  rememberRequest(fields: readonly string[], summary: HeaderBlockSummary): void {
    this.requestFields = fields.slice();
    this.requestMethod = summary.method;
    this.requestContentLength = summary.contentLength;
    this.requestPriority = summary.priority;
  }
}

/**
 * Our final response headers are out. A 204 or 304 response has no content (RFC 9110 §6.4.1,
 * RFC 9113 §8.1.1): what the application writes is discarded, as for HEAD.
 */
function markFinalResponseSent(stream: Http2Stream, status: number): void {
  stream._hasSentFinalHeaders = true;
  if (status === 204 || status === 304) {
    stream._discardsWrites = true;
    if (stream._pendingBytes > 0) stream._discardQueuedWrites();
  }
}

/** A copy of `headers` without the fields named `name`. */
function withoutField(headers: Http2Headers, name: string): string[] {
  const result: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] !== name) result.push(headers[i], headers[i + 1]);
  return result;
}

/** Equal header lists, element by element (equal strings are usually the same strings: cheap). */
function isSameFieldList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
