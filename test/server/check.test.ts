import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase } from "../../src/db.ts";
import type { CheckReport } from "../../src/types.ts";
import { cityIndex } from "../indexing/support.ts";
import { client, errorOf, kvPath } from "./harness.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

const key = (i: number) => `user:${String(i).padStart(5, "0")}`;
const value = (i: number) => JSON.stringify({ city: `c${i % 3}`, n: i, pad: "q".repeat(40) });

/** A stopped database whose 3000 records are in one table of many data blocks. */
async function tableOnDisk(): Promise<{ dir: string; sst: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  made.push(dir);
  const db = await openDatabase(dir, { indexes: [cityIndex], sync: "none" });
  await db.waitForIndexes();
  for (let i = 0; i < 3000; i++) await db.put(key(i), value(i));
  await db.compact();
  await db.close();
  const ssts = fs.readdirSync(dir).filter((n) => n.endsWith(".sst"));
  expect(ssts.length).toBe(1);
  return { dir, sst: ssts[0] };
}

describe("a corrupt data block on the server", () => {
  test("GET of a key in it is a 500 CORRUPTION naming the file; keys in other blocks read; POST /check lists it", async () => {
    const { dir, sst } = await tableOnDisk();
    const file = path.join(dir, sst);
    const bytes = fs.readFileSync(file);
    bytes[20] ^= 0x01; // inside the first data block (user:00000 onwards)
    fs.writeFileSync(file, bytes);

    const db = await openDatabase(dir);
    const api = client(db);
    const broken = await api.get(kvPath(key(0)));
    expect(broken.status).toBe(500);
    const error = await errorOf(broken);
    expect(error.code).toBe("CORRUPTION");
    expect(error.message).toContain(sst);
    expect(error.message).toContain("data block checksum mismatch at offset 0");

    const fine = await api.get(kvPath(key(2999)));
    expect(fine.status).toBe(200);
    expect(await fine.text()).toBe(value(2999));

    const listing = await api.get("/kv?limit=10");
    expect(listing.status).toBe(500);
    expect((await errorOf(listing)).code).toBe("CORRUPTION");

    const check = await api.post("/check", undefined);
    expect(check.status).toBe(200);
    const report = (await check.json()) as CheckReport;
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toEqual({ severity: "damage", file: sst, offset: 0, message: "data block checksum mismatch" });
    // The index over the damaged records cannot be verified either, and says why.
    expect(report.problems.slice(1)).toEqual([
      { severity: "damage", file: "index:users_city", message: expect.stringContaining(`could not be checked: ${path.join(dir, sst)}: data block checksum mismatch`) },
    ]);
    expect(report.indexes[0].checked).toBe(false);
    await db.close();
  });
});

describe("POST /check", () => {
  test("a clean database: ok, the files and every ready index accounted for", async () => {
    const { dir } = await tableOnDisk();
    const db = await openDatabase(dir, { indexes: [cityIndex] });
    const api = client(db);
    await api.put(kvPath("user:new"), JSON.stringify({ city: "c1" }));
    const r = await api.post("/check", undefined);
    expect(r.status).toBe(200);
    const report = (await r.json()) as CheckReport;
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.files?.tables).toBe(1);
    expect(report.indexes).toEqual([
      { name: "users_city", generation: 1, type: "equality", state: "ready", checked: true, records: 3001, expected: 3001, entries: 3001, missing: 0, stale: 0 },
    ]);
    await db.close();
  });
});

describe("POST /check under load", () => {
  test("while writers, flushes and compactions change the files, repeated checks find nothing wrong", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
    made.push(dir);
    const db = await openDatabase(dir, { indexes: [cityIndex], memtableBytes: 8 * 1024 });
    await db.waitForIndexes();
    const api = client(db);
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const r = await api.put(kvPath(`user:${w}:${i % 400}`), value(i));
        expect(r.status).toBe(204);
      }
    };
    const writers = [0, 1, 2].map(writer);
    try {
      for (let round = 0; round < 8; round++) {
        await new Promise((r) => setTimeout(r, 30));
        const report = (await (await api.post("/check", undefined)).json()) as CheckReport;
        expect([round, report.problems]).toEqual([round, []]);
        expect(report.indexes[0]).toMatchObject({ checked: true, missing: 0, stale: 0 });
      }
      expect(db.stats().flushes).toBeGreaterThan(0);
    } finally {
      stop = true;
      await Promise.all(writers);
      await db.close();
    }
  });
});
