/**
 * The routes both benchmark servers serve, so they do the same work:
 * `GET /` small text, `GET /bytes/N` N bytes of a fixed pattern, `POST /echo` the request body.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ServerHttp2Stream } from 'node:http2';
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

/** The small response body. */
export const SMALL_BODY = Buffer.from('hello from the benchmark\n');

/** A 64 KiB pattern block that large responses are cut from. */
export const PATTERN_BLOCK: Buffer = (() => {
  const block = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  return block;
})();

/** The headers of a `/bytes/N` response on the low-level sluice API (a flat list). */
export function patternHeaders(count: number, date: string): string[] {
  return [':status', '200', 'content-type', 'application/octet-stream', 'content-length', String(count), 'date', date];
}

/** Answers `/bytes/N` on a node:http2 stream: `count` pattern bytes with back-pressure, then the end. */
export function sendNodePattern(stream: ServerHttp2Stream, count: number): void {
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': count });
  let remaining = count;
  const pump = (): void => {
    while (remaining > 0) {
      const size = Math.min(remaining, PATTERN_BLOCK.length);
      remaining -= size;
      if (!stream.write(size === PATTERN_BLOCK.length ? PATTERN_BLOCK : PATTERN_BLOCK.subarray(0, size))) {
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
}

/** Parses `/bytes/N`; returns N or -1. */
export function parseBytesPath(path: string): number {
  if (!path.startsWith('/bytes/')) return -1;
  const count = Number(path.slice(7));
  return Number.isSafeInteger(count) && count >= 0 ? count : -1;
}

/** The test certificate and key when the server runs with TLS=1 (fixtures, never for real use). */
export function benchTls(): { cert: Buffer; key: Buffer } | null {
  if (process.env['TLS'] !== '1') return null;
  const fixtures = new URL('../../../tests/fixtures/tls/', import.meta.url);
  return {
    cert: readFileSync(new URL('server-cert.pem', fixtures)),
    key: readFileSync(new URL('server-key.pem', fixtures)),
  };
}

/** Prints the line the runner waits for. */
export function announce(port: number, isTls = false): void {
  process.stdout.write(`listening on ${isTls ? 'https' : 'http'}://127.0.0.1:${port}\n`);
}

/** What a server reports on SIGUSR2 (one JSON line on stdout). */
export interface ServerStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Memory of C++ objects bound to JavaScript ones (Buffers included). */
  readonly externalBytes: number;
  /** Memory of ArrayBuffers and Buffers. */
  readonly arrayBuffersBytes: number;
  readonly minorGcs: number;
  readonly majorGcs: number;
  /** Size of V8's young generation: bytes allocated between two minor GCs, roughly. */
  readonly youngGenerationBytes: number;
  /**
   * Bytes allocated in V8's heap since the server started reporting, counted from its GCs
   * (`v8.GCProfiler`): each GC adds the heap's use before it less its use after the previous one,
   * and the report adds what was allocated since the last GC.
   */
  readonly allocatedBytes: number;
  /** Physical (touched) bytes of each V8 heap space, by space name. */
  readonly physicalBytesBySpace: Record<string, number>;
  readonly pool: Record<string, number> | null;
}

/**
 * Reports memory and GC counts on SIGUSR2, so the runner can measure memory per idle
 * connection and allocation per request from outside the process.
 */
export function reportStatsOnSignal(poolStatistics: () => Record<string, number> | null): void {
  let minorGcs = 0;
  let majorGcs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) minorGcs++;
      else majorGcs++;
    }
  }).observe({ entryTypes: ['gc'] });
  let allocatedBytes = 0;
  let usedAfterLastGc = v8.getHeapStatistics().used_heap_size;
  let profiler = new v8.GCProfiler();
  profiler.start();
  process.on('SIGUSR2', () => {
    // Allocated since the last report: what each GC found in use less what the one before left.
    for (const gc of profiler.stop().statistics) {
      allocatedBytes += gc.beforeGC.heapStatistics.usedHeapSize - usedAfterLastGc;
      usedAfterLastGc = gc.afterGC.heapStatistics.usedHeapSize;
    }
    const usedNow = v8.getHeapStatistics().used_heap_size;
    allocatedBytes += usedNow - usedAfterLastGc;
    usedAfterLastGc = usedNow;
    // The runner starts servers with --expose-gc: measure what is retained, not garbage.
    (globalThis as { gc?: () => void }).gc?.();
    usedAfterLastGc = v8.getHeapStatistics().used_heap_size;
    profiler = new v8.GCProfiler();
    profiler.start();
    const spaces = v8.getHeapSpaceStatistics();
    const newSpace = spaces.find((space) => space.space_name === 'new_space');
    const memory = process.memoryUsage();
    const stats: ServerStats = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      arrayBuffersBytes: memory.arrayBuffers,
      minorGcs,
      majorGcs,
      youngGenerationBytes: newSpace === undefined ? 0 : newSpace.space_size / 2,
      allocatedBytes,
      physicalBytesBySpace: Object.fromEntries(spaces.map((space) => [space.space_name, space.physical_space_size])),
      pool: poolStatistics(),
    };
    process.stdout.write(`stats ${JSON.stringify(stats)}\n`);
  });
}
