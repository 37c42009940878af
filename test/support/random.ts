/**
 * @module
 * A seeded PRNG for randomized tests: every such test prints its seed, and `SEED=<n>`
 * replays it exactly.
 */
import { mulberry32 } from "../../scripts/bench/workload.ts";

export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32, uniform in [0, 1): the generator the benchmarks use. */
export { mulberry32 };

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
  };
}

/** The seed from `SEED`, or a fresh one; printed so a failure can be replayed. */
export function testSeed(name: string): number {
  const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`[${name}] seed=${seed} (replay with SEED=${seed})`);
  return seed;
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
