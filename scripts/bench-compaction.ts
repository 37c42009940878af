/**
 * @module
 * Compaction benchmark (issue 4): what a long churn of overwrites and deletes leaves
 * behind, against a freshly loaded and fully compacted database holding the same live
 * data, and what a large compaction does to request latency over HTTP.
 *
 *   node_modules/.bin/bun scripts/bench-compaction.ts                     # 1M keys, 5M churn ops
 *   BENCH_KEYS=200000 node_modules/.bin/bun scripts/bench-compaction.ts   # smaller (churn = 5× keys)
 *
 * Phases, each in its own child process (scripts/bench/child-process.ts), in order:
 * 1. churned (`--role churned`): load BENCH_KEYS records (the engine benchmark's data
 *    set: 16-byte keys, ~150-byte JSON values, random order) in batches of BENCH_BATCH
 *    with `sync: "none"`, then BENCH_CHURN random overwrites and deletes
 *    (BENCH_DELETE_PCT % deletes; scripts/bench/churn.ts) in batches, automatic
 *    compaction on, default options. Once background work is done: disk bytes, the
 *    engine's figures, and reads + scan measured in this (writing) process; close.
 * 2. fresh (`--role fresh`): only the final live records of the same churn, loaded into
 *    a new directory, then `db.compact()`; the same figures; close.
 * 3. HTTP (in the parent; BENCH_HTTP=0 skips it): `kvdb serve` on a copy of the churned
 *    directory; a separate load-generator process (scripts/bench/http-load.ts) keeps
 *    BENCH_HTTP_CONNECTIONS GET connections (random live keys) and
 *    BENCH_HTTP_PUT_CONNECTIONS PUT connections busy; latencies are taken while idle (no
 *    compaction) for BENCH_HTTP_SECONDS, then while a `POST /compact` (a full compaction
 *    of the whole database) runs, then for a few seconds after it.
 * 4. compare (`--role compare`): the churned directory, the fresh one and (as a control)
 *    the HTTP phase's copy after its full compaction, reopened side by side in one new
 *    process and measured with their work interleaved in chunks of 10,000 operations
 *    (scripts/bench/churn-reads.ts), in wall-clock and in CPU time. These are the figures
 *    the targets use: the same process, heap and moment for every database, so the ratios
 *    reflect the data on disk rather than the writing processes' history or a burst of
 *    other work on this shared machine (CPU time also discounts the time other processes
 *    held the CPU).
 * Every measurement runs BENCH_MEASURE_ROUNDS rounds (default 5) and reports the median.
 *
 * Other knobs: BENCH_READS (point reads per round, default 200,000), BENCH_SEED,
 * BENCH_BATCH (default 1,000), BENCH_HTTP_SYNC (always|none, default always),
 * BENCH_SERVER_BIN (default: bun src/main.ts), BENCH_KEEP=1 (keep the scratch directory).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../src/db.ts";
import type { Database, DatabaseStats } from "../src/types.ts";
import { ChurnSequence, churnFinalState, type ChurnSpec } from "./bench/churn.ts";
import { ChurnReads, describeRounds, measureInterleaved, type ReadFigures, type TimedRate } from "./bench/churn-reads.ts";
import { emitResult, runChild } from "./bench/child-process.ts";
import { readConfig } from "./bench/config.ts";
import { envChoice, envInt } from "./bench/env.ts";
import { startLoad, type LatencySummary, type LoadReport } from "./bench/http-load.ts";
import { writeInBatches } from "./bench/kvdb-batches.ts";
import { describeTree, settle } from "./bench/kvdb-settle.ts";
import { machineLines } from "./bench/machine.ts";
import { diskBytes, peakRss, progress, rate, resetPeakRss, sampleRss, timed, type Rate } from "./bench/result.ts";
import { scratchDir } from "./bench/scratch-dir.ts";
import { tableCensus, type TableCensus } from "./bench/table-census.ts";
import { startServer } from "./bench/server-process.ts";
import { formatTarget, type Target } from "./bench/target-check.ts";
import { renderTable } from "./bench/text-table.ts";
import { buildWorkload, mulberry32 } from "./bench/workload.ts";

const base = readConfig();
const KEYS = base.keys;
const CHURN = envInt("BENCH_CHURN", 5 * KEYS, 0);
const DELETE_PCT = envInt("BENCH_DELETE_PCT", 20, 0);
const MEASURE_ROUNDS = envInt("BENCH_MEASURE_ROUNDS", 5, 1);
const HTTP = process.env.BENCH_HTTP !== "0";
const HTTP_GET_CONNS = envInt("BENCH_HTTP_CONNECTIONS", 64, 1);
const HTTP_PUT_CONNS = envInt("BENCH_HTTP_PUT_CONNECTIONS", 4, 0);
const HTTP_SECONDS = envInt("BENCH_HTTP_SECONDS", 5, 1);
const HTTP_SYNC = envChoice("BENCH_HTTP_SYNC", "always", ["always", "none"] as const);
/** Live keys written for the HTTP GET load (a random sample). */
const HTTP_KEY_SAMPLE = 100_000;

const spec: ChurnSpec = { n: KEYS, ops: CHURN, deleteFraction: DELETE_PCT / 100, seed: base.seed };

/** The child that wrote a database: the churn (`churned`) or the fresh load + compact (`fresh`). */
interface WriteResult {
  role: "churned" | "fresh";
  /** The initial load (churned: every key; fresh: the live keys only). */
  load: Rate;
  churn: Rate | null;
  /** fresh: the manual `compact()` after the load. */
  compactMs: number | null;
  /** Waiting for background flushes and compactions before measuring. */
  settleMs: number;
  treeAfterWrites: string;
  treeSettled: string;
  stats: DatabaseStats;
  /** Measured in the writing process, right after it settled. */
  figures: ReadFigures;
  baselineRss: number;
  peakRss: number;
}

/** One database measured by the compare child. */
interface Compared {
  label: string;
  /** Its tables once reopened and settled (the MemTable is not included). */
  census: TableCensus;
  openMs: number;
  settleMs: number;
  tree: string;
  figures: ReadFigures;
}

interface CompareResult {
  dbs: Compared[];
  baselineRss: number;
  peakRss: number;
}

// ------------------------------------------------------------------ children

/** Load, churn, settle, measure; leaves the directory (closed) for the later phases. */
async function churnedChild(dir: string, keysFile: string): Promise<void> {
  const role = "churned";
  const w = buildWorkload(KEYS, base.seed);
  Bun.gc(true);
  resetPeakRss();
  const baselineRss = sampleRss();
  const db = await openDatabase(dir, { sync: "none" });
  const load = await timed(w.n, () =>
    writeInBatches(db, w.n, base.batch, (ops, from, to) => {
      for (let j = from; j < to; j++) {
        const i = w.order[j];
        ops.push({ type: "put", key: w.keys[i], value: w.value(i) });
      }
    }),
  );
  progress(role, `load ${w.n.toLocaleString("en-US")} keys in batches of ${base.batch}`, load);

  const state = new Int32Array(w.n);
  for (let i = 0; i < w.n; i++) state[i] = i;
  const seq = new ChurnSequence(spec);
  const t0 = performance.now();
  await writeInBatches(
    db,
    CHURN,
    base.batch,
    (ops, from, to) => {
      seq.next(to - from, (k, v) => {
        state[k] = v;
        ops.push(v < 0 ? { type: "delete", key: w.keys[k] } : { type: "put", key: w.keys[k], value: w.value(v) });
      });
    },
    (done) => progress(role, `churn ${done.toLocaleString("en-US")} ops, ${Math.round((done * 1000) / (performance.now() - t0)).toLocaleString("en-US")}/s: ${describeTree(db)}`),
  );
  const churn = rate(CHURN, performance.now() - t0);
  progress(role, `churn (${DELETE_PCT}% deletes)`, churn);
  const treeAfterWrites = describeTree(db);
  const settleMs = await settle(db);
  const treeSettled = describeTree(db);
  progress(role, `waited ${(settleMs / 1000).toFixed(1)} s for background work: ${treeSettled}`);

  const reads = new ChurnReads(db, dir, w, state, base.reads, base.seed);
  await reads.warmUp(base.seed);
  const [figures] = await measureInterleaved([reads], MEASURE_ROUNDS);
  progress(role, `in the writing process: ${describeRounds(figures)}`);
  const stats = db.stats();
  // A random sample of live keys for the HTTP phase's GETs.
  const rand = mulberry32(base.seed + 9);
  const sample: string[] = [];
  for (let j = 0; j < Math.min(HTTP_KEY_SAMPLE, reads.live.length); j++) sample.push(w.keys[reads.live[Math.floor(rand() * reads.live.length)]]);
  fs.writeFileSync(keysFile, sample.join("\n") + "\n");
  await db.close();
  emitResult({ role, load, churn, compactMs: null, settleMs, treeAfterWrites, treeSettled, stats, figures, baselineRss, peakRss: peakRss() } satisfies WriteResult);
}

/** The same live data, loaded fresh and fully compacted; leaves the directory (closed). */
async function freshChild(dir: string): Promise<void> {
  const role = "fresh";
  const w = buildWorkload(KEYS, base.seed);
  const state = churnFinalState(spec);
  const order: number[] = [];
  for (let j = 0; j < w.n; j++) if (state[w.order[j]] >= 0) order.push(w.order[j]);
  Bun.gc(true);
  resetPeakRss();
  const baselineRss = sampleRss();
  const db = await openDatabase(dir, { sync: "none" });
  const load = await timed(order.length, () =>
    writeInBatches(db, order.length, base.batch, (ops, from, to) => {
      for (let j = from; j < to; j++) ops.push({ type: "put", key: w.keys[order[j]], value: w.value(state[order[j]]) });
    }),
  );
  progress(role, `load ${order.length.toLocaleString("en-US")} live keys`, load);
  const treeAfterWrites = describeTree(db);
  const compact = await timed(1, () => db.compact());
  progress(role, `compact() ${(compact.ms / 1000).toFixed(2)} s: ${describeTree(db)}`);
  const settleMs = await settle(db);
  const treeSettled = describeTree(db);
  const reads = new ChurnReads(db, dir, w, state, base.reads, base.seed);
  await reads.warmUp(base.seed);
  const [figures] = await measureInterleaved([reads], MEASURE_ROUNDS);
  progress(role, `in the writing process: ${describeRounds(figures)}`);
  const stats = db.stats();
  await db.close();
  emitResult({ role, load, churn: null, compactMs: compact.ms, settleMs, treeAfterWrites, treeSettled, stats, figures, baselineRss, peakRss: peakRss() } satisfies WriteResult);
}

/** Reopens the given databases side by side and measures them in interleaved rounds. */
async function compareChild(targets: Array<{ dir: string; label: string }>): Promise<void> {
  const w = buildWorkload(KEYS, base.seed);
  const state = churnFinalState(spec);
  Bun.gc(true);
  resetPeakRss();
  const baselineRss = sampleRss();
  const opened: Array<{ label: string; census: TableCensus; db: Database; openMs: number; settleMs: number; tree: string; reads: ChurnReads }> = [];
  for (const { dir, label } of targets) {
    const t0 = performance.now();
    const db = await openDatabase(dir, { sync: "none" });
    const openMs = performance.now() - t0;
    const settleMs = await settle(db);
    // After the reopen's own flush and compactions: the tables the reads will see.
    const census = tableCensus(dir);
    const tree = describeTree(db);
    progress(label, `reopened in ${openMs.toFixed(0)} ms, waited ${(settleMs / 1000).toFixed(1)} s for background work: ${tree}`);
    opened.push({ label, census, db, openMs, settleMs, tree, reads: new ChurnReads(db, dir, w, state, base.reads, base.seed) });
  }
  for (const o of opened) await o.reads.warmUp(base.seed);
  const all = await measureInterleaved(
    opened.map((o) => o.reads),
    MEASURE_ROUNDS,
  );
  const dbs: Compared[] = [];
  for (const [i, o] of opened.entries()) {
    const figures = all[i];
    progress(o.label, describeRounds(figures));
    dbs.push({ label: o.label, census: o.census, openMs: o.openMs, settleMs: o.settleMs, tree: o.tree, figures });
    await o.db.close();
  }
  emitResult({ dbs, baselineRss, peakRss: peakRss() } satisfies CompareResult);
}

// ------------------------------------------------------------------ HTTP phase

interface HttpResult {
  command: string;
  sync: string;
  waitQuietMs: number;
  compactMs: number;
  /** Phases: warmup, idle, compaction, after. */
  load: LoadReport;
  statsBefore: DatabaseStats;
  statsAfter: DatabaseStats;
  diskBefore: number;
  diskAfter: number;
}

async function getStats(url: string): Promise<DatabaseStats> {
  const res = await fetch(`${url}/stats`);
  if (!res.ok) throw new Error(`GET /stats: ${res.status}`);
  return (await res.json()) as DatabaseStats;
}

async function httpPhase(dataDir: string, keysFile: string): Promise<HttpResult> {
  const server = await startServer(dataDir, HTTP_SYNC);
  try {
    // Reopening may schedule compactions: the idle figures must not include one.
    const t0 = performance.now();
    for (let quiet = 0; quiet < 3; ) {
      const s = await getStats(server.url);
      quiet = s.compaction.running || s.memtables.immutable > 0 ? 0 : quiet + 1;
      await Bun.sleep(100);
    }
    const waitQuietMs = performance.now() - t0;
    const statsBefore = await getStats(server.url);
    const diskBefore = diskBytes(dataDir);
    process.stderr.write(`[http] ${server.command.join(" ")} → ${server.url}; quiet after ${(waitQuietMs / 1000).toFixed(1)} s\n`);

    const load = startLoad({ url: server.url, keysFile, getConnections: HTTP_GET_CONNS, putConnections: HTTP_PUT_CONNS });
    await Bun.sleep(2000); // warm-up: connections, JIT
    load.phase("idle");
    await Bun.sleep(HTTP_SECONDS * 1000);
    load.phase("compaction");
    process.stderr.write(`[http] idle measured for ${HTTP_SECONDS} s; POST /compact\n`);
    const res = await fetch(`${server.url}/compact`, { method: "POST" });
    const body = (await res.json()) as { ms?: number };
    if (!res.ok) throw new Error(`POST /compact: ${res.status} ${JSON.stringify(body)}`);
    load.phase("after");
    process.stderr.write(`[http] compaction took ${((body.ms ?? 0) / 1000).toFixed(1)} s\n`);
    await Bun.sleep(Math.min(3, HTTP_SECONDS) * 1000);
    const report = await load.stop();
    const statsAfter = await getStats(server.url);
    return {
      command: server.command.join(" "),
      sync: HTTP_SYNC,
      waitQuietMs,
      compactMs: body.ms ?? NaN,
      load: report,
      statsBefore,
      statsAfter,
      diskBefore,
      diskAfter: diskBytes(dataDir),
    };
  } finally {
    await server.stop();
  }
}

// ------------------------------------------------------------------ report

const MiB = 1048576;
const num = (v: number): string => Math.round(v).toLocaleString("en-US");
const mib = (v: number): string => `${(v / MiB).toFixed(1)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const ms2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(2)} ms`);
const fixed2 = (v: number): string => v.toFixed(2);

/** One side of the comparison: its writing child and its reopened measurement. */
interface Side {
  w: WriteResult | undefined;
  r: Compared | undefined;
}

function dbTable(c: Side, f: Side, control: Compared | undefined): string {
  type Get = (s: Side) => number | null | undefined;
  /** from "r": a figure of the reopened measurement, which the control column also has. */
  type Row = [label: string, unit: string, get: Get, fmt: (v: number) => string, ratio?: boolean, from?: "r"];
  const rows: Row[] = [
    [`load, batches of ${base.batch.toLocaleString("en-US")}`, "ops/s", (s) => s.w?.load.perSec, num],
    ["  keys loaded", "", (s) => s.w?.load.ops, num],
    [`churn (${DELETE_PCT}% deletes), batches`, "ops/s", (s) => s.w?.churn?.perSec, num],
    ["manual compact() after the load", "", (s) => s.w?.compactMs, secs],
    ["wait for background work", "", (s) => s.w?.settleMs, secs],
    ["reopened side by side (targets):", "", () => null, num],
    ["  open + wait for background work", "", (s) => (s.r ? s.r.openMs + s.r.settleMs : undefined), secs, false, "r"],
    ["  point reads, live keys", "reads/s", (s) => s.r?.figures.readsLive.perSec, num, true, "r"],
    ["    per CPU second", "reads/s", (s) => s.r?.figures.readsLive.perCpuSec, num, true, "r"],
    ["  point reads, deleted keys", "reads/s", (s) => s.r?.figures.readsDeleted?.perSec, num, true, "r"],
    ["    per CPU second", "reads/s", (s) => s.r?.figures.readsDeleted?.perCpuSec, num, true, "r"],
    ["  full ordered scan", "keys/s", (s) => s.r?.figures.fullScan.perSec, num, true, "r"],
    ["    per CPU second", "keys/s", (s) => s.r?.figures.fullScan.perCpuSec, num, true, "r"],
    ["  table entries (all versions)", "", (s) => s.r?.census.entries, num, false, "r"],
    ["    of which tombstones", "", (s) => s.r?.census.tombstones, num, false, "r"],
    ["  table entries per live key", "", (s) => (s.r ? s.r.census.entries / s.r.figures.liveKeys : undefined), fixed2, false, "r"],
    ["in the writing process:", "", () => null, num],
    ["  point reads, live keys", "reads/s", (s) => s.w?.figures.readsLive.perSec, num, true],
    ["  point reads, deleted keys", "reads/s", (s) => s.w?.figures.readsDeleted?.perSec, num, true],
    ["  full ordered scan", "keys/s", (s) => s.w?.figures.fullScan.perSec, num, true],
    ["live keys", "", (s) => s.w?.figures.liveKeys, num],
    ["live data (keys + values, by scan)", "", (s) => s.w?.figures.liveBytes, mib],
    ["disk (tables + WAL + manifest)", "", (s) => s.w?.figures.diskBytes, mib],
    ["space amplification, disk ÷ live", "", (s) => (s.w ? s.w.figures.diskBytes / s.w.figures.liveBytes : undefined), fixed2],
    ["  engine's estimate (stats)", "", (s) => s.w?.stats.compaction.spaceAmplification, fixed2],
    ["write amplification (stats)", "", (s) => s.w?.stats.compaction.writeAmplification, fixed2],
    ["  user bytes written", "", (s) => s.w?.stats.writes.userBytes, mib],
    ["  compaction bytes read", "", (s) => s.w?.stats.compaction.bytesRead, mib],
    ["  compaction bytes written", "", (s) => s.w?.stats.compaction.bytesWritten, mib],
    ["flushes", "", (s) => s.w?.stats.flushes, num],
    ["compactions", "", (s) => s.w?.stats.compaction.compactions, num],
    ["  trivial moves", "", (s) => s.w?.stats.compaction.trivialMoves, num],
    ["stalls: slowdowns (1 ms each)", "", (s) => s.w?.stats.stall.slowdowns, num],
    ["stalls: stops", "", (s) => s.w?.stats.stall.stops, num],
    ["peak RSS, writing process", "", (s) => s.w?.peakRss, mib],
  ];
  const cs: Side = { w: undefined, r: control };
  const body = rows.map(([label, unit, get, fmt, withRatio, from]) => {
    const a = get(c);
    const b = get(f);
    const cell = (v: number | null | undefined): string => (v === null ? "" : v === undefined ? "—" : fmt(v));
    const r = withRatio && a != null && b != null && b > 0 ? `${((a / b) * 100).toFixed(0)}%` : "";
    const row = [label, unit, cell(a), cell(b), r];
    if (control) row.push(from === "r" ? cell(get(cs)) : "");
    return row;
  });
  const header = ["", "unit", "churned", "fresh+compacted", "churned/fresh"];
  if (control) header.push("churned, after /compact");
  return renderTable(header, body, [false, false, true, true, true, true]);
}

function httpTable(h: HttpResult): string {
  const body: string[][] = [];
  for (const phase of ["idle", "compaction", "after"]) {
    const p = h.load.phases[phase] ?? {};
    for (const method of ["GET", "PUT"]) {
      const s: LatencySummary | undefined = p[method];
      if (!s) continue;
      body.push([phase, method, s.seconds.toFixed(1), num(s.perSec), ms2(s.p50), ms2(s.p90), ms2(s.p99), ms2(s.p999), ms2(s.max), s.errors ? String(s.errors) : ""]);
    }
  }
  return renderTable(["phase", "method", "s", "req/s", "p50", "p90", "p99", "p99.9", "max", "errors"], body, [false, false, true, true, true, true, true, true, true, true]);
}

function timeline(s: LatencySummary | undefined): string {
  if (!s) return "—";
  return s.timeline.map((t) => (Number.isFinite(t.p99) ? t.p99.toFixed(1) : "—")).join(" ");
}

function levels(s: DatabaseStats): string {
  return s.sstables.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}/${mib(l.bytes)}`).join(" ");
}

function report(c: Side, f: Side, h: HttpResult | undefined, cmp: CompareResult | undefined, control: Compared | undefined): { text: string; failed: boolean } {
  const out = [dbTable(c, f, control), ""];
  if (cmp) {
    out.push(
      `"reopened side by side": ${cmp.dbs.map((d) => d.label).join(", ")} opened together in one new process, ${MEASURE_ROUNDS} rounds, median round shown;`,
      `  each round: ${base.reads.toLocaleString("en-US")} random reads of live keys, as many of deleted keys, and a full scan per database, the databases`,
      `  alternating every 10,000 operations; "per CPU second" divides by the process's CPU time (user + system, all threads) instead of wall-clock time;`,
      `  peak RSS of that process ${mib(cmp.peakRss)} (baseline ${mib(cmp.baselineRss)})`,
    );
    if (control) {
      out.push(
        `  "churned, after /compact": the HTTP phase's copy of the churned directory after its full compaction`,
        `  (its scan also visits the ${control.figures.otherKeys.toLocaleString("en-US")} keys the HTTP phase's PUTs added)`,
      );
    }
    out.push("");
  }
  if (h) {
    out.push(
      `HTTP: ${h.command} (sync ${h.sync}) on a copy of the churned directory,`,
      `  ${h.load.getConnections} GET (random live keys) + ${h.load.putConnections} PUT connections from a separate load-generator process`,
      `  POST /compact: ${secs(h.compactMs)}; before: ${levels(h.statsBefore)}, disk ${mib(h.diskBefore)}; after: ${levels(h.statsAfter)}, disk ${mib(h.diskAfter)}`,
      "",
      httpTable(h),
      "",
      `  GET p99 per second, idle (ms):       ${timeline(h.load.phases.idle?.GET)}`,
      `  GET p99 per second, compaction (ms): ${timeline(h.load.phases.compaction?.GET)}`,
      "",
    );
  }
  const gi = h?.load.phases.idle?.GET;
  const gc = h?.load.phases.compaction?.GET;
  const pi = h?.load.phases.idle?.PUT;
  const pc = h?.load.phases.compaction?.PUT;
  const vs = (get: (s: Side) => TimedRate | undefined): number | undefined => {
    const a = get(c);
    const b = get(f);
    return a && b && b.perSec > 0 ? a.perSec / b.perSec : undefined;
  };
  const vsCpu = (get: (s: Side) => TimedRate | undefined): number | undefined => {
    const a = get(c);
    const b = get(f);
    return a && b && b.perCpuSec > 0 ? a.perCpuSec / b.perCpuSec : undefined;
  };
  const targets: Target[] = [
    { label: "point reads after churn vs fresh+compacted (side by side, wall clock)", value: vs((s) => s.r?.figures.readsLive), bound: 0.7, kind: "min" },
    { label: "point reads after churn vs fresh+compacted (side by side, CPU time)", value: vsCpu((s) => s.r?.figures.readsLive), bound: 0.7, kind: "min" },
    { label: "full scan after churn vs fresh+compacted (side by side, wall clock)", value: vs((s) => s.r?.figures.fullScan), bound: 0.7, kind: "min" },
    { label: "full scan after churn vs fresh+compacted (side by side, CPU time)", value: vsCpu((s) => s.r?.figures.fullScan), bound: 0.7, kind: "min" },
    { label: "space amplification after churn (disk ÷ live bytes)", value: c.w ? c.w.figures.diskBytes / c.w.figures.liveBytes : undefined, bound: 1.5, kind: "max", unit: "" },
  ];
  if (HTTP) targets.push({ label: "GET p99 during compaction vs idle", value: gi && gc ? gc.p99 / gi.p99 : undefined, bound: 3, kind: "max" });
  out.push("Targets:", ...targets.map(formatTarget));
  const reported = (label: string, v: number | undefined, unit = "×"): void => {
    if (v !== undefined && Number.isFinite(v)) out.push(`  (reported) ${label}: ${v.toFixed(2)}${unit}`);
  };
  reported("point reads after churn vs fresh, in the writing processes", vs((s) => s.w?.figures.readsLive));
  reported("full scan after churn vs fresh, in the writing processes", vs((s) => s.w?.figures.fullScan));
  reported("write amplification after load + churn (LevelDB-style leveled: typically 10–30)", c.w?.stats.compaction.writeAmplification, "");
  reported("PUT p99 during compaction vs idle", pi && pc ? pc.p99 / pi.p99 : undefined);
  out.push("");

  const wrong: string[] = [];
  for (const side of [c, f]) {
    if (!side.w) continue;
    out.push(`${side.w.role}: baseline RSS ${mib(side.w.baselineRss)}`, `  after writes: ${side.w.treeAfterWrites}`, `  settled:      ${side.w.treeSettled}`);
    wrong.push(...side.w.figures.wrong.map((x) => `${side.w!.role}, writing process: ${x}`));
  }
  for (const d of cmp?.dbs ?? []) {
    out.push(`${d.label}, reopened: ${d.tree}`);
    wrong.push(...d.figures.wrong.map((x) => `${d.label}, reopened: ${x}`));
  }
  for (const x of wrong) out.push(`WRONG: ${x}`);
  const failed = !c.w || !f.w || !cmp || (HTTP && !h) || wrong.length > 0;
  return { text: out.join("\n"), failed };
}

// ------------------------------------------------------------------ main

async function parent(): Promise<number> {
  console.log(
    [
      `kvdb compaction benchmark: ${KEYS.toLocaleString("en-US")} keys (seed ${base.seed}), then ${CHURN.toLocaleString("en-US")} random ops ` +
        `(${DELETE_PCT}% deletes), batches of ${base.batch}, sync none, default engine options; ` +
        `${MEASURE_ROUNDS} rounds of ${base.reads.toLocaleString("en-US")} reads + a full scan per measurement`,
      HTTP
        ? `HTTP: ${HTTP_GET_CONNS} GET + ${HTTP_PUT_CONNS} PUT connections, ${HTTP_SECONDS} s idle, then during POST /compact (server sync ${HTTP_SYNC})`
        : "HTTP phase skipped (BENCH_HTTP=0)",
      ...machineLines(),
      "",
    ].join("\n"),
  );
  const started = performance.now();
  const root = scratchDir("kvdb-bench-compaction-");
  try {
    const churnedDir = path.join(root.path, "churned");
    const freshDir = path.join(root.path, "fresh");
    const httpDir = path.join(root.path, "churned-http");
    const keysFile = path.join(root.path, "get-keys.txt");
    const c: Side = { w: undefined, r: undefined };
    const f: Side = { w: undefined, r: undefined };
    c.w = await runChild<WriteResult>("churned", import.meta.path, ["--role", "churned", "--dir", churnedDir, "--keys-file", keysFile]);
    f.w = await runChild<WriteResult>("fresh", import.meta.path, ["--role", "fresh", "--dir", freshDir]);

    let h: HttpResult | undefined;
    if (HTTP && c.w) {
      // A copy, so the churned directory itself stays as the churn left it for the comparison.
      fs.cpSync(churnedDir, httpDir, { recursive: true });
      try {
        h = await httpPhase(httpDir, keysFile);
      } catch (e) {
        process.stderr.write(`[http] FAILED: ${e instanceof Error ? e.stack : String(e)}\n`);
      }
    }

    const targets: Array<{ dir: string; label: string }> = [];
    if (c.w) targets.push({ dir: churnedDir, label: "churned" });
    if (f.w) targets.push({ dir: freshDir, label: "fresh+compacted" });
    if (h) targets.push({ dir: httpDir, label: "churned, after /compact" });
    let cmp: CompareResult | undefined;
    if (targets.length > 0) cmp = await runChild<CompareResult>("compare", import.meta.path, ["--role", "compare", "--dbs", JSON.stringify(targets)]);
    c.r = cmp?.dbs.find((d) => d.label === "churned");
    f.r = cmp?.dbs.find((d) => d.label === "fresh+compacted");
    const control = cmp?.dbs.find((d) => d.label === "churned, after /compact");

    const r = report(c, f, h, cmp, control);
    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    console.log("\n" + r.text + `\ntotal wall clock: ${secs(performance.now() - started)}; load average at end: ${load}`);
    return r.failed ? 1 : 0;
  } finally {
    root.remove();
  }
}

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    dir: { type: "string" },
    dbs: { type: "string" },
    "keys-file": { type: "string" },
  },
  strict: true,
});
if (values.role === "churned") await churnedChild(values.dir!, values["keys-file"]!);
else if (values.role === "fresh") await freshChild(values.dir!);
else if (values.role === "compare") await compareChild(JSON.parse(values.dbs!) as Array<{ dir: string; label: string }>);
else process.exitCode = await parent();
