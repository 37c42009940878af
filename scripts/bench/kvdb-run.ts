/**
 * @module
 * The kvdb side of the benchmark: the same phases as `sqlite-run.ts`, on the same data,
 * through the embedded API (`openDatabase`) with default options except `sync`.
 *
 * Non-durable phases open with `sync: "none"` (a write resolves after write(2)); durable
 * phases with `sync: "always"` (after fdatasync), where fsyncs are counted from
 * `stats().wal.syncs` so that group commit shows as several writes per fsync. Every call
 * is awaited one at a time, as a caller would, except in the concurrent-writers phase.
 * The write phases run first, each on its own store that is closed afterwards, so no
 * other store's background compaction runs while they are timed. Before the warm reads
 * and before the scans the bench waits (untimed) for background flushes and compactions
 * to finish; the point reads right after reopen are measured without waiting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openDatabase } from "../../src/db.ts";
import type { Database, WriteOp } from "../../src/types.ts";
import type { BenchConfig } from "./config.ts";
import { diskBytes, progress, rate, sampleRss, timed, type DurableRate, type EngineResult, type Rate } from "./result.ts";
import { bucketPrefix, BUCKETS, mulberry32, randomRanges, randomReads, type Workload } from "./workload.ts";
import { settle } from "./kvdb-settle.ts";

/** The read phases wait (untimed) at most this long for a settled tree. */
const SETTLE_LIMIT_MS = 120_000;

const NAME = "kvdb";

function describe(db: Database): string {
  const s = db.stats();
  const levels = s.sstables.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(" ");
  const c = s.compaction;
  return (
    `${s.sstables.files} sstables (${levels || "none"}), ${s.flushes} flushes, ${c.compactions} compactions` +
    `${c.running ? " (one running)" : ""}, write amplification ${c.writeAmplification.toFixed(2)}, ` +
    `stalls: ${s.stall.slowdowns} slowdowns, ${s.stall.stops} stops, ${s.memtables.immutable} immutable memtables`
  );
}

/** `writers` concurrent loops writing `ops` records (starting at insertion index `from`). */
async function durableWrites(db: Database, w: Workload, from: number, ops: number, writers: number): Promise<DurableRate> {
  const per = Math.max(1, Math.floor(ops / writers));
  const total = per * writers;
  const syncs0 = db.stats().wal.syncs;
  const writer = async (k: number): Promise<void> => {
    for (let j = 0; j < per; j++) {
      const i = w.order[(from + k * per + j) % w.n];
      await db.put(w.keys[i], w.value(i));
    }
  };
  const r = await timed(total, () => Promise.all(Array.from({ length: writers }, (_, k) => writer(k))));
  const syncs = db.stats().wal.syncs - syncs0;
  return { ...r, writers, syncs, syncsPerSec: r.ms > 0 ? (syncs * 1000) / r.ms : 0 };
}

/** Runs every phase in fresh directories under `root` and returns the measurements. */
export async function runKvdb(w: Workload, cfg: BenchConfig, root: string): Promise<EngineResult> {
  const notes: string[] = [];
  const n = w.n;

  // Batches: the same records into a fresh database, one write() per batch.
  const batchDir = path.join(root, "batch");
  const bdb = await openDatabase(batchDir, { sync: "none" });
  const batches = await timed(n, async () => {
    for (let s = 0; s < n; s += cfg.batch) {
      const ops: WriteOp[] = [];
      for (let j = s; j < Math.min(n, s + cfg.batch); j++) {
        const i = w.order[j];
        ops.push({ type: "put", key: w.keys[i], value: w.value(i) });
      }
      await bdb.write(ops);
    }
  });
  progress(NAME, `batches of ${cfg.batch}`, batches);
  await bdb.close();
  fs.rmSync(batchDir, { recursive: true, force: true });
  sampleRss();

  // Durable: sync "always", from 1 writer and from many concurrent writers.
  const durDir = path.join(root, "durable");
  const ddb = await openDatabase(durDir, { sync: "always" });
  const durable1 = await durableWrites(ddb, w, 0, cfg.durableOps, 1);
  progress(NAME, `durable puts, 1 writer (${durable1.syncs} fsyncs)`, durable1);
  const durable64 = await durableWrites(ddb, w, cfg.durableOps, cfg.durableOpsConcurrent, cfg.writers);
  progress(NAME, `durable puts, ${cfg.writers} writers (${durable64.syncs} fsyncs)`, durable64);
  await ddb.close();
  fs.rmSync(durDir, { recursive: true, force: true });

  // Fill: single awaited puts in random key order.
  const fillDir = path.join(root, "fill");
  let db = await openDatabase(fillDir, { sync: "none" });
  const singlePuts = await timed(n, async () => {
    for (let j = 0; j < n; j++) {
      const i = w.order[j];
      await db.put(w.keys[i], w.value(i));
    }
  });
  progress(NAME, "single puts", singlePuts);
  progress(NAME, `after fill: ${describe(db)}`);
  const settledMs = await settle(db, SETTLE_LIMIT_MS);
  const diskBytesAfterFill = diskBytes(fillDir);
  notes.push(`after fill + ${(settledMs / 1000).toFixed(1)} s waiting for background work: ${describe(db)}`);
  progress(NAME, `waited ${(settledMs / 1000).toFixed(1)} s for background work: ${describe(db)}`);
  sampleRss();
  if (cfg.compactAfterFill) {
    const c = await timed(1, () => db.compact());
    notes.push(`BENCH_COMPACT: compact() took ${(c.ms / 1000).toFixed(2)} s; then ${describe(db)}`);
    progress(NAME, `compact() ${(c.ms / 1000).toFixed(2)} s; ${describe(db)}`);
  }

  // Warm point reads on the filled database.
  let misses = 0;
  const readAll = async (ids: Uint32Array): Promise<void> => {
    for (let j = 0; j < ids.length; j++) {
      if ((await db.get(w.keys[ids[j]])) === undefined) misses++;
    }
  };
  await readAll(randomReads(n, Math.min(cfg.reads, 10_000), cfg.seed + 1)); // JIT warm-up
  const warmIds = randomReads(n, cfg.reads, cfg.seed + 2);
  const readsWarm = await timed(warmIds.length, () => readAll(warmIds));
  progress(NAME, "point reads, warm", readsWarm);

  // Close, reopen (replays the WAL), read.
  await db.close();
  const t0 = performance.now();
  db = await openDatabase(fillDir, { sync: "none" });
  const reopenMs = performance.now() - t0;
  const reopenIds = randomReads(n, cfg.reads, cfg.seed + 3);
  const readsReopened = await timed(reopenIds.length, () => readAll(reopenIds));
  progress(NAME, `reopen ${reopenMs.toFixed(1)} ms; point reads after reopen`, readsReopened);
  notes.push(`after reopen: ${describe(db)}`);
  sampleRss();

  // Full ordered scan, once background work (e.g. compaction after recovery) is done.
  const settledScanMs = await settle(db, SETTLE_LIMIT_MS);
  if (settledScanMs > 200) notes.push(`waited ${(settledScanMs / 1000).toFixed(1)} s for background work before the scans`);
  let count = 0;
  let misordered = 0;
  const fullScan = await timed(n, async () => {
    let prev = "";
    for await (const [k] of db.scan()) {
      if (k <= prev) misordered++; // keys are ASCII, so string order is byte order
      prev = k;
      count++;
    }
  });
  if (count !== n || misordered !== 0) notes.push(`FULL SCAN WRONG: ${count} keys (expected ${n}), ${misordered} out of order`);
  progress(NAME, "full scan", fullScan);

  // 1% scans: a random bucket prefix, and a random range of exactly n/100 keys.
  const pick = mulberry32(cfg.seed + 4);
  let prefixKeys = 0;
  const prefixRate: Rate = await timed(0, async () => {
    for (let s = 0; s < cfg.scans; s++) {
      for await (const _ of db.scan({ prefix: bucketPrefix(Math.floor(pick() * BUCKETS)) })) prefixKeys++;
    }
  });
  const prefixScans = { ...rate(prefixKeys, prefixRate.ms), scans: cfg.scans };
  progress(NAME, `${cfg.scans} prefix scans (keys/s)`, prefixScans);
  const ranges = randomRanges(w, cfg.scans, Math.max(1, Math.floor(n / 100)), cfg.seed + 5);
  let rangeKeys = 0;
  const rangeRate = await timed(0, async () => {
    for (const r of ranges) {
      for await (const _ of db.scan({ start: r.start, end: r.end })) rangeKeys++;
    }
  });
  const rangeScans = { ...rate(rangeKeys, rangeRate.ms), scans: cfg.scans };
  progress(NAME, `${cfg.scans} range scans (keys/s)`, rangeScans);
  await db.close();

  return {
    engine: NAME,
    singlePuts,
    batches,
    durable1,
    durable64,
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
