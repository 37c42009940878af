import { expect, test } from "bun:test";
import { openDatabase } from "../../src/db.ts";
import { tempDir } from "../support/tmpdir.ts";

const ageIndex = { name: "users_age", scope_prefix: "user:", type: "range" as const, extractor: { kind: "json_path" as const, path: "$.age" } };

test("multikey: two bounds are intersected until a record holds an array; the flag survives reopen and clears on rebuild", async () => {
  const dir = tempDir();
  let db = await openDatabase(dir, { indexes: [ageIndex], sync: "none" });
  await db.write(Array.from({ length: 100 }, (_, i) => ({ type: "put" as const, key: `user:${i}`, value: JSON.stringify({ age: i }) })));
  await db.waitForIndexes();
  const q = { scope_prefix: "user:", filter: { age: { $gte: 30, $lte: 35 } } };
  const single = await db.query(q);
  expect(single.plan.entries_read).toBe(6);
  expect(await db.query({ ...q, count: true })).toMatchObject({ count: 6, plan: { counted_from_index: true } });
  await db.put("user:arr", JSON.stringify({ age: [10, 40] }));
  const multi = await db.query(q);
  expect(multi.plan.entries_read).toBe(37); // age <= 35 alone, the array's 10 included
  expect("items" in multi && multi.items.map((i) => i.key)).toContain("user:arr");
  await db.close();
  db = await openDatabase(dir, { indexes: [ageIndex], sync: "none" });
  expect((await db.query(q)).plan.entries_read).toBe(37);
  await db.delete("user:arr");
  await db.rebuildIndex("users_age");
  await db.waitForIndexes();
  expect((await db.query(q)).plan.entries_read).toBe(6);
  await db.close();
});
