/**
 * @module
 * Where the time of an indexed query goes, per returned document, side by side with
 * bun:sqlite in the same process (not part of `npm test` or `npm run bench`). It answers
 * one question for the index benchmark's `city = X` targets: how much of kvdb's time is
 * the point read of each candidate, how much is building the document (TextDecoder +
 * JSON.parse, which sqlite's side pays too), and how much is everything else.
 *
 *     node_modules/.bin/bun scripts/profile-query-cost.ts                # 1,000,000 documents
 *     COST_DOCS=200000 node_modules/.bin/bun scripts/profile-query-cost.ts
 *
 * Both stores hold the index benchmark's documents (scripts/bench/workload.ts) with an
 * index on `$.city` and one on `$.age`: kvdb with the declared equality and range
 * indexes, compacted; sqlite as in scripts/bench/index-sqlite-run.ts
 * (`kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID`, expression indexes on
 * `json_extract(v,'$.city')` and `json_extract(v,'$.age')`). The queries are the
 * index and range benchmarks' (`city = X` all and first 100 for three cities, `age`
 * 30..35, top 100 by `age` descending). For each, the medians over COST_ROUNDS rounds
 * (20× as many for the 100-document queries; each round runs every measurement once, in
 * turn, so a round sees one machine state) of:
 *   - sqlite: the rows as bytes, then the same with each value decoded and parsed
 *     (what kvdb's query returns);
 *   - kvdb: `db.query` (pages of 1,000 followed through `next_cursor` for the "all"
 *     queries, as the benchmarks do); the same documents' point reads alone (one engine
 *     read view, keys in key order); the decode + parse of those values alone. "The
 *     rest" is the median over rounds of the query minus those two: index reads, candidate
 *     keys, re-checks, items.
 * The engine's read view is reached through a cast: this is a measuring tool, and the
 * point reads are what the query executor does per candidate.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase } from "../src/db.ts";
import type { Database, IndexDefinition, QueryRequest } from "../src/types.ts";
import { cityCensus, queryCities } from "./bench/index-workload.ts";
import { settle } from "./bench/kvdb-settle.ts";
import { machineLines } from "./bench/machine.ts";
import { openSqliteKv } from "./bench/sqlite-kv.ts";
import { buildWorkload } from "./bench/workload.ts";

const env = process.env;
const N = Number(env.COST_DOCS ?? 1_000_000);
const ROUNDS = Number(env.COST_ROUNDS ?? 9);
const SEED = 42;
const SCOPE = "user:";
const INDEXES: IndexDefinition[] = [
  { name: "users_city", scope_prefix: SCOPE, type: "equality", extractor: { kind: "json_path", path: "$.city" } },
  { name: "users_age", scope_prefix: SCOPE, type: "range", extractor: { kind: "json_path", path: "$.age" } },
];

interface ReadView {
  get(key: Uint8Array): Uint8Array | undefined;
  release(): void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function elapsed(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Runs the measurements `fns` in turn, `rounds` times over (after three untimed turns:
 * JIT, caches), so that every round sees the same machine state; the median of each,
 * and the median over rounds of `derived` computed from one round's times.
 */
async function interleaved(fns: Array<() => unknown>, rounds: number, derived: (ms: number[]) => number): Promise<{ medians: number[]; derived: number }> {
  for (let i = 0; i < 3; i++) for (const fn of fns) await fn();
  const times: number[][] = fns.map(() => []);
  const rest: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const round: number[] = [];
    for (const fn of fns) round.push(await elapsed(fn));
    round.forEach((ms, i) => times[i].push(ms));
    rest.push(derived(round));
  }
  return { medians: times.map(median), derived: median(rest) };
}

/** Runs `request` (following next_cursor when `pages`); the number of documents returned. */
async function run(db: Database, request: QueryRequest, pages: boolean): Promise<number> {
  let cursor: string | null = null;
  let docs = 0;
  do {
    const r = await db.query({ ...request, cursor });
    if (!("items" in r)) throw new Error("expected items");
    if (r.plan.index === null) throw new Error(`not answered from an index: ${JSON.stringify(r.plan)}`);
    docs += r.items.length;
    cursor = pages ? r.next_cursor : null;
  } while (cursor !== null);
  return docs;
}

const w = buildWorkload(N, SEED);
const census = cityCensus(w);
const { cities } = queryCities(census, 3, SEED + 7);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-query-cost-"));
try {
  console.log([`kvdb query cost per document: ${N.toLocaleString("en-US")} documents, cities ${cities.join(", ")}, median of ${ROUNDS} rounds (${ROUNDS * 20} for 100 documents)`, ...machineLines(), ""].join("\n"));

  const db = await openDatabase(path.join(root, "kvdb"), { sync: "none", indexes: INDEXES });
  await db.waitForIndexes();
  for (let s = 0; s < w.n; s += 1000) {
    const ops = [];
    for (let j = s; j < Math.min(w.n, s + 1000); j++) ops.push({ type: "put" as const, key: w.keys[w.order[j]], value: w.value(w.order[j]) });
    await db.write(ops);
  }
  await db.compact();
  await settle(db);
  process.stderr.write("kvdb loaded and compacted\n");

  const sql = openSqliteKv(path.join(root, "bench.sqlite"));
  sql.exec("CREATE INDEX kv_city ON kv(json_extract(v, '$.city'))");
  sql.exec("CREATE INDEX kv_age ON kv(json_extract(v, '$.age'))");
  const put = sql.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
  const tx = sql.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) put.run(w.keys[w.order[j]], w.value(w.order[j]));
  });
  for (let s = 0; s < w.n; s += 10_000) tx(s, Math.min(w.n, s + 10_000));
  process.stderr.write("sqlite loaded\n");
  const sqlAll = sql.prepare<{ k: string; v: Uint8Array }, [string]>("SELECT k, v FROM kv WHERE json_extract(v, '$.city') = ? ORDER BY k");
  const sqlTop = sql.prepare<{ k: string; v: Uint8Array }, [string]>("SELECT k, v FROM kv WHERE json_extract(v, '$.city') = ? ORDER BY k LIMIT 100");
  const sqlRange = sql.prepare<{ k: string; v: Uint8Array }, []>("SELECT k, v FROM kv WHERE json_extract(v, '$.age') BETWEEN 30 AND 35");
  const sqlTopAge = sql.prepare<{ k: string; v: Uint8Array }, []>("SELECT k, v FROM kv ORDER BY json_extract(v, '$.age') DESC LIMIT 100");

  const engine = (db as unknown as { engine: { readView(): ReadView } }).engine;
  const decoder = new TextDecoder();
  const parseAll = (values: Uint8Array[]) => {
    for (const v of values) JSON.parse(decoder.decode(v));
  };
  const pointReads = (keys: Uint8Array[]): Uint8Array[] => {
    const view = engine.readView();
    try {
      const out: Uint8Array[] = [];
      for (const k of keys) {
        const v = view.get(k);
        if (v === undefined) throw new Error("candidate without a record");
        out.push(v);
      }
      return out;
    } finally {
      view.release();
    }
  };

  interface Case {
    label: string;
    /** sqlite's rows (k, v) for the case. */
    rows: () => { k: string; v: Uint8Array }[];
    /** kvdb's query for the case, following cursors when `pages`. */
    query: QueryRequest;
    pages: boolean;
  }
  const cases: Case[] = [];
  for (const city of cities) {
    cases.push({ label: `city = ${city}`, rows: () => sqlAll.all(city), query: { scope_prefix: SCOPE, filter: { city }, limit: 1000 }, pages: true });
  }
  cases.push({ label: "age 30..35", rows: () => sqlRange.all(), query: { scope_prefix: SCOPE, filter: { age: { $gte: 30, $lte: 35 } }, limit: 1000 }, pages: true });
  for (const city of cities) {
    cases.push({ label: `city = ${city}, limit 100`, rows: () => sqlTop.all(city), query: { scope_prefix: SCOPE, filter: { city }, limit: 100 }, pages: false });
  }
  cases.push({ label: "top 100 by age desc", rows: () => sqlTopAge.all(), query: { scope_prefix: SCOPE, sort: { age: -1 }, limit: 100 }, pages: false });

  await run(db, cases[0].query, true);
  const table: string[][] = [];
  const us = (ms: number, docs: number) => ((ms * 1000) / docs).toFixed(2);
  for (const c of cases) {
    const encoder = new TextEncoder();
    const sqlRows = c.rows();
    const docs = await run(db, c.query, c.pages);
    if (docs !== sqlRows.length) throw new Error(`${c.label}: kvdb returned ${docs} documents, sqlite ${sqlRows.length}`);
    // Point reads in key order, as the executor does them for an unsorted query.
    const keys = sqlRows.map((r) => encoder.encode(r.k)).sort((a, b) => Buffer.compare(a, b));
    const values = pointReads(keys);
    // The small queries take well under a millisecond: more rounds for a stable median.
    const rounds = c.pages ? ROUNDS : ROUNDS * 20;
    const { medians, derived: rest } = await interleaved(
      [c.rows, () => parseAll(c.rows().map((r) => r.v)), () => run(db, c.query, c.pages), () => pointReads(keys), () => parseAll(values)],
      rounds,
      ([, , query, reads, parse]) => query - reads - parse,
    );
    const [sRaw, sParsed, kQuery, kReads, parse] = medians;
    table.push([
      c.label,
      `${docs}`,
      us(sRaw, docs),
      us(sParsed, docs),
      us(kQuery, docs),
      us(kReads, docs),
      us(parse, docs),
      us(rest, docs),
      (sParsed / kQuery).toFixed(2),
    ]);
  }
  const fixed = (await interleaved([() => run(db, { scope_prefix: SCOPE, filter: { city: cities[0] }, limit: 1 }, false)], ROUNDS * 20, () => 0)).medians[0];
  const head = ["query", "docs", "sqlite rows", "sqlite parsed", "kvdb query", "  point reads", "  decode+parse", "  the rest", "kvdb ÷ sqlite parsed"];
  console.log("µs per returned document (medians):\n");
  console.log(table.map((r) => r.map((x, i) => (i === 0 ? x.padEnd(32) : x.padStart(i === 8 ? 22 : 14))).join("")).join("\n").replace(/^/, head.map((x, i) => (i === 0 ? x.padEnd(32) : x.padStart(i === 8 ? 22 : 14))).join("") + "\n"));
  console.log(`\nkvdb fixed cost of an indexed query (limit 1): ${(fixed * 1000).toFixed(0)} µs`);
  console.log(
    "For 2x sqlite's parsed rows, kvdb's whole query must cost half of sqlite's parsed column; decode+parse is paid by both sides.",
  );
  for (const st of [sqlAll, sqlTop, sqlRange, sqlTopAge]) st.finalize();
  put.finalize();
  sql.close();
  await db.close();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
