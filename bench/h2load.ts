/**
 * h2load as the benchmarks drive it: one run against a URL, parsed into throughput and the
 * server's CPU per request (read from `/proc`, so Linux only).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pinned } from './bench-processes.js';

/** The CPU time `pid` used so far, in clock ticks (user + system). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, after the state field
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ). */
export const TICKS_PER_SECOND = 100;

/** One h2load run: throughput, the server's CPU per request, and requests that did not succeed. */
export interface Sample {
  readonly requestsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly failed: number;
}

/** Runs h2load (on core 1 where it can) with `h2loadArgs` against `url`, charging `pid`'s CPU to the requests. */
export function runH2loadAgainst(h2loadArgs: readonly string[], url: string, pid: number): Sample {
  const [command, commandArgs] = pinned(1, 'h2load', [...h2loadArgs, url]);
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
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const succeeded = Number(requests[4]);
  return {
    requestsPerSecond: succeeded / seconds,
    bytesPerSecond: Number(traffic[3]) / seconds,
    cpuMicrosPerRequest: (cpuSeconds * 1e6) / Math.max(1, succeeded),
    failed: Number(requests[5]) + Number(requests[6]) + (Number(requests[1]) - succeeded),
  };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
