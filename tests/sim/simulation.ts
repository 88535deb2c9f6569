/**
 * Runs one seed of a workload on a fresh simulated network, and shrinks a failing seed's fault
 * schedule to a minimal one.
 */
import { InvariantChecker, SimulatedNetwork, describeFault, type SimulatedFault } from '../../lib/index.js';

/** A workload: builds its channels on the network, runs it, and records violations. */
export type Workload = (network: SimulatedNetwork, checker: InvariantChecker) => void;

/** What one run found. */
export interface SeedResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly traceHash: string;
  readonly faults: readonly SimulatedFault[];
  readonly appliedFaults: readonly SimulatedFault[];
}

/** Runs `workload` once for `seed` (with `faults` instead of the seed's own schedule when given). */
export function runSeed(workload: Workload, seed: number, faults?: readonly SimulatedFault[]): SeedResult {
  const network = new SimulatedNetwork({ seed, faults });
  const checker = new InvariantChecker();
  try {
    workload(network, checker);
  } catch (error) {
    checker.violations.push(`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    network.finish();
  }
  return {
    seed,
    violations: checker.violations,
    traceHash: network.traceHash,
    faults: network.faults,
    appliedFaults: [...network.appliedFaults],
  };
}

/**
 * {@link runSeed} with a process 'unhandledRejection' listener scoped to the run: a promise the
 * code under test rejected and nobody handled is a violation of that seed. Node reports such
 * rejections once the current macrotask's microtasks drained, so the run's report waits one
 * `setImmediate` before the listener goes.
 */
export async function runSeedWatched(
  workload: Workload,
  seed: number,
  faults?: readonly SimulatedFault[],
): Promise<SeedResult> {
  // A set: a test runner may re-emit the event it saw (mocha does), with the same reason.
  const reasons = new Set<unknown>();
  const listener = (reason: unknown): void => void reasons.add(reason);
  process.on('unhandledRejection', listener);
  try {
    const result = runSeed(workload, seed, faults);
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (reasons.size === 0) return result;
    const rejections = [...reasons].map(
      (reason) => `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
    return { ...result, violations: [...result.violations, ...rejections] };
  } finally {
    process.off('unhandledRejection', listener);
  }
}

/**
 * Drops faults one at a time while the run still fails, until no single fault can go: the
 * schedule left is minimal in that sense (bounded: at most one pass per fault dropped).
 */
export function shrink(workload: Workload, failing: SeedResult): SeedResult {
  let best = failing;
  let faults = [...failing.faults];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < faults.length; i++) {
      const candidate = faults.filter((_, index) => index !== i);
      const result = runSeed(workload, failing.seed, candidate);
      if (result.violations.length > 0) {
        best = result;
        faults = candidate;
        changed = true;
        break;
      }
    }
  }
  return best;
}

/** One line per fault, for reports. */
export function describeFaults(faults: readonly SimulatedFault[]): string {
  return faults.length === 0 ? '(no faults)' : faults.map(describeFault).join(', ');
}
