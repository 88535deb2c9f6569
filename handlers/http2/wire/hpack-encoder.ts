/**
 * HPACK encoder (RFC 7541) for HTTP/2 header blocks, as an adapter over hpack.js's dynamic
 * table, static table and Huffman code, without its stream layer.
 *
 * **Strings are byte strings.** A header name or value is a JS string holding one octet per
 * char (Latin-1, 0x00–0xFF), exactly what {@link HpackDecoder} returns. A string that contains
 * a code unit above 0xFF is not truncated (hpack.js would split it into two octets, silently
 * corrupting it): it is sent as its UTF-8 octets, so the peer receives valid UTF-8 and our own
 * decoder returns the Latin-1 view of those octets. Callers that want such strings rejected
 * validate them first (`validateHeaderBlock` in `header-rules.ts` rejects them).
 *
 * **Traps of hpack.js covered here:** the table is created with `maxSize` (its README's `size`
 * disables eviction); a table size change is signalled with Dynamic Table Size Updates at the
 * start of the next block (RFC 7541 §4.2, §6.3), which hpack.js never does; the static table's
 * reverse map is a plain object (a field named `constructor` or `__proto__` would hit
 * `Object.prototype`), so lookups go through `Map`s built once from it; sensitive fields are
 * never-indexed (hpack.js indexes everything); Huffman coding is used only when shorter.
 *
 * @module
 */
import hpack from 'hpack.js';
import { compactDynamicTable, dynamicTableEntries } from './hpack-table.js';
import { SETTINGS_DEFAULTS } from './constants.js';

/** Octets an entry costs beyond its name and value, RFC 7541 §4.1. */
export const HPACK_ENTRY_OVERHEAD = 32;

/**
 * Field names the encoder never indexes by default (RFC 7541 §7.1.3): credentials that an
 * attacker could otherwise probe for through the shared compression context.
 */
export const DEFAULT_SENSITIVE_HEADER_NAMES: readonly string[] = ['authorization', 'proxy-authorization'];
/** The output buffer before the first encode. */
const NO_OUTPUT = Buffer.alloc(0);
const DEFAULT_SENSITIVE_NAME_SET: ReadonlySet<string> = new Set(DEFAULT_SENSITIVE_HEADER_NAMES);

/**
 * Cookie values shorter than this many octets are never-indexed (RFC 7541 §7.1.3: short values
 * have little entropy and can be guessed one probe at a time); longer ones are indexed, since
 * they are repeated on every request and are impractical to guess.
 */
export const NEVER_INDEXED_COOKIE_LENGTH = 20;

/** Default for {@link HpackEncoderOptions.maxTableSize}: the protocol default, 4096 octets. */
export const DEFAULT_ENCODER_MAX_TABLE_SIZE = SETTINGS_DEFAULTS.HEADER_TABLE_SIZE;

/** Options of {@link HpackEncoder}; every field is optional and defaults as documented. */
export interface HpackEncoderOptions {
  /**
   * Largest dynamic table the encoder uses, whatever the peer allows (it uses the smaller of
   * this and the peer's SETTINGS_HEADER_TABLE_SIZE). Default {@link DEFAULT_ENCODER_MAX_TABLE_SIZE}.
   */
  maxTableSize?: number;
  /**
   * SETTINGS_HEADER_TABLE_SIZE the peer is assumed to have before its SETTINGS arrive.
   * Default 4096 (RFC 9113 §6.5.2); other values only for tests and non-HTTP/2 uses.
   */
  initialHeaderTableSize?: number;
  /**
   * Lowercase field names to never index, in addition to {@link DEFAULT_SENSITIVE_HEADER_NAMES}
   * and short cookies (e.g. `['set-cookie', 'x-api-key']`).
   */
  sensitiveHeaderNames?: Iterable<string>;
  /** Use Huffman coding for a string when it is shorter than the raw octets. Default true. */
  useHuffman?: boolean;
  /**
   * Initial capacity of the reusable output buffer, in octets (it grows as needed, and keeps what it
   * grew to). Default 128: a response's header block is a few dozen octets, and a connection keeps
   * its buffer while it idles. At least 64.
   */
  initialBufferSize?: number;
}

/** Static table rows by name: the first index for the name and the index per value. */
interface StaticNameRow {
  readonly index: number;
  readonly indexByValue: Map<string, number>;
}

/** Number of entries in the static table, RFC 7541 Appendix A. */
const STATIC_TABLE_LENGTH = hpack['static-table'].table.length;

/** Static-table reverse index, built once from hpack.js's table with `Map`s (no prototype keys). */
const STATIC_BY_NAME: ReadonlyMap<string, StaticNameRow> = (() => {
  const byName = new Map<string, { index: number; indexByValue: Map<string, number> }>();
  hpack['static-table'].table.forEach((entry, position) => {
    const index = position + 1;
    let row = byName.get(entry.name);
    if (row === undefined) {
      row = { index, indexByValue: new Map() };
      byName.set(entry.name, row);
    }
    if (!row.indexByValue.has(entry.value)) row.indexByValue.set(entry.value, index);
  });
  return byName;
})();

/** Huffman code length in bits per octet, from hpack.js's RFC 7541 Appendix B table. */
const HUFFMAN_BITS = new Uint8Array(256);
/** Huffman code per octet (right-aligned), from the same table. */
const HUFFMAN_CODE = new Uint32Array(256);
for (let octet = 0; octet < 256; octet++) {
  const code = hpack.huffman.encode[octet];
  if (code === undefined) throw new Error(`hpack.js Huffman table lacks octet ${octet}`);
  HUFFMAN_BITS[octet] = code[0];
  HUFFMAN_CODE[octet] = code[1];
}

/** First-octet patterns of the field representations, RFC 7541 §6. */
const INDEXED = 0x80; // §6.1, 7-bit index
const LITERAL_INCREMENTAL = 0x40; // §6.2.1, 6-bit index
const SIZE_UPDATE = 0x20; // §6.3, 5-bit size
const LITERAL_NEVER_INDEXED = 0x10; // §6.2.3, 4-bit index
const LITERAL_WITHOUT_INDEXING = 0x00; // §6.2.2, 4-bit index
const HUFFMAN_FLAG = 0x80; // §5.2, string literal H bit

/** No table size change is waiting to be signalled. */
const NO_PENDING_SIZE = -1;

/**
 * HpackEncoder turns header lists into HPACK header blocks for one HTTP/2 connection (one
 * encoding context, RFC 7541 §2.2). It is used on the connection's event loop only.
 *
 * A header list is flat: `[name0, value0, name1, value1, …]`, lowercase names, byte strings
 * (see the module notes). {@link HpackEncoder.encode} returns a view of a reusable buffer.
 *
 * **Caching repeated lists.** {@link HpackEncoder.generation} changes whenever the dynamic
 * table changes (an entry added or evicted, a size change pending or signalled). If
 * `generation` is the same after an `encode` as before it, that call changed nothing, and its
 * bytes are exactly what encoding the same list would produce again for as long as
 * `generation` keeps that value; a connection may keep a copy and send it verbatim. A list
 * seen for the second time usually qualifies, since its fields are then all indexed.
 *
 * @example
 * ```ts
 * const encoder = new HpackEncoder();
 * const block = encoder.encode([':status', '200', 'content-type', 'text/plain']);
 * frameEncoder.writeHeaders(streamId, block, true); // copies; `block` is reused by the next encode
 * ```
 */
export class HpackEncoder {
  /** hpack.js's table: its `dynamic` array (oldest first), `size`, `maxSize`, `add`, eviction. */
  private readonly table: hpack.Table;
  /** Reusable output; blocks are views of it. */
  private buffer: Buffer = NO_OUTPUT;
  /** Write position in {@link HpackEncoder.buffer} during an encode. */
  private offset = 0;
  private tableGeneration = 0;
  /** Smallest table size since the last block, or {@link NO_PENDING_SIZE}. RFC 7541 §4.2. */
  private pendingMinimumSize = NO_PENDING_SIZE;
  private readonly ownMaxTableSize: number;
  private readonly sensitiveNames: ReadonlySet<string>;
  private readonly initialBufferSize: number;
  private readonly useHuffman: boolean;

  /** Creates an encoder with an empty dynamic table of the protocol's initial size. */
  constructor(options: HpackEncoderOptions = {}) {
    const initialSize = options.initialHeaderTableSize ?? SETTINGS_DEFAULTS.HEADER_TABLE_SIZE;
    this.ownMaxTableSize = options.maxTableSize ?? DEFAULT_ENCODER_MAX_TABLE_SIZE;
    checkTableSize(initialSize);
    checkTableSize(this.ownMaxTableSize);
    this.table = hpack.table.create({ maxSize: initialSize });
    // Most connections add no names: they share one set instead of building a copy each.
    const extraNames = options.sensitiveHeaderNames === undefined ? [] : [...options.sensitiveHeaderNames];
    this.sensitiveNames =
      extraNames.length === 0
        ? DEFAULT_SENSITIVE_NAME_SET
        : new Set([...DEFAULT_SENSITIVE_HEADER_NAMES, ...extraNames]);
    this.useHuffman = options.useHuffman ?? true;
    // Allocated by the first encode: an idle connection never encodes.
    this.initialBufferSize = Math.max(64, options.initialBufferSize ?? 128);
    // Our own cap below the protocol's initial size is signalled in the first block.
    if (this.ownMaxTableSize < initialSize) this.resizeTable(this.ownMaxTableSize);
  }

  /**
   * Counter that changes whenever the dynamic table changes; see the class notes on caching.
   */
  get generation(): number {
    return this.tableGeneration;
  }

  /** Octets the dynamic table holds now (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Current maximum size of the dynamic table, as the peer's decoder will know it after the next block. */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /**
   * Applies SETTINGS_HEADER_TABLE_SIZE received from the peer (RFC 9113 §6.5.2). The table is
   * resized at once to the smaller of `size` and our own cap; the change is signalled at the
   * start of the next block. Throws RangeError for a size that is not a 32-bit unsigned integer.
   */
  applyPeerHeaderTableSize(size: number): void {
    checkTableSize(size);
    const effective = Math.min(size, this.ownMaxTableSize);
    if (effective !== this.table.maxSize) this.resizeTable(effective);
  }

  /**
   * Encodes one header list into a header block and returns it as a view of the encoder's
   * reusable buffer, valid until the next call (copy it, or write it into a frame, before then).
   * Synchronous; updates the dynamic table. Names listed in `sensitiveNames` (lowercase) are
   * never-indexed for this call only. Throws TypeError, before changing any state, when
   * `headers` has an odd length.
   */
  encode(headers: readonly string[], sensitiveNames?: ReadonlySet<string>): Buffer {
    if ((headers.length & 1) !== 0) throw new TypeError('header list must be [name, value, …] pairs');
    this.offset = 0;
    const isFirstBlock = this.buffer === NO_OUTPUT; // the first encode allocates the buffer
    if (this.pendingMinimumSize !== NO_PENDING_SIZE) this.writeSizeUpdates();
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      const isSensitive =
        this.sensitiveNames.has(name) ||
        (name === 'cookie' && value.length < NEVER_INDEXED_COOKIE_LENGTH) ||
        (sensitiveNames !== undefined && sensitiveNames.has(name));
      this.encodeField(name, value, isSensitive);
    }
    if (isFirstBlock) compactDynamicTable(this.table);
    return this.buffer.subarray(0, this.offset);
  }

  /**
   * Returns the dynamic table as a flat list `[name, value, …]` in index order (index 62
   * first), for tests and diagnostics. Allocates.
   */
  tableEntries(): string[] {
    return dynamicTableEntries(this.table);
  }

  /** Resizes (and evicts) now; remembers the smallest size for the next block, RFC 7541 §4.2. */
  private resizeTable(size: number): void {
    this.table.protocolMaxSize = size;
    this.table.updateSize(size);
    if (this.pendingMinimumSize === NO_PENDING_SIZE || size < this.pendingMinimumSize) {
      this.pendingMinimumSize = size;
    }
    this.tableGeneration++;
  }

  /**
   * Writes the pending Dynamic Table Size Updates (RFC 7541 §6.3) at the start of the block:
   * the smallest size reached since the last block, then the final size if it differs — "at
   * most two" updates (RFC 7541 §4.2), so the peer evicts exactly what we evicted.
   */
  private writeSizeUpdates(): void {
    this.ensureCapacity(12);
    const finalSize = this.table.maxSize;
    if (this.pendingMinimumSize < finalSize) this.writeInteger(SIZE_UPDATE, 5, this.pendingMinimumSize);
    this.writeInteger(SIZE_UPDATE, 5, finalSize);
    this.pendingMinimumSize = NO_PENDING_SIZE;
    this.tableGeneration++;
  }

  /**
   * Encodes one field: an index when the table holds it (RFC 7541 §6.1), otherwise a literal
   * with the lowest name index available — never-indexed when sensitive (§6.2.3), without
   * indexing when the entry would take more than 3/4 of the table (it would evict nearly
   * everything for one field, §4.4), and with incremental indexing otherwise (§6.2.1).
   */
  private encodeField(name: string, value: string, isSensitive: boolean): void {
    let nameIndex = 0;
    const staticRow = STATIC_BY_NAME.get(name);
    if (staticRow !== undefined) {
      if (!isSensitive) {
        const index = staticRow.indexByValue.get(value);
        if (index !== undefined) {
          this.ensureCapacity(6);
          this.writeInteger(INDEXED, 7, index);
          return;
        }
      }
      nameIndex = staticRow.index;
    }
    // Dynamic table, newest first: index 62 is the last element of hpack.js's array.
    const dynamic = this.table.dynamic;
    const count = dynamic.length;
    if (!isSensitive || nameIndex === 0) {
      for (let position = count - 1; position >= 0; position--) {
        const entry = dynamic[position];
        if (entry.name !== name) continue;
        const index = STATIC_TABLE_LENGTH + count - position;
        if (!isSensitive && entry.value === value) {
          this.ensureCapacity(6);
          this.writeInteger(INDEXED, 7, index);
          return;
        }
        if (nameIndex === 0) {
          nameIndex = index;
          if (isSensitive) break;
        }
      }
    }

    const nameOctets = nameIndex === 0 ? toByteString(name) : name;
    const valueOctets = toByteString(value);
    this.ensureCapacity(nameOctets.length + valueOctets.length + 16);
    if (isSensitive) {
      this.writeInteger(LITERAL_NEVER_INDEXED, 4, nameIndex);
    } else if ((nameOctets.length + valueOctets.length + HPACK_ENTRY_OVERHEAD) * 4 <= this.table.maxSize * 3) {
      this.writeInteger(LITERAL_INCREMENTAL, 6, nameIndex);
      this.table.add(nameOctets, valueOctets, nameOctets.length, valueOctets.length);
      this.tableGeneration++;
    } else {
      this.writeInteger(LITERAL_WITHOUT_INDEXING, 4, nameIndex);
    }
    if (nameIndex === 0) this.writeString(nameOctets);
    this.writeString(valueOctets);
  }

  /** Writes an integer with an N-bit prefix after `pattern`, RFC 7541 §5.1. Capacity is the caller's. */
  private writeInteger(pattern: number, prefixBits: number, value: number): void {
    const buffer = this.buffer;
    let offset = this.offset;
    const prefixMax = (1 << prefixBits) - 1;
    if (value < prefixMax) {
      buffer[offset++] = pattern | value;
    } else {
      buffer[offset++] = pattern | prefixMax;
      let rest = value - prefixMax;
      while (rest >= 0x80) {
        buffer[offset++] = (rest & 0x7f) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
      buffer[offset++] = rest;
    }
    this.offset = offset;
  }

  /**
   * Writes a string literal (RFC 7541 §5.2) of a byte string: Huffman-coded only when that is
   * strictly shorter than the raw octets. Capacity is the caller's (length + 5 is enough).
   */
  private writeString(octets: string): void {
    const length = octets.length;
    if (this.useHuffman) {
      let bits = 0;
      for (let i = 0; i < length; i++) bits += HUFFMAN_BITS[octets.charCodeAt(i)];
      const huffmanLength = (bits + 7) >>> 3;
      if (huffmanLength < length) {
        this.writeInteger(HUFFMAN_FLAG, 7, huffmanLength);
        this.writeHuffman(octets);
        return;
      }
    }
    this.writeInteger(0, 7, length);
    const buffer = this.buffer;
    let offset = this.offset;
    if (length < 48) {
      // Short strings: a loop beats the native call's fixed cost.
      for (let i = 0; i < length; i++) buffer[offset++] = octets.charCodeAt(i);
    } else {
      offset += buffer.write(octets, offset, 'latin1');
    }
    this.offset = offset;
  }

  /** Writes the Huffman code of a byte string, padded with the EOS prefix (1 bits), RFC 7541 §5.2. */
  private writeHuffman(octets: string): void {
    const buffer = this.buffer;
    let offset = this.offset;
    // `pending` holds fewer than 8 bits between symbols; codes reach 30 bits, so long codes go
    // in two steps to keep every intermediate value within 31 bits.
    let pending = 0;
    let pendingBits = 0;
    for (let i = 0; i < octets.length; i++) {
      const octet = octets.charCodeAt(i);
      let code = HUFFMAN_CODE[octet];
      let codeBits = HUFFMAN_BITS[octet];
      if (codeBits > 24) {
        const highBits = codeBits - 16;
        pending = (pending << highBits) | (code >>> 16);
        pendingBits += highBits;
        while (pendingBits >= 8) {
          pendingBits -= 8;
          buffer[offset++] = pending >>> pendingBits;
        }
        pending &= (1 << pendingBits) - 1;
        code &= 0xffff;
        codeBits = 16;
      }
      pending = (pending << codeBits) | code;
      pendingBits += codeBits;
      while (pendingBits >= 8) {
        pendingBits -= 8;
        buffer[offset++] = pending >>> pendingBits;
      }
      pending &= (1 << pendingBits) - 1;
    }
    if (pendingBits > 0) buffer[offset++] = (pending << (8 - pendingBits)) | (0xff >>> pendingBits);
    this.offset = offset;
  }

  /** Grows the output buffer (copying what is written) so `extra` more octets fit. */
  private ensureCapacity(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2, this.initialBufferSize));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

/**
 * Returns `text` as a byte string: itself when every code unit is 0x00–0xFF, else the Latin-1
 * view of its UTF-8 encoding (see the module notes: never truncated).
 */
function toByteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return Buffer.from(text, 'utf8').toString('latin1');
  }
  return text;
}

/** Table sizes travel in SETTINGS as 32-bit unsigned integers, RFC 9113 §6.5.1. */
function checkTableSize(size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > 0xffff_ffff) {
    throw new RangeError(`HPACK table size must be a 32-bit unsigned integer, got ${size}`);
  }
}
