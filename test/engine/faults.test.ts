import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/db.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { FaultyFileSystem } from "../support/faulty_fs.ts";
import { tempDir } from "../support/tmpdir.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject");
}

describe("fault injection through the file-system layer", () => {
  for (const [name, faults] of [
    ["failing fdatasync", { failSync: /\.wal$/ }],
    ["ENOSPC on append", { failWrite: /\.wal$/ }],
    ["short write", { shortWrite: /\.wal$/ }],
  ] as const) {
    test(`WAL ${name}: the write is not acknowledged, later writes fail, reads work, nothing acknowledged is lost`, async () => {
      const dir = tempDir();
      const fs = new FaultyFileSystem();
      const db = await openDatabase(dir, { fs, sync: "always" });
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, `v${i}`);
      fs.faults = { ...faults };
      const err = await rejection(db.put("doomed", "x"));
      expect(isKvdbError(err, "IO_ERROR")).toBe(true);
      fs.faults = {};
      // Sticky: the WAL's state is unknown after a failure, so nothing more is acknowledged.
      const later = await rejection(db.put("later", "y"));
      expect(isKvdbError(later, "IO_ERROR")).toBe(true);
      expect(text(await db.get("k3"))).toBe("v3");
      expect(await db.get("later")).toBeUndefined();
      await db.close();

      const reopened = await openDatabase(dir);
      for (let i = 0; i < 20; i++) expect(text(await reopened.get(`k${i}`))).toBe(`v${i}`);
      expect(await reopened.get("later")).toBeUndefined();
      await reopened.close();
    });
  }

  test("a failing flush stops writes with a clear error; reopen recovers everything acknowledged from the WAL", async () => {
    const dir = tempDir();
    const fs = new FaultyFileSystem();
    const db = await openDatabase(dir, { fs, sync: "always", memtableBytes: 4096 });
    fs.faults = { failSync: /\.sst$/ };
    const acked: string[] = [];
    let failure: unknown;
    for (let i = 0; i < 400 && !failure; i++) {
      try {
        await db.put(`key${String(i).padStart(4, "0")}`, "x".repeat(100));
        acked.push(`key${String(i).padStart(4, "0")}`);
      } catch (e) {
        failure = e;
      }
    }
    expect(fs.injected.sync).toBeGreaterThan(0);
    expect(isKvdbError(failure, "IO_ERROR")).toBe(true);
    expect((failure as Error).message).toContain("flush failed");
    expect(text(await db.get(acked[0]))).toBe("x".repeat(100));
    await db.close();

    const reopened = await openDatabase(dir);
    for (const k of acked) expect(text(await reopened.get(k))).toBe("x".repeat(100));
    await reopened.close();
  });
});
