/**
 * Typings for the parts of hpack.js 2.1.6 that sluice uses (the package ships none).
 *
 * hpack.js is CommonJS; `import hpack from 'hpack.js'` yields its `module.exports`. Strings in
 * hpack.js are byte strings: one char per octet (Latin-1). Its internal `assert` throws a plain
 * `Error`, which is why the HPACK adapter wraps every call that can fail.
 *
 * Only what the adapter, its tests and its benchmark touch is typed here.
 */
declare module 'hpack.js' {
  import type { Duplex } from 'node:stream';

  namespace hpack {
    /** One entry of the static or dynamic table; sizes are in octets (RFC 7541 §4.1). */
    interface TableEntry {
      /** Field name as a Latin-1 byte string. */
      readonly name: string;
      /** Field value as a Latin-1 byte string. */
      readonly value: string;
      /** Octets in the name. */
      readonly nameSize: number;
      /** Entry size: name octets + value octets + 32 (RFC 7541 §4.1). */
      readonly totalSize: number;
    }

    /** Options of `table.create`. The key is `maxSize`; the README's `size` is ignored. */
    interface TableOptions {
      /** Initial and protocol maximum of the dynamic table, in octets. */
      maxSize: number;
      /** How many of the newest dynamic entries `reverseLookup` searches (default 32). */
      lookupDepth?: number;
    }

    /** Row of the static table's reverse map. A plain object: beware `__proto__` & co. */
    interface StaticMapEntry {
      /** Static index of the first entry with this name. */
      readonly index: number;
      /** Static index per value, for the values the static table holds. */
      readonly values: { readonly [value: string]: number };
    }

    /** The RFC 7541 Appendix A static table. */
    interface StaticTable {
      /** The 61 entries; `table[i]` has HPACK index `i + 1`. */
      readonly table: readonly TableEntry[];
      /** Reverse map from name to indexes (a plain object, so inherited keys resolve too). */
      readonly map: { readonly [name: string]: StaticMapEntry };
    }

    /** The combined static + dynamic table of one HPACK context (RFC 7541 §2.3). */
    interface Table {
      /** Entries of the dynamic table, OLDEST FIRST (index 62 is the last element). */
      dynamic: TableEntry[];
      /** Octets currently held by the dynamic table. */
      size: number;
      /** Current maximum size of the dynamic table. */
      maxSize: number;
      /** Static plus dynamic entry count: the largest valid index. */
      length: number;
      /** Upper bound `updateSize` accepts (asserts above it). */
      protocolMaxSize: number;
      /** Entry at HPACK `index`; asserts on 0 and on out-of-range indexes. */
      lookup(index: number): TableEntry;
      /** Positive index of an exact match, negative index of a name match, 0 for none. */
      reverseLookup(name: string, value: string): number;
      /** Adds an entry at index 62 and evicts the oldest ones while over `maxSize`. */
      add(name: string, value: string, nameSize: number, valueSize: number): void;
      /** Sets `maxSize` (asserts it is within `protocolMaxSize`) and evicts. */
      updateSize(size: number): void;
    }

    /** Huffman code of one symbol: `[bit length, code]` (RFC 7541 Appendix B). */
    type HuffmanCode = readonly [bitLength: number, code: number];

    /** A node of hpack.js's Huffman decoding tree (nested arrays of packed leaves). */
    type HuffmanDecodeNode = readonly (number | HuffmanDecodeNode)[];

    /** Something decoded octets can be pushed into (an array, or a sink writing a buffer). */
    interface OctetSink {
      /** Appends one decoded octet. */
      push(octet: number): unknown;
    }

    /** hpack.js's bit-level decoder; the adapter uses only its Huffman step. */
    interface Decoder {
      /** Current node of the Huffman tree between calls; the root before a string starts. */
      _huffmanNode: HuffmanDecodeNode | null;
      /**
       * Decodes the complete symbols in the low `inputBits` bits of `input`, pushing octets
       * to `out`; returns how many bits remain undecoded. Asserts on EOS.
       */
      decodeHuffmanWord(input: number, inputBits: number, out: OctetSink): number;
    }

    /** A header for the compressor stream. */
    interface CompressorHeader {
      name: string;
      value: string;
      neverIndex?: boolean;
      huffman?: boolean;
      incremental?: boolean;
    }

    /** A header the decompressor stream emits. */
    interface DecompressedHeader {
      name: string;
      value: string;
      neverIndex: boolean;
    }

    /** hpack.js's stream encoder: write a header array, read the block's chunks. */
    interface Compressor extends Duplex {
      /** Writes one header list; the block's bytes become readable synchronously. */
      write(headers: CompressorHeader[]): boolean;
      /** Changes the table size (emits an update only when growing to the protocol max). */
      updateTableSize(size: number): void;
      /** Reads the next chunk, or null. */
      read(): Buffer | null;
    }

    /** hpack.js's stream decoder: write a block, call `execute`, read header objects. */
    interface Decompressor extends Duplex {
      /** Appends block bytes. */
      write(chunk: Uint8Array): boolean;
      /** Decodes the bytes written so far; errors go to `cb` (on a later tick) or 'error'. */
      execute(cb?: (error: Error | null) => void): void;
      /** Sets the table size. */
      updateTableSize(size: number): void;
      /** Reads the next decoded header, or null. */
      read(): DecompressedHeader | null;
      /** The decompressor's table. */
      readonly _table: Table;
    }

    /** Options of the stream encoder and decoder. */
    interface StreamOptions {
      table: TableOptions;
    }
  }

  /** The hpack.js module object. */
  interface HpackModule {
    readonly table: { create(options: hpack.TableOptions): hpack.Table };
    readonly 'static-table': hpack.StaticTable;
    readonly huffman: {
      readonly encode: readonly hpack.HuffmanCode[];
      readonly decode: hpack.HuffmanDecodeNode;
    };
    readonly decoder: { create(): hpack.Decoder };
    readonly compressor: { create(options: hpack.StreamOptions): hpack.Compressor };
    readonly decompressor: { create(options: hpack.StreamOptions): hpack.Decompressor };
  }

  const hpack: HpackModule;
  export = hpack;
}
