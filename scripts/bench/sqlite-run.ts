/**
 * @module
 * The bun:sqlite side of the benchmark: the same phases as `kvdb-run.ts`, on the same
 * data, written the way a user of bun:sqlite would (synchronous loops, prepared statements).
 *
 * Settings: `PRAGMA journal_mode=WAL`; table `kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID`
 * (a clustered B-tree on the key, BINARY collation = byte order, like kvdb); statements
 * `INSERT OR REPLACE` / `SELECT v WHERE k = ?` / `SELECT k, v ... ORDER BY k`.
 * Non-durable phases use `synchronous=NORMAL` (in WAL mode: no fsync per commit); durable
 * phases use `synchronous=FULL` (the WAL is fsynced at every commit), so each autocommit
 * insert costs at least one fsync and the "fsyncs/s" shown for sqlite is its commit rate.
 * Everything else is sqlite's default (4 KiB pages, 2 MiB page cache, no mmap) unless
 * BENCH_SQLITE_CACHE_MIB or BENCH_SQLITE_MMAP say otherwise. sqlite connections are synchronous: 64 "concurrent" writers
 * on one connection would run one after another, so the durable phase runs one writer.
 */
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BenchConfig } from "./config.ts";
import { diskBytes, progress, rate, sampleRss, type DurableRate, type EngineResult, type Rate } from "./result.ts";
import { bucketPrefix, BUCKETS, mulberry32, prefixEnd, randomRanges, randomReads, type Workload } from "./workload.ts";

const NAME = "sqlite";

function open(file: string, synchronous: "NORMAL" | "FULL", cfg: BenchConfig): Database {
  const db = new Database(file, { create: true });
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(`PRAGMA synchronous=${synchronous}`);
  if (cfg.sqliteMmap > 0) db.exec(`PRAGMA mmap_size=${cfg.sqliteMmap}`);
  if (cfg.sqliteCacheMib > 0) db.exec(`PRAGMA cache_size=-${cfg.sqliteCacheMib * 1024}`); // negative = KiB
  db.exec("CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
  return db;
}

function time(ops: number, fn: () => void): Rate {
  const t0 = performance.now();
  fn();
  return rate(ops, performance.now() - t0);
}

/** Runs every phase in fresh files under `root` and returns the measurements. */
export async function runSqlite(w: Workload, cfg: BenchConfig, root: string): Promise<EngineResult> {
  const notes = [
    "journal_mode=WAL; table kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
    `synchronous=NORMAL (non-durable phases), FULL (durable); ` +
      `cache_size=${cfg.sqliteCacheMib > 0 ? `${cfg.sqliteCacheMib} MiB` : "default (2 MiB)"}; mmap_size=${cfg.sqliteMmap}`,
  ];
  const n = w.n;

  // Batches: the same records into a fresh database, one transaction per batch.
  const batchDir = path.join(root, "batch");
  fs.mkdirSync(batchDir);
  const bdb = open(path.join(batchDir, "bench.sqlite"), "NORMAL", cfg);
  const bput = bdb.prepare("INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)");
  const tx = bdb.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const i = w.order[j];
      bput.run(w.keys[i], w.value(i));
    }
  });
  const batches = time(n, () => {
    for (let s = 0; s < n; s += cfg.batch) tx(s, Math.min(n, s + cfg.batch));
  });
  progress(NAME, `batches of ${cfg.batch}`, batches);
  bput.finalize();
  bdb.close();
  fs.rmSync(batchDir, { recursive: true, force: true });
  sampleRss();

  // Durable: synchronous=FULL, one autocommit insert (one WAL fsync) at a time.
  const durDir = path.join(root, "durable");
  fs.mkdirSync(durDir);
  const ddb = open(path.join(durDir, "bench.sqlite"), "FULL", cfg);
  const dput = ddb.prepare("INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)");
  const d = cfg.durableOps;
  const d1 = time(d, () => {
    for (let j = 0; j < d; j++) {
      const i = w.order[j % n];
      dput.run(w.keys[i], w.value(i));
    }
  });
  const durable1: DurableRate = { ...d1, writers: 1, syncs: d, syncsPerSec: d1.perSec };
  progress(NAME, "durable puts, 1 writer", d1);
  dput.finalize();
  ddb.close();
  fs.rmSync(durDir, { recursive: true, force: true });
  notes.push("durable: sqlite serializes writers on a connection; the 64-writer row repeats the 1-writer run; fsyncs/s = commits/s");

  // Fill: single autocommit puts in random key order.
  const fillDir = path.join(root, "fill");
  fs.mkdirSync(fillDir);
  const fillFile = path.join(fillDir, "bench.sqlite");
  let db = open(fillFile, "NORMAL", cfg);
  let put = db.prepare("INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)");
  const singlePuts = time(n, () => {
    for (let j = 0; j < n; j++) {
      const i = w.order[j];
      put.run(w.keys[i], w.value(i));
    }
  });
  progress(NAME, "single puts", singlePuts);
  const diskBytesAfterFill = diskBytes(fillDir);
  sampleRss();

  // Warm point reads on the filled database.
  let get = db.prepare<{ v: Uint8Array }, [string]>("SELECT v FROM kv WHERE k = ?");
  let misses = 0;
  const readAll = (ids: Uint32Array): void => {
    for (let j = 0; j < ids.length; j++) {
      if (get.get(w.keys[ids[j]]) === null) misses++;
    }
  };
  readAll(randomReads(n, Math.min(cfg.reads, 10_000), cfg.seed + 1)); // JIT/cache warm-up
  const warmIds = randomReads(n, cfg.reads, cfg.seed + 2);
  const readsWarm = time(warmIds.length, () => readAll(warmIds));
  progress(NAME, "point reads, warm", readsWarm);

  // Close, reopen, read.
  put.finalize();
  get.finalize();
  db.close();
  const t0 = performance.now();
  db = open(fillFile, "NORMAL", cfg);
  get = db.prepare<{ v: Uint8Array }, [string]>("SELECT v FROM kv WHERE k = ?");
  const reopenMs = performance.now() - t0;
  const reopenIds = randomReads(n, cfg.reads, cfg.seed + 3);
  const readsReopened = time(reopenIds.length, () => readAll(reopenIds));
  progress(NAME, `reopen ${reopenMs.toFixed(1)} ms; point reads after reopen`, readsReopened);
  sampleRss();

  // Full ordered scan.
  const all = db.prepare<{ k: string; v: Uint8Array }, []>("SELECT k, v FROM kv ORDER BY k");
  let count = 0;
  let misordered = 0;
  const fullScan = time(n, () => {
    let prev = "";
    for (const row of all.iterate()) {
      if (row.k <= prev) misordered++;
      prev = row.k;
      count++;
    }
  });
  if (count !== n || misordered !== 0) notes.push(`FULL SCAN WRONG: ${count} keys (expected ${n}), ${misordered} out of order`);
  progress(NAME, "full scan", fullScan);
  all.finalize();

  // 1% scans: a random bucket prefix, and a random range of exactly n/100 keys.
  const from = db.prepare<{ k: string; v: Uint8Array }, [string]>("SELECT k, v FROM kv WHERE k >= ? ORDER BY k");
  const between = db.prepare<{ k: string; v: Uint8Array }, [string, string]>("SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k");
  const pick = mulberry32(cfg.seed + 4);
  let prefixKeys = 0;
  const prefixRate = time(0, () => {
    for (let s = 0; s < cfg.scans; s++) {
      const p = bucketPrefix(Math.floor(pick() * BUCKETS));
      for (const row of between.iterate(p, prefixEnd(p))) prefixKeys++;
    }
  });
  const prefixScans = { ...rate(prefixKeys, prefixRate.ms), scans: cfg.scans };
  progress(NAME, `${cfg.scans} prefix scans (keys/s)`, prefixScans);
  const ranges = randomRanges(w, cfg.scans, Math.max(1, Math.floor(n / 100)), cfg.seed + 5);
  let rangeKeys = 0;
  const rangeRate = time(0, () => {
    for (const r of ranges) {
      const rows = r.end === undefined ? from.iterate(r.start) : between.iterate(r.start, r.end);
      for (const row of rows) rangeKeys++;
    }
  });
  const rangeScans = { ...rate(rangeKeys, rangeRate.ms), scans: cfg.scans };
  progress(NAME, `${cfg.scans} range scans (keys/s)`, rangeScans);
  from.finalize();
  between.finalize();
  get.finalize();
  db.close();

  return {
    engine: NAME,
    singlePuts,
    batches,
    durable1,
    durable64: { ...durable1 },
    readsWarm,
    reopenMs,
    readsReopened,
    fullScan,
    prefixScans,
    rangeScans,
    diskBytesAfterFill,
    baselineRss: 0,
    peakRss: 0,
    misses,
    notes,
  };
}
