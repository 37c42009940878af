/**
 * @module
 * The kvdb side of the index benchmark, through the embedded API with default options
 * except `sync: "none"` and the index declaration:
 *
 *   { name: "users_city", scope_prefix: "user:", type: "equality", extractor: { kind: "json_path", path: "$.city" } }
 *
 * 1. Bulk load into a fresh directory without indexes, then into another with the index
 *    declared at open (on an empty database it is `ready` at once, so every batch
 *    maintains it): `db.write` batches in the data set's random key order. Timed until
 *    the last batch is acknowledged; a second figure adds the wait for background
 *    flushes and compactions (index entries are data too, and cost compaction later).
 *    BENCH_LOAD_ROUNDS such pairs (default 3), see load-pairs.ts.
 * 2. On the indexed database, settled: for each query city, `db.query` with
 *    `filter: {city}` following `next_cursor` in pages of 1,000 until done; the first
 *    page with `limit: 100`; and `count: true`. Each result is checked against the data
 *    set, and the plan must name the index.
 * 3. `db.compact()`, then the "all" and "limit 100" queries again: the same data with
 *    an empty MemTable and every table in one sorted run, to show what the write-side
 *    state (MemTable, overlapping levels) costs the per-candidate lookups.
 * 4. `db.rebuildIndex("users_city")`, then `waitForIndexes()`.
 */
import { openDatabase } from "../../src/db.ts";
import type { Database, IndexDefinition, QueryResponse } from "../../src/types.ts";
import type { IndexBenchConfig } from "./index-config.ts";
import type { CityCensus } from "./index-workload.ts";
import type { CityTiming, IndexEngineResult } from "./index-result.ts";
import { runLoadPairs, type LoadedStore } from "./load-pairs.ts";
import { writeInBatches } from "./kvdb-batches.ts";
import { describeTree, settle } from "./kvdb-settle.ts";
import { cpuMs } from "./cpu-clock.ts";
import { diskBytes, progress, rate, type Rate } from "./result.ts";
import type { Workload } from "./workload.ts";

const NAME = "kvdb";
const INDEX = "users_city";
const SCOPE = "user:";
export const CITY_INDEX: IndexDefinition = { name: INDEX, scope_prefix: SCOPE, type: "equality", extractor: { kind: "json_path", path: "$.city" } };

interface Loaded extends LoadedStore {
  db: Database;
  settled: Rate;
  disk: number;
  tree: string;
}

/** Loads the data set's first `docs` documents (all of them for the timed loads). */
async function load(w: Workload, cfg: IndexBenchConfig, dir: string, indexed: boolean, docs: number): Promise<Loaded> {
  const db = await openDatabase(dir, indexed ? { sync: "none", indexes: [CITY_INDEX] } : { sync: "none" });
  await db.waitForIndexes();
  const c0 = cpuMs();
  const t0 = performance.now();
  await writeInBatches(db, docs, cfg.batch, (ops, from, to) => {
    for (let j = from; j < to; j++) {
      const i = w.order[j];
      ops.push({ type: "put", key: w.keys[i], value: w.value(i) });
    }
  });
  const loaded = performance.now() - t0;
  const loadCpuMs = cpuMs() - c0;
  await settle(db);
  const settled = performance.now() - t0;
  const tree = describeTree(db);
  const settledRate = rate(docs, settled);
  return {
    db,
    load: rate(docs, loaded),
    cpuMs: loadCpuMs,
    settled: settledRate,
    disk: diskBytes(dir),
    tree,
    report: () => progress(NAME, `  + background work: ${tree}`, settledRate),
    close: () => db.close(),
  };
}

function planIndex(r: QueryResponse): string | null {
  return r.plan.index;
}

/** All documents of `city`, page by page; returns the count and whether every page came from the index. */
async function fetchAll(db: Database, city: string): Promise<{ docs: number; fromIndex: boolean }> {
  let cursor: string | null = null;
  let docs = 0;
  let fromIndex = true;
  do {
    const r = await db.query({ scope_prefix: SCOPE, filter: { city }, limit: 1000, cursor });
    if (!("items" in r)) throw new Error("expected items");
    docs += r.items.length;
    if (planIndex(r) !== INDEX) fromIndex = false;
    cursor = r.next_cursor;
  } while (cursor !== null);
  return { docs, fromIndex };
}

async function first100(db: Database, city: string): Promise<{ docs: number; fromIndex: boolean }> {
  const r = await db.query({ scope_prefix: SCOPE, filter: { city }, limit: 100 });
  if (!("items" in r)) throw new Error("expected items");
  return { docs: r.items.length, fromIndex: planIndex(r) === INDEX };
}

async function count(db: Database, city: string): Promise<{ docs: number; fromIndex: boolean }> {
  const r = await db.query({ scope_prefix: SCOPE, filter: { city }, count: true });
  if (!("count" in r)) throw new Error("expected a count");
  return { docs: r.count, fromIndex: planIndex(r) === INDEX && r.plan.counted_from_index === true };
}

/** Runs `fn` `rounds` times for each city, timing each call and checking its result. */
async function timeCities(
  cities: string[],
  census: CityCensus,
  rounds: number,
  expect: (city: string) => number,
  fn: (city: string) => Promise<{ docs: number; fromIndex: boolean }>,
  what: string,
  wrong: string[],
): Promise<CityTiming[]> {
  const out: CityTiming[] = [];
  for (const city of cities) {
    const t: CityTiming = { city, expected: census.counts.get(city) ?? 0, ms: [], cpuMs: [], docs: 0 };
    for (let r = 0; r < rounds; r++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      const res = await fn(city);
      t.ms.push(performance.now() - t0);
      t.cpuMs.push(cpuMs() - c0);
      t.docs = res.docs;
      if (res.docs !== expect(city)) wrong.push(`${what} ${city}: ${res.docs} documents (expected ${expect(city)})`);
      if (!res.fromIndex) wrong.push(`${what} ${city}: not answered from the index`);
    }
    out.push(t);
  }
  return out;
}

export async function runKvdbIndex(w: Workload, census: CityCensus, cfg: IndexBenchConfig, root: string): Promise<IndexEngineResult> {
  const notes: string[] = [];
  const wrong: string[] = [];

  const pairs = await runLoadPairs(NAME, cfg.loadRounds, w.n, root, (dir, indexed, docs) => load(w, cfg, dir, indexed, docs));
  const { plain, indexed: idx } = pairs;
  const db = pairs.kept.db;
  notes.push(`no index, settled: ${plain.tree}`);
  notes.push(`with index, settled: ${idx.tree}`);
  const info = db.getIndex(INDEX);
  notes.push(`index after load: state ${info?.state}, ${info?.terms} terms, ${info?.blocks} blocks, ${info?.live_entries} live entries, ${info?.tombstones} tombstones, ${((info?.bytes ?? 0) / 1048576).toFixed(1)} MiB`);
  if (info?.state !== "ready" || info.live_entries !== w.n) wrong.push(`index after load: state ${info?.state}, ${info?.live_entries} live entries (expected ready, ${w.n})`);

  const expected = (city: string): number => census.counts.get(city) ?? 0;
  const { warmup, cities } = cfg.queryCities;
  // Warm-up (JIT, posting cache, page cache) on a city that is not measured.
  await fetchAll(db, warmup);
  await first100(db, warmup);
  await count(db, warmup);

  const all = await timeCities(cities, census, cfg.rounds, expected, (c) => fetchAll(db, c), "city = X, all", wrong);
  progress(NAME, `city = X, all documents, ${cities.length} cities × ${cfg.rounds}`);
  const limit100 = await timeCities(cities, census, cfg.limitRounds, (c) => Math.min(100, expected(c)), (c) => first100(db, c), "city = X, limit 100", wrong);
  progress(NAME, `city = X, limit 100, ${cities.length} cities × ${cfg.limitRounds}`);
  const counted = await timeCities(cities, census, cfg.countRounds, expected, (c) => count(db, c), "count city = X", wrong);
  progress(NAME, `count city = X, ${cities.length} cities × ${cfg.countRounds}`);
  const sample = await db.query({ scope_prefix: SCOPE, filter: { city: cities[0] }, limit: 1000 });
  notes.push(`plan of one page of 1,000: ${JSON.stringify(sample.plan)}`);

  const c0 = performance.now();
  await db.compact();
  await settle(db);
  notes.push(`db.compact() before the second round of queries: ${((performance.now() - c0) / 1000).toFixed(1)} s, then ${describeTree(db)}`);
  await fetchAll(db, warmup);
  const allCompacted = await timeCities(cities, census, cfg.rounds, expected, (c) => fetchAll(db, c), "after compact(): city = X, all", wrong);
  const limit100Compacted = await timeCities(cities, census, cfg.limitRounds, (c) => Math.min(100, expected(c)), (c) => first100(db, c), "after compact(): city = X, limit 100", wrong);
  progress(NAME, "after db.compact(): city = X, all documents and limit 100 again");

  // Rebuild: a new generation is built online from a scan of the scope; the old one is
  // dropped in the background once the new one is ready.
  const generation = db.getIndex(INDEX)?.generation ?? 0;
  const wall0 = Date.now();
  const t0 = performance.now();
  await db.rebuildIndex(INDEX);
  await db.waitForIndexes();
  const rebuildMs = performance.now() - t0;
  const after = db.getIndex(INDEX);
  const readyAt = after?.progress.ready_at ? Date.parse(after.progress.ready_at) : NaN;
  const rebuildAltMs = readyAt - wall0;
  progress(NAME, `rebuild: ready after ${(rebuildAltMs / 1000).toFixed(2)} s, old generation dropped after ${(rebuildMs / 1000).toFixed(2)} s`);
  if (after?.state !== "ready" || after.generation <= generation || after.live_entries !== w.n) {
    wrong.push(`after rebuild: state ${after?.state}, generation ${after?.generation} (was ${generation}), ${after?.live_entries} live entries`);
  }
  const recount = await count(db, cities[0]);
  if (recount.docs !== expected(cities[0]) || !recount.fromIndex) wrong.push(`count after rebuild: ${recount.docs} (expected ${expected(cities[0])})`);
  notes.push(`after rebuild: ${describeTree(db)}`);
  await db.close();

  return {
    engine: NAME,
    docs: w.n,
    loadRounds: pairs.rounds,
    loadPlain: plain.load,
    loadIndexed: idx.load,
    loadPlainCpuMs: plain.cpuMs,
    loadIndexedCpuMs: idx.cpuMs,
    loadPlainSettled: plain.settled,
    loadIndexedSettled: idx.settled,
    diskPlain: plain.disk,
    diskIndexed: idx.disk,
    all,
    limit100,
    count: counted,
    allCompacted,
    limit100Compacted,
    rebuildMs,
    rebuildAltMs,
    baselineRss: 0,
    peakRss: 0,
    notes,
    wrong,
  };
}
