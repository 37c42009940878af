/**
 * @module
 * The index benchmark's bulk loads, run the same way for each engine: BENCH_LOAD_ROUNDS
 * pairs (without the index, then with it), each store in a fresh directory. One pair's
 * ratio moves by ±15% on a shared machine, so the report takes the pair whose ratio is
 * the median. An untimed pair of smaller loads runs first: the first load in a process
 * also compiles the engine's code (in a 1M-document run without it, kvdb's plain loads
 * took 6.5, 4.9 and 4.7 s: the first pair's ratio 1.24×, the next ones 1.56× and
 * 1.83×). The last indexed store stays open for the queries.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { medianRound, type LoadRound } from "./index-result.ts";
import { progress, sampleRss, type Rate } from "./result.ts";

export interface LoadedStore {
  load: Rate;
  cpuMs: number;
  /** Extra progress lines after the load (kvdb: the background work). */
  report?: () => void;
  close(): void | Promise<void>;
}

export interface LoadPairs<T> {
  rounds: LoadRound[];
  /** The median pair's stores (their figures; they may be closed). */
  plain: T;
  indexed: T;
  /** The last indexed store, still open. */
  kept: T;
}

/** Documents of the untimed warm-up pair (fewer when the data set is smaller). */
const WARMUP_DOCS = 50_000;

/** `load(dir, indexed, docs)` loads the data set's first `docs` documents into a fresh store at `dir`. */
export async function runLoadPairs<T extends LoadedStore>(
  engine: string,
  rounds: number,
  docs: number,
  root: string,
  load: (dir: string, indexed: boolean, docs: number) => T | Promise<T>,
): Promise<LoadPairs<T>> {
  const warmupDocs = Math.min(docs, WARMUP_DOCS);
  for (const indexed of [false, true]) {
    const dir = path.join(root, `warmup-${indexed ? "indexed" : "plain"}`);
    await (await load(dir, indexed, warmupDocs)).close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  progress(engine, `warm-up: a pair of ${warmupDocs.toLocaleString("en-US")}-document loads, untimed`);
  const plains: T[] = [];
  const indexeds: T[] = [];
  for (let round = 1; round <= rounds; round++) {
    const tag = rounds > 1 ? ` (round ${round} of ${rounds})` : "";
    const plainDir = path.join(root, `plain-${round}`);
    const plain = await load(plainDir, false, docs);
    progress(engine, `bulk load, no index${tag}`, plain.load);
    plain.report?.();
    await plain.close();
    fs.rmSync(plainDir, { recursive: true, force: true });
    sampleRss();
    const idxDir = path.join(root, `indexed-${round}`);
    const idx = await load(idxDir, true, docs);
    progress(engine, `bulk load, with index${tag}`, idx.load);
    idx.report?.();
    plains.push(plain);
    indexeds.push(idx);
    if (round < rounds) {
      await idx.close();
      fs.rmSync(idxDir, { recursive: true, force: true });
    }
  }
  const pairs: LoadRound[] = plains.map((p, i) => ({ plainMs: p.load.ms, indexedMs: indexeds[i].load.ms, plainCpuMs: p.cpuMs, indexedCpuMs: indexeds[i].cpuMs }));
  const m = medianRound(pairs);
  return { rounds: pairs, plain: plains[m], indexed: indexeds[m], kept: indexeds[indexeds.length - 1] };
}
