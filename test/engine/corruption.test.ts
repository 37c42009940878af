import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, type Database } from "../../src/db.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { tempDir } from "../support/tmpdir.ts";

const key = (i: number) => `key${String(i).padStart(5, "0")}`;
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] ^= 0x40;
  writeFileSync(path, bytes);
}

function filesEnding(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
}

async function caught(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("corruption is reported with the file name, never returned as data", () => {
  test("a flipped byte in an SSTable data block fails reads of that block; other keys still read", async () => {
    const dir = tempDir();
    let db: Database = await openDatabase(dir);
    for (let i = 0; i < 2000; i++) await db.put(key(i), `value-${i}`.repeat(5));
    await db.flush();
    await db.close();
    const [sst] = filesEnding(dir, ".sst");
    expect(sst).toBeDefined();
    flipByte(join(dir, sst), 100); // inside the first data block

    db = await openDatabase(dir);
    const err = await caught(() => db.get(key(0)));
    expect(isKvdbError(err, "CORRUPTION")).toBe(true);
    expect((err as Error).message).toContain(sst);
    expect(text(await db.get(key(1999)))).toBe("value-1999".repeat(5));
    const scanErr = await caught(async () => {
      for await (const _ of db.scan()) {
        // reading the first block must fail
      }
    });
    expect(isKvdbError(scanErr, "CORRUPTION")).toBe(true);
    expect((scanErr as Error).message).toContain(sst);
    await db.close();
  });

  test("a damaged record in the middle of a WAL stops the open with the file name and offset", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir);
    for (let i = 0; i < 50; i++) await db.put(key(i), "v".repeat(40));
    // Not closed: the writes are only in the WAL (a crash would leave it this way).
    const [wal] = filesEnding(dir, ".wal");
    const copy = tempDir();
    writeFileSync(join(copy, wal), readFileSync(join(dir, wal)));
    await db.close();
    flipByte(join(copy, wal), 200);
    const err = await caught(() => openDatabase(copy));
    expect(isKvdbError(err, "CORRUPTION")).toBe(true);
    expect((err as Error).message).toContain(wal);
    expect((err as Error).message).toMatch(/offset \d+/);
  });

  test("a torn WAL tail is truncated, reported in stats, and the whole records before it are kept", async () => {
    const dir = tempDir();
    const db = await openDatabase(dir);
    for (let i = 0; i < 50; i++) await db.put(key(i), "v".repeat(40));
    const [wal] = filesEnding(dir, ".wal");
    const copy = tempDir();
    const bytes = readFileSync(join(dir, wal));
    await db.close();
    writeFileSync(join(copy, wal), bytes.subarray(0, bytes.length - 7));
    appendFileSync(join(copy, wal), new Uint8Array(100)); // zeros after the torn record
    const reopened = await openDatabase(copy);
    expect(reopened.stats().wal.truncatedBytes).toBeGreaterThan(100);
    expect(reopened.stats().wal.recoveredBatches).toBe(49);
    expect(text(await reopened.get(key(48)))).toBe("v".repeat(40));
    expect(await reopened.get(key(49))).toBeUndefined();
    await reopened.close();
  });
});
