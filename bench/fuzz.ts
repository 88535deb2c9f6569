/**
 * `npm run fuzz`: a seeded mutation fuzzer for the HTTP/2 wire layer and connection.
 *
 * Targets, round-robin:
 * - the {@link FrameDecoder} in both roles (input split at random points, sometimes byte by byte):
 *   the only exception allowed is {@link Http2ConnectionError};
 * - the {@link HpackDecoder} on sequences of blocks: only {@link Http2ConnectionError} with
 *   COMPRESSION_ERROR or ENHANCE_YOUR_CALM;
 * - a whole {@link Http2ServerConnection} (and a client connection with requests in flight) on a
 *   {@link TestingChannel}: nothing may throw out of the channel's read path, and the connection
 *   either keeps going, closes gracefully (after the peer's GOAWAY), or shuts down with an
 *   `Http2ConnectionError` announced by GOAWAY; no pooled message may leak;
 * - the HTTP/1.1 message parser in both roles (`bench/fuzz-http1.ts`): only `Http1ParseError`;
 * - the WebSocket frame decoder in both roles (`bench/fuzz-websocket.ts`): only `WebSocketProtocolError`.
 *
 * Inputs are valid traffic generated with the project's encoders, mutated (bit flips, byte
 * edits, truncations, splices, frame length/type/flags/stream-id edits, duplicated or deleted
 * ranges), or random bytes. Every iteration is timed against a budget (a hang shows as an
 * over-budget iteration), and live memory is sampled for growth.
 *
 * Usage: `node dist/bench/fuzz.js [--seconds N] [--seed S]`. Exit code 1 on any failure.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TestingChannel } from '../lib/index.js';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FRAME_HEADER_LENGTH,
  MAX_MAX_FRAME_SIZE,
  SettingId,
} from '../handlers/http2/wire/constants.js';
import type { Http2Headers } from '../handlers/http2/connection/connection-options.js';
import { FrameDecoder, type FrameListener } from '../handlers/http2/wire/frame-decoder.js';
import { FrameEncoder } from '../handlers/http2/wire/frame-encoder.js';
import { HEADER_LIST_TOO_LARGE, HpackDecoder } from '../handlers/http2/wire/hpack-decoder.js';
import { HpackEncoder } from '../handlers/http2/wire/hpack-encoder.js';
import { Http2ClientConnection } from '../handlers/http2/connection/client-connection.js';
import type { Http2Connection } from '../handlers/http2/connection/http2-connection.js';
import { Http2ConnectionError } from '../handlers/http2/errors.js';
import { Http2ServerConnection } from '../handlers/http2/connection/server-connection.js';
import type { Http2Stream } from '../handlers/http2/connection/http2-stream.js';
import { fuzzHttp1Parser, mutateHttp1, validHttp1Traffic } from './fuzz-http1.js';
import { fuzzWebSocketDecoder, mutateWebSocket, validWebSocketTraffic } from './fuzz-websocket.js';

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Wall-clock budget, seconds. */
  seconds: number;
  /** PRNG seed: the same seed and iteration count give the same inputs. */
  seed?: number;
  /** An iteration slower than this is reported as a hang, ms (default 250). */
  iterationBudgetMs?: number;
  /** Hard cap on iterations (default 10 000 000). */
  maxIterations?: number;
  /** Live memory (heap + ArrayBuffers) may grow at most this much, bytes (default 64 MiB). */
  memoryBoundBytes?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a fuzz run did and found. */
export interface FuzzStats {
  /** Iterations per target. */
  readonly iterations: Record<FuzzTarget, number>;
  /** Outcomes, e.g. `frame-decoder:HTTP2_PROTOCOL_ERROR`, `connection-server:ok`. */
  readonly outcomes: Record<string, number>;
  /** Bytes of input fed. */
  inputBytes: number;
  /** Slowest iteration, ms. */
  slowestIterationMs: number;
  /** Peak live memory growth seen, bytes. */
  peakMemoryGrowth: number;
  /** Seconds the run took. */
  seconds: number;
  /** Failures: unexpected exceptions, hangs, leaks, memory growth; each with the input in hex (truncated). */
  readonly failures: string[];
}

/** The fuzzed targets. */
export type FuzzTarget =
  | 'frame-decoder-server'
  | 'frame-decoder-client'
  | 'hpack'
  | 'connection-server'
  | 'connection-client'
  | 'http1-parser-request'
  | 'http1-parser-response'
  | 'websocket-decoder-server'
  | 'websocket-decoder-client';

const TARGETS: readonly FuzzTarget[] = [
  'frame-decoder-server',
  'frame-decoder-client',
  'hpack',
  'connection-server',
  'connection-client',
  'http1-parser-request',
  'http1-parser-response',
  'websocket-decoder-server',
  'websocket-decoder-client',
];
/** Failures kept in full (the rest are counted). */
const MAX_REPORTED_FAILURES = 20;

// ------------------------------------------------------------------------------ PRNG

/** A small seeded PRNG (mulberry32). */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// ------------------------------------------------------------------------------ valid traffic

const NAMES = [
  'accept',
  'user-agent',
  'cookie',
  'x-trace',
  'content-type',
  'authorization',
  'te',
  'x-empty',
  'cache-control',
];

function randomHeaders(random: Random, kind: 'request' | 'response' | 'trailers'): Http2Headers {
  const headers: string[] = [];
  if (kind === 'request') {
    headers.push(
      ':method',
      random.pick(['GET', 'POST', 'HEAD', 'PUT']),
      ':scheme',
      'http',
      ':authority',
      'fuzz.test',
      ':path',
      `/${random.int(1000)}`,
    );
  } else if (kind === 'response') {
    headers.push(':status', String(random.pick([200, 204, 304, 404, 100, 500])));
  }
  const count = random.int(6);
  for (let i = 0; i < count; i++) {
    const valueLength = random.chance(0.1) ? random.int(3000) : random.int(40);
    headers.push(
      random.pick(NAMES),
      'v'.repeat(valueLength).replace(/v/g, () => String.fromCharCode(0x21 + random.int(90))),
    );
  }
  if (random.chance(0.2)) headers.push('content-length', String(random.int(100)));
  return headers;
}

/** Builds one frame with a scratch buffer. */
function frame(capacity: number, write: (target: Buffer) => number): Buffer {
  const target = Buffer.alloc(capacity);
  return Buffer.from(target.subarray(0, write(target)));
}

/**
 * Valid traffic from one endpoint: `toServer` true for what a client sends (preface first),
 * false for what a server sends. Uses one HPACK context, so blocks decode in order.
 */
function validTraffic(random: Random, toServer: boolean): Buffer {
  const encoder = new FrameEncoder(MAX_MAX_FRAME_SIZE);
  const hpack = new HpackEncoder();
  const parts: Buffer[] = [];
  if (toServer) parts.push(Buffer.from(CONNECTION_PREFACE));
  const settings: [number, number][] = [];
  if (random.chance(0.5)) settings.push([SettingId.INITIAL_WINDOW_SIZE, random.int(1 << 20)]);
  if (random.chance(0.3)) settings.push([SettingId.HEADER_TABLE_SIZE, random.int(8192)]);
  if (random.chance(0.3)) settings.push([SettingId.MAX_FRAME_SIZE, 16_384 + random.int(1000)]);
  if (!toServer && random.chance(0.5)) settings.push([SettingId.MAX_CONCURRENT_STREAMS, random.int(200)]);
  parts.push(frame(9 + 6 * settings.length, (t) => encoder.writeSettings(t, 0, settings)));
  parts.push(frame(9, (t) => encoder.writeSettingsAck(t, 0)));
  const streams = 1 + random.int(4);
  for (let s = 0; s < streams; s++) {
    const id = toServer ? 2 * s + 1 : 1 + 2 * s;
    const block = hpack.encode(randomHeaders(random, toServer ? 'request' : 'response'));
    const hasBody = random.chance(0.6);
    const fragment = random.chance(0.3) ? 1 + random.int(Math.max(1, block.length)) : block.length;
    let offset = 0;
    do {
      const length = Math.min(fragment, block.length - offset);
      const isLast = offset + length >= block.length;
      const at = offset;
      parts.push(
        frame(9 + length + 300, (t) =>
          at === 0
            ? encoder.writeHeaders(
                t,
                0,
                id,
                block,
                at,
                length,
                !hasBody,
                isLast,
                random.chance(0.2)
                  ? { streamDependency: random.int(10), weight: 1 + random.int(256), isExclusive: random.chance(0.5) }
                  : undefined,
                random.chance(0.2) ? random.int(255) : undefined,
              )
            : encoder.writeContinuation(t, 0, id, block, at, length, isLast),
        ),
      );
      offset += length;
    } while (offset < block.length);
    if (hasBody) {
      const chunks = 1 + random.int(3);
      for (let c = 0; c < chunks; c++) {
        const data = random.bytes(random.int(2000));
        const isEnd = c === chunks - 1 && random.chance(0.7);
        parts.push(
          frame(9 + data.length + 300, (t) =>
            encoder.writeData(t, 0, id, data, 0, data.length, isEnd, random.chance(0.2) ? random.int(255) : undefined),
          ),
        );
      }
      if (random.chance(0.3)) {
        const trailers = hpack.encode(randomHeaders(random, 'trailers'));
        parts.push(
          frame(9 + trailers.length, (t) => encoder.writeHeaders(t, 0, id, trailers, 0, trailers.length, true, true)),
        );
      }
    }
    if (random.chance(0.3))
      parts.push(
        frame(13, (t) => encoder.writeWindowUpdate(t, 0, random.chance(0.5) ? 0 : id, 1 + random.int(100_000))),
      );
    if (random.chance(0.2)) parts.push(frame(13, (t) => encoder.writeRstStream(t, 0, id, random.int(14))));
    if (random.chance(0.1))
      parts.push(frame(14, (t) => encoder.writePriority(t, 0, id, random.int(5), 1 + random.int(256), false)));
  }
  if (random.chance(0.5))
    parts.push(frame(17, (t) => encoder.writePing(t, 0, random.int(1 << 30), random.int(1 << 30), random.chance(0.3))));
  if (random.chance(0.1))
    parts.push(
      frame(9 + 8 + 10, (t) => encoder.writeGoaway(t, 0, random.int(20), random.int(14), Buffer.from('fuzz-debug'))),
    );
  if (random.chance(0.1)) {
    const payload = random.bytes(random.int(20));
    const unknown = Buffer.alloc(FRAME_HEADER_LENGTH + payload.length);
    unknown.writeUIntBE(payload.length, 0, 3);
    unknown[3] = 0x20 + random.int(200);
    unknown.set(payload, FRAME_HEADER_LENGTH);
    parts.push(unknown);
  }
  return Buffer.concat(parts);
}

/** A sequence of HPACK blocks from one encoder context (with table-size changes now and then). */
function validHpackBlocks(random: Random): Buffer[] {
  const hpack = new HpackEncoder();
  const blocks: Buffer[] = [];
  const count = 1 + random.int(3);
  for (let i = 0; i < count; i++) {
    if (random.chance(0.2)) hpack.applyPeerHeaderTableSize(random.int(4097));
    blocks.push(
      Buffer.from(hpack.encode(randomHeaders(random, random.pick(['request', 'response', 'trailers'] as const)))),
    );
  }
  return blocks;
}

// ------------------------------------------------------------------------------ mutations

/** Offsets of frame headers in `bytes` (after `skip` bytes), following the length fields. */
function frameOffsets(bytes: Buffer, skip: number): number[] {
  const offsets: number[] = [];
  let at = skip;
  while (at + FRAME_HEADER_LENGTH <= bytes.length && offsets.length < 10_000) {
    offsets.push(at);
    at += FRAME_HEADER_LENGTH + bytes.readUIntBE(at, 3);
  }
  return offsets;
}

function mutate(random: Random, input: Buffer, donor: Buffer, framed: number): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + random.int(4);
  for (let round = 0; round < rounds && bytes.length > 0; round++) {
    const at = random.int(bytes.length);
    switch (random.int(11)) {
      case 0: // bit flip
        bytes[at] = bytes[at] ^ (1 << random.int(8));
        break;
      case 1: // random byte
        bytes[at] = random.int(256);
        break;
      case 2: // truncation
        bytes = bytes.subarray(0, at);
        break;
      case 3: {
        // splice from another input
        const from = random.int(Math.max(1, donor.length));
        const piece = donor.subarray(from, from + random.int(200));
        bytes = Buffer.concat([bytes.subarray(0, at), piece, bytes.subarray(at)]);
        break;
      }
      case 4: {
        // delete a range
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(50))]);
        break;
      }
      case 5: {
        // duplicate a range
        const piece = bytes.subarray(at, at + 1 + random.int(100));
        bytes = Buffer.concat([bytes.subarray(0, at), piece, piece, bytes.subarray(at + piece.length)]);
        break;
      }
      case 6: // insert random bytes
        bytes = Buffer.concat([bytes.subarray(0, at), random.bytes(1 + random.int(30)), bytes.subarray(at)]);
        break;
      default: {
        // frame-aware edits: length, type, flags, stream id
        const offsets = framed >= 0 ? frameOffsets(bytes, framed) : [];
        if (offsets.length === 0) {
          bytes[at] = random.int(256);
          break;
        }
        const header = random.pick(offsets);
        const field = random.int(4);
        if (field === 0) {
          const length = bytes.readUIntBE(header, 3);
          const edited = random.chance(0.5) ? Math.max(0, length + random.int(33) - 16) : random.int(1 << 24);
          bytes.writeUIntBE(edited & 0xff_ffff, header, 3);
        } else if (field === 1) {
          bytes[header + 3] = random.chance(0.7) ? random.int(10) : random.int(256);
        } else if (field === 2) {
          bytes[header + 4] = random.int(256);
        } else {
          bytes.writeUInt32BE((random.chance(0.5) ? random.int(10) : random.int(2 ** 32)) >>> 0, header + 5);
        }
      }
    }
  }
  return bytes;
}

/** Splits `bytes` into 1–4 chunks, or single bytes for short inputs now and then. */
function split(random: Random, bytes: Buffer): Buffer[] {
  if (bytes.length <= 512 && random.chance(0.1)) return Array.from(bytes, (byte) => Buffer.from([byte]));
  const chunks: Buffer[] = [];
  let at = 0;
  const pieces = 1 + random.int(4);
  for (let i = 1; i < pieces && at < bytes.length; i++) {
    const end = at + random.int(bytes.length - at + 1);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

// ------------------------------------------------------------------------------ targets

/** A listener that touches what it gets and does nothing else. */
class NullListener implements FrameListener {
  bytes = 0;
  onData(_s: number, data: Uint8Array, start: number, end: number): void {
    if (end > start) this.bytes += data[start] & 1;
  }
  onHeaders(_s: number, block: Uint8Array, start: number, end: number): void {
    this.bytes += end - start + (block.length & 0);
  }
  onPriority(): void {}
  onRstStream(): void {}
  onSettings(): void {}
  onPushPromise(): void {}
  onPing(): void {}
  onGoaway(_lastStreamId: number, _errorCode: number): void {}
  onWindowUpdate(): void {}
  onStreamError(): void {}
  onUnknownFrame(): void {}
}

function describeError(error: unknown): string {
  if (error instanceof Http2ConnectionError) return error.code;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function fuzzFrameDecoder(random: Random, input: Buffer, role: 'client' | 'server'): string {
  const decoder = new FrameDecoder(new NullListener(), {
    role,
    maxFrameSize: random.chance(0.5) ? 16_384 : 65_536,
    maxContinuationFrames: 8 + random.int(64),
  });
  try {
    for (const chunk of split(random, input)) decoder.decode(chunk);
    return 'ok';
  } catch (error) {
    if (error instanceof Http2ConnectionError) return error.code;
    throw error;
  }
}

function fuzzHpack(random: Random, blocks: Buffer[]): string {
  const decoder = new HpackDecoder({ maxHeaderListSize: random.chance(0.5) ? 256 + random.int(4096) : 65_536 });
  let outcome = 'ok';
  try {
    for (const block of blocks) if (decoder.decode(block) === HEADER_LIST_TOO_LARGE) outcome = 'too-large';
    return outcome;
  } catch (error) {
    if (
      error instanceof Http2ConnectionError &&
      (error.errorCode === ErrorCode.COMPRESSION_ERROR || error.errorCode === ErrorCode.ENHANCE_YOUR_CALM)
    ) {
      return error.code;
    }
    throw error;
  }
}

/** Reads the GOAWAY code a connection wrote (the reader plays the peer). */
class GoawayReader extends NullListener {
  goawayCode = -1;
  override onGoaway(_last: number, code: number): void {
    if (this.goawayCode < 0) this.goawayCode = code;
  }
}

function serveFuzzStream(stream: Http2Stream, _headers: Http2Headers, isEndStream: boolean): void {
  const finish = (s: Http2Stream): void => {
    if (!s.isWritable) return;
    s.sendHeaders([':status', '200']);
    s.write(Buffer.from('fuzz'));
    s.end();
  };
  if (isEndStream) finish(stream);
  else stream.handler = { onEnd: finish };
}

function fuzzConnection(random: Random, input: Buffer, role: 'client' | 'server'): string {
  let connection: Http2Connection;
  const peerGoawayCodes: number[] = [];
  const options = {
    maxConcurrentStreams: 1 + random.int(100),
    headerBlockTimeoutMs: 1000,
    onStream: serveFuzzStream,
    onGoaway: (_lastStreamId: number, errorCode: number) => peerGoawayCodes.push(errorCode),
  };
  if (role === 'server') connection = new Http2ServerConnection(options);
  else connection = new Http2ClientConnection(options);
  const tc = new TestingChannel([connection], { messagePool: { dataMessageSize: 16 * 1024 } });
  if (connection instanceof Http2ClientConnection) {
    const client = connection;
    for (let i = 0; i < 2; i++) {
      const stream = client.request(
        [':method', 'POST', ':scheme', 'http', ':authority', 'fuzz.test', ':path', '/'],
        {},
      );
      stream.write(Buffer.from('request body'));
      stream.end();
    }
  }
  for (const chunk of split(random, input)) {
    // Anything thrown here escaped the connection's read path: a failure.
    tc.pushRead(chunk);
    tc.runUntilIdle();
    if (random.chance(0.5)) tc.flushWrites(1000);
  }
  if (random.chance(0.3)) tc.advance(1500); // timers: header block, settings
  tc.flushWrites(1000);
  const written = tc.takeWritten();
  let outcome = 'ok';
  if (tc.channel.isShuttingDown) {
    const error = tc.shutdownError;
    // A graceful close (the peer's GOAWAY, then no streams left) shuts down without an error.
    if (error === null) outcome = 'graceful-close';
    else if (!(error instanceof Http2ConnectionError))
      throw new Error(`shut down with ${describeError(error)}, not an Http2ConnectionError`);
    const reader = new GoawayReader();
    const decoder = new FrameDecoder(reader, {
      role: role === 'server' ? 'client' : 'server',
      maxFrameSize: MAX_MAX_FRAME_SIZE,
      requireSettingsFirst: false,
    });
    try {
      decoder.decode(written); // a client's output starts with the preface, which the server-role reader checks
    } catch {
      // What the connection wrote must parse; a failure shows as a missing GOAWAY below.
    }
    if (error instanceof Http2ConnectionError) {
      // Our GOAWAY carries the error, except when the error is the peer's own GOAWAY code
      // (RFC 9113 §5.4.1: its GOAWAY ended the connection; ours then says NO_ERROR).
      const isPeerGoaway = peerGoawayCodes.includes(error.errorCode) && reader.goawayCode === ErrorCode.NO_ERROR;
      if (reader.goawayCode !== error.errorCode && !isPeerGoaway) {
        throw new Error(`shut down with ${error.code} but wrote GOAWAY code ${reader.goawayCode}`);
      }
      outcome = isPeerGoaway ? 'peer-goaway-error' : error.code;
    }
  }
  if (!tc.isShutDown) tc.shutdown();
  tc.flushWrites(1000);
  tc.runUntilIdle();
  if (tc.messagePool.outstanding !== 0) throw new Error(`${tc.messagePool.outstanding} pooled messages leaked`);
  return outcome;
}

// ------------------------------------------------------------------------------ the loop

let collect: (() => void) | null = null;

/** Live memory (heap + ArrayBuffers) after a full GC (`gc` from a fresh context once `--expose-gc` is set at run time). */
function liveMemory(): number {
  if (collect === null) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') {
      collect = existing;
    } else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Runs the fuzzer for `options.seconds` (and at most `maxIterations`) and returns what it did
 * and found. Synchronous: each iteration is short and timed.
 */
export function runFuzz(options: FuzzOptions): FuzzStats {
  const random = new Random(options.seed ?? 0x5eed);
  const budgetMs = options.iterationBudgetMs ?? 250;
  const maxIterations = options.maxIterations ?? 10_000_000;
  const memoryBound = options.memoryBoundBytes ?? 64 * 1024 * 1024;
  const stats: FuzzStats = {
    iterations: {
      'frame-decoder-server': 0,
      'frame-decoder-client': 0,
      hpack: 0,
      'connection-server': 0,
      'connection-client': 0,
      'http1-parser-request': 0,
      'http1-parser-response': 0,
      'websocket-decoder-server': 0,
      'websocket-decoder-client': 0,
    },
    outcomes: {},
    inputBytes: 0,
    slowestIterationMs: 0,
    peakMemoryGrowth: 0,
    seconds: 0,
    failures: [],
  };
  let failureCount = 0;
  const fail = (target: FuzzTarget, message: string, input: Buffer | Buffer[]): void => {
    failureCount++;
    if (stats.failures.length < MAX_REPORTED_FAILURES) {
      const bytes = Array.isArray(input) ? Buffer.concat(input) : input;
      stats.failures.push(`${target}: ${message}; input (${bytes.length} B) ${bytes.subarray(0, 256).toString('hex')}`);
    }
  };
  // Seed corpora, regenerated now and then so the inputs keep varying.
  let toServer = Array.from({ length: 16 }, () => validTraffic(random, true));
  let toClient = Array.from({ length: 16 }, () => validTraffic(random, false));
  const baseline = liveMemory();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let lastLog = started;
  let iteration = 0;
  for (; iteration < maxIterations && performance.now() < deadline; iteration++) {
    if (iteration % 2000 === 1999) {
      toServer = Array.from({ length: 16 }, () => validTraffic(random, true));
      toClient = Array.from({ length: 16 }, () => validTraffic(random, false));
    }
    const target = TARGETS[iteration % TARGETS.length];
    const isRandom = random.chance(0.05);
    const begin = performance.now();
    let input: Buffer | Buffer[] = Buffer.alloc(0);
    try {
      let outcome: string;
      switch (target) {
        case 'frame-decoder-server':
        case 'connection-server': {
          input = isRandom
            ? Buffer.concat([Buffer.from(CONNECTION_PREFACE), random.bytes(random.int(400))])
            : mutate(random, random.pick(toServer), random.pick(toClient), CONNECTION_PREFACE.length);
          outcome =
            target === 'connection-server'
              ? fuzzConnection(random, input, 'server')
              : fuzzFrameDecoder(random, input, 'server');
          break;
        }
        case 'frame-decoder-client':
        case 'connection-client': {
          input = isRandom
            ? random.bytes(random.int(400))
            : mutate(random, random.pick(toClient), random.pick(toServer), 0);
          outcome =
            target === 'connection-client'
              ? fuzzConnection(random, input, 'client')
              : fuzzFrameDecoder(random, input, 'client');
          break;
        }
        case 'hpack': {
          const blocks = validHpackBlocks(random);
          input = isRandom
            ? [random.bytes(random.int(300))]
            : blocks.map((block, i) =>
                random.chance(0.7) || i === blocks.length - 1 ? mutate(random, block, blocks[0], -1) : block,
              );
          outcome = fuzzHpack(random, input);
          break;
        }
        case 'http1-parser-request':
        case 'http1-parser-response': {
          const role = target === 'http1-parser-request' ? 'request' : 'response';
          const valid = validHttp1Traffic(random, role);
          input = isRandom ? random.bytes(random.int(400)) : random.chance(0.1) ? valid : mutateHttp1(random, valid);
          outcome = fuzzHttp1Parser(random, input, role);
          break;
        }
        case 'websocket-decoder-server':
        case 'websocket-decoder-client': {
          const role = target === 'websocket-decoder-server' ? 'server' : 'client';
          const valid = validWebSocketTraffic(random, role);
          input = isRandom
            ? random.bytes(random.int(400))
            : random.chance(0.1)
              ? valid
              : mutateWebSocket(random, valid);
          outcome = fuzzWebSocketDecoder(random, input, role);
          break;
        }
      }
      const key = `${target}:${outcome}`;
      stats.outcomes[key] = (stats.outcomes[key] ?? 0) + 1;
    } catch (error) {
      fail(target, `unexpected ${describeError(error)}`, input);
    }
    const took = performance.now() - begin;
    stats.inputBytes += Array.isArray(input) ? input.reduce((sum, block) => sum + block.length, 0) : input.length;
    stats.iterations[target]++;
    if (took > stats.slowestIterationMs) stats.slowestIterationMs = took;
    if (took > budgetMs) fail(target, `iteration took ${took.toFixed(0)} ms (budget ${budgetMs} ms): a hang`, input);
    if (iteration % 5000 === 4999) {
      const growth = liveMemory() - baseline;
      if (growth > stats.peakMemoryGrowth) stats.peakMemoryGrowth = growth;
      if (growth > memoryBound) fail(target, `live memory grew ${(growth / 1048576).toFixed(1)} MiB`, input);
    }
    if (options.log !== undefined && performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      options.log(
        `${iteration + 1} iterations, ${failureCount} failures, ${((lastLog - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  const growth = liveMemory() - baseline;
  if (growth > stats.peakMemoryGrowth) stats.peakMemoryGrowth = growth;
  stats.seconds = (performance.now() - started) / 1000;
  if (failureCount > stats.failures.length)
    stats.failures.push(`… and ${failureCount - stats.failures.length} more failures`);
  return stats;
}

/** Prints a run's statistics. */
export function formatFuzzStats(stats: FuzzStats): string {
  const total = Object.values(stats.iterations).reduce((sum, count) => sum + count, 0);
  const lines = [
    `fuzz: ${total} iterations in ${stats.seconds.toFixed(1)} s (${(total / stats.seconds).toFixed(0)}/s), ${(stats.inputBytes / 1048576).toFixed(1)} MiB of input`,
    `  per target: ${Object.entries(stats.iterations)
      .map(([target, count]) => `${target} ${count}`)
      .join(', ')}`,
    `  slowest iteration ${stats.slowestIterationMs.toFixed(1)} ms; peak live memory growth ${(stats.peakMemoryGrowth / 1048576).toFixed(1)} MiB`,
    '  outcomes:',
    ...Object.entries(stats.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `    ${key} ${count}`),
    `  failures: ${stats.failures.length === 0 ? 'none' : ''}`,
    ...stats.failures.map((failure) => `    ${failure}`),
  ];
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const value = (name: string, fallback: number): number => {
    const index = args.indexOf(name);
    const parsed = index >= 0 ? Number(args[index + 1]) : NaN;
    return Number.isFinite(parsed) ? parsed : fallback;
  };
  const stats = runFuzz({
    seconds: value('--seconds', 60),
    seed: value('--seed', Date.now() & 0xffff_ffff),
    log: (line) => console.log(line),
  });
  console.log(formatFuzzStats(stats));
  process.exitCode = stats.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
