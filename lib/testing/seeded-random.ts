/**
 * A seeded pseudo-random generator for the simulator: the same seed gives the same numbers on
 * every machine, so a failing run replays from its seed.
 *
 * @module
 */
import { checkArgument } from '../argument-checks.js';

/**
 * SeededRandom is a small, fast generator (SplitMix32: a 32-bit state advanced by a Weyl
 * constant and mixed by two multiply-xorshift rounds). Not for cryptography: for reproducible
 * schedules, sizes and split points. Nothing in the simulator reads `Math.random`.
 */
export class SeededRandom {
  private state: number;

  /** Creates a generator from `seed`, an integer (only its low 32 bits count). */
  constructor(seed: number) {
    checkArgument(Number.isInteger(seed), 'new SeededRandom(seed)', 'seed is an integer', seed);
    this.state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [0, `bound`); `bound` is a positive integer. */
  below(bound: number): number {
    return Math.floor(this.nextFloat() * bound);
  }

  /** An integer in [`low`, `high`], both included. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** A new generator whose sequence depends on this one's next number and `salt`, not on later draws here. */
  fork(salt: number): SeededRandom {
    return new SeededRandom((this.nextUint32() ^ Math.imul(salt | 0, 0x27d4eb2d)) >>> 0);
  }

  /** Fills `target` with random bytes. */
  fill(target: Uint8Array): Uint8Array {
    for (let i = 0; i < target.length; i += 4) {
      const word = this.nextUint32();
      target[i] = word & 0xff;
      if (i + 1 < target.length) target[i + 1] = (word >>> 8) & 0xff;
      if (i + 2 < target.length) target[i + 2] = (word >>> 16) & 0xff;
      if (i + 3 < target.length) target[i + 3] = word >>> 24;
    }
    return target;
  }
}
