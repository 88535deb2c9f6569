/**
 * HPACK benchmark: µs per typical request and response header block, encode and decode, with a
 * cold table (first block on a connection) and repeated (the same list again), for sluice's
 * adapter and for hpack.js through its stream API (compressor/decompressor) in the same run.
 *
 * Run: `node dist/bench/http2-codec/hpack.js`. Bounded to a few seconds. Ratios are what to
 * track; absolute numbers vary between machines and runs.
 *
 * @module
 */
import hpack from 'hpack.js';
import { HEADER_LIST_TOO_LARGE, HpackDecoder } from '../../handlers/http2/wire/hpack-decoder.js';
import { HpackEncoder } from '../../handlers/http2/wire/hpack-encoder.js';

const REQUEST: readonly string[] = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':authority',
  'api.example.com',
  ':path',
  '/v1/items?page=2&limit=50',
  'user-agent',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'accept',
  'application/json',
  'accept-encoding',
  'gzip, deflate, br',
  'accept-language',
  'en-US,en;q=0.9',
  'cookie',
  'session=3f9a1c27b04e4d8e9a6b5c2d1e0f7a8b; theme=dark',
];

const RESPONSE: readonly string[] = [
  ':status',
  '200',
  'content-type',
  'application/json; charset=utf-8',
  'content-length',
  '1834',
  'date',
  'Tue, 04 Jun 2024 10:21:07 GMT',
  'server',
  'sluice',
  'cache-control',
  'no-cache',
  'vary',
  'accept-encoding',
];

const COLD_COUNT = 4_000;
const REPEAT_COUNT = 40_000;

function toObjects(fields: readonly string[]): hpack.CompressorHeader[] {
  const headers: hpack.CompressorHeader[] = [];
  for (let i = 0; i < fields.length; i += 2) headers.push({ name: fields[i], value: fields[i + 1] });
  return headers;
}

/** µs per call of `run(i)` over `count` calls, after a short warm-up when `warmup` is set. */
function measure(count: number, run: (i: number) => void, warmup = true): number {
  if (warmup) for (let i = 0; i < Math.min(count, 2_000); i++) run(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / count;
}

/** Writes a list to hpack.js's compressor stream and reads the block's chunks back. */
function compressWithStream(compressor: hpack.Compressor, headers: hpack.CompressorHeader[]): number {
  compressor.write(headers);
  let length = 0;
  for (let chunk = compressor.read(); chunk !== null; chunk = compressor.read()) length += chunk.length;
  return length;
}

/** Writes a block to hpack.js's decompressor stream and reads the headers back. */
function decompressWithStream(decompressor: hpack.Decompressor, block: Uint8Array): number {
  decompressor.write(block);
  decompressor.execute();
  let count = 0;
  for (let header = decompressor.read(); header !== null; header = decompressor.read()) count++;
  return count;
}

function newCompressor(): hpack.Compressor {
  return hpack.compressor.create({ table: { maxSize: 4096 } });
}

function newDecompressor(): hpack.Decompressor {
  return hpack.decompressor.create({ table: { maxSize: 4096 } });
}

let sink = 0;

interface Row {
  readonly name: string;
  readonly sluice: number;
  readonly hpackJs: number;
}

function benchList(label: string, fields: readonly string[]): Row[] {
  const headers = toObjects(fields);
  const warmEncoder = new HpackEncoder();
  const coldBlock = Buffer.from(warmEncoder.encode(fields));
  const repeatedBlock = Buffer.from(warmEncoder.encode(fields));

  // Warm the code paths of the first-block case on throwaway contexts.
  for (let i = 0; i < 1_000; i++) {
    new HpackDecoder().decode(new HpackEncoder().encode(fields));
    decompressWithStream(newDecompressor(), coldBlock);
    compressWithStream(newCompressor(), headers);
  }

  // Encode, cold: the first block of fresh contexts (created outside the timing).
  const encoders = Array.from({ length: COLD_COUNT }, () => new HpackEncoder());
  const sluiceEncodeCold = measure(
    COLD_COUNT,
    (i) => {
      sink += encoders[i].encode(fields).length;
    },
    false,
  );
  const compressors = Array.from({ length: COLD_COUNT }, newCompressor);
  const streamEncodeCold = measure(
    COLD_COUNT,
    (i) => {
      sink += compressWithStream(compressors[i], headers);
    },
    false,
  );

  // Encode, repeated: the same list on a warm context.
  const encoder = new HpackEncoder();
  const sluiceEncodeRepeated = measure(REPEAT_COUNT, () => {
    sink += encoder.encode(fields).length;
  });
  const compressor = newCompressor();
  const streamEncodeRepeated = measure(REPEAT_COUNT, () => {
    sink += compressWithStream(compressor, headers);
  });

  // Decode, cold: the first block (literals, table insertions) on fresh contexts.
  const decoders = Array.from({ length: COLD_COUNT }, () => new HpackDecoder());
  const sluiceDecodeCold = measure(
    COLD_COUNT,
    (i) => {
      const list = decoders[i].decode(coldBlock);
      sink += list === HEADER_LIST_TOO_LARGE ? 0 : list.length;
    },
    false,
  );
  const decompressors = Array.from({ length: COLD_COUNT }, newDecompressor);
  const streamDecodeCold = measure(
    COLD_COUNT,
    (i) => {
      sink += decompressWithStream(decompressors[i], coldBlock);
    },
    false,
  );

  // Decode, repeated: the all-indexed block on a context that has seen the first one.
  const decoder = new HpackDecoder();
  decoder.decode(coldBlock);
  const sluiceDecodeRepeated = measure(REPEAT_COUNT, () => {
    const list = decoder.decode(repeatedBlock);
    sink += list === HEADER_LIST_TOO_LARGE ? 0 : list.length;
  });
  const decompressor = newDecompressor();
  decompressWithStream(decompressor, coldBlock);
  const streamDecodeRepeated = measure(REPEAT_COUNT, () => {
    sink += decompressWithStream(decompressor, repeatedBlock);
  });

  console.log(
    `${label}: ${fields.length / 2} fields, first block ${coldBlock.length} B, repeated ${repeatedBlock.length} B`,
  );
  return [
    { name: `${label} encode, first`, sluice: sluiceEncodeCold, hpackJs: streamEncodeCold },
    { name: `${label} encode, repeated`, sluice: sluiceEncodeRepeated, hpackJs: streamEncodeRepeated },
    { name: `${label} decode, first`, sluice: sluiceDecodeCold, hpackJs: streamDecodeCold },
    { name: `${label} decode, repeated`, sluice: sluiceDecodeRepeated, hpackJs: streamDecodeRepeated },
  ];
}

function main(): void {
  const started = Date.now();
  const rows = [...benchList('request', REQUEST), ...benchList('response', RESPONSE)];
  console.log('');
  console.log('µs per header block       sluice adapter   hpack.js streams   ratio (hpack.js / sluice)');
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(26)}${row.sluice.toFixed(3).padStart(14)}${row.hpackJs.toFixed(3).padStart(19)}${(row.hpackJs / row.sluice).toFixed(1).padStart(14)}×`,
    );
  }
  console.log(`\n(${Date.now() - started} ms; checksum ${sink})`);
}

main();
