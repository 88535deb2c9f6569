/**
 * The simulator's command line: `npm run sim -- --seeds N [--from S] [--workload NAME]` runs N
 * seeds of every workload (or one), prints each failure with its seed, its shrunk fault schedule
 * and a one-line replay command, and exits non-zero when any failed. Workloads: `tests/sim/workloads.ts`
 * (docs/testing.md describes each).
 */
import { performance } from 'node:perf_hooks';
import { describeFaults, runSeedWatched, shrink } from './simulation.js';
import { WORKLOADS } from './workloads.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
}

function workloadOption(): string | undefined {
  const index = process.argv.indexOf('--workload');
  return index < 0 ? undefined : process.argv[index + 1];
}

const seeds = option('seeds', 100);
const from = option('from', 1);
const only = workloadOption();
const names = Object.keys(WORKLOADS).filter((name) => only === undefined || name === only);
if (names.length === 0) throw new Error(`no workload named ${only}; there are ${Object.keys(WORKLOADS).join(', ')}`);
let failures = 0;
let runs = 0;
const started = performance.now();
for (const name of names) {
  const workload = WORKLOADS[name];
  for (let seed = from; seed < from + seeds; seed++) {
    const result = await runSeedWatched(workload, seed);
    runs++;
    if (result.violations.length === 0) continue;
    failures++;
    const shrunk = shrink(workload, result);
    console.log(`FAIL ${name} seed ${seed}: ${shrunk.violations[0]}`);
    for (const violation of shrunk.violations.slice(1, 5)) console.log(`  also: ${violation}`);
    console.log(
      `  faults (shrunk ${result.faults.length} -> ${shrunk.faults.length}): ${describeFaults(shrunk.faults)}`,
    );
    console.log(`  replay: npm run sim -- --workload ${name} --seeds 1 --from ${seed}`);
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(`${runs} runs, ${failures} failed, ${(runs / seconds).toFixed(1)} seeds/s`);
process.exitCode = failures > 0 ? 1 : 0;
