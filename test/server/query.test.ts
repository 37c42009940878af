import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase } from "../../src/db.ts";
import type { QueryCountResponse, QueryItemsResponse } from "../../src/query/types.ts";
import type { Database } from "../../src/types.ts";
import { client, errorOf, FACTORIES, type TestDatabase } from "./harness.ts";

const CITIES = ["Porto", "Lisbon", "Faro"];
const users = Array.from({ length: 30 }, (_, i) => ({ key: `user:${String(i).padStart(2, "0")}`, doc: { city: CITIES[i % 3], age: 20 + i } }));

async function load(db: Database): Promise<void> {
  await db.write([
    ...users.map((u) => ({ type: "put" as const, key: u.key, value: JSON.stringify(u.doc) })),
    { type: "put", key: "user:zz", value: "not json" },
    { type: "put", key: "order:1", value: JSON.stringify({ city: "Porto", total: 3 }) },
  ]);
}

for (const factory of FACTORIES) {
  describe(`POST /query over the ${factory.name}`, () => {
    let t: TestDatabase;
    let api: ReturnType<typeof client>;
    beforeEach(async () => {
      t = await factory.open();
      api = client(t.db);
      await load(t.db);
    });
    afterEach(() => t.cleanup());

    const query = async (body: unknown) => {
      const res = await api.post("/query", body);
      expect(res.status).toBe(200);
      return (await res.json()) as QueryItemsResponse;
    };

    test("returns the matching documents in key order with a plan; pages with next_cursor until null", async () => {
      const first = await query({ scope_prefix: "user:", filter: { city: "Porto", age: { $gte: 30 } }, limit: 2 });
      const expected = users.filter((u) => u.doc.city === "Porto" && u.doc.age >= 30);
      expect(first.items).toEqual(expected.slice(0, 2).map((u) => ({ key: u.key, value: u.doc })));
      expect(first.plan).toMatchObject({ kind: "scan", index: null, returned: 2 });
      expect(typeof first.plan.ms).toBe("number");
      const seen = [...first.items];
      let cursor = first.next_cursor;
      while (cursor) {
        const page = await query({ scope_prefix: "user:", filter: { city: "Porto", age: { $gte: 30 } }, limit: 2, cursor });
        seen.push(...page.items);
        cursor = page.next_cursor;
      }
      expect(seen.map((i) => i.key)).toEqual(expected.map((u) => u.key));
    });

    test("count answers {count, plan}; explain adds the filter as understood; non-JSON values are counted, not fatal", async () => {
      const res = await api.post("/query", { scope_prefix: "user:", filter: { city: { $in: ["Porto", "Faro"] } }, count: true });
      const body = (await res.json()) as QueryCountResponse;
      expect(Object.keys(body).sort()).toEqual(["count", "plan"]);
      expect(body.count).toBe(20);
      const all = await query({ scope_prefix: "user:", limit: 1000, explain: true });
      expect(all.items.length).toBe(30);
      expect(all.plan.skipped_not_json).toBe(1);
      expect(all.plan.filter).toEqual({});
      expect(Array.isArray(all.plan.candidates)).toBe(true);
      // No body fields at all: every JSON object in the keyspace (default limit 100).
      expect((await query({})).items.length).toBe(31);
    });

    test("invalid queries are 400 INVALID_ARGUMENT saying what and where, and never 500", async () => {
      const cases: [unknown, string][] = [
        [{ filter: { age: { $gt: {} } } }, "filter.age.$gt"],
        [{ filter: { age: { $foo: 1 } } }, "$foo"],
        [{ filter: { city: { $in: "Porto" } } }, "$in"],
        [{ filter: "city = Porto" }, "filter"],
        [{ limit: 0 }, "limit"],
        [{ limit: 1001 }, "limit"],
        [{ limit: "10" }, "limit"],
        [{ cursor: "not-a-cursor" }, "cursor"],
        [{ scope_prefix: 5 }, "scope_prefix"],
        [{ scop_prefix: "user:" }, "scop_prefix"],
        [[], "request"],
      ];
      for (const [body, where] of cases) {
        const res = await api.post("/query", body);
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
        const error = await errorOf(res);
        expect(error.code).toBe("INVALID_ARGUMENT");
        expect(error.message).toContain(where);
      }
      // A cursor of one query replayed against another is refused.
      const page = await query({ scope_prefix: "user:", filter: { city: "Porto" }, limit: 1 });
      const replay = await api.post("/query", { scope_prefix: "user:", filter: { city: "Faro" }, cursor: page.next_cursor });
      expect(replay.status).toBe(400);
      expect((await errorOf(replay)).message).toContain("cursor");
      const malformed = await api.call("POST", "/query", "{", { "content-type": "application/json" });
      expect(malformed.status).toBe(400);
      expect((await errorOf(malformed)).code).toBe("INVALID_JSON");
    });
  });
}

describe("POST /query with secondary indexes (engine)", () => {
  let dir: string;
  let db: Database;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
    db = await openDatabase(dir, {
      sync: "none",
      indexes: [{ name: "users_city", scope_prefix: "user:", type: "equality", extractor: { kind: "json_path", path: "$.city" } }],
    });
    await load(db);
    await db.waitForIndexes();
    api = client(db);
  });
  afterAll(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("an equality on the indexed field is answered from the index with the same items as a scan", async () => {
    const filter = { city: "Lisbon" };
    const indexed = (await (await api.post("/query", { scope_prefix: "user:", filter, limit: 1000 })).json()) as QueryItemsResponse;
    expect(indexed.plan.index).toBe("users_city");
    // The same filter over the whole keyspace is outside the index's scope: a scan, filtered to user: here.
    const scanned = (await (await api.post("/query", { filter, limit: 1000, explain: true })).json()) as QueryItemsResponse;
    expect(scanned.plan.kind).toBe("scan");
    expect(scanned.plan.candidates).toContainEqual({ index: "users_city", reason: expect.stringContaining("scope") });
    expect(indexed.items).toEqual(scanned.items.filter((i) => i.key.startsWith("user:")));
    expect(indexed.items.map((i) => i.key)).toEqual(users.filter((u) => u.doc.city === "Lisbon").map((u) => u.key));
    const count = (await (await api.post("/query", { scope_prefix: "user:", filter, count: true })).json()) as QueryCountResponse;
    expect(count).toMatchObject({ count: 10, plan: { index: "users_city" } });
  });
});

test("POST /query accepts sort and answers in the field's order; a bad sort is a 400", async () => {
  const engine = FACTORIES.find((f) => f.name === "engine")!;
  const { db, cleanup } = await engine.open();
  try {
    const api = client(db);
    for (const [k, age] of [["u:a", 30], ["u:b", 10], ["u:c", 20]] as const) await db.put(k, JSON.stringify({ age }));
    const res = await api.post("/query", { scope_prefix: "u:", sort: { age: -1 } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { key: string }[]; plan: { sort: { direction: number } } };
    expect(body.items.map((i) => i.key)).toEqual(["u:a", "u:c", "u:b"]);
    expect(body.plan.sort.direction).toBe(-1);
    const bad = await api.post("/query", { sort: { age: 2 } });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toMatch(/^INVALID_/);
  } finally {
    await cleanup();
  }
});
