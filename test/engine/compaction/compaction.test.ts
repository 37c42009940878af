import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, type Database } from "../../../src/db.ts";
import { tempDir } from "../../support/tmpdir.ts";

const key = (i: number) => `k${String(i).padStart(5, "0")}`;
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const tableBytes = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".sst"))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);

async function count(db: Database): Promise<number> {
  let n = 0;
  for await (const _ of db.scan()) n++;
  return n;
}

/** The levels whose key range covers `k`. */
function levelsHolding(db: Database, k: string): number[] {
  return db
    .stats()
    .sstables.levels.filter((l) => l.files > 0 && l.smallest! <= k && k <= l.largest!)
    .map((l) => l.level);
}

describe("compaction", () => {
  test("deleting everything and compacting fully frees the disk and leaves scans empty", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir, { memtableBytes: 64 * 1024, sync: "none" });
    for (let i = 0; i < 5000; i++) await db.put(key(i), "v".repeat(100));
    await db.compact();
    const full = tableBytes(dir);
    expect(full).toBeGreaterThan(5000 * 100);
    for (let i = 0; i < 5000; i++) await db.delete(key(i));
    await db.compact();
    expect(await count(db)).toBe(0);
    expect(tableBytes(dir)).toBeLessThan(full / 100);
    expect(db.stats().sstables.files).toBe(0);
    await db.close();
  });

  test("overwritten versions are dropped: space amplification returns to about 1", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir, { memtableBytes: 32 * 1024, sync: "none" });
    for (let round = 0; round < 5; round++) for (let i = 0; i < 2000; i++) await db.put(key(i), `${round}`.repeat(100));
    await db.compact();
    expect(tableBytes(dir)).toBeLessThan(2000 * 130);
    expect(db.stats().compaction.spaceAmplification).toBeLessThanOrEqual(1.01);
    expect(text(await db.get(key(7)))).toBe("4".repeat(100));
    await db.close();
  });

  test("a tombstone above an older value in a deeper level is not dropped too early", async () => {
    const dir = tempDir();
    const options = { memtableBytes: 4096, targetFileBytes: 4096, levelBaseBytes: 8192, sync: "none" as const };
    let db = await openDatabase(dir, options);
    const victim = key(2500);
    for (let i = 0; i < 5000; i++) await db.put(key(i), `old-${i}`.padEnd(60, "."));
    // Let automatic compactions push the data below level 1.
    for (let i = 0; i < 50 && !levelsHolding(db, victim).some((l) => l >= 2); i++) await db.flush();
    const deep = levelsHolding(db, victim).filter((l) => l >= 2);
    expect(deep.length).toBeGreaterThan(0);

    await db.delete(victim);
    // New writes flush and compact level 0 into level 1 over and over; the tombstone
    // moves down through levels that do not yet hold the old value.
    const before = db.stats().compaction.compactions;
    for (let i = 0; i < 3000; i++) {
      await db.put(key(i * 2 + 1), `new-${i}`.padEnd(60, "."));
      if (i % 500 === 0) expect(await db.get(victim)).toBeUndefined();
    }
    await db.flush();
    expect(db.stats().compaction.compactions).toBeGreaterThan(before);
    expect(await db.get(victim)).toBeUndefined();
    await db.close();
    db = await openDatabase(dir, options);
    expect(await db.get(victim)).toBeUndefined();
    await db.compact();
    expect(await db.get(victim)).toBeUndefined();
    expect(text(await db.get(key(2502)))).toBe("old-2502".padEnd(60, "."));
    await db.close();
  });

  test("a scan open across compactions keeps its view, and its files stay readable", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir, { memtableBytes: 4096, targetFileBytes: 4096, levelBaseBytes: 8192, sync: "none" });
    for (let i = 0; i < 2000; i++) await db.put(key(i), `a${i}`);
    await db.flush();
    const it = db.scan()[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.[0]).toBe(key(0));
    for (let i = 0; i < 2000; i++) await db.put(key(i), `b${i}`);
    for (let i = 0; i < 2000; i += 2) await db.delete(key(i));
    await db.compact();
    let n = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      expect(text(r.value[1])).toBe(`a${n}`);
      n++;
    }
    expect(n).toBe(2000);
    expect(await count(db)).toBe(1000);
    await db.close();
  });

  test("stats report levels, amplification and compaction work", async () => {
    const db = await openDatabase(tempDir(), { memtableBytes: 4096, targetFileBytes: 4096, levelBaseBytes: 8192, sync: "none" });
    for (let i = 0; i < 3000; i++) await db.put(key(i % 1000), "x".repeat(50));
    await db.flush();
    const s = db.stats();
    expect(s.compaction.compactions).toBeGreaterThan(0);
    expect(s.compaction.bytesWritten).toBeGreaterThan(0);
    expect(s.compaction.bytesRead).toBeGreaterThan(0);
    expect(s.compaction.writeAmplification).toBeGreaterThan(1);
    const deep = s.sstables.levels.filter((l) => l.level > 0 && l.files > 0);
    expect(deep.length).toBeGreaterThan(0);
    for (const l of deep) expect(l.smallest! <= l.largest!).toBe(true);
    expect(s.stall.state).toBe("none");
    await db.close();
  });
});
