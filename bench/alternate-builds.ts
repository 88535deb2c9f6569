/**
 * The several-builds half of the in-process core benchmarks (`http1-core`, `http2-core`): each
 * build measured in a fresh process (one build's code must not warm up the other's), the order
 * flipped every repetition, and the medians printed against the first build.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { median } from './h2load.js';

/** How many times each build is measured. */
const REPETITIONS = 5;

/**
 * Runs `script ROOT ...args` for every root, alternately, {@link REPETITIONS} times each; the
 * script prints `{"microsPerRequest": N}` for its one root. Prints the medians.
 */
export function compareBuildsAlternately(script: string, roots: readonly string[], args: readonly string[]): void {
  const samples = new Map<string, number[]>(roots.map((root) => [root, []]));
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const order = repetition % 2 === 0 ? roots : [...roots].reverse();
    for (const root of order) {
      const output = execFileSync(process.execPath, ['--expose-gc', script, resolve(root), ...args], {
        encoding: 'utf8',
      });
      samples.get(root)!.push((JSON.parse(output) as { microsPerRequest: number }).microsPerRequest);
    }
  }
  const first = median(samples.get(roots[0])!);
  for (const [root, values] of samples) {
    const value = median(values);
    process.stdout.write(
      `${root.padEnd(24)} ${value.toFixed(3)} µs CPU/request (median of ${values.length}: ${values.map((v) => v.toFixed(3)).join(' ')})` +
        ` | ${(value / first).toFixed(3)}× the first\n`,
    );
  }
}
