/**
 * @module
 * The index benchmark's knobs, from the environment (inherited by its child processes).
 * BENCH_SEED, BENCH_BATCH and BENCH_ENGINES are the engine benchmark's (config.ts).
 */
import { readConfig } from "./config.ts";
import { envInt } from "./env.ts";

export interface IndexBenchConfig {
  /** BENCH_DOCS: user documents (default 1,000,000). */
  docs: number;
  seed: number;
  batch: number;
  engines: string[];
  /**
   * BENCH_LOAD_ROUNDS: pairs of bulk loads (without, then with the index) per engine
   * (default 3); the index cost is the median of the pairs' ratios.
   */
  loadRounds: number;
  /** BENCH_CITIES: cities queried (default 5, picked with the seed; one more warms up). */
  cities: number;
  /** BENCH_ROUNDS: repetitions of "all documents of a city" per city (default 3). */
  rounds: number;
  /** BENCH_LIMIT_ROUNDS: repetitions of the `limit 100` query per city (default 20). */
  limitRounds: number;
  /** BENCH_COUNT_ROUNDS: repetitions of the count per city (default 200). */
  countRounds: number;
  /** Filled in by the child once the data set exists. */
  queryCities: { warmup: string; cities: string[] };
}

export function readIndexConfig(env: Record<string, string | undefined> = process.env): IndexBenchConfig {
  const base = readConfig(env);
  return {
    docs: envInt("BENCH_DOCS", 1_000_000, 1, env),
    seed: base.seed,
    batch: base.batch,
    engines: base.engines,
    loadRounds: envInt("BENCH_LOAD_ROUNDS", 3, 1, env),
    cities: envInt("BENCH_CITIES", 5, 1, env),
    rounds: envInt("BENCH_ROUNDS", 3, 1, env),
    limitRounds: envInt("BENCH_LIMIT_ROUNDS", 20, 1, env),
    countRounds: envInt("BENCH_COUNT_ROUNDS", 200, 1, env),
    queryCities: { warmup: "", cities: [] },
  };
}
