import { describe, expect, test } from "bun:test";
import { openDatabase, type Database } from "../../src/db.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex, expectedPostings, postings } from "./support.ts";

const doc = (city: unknown, extra: object = {}) => JSON.stringify({ city, ...extra });

async function ready(db: Database): Promise<void> {
  await db.waitForIndexes();
}

describe("equality index maintenance", () => {
  test("sets, updates that move a record to another value, and deletes keep the posting lists exact", async () => {
    const db = await openDatabase(tempDir(), { indexes: [cityIndex] });
    await ready(db);
    await db.put("user:1", doc("PortoAlegre"));
    await db.put("user:2", doc("PortoAlegre"));
    await db.put("user:3", doc("Recife"));
    await db.put("other:1", doc("PortoAlegre")); // outside the scope
    expect(postings(db, "users_city", "PortoAlegre")).toEqual(["user:1", "user:2"]);
    await db.put("user:1", doc("Recife"));
    expect(postings(db, "users_city", "PortoAlegre")).toEqual(["user:2"]);
    expect(postings(db, "users_city", "Recife")).toEqual(["user:1", "user:3"]);
    await db.delete("user:3");
    await db.put("user:2", "not json");
    expect(postings(db, "users_city", "Recife")).toEqual(["user:1"]);
    expect(postings(db, "users_city", "PortoAlegre")).toEqual([]);
    const info = db.getIndex("users_city")!;
    expect(info.state).toBe("ready");
    expect(info.live_entries).toBe(1);
    expect(info.tombstones).toBe(3);
    await db.close();
  });

  test("array fields index every element; values with ':' and other bytes never collide", async () => {
    const db = await openDatabase(tempDir(), { indexes: [cityIndex] });
    await ready(db);
    await db.put("user:a", doc(["x", "y:z", "x"]));
    await db.put("user:b", doc("y"));
    await db.put("user:c", doc("y:z\u0000:meta"));
    await db.put("user:d", doc(30));
    await db.put("user:e", doc("30"));
    expect(postings(db, "users_city", "x")).toEqual(["user:a"]);
    expect(postings(db, "users_city", "y:z")).toEqual(["user:a"]);
    expect(postings(db, "users_city", "y")).toEqual(["user:b"]);
    expect(postings(db, "users_city", "y:z\u0000:meta")).toEqual(["user:c"]);
    expect(postings(db, "users_city", 30)).toEqual(["user:d"]);
    expect(postings(db, "users_city", "30")).toEqual(["user:e"]);
    await db.close();
  });

  test("user keys that look like index records are just data", async () => {
    const db = await openDatabase(tempDir(), { indexes: [cityIndex] });
    await ready(db);
    await db.put("idx:users_city:PortoAlegre:meta", "garbage");
    await db.put("idx:users_city:PortoAlegre:block:000001", "garbage");
    await db.put("user:1", doc("PortoAlegre"));
    expect(postings(db, "users_city", "PortoAlegre")).toEqual(["user:1"]);
    const keys: string[] = [];
    for await (const [k] of db.scan()) keys.push(k);
    expect(keys).toEqual(["idx:users_city:PortoAlegre:block:000001", "idx:users_city:PortoAlegre:meta", "user:1"]);
    await db.close();
  });

  test("concurrent writers to one value never lose a posting; blocks split at their capacity", async () => {
    const db = await openDatabase(tempDir(), { indexes: [cityIndex], indexBlockEntries: 8 });
    await ready(db);
    await Promise.all(Array.from({ length: 200 }, (_, i) => db.put(`user:${String(i).padStart(3, "0")}`, doc("Recife"))));
    await db.write(Array.from({ length: 20 }, (_, i) => ({ type: "put" as const, key: `user:b${i}`, value: doc("Recife") })));
    expect(postings(db, "users_city", "Recife")).toEqual(await expectedPostings(db, "user:", "city", "Recife"));
    expect(postings(db, "users_city", "Recife").length).toBe(220);
    const info = db.getIndex("users_city")!;
    expect(info.blocks).toBe(Math.ceil(220 / 8));
    await db.close();
  });

  test("under updates and deletes a list is re-packed: blocks and tombstones stay bounded, answers exact", async () => {
    const seed = testSeed("posting repack");
    const r = seededRandom(seed);
    const dir = tempDir();
    const options = { indexes: [cityIndex], memtableBytes: 8192, indexBlockEntries: 8, sync: "none" as const };
    let db = await openDatabase(dir, options);
    await ready(db);
    const cities = ["A", "B", "C"];
    const model = new Map<string, string>();
    let maxTombstones = 0;
    for (let round = 0; round < 600; round++) {
      const key = `user:${r.int(40)}`;
      if (r.chance(0.15)) {
        await db.delete(key);
        model.delete(key);
      } else {
        const city = r.pick(cities);
        await db.put(key, doc(city));
        model.set(key, city);
      }
      maxTombstones = Math.max(maxTombstones, db.getIndex("users_city")!.tombstones);
      if (round === 300) {
        await db.close(); // the re-packed lists are replayed from the WAL and the tables
        db = await openDatabase(dir, options);
      }
    }
    for (const city of cities) {
      const want = [...model].filter(([, c]) => c === city).map(([k]) => k).sort();
      expect(postings(db, "users_city", city)).toEqual(want);
      const counted = await db.query({ scope_prefix: "user:", filter: { city }, count: true });
      expect(counted).toMatchObject({ count: want.length, plan: { counted_from_index: true } });
    }
    const info = db.getIndex("users_city")!;
    // Without re-packing, ~1,000 entries would sit in ~125 blocks with ~450 removes.
    expect(maxTombstones).toBeLessThanOrEqual(40 + cities.length * 8);
    expect(info.blocks).toBeLessThan(30);
    await db.compact();
    expect((await db.check()).ok).toBe(true);
    for (const city of cities) expect(postings(db, "users_city", city)).toEqual(await expectedPostings(db, "user:", "city", city));
    await db.close();
  });

  test("index changes are replayed from the WAL after a crash-like reopen and survive flushes", async () => {
    const dir = tempDir();
    let db = await openDatabase(dir, { indexes: [cityIndex], memtableBytes: 4096, indexBlockEntries: 4 });
    await ready(db);
    for (let i = 0; i < 100; i++) await db.put(`user:${i}`, doc(i % 2 ? "A" : "B"));
    for (let i = 0; i < 100; i += 3) await db.delete(`user:${i}`);
    const before = postings(db, "users_city", "A");
    await db.close();
    db = await openDatabase(dir, { indexes: [cityIndex], memtableBytes: 4096, indexBlockEntries: 4 });
    expect(db.getIndex("users_city")!.state).toBe("ready");
    expect(postings(db, "users_city", "A")).toEqual(before);
    expect(before).toEqual(await expectedPostings(db, "user:", "city", "A"));
    await db.compact();
    expect(postings(db, "users_city", "A")).toEqual(before);
    await db.close();
  });
});

describe("online builds", () => {
  test("an index declared over existing data is built in the background and then exact", async () => {
    const dir = tempDir();
    let db = await openDatabase(dir);
    for (let i = 0; i < 3000; i++) await db.put(`user:${i}`, doc(`c${i % 7}`));
    await db.close();
    db = await openDatabase(dir, { indexes: [cityIndex] });
    await ready(db);
    for (let c = 0; c < 7; c++) expect(postings(db, "users_city", `c${c}`)).toEqual(await expectedPostings(db, "user:", "city", `c${c}`));
    expect(db.getIndex("users_city")!.progress.scanned).toBe(3000);
    await db.close();
  });

  test("a rebuild while writers change indexed fields ends equal to a fresh scan", async () => {
    const seed = testSeed("rebuild under writes");
    const r = seededRandom(seed);
    const db = await openDatabase(tempDir(), { indexes: [cityIndex], sync: "none" });
    for (let i = 0; i < 2000; i++) await db.put(`user:${i}`, doc(`c${i % 5}`));
    await ready(db);
    const info = await db.rebuildIndex("users_city");
    expect(info.rebuilding).not.toBeNull();
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const k = `user:${r.int(2500)}`;
        if (r.chance(0.2)) await db.delete(k);
        else await db.put(k, doc(`c${r.int(5)}`));
      }
    })();
    await ready(db);
    writing = false;
    await writer;
    const after = db.getIndex("users_city")!;
    expect(after.generation).toBe(info.generation + 1);
    expect(after.state).toBe("ready");
    for (let c = 0; c < 5; c++) {
      expect({ seed, c, keys: postings(db, "users_city", `c${c}`) }).toEqual({ seed, c, keys: await expectedPostings(db, "user:", "city", `c${c}`) });
    }
    await db.close();
  });

  test("reload: unchanged indexes are untouched, changed ones rebuilt, removed ones dropped with their records", async () => {
    const dir = tempDir();
    const ageIndex = { name: "users_age", scope_prefix: "user:", type: "equality" as const, extractor: { kind: "json_path" as const, path: "$.age" } };
    const db = await openDatabase(dir, { indexes: [cityIndex, ageIndex] });
    for (let i = 0; i < 500; i++) await db.put(`user:${i}`, doc(`c${i % 3}`, { age: i % 10, town: `t${i % 4}` }));
    await ready(db);
    const cityGen = db.getIndex("users_city")!.generation;
    const changedCity = { ...cityIndex, extractor: { kind: "json_path" as const, path: "$.town" } };
    await db.reloadIndexes([changedCity]);
    await ready(db);
    expect(db.listIndexes().map((i) => i.name)).toEqual(["users_city"]);
    expect(db.getIndex("users_city")!.generation).toBe(cityGen + 1);
    expect(postings(db, "users_city", "t1")).toEqual(await expectedPostings(db, "user:", "town", "t1"));
    expect(db.getIndex("users_age")).toBeUndefined();
    // Nothing of the dropped index or the old generation is left in the internal namespace.
    const internal = (db as unknown as { engine: { readView(): { iterator(l: Uint8Array, u?: Uint8Array): { seekToFirst(): void; valid(): boolean; next(): void; key(): Uint8Array }; release(): void } } }).engine.readView();
    const it = internal.iterator(new Uint8Array([0xff]));
    let records = 0;
    for (it.seekToFirst(); it.valid(); it.next()) records++;
    internal.release();
    expect(records).toBe(db.getIndex("users_city")!.terms + db.getIndex("users_city")!.blocks + 1);
    // Unchanged: reloading the same definitions starts nothing.
    await db.reloadIndexes([changedCity]);
    expect(db.getIndex("users_city")!.generation).toBe(cityGen + 1);
    await db.close();
  });

  test("a bad definition refuses to open, and a bad reload keeps the current registry", async () => {
    const dir = tempDir();
    await expect(openDatabase(dir, { indexes: [{ ...cityIndex, type: "fuzzy" as never }] })).rejects.toThrow(/users_city/);
    const db = await openDatabase(dir, { indexes: [cityIndex] });
    await db.put("user:1", doc("A"));
    await ready(db);
    try {
      await db.reloadIndexes([cityIndex, { ...cityIndex }]);
      throw new Error("reload accepted a duplicate name");
    } catch (e) {
      expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as Error).message).toContain("users_city");
    }
    expect(db.getIndex("users_city")!.state).toBe("ready");
    expect(postings(db, "users_city", "A")).toEqual(["user:1"]);
    await expect(db.rebuildIndex("nope")).rejects.toThrow(/nope/);
    await db.close();
  });
});
