/**
 * h2load as the benchmarks drive it: one run against a URL, parsed into throughput and the
 * server's CPU per request (read from `/proc`, so Linux only).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinned } from './bench-processes.js';

/** The CPU time `pid` used so far, in clock ticks (user + system). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, after the state field
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ). */
export const TICKS_PER_SECOND = 100;

/**
 * What h2load offers over TLS, against every server alike: ALPN h2 only, one TLS 1.3 suite (one
 * TLS 1.2 suite for a server without 1.3) and one key-exchange group. Left to their defaults the
 * servers do not agree (nghttpd prefers AES-256-GCM, Node and h2o take h2load's first choice,
 * AES-128-GCM), and the cipher is part of the CPU per request compared. P-256, as nghttpd offers
 * no other group.
 */
export const H2LOAD_TLS_ARGS: readonly string[] = [
  '--npn-list=h2',
  '--tls13-ciphers=TLS_AES_128_GCM_SHA256',
  '--ciphers=ECDHE-ECDSA-AES128-GCM-SHA256',
  '--groups=P-256',
];

/** One h2load run: throughput, the server's CPU per request, and requests that did not succeed. */
export interface Sample {
  readonly requestsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly failed: number;
  /** What the TLS handshakes settled on (`TLSv1.3, TLS_AES_128_GCM_SHA256, ECDH prime256v1 256 bits, h2`); null over h2c. */
  readonly tls: string | null;
}

/**
 * Runs h2load (on core 1 where it can) with `h2loadArgs` against `url`, charging `pid`'s CPU to
 * the requests; an `https:` URL gets {@link H2LOAD_TLS_ARGS} too.
 */
export function runH2loadAgainst(h2loadArgs: readonly string[], url: string, pid: number): Sample {
  const tlsArgs = url.startsWith('https:') ? H2LOAD_TLS_ARGS : [];
  const [command, commandArgs] = pinned(1, 'h2load', [...tlsArgs, ...h2loadArgs, url]);
  const before = cpuTicks(pid);
  const output = execFileSync(command, commandArgs, {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const cpuSeconds = (cpuTicks(pid) - before) / TICKS_PER_SECOND;
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s, ([\d.]+)([KMG]?B)\/s/.exec(output);
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
  const traffic = /traffic: ([\d.]+)([KMG]?B) \((\d+)\) total/.exec(output);
  if (!finished || !requests || !traffic) throw new Error(`unexpected h2load output:\n${output}`);
  // h2load prints what the first connection negotiated ("Application protocol: h2c" over h2c too).
  const negotiated = ['TLS Protocol', 'Cipher', 'Server Temp Key', 'Application protocol']
    .map((label) => new RegExp(`^${label}: (.+)`, 'm').exec(output)?.[1])
    .filter((value) => value !== undefined);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const succeeded = Number(requests[4]);
  return {
    requestsPerSecond: succeeded / seconds,
    bytesPerSecond: Number(traffic[3]) / seconds,
    cpuMicrosPerRequest: (cpuSeconds * 1e6) / Math.max(1, succeeded),
    failed: Number(requests[5]) + Number(requests[6]) + (Number(requests[1]) - succeeded),
    tls: /^TLS Protocol:/m.test(output) ? negotiated.join(', ') : null,
  };
}

/** h2load's load shapes for small GETs (`-c`, `-m`, `-n`), shorter with `--quick`. */
export interface SmallGetLoads {
  /** One connection, one request in flight. */
  readonly single: readonly string[];
  /** Ten connections of ten streams. */
  readonly tenByTen: readonly string[];
  /** A hundred connections of ten streams. */
  readonly hundredByTen: readonly string[];
}

/** The {@link SmallGetLoads} every small-GET row uses, sluice's, node:http2's and the C servers' alike. */
export function smallGetLoads(isQuick: boolean): SmallGetLoads {
  const busy = String(isQuick ? 50_000 : 200_000);
  return {
    single: ['-c1', '-m1', '-n', String(isQuick ? 5000 : 20_000)],
    tenByTen: ['-c10', '-m10', '-n', busy],
    hundredByTen: ['-c100', '-m10', '-n', busy],
  };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A 64 MiB file of pattern bytes for the upload workloads (`h2load -d`), made once per machine in the temp directory. */
export function uploadFile(): string {
  const path = join(tmpdir(), 'sluice-bench-upload-64MiB');
  if (existsSync(path) && statSync(path).size === 64 * 1024 * 1024) return path;
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  writeFileSync(path, Buffer.concat(Array.from({ length: 64 }, () => block)));
  return path;
}
