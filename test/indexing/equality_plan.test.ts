import { describe, expect, test } from "bun:test";
import { openDatabase, type Database } from "../../src/db.ts";
import type { QueryResponse } from "../../src/query/types.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "./support.ts";

const ageIndex = { name: "users_age", scope_prefix: "user:", type: "equality" as const, extractor: { kind: "json_path" as const, path: "$.age" } };

async function seeded(): Promise<Database> {
  const db = await openDatabase(tempDir(), { indexes: [cityIndex, ageIndex], sync: "none" });
  const ops = [];
  for (let i = 0; i < 1000; i++) ops.push({ type: "put" as const, key: `user:${String(i).padStart(4, "0")}`, value: JSON.stringify({ city: i % 100 === 0 ? "Rare" : `c${i % 4}`, age: i % 50 }) });
  await db.write(ops);
  await db.waitForIndexes();
  return db;
}

const items = (r: QueryResponse) => ("items" in r ? r.items.map((i) => i.key) : []);
const reasonFor = (r: QueryResponse, name: string) => r.plan.candidates?.find((c) => c.index === name)?.reason ?? "";

describe("the planner with equality indexes", () => {
  test("an equality is answered from postings, with the index's counts in the plan", async () => {
    const db = await seeded();
    const r = await db.query({ scope_prefix: "user:", filter: { city: "Rare" }, limit: 100 });
    expect(r.plan.kind).toBe("index_equality");
    expect(r.plan.index).toBe("users_city");
    expect(items(r)).toEqual(Array.from({ length: 10 }, (_, i) => `user:${String(i * 100).padStart(4, "0")}`));
    expect(r.plan.docs_examined).toBe(10);
    expect(r.plan.postings_read).toBe(10);
    expect(r.plan.blocks_read).toBe(1);
    expect(r.plan.candidates_checked).toBe(10);
    await db.close();
  });

  test("$and uses the most selective indexed term; $or over one index is a union; $in reads each value", async () => {
    const db = await seeded();
    const and = await db.query({ scope_prefix: "user:", filter: { city: "c1", age: 21 } });
    expect(and.plan.index).toBe("users_age"); // 20 records have age 21, 240 have city c1
    expect(items(and)).toEqual(["user:0021", "user:0121", "user:0221", "user:0321", "user:0421", "user:0521", "user:0621", "user:0721", "user:0821", "user:0921"].filter((k) => Number(k.slice(5)) % 4 === 1));
    const or = await db.query({ scope_prefix: "user:", filter: { $or: [{ city: "Rare" }, { city: "c1", age: 1 }] }, explain: true });
    expect(or.plan.index).toBe("users_city");
    const scan = await db.query({ scope_prefix: "", filter: { $or: [{ city: "Rare" }, { city: "c1", age: 1 }] } });
    expect(scan.plan.kind).toBe("scan");
    expect(items(or)).toEqual(items(scan));
    const inq = await db.query({ scope_prefix: "user:", filter: { age: { $in: [3, 4] } }, limit: 1000 });
    expect(inq.plan.index).toBe("users_age");
    expect(items(inq).length).toBe(40);
    await db.close();
  });

  test("count of an indexed equality comes from the live counts without reading documents", async () => {
    const db = await seeded();
    const r = await db.query({ scope_prefix: "user:", filter: { city: "c2" }, count: true });
    expect(r).toMatchObject({ count: 250, plan: { index: "users_city", counted_from_index: true, docs_examined: 0 } });
    const narrower = await db.query({ scope_prefix: "user:05", filter: { city: "c2" }, count: true });
    expect("count" in narrower && narrower.count).toBe(25);
    expect(narrower.plan.counted_from_index).toBeUndefined();
    await db.close();
  });

  test("explain says why each index was not used", async () => {
    const db = await seeded();
    const r = await db.query({ scope_prefix: "account:", filter: { city: "c1" }, explain: true });
    expect(r.plan.kind).toBe("scan");
    expect(reasonFor(r, "users_city")).toMatch(/wrong scope/);
    const op = await db.query({ scope_prefix: "user:", filter: { city: { $prefix: "c" } }, explain: true });
    expect(reasonFor(op, "users_city")).toMatch(/operator not supported: \$prefix/);
    expect(reasonFor(op, "users_age")).toMatch(/field not indexed/);
    const chosen = await db.query({ scope_prefix: "user:", filter: { city: "c1", age: 3 }, explain: true });
    expect(reasonFor(chosen, "users_city")).toMatch(/not chosen/);
    await db.rebuildIndex("users_age");
    await db.reloadIndexes([cityIndex, { ...ageIndex, name: "users_age2" }]);
    const building = await db.query({ scope_prefix: "user:", filter: { age: 3 }, explain: true });
    if (building.plan.index !== "users_age2") expect(reasonFor(building, "users_age2")).toMatch(/still building/);
    await db.waitForIndexes();
    const built = await db.query({ scope_prefix: "user:", filter: { age: 3 } });
    expect(built.plan.index).toBe("users_age2");
    await db.close();
  });

  test("pagination through an index resumes strictly after the cursor, also while records change", async () => {
    const db = await seeded();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: QueryResponse = await db.query({ scope_prefix: "user:", filter: { city: "c3" }, limit: 37, cursor });
      if (!("items" in page)) throw new Error("items expected");
      seen.push(...page.items.map((i) => i.key));
      cursor = page.next_cursor;
      // A record that matches throughout stays; one moved away disappears; duplicates never appear.
      await db.put("user:0999x", JSON.stringify({ city: "c3" }));
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 3; i < 1000; i += 4) expect(seen).toContain(`user:${String(i).padStart(4, "0")}`);
    await db.close();
  });
});
