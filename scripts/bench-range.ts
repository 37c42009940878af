/**
 * @module
 * Benchmark for issue 7 (range indexes): kvdb with a range index on `$.age` side by side
 * with bun:sqlite with an expression index on `json_extract(v,'$.age')`, on the same
 * documents, in the same run — each engine in its own child process
 * (`bun scripts/bench-range.ts --engine kvdb|sqlite`), as scripts/bench.ts does.
 *
 * The machine is shared and noisy, so the two engines are measured in the same time
 * windows: the parent loads one child, then the other, keeps both alive, and asks them
 * for one round of queries at a time, alternately (kvdb then sqlite, then sqlite then
 * kvdb, ...). Round 0 is a warm-up; the median of the timed rounds is reported.
 *
 *   node_modules/.bin/bun scripts/bench-range.ts                      1,000,000 documents
 *   BENCH_DOCS=200000 node_modules/.bin/bun scripts/bench-range.ts    smaller
 *
 * Environment: BENCH_DOCS (default 1,000,000), BENCH_ROUNDS (timed rounds after one
 * warm-up, median reported; default 7), BENCH_TOPK_REPS (top-100 queries per round,
 * default 200), BENCH_SEED (default 42), BENCH_ENGINES (default "kvdb,sqlite").
 *
 * Data: scripts/bench/workload.ts — keys `user:BB:IIIIIIII`, ~150-byte JSON documents with
 * `age` uniform in 18..87. kvdb: `openDatabase` with the range index declared (maintained
 * during the load), batches of 1,000 (`sync: "none"`), then flush + compact. sqlite:
 * `kv(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID`, WAL, synchronous=NORMAL, transactions
 * of 1,000, then `CREATE INDEX kv_age ON kv(json_extract(v,'$.age'))`.
 *
 * Queries, the same output on both sides (keys with parsed documents):
 * 1. `age` between 30 and 35 (inclusive), every document: kvdb pages of 1,000 following
 *    next_cursor (results in key order); sqlite one `.all()` of `k, v` then `JSON.parse`
 *    of each `v` (also reported without the parse). Before each kvdb round a write outside
 *    the scope invalidates the cached candidate list, so every round reads the index.
 * 2. `count` over the same range: kvdb `count: true`; sqlite `SELECT count(*)`.
 * 3. top-100 by `age` descending: kvdb `sort: {"age": -1}, limit: 100`; sqlite
 *    `ORDER BY json_extract(v,'$.age') DESC LIMIT 100` then `JSON.parse`.
 *
 * kvdb runs each query twice: through `db.query` as it ships, and with planners told the
 * index is single-valued (what the write path's proposed `multikey` flag gives; the data
 * has no arrays, so results are the same). Without that knowledge `$gte 30 and $lte 35`
 * reads one bound only (see src/indexing/range_bounds.ts).
 */
import { Database as Sqlite } from "bun:sqlite";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase, type Database } from "../src/db.ts";
import type { Engine } from "../src/engine/engine.ts";
import type { IndexManager } from "../src/indexing/manager.ts";
import { RangeKeyCache } from "../src/indexing/range_entries.ts";
import { RangeIndexPlanner } from "../src/indexing/range_plan.ts";
import { executeQuery } from "../src/query/execute.ts";
import type { QueryRequest, QueryResponse } from "../src/query/types.ts";
import { peakRss, progress, resetPeakRss, sampleRss } from "./bench/result.ts";
import { scratchDir } from "./bench/scratch-dir.ts";
import { buildWorkload, type Workload } from "./bench/workload.ts";

const N = envInt("BENCH_DOCS", 1_000_000);
const ROUNDS = envInt("BENCH_ROUNDS", 7);
const TOPK_REPS = envInt("BENCH_TOPK_REPS", 200);
const SEED = envInt("BENCH_SEED", 42);
const ENGINES = (process.env.BENCH_ENGINES ?? "kvdb,sqlite").split(",").map((s) => s.trim());
const LO = 30;
const HI = 35;
const TOP = 100;

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw.replace(/_/g, ""));
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return v;
}

/** One query's time in one round, what it returned, and (kvdb) its plan. */
interface Row {
  ms: number;
  n: number;
  plan?: string;
}

/** What a child reports once loaded. */
interface Loaded {
  engine: string;
  loadMs: number;
  indexMs: number;
  notes: string[];
}

/** What a child reports per round: rows by "query|mode", and the keys to compare. */
interface RoundResult {
  rows: Record<string, Row>;
  topKeys: string[];
  rangeDigest: string;
}

/** A loaded engine: runs one round of the queries at a time. */
interface Bench {
  loaded: Loaded;
  round(): Promise<RoundResult>;
  close(): Promise<void>;
}

function digest(keys: string[]): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const k of [...keys].sort()) h.update(k + "\n");
  return h.digest("hex").slice(0, 16);
}

function describePlan(plan: QueryResponse["plan"]): string {
  const parts = [plan.kind, plan.index ?? ""].filter((s) => s !== "");
  for (const k of ["entries_read", "docs_examined", "keys_examined", "counted_from_index", "sort_skipped"] as const) {
    if (plan[k] !== undefined) parts.push(`${k}=${plan[k]}`);
  }
  return parts.join(" ");
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

// ------------------------------------------------------------------ kvdb

async function loadKvdb(w: Workload, root: string): Promise<Bench> {
  const notes: string[] = [];
  const index = { name: "users_age", scope_prefix: "user:", type: "range" as const, extractor: { kind: "json_path" as const, path: "$.age" } };
  const db: Database = await openDatabase(path.join(root, "kvdb"), { sync: "none", indexes: [index] });
  let t0 = performance.now();
  for (let s = 0; s < w.n; s += 1000) {
    const ops = [];
    for (let j = s; j < Math.min(w.n, s + 1000); j++) {
      const i = w.order[j];
      ops.push({ type: "put" as const, key: w.keys[i], value: w.value(i) });
    }
    await db.write(ops);
  }
  await db.waitForIndexes();
  const loadMs = performance.now() - t0;
  progress("kvdb", `load with the range index maintained: ${(loadMs / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await db.flush();
  await db.compact();
  const indexMs = performance.now() - t0;
  progress("kvdb", `flush + compact: ${(indexMs / 1000).toFixed(1)} s`);
  const figures = db.getIndex("users_age");
  notes.push(`index users_age: ${figures?.live_entries} entries, ${((figures?.bytes ?? 0) / 1048576).toFixed(1)} MiB of index records`);

  const { engine, indexes } = db as unknown as { engine: Engine; indexes: IndexManager };
  const cache = new RangeKeyCache();
  const modes: Record<string, (q: QueryRequest) => Promise<QueryResponse>> = {
    "db.query": (q) => db.query(q),
    "single-valued": (q) =>
      executeQuery(db, q, { indexes: indexes.declaredIndexes().map((i) => new RangeIndexPlanner(i, engine, cache, { singleValued: () => true })) }),
  };
  const range = { age: { $gte: LO, $lte: HI } };
  let tick = 0;
  // A write outside the scope: cached candidate lists and counts are valid only while nothing is written.
  const invalidate = () => db.put("bench:tick", String(tick++));
  const round = async (): Promise<RoundResult> => {
    const rows: Record<string, Row> = {};
    let rangeDigest = "";
    let topKeys: string[] = [];
    for (const [mode, run] of Object.entries(modes)) {
      await invalidate();
      const all = await timed(async () => {
        const keys: string[] = [];
        let cursor: string | null = null;
        let plan = "";
        do {
          const r = (await run({ scope_prefix: "user:", filter: range, limit: 1000, cursor })) as QueryResponse & { items: { key: string }[]; next_cursor: string | null };
          for (const it of r.items) keys.push(it.key);
          if (cursor === null) plan = describePlan(r.plan);
          cursor = r.next_cursor;
        } while (cursor !== null);
        return { keys, plan };
      });
      rows[`range|${mode}`] = { ms: all.ms, n: all.value.keys.length, plan: `first page: ${all.value.plan}` };
      rangeDigest = digest(all.value.keys);
      await invalidate();
      const count = await timed(() => run({ scope_prefix: "user:", filter: range, count: true }));
      const c = count.value as QueryResponse & { count: number };
      rows[`count|${mode}`] = { ms: count.ms, n: c.count, plan: describePlan(c.plan) };
      const top = await timed(async () => {
        let r!: QueryResponse;
        for (let i = 0; i < TOPK_REPS; i++) r = await run({ scope_prefix: "user:", sort: { age: -1 }, limit: TOP });
        return r as QueryResponse & { items: { key: string }[] };
      });
      rows[`top|${mode}`] = { ms: top.ms / TOPK_REPS, n: top.value.items.length, plan: describePlan(top.value.plan) };
      topKeys = top.value.items.map((i) => i.key);
    }
    return { rows, topKeys, rangeDigest };
  };
  return { loaded: { engine: "kvdb", loadMs, indexMs, notes }, round, close: () => db.close() };
}

// ------------------------------------------------------------------ sqlite

function loadSqlite(w: Workload, root: string): Bench {
  const notes: string[] = [];
  const sq = new Sqlite(path.join(root, "bench.sqlite"), { create: true });
  sq.exec("PRAGMA journal_mode=WAL");
  sq.exec("PRAGMA synchronous=NORMAL");
  sq.exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
  const insert = sq.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
  const decoder = new TextDecoder();
  const tx = sq.transaction((s: number) => {
    for (let j = s; j < Math.min(w.n, s + 1000); j++) {
      const i = w.order[j];
      insert.run(w.keys[i], decoder.decode(w.value(i)));
    }
  });
  let t0 = performance.now();
  for (let s = 0; s < w.n; s += 1000) tx(s);
  const loadMs = performance.now() - t0;
  progress("sqlite", `load: ${(loadMs / 1000).toFixed(1)} s`);
  t0 = performance.now();
  sq.exec("CREATE INDEX kv_age ON kv(json_extract(v, '$.age'))");
  const indexMs = performance.now() - t0;
  progress("sqlite", `CREATE INDEX: ${(indexMs / 1000).toFixed(1)} s`);
  notes.push(`sqlite ${(sq.query("SELECT sqlite_version() AS v").get() as { v: string }).v}`);
  const rangeRows = sq.prepare("SELECT k, v FROM kv WHERE json_extract(v, '$.age') BETWEEN ? AND ?");
  const rangeCount = sq.prepare("SELECT count(*) AS n FROM kv WHERE json_extract(v, '$.age') BETWEEN ? AND ?");
  const top = sq.prepare("SELECT k, v FROM kv ORDER BY json_extract(v, '$.age') DESC LIMIT ?");
  for (const [name, sql] of [
    ["range", `SELECT k, v FROM kv WHERE json_extract(v, '$.age') BETWEEN ${LO} AND ${HI}`],
    ["count", `SELECT count(*) FROM kv WHERE json_extract(v, '$.age') BETWEEN ${LO} AND ${HI}`],
    ["top", `SELECT k, v FROM kv ORDER BY json_extract(v, '$.age') DESC LIMIT ${TOP}`],
  ]) {
    const plan = (sq.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join("; ");
    notes.push(`sqlite plan for ${name}: ${plan}`);
  }
  type KV = { k: string; v: string };
  const round = async (): Promise<RoundResult> => {
    const rows: Record<string, Row> = {};
    const parsed = await timed(() => (rangeRows.all(LO, HI) as KV[]).map((r) => ({ key: r.k, value: JSON.parse(r.v) as unknown })));
    rows["range|parsed"] = { ms: parsed.ms, n: parsed.value.length };
    const raw = await timed(() => rangeRows.all(LO, HI) as KV[]);
    rows["range|raw"] = { ms: raw.ms, n: raw.value.length };
    const count = await timed(() => (rangeCount.get(LO, HI) as { n: number }).n);
    rows["count|sql"] = { ms: count.ms, n: count.value };
    const t = await timed(() => {
      let r: { key: string; value: unknown }[] = [];
      for (let i = 0; i < TOPK_REPS; i++) r = (top.all(TOP) as KV[]).map((x) => ({ key: x.k, value: JSON.parse(x.v) as unknown }));
      return r;
    });
    rows["top|parsed"] = { ms: t.ms / TOPK_REPS, n: t.value.length };
    const tr = await timed(() => {
      let r: KV[] = [];
      for (let i = 0; i < TOPK_REPS; i++) r = top.all(TOP) as KV[];
      return r;
    });
    rows["top|raw"] = { ms: tr.ms / TOPK_REPS, n: tr.value.length };
    return { rows, topKeys: t.value.map((r) => r.key), rangeDigest: digest(raw.value.map((r) => r.k)) };
  };
  return { loaded: { engine: "sqlite", loadMs, indexMs, notes }, round, close: async () => sq.close() };
}

// ------------------------------------------------------------------ processes

/**
 * A child: builds the data set, loads its engine, prints one JSON line when loaded, then
 * runs one round per "round" line on stdin (printing its JSON), and on "done" prints its
 * peak RSS and exits.
 */
async function child(engine: string): Promise<void> {
  const w = buildWorkload(N, SEED);
  Bun.gc(true);
  resetPeakRss();
  const scratch = scratchDir(`kvdb-bench-range-${engine}-`);
  const root = scratch.path;
  try {
    progress(engine, `data set: ${w.n.toLocaleString("en-US")} documents, ${(w.valueBytes / w.n).toFixed(1)} bytes on average, baseline RSS ${(sampleRss() / 1048576).toFixed(0)} MiB`);
    let bench: Bench;
    if (engine === "kvdb") bench = await loadKvdb(w, root);
    else if (engine === "sqlite") bench = loadSqlite(w, root);
    else throw new Error(`unknown engine ${JSON.stringify(engine)}`);
    process.stdout.write(JSON.stringify(bench.loaded) + "\n");
    for await (const line of console) {
      if (line === "round") process.stdout.write(JSON.stringify(await bench.round()) + "\n");
      else break;
    }
    await bench.close();
    process.stdout.write(JSON.stringify({ peakRss: peakRss() }) + "\n");
  } finally {
    scratch.remove();
  }
}

/** A running child and a reader of its stdout lines. */
class ChildProcess {
  private readonly proc;
  private readonly reader;
  private readonly decoder = new TextDecoder();
  private buf = "";

  constructor(readonly engine: string) {
    this.proc = Bun.spawn([process.execPath, import.meta.path, "--engine", engine], { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: process.env });
    this.reader = this.proc.stdout.getReader();
  }

  async line<T>(): Promise<T> {
    while (!this.buf.includes("\n")) {
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`[${this.engine}] exited early (code ${await this.proc.exited})`);
      this.buf += this.decoder.decode(value, { stream: true });
    }
    const i = this.buf.indexOf("\n");
    const l = this.buf.slice(0, i);
    this.buf = this.buf.slice(i + 1);
    return JSON.parse(l) as T;
  }

  send(command: string): void {
    this.proc.stdin.write(command + "\n");
    this.proc.stdin.flush();
  }

  async finish(): Promise<number> {
    this.send("done");
    this.proc.stdin.end();
    const { peakRss } = await this.line<{ peakRss: number }>();
    await this.proc.exited;
    return peakRss;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fmtMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`;
}

interface Summary {
  loaded: Loaded;
  /** Median over the timed rounds, by row key. */
  rows: Record<string, Row>;
  /** Min and max over the timed rounds, by row key. */
  spread: Record<string, [number, number]>;
  last: RoundResult;
  peakRss: number;
}

function summarize(loaded: Loaded, rounds: RoundResult[], peak: number): Summary {
  const timedRounds = rounds.slice(1);
  const rows: Record<string, Row> = {};
  const spread: Record<string, [number, number]> = {};
  for (const key of Object.keys(rounds[0].rows)) {
    const ms = timedRounds.map((r) => r.rows[key].ms);
    rows[key] = { ...rounds[rounds.length - 1].rows[key], ms: median(ms) };
    spread[key] = [Math.min(...ms), Math.max(...ms)];
  }
  return { loaded, rows, spread, last: rounds[rounds.length - 1], peakRss: peak };
}

function render(results: Map<string, Summary>): string {
  const kv = results.get("kvdb");
  const sq = results.get("sqlite");
  const out: string[] = [];
  const table: string[][] = [["query", "sqlite (JSON.parse)", "sqlite (raw rows)", "kvdb db.query", "× sqlite", "kvdb single-valued", "× sqlite", "target"]];
  const ratio = (base: Row | undefined, mine: Row | undefined) => (base && mine ? `${(base.ms / mine.ms).toFixed(2)}×` : "");
  const cell = (r: Row | undefined) => (r ? fmtMs(r.ms) : "");
  const line = (name: string, q: string, sqlKey: string, rawKey: string | undefined, target: number | undefined) => {
    const base = sq?.rows[`${q}|${sqlKey}`];
    const a = kv?.rows[`${q}|db.query`];
    const b = kv?.rows[`${q}|single-valued`];
    let t = "";
    if (target !== undefined && base && a && b) {
      const met = (r: Row) => (base.ms / r.ms >= target ? "met" : "MISSED");
      t = `≥ ${target}×: db.query ${met(a)}, single-valued ${met(b)}`;
    }
    table.push([name, cell(base), rawKey ? cell(sq?.rows[`${q}|${rawKey}`]) : "", cell(a), ratio(base, a), cell(b), ratio(base, b), t]);
  };
  line(`age ${LO}..${HI}, all documents`, "range", "parsed", "raw", 2);
  line(`count, age ${LO}..${HI}`, "count", "sql", undefined, undefined);
  line(`top-${TOP} by age desc (per query)`, "top", "parsed", "raw", 2);
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const fmt = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  out.push(fmt(table[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...table.slice(1).map(fmt));
  out.push("");
  if (kv && sq) {
    const same = kv.last.rangeDigest === sq.last.rangeDigest && kv.rows["count|db.query"].n === sq.rows["count|sql"].n && kv.last.topKeys.join() === sq.last.topKeys.join();
    out.push(`results agree: ${same ? "yes" : "DIFFERENT"} (range ${kv.rows["range|db.query"].n} documents, same keys; count; top-${TOP} keys in the same order)`);
  }
  for (const r of [kv, sq]) {
    if (!r) continue;
    out.push(`${r.loaded.engine}: load ${(r.loaded.loadMs / 1000).toFixed(1)} s, ${r.loaded.engine === "kvdb" ? "flush + compact" : "CREATE INDEX"} ${(r.loaded.indexMs / 1000).toFixed(1)} s, peak RSS ${(r.peakRss / 1048576).toFixed(0)} MiB`);
    for (const n of r.loaded.notes) out.push(`  ${n}`);
    for (const [k, row] of Object.entries(r.rows)) {
      const [lo, hi] = r.spread[k];
      out.push(`  ${k}: median ${fmtMs(row.ms)} (${fmtMs(lo)}..${fmtMs(hi)})${row.plan ? `; ${row.plan}` : ""}`);
    }
  }
  return out.join("\n");
}

async function parent(): Promise<number> {
  console.log(
    [
      `bench-range: ${N.toLocaleString("en-US")} documents (seed ${SEED}), ${ROUNDS} timed rounds after a warm-up (median), top-${TOP} ×${TOPK_REPS} per round`,
      `machine: ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.cpus()[0]?.model ?? "unknown CPU"}; Bun ${Bun.version}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`,
      `engines: ${ENGINES.join(", ")} (each in its own child process, loaded one after the other, rounds alternating)`,
      "",
    ].join("\n"),
  );
  const children: ChildProcess[] = [];
  const loaded = new Map<string, Loaded>();
  try {
    for (const engine of ENGINES) {
      const c = new ChildProcess(engine);
      children.push(c);
      loaded.set(engine, await c.line<Loaded>());
    }
    const rounds = new Map<string, RoundResult[]>(ENGINES.map((e) => [e, []]));
    for (let r = 0; r <= ROUNDS; r++) {
      const order = r % 2 === 0 ? children : [...children].reverse();
      for (const c of order) {
        c.send("round");
        rounds.get(c.engine)!.push(await c.line<RoundResult>());
      }
      process.stderr.write(`round ${r}${r === 0 ? " (warm-up)" : ""} done\n`);
    }
    const results = new Map<string, Summary>();
    for (const c of children) results.set(c.engine, summarize(loaded.get(c.engine)!, rounds.get(c.engine)!, await c.finish()));
    const report = render(results);
    console.log("\n" + report);
    console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    return report.includes("DIFFERENT") ? 1 : 0;
  } catch (e) {
    console.error(String(e));
    return 1;
  }
}

const at = process.argv.indexOf("--engine");
if (at >= 0) await child(process.argv[at + 1] ?? "");
else process.exitCode = await parent();
