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
