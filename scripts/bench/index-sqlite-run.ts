/**
 * @module
 * The bun:sqlite side of the index benchmark, written as a bun:sqlite user would
 * (prepared statements, synchronous loops), with the engine benchmark's settings
 * (`journal_mode=WAL`, `synchronous=NORMAL`, table `kv(k TEXT PRIMARY KEY, v BLOB)
 * WITHOUT ROWID`, sqlite's default 2 MiB page cache) plus a JSON expression index:
 *
 *   CREATE INDEX kv_city ON kv(json_extract(v, '$.city'))
 *
 * 1. Bulk load without the index, then into a fresh file with the index created before
 *    the load: one transaction per batch, the data set's random key order; BENCH_LOAD_ROUNDS
 *    such pairs, see load-pairs.ts.
 * 2. On the indexed database: `SELECT k, v FROM kv WHERE json_extract(v,'$.city') = ?
 *    ORDER BY k` (all rows, `.all()`, then `JSON.parse` of each value: the output kvdb's
 *    query gives), the same with `LIMIT 100`, and `SELECT count(*)
 *    ... WHERE json_extract(v,'$.city') = ?` (answered from the covering index). The
 *    query plans are recorded in the notes.
 * 3. `REINDEX kv_city`, and `DROP INDEX` + `CREATE INDEX`.
 */
import type { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as path from "node:path";
import type { IndexBenchConfig } from "./index-config.ts";
import type { CityCensus } from "./index-workload.ts";
import type { CityTiming, IndexEngineResult } from "./index-result.ts";
import { runLoadPairs, type LoadedStore } from "./load-pairs.ts";
import { cpuMs } from "./cpu-clock.ts";
import { openSqliteKv } from "./sqlite-kv.ts";
import { diskBytes, progress, rate } from "./result.ts";
import type { Workload } from "./workload.ts";

const NAME = "sqlite";
const CREATE_INDEX = "CREATE INDEX kv_city ON kv(json_extract(v, '$.city'))";
const WHERE = "json_extract(v, '$.city') = ?";

interface Loaded extends LoadedStore {
  db: Database;
  disk: number;
}

/** Loads the data set's first `docs` documents (all of them for the timed loads). */
function load(w: Workload, cfg: IndexBenchConfig, dir: string, indexed: boolean, docs: number): Loaded {
  fs.mkdirSync(dir);
  const db = openSqliteKv(path.join(dir, "bench.sqlite"));
  if (indexed) db.exec(CREATE_INDEX);
  const put = db.prepare("INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)");
  const tx = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const i = w.order[j];
      put.run(w.keys[i], w.value(i));
    }
  });
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let s = 0; s < docs; s += cfg.batch) tx(s, Math.min(docs, s + cfg.batch));
  const r = rate(docs, performance.now() - t0);
  const loadCpuMs = cpuMs() - c0;
  put.finalize();
  return { db, load: r, cpuMs: loadCpuMs, disk: diskBytes(dir), close: () => db.close() };
}

function timeCities(cities: string[], census: CityCensus, rounds: number, expect: (city: string) => number, fn: (city: string) => number, what: string, wrong: string[]): CityTiming[] {
  return cities.map((city) => {
    const t: CityTiming = { city, expected: census.counts.get(city) ?? 0, ms: [], cpuMs: [], docs: 0 };
    for (let r = 0; r < rounds; r++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      t.docs = fn(city);
      t.ms.push(performance.now() - t0);
      t.cpuMs.push(cpuMs() - c0);
      if (t.docs !== expect(city)) wrong.push(`${what} ${city}: ${t.docs} rows (expected ${expect(city)})`);
    }
    return t;
  });
}

export async function runSqliteIndex(w: Workload, census: CityCensus, cfg: IndexBenchConfig, root: string): Promise<IndexEngineResult> {
  const notes = ["journal_mode=WAL, synchronous=NORMAL, default 2 MiB page cache; kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID", CREATE_INDEX];
  const wrong: string[] = [];

  const pairs = await runLoadPairs(NAME, cfg.loadRounds, w.n, root, (dir, indexed, docs) => load(w, cfg, dir, indexed, docs));
  const { plain, indexed: idx } = pairs;
  const db = pairs.kept.db;

  const all = db.prepare<{ k: string; v: Uint8Array }, [string]>(`SELECT k, v FROM kv WHERE ${WHERE} ORDER BY k`);
  const top = db.prepare<{ k: string; v: Uint8Array }, [string]>(`SELECT k, v FROM kv WHERE ${WHERE} ORDER BY k LIMIT 100`);
  const cnt = db.prepare<{ n: number }, [string]>(`SELECT count(*) AS n FROM kv WHERE ${WHERE}`);
  for (const [label, sql] of [
    ["all", `SELECT k, v FROM kv WHERE ${WHERE} ORDER BY k`],
    ["limit 100", `SELECT k, v FROM kv WHERE ${WHERE} ORDER BY k LIMIT 100`],
    ["count", `SELECT count(*) AS n FROM kv WHERE ${WHERE}`],
  ]) {
    const explain = db.prepare<{ detail: string }, [string]>(`EXPLAIN QUERY PLAN ${sql}`);
    notes.push(`plan (${label}): ${explain.all("x").map((r) => r.detail).join("; ")}`);
    explain.finalize();
  }

  const expected = (city: string): number => census.counts.get(city) ?? 0;
  const { warmup, cities } = cfg.queryCities;
  all.all(warmup);
  top.all(warmup);
  cnt.get(warmup);
  // The same output as kvdb's query: each key with its value parsed into an object.
  const decoder = new TextDecoder();
  const parsed = (rows: { k: string; v: Uint8Array }[]): number => {
    for (const row of rows) JSON.parse(decoder.decode(row.v));
    return rows.length;
  };
  const allT = timeCities(cities, census, cfg.rounds, expected, (c) => parsed(all.all(c)), "city = X, all", wrong);
  progress(NAME, `city = X, all rows, ${cities.length} cities × ${cfg.rounds}`);
  const topT = timeCities(cities, census, cfg.limitRounds, (c) => Math.min(100, expected(c)), (c) => parsed(top.all(c)), "city = X, limit 100", wrong);
  progress(NAME, `city = X, limit 100, ${cities.length} cities × ${cfg.limitRounds}`);
  const cntT = timeCities(cities, census, cfg.countRounds, expected, (c) => cnt.get(c)?.n ?? -1, "count city = X", wrong);
  progress(NAME, `count city = X, ${cities.length} cities × ${cfg.countRounds}`);

  // For reference: the raw rows, values left as bytes (no objects built).
  for (const [label, stmt, rounds] of [["all", all, cfg.rounds], ["limit 100", top, cfg.limitRounds]] as const) {
    const ms: number[] = [];
    for (const city of cities) {
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        stmt.all(city);
        ms.push(performance.now() - t0);
      }
    }
    ms.sort((a, b) => a - b);
    notes.push(`reference: city = X, ${label}, raw rows (values left as bytes): median ${ms[ms.length >> 1].toFixed(3)} ms per query`);
  }
  all.finalize();
  top.finalize();
  cnt.finalize();

  const r0 = performance.now();
  db.exec("REINDEX kv_city");
  const rebuildMs = performance.now() - r0;
  const d0 = performance.now();
  db.exec("DROP INDEX kv_city");
  db.exec(CREATE_INDEX);
  const rebuildAltMs = performance.now() - d0;
  progress(NAME, `REINDEX ${(rebuildMs / 1000).toFixed(2)} s, DROP + CREATE INDEX ${(rebuildAltMs / 1000).toFixed(2)} s`);
  const recount = db.prepare<{ n: number }, [string]>(`SELECT count(*) AS n FROM kv WHERE ${WHERE}`);
  const check = recount.get(cities[0])?.n;
  recount.finalize();
  if (check !== expected(cities[0])) wrong.push(`count after re-creating the index: ${check} (expected ${expected(cities[0])})`);
  db.close();

  return {
    engine: NAME,
    docs: w.n,
    loadRounds: pairs.rounds,
    loadPlain: plain.load,
    loadIndexed: idx.load,
    loadPlainCpuMs: plain.cpuMs,
    loadIndexedCpuMs: idx.cpuMs,
    loadPlainSettled: null,
    loadIndexedSettled: null,
    diskPlain: plain.disk,
    diskIndexed: idx.disk,
    all: allT,
    limit100: topT,
    count: cntT,
    allCompacted: null,
    limit100Compacted: null,
    rebuildMs,
    rebuildAltMs,
    baselineRss: 0,
    peakRss: 0,
    notes,
    wrong,
  };
}
