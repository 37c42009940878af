/**
 * @module
 * The churn of the compaction benchmark: after every key of a {@link Workload} is loaded
 * (key i holding value i), `ops` random operations each pick a key uniformly; a fraction
 * `deleteFraction` of them delete it, the others overwrite it with the value of another
 * random record (so overwrites are ~150-byte JSON documents from the same buffer, and no
 * value is encoded inside a timed loop). The sequence depends only on the seed, so a
 * second process can compute the same final state without replaying it into a database.
 */
import { mulberry32 } from "./workload.ts";

/** What one churn operation does: key `key` gets value record `value`, or is deleted (`value` = -1). */
export type ChurnVisitor = (key: number, value: number) => void;

export interface ChurnSpec {
  /** Keys in the data set (record numbers 0..n-1). */
  n: number;
  /** Operations after the load. */
  ops: number;
  /** Fraction of the operations that are deletes. */
  deleteFraction: number;
  seed: number;
}

/** A generator of the churn sequence that yields it in slices (the caller batches them). */
export class ChurnSequence {
  private readonly rand: () => number;
  private done = 0;

  constructor(private readonly spec: ChurnSpec) {
    // A seed distinct from the workload's own, so the churn is not correlated with it.
    this.rand = mulberry32((spec.seed ^ 0x5bd1e995) >>> 0);
  }

  get remaining(): number {
    return this.spec.ops - this.done;
  }

  /** Visits the next `count` operations (fewer at the end); returns how many were visited. */
  next(count: number, visit: ChurnVisitor): number {
    const { n, deleteFraction } = this.spec;
    const take = Math.min(count, this.remaining);
    for (let j = 0; j < take; j++) {
      const key = Math.floor(this.rand() * n);
      const del = this.rand() < deleteFraction;
      const value = Math.floor(this.rand() * n);
      visit(key, del ? -1 : value);
    }
    this.done += take;
    return take;
  }
}

/** The state after load + churn: for each key its value record, or -1 when deleted. */
export function churnFinalState(spec: ChurnSpec): Int32Array {
  const state = new Int32Array(spec.n);
  for (let i = 0; i < spec.n; i++) state[i] = i;
  const seq = new ChurnSequence(spec);
  while (seq.remaining > 0) seq.next(1 << 16, (k, v) => (state[k] = v));
  return state;
}
