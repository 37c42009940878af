/**
 * @module
 * Benchmark for issue 5 (queries over values, scan mode): documents examined per second
 * by a kvdb scan query vs bun:sqlite evaluating the same filter with `json_extract` and
 * no index, in the same process, on the same documents.
 *
 *   BENCH_DOCS=200000 node_modules/.bin/bun scripts/bench-query.ts     (default 1,000,000)
 *   BENCH_ROUNDS=5 (default 5; after one warm-up round, the median round is reported)
 *
 * Data: `user:<8 digits>` → `{"name","city","age","ts"}`, 50 cities, ages 18..77, loaded
 * into kvdb with `db.write` batches of 1,000 (`sync: "none"`), then flushed and compacted;
 * into sqlite as `kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID` (values stored as TEXT),
 * WAL mode, synchronous=NORMAL, one transaction per 1,000 rows.
 *
 * Every query reads the whole scope: kvdb with `count: true`, sqlite with `SELECT count(*)`
 * (plus one "all rows" line: kvdb pages of 1,000 following next_cursor vs sqlite `.all()`).
 *
 * kvdb is measured through two sources:
 * - `db.scan`: the Database API as it is (an async iterator of copied `[key, bytes]`);
 * - `scanRaw`: the synchronous raw cursor `src/query/source.ts` asks the Database for,
 *   built here from the engine's public `readView()` — what `db.query()` will use once the
 *   Database exposes it.
 * in three execution modes:
 * - default: byte prefilter, then the member reader (checks the whole value, decodes only
 *   the members the filter reads);
 * - "no prefilter": every value goes through the member reader;
 * - "JSON.parse all": every value is decoded whole (TextDecoder + JSON.parse), no prefilter.
 */
import { Database as Sqlite } from "bun:sqlite";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase, type Database } from "../src/db.ts";
import { prefixEnd, utf8, compareBytes } from "../src/engine/coding.ts";
import { Engine } from "../src/engine/engine.ts";
import { mulberry32 } from "./bench/workload.ts";
import { executeQuery, type ExecuteOptions, type QueryCountResponse, type QueryItemsResponse, type QuerySource, type RawEntryCursor } from "../src/query/index.ts";

const N = Number(process.env.BENCH_DOCS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CITIES = Array.from({ length: 50 }, (_, i) => `City${String(i).padStart(2, "0")}`);
const SCOPE = "user:";

interface Query {
  name: string;
  filter: Record<string, unknown>;
  sql: string;
  params: (string | number)[];
}

const QUERIES: Query[] = [
  {
    name: `city = "City07" and age >= 30`,
    filter: { city: "City07", age: { $gte: 30 } },
    sql: "json_extract(v, '$.city') = ? AND json_extract(v, '$.age') >= ?",
    params: ["City07", 30],
  },
  {
    name: "30 <= age < 35",
    filter: { age: { $gte: 30, $lt: 35 } },
    sql: "json_extract(v, '$.age') >= ? AND json_extract(v, '$.age') < ?",
    params: [30, 35],
  },
];


function makeDocs(): { keys: string[]; values: string[] } {
  const rnd = mulberry32(42);
  const keys: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < N; i++) {
    keys.push(`${SCOPE}${String(i).padStart(8, "0")}`);
    const doc = { name: `user${i}`, city: CITIES[Math.floor(rnd() * CITIES.length)], age: 18 + Math.floor(rnd() * 60), ts: 1_700_000_000_000 + i * 1000 };
    values.push(JSON.stringify(doc));
  }
  return { keys, values };
}

/** What `Database.scanRaw` would be: the engine's snapshot iterator over the user keyspace. */
function engineSource(engine: Engine): QuerySource {
  const userEnd = new Uint8Array([0xff]);
  return {
    scan() {
      throw new Error("not used");
    },
    scanRaw({ prefix, start }): RawEntryCursor {
      const p = utf8(prefix ?? "");
      const s = start === undefined ? p : utf8(start);
      const lower = compareBytes(s, p) > 0 ? s : p;
      const view = engine.readView();
      const it = view.iterator(lower, prefixEnd(p) ?? userEnd);
      it.seekToFirst();
      return { valid: () => it.valid(), key: () => it.key(), value: () => it.value(), next: () => it.next(), close: () => view.release() };
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fmtRate(perSec: number): string {
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M/s` : `${(perSec / 1e3).toFixed(0)} k/s`;
}

type Timings = Map<string, number[]>;

function record(t: Timings, label: string, ms: number): void {
  const list = t.get(label) ?? [];
  list.push(ms);
  t.set(label, list);
}

const MODES: Record<string, ExecuteOptions> = {
  default: {},
  "no prefilter": { prefilter: false },
  "JSON.parse all": { prefilter: false, memberReader: false },
};

async function kvdbCount(source: QuerySource, q: Query, options: ExecuteOptions, expect: number): Promise<number> {
  const t0 = performance.now();
  const r = (await executeQuery(source, { scope_prefix: SCOPE, filter: q.filter, count: true }, options)) as QueryCountResponse;
  const ms = performance.now() - t0;
  if (r.count !== expect) throw new Error(`kvdb counted ${r.count} for ${q.name}, sqlite ${expect}`);
  if (r.plan.docs_examined !== N) throw new Error(`kvdb examined ${r.plan.docs_examined} documents, expected ${N}`);
  return ms;
}

/** The floor: walking the raw cursor over the scope and touching each value, no query work. */
function iterateOnly(source: QuerySource): number {
  const t0 = performance.now();
  const c = source.scanRaw!({ prefix: SCOPE });
  let n = 0;
  let bytes = 0;
  try {
    for (; c.valid(); c.next()) {
      bytes += c.value().length;
      n++;
    }
  } finally {
    c.close();
  }
  if (n !== N || bytes === 0) throw new Error(`iterated ${n} entries, expected ${N}`);
  return performance.now() - t0;
}

async function kvdbAllRows(source: QuerySource, q: Query, expect: number): Promise<number> {
  const t0 = performance.now();
  let cursor: string | null = null;
  let n = 0;
  do {
    const r = (await executeQuery(source, { scope_prefix: SCOPE, filter: q.filter, limit: 1000, cursor })) as QueryItemsResponse;
    n += r.items.length;
    cursor = r.next_cursor;
  } while (cursor !== null);
  const ms = performance.now() - t0;
  if (n !== expect) throw new Error(`kvdb returned ${n} rows for ${q.name}, sqlite ${expect}`);
  return ms;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-bench-query-"));
  try {
    console.log(`bench-query: ${N.toLocaleString("en-US")} documents, ${ROUNDS} rounds (median reported), Bun ${Bun.version}, ${os.cpus().length} cores`);
    const { keys, values } = makeDocs();
    console.log(`document example: ${values[0]} (${values[0].length} bytes)`);

    // Load kvdb.
    const kvDir = path.join(root, "kvdb");
    let db: Database = await openDatabase(kvDir, { sync: "none" });
    let t0 = performance.now();
    for (let s = 0; s < N; s += 1000) {
      const ops = [];
      for (let i = s; i < Math.min(N, s + 1000); i++) ops.push({ type: "put" as const, key: keys[i], value: values[i] });
      await db.write(ops);
    }
    await db.flush();
    await db.compact();
    console.log(`kvdb load (batches of 1,000, sync none) + flush + compact: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Load sqlite.
    const sq = new Sqlite(path.join(root, "bench.sqlite"), { create: true });
    sq.exec("PRAGMA journal_mode=WAL");
    sq.exec("PRAGMA synchronous=NORMAL");
    sq.exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
    const insert = sq.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
    const tx = sq.transaction((s: number) => {
      for (let i = s; i < Math.min(N, s + 1000); i++) insert.run(keys[i], values[i]);
    });
    t0 = performance.now();
    for (let s = 0; s < N; s += 1000) tx(s);
    console.log(`sqlite load (transactions of 1,000): ${((performance.now() - t0) / 1000).toFixed(1)} s; sqlite ${(sq.query("select sqlite_version() AS v").get() as { v: string }).v}`);

    const scope = "k >= ? AND k < ?";
    // The same range as the scope prefix: "user:" <= k < "user;".
    const scopeArgs = [SCOPE, SCOPE.slice(0, -1) + String.fromCharCode(SCOPE.charCodeAt(SCOPE.length - 1) + 1)];
    const sqlCount = QUERIES.map((q) => sq.prepare(`SELECT count(*) AS n FROM kv WHERE ${scope} AND ${q.sql}`));
    const sqlRows = sq.prepare(`SELECT k, v FROM kv WHERE ${scope} AND ${QUERIES[0].sql}`);
    const expected = sqlCount.map((st, i) => (st.get(...scopeArgs, ...QUERIES[i].params) as { n: number }).n);
    console.log(`matches: ${QUERIES.map((q, i) => `${q.name}: ${expected[i]}`).join("; ")}`);

    const t: Timings = new Map();
    const sqliteRound = () => {
      QUERIES.forEach((q, i) => {
        const s = performance.now();
        const n = (sqlCount[i].get(...scopeArgs, ...q.params) as { n: number }).n;
        record(t, `sqlite|${i}`, performance.now() - s);
        if (n !== expected[i]) throw new Error("sqlite count changed");
      });
      const s = performance.now();
      const rows = sqlRows.all(...scopeArgs, ...QUERIES[0].params);
      record(t, "sqlite|rows", performance.now() - s);
      if (rows.length !== expected[0]) throw new Error("sqlite rows changed");
    };

    // kvdb through the Database's scan (the API as it is today).
    for (let r = -1; r < ROUNDS; r++) {
      if (r === -1) {
        // Warm-up: both engines' first runs (JIT, page cache) are not recorded.
        sqliteRound();
        t.clear();
        for (const q of QUERIES) await kvdbCount(db, q, {}, expected[QUERIES.indexOf(q)]);
        continue;
      }
      sqliteRound();
      for (const [i, q] of QUERIES.entries()) {
        for (const [mode, options] of Object.entries(MODES)) record(t, `db.scan ${mode}|${i}`, await kvdbCount(db, q, options, expected[i]));
      }
      record(t, "db.scan default|rows", await kvdbAllRows(db, QUERIES[0], expected[0]));
    }
    await db.close();

    // kvdb through the raw cursor (what scanRaw gives).
    const engine = await Engine.open(kvDir, { sync: "none" });
    const raw = engineSource(engine);
    for (let r = -1; r < ROUNDS; r++) {
      if (r === -1) {
        // Warm-up: first runs of this source are JIT-compiled; not recorded.
        for (const q of QUERIES) await kvdbCount(raw, q, {}, expected[QUERIES.indexOf(q)]);
        continue;
      }
      sqliteRound();
      record(t, "scanRaw floor|0", iterateOnly(raw));
      for (const [i, q] of QUERIES.entries()) {
        for (const [mode, options] of Object.entries(MODES)) record(t, `scanRaw ${mode}|${i}`, await kvdbCount(raw, q, options, expected[i]));
      }
      record(t, "scanRaw default|rows", await kvdbAllRows(raw, QUERIES[0], expected[0]));
    }
    await engine.close();
    sq.close();

    // Report.
    const rate = (label: string) => (N / median(t.get(label)!)) * 1000;
    const rows: string[][] = [["query", "engine / mode", "docs examined/s", "× sqlite", "target"]];
    const section = (qi: string, qname: string) => {
      const base = rate(`sqlite|${qi}`);
      rows.push([qname, "sqlite json_extract, no index", fmtRate(base), "1.00×", ""]);
      const modes = Object.keys(MODES);
      for (const mode of [...modes.map((m) => `scanRaw ${m}`), ...modes.map((m) => `db.scan ${m}`), "scanRaw floor"]) {
        const label = `${mode}|${qi}`;
        if (!t.has(label)) continue;
        const ratio = rate(label) / base;
        const floor = mode === "scanRaw floor";
        rows.push(["", floor ? "(kvdb scanRaw iteration alone: the floor)" : `kvdb ${mode}`, fmtRate(rate(label)), `${ratio.toFixed(2)}×`, floor ? "" : ratio >= 1 ? "≥ 1× met" : "≥ 1× MISSED"]);
      }
    };
    QUERIES.forEach((q, i) => section(String(i), `count: ${q.name}`));
    section("rows", `all rows: ${QUERIES[0].name}`);
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
    console.log();
    console.log(line(rows[0]));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const r of rows.slice(1)) console.log(line(r));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
