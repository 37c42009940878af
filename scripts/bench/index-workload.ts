/**
 * @module
 * The index benchmark's view of the engine benchmark's data set (`workload.ts`): which
 * city each document holds (50 cities, ~2% of the documents each), and the seeded choice
 * of cities the queries ask for, identical in every engine's child process.
 */
import { mulberry32, type Workload } from "./workload.ts";

export interface CityCensus {
  /** City names, sorted. */
  names: string[];
  /** Documents per city, by name. */
  counts: Map<string, number>;
}

const PATTERN = Buffer.from('"city":"');

/** Reads the `city` member of every document (untimed, byte search; values are ASCII). */
export function cityCensus(w: Workload): CityCensus {
  const counts = new Map<string, number>();
  for (let i = 0; i < w.n; i++) {
    const v = w.value(i);
    const b = Buffer.from(v.buffer, v.byteOffset, v.length);
    const at = b.indexOf(PATTERN);
    if (at < 0) throw new Error(`document ${i} has no city`);
    const from = at + PATTERN.length;
    const city = b.toString("latin1", from, b.indexOf(34 /* " */, from));
    counts.set(city, (counts.get(city) ?? 0) + 1);
  }
  return { names: [...counts.keys()].sort(), counts };
}

/** `count` distinct cities picked with `seed`, plus one more for warm-up (returned separately). */
export function queryCities(census: CityCensus, count: number, seed: number): { warmup: string; cities: string[] } {
  const rand = mulberry32(seed);
  const pool = [...census.names];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const take = Math.min(count, pool.length - 1);
  return { warmup: pool[take], cities: pool.slice(0, take) };
}
