/**
 * @module
 * What one engine's run of the index benchmark reports (one JSON line from its child
 * process), and the small statistics the report takes from it.
 */
import type { Rate } from "./result.ts";

/** One query kind for one city: each repetition's wall-clock time and what it returned. */
export interface CityTiming {
  city: string;
  /** Documents of that city in the data set. */
  expected: number;
  /** Wall-clock milliseconds per repetition. */
  ms: number[];
  /** CPU milliseconds of the process per repetition (see cpu-clock.ts). */
  cpuMs: number[];
  /** Documents returned (or counted) per repetition. */
  docs: number;
}

/** One pair of bulk loads: into a fresh store without the index, then with it. */
export interface LoadRound {
  plainMs: number;
  indexedMs: number;
  plainCpuMs: number;
  indexedCpuMs: number;
}

export interface IndexEngineResult {
  engine: string;
  docs: number;
  /** Every pair of loads, in the order they ran. */
  loadRounds: LoadRound[];
  /** The figures below are the median round's: the round whose time ratio is the median (the lower middle for an even count). */
  loadPlain: Rate;
  loadIndexed: Rate;
  /** CPU time of the two loads (kvdb: including background work that ran meanwhile). */
  loadPlainCpuMs: number;
  loadIndexedCpuMs: number;
  /** kvdb only: the load plus waiting for its flushes and compactions to finish. */
  loadPlainSettled: Rate | null;
  loadIndexedSettled: Rate | null;
  diskPlain: number;
  diskIndexed: number;
  /** `city = X`, every document (kvdb: pages of 1,000 following next_cursor). */
  all: CityTiming[];
  /** `city = X`, the first 100 in key order. */
  limit100: CityTiming[];
  /** count of `city = X`. */
  count: CityTiming[];
  /** kvdb only: `all` and `limit100` again after `db.compact()` (MemTable empty, one sorted run). */
  allCompacted: CityTiming[] | null;
  limit100Compacted: CityTiming[] | null;
  /** kvdb: rebuildIndex → waitForIndexes (includes dropping the old generation); sqlite: REINDEX. */
  rebuildMs: number;
  /** kvdb: rebuildIndex → the new generation's ready_at; sqlite: DROP INDEX + CREATE INDEX. */
  rebuildAltMs: number;
  baselineRss: number;
  peakRss: number;
  notes: string[];
  /** Correctness failures (must be empty). */
  wrong: string[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall-clock milliseconds per query over every city and repetition. */
export function medianMs(t: CityTiming[]): number {
  return median(t.flatMap((c) => c.ms));
}

/** Median CPU milliseconds per query over every city and repetition. */
export function medianCpuMs(t: CityTiming[]): number {
  return median(t.flatMap((c) => c.cpuMs));
}

/** Documents per second: documents returned over the summed time of the median repetitions. */
export function docsPerSec(t: CityTiming[]): number {
  const docs = t.reduce((n, c) => n + c.docs, 0);
  const ms = t.reduce((n, c) => n + median(c.ms), 0);
  return ms > 0 ? (docs * 1000) / ms : 0;
}

/** Load time with the index ÷ without, of one round. */
export function roundCost(r: LoadRound): number {
  return r.indexedMs / r.plainMs;
}

/** Index of the round whose time ratio is the median (the lower middle for an even count). */
export function medianRound(rounds: LoadRound[]): number {
  const order = rounds.map((_, i) => i).sort((a, b) => roundCost(rounds[a]) - roundCost(rounds[b]));
  return order[(order.length - 1) >> 1];
}
