import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/db.ts";
import type { Database } from "../../src/types.ts";
import { executeQuery, YIELD_EVERY } from "../../src/query/execute.ts";
import type { AccessPath, PlannableIndex } from "../../src/query/planner.ts";
import type { QueryCountResponse, QueryItemsResponse, QueryRequest } from "../../src/query/types.ts";
import { rmSync } from "node:fs";
import { tempDir as sharedTempDir } from "../support/tmpdir.ts";
import { rawSnapshot } from "./raw_source.ts";

// test/support/tmpdir.ts registers its cleanup in the first test file that imports it;
// when several files run in one process, later files' directories stay behind.
const madeHere: string[] = [];
function tempDir(label: string): string {
  const dir = sharedTempDir(label);
  madeHere.push(dir);
  return dir;
}

let db: Database;

const page = async (request: QueryRequest, options = {}) => (await executeQuery(db, request, options)) as QueryItemsResponse;
const count = async (request: QueryRequest, options = {}) => (await executeQuery(db, request, options)) as QueryCountResponse;
const keys = (r: QueryItemsResponse) => r.items.map((i) => i.key);

async function errorOf(request: unknown): Promise<string> {
  try {
    await executeQuery(db, request);
  } catch (e) {
    expect((e as { code: string }).code).toBe("INVALID_ARGUMENT");
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(request)}`);
}

const NOT_JSON: [string, Uint8Array | string][] = [
  ["user:x1", "not json"],
  ["user:x2", "[1,2]"],
  ["user:x3", "42"],
  ["user:x4", '"str"'],
  ["user:x5", "null"],
  ["user:x6", new Uint8Array([0x7b, 0xff, 0x7d])], // "{", invalid UTF-8, "}"
  ["user:x7", '\ufeff{"city":"Porto"}'], // byte-order mark
  ["user:x8", ""],
  ["user:x9", '{"city":"Porto"'], // truncated
];

beforeAll(async () => {
  db = await openDatabase(tempDir("kvdb-query"), { sync: "none" });
  await db.write([
    { type: "put", key: "user:1", value: JSON.stringify({ city: "Porto", age: 31, tags: ["a", "b"] }) },
    { type: "put", key: "user:2", value: JSON.stringify({ city: "Lisbon", age: 40 }) },
    { type: "put", key: "user:3", value: JSON.stringify({ city: "Porto", age: 20 }) },
    { type: "put", key: "user:4", value: ' \n{"city": "Porto", "age": 50}' },
    { type: "put", key: "user:5", value: JSON.stringify({ city: "Faro", age: 33 }) },
    { type: "put", key: "userx", value: JSON.stringify({ city: "Porto", age: 99 }) },
    { type: "put", key: "order:1", value: JSON.stringify({ city: "Porto", total: 5 }) },
    ...NOT_JSON.map(([key, value]) => ({ type: "put" as const, key, value })),
  ]);
});

afterAll(async () => {
  await db.close();
  for (const dir of madeHere.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("results", () => {
  test("matches in key order, values decoded, plan counted", async () => {
    const r = await page({ scope_prefix: "user:", filter: { city: "Porto", age: { $gte: 30 } } });
    expect(r.items).toEqual([
      { key: "user:1", value: { city: "Porto", age: 31, tags: ["a", "b"] } },
      { key: "user:4", value: { city: "Porto", age: 50 } },
    ]);
    expect(r.next_cursor).toBeNull();
    expect(r.plan.ms).toBeGreaterThanOrEqual(0);
    expect({ ...r.plan, ms: 0 }).toEqual({
      kind: "scan",
      index: null,
      keys_examined: 5 + NOT_JSON.length,
      docs_examined: 5 + NOT_JSON.length,
      // The prefilter ("Porto", "city", "age") lets only user:1, user:3 and user:4 through.
      docs_decoded: 3,
      returned: 2,
      skipped_not_json: 0,
      ms: 0,
    });
  });

  test("the scope limits the keys read; no scope reads everything", async () => {
    expect((await count({ scope_prefix: "order:", count: true })).plan.keys_examined).toBe(1);
    expect((await count({ count: true })).plan.keys_examined).toBe(7 + NOT_JSON.length);
    expect(keys(await page({ filter: { city: "Porto" } }))).toEqual(["order:1", "user:1", "user:3", "user:4", "userx"]);
    expect(keys(await page({ scope_prefix: "nothing:" }))).toEqual([]);
  });

  test("values that are not JSON objects never match and are counted", async () => {
    const r = await count({ scope_prefix: "user:", count: true });
    expect(r.count).toBe(5);
    expect(r.plan.skipped_not_json).toBe(NOT_JSON.length);
    const all = await page({ scope_prefix: "user:", filter: { city: { $exists: false } } }, { prefilter: false });
    expect(keys(all)).toEqual([]);
    expect(all.plan.docs_decoded).toBe(all.plan.docs_examined);
    expect(all.plan.skipped_not_json).toBe(NOT_JSON.length);
  });

  test("count ignores limit and returns only the count", async () => {
    const r = await count({ scope_prefix: "user:", filter: { city: "Porto" }, count: true, limit: 1 });
    expect(Object.keys(r)).toEqual(["count", "plan"]);
    expect(r.count).toBe(3);
    expect(r.plan.returned).toBe(3);
  });

  test("explain adds the filter as understood, the prefilter and the candidates", async () => {
    const r = await page({ scope_prefix: "user:", filter: { "address.city": "Porto", n: { $gt: 1 } }, explain: true });
    expect(r.plan.filter).toEqual({ $and: [{ "$.address.city": { $eq: "Porto" } }, { "$.n": { $gt: 1 } }] });
    expect(r.plan.prefilter).toEqual(['"Porto"', '"address"', '"city"', '"n"']);
    expect(r.plan.candidates).toEqual([]);
    const plain = await page({ scope_prefix: "user:" });
    expect(plain.plan.filter).toBeUndefined();
    expect(plain.plan.candidates).toBeUndefined();
  });

  test("null means absent for every optional field", async () => {
    const r = await page({ scope_prefix: null, filter: null, limit: null, cursor: null, explain: null, count: null, sort: null });
    expect(r.items).toHaveLength(7);
  });
});

describe("pagination", () => {
  test("pages resume strictly after the last key; the last page has no cursor", async () => {
    const filter = { city: "Porto" };
    const p1 = await page({ filter, limit: 2 });
    expect(keys(p1)).toEqual(["order:1", "user:1"]);
    expect(p1.next_cursor).toBeString();
    const p2 = await page({ filter, limit: 2, cursor: p1.next_cursor });
    expect(keys(p2)).toEqual(["user:3", "user:4"]);
    // The limit may change between pages.
    const p3 = await page({ filter, limit: 5, cursor: p2.next_cursor });
    expect(keys(p3)).toEqual(["userx"]);
    expect(p3.next_cursor).toBeNull();
  });

  test("a full page at the end of the scope has no cursor", async () => {
    const r = await page({ scope_prefix: "order:", limit: 1 });
    expect(keys(r)).toEqual(["order:1"]);
    expect(r.next_cursor).toBeNull();
  });

  test("a full page followed only by non-matching keys has a cursor, then an empty last page", async () => {
    const p1 = await page({ scope_prefix: "user:", filter: { city: "Faro" }, limit: 1 });
    expect(keys(p1)).toEqual(["user:5"]);
    expect(p1.next_cursor).toBeString();
    const p2 = await page({ scope_prefix: "user:", filter: { city: "Faro" }, limit: 1, cursor: p1.next_cursor });
    expect(p2.items).toEqual([]);
    expect(p2.next_cursor).toBeNull();
  });

  test("a cursor is bound to scope and filter, not to key order or limit", async () => {
    const p1 = await page({ scope_prefix: "user:", filter: { city: "Porto", age: { $gt: 1 } }, limit: 1 });
    const reordered = await page({ scope_prefix: "user:", filter: { age: { $gt: 1 }, city: "Porto" }, limit: 7, cursor: p1.next_cursor });
    expect(keys(reordered)).toEqual(["user:3", "user:4"]);
    const mismatch = "cursor: cursor does not match this query; scope_prefix and filter must be the same as for the first page";
    expect(await errorOf({ scope_prefix: "user:", filter: { city: "Lisbon" }, cursor: p1.next_cursor })).toBe(mismatch);
    expect(await errorOf({ scope_prefix: "use", filter: { city: "Porto", age: { $gt: 1 } }, cursor: p1.next_cursor })).toBe(mismatch);
    expect(await errorOf({ filter: { city: "Porto", age: { $gt: 1 } }, cursor: p1.next_cursor })).toBe(mismatch);
  });

  test("damaged or foreign cursors are refused", async () => {
    const bad = "cursor: not a valid cursor; pass next_cursor from the previous response unchanged";
    const p1 = await page({ limit: 1 });
    for (const cursor of ["", "!!!", "abc", p1.next_cursor!.slice(0, -3), Buffer.from('{"v":2,"k":"a","q":"x"}').toString("base64url"), "x".repeat(30000)]) {
      expect(await errorOf({ limit: 1, cursor })).toBe(bad);
    }
    expect(await errorOf({ cursor: 5 })).toBe("cursor: expected a string or null, got number");
    expect(await errorOf({ count: true, cursor: p1.next_cursor })).toBe("cursor: not allowed with count: a count always covers the whole scope");
  });

  test("writes between pages: no duplicates, nothing that existed throughout is skipped", async () => {
    const local = await openDatabase(tempDir("kvdb-query-pages"), { sync: "none" });
    try {
      const key = (i: number) => `k:${String(i).padStart(3, "0")}`;
      await local.write(Array.from({ length: 100 }, (_, i) => ({ type: "put" as const, key: key(i * 2), value: JSON.stringify({ n: i * 2 }) })));
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const r = (await executeQuery(local, { scope_prefix: "k:", limit: 7, cursor })) as QueryItemsResponse;
        seen.push(...keys(r));
        cursor = r.next_cursor;
        // Insert before and after the position, delete a later original key, rewrite the last one returned.
        const last = r.items.at(-1)!.key;
        await local.write([
          { type: "put", key: key(round * 2 + 1), value: JSON.stringify({ n: -1 }) },
          { type: "put", key: key(199 - round * 2), value: JSON.stringify({ n: -2 }) },
          { type: "put", key: last, value: JSON.stringify({ n: -3 }) },
          { type: "delete", key: key(198 - round * 4) },
        ]);
        round++;
      } while (cursor !== null);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(seen);
      const deleted = new Set(Array.from({ length: round }, (_, r) => key(198 - r * 4)));
      for (let i = 0; i < 200; i += 2) if (!deleted.has(key(i))) expect(seen).toContain(key(i));
    } finally {
      await local.close();
    }
  });
});

describe("request validation", () => {
  test("every field is checked, with its name", async () => {
    expect(await errorOf(null)).toBe("request: expected an object, got null");
    expect(await errorOf([])).toBe("request: expected an object, got array");
    expect(await errorOf({ prefix: "x" })).toBe(
      'request: unknown field "prefix"; expected one of scope_prefix, filter, limit, cursor, explain, count, sort',
    );
    expect(await errorOf({ scope_prefix: 5 })).toBe("scope_prefix: expected a string, got number");
    expect(await errorOf({ scope_prefix: "a\ud800" })).toBe("scope_prefix: must be valid Unicode (it contains a lone surrogate)");
    expect(await errorOf({ limit: 0 })).toBe("limit: expected an integer from 1 to 1000, got 0");
    expect(await errorOf({ limit: 1001 })).toBe("limit: expected an integer from 1 to 1000, got 1001");
    expect(await errorOf({ limit: 2.5 })).toBe("limit: expected an integer from 1 to 1000, got 2.5");
    expect(await errorOf({ limit: "10" })).toBe("limit: expected an integer from 1 to 1000, got string");
    expect(await errorOf({ explain: "yes" })).toBe("explain: expected true or false, got string");
    expect(await errorOf({ count: 1 })).toBe("count: expected true or false, got number");
    expect(await errorOf({ sort: { age: 2 } })).toBe('sort["age"]: expected 1 (ascending) or -1 (descending), got 2');
    expect(await errorOf({ filter: { age: { $gt: {} } } })).toBe("filter.age.$gt: expected a number or a string, got object");
  });

  test("limits: 100 by default, 1000 at most", async () => {
    const big = await openDatabase(tempDir("kvdb-query-limit"), { sync: "none" });
    try {
      await big.write(Array.from({ length: 1100 }, (_, i) => ({ type: "put" as const, key: `d:${String(i).padStart(4, "0")}`, value: "{}" })));
      const byDefault = (await executeQuery(big, {})) as QueryItemsResponse;
      expect(byDefault.items).toHaveLength(100);
      const max = (await executeQuery(big, { limit: 1000 })) as QueryItemsResponse;
      expect(max.items).toHaveLength(1000);
      expect(max.next_cursor).toBeString();
    } finally {
      await big.close();
    }
  });
});

describe("sources and access paths", () => {
  test("the raw cursor gives the same answers as scan, and is always closed", async () => {
    const raw = await rawSnapshot(db);
    const requests: QueryRequest[] = [
      { scope_prefix: "user:", filter: { city: "Porto" }, limit: 2 },
      { filter: { age: { $gte: 30 } } },
      { scope_prefix: "user:", count: true },
      { scope_prefix: "user:", filter: { city: { $ne: "Porto" } }, explain: true },
    ];
    for (const request of requests) {
      const viaScan = await executeQuery(db, request);
      const viaRaw = await executeQuery(raw, request);
      expect({ ...viaRaw, plan: { ...viaRaw.plan, ms: 0 } }).toEqual({ ...viaScan, plan: { ...viaScan.plan, ms: 0 } });
    }
    const p1 = (await executeQuery(raw, { filter: { city: "Porto" }, limit: 1 })) as QueryItemsResponse;
    const p2 = (await executeQuery(raw, { filter: { city: "Porto" }, limit: 1, cursor: p1.next_cursor })) as QueryItemsResponse;
    expect(keys(p2)).toEqual(["user:1"]);
    expect(raw.closed).toBe(raw.opened);
  });

  test("an index access path is re-checked and paginated like the scan; rejected indexes are explained", async () => {
    let opened = 0;
    // A deliberately loose "index": every key in scope whose value mentions "Port" (a superset).
    const loose: PlannableIndex = {
      name: "loose_city",
      consider: (q): AccessPath | { rejected: string } => ({
        kind: "index_test",
        index: "loose_city",
        estimate: 10,
        open(after) {
          opened++;
          const entries = (async function* () {
            for await (const [k, v] of db.scan({ prefix: q.scopePrefix || undefined, start: after === undefined ? undefined : after + "\u0000" })) {
              if (Buffer.from(v).includes("Port")) yield [k, v] as [string, Uint8Array];
            }
          })();
          return { kind: "entries", entries };
        },
        keysExamined: (docs) => docs * 10,
      }),
    };
    const rejecting: PlannableIndex = { name: "by_total", consider: () => ({ rejected: "field not indexed" }) };
    const indexes = [rejecting, loose];
    const request = { scope_prefix: "user:", filter: { city: "Porto", age: { $lt: 40 } }, limit: 1, explain: true };
    const viaScan = await page(request);
    const viaIndex = await page(request, { indexes });
    expect(viaIndex.items).toEqual(viaScan.items);
    expect(viaIndex.plan.kind).toBe("index_test");
    expect(viaIndex.plan.index).toBe("loose_city");
    expect(viaIndex.plan.keys_examined).toBe(viaIndex.plan.docs_examined * 10);
    expect(viaIndex.plan.candidates).toEqual([{ index: "by_total", reason: "field not indexed" }]);
    const next = await page({ ...request, cursor: viaIndex.next_cursor }, { indexes });
    const nextScan = await page({ ...request, cursor: viaScan.next_cursor });
    expect(next.items).toEqual(nextScan.items);
    expect(next.next_cursor).toBe(nextScan.next_cursor);
    expect(opened).toBe(2);
  });

  test("the planner takes the access path with the smallest estimate", async () => {
    const offering = (name: string, estimate: number): PlannableIndex => ({
      name,
      consider: () => ({
        kind: "index_test",
        index: name,
        estimate,
        open: () => ({ kind: "entries", entries: db.scan({ prefix: "user:" }) }),
        keysExamined: (docs) => docs,
      }),
    });
    const r = await page({ scope_prefix: "user:", filter: { city: "Porto" }, explain: true }, { indexes: [offering("big", 500), offering("small", 5)] });
    expect(r.plan.index).toBe("small");
    expect(r.plan.candidates).toEqual([{ index: "big", reason: "not chosen: about 500 candidates, small has about 5" }]);
    expect(keys(r)).toEqual(["user:1", "user:3", "user:4"]);
  });

  test("a long scan lets the event loop run", async () => {
    const local = await openDatabase(tempDir("kvdb-query-yield"), { sync: "none" });
    try {
      await local.write(Array.from({ length: YIELD_EVERY * 2 }, (_, i) => ({ type: "put" as const, key: `y:${String(i).padStart(6, "0")}`, value: "{}" })));
      let ran = false;
      setImmediate(() => {
        ran = true;
      });
      let ranDuringQuery = false;
      const source = {
        scan: (options: Parameters<Database["scan"]>[0]) => {
          const inner = local.scan(options);
          return {
            async *[Symbol.asyncIterator]() {
              for await (const entry of inner) {
                if (entry[0] === `y:${String(YIELD_EVERY * 2 - 1).padStart(6, "0")}`) ranDuringQuery = ran;
                yield entry;
              }
            },
          };
        },
      };
      const r = (await executeQuery(source, { count: true })) as QueryCountResponse;
      expect(r.count).toBe(YIELD_EVERY * 2);
      expect(ranDuringQuery).toBe(true);
    } finally {
      await local.close();
    }
  });
});
