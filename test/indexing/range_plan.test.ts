import { describe, expect, test } from "bun:test";
import { openDatabase, type Database } from "../../src/db.ts";
import type { Engine } from "../../src/engine/engine.ts";
import type { IndexManager } from "../../src/indexing/manager.ts";
import { EqualityIndexPlanner } from "../../src/indexing/equality_plan.ts";
import { PostingCache } from "../../src/indexing/postings_reader.ts";
import { RangeKeyCache } from "../../src/indexing/range_entries.ts";
import type { PlannableIndex } from "../../src/query/planner.ts";
import { RangeIndexPlanner } from "../../src/indexing/range_plan.ts";
import { executeQuery } from "../../src/query/execute.ts";
import type { QueryRequest, QueryResponse } from "../../src/query/types.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "./support.ts";

const ageIndex = { name: "users_age", scope_prefix: "user:", type: "range" as const, extractor: { kind: "json_path" as const, path: "$.age" } };
const key = (i: number) => `user:${String(i).padStart(4, "0")}`;

/** 1000 users: age i % 100 (0..99), city "Rare" for every 100th, else c0..c3; a few odd ages. */
async function seeded(extra: Array<[string, unknown]> = []): Promise<Database> {
  const db = await openDatabase(tempDir(), { indexes: [cityIndex, ageIndex], sync: "none" });
  const ops = [];
  for (let i = 0; i < 1000; i++) ops.push({ type: "put" as const, key: key(i), value: JSON.stringify({ city: i % 100 === 0 ? "Rare" : `c${i % 4}`, age: i % 100 }) });
  for (const [k, v] of extra) ops.push({ type: "put" as const, key: k, value: typeof v === "string" ? v : JSON.stringify(v) });
  await db.write(ops);
  await db.waitForIndexes();
  return db;
}

const items = (r: QueryResponse) => ("items" in r ? r.items.map((i) => i.key) : []);
const reasonFor = (r: QueryResponse, name: string) => r.plan.candidates?.filter((c) => c.index === name).map((c) => c.reason).join("; ") ?? "";

async function allPages(db: Database, req: QueryRequest, run = (q: QueryRequest) => db.query(q)): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const r: QueryResponse = await run({ ...req, cursor });
    if (!("items" in r)) throw new Error("items expected");
    out.push(...items(r));
    cursor = r.next_cursor;
  } while (cursor);
  return out;
}

/** The planners db.query uses, for executeQuery with options. */
function plannersOf(db: Database): PlannableIndex[] {
  const { engine, indexes } = db as unknown as { engine: Engine; indexes: IndexManager };
  const cache = new RangeKeyCache();
  const postings = new PostingCache();
  return indexes
    .declaredIndexes()
    .map((i) => (i.definition.type === "range" ? new RangeIndexPlanner(i, engine, cache) : new EqualityIndexPlanner(i, engine, postings)));
}

/** A planner that may intersect bounds (what the write path's multikey flag would allow). */
function singleValuedPlanners(db: Database): RangeIndexPlanner[] {
  const { engine, indexes } = db as unknown as { engine: Engine; indexes: IndexManager };
  const age = indexes.declaredIndexes().find((i) => i.name === "users_age")!;
  return [new RangeIndexPlanner(age, engine, new RangeKeyCache(), { singleValued: () => true })];
}

describe("range filters from a range index", () => {
  test("$gt $gte $lt $lte read the index in one scan per condition; results equal a scan's", async () => {
    const db = await seeded([["user:x1", { age: "40" }], ["user:x2", { age: null }], ["user:x3", { age: true }], ["user:x4", '{"age":1e400}']]);
    const q = { scope_prefix: "user:", filter: { age: { $gt: 97 } }, limit: 1000 };
    const r = await db.query(q);
    expect(r.plan).toMatchObject({ kind: "index_range", index: "users_age", entries_read: 21, docs_examined: 21 });
    // Numbers only: the string "40", null and true are never read; Infinity is a number above 97.
    expect(items(r)).toEqual([...items(await executeQuery(db, q))]);
    expect(items(r)).toContain("user:x4");
    expect(items(r)).not.toContain("user:x1");
    const strings = await db.query({ scope_prefix: "user:", filter: { age: { $gte: "" } } });
    expect(items(strings)).toEqual(["user:x1"]);
    expect(strings.plan.entries_read).toBe(1);
    const eq = await db.query({ scope_prefix: "user:", filter: { age: { $in: [5, null] } } });
    expect(items(eq)).toEqual([...[5, 105, 205, 305, 405, 505, 605, 705, 805, 905].map(key), "user:x2"]);
    expect(eq.plan.kind).toBe("index_range");
    await db.close();
  });

  test("two bounds on the field: one condition is read unless the index is known single-valued", async () => {
    const db = await seeded([["user:arr", { age: [10, 140] }]]);
    const q = { scope_prefix: "user:", filter: { age: { $gte: 30, $lte: 35 } }, limit: 1000 };
    const conservative = await db.query(q);
    // An array [10, 140] matches both conditions with no element in [30, 35], so unless
    // no record holds an array the most selective bound alone is read.
    expect(conservative.plan.entries_read).toBe(361); // age <= 35, the array's 10 included
    expect(items(conservative)).toContain("user:arr");
    expect(items(conservative).length).toBe(61);
    await db.delete("user:arr");
    const intersected = await executeQuery(db, q, { indexes: singleValuedPlanners(db) });
    expect(intersected.plan.entries_read).toBe(60);
    expect(items(intersected)).toEqual(items(conservative).filter((k) => k !== "user:arr"));
    const count = await executeQuery(db, { ...q, limit: undefined, count: true }, { indexes: singleValuedPlanners(db) });
    expect(count).toMatchObject({ count: 60, plan: { counted_from_index: true, docs_examined: 0 } });
    await db.close();
  });

  test("an array field matches two conditions through different elements", async () => {
    const db = await seeded([["user:arr", { age: [10, 140] }]]);
    const r = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 130, $lte: 135 } } });
    expect(items(r)).toEqual(["user:arr"]);
    await db.close();
  });

  test("count over a range is answered from the index, counting each record once", async () => {
    const db = await seeded([["user:arr", { age: [50, 51, 52] }], ["user:big", { age: 500 }]]);
    const r = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 50, $lt: 60 } }, count: true });
    expect("count" in r && r.count).toBe(101);
    const one = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 50 } }, count: true });
    expect(one).toMatchObject({ count: 502, plan: { kind: "index_range", counted_from_index: true, docs_examined: 0 } });
    // Not from the index: another term, a narrower scope.
    const other = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 50 }, city: "c1" }, count: true });
    expect(other.plan.counted_from_index).toBeUndefined();
    const narrower = await db.query({ scope_prefix: "user:05", filter: { age: { $gte: 50 } }, count: true });
    expect(narrower).toMatchObject({ count: 50 });
    expect(narrower.plan.counted_from_index).toBeUndefined();
    await db.close();
  });

  test("updates and deletes: stale entries never leak", async () => {
    const db = await seeded();
    await db.put(key(7), JSON.stringify({ age: 1000 }));
    await db.delete(key(107));
    await db.compact();
    const r = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 7, $lt: 8 } } });
    expect(items(r)).toEqual([207, 307, 407, 507, 607, 707, 807, 907].map(key));
    expect(items(await db.query({ scope_prefix: "user:", filter: { age: { $gt: 999 } } }))).toEqual([key(7)]);
    await db.close();
  });
});

describe("the planner chooses by selectivity", () => {
  test("equality, range or scan: the smallest estimate wins and explain says why the others lost", async () => {
    const db = await seeded();
    // 10 Rare users against 990 entries with age >= 1: the equality index.
    const a = await db.query({ scope_prefix: "user:", filter: { city: "Rare", age: { $gte: 1 } }, limit: 1000, explain: true });
    expect(a.plan.index).toBe("users_city");
    expect(reasonFor(a, "users_age")).toMatch(/not chosen: more than 10 entries in range/);
    // 20 entries with age >= 98 against 250 in city c2: the range index.
    const b = await db.query({ scope_prefix: "user:", filter: { city: "c2", age: { $gte: 98 } }, explain: true });
    expect(b.plan.index).toBe("users_age");
    expect(reasonFor(b, "users_city")).toMatch(/not chosen: about 250 candidates, users_age has about 20/);
    expect(items(b)).toEqual([98, 198, 298, 398, 498, 598, 698, 798, 898, 998].map(key));
    // A range wider than one page can use (200 entries per item of the limit): the scan.
    const c = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 10 } }, limit: 2, explain: true });
    expect(c.plan.kind).toBe("scan");
    expect(reasonFor(c, "users_age")).toMatch(/not chosen: more than 400 entries in range/);
    expect(items(c)).toEqual([key(10), key(11)]);
    // Operators the index cannot answer, and other scopes.
    const d = await db.query({ scope_prefix: "user:", filter: { age: { $ne: 3 } }, limit: 1, explain: true });
    expect(reasonFor(d, "users_age")).toMatch(/operator not supported: \$ne/);
    const e = await db.query({ scope_prefix: "account:", filter: { age: 3 }, explain: true });
    expect(reasonFor(e, "users_age")).toMatch(/wrong scope/);
    await db.close();
  });

  test("a range index is not read while it builds", async () => {
    const db = await seeded();
    await db.reloadIndexes([cityIndex, ageIndex, { ...ageIndex, name: "users_age2" }]);
    const r = await db.query({ scope_prefix: "user:", filter: { age: 3 }, explain: true });
    if (r.plan.index !== "users_age2") expect(reasonFor(r, "users_age2")).toMatch(/still building|not chosen/);
    await db.waitForIndexes();
    await db.close();
  });
});

describe("sort", () => {
  test("top-k by an indexed field reads about limit entries, in both directions", async () => {
    const db = await seeded();
    const desc = await db.query({ scope_prefix: "user:", sort: { age: -1 }, limit: 5, explain: true });
    expect(desc.plan).toMatchObject({ kind: "index_sort", index: "users_age", entries_read: 5, docs_examined: 5, sort: { method: "index", direction: -1 } });
    // Equal values by key in the sort direction.
    expect(items(desc)).toEqual([999, 899, 799, 699, 599].map(key));
    const asc = await db.query({ scope_prefix: "user:", sort: { age: 1 }, limit: 3 });
    expect(items(asc)).toEqual([0, 100, 200].map(key));
    const scan = await executeQuery(db, { scope_prefix: "user:", sort: { age: -1 }, limit: 5 });
    expect(scan.plan).toMatchObject({ kind: "scan", docs_examined: 1000, sort: { method: "top_k" } });
    expect(items(scan)).toEqual(items(desc));
    await db.close();
  });

  test("arrays sort by their smallest element ascending and largest descending, once", async () => {
    const db = await seeded([["user:arr", { age: [-5, 500] }]]);
    const asc = await db.query({ scope_prefix: "user:", sort: { age: 1 }, limit: 2 });
    expect(items(asc)).toEqual(["user:arr", key(0)]);
    const desc = await db.query({ scope_prefix: "user:", sort: { age: -1 }, limit: 2 });
    expect(items(desc)).toEqual(["user:arr", key(999)]);
    const all = await allPages(db, { scope_prefix: "user:", sort: { age: -1 }, limit: 97 });
    expect(all.length).toBe(1001);
    expect(new Set(all).size).toBe(1001);
    const last = await db.query({ scope_prefix: "user:", sort: { age: 1 }, filter: { age: { $gte: 99 } }, limit: 100 });
    // The array's other entry (500) is passed over, not returned a second time.
    expect(last.plan.sort_skipped ?? 0).toBeLessThanOrEqual(1);
    await db.close();
  });

  test("documents without a sort value come last in both directions, by key", async () => {
    const db = await seeded([
      ["user:m1", { city: "x" }],
      ["user:m0", { age: {} }],
      ["user:m2", { age: [] }],
      ["user:s", { age: "str" }],
      ["user:n", { age: null }],
      ["user:b", { age: false }],
      ["user:nj", "not json"],
    ]);
    for (const dir of [1, -1] as const) {
      const all = await allPages(db, { scope_prefix: "user:", sort: { age: dir }, limit: 333 });
      expect(all.slice(-3)).toEqual(["user:m0", "user:m1", "user:m2"]);
      const scan = await allPages(db, { scope_prefix: "user:", sort: { age: dir }, limit: 333 }, (q) => executeQuery(db, q));
      expect(all).toEqual(scan);
      if (dir === 1) expect(all.slice(0, 2)).toEqual(["user:n", "user:b"]);
      else expect(all[0]).toBe("user:s");
    }
    // The last page reached the documents without a value by scanning the scope.
    const tail = await db.query({ scope_prefix: "user:", sort: { age: 1 }, filter: { city: { $prefix: "x" } }, explain: true });
    expect(items(tail)).toEqual(["user:m1"]);
    expect(tail.plan.sort?.missing_scanned).toBeGreaterThan(1000);
    // A filter that needs a value on the sort field never scans for them.
    const ranged = await db.query({ scope_prefix: "user:", sort: { age: 1 }, filter: { age: { $gte: 98 } }, limit: 1000 });
    expect(items(ranged).length).toBe(20);
    await db.close();
  });

  test("a small indexed filter is read whole and sorted; a selective range far from the stream start too", async () => {
    // An array anywhere means the index is not single-valued: streams cannot start at a range.
    const db = await seeded([["user:arr", { age: [-5, -3] }]]);
    const rare = await db.query({ scope_prefix: "user:", filter: { city: "Rare" }, sort: { age: -1 }, limit: 3, explain: true });
    expect(rare.plan).toMatchObject({ kind: "index_equality", sort: { method: "top_k" } });
    expect(reasonFor(rare, "users_age")).toMatch(/sort stream not used: the filter's path users_city has about 10 candidates/);
    expect(items(rare)).toEqual([900, 800, 700].map(key));
    // With a lower top-k threshold (the default is 10,000 candidates) the stream competes.
    const run = (q: QueryRequest) => executeQuery(db, q, { indexes: plannersOf(db), topKCandidates: 5 });
    const c1 = await run({ scope_prefix: "user:", filter: { city: "c1" }, sort: { age: -1 }, limit: 3, explain: true });
    expect(c1.plan).toMatchObject({ kind: "index_sort", entries_read: 23 }); // ages 99 and 98 hold no c1 user
    expect(reasonFor(c1, "users_city")).toMatch(/filter path not used: users_age streams the sort order/);
    expect(items(c1)).toEqual([997, 897, 797].map(key));
    // Ages below 10 sorted descending: the stream would pass 900 entries first, the range has 100.
    const low = await run({ scope_prefix: "user:", filter: { age: { $lt: 10 } }, sort: { age: -1 }, limit: 3, explain: true });
    expect(low.plan).toMatchObject({ kind: "index_range", sort: { method: "top_k" } });
    expect(reasonFor(low, "users_age")).toMatch(/sort stream not used: the stream would pass more than 102 entries/);
    expect(items(low)).toEqual([909, 809, 709].map(key));
    const high = await run({ scope_prefix: "user:", filter: { age: { $gte: 90 } }, sort: { age: -1 }, limit: 3 });
    expect(high.plan).toMatchObject({ kind: "index_sort", entries_read: 3 });
    expect(items(high)).toEqual([999, 899, 799].map(key));
    await db.close();
  });

  test("a stream stops past the filter's values, and starts at them when the index is single-valued", async () => {
    const db = await seeded([["user:arr", { age: [5, 99] }]]);
    // Descending, age >= 98: every match's largest value is >= 98, so the stream ends there.
    const desc = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 98 } }, sort: { age: -1 }, limit: 1000, explain: true });
    expect(desc.plan).toMatchObject({ kind: "index_sort", entries_read: 21 });
    expect(reasonFor(desc, "users_age")).toMatch(/the sort stream reads this range in order/);
    expect(items(desc).slice(0, 3)).toEqual(["user:arr", key(999), key(899)]);
    expect(items(desc).length).toBe(21);
    // Ascending, age <= 1: every match's smallest value is <= 1.
    const asc = await db.query({ scope_prefix: "user:", filter: { age: { $lte: 1 } }, sort: { age: 1 }, limit: 1000 });
    expect(items(asc)).toEqual(items(await executeQuery(db, { scope_prefix: "user:", filter: { age: { $lte: 1 } }, sort: { age: 1 }, limit: 1000 })));
    // Ascending, age >= 98: the array sorts at 5, before the range, so the stream cannot start at 98.
    const from98 = await db.query({ scope_prefix: "user:", filter: { age: { $gte: 98 } }, sort: { age: 1 }, limit: 3 });
    expect(items(from98)).toEqual(["user:arr", key(98), key(198)]);
    await db.delete("user:arr");
    // Known single-valued: the stream starts where the filter's values begin.
    const run = (q: QueryRequest) => executeQuery(db, q, { indexes: singleValuedPlanners(db), topKCandidates: 0 });
    const low = await run({ scope_prefix: "user:", filter: { age: { $lt: 10 } }, sort: { age: -1 }, limit: 3 });
    expect(low.plan).toMatchObject({ kind: "index_sort", entries_read: 3 });
    expect(items(low)).toEqual([909, 809, 709].map(key));
    await db.close();
  });

  test("a sorted cursor resumes strictly after its (value, key); documents that keep their value appear once", async () => {
    const db = await seeded();
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const r: QueryResponse = await db.query({ scope_prefix: "user:", sort: { age: -1 }, limit: 37, cursor });
      seen.push(...items(r));
      cursor = "items" in r ? r.next_cursor : null;
      // Writes between pages: new documents and a change that keeps the order of the rest.
      await db.put(`user:new${page++}`, JSON.stringify({ age: 50 }));
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 1000; i++) expect(seen).toContain(key(i));
    await db.close();
  });

  test("bad sorts and mismatched cursors are 400s", async () => {
    const db = await seeded();
    const err = async (q: unknown) => {
      try {
        await db.query(q as QueryRequest);
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await err({ sort: { age: 0 } })).toBe('sort["age"]: expected 1 (ascending) or -1 (descending), got 0');
    expect(await err({ sort: { age: "desc" } })).toBe('sort["age"]: expected 1 (ascending) or -1 (descending), got string');
    expect(await err({ sort: { age: 1, city: 1 } })).toBe('sort: expected exactly one field, e.g. {"age": 1} (ascending) or {"age": -1} (descending); got 2');
    expect(await err({ sort: {} })).toMatch(/^sort: expected exactly one field/);
    expect(await err({ sort: ["age"] })).toMatch(/^sort: expected an object with one field/);
    expect(await err({ sort: { "a..b": 1 } })).toMatch(/^sort\["a\.\.b"\]: bad field path/);
    expect(await err({ sort: { age: 1 }, count: true })).toBe("sort: not allowed with count: a count has no order");
    const sorted = await db.query({ scope_prefix: "user:", sort: { age: 1 }, limit: 1 });
    const plain = await db.query({ scope_prefix: "user:", limit: 1 });
    const sortedCursor = "items" in sorted ? sorted.next_cursor : null;
    const plainCursor = "items" in plain ? plain.next_cursor : null;
    expect(await err({ scope_prefix: "user:", cursor: sortedCursor })).toMatch(/cursor does not match this query/);
    expect(await err({ scope_prefix: "user:", sort: { age: 1 }, cursor: plainCursor })).toMatch(/cursor does not match this query; scope_prefix, filter and sort/);
    expect(await err({ scope_prefix: "user:", sort: { age: -1 }, cursor: sortedCursor })).toMatch(/cursor does not match this query/);
    const forged = Buffer.from(JSON.stringify({ v: 2, k: "user:1", s: "BQ", q: "x" })).toString("base64url");
    expect(await err({ scope_prefix: "user:", sort: { age: 1 }, cursor: forged })).toMatch(/not a valid cursor/);
    await db.close();
  });
});

describe("RangeKeyCache", () => {
  test("keeps only lists of the newest sequence number: under writes, dead lists do not pile up", () => {
    const cache = new RangeKeyCache();
    cache.set("a", 5, ["k1", "k2"]);
    cache.set("b", 5, ["k3"]);
    expect(cache.get("a", 5)).toEqual(["k1", "k2"]);
    expect(cache.keyCount).toBe(3);
    // A write happened: lists read at seq 5 can never be asked for again.
    cache.set("c", 6, ["k4"]);
    expect(cache.keyCount).toBe(1);
    expect(cache.get("b", 5)).toBeUndefined();
    expect(cache.get("c", 6)).toEqual(["k4"]);
    // A query that opened its view before the write caches nothing.
    cache.set("d", 5, ["k5"]);
    expect(cache.get("d", 5)).toBeUndefined();
    expect(cache.keyCount).toBe(1);
  });

  test("holds at most maxKeys keys, dropping the least recently used lists", () => {
    const cache = new RangeKeyCache(4);
    cache.set("a", 1, ["1", "2"]);
    cache.set("b", 1, ["3", "4"]);
    cache.get("a", 1);
    cache.set("c", 1, ["5", "6"]);
    expect(cache.keyCount).toBeLessThanOrEqual(4);
    expect(cache.get("a", 1)).toEqual(["1", "2"]);
    expect(cache.get("b", 1)).toBeUndefined();
  });
});
