import { describe, expect, test } from "bun:test";
import { openDatabase, type Database } from "../../src/db.ts";
import { utf8 } from "../../src/engine/coding.ts";
import { KeyPresence } from "../../src/indexing/key_presence.ts";
import { seededRandom, testSeed } from "../support/random.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "./support.ts";

const doc = (city: string) => JSON.stringify({ city });
const key = (i: number) => `user:${String(i).padStart(6, "0")}`;

async function count(db: Database, city: string): Promise<number> {
  const r = await db.query({ scope_prefix: "user:", filter: { city }, count: true });
  if (!("count" in r) || r.plan.counted_from_index !== true) throw new Error("expected a count from the index");
  return r.count;
}

async function moveAll(db: Database, n: number, city: string, batch = 500): Promise<void> {
  for (let s = 0; s < n; s += batch) {
    const ops = [];
    for (let i = s; i < Math.min(n, s + batch); i++) ops.push({ type: "put" as const, key: key(i), value: doc(city) });
    await db.write(ops);
  }
}

describe("key presence filter", () => {
  test("never answers 'no' for a key it recorded, across a growing chain (randomized)", () => {
    const seed = testSeed("key presence");
    const r = seededRandom(seed);
    const p = new KeyPresence(1000);
    expect(p.mayExist(utf8("anything"))).toBe(true); // off: no answer but "maybe"
    p.start(0);
    const added: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) {
      const k = utf8(`k:${r.int(1 << 30)}:${i}`);
      p.add(k);
      added.push(k);
    }
    expect(p.mayExist(utf8("never added"))).toBe(true); // building: still "maybe"
    p.markReady();
    // 1,000 → 2,000 → ... → 16,000: five filters hold 20,000 keys.
    expect(p.figures().filters).toBe(5);
    for (const k of added) if (!p.mayExist(k)) throw new Error(`seed ${seed}: a recorded key was answered "no"`);
    let maybes = 0;
    for (let i = 0; i < 10_000; i++) if (p.mayExist(utf8(`fresh:${i}`))) maybes++;
    // About 1% per filter at capacity; five filters.
    expect(maybes).toBeLessThan(800);
    expect(p.figures().skippedReads).toBe(10_000 - maybes);
    p.stop();
    expect(p.mayExist(utf8("fresh:1"))).toBe(true);
    expect(p.figures()).toEqual({ state: "off", filters: 0, bytes: 0, skippedReads: 10_000 - maybes });
  });

  test("grows with the keys, not with the writes: overwrites of recorded keys add nothing", () => {
    const p = new KeyPresence(1000);
    p.start(0);
    const keys = Array.from({ length: 900 }, (_, i) => utf8(`k${i}`));
    for (let round = 0; round < 50; round++) for (const k of keys) p.add(k);
    // 45,000 adds of 900 keys: one filter of 1,000 still holds them.
    expect(p.figures().filters).toBe(1);
  });

  test("an indexed write of a new key skips the previous-value read; an update of an existing one does not", async () => {
    const db = await openDatabase(tempDir(), { indexes: [cityIndex] });
    await db.waitForIndexes();
    expect(db.stats().keyFilter.state).toBe("ready");
    await moveAll(db, 200, "A");
    const afterInserts = db.stats().keyFilter.skippedReads;
    expect(afterInserts).toBeGreaterThanOrEqual(195); // a false positive only costs the read
    await moveAll(db, 200, "B");
    expect(db.stats().keyFilter.skippedReads).toBe(afterInserts);
    expect([await count(db, "A"), await count(db, "B")]).toEqual([0, 200]);
    await db.close();
  });

  test("after a reopen the scan records every existing key, also while writers move records", async () => {
    const dir = tempDir();
    const n = 12_000; // more than one slice of the scan
    let db = await openDatabase(dir, { indexes: [cityIndex] });
    await moveAll(db, n, "A");
    await db.flush();
    await db.close();

    db = await openDatabase(dir, { indexes: [cityIndex] });
    // Writers start before the scan is done: their keys are recorded by the write path.
    const state = db.stats().keyFilter.state;
    await moveAll(db, n / 2, "B");
    await db.waitForIndexes();
    const s = db.stats().keyFilter;
    expect(["off", "building"]).toContain(state); // the scan had not finished
    expect(s.state).toBe("ready");
    const skipped = s.skippedReads;
    // Every key exists now: a filter that missed one would skip its read and leave its
    // old posting behind, and the counts below would be off.
    await moveAll(db, n, "C");
    expect(db.stats().keyFilter.skippedReads).toBe(skipped);
    expect([await count(db, "A"), await count(db, "B"), await count(db, "C")]).toEqual([0, 0, n]);
    await db.close();
  });

  test("kept only while an index exists", async () => {
    const db = await openDatabase(tempDir());
    await db.put("user:1", doc("A"));
    await db.waitForIndexes();
    expect(db.stats().keyFilter.state).toBe("off");
    await db.reloadIndexes([cityIndex]);
    await db.waitForIndexes();
    expect(db.stats().keyFilter.state).toBe("ready");
    // user:1 was written before the filter existed: the scan recorded it.
    await db.put("user:1", doc("B"));
    expect(db.stats().keyFilter.skippedReads).toBe(0);
    expect([await count(db, "A"), await count(db, "B")]).toEqual([0, 1]);
    await db.reloadIndexes([]);
    await db.waitForIndexes();
    expect(db.stats().keyFilter).toEqual({ state: "off", filters: 0, bytes: 0, skippedReads: 0 });
    await db.close();
  });

  test("indexes declared, dropped and declared again in quick turns: the filter ends ready and exact", async () => {
    const db = await openDatabase(tempDir(), { sync: "none" });
    const n = 60_000; // a scan of several slices
    await moveAll(db, n, "A", 5000);
    await db.reloadIndexes([cityIndex]); // starts a scan
    await db.reloadIndexes([]); // stops the filter; the scan ends at its next slice
    await db.reloadIndexes([cityIndex]); // while that scan is still pending
    await db.waitForIndexes();
    expect(db.stats().keyFilter.state).toBe("ready");
    const skipped = db.stats().keyFilter.skippedReads;
    await moveAll(db, n, "B");
    expect(db.stats().keyFilter.skippedReads).toBe(skipped);
    expect([await count(db, "A"), await count(db, "B")]).toEqual([0, n]);
    await db.close();
  });
});
