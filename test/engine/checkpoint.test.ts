import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/db.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { tempDir } from "../support/tmpdir.ts";
import { cityIndex } from "../indexing/support.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

test("a backup taken while writes continue holds every write acknowledged before it, tables, WAL and indexes", async () => {
  const dir = tempDir();
  const db = await openDatabase(dir, { memtableBytes: 8192, indexes: [cityIndex] });
  await db.waitForIndexes();
  for (let i = 0; i < 2000; i++) await db.put(`user:${i}`, JSON.stringify({ city: `c${i % 5}`, pad: "x".repeat(20) }));
  await db.delete("user:7");
  // Writers keep going while the backup runs.
  let writing = true;
  let after = 0;
  const writer = (async () => {
    while (writing) await db.put(`late:${after++}`, "v");
  })();
  const dest = join(tempDir(), "backup");
  const result = await db.backup(dest);
  writing = false;
  await writer;
  expect(result.tables).toBeGreaterThan(0);
  expect(result.wals).toBeGreaterThan(0);
  await db.close();

  const copy = await openDatabase(dest);
  for (let i = 0; i < 2000; i += 97) expect(text(await copy.get(`user:${i}`))).toContain(`"c${i % 5}"`);
  expect(await copy.get("user:7")).toBeUndefined();
  const r = await copy.query({ scope_prefix: "user:", filter: { city: "c3" }, count: true });
  expect(r).toMatchObject({ count: 400, plan: { index: "users_city" } });
  // The original is untouched by the copy's recovery (tables are hard links, never written).
  await copy.put("only-in-copy", "1");
  await copy.compact();
  await copy.close();
  const original = await openDatabase(dir);
  expect(await original.get("only-in-copy")).toBeUndefined();
  expect(text(await original.get("user:1999"))).toContain("c4");
  await original.close();
});

test("a backup refuses a non-empty destination or the data directory itself", async () => {
  const dir = tempDir();
  const db = await openDatabase(dir);
  await db.put("a", "1");
  for (const dest of [dir, tempDir()]) {
    if (dest !== dir) await Bun.write(join(dest, "something"), "x");
    try {
      await db.backup(dest);
      throw new Error("accepted");
    } catch (e) {
      expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
    }
  }
  await db.close();
});
