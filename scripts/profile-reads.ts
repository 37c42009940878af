/**
 * @module
 * A profiling harness for kvdb's read path (not part of `npm test` or `npm run bench`).
 *
 * Fills a store with the benchmark's data set (`scripts/bench/workload.ts`: 16-byte keys,
 * ~150-byte JSON values, random order) through batches of 1,000, waits for background
 * work, then runs several rounds of: the raw SnapshotIterator loop, the same plus key
 * decoding and value copies, `db.scan()` (full, 1% prefix, 1% range), and random point
 * reads through `db.get` and `engine.get`. With PROFILE_SQLITE=1 the same reads run
 * against bun:sqlite in the same process, for a ratio measured on the same machine state.
 *
 * PROFILE_SRC may list several source trees (comma-separated, e.g. a copy of the last
 * commit's `src` and this checkout's): each gets its own store, and every round runs each
 * phase on each tree back to back, so an A/B comparison sees the same machine load (the
 * machine this was written on is shared and noisy; separate runs differ by ±30%).
 *
 *     bun scripts/profile-reads.ts                       # 1M keys
 *     PROFILE_KEYS=300000 PROFILE_ROUNDS=5 bun scripts/profile-reads.ts
 *     PROFILE_SRC=/tmp/kvdb-base/src,src bun scripts/profile-reads.ts   # A/B
 *     PROFILE_ONLY=scan,get bun scripts/profile-reads.ts
 */
import type { Database as Sqlite } from "bun:sqlite";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openSqliteKv } from "./bench/sqlite-kv.ts";
import { buildWorkload, bucketPrefix, BUCKETS, mulberry32, prefixEnd, randomRanges, randomReads } from "./bench/workload.ts";

const env = process.env;
const N = Number(env.PROFILE_KEYS ?? 1_000_000);
const ROUNDS = Number(env.PROFILE_ROUNDS ?? 3);
const READS = Number(env.PROFILE_READS ?? 200_000);
const SCANS = Number(env.PROFILE_SCANS ?? 50);
const SRCS = (env.PROFILE_SRC ?? path.join(import.meta.dir, "..", "src")).split(",").map((p) => path.resolve(p));
const ONLY = env.PROFILE_ONLY?.split(",");
const want = (phase: string) => !ONLY || ONLY.some((p) => phase.startsWith(p));

const w = buildWorkload(N, 42);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-profile-"));
const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

interface Tree {
  label: string;
  db: any;
  engine: any;
  fromUtf8: (b: Uint8Array) => string;
}

/** Opens a store with the tree's code and fills it with the data set. */
async function fillTree(src: string, n: number): Promise<Tree> {
  const { openDatabase } = await import(path.join(src, "db.ts"));
  const { fromUtf8 } = await import(path.join(src, "engine/coding.ts"));
  const db = await openDatabase(path.join(root, `kv${n}`), { sync: "none" });
  const t0 = performance.now();
  for (let s = 0; s < N; s += 1000) {
    const ops = [];
    for (let j = s; j < Math.min(N, s + 1000); j++) {
      const i = w.order[j];
      ops.push({ type: "put" as const, key: w.keys[i], value: w.value(i) });
    }
    await db.write(ops);
  }
  const fillMs = performance.now() - t0;
  for (let quiet = 0; quiet < 2; ) {
    const s = db.stats();
    quiet = s.compaction.running || s.memtables.immutable > 0 ? 0 : quiet + 1;
    await Bun.sleep(50);
  }
  const s = db.stats();
  const levels = s.sstables.levels.filter((l: { files: number }) => l.files > 0).map((l: { level: number; files: number }) => `L${l.level}:${l.files}`);
  const label = SRCS.length > 1 ? `[${n}]` : "";
  console.log(`${label} src ${src}: fill ${N} keys ${(fillMs / 1000).toFixed(1)} s; tree ${levels.join(" ")}, memtable ${s.memtables.activeEntries} entries`);
  return { label, db, engine: (db as unknown as { engine: any }).engine, fromUtf8 };
}

const trees: Tree[] = [];
for (let n = 0; n < SRCS.length; n++) trees.push(await fillTree(SRCS[n], n));
let t0 = 0;

let sql: Sqlite | undefined;
if (env.PROFILE_SQLITE === "1") {
  fs.mkdirSync(path.join(root, "sqlite"));
  sql = openSqliteKv(path.join(root, "sqlite", "bench.sqlite"));
  const put = sql.prepare("INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)");
  const tx = sql.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) put.run(w.keys[w.order[j]], w.value(w.order[j]));
  });
  for (let s = 0; s < N; s += 1000) tx(s, Math.min(N, s + 1000));
}

const END = new Uint8Array([0xff]);
const enc = new TextEncoder();
const readIds = randomReads(N, READS, 43);
const readKeys = Array.from(readIds, (i) => w.keys[i]);
const readKeyBytes = readKeys.map((k) => enc.encode(k));
const pick = mulberry32(44);
const prefixes = Array.from({ length: SCANS }, () => bucketPrefix(Math.floor(pick() * BUCKETS)));
const ranges = randomRanges(w, SCANS, Math.max(1, Math.floor(N / 100)), 45);

type Phase = [name: string, run: (t: Tree) => Promise<number> | number];
const phases: Phase[] = [
  [
    "raw-iter",
    ({ engine }) => {
      const view = engine.readView();
      const it = view.iterator(undefined, END);
      let n = 0;
      for (it.seekToFirst(); it.valid(); it.next()) n++;
      view.release();
      return n;
    },
  ],
  [
    "iter+key+value",
    ({ engine, fromUtf8 }) => {
      const view = engine.readView();
      const it = view.iterator(undefined, END);
      let n = 0;
      for (it.seekToFirst(); it.valid(); it.next()) {
        fromUtf8(it.key());
        it.value().slice();
        n++;
      }
      view.release();
      return n;
    },
  ],
  [
    "scan-full",
    async ({ db }) => {
      let n = 0;
      let prev = "";
      for await (const [k] of db.scan()) {
        if (k <= prev) throw new Error("scan out of order");
        prev = k;
        n++;
      }
      if (n !== N) throw new Error(`full scan saw ${n} keys`);
      return n;
    },
  ],
  [
    "scan-prefix",
    async ({ db }) => {
      let n = 0;
      for (const p of prefixes) for await (const _ of db.scan({ prefix: p })) n++;
      return n;
    },
  ],
  [
    "scan-range",
    async ({ db }) => {
      let n = 0;
      for (const r of ranges) for await (const _ of db.scan({ start: r.start, end: r.end })) n++;
      return n;
    },
  ],
  [
    "get-db",
    async ({ db }) => {
      let miss = 0;
      for (let j = 0; j < readKeys.length; j++) if ((await db.get(readKeys[j])) === undefined) miss++;
      if (miss) throw new Error(`${miss} misses`);
      return readKeys.length;
    },
  ],
  [
    "get-engine",
    ({ engine }) => {
      for (let j = 0; j < readKeyBytes.length; j++) engine.get(readKeyBytes[j]);
      return readKeyBytes.length;
    },
  ],
];
const sqlPhases: Array<[string, () => number]> = [];
if (sql) {
  const all = sql.prepare<{ k: string; v: Uint8Array }, []>("SELECT k, v FROM kv ORDER BY k");
  const between = sql.prepare<{ k: string; v: Uint8Array }, [string, string]>("SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k");
  const from = sql.prepare<{ k: string; v: Uint8Array }, [string]>("SELECT k, v FROM kv WHERE k >= ? ORDER BY k");
  const get = sql.prepare<{ v: Uint8Array }, [string]>("SELECT v FROM kv WHERE k = ?");
  sqlPhases.push(
    [
      "sqlite-scan-full",
      () => {
        let n = 0;
        let prev = "";
        for (const row of all.iterate()) {
          if (row.k <= prev) throw new Error("sqlite scan out of order");
          prev = row.k;
          n++;
        }
        return n;
      },
    ],
    [
      "sqlite-scan-prefix",
      () => {
        let n = 0;
        for (const p of prefixes) for (const _ of between.iterate(p, prefixEnd(p))) n++;
        return n;
      },
    ],
    [
      "sqlite-scan-range",
      () => {
        let n = 0;
        for (const r of ranges) for (const _ of r.end === undefined ? from.iterate(r.start) : between.iterate(r.start, r.end)) n++;
        return n;
      },
    ],
    [
      "sqlite-get",
      () => {
        for (let j = 0; j < readKeys.length; j++) if (get.get(readKeys[j]) === null) throw new Error("sqlite miss");
        return readKeys.length;
      },
    ],
  );
}

/** CPU time of the process (all threads), ms: unlike wall time, barely affected by other processes' load. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const best = new Map<string, number>();
const bestCpu = new Map<string, number>();
const record = (name: string, n: number, ms: number, cpu: number, line: string[]) => {
  const perSec = (n * 1000) / ms;
  best.set(name, Math.max(best.get(name) ?? 0, perSec));
  bestCpu.set(name, Math.max(bestCpu.get(name) ?? 0, (n * 1000) / cpu));
  line.push(`${name} ${(perSec / 1e6).toFixed(2)}M/s`);
};
for (let round = 0; round < ROUNDS; round++) {
  const line: string[] = [];
  for (const [name, run] of phases) {
    if (!want(name)) continue;
    for (const t of trees) {
      t0 = performance.now();
      const c0 = cpuMs();
      const n = await run(t);
      record(`${name}${t.label}`, n, performance.now() - t0, cpuMs() - c0, line);
    }
  }
  for (const [name, run] of sqlPhases) {
    if (!want(name.slice("sqlite-".length))) continue;
    t0 = performance.now();
    const c0 = cpuMs();
    const n = run();
    record(name, n, performance.now() - t0, cpuMs() - c0, line);
  }
  console.log(`round ${round + 1}: ${line.join("  ")}`);
}
console.log("best of rounds (wall-clock rate, and per CPU-second of the process):");
for (const [k, v] of best) console.log(`  ${k.padEnd(22)} ${(v / 1e6).toFixed(3)}M/s   cpu ${(bestCpu.get(k)! / 1e6).toFixed(3)}M/s`);
if (sql) {
  for (const t of trees) {
    for (const kind of ["scan-full", "scan-prefix", "scan-range", "get"]) {
      const name = `${kind === "get" ? "get-db" : kind}${t.label}`;
      const k = best.get(name);
      const q = best.get(`sqlite-${kind}`);
      if (k && q) console.log(`ratio ${kind}${t.label} vs sqlite: ${(k / q).toFixed(2)}× (cpu ${(bestCpu.get(name)! / bestCpu.get(`sqlite-${kind}`)!).toFixed(2)}×)`);
    }
  }
}
for (const t of trees) await t.db.close();
sql?.close();
cleanup();
