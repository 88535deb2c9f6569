/**
 * HPACK decoder (RFC 7541) for HTTP/2 header blocks, as an adapter over hpack.js's dynamic
 * table and Huffman decoder, without its stream layer.
 *
 * **Strings are byte strings.** Names and values come back as JS strings with one char per
 * octet (Latin-1): no octet is lost or reinterpreted, and UTF-8 values can be recovered with
 * `Buffer.from(value, 'latin1').toString('utf8')`.
 *
 * **Errors.** Any malformed block — bad index, truncated integer or string, integer beyond
 * 2^31−1, invalid Huffman code or padding, a size update after a field or above our advertised
 * limit, a missing required size update — throws {@link Http2ConnectionError} with
 * COMPRESSION_ERROR (RFC 9113 §4.3: the decoding context cannot be trusted any more). A header
 * list larger than the hard limit throws {@link Http2ConnectionError} with ENHANCE_YOUR_CALM
 * (a resource attack, not a coding error; RFC 9113 §10.5). Nothing else is ever thrown. After
 * a throw the decoder stays failed: every later call throws COMPRESSION_ERROR.
 *
 * **Header list size** (RFC 9113 §6.5.2, §10.5.1) is counted while decoding, as name octets +
 * value octets + 32 per field. Above `maxHeaderListSize` the decoder keeps decoding the block —
 * the dynamic table must stay in step with the peer's encoder — but stops collecting fields and
 * returns {@link HEADER_LIST_TOO_LARGE}; the connection then resets that stream (a server may
 * answer 431 first) and the connection carries on.
 *
 * @module
 */
import hpack from 'hpack.js';
import { compactDynamicTable, dynamicTableEntries } from './hpack-table.js';
import { ErrorCode, SETTINGS_DEFAULTS } from './constants.js';
import { Http2ConnectionError } from '../errors.js';
import { latin1String } from '../../../lib/bytes.js';

/**
 * Default SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce: 64 KiB. The connection must
 * advertise the same value it gives the decoder.
 */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 65_536;

/** Default hard limit is this multiple of `maxHeaderListSize` (see {@link HpackDecoderOptions}). */
export const HARD_HEADER_LIST_SIZE_FACTOR = 2;

/**
 * HEADER_LIST_TOO_LARGE is what {@link HpackDecoder.decode} returns instead of a list when the
 * decoded list exceeded `maxHeaderListSize`: the block was decoded (the table is in step) but
 * its fields were dropped. The stream should be reset (REFUSED_STREAM or PROTOCOL_ERROR, or a
 * 431 response first on a server, RFC 9113 §10.5.1); the connection continues.
 */
export const HEADER_LIST_TOO_LARGE: unique symbol = Symbol('HEADER_LIST_TOO_LARGE');

/** Options of {@link HpackDecoder}; every field is optional and defaults as documented. */
export interface HpackDecoderOptions {
  /**
   * Largest header list collected, in octets (name + value + 32 per field): our
   * SETTINGS_MAX_HEADER_LIST_SIZE. Default {@link DEFAULT_MAX_HEADER_LIST_SIZE}.
   */
  maxHeaderListSize?: number;
  /**
   * Header list size that ends the connection with ENHANCE_YOUR_CALM (decoding stops). Default
   * `maxHeaderListSize` × {@link HARD_HEADER_LIST_SIZE_FACTOR}; at least `maxHeaderListSize`.
   */
  hardMaxHeaderListSize?: number;
  /**
   * Dynamic table size both sides start with, before our SETTINGS are acknowledged.
   * Default 4096 (RFC 9113 §6.5.2); other values only for tests and non-HTTP/2 uses.
   */
  initialHeaderTableSize?: number;
}

/** Octets an entry costs beyond its name and value, RFC 7541 §4.1. */
const ENTRY_OVERHEAD = 32;
/** Largest integer accepted in a block (RFC 7541 §5.1 lets us set this limit). */
const MAX_INTEGER = 0x7fff_ffff;
/** Placeholder cursor buffer between blocks. */
const NO_BLOCK = Buffer.alloc(0);
/** Root of hpack.js's Huffman decoding tree. */
const HUFFMAN_ROOT = hpack.huffman.decode;

/**
 * Collects the octets of one Huffman-decoded string into a reusable buffer; hpack.js's
 * `decodeHuffmanWord` pushes into it as if it were an array (no array of numbers per string).
 */
class OctetCollector implements hpack.OctetSink {
  bytes: Buffer = Buffer.allocUnsafe(256);
  length = 0;

  push(octet: number): void {
    if (this.length === this.bytes.length) {
      const grown = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    this.bytes[this.length++] = octet;
  }
}

/**
 * hpack.js's bit decoder (used for its Huffman step only) and the octets of the string being
 * decoded. One of each serves every decoder: a string is decoded synchronously from start to
 * finish, so no two decodes ever share them at once, and connections do not each carry a copy.
 */
const HUFFMAN_WALKER: hpack.Decoder = hpack.decoder.create();
const HUFFMAN_OCTETS = new OctetCollector();
/** Never-indexed flags before the first block. */
const NO_FLAGS = new Uint8Array(0);

/**
 * HpackDecoder turns header blocks into flat header lists `[name0, value0, name1, value1, …]`
 * for one HTTP/2 connection (one decoding context, RFC 7541 §2.2), on its event loop only.
 *
 * The caller hands it complete blocks (HEADERS/PUSH_PROMISE plus CONTINUATION payloads,
 * concatenated, in the order received: the table is shared by all streams). The block's wire
 * size and CONTINUATION count are bounded by the frame decoder, before this is called.
 *
 * @example
 * ```ts
 * const decoder = new HpackDecoder({ maxHeaderListSize: 16_384 });
 * const fields = decoder.decode(block); // throws Http2ConnectionError → GOAWAY
 * if (fields === HEADER_LIST_TOO_LARGE) resetStream(streamId);
 * else onHeaders(streamId, fields);
 * ```
 */
export class HpackDecoder {
  /** hpack.js's table: `lookup`, `add`, `updateSize`; `protocolMaxSize` is our advertised limit. */
  private readonly table: hpack.Table;
  private listSizeLimit: number;
  private hardListSizeLimit: number;
  /** Set when our advertised size fell below the table's size: the next block must resize. */
  private isSizeUpdateRequired = false;
  private hasFailed = false;
  /**
   * Never-indexed flags of the last list, one per field up to its last never-indexed one; see
   * {@link HpackDecoder.isNeverIndexed}. Made by the first never-indexed field a connection sees
   * (most never see one, and an idle connection keeps what it made).
   */
  private neverIndexedFlags = NO_FLAGS;
  /** Whether the list being decoded (then the last one) has a never-indexed field. */
  private hasNeverIndexed = false;
  private lastFieldCount = 0;

  // Per-block cursor (fields, not locals, so the small readers can share them without closures).
  private block: Buffer = NO_BLOCK;
  private position = 0;
  private end = 0;

  /** Creates a decoder with an empty dynamic table of the protocol's initial size. */
  constructor(options: HpackDecoderOptions = {}) {
    const initialSize = options.initialHeaderTableSize ?? SETTINGS_DEFAULTS.HEADER_TABLE_SIZE;
    this.table = hpack.table.create({ maxSize: initialSize });
    this.listSizeLimit = options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    this.hardListSizeLimit = hardLimitFor(this.listSizeLimit, options.hardMaxHeaderListSize);
  }

  /** Octets the dynamic table holds now (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Current maximum size of the dynamic table (the last size update received). */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /**
   * Sets the SETTINGS_HEADER_TABLE_SIZE we advertised; call it when the peer ACKs the SETTINGS
   * frame that carried it (RFC 9113 §6.5.3). Size updates above it become COMPRESSION_ERROR.
   * When it is below the table's current size, the peer's next block must begin with a size
   * update within it (RFC 7541 §4.2), else COMPRESSION_ERROR.
   */
  setMaxTableSize(size: number): void {
    this.table.protocolMaxSize = size;
    if (size < this.table.maxSize) this.isSizeUpdateRequired = true;
  }

  /**
   * Sets the SETTINGS_MAX_HEADER_LIST_SIZE we enforce, and optionally the hard limit (default
   * as in {@link HpackDecoderOptions}). Takes effect with the next block.
   */
  setMaxHeaderListSize(size: number, hardSize?: number): void {
    this.listSizeLimit = size;
    this.hardListSizeLimit = hardLimitFor(size, hardSize);
  }

  /**
   * Decodes one complete header block, `block[start..end)`. Returns a new flat list `[name0, value0, …]` the caller
   * owns, or {@link HEADER_LIST_TOO_LARGE}. Synchronous; updates the dynamic table. Throws only
   * {@link Http2ConnectionError} (see the module notes), after which the connection must end.
   */
  decode(block: Uint8Array, start = 0, end: number = block.byteLength): string[] | typeof HEADER_LIST_TOO_LARGE {
    if (this.hasFailed) throw compressionError('decoder already failed');
    try {
      return this.decodeBlock(block, start, end);
    } catch (error) {
      this.hasFailed = true;
      if (error instanceof Http2ConnectionError) throw error;
      // hpack.js asserts with plain Errors (e.g. EOS inside a Huffman string).
      const reason = error instanceof Error ? error.message : String(error);
      throw new Http2ConnectionError(ErrorCode.COMPRESSION_ERROR, `HPACK: ${reason}`, { cause: error });
    }
  }

  /**
   * Whether field `fieldIndex` (0 for the first pair) of the last decoded list was sent as a
   * never-indexed literal (RFC 7541 §6.2.3): an intermediary re-encoding it must keep it so.
   */
  isNeverIndexed(fieldIndex: number): boolean {
    return this.hasNeverIndexed && fieldIndex < this.lastFieldCount && this.neverIndexedFlags[fieldIndex] === 1;
  }

  /**
   * Returns the dynamic table as a flat list `[name, value, …]` in index order (index 62
   * first), for tests and diagnostics. Allocates.
   */
  tableEntries(): string[] {
    return dynamicTableEntries(this.table);
  }

  /** The decoding loop, RFC 7541 §6; one iteration per representation. */
  private decodeBlock(input: Uint8Array, start: number, end: number): string[] | typeof HEADER_LIST_TOO_LARGE {
    this.block = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.position = start;
    this.end = end;
    const table = this.table;
    // Sized for as many fields as the last list had: a peer's requests mostly carry the same
    // fields, and `[]` grown by pushes reserves 17 slots and more (V8 grows by half plus 16).
    let fields: string[] | null = new Array<string>(this.lastFieldCount * 2);
    let fieldCount = 0;
    let listSize = 0;
    this.hasNeverIndexed = false;

    while (this.position < this.end) {
      const first = this.block[this.position];
      let name: string;
      let value: string;
      let isNeverIndexed = false;
      if ((first & 0x80) !== 0) {
        // §6.1 Indexed Header Field.
        const entry = this.entryAt(this.readInteger(7));
        name = entry.name;
        value = entry.value;
      } else if ((first & 0x40) !== 0) {
        // §6.2.1 Literal with Incremental Indexing.
        const index = this.readInteger(6);
        name = index === 0 ? this.readString() : this.entryAt(index).name;
        value = this.readString();
        table.add(name, value, name.length, value.length);
      } else if ((first & 0x20) !== 0) {
        // §6.3 Dynamic Table Size Update: only before the first field (§4.2).
        if (fieldCount > 0) throw compressionError('dynamic table size update after a header field');
        const size = this.readInteger(5);
        if (size > table.protocolMaxSize) {
          throw compressionError(`dynamic table size update to ${size} above the advertised ${table.protocolMaxSize}`);
        }
        table.updateSize(size);
        this.isSizeUpdateRequired = false;
        continue;
      } else {
        // §6.2.2 Literal without Indexing (0000) / §6.2.3 Never Indexed (0001).
        isNeverIndexed = (first & 0x10) !== 0;
        const index = this.readInteger(4);
        name = index === 0 ? this.readString() : this.entryAt(index).name;
        value = this.readString();
      }
      if (this.isSizeUpdateRequired) {
        throw compressionError('block does not start with the required dynamic table size update');
      }

      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.listSizeLimit) {
        if (listSize > this.hardListSizeLimit) {
          throw new Http2ConnectionError(
            ErrorCode.ENHANCE_YOUR_CALM,
            `header list exceeds ${this.hardListSizeLimit} octets (RFC 9113 §10.5.1)`,
          );
        }
        fields = null; // keep decoding for the table's sake; stop collecting
      }
      if (fields !== null) {
        fields[fieldCount * 2] = name;
        fields[fieldCount * 2 + 1] = value;
        this.recordNeverIndexed(fieldCount, isNeverIndexed);
      }
      fieldCount++;
    }
    this.block = NO_BLOCK; // do not keep the caller's memory alive
    if (fields === null) {
      this.lastFieldCount = 0;
      return HEADER_LIST_TOO_LARGE;
    }
    if (fields.length !== fieldCount * 2) fields.length = fieldCount * 2; // fewer fields than the last list
    if (this.lastFieldCount === 0) compactDynamicTable(table); // the first block (or one after a too-large list)
    this.lastFieldCount = fieldCount;
    return fields;
  }

  /** Table entry for an index from the wire; 0 and indexes past the table are errors (§2.3.3). */
  private entryAt(index: number): hpack.TableEntry {
    if (index === 0) throw compressionError('index 0');
    if (index > this.table.length) throw compressionError(`index ${index} beyond the table (${this.table.length})`);
    return this.table.lookup(index);
  }

  /** Reads an integer with an N-bit prefix at the cursor, RFC 7541 §5.1. */
  private readInteger(prefixBits: number): number {
    const block = this.block;
    const prefixMax = (1 << prefixBits) - 1;
    let value = block[this.position++] & prefixMax;
    if (value < prefixMax) return value;
    let multiplier = 1;
    for (;;) {
      if (this.position >= this.end) throw compressionError('truncated integer');
      const octet = block[this.position++];
      value += (octet & 0x7f) * multiplier;
      if (value > MAX_INTEGER) throw compressionError('integer too large');
      if ((octet & 0x80) === 0) return value;
      multiplier *= 0x80;
      // Zero-valued continuation octets would otherwise let a peer pad forever.
      if (multiplier > 0x1000_0000) throw compressionError('integer too long');
    }
  }

  /** Reads a string literal at the cursor (RFC 7541 §5.2) as a byte string. */
  private readString(): string {
    if (this.position >= this.end) throw compressionError('truncated string');
    const isHuffman = (this.block[this.position] & 0x80) !== 0;
    const length = this.readInteger(7);
    const start = this.position;
    const stop = start + length;
    if (stop > this.end) throw compressionError('string runs past the block');
    this.position = stop;
    if (!isHuffman) return latin1(this.block, start, stop);
    return this.decodeHuffman(start, stop);
  }

  /**
   * Decodes a Huffman string with hpack.js's tree walker. RFC 7541 §5.2: padding longer than 7
   * bits, padding that is not the EOS prefix (all 1 bits), and EOS itself are decoding errors.
   */
  private decodeHuffman(start: number, stop: number): string {
    const walker = HUFFMAN_WALKER;
    const octets = HUFFMAN_OCTETS;
    const block = this.block;
    octets.length = 0;
    walker._huffmanNode = HUFFMAN_ROOT;
    let word = 0;
    let bits = 0;
    for (let i = start; i < stop; i++) {
      word = (word << 8) | block[i];
      bits = walker.decodeHuffmanWord(word, bits + 8, octets);
      word &= (1 << bits) - 1;
    }
    if (walker._huffmanNode !== HUFFMAN_ROOT || bits > 7) throw compressionError('Huffman padding longer than 7 bits');
    if (word + 1 !== 1 << bits) throw compressionError('Huffman padding is not the EOS prefix');
    return latin1(octets.bytes, 0, octets.length);
  }

  private recordNeverIndexed(fieldIndex: number, isNeverIndexed: boolean): void {
    if (!this.hasNeverIndexed) {
      if (!isNeverIndexed) return; // the fields before the first never-indexed one read as 0
      this.hasNeverIndexed = true;
      this.neverIndexedFlags.fill(0, 0, Math.min(fieldIndex, this.neverIndexedFlags.length));
    }
    if (fieldIndex >= this.neverIndexedFlags.length) {
      const grown = new Uint8Array(Math.max(32, fieldIndex + 1, this.neverIndexedFlags.length * 2));
      grown.set(this.neverIndexedFlags);
      this.neverIndexedFlags = grown;
    }
    this.neverIndexedFlags[fieldIndex] = isNeverIndexed ? 1 : 0;
  }
}

/**
 * Strings of up to four characters are built char by char (a little cheaper than the native
 * call); longer ones natively — a char-by-char build of a longer one costs more and leaves a
 * string per character behind (≈ 800 bytes of garbage for a connection's first request).
 */
function latin1(bytes: Buffer, start: number, stop: number): string {
  if (stop - start > 4) return latin1String(bytes, start, stop);
  let text = '';
  for (let i = start; i < stop; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

function hardLimitFor(limit: number, hardLimit: number | undefined): number {
  return Math.max(limit, hardLimit ?? limit * HARD_HEADER_LIST_SIZE_FACTOR);
}

function compressionError(reason: string): Http2ConnectionError {
  return new Http2ConnectionError(ErrorCode.COMPRESSION_ERROR, `HPACK: ${reason} (RFC 7541)`);
}
