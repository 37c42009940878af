import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../src/cli/run.ts";
import { openDatabase } from "../../src/db.ts";
import type { CheckReport } from "../../src/types.ts";
import { startServer } from "../../src/server/serve.ts";
import { captureIO } from "./capture.ts";
import { cityIndex } from "../indexing/support.ts";

let dir: string;
const made: string[] = [];
const scratch = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  made.push(d);
  return d;
};
beforeEach(() => {
  dir = scratch();
});
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function cli(args: string[], dataDir = dir) {
  const io = captureIO();
  const code = await runCli([...args, "--data-dir", dataDir], io);
  return { code, out: io.out(), err: io.err() };
}

const sstFiles = (d: string) => fs.readdirSync(d).filter((n) => n.endsWith(".sst")).sort();

/** XORs one byte in place (no truncation: a server may have the file mapped). */
function flipInPlace(file: string, at: number): void {
  const fd = fs.openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0x5a;
    fs.writeSync(fd, b, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
}

/** 2000 users in a table, 50 more only in the WAL, and a ready equality index. */
async function populate(d = dir): Promise<void> {
  const db = await openDatabase(d, { indexes: [cityIndex], sync: "none" });
  await db.waitForIndexes();
  for (let i = 0; i < 2000; i++) await db.put(`user:${String(i).padStart(4, "0")}`, JSON.stringify({ city: `c${i % 5}`, pad: "p".repeat(30) }));
  await db.flush();
  for (let i = 2000; i < 2050; i++) await db.put(`user:${i}`, JSON.stringify({ city: "c9" }));
  await db.close();
}

describe("kvdb check on a stopped database", () => {
  test("clean: the files, then the indexes after opening; exit 0", async () => {
    await populate();
    const r = await cli(["check"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(`checked ${fs.realpathSync(dir)}`);
    expect(r.out).toMatch(/^ {2}tables {4}1 \(/m);
    expect(r.out).toContain("  index     users_city (equality, generation 1): 2050 records, 2050 values, 2050 entries, 0 missing, 0 stale\n");
    expect(r.out).toMatch(/^ok: no damage \(0 warnings, \d+ ms\)\n$/m);

    // The first check's open replayed the WAL into a second table.
    const json = await cli(["check", "--json"]);
    const report = JSON.parse(json.out) as CheckReport;
    expect(report).toMatchObject({ ok: true, problems: [], files: { tables: 2, orphans: 0, walBatches: 0 }, indexes: [{ name: "users_city", checked: true, missing: 0, stale: 0 }] });
  });

  test("a flipped byte in a data block: the file and offset, exit 1, and the database is not opened", async () => {
    await populate();
    const [sst] = sstFiles(dir);
    flipInPlace(path.join(dir, sst), 10);
    const walsBefore = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    const r = await cli(["check"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`damage    ${sst} at offset 0: data block checksum mismatch\n`);
    expect(r.out).toMatch(/^DAMAGED: 1 problem \(0 warnings, \d+ ms\)\n$/m);
    expect(r.out).not.toContain("index ");
    // Not opened: the WAL was not replayed into a table.
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".wal"))).toEqual(walsBefore);
    expect(sstFiles(dir)).toEqual([sst]);
    const json = JSON.parse((await cli(["check", "--json"])).out) as CheckReport;
    expect(json.ok).toBe(false);
    expect(json.problems).toEqual([{ severity: "damage", file: sst, offset: 0, message: "data block checksum mismatch" }]);
  });

  test("a torn WAL tail is a warning (exit 0); --files-only leaves it, a full check's open truncates it", async () => {
    await populate();
    const [wal] = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    fs.appendFileSync(path.join(dir, wal), new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    const size = fs.statSync(path.join(dir, wal)).size;
    const filesOnly = await cli(["check", "--files-only"]);
    expect(filesOnly.code).toBe(0);
    expect(filesOnly.out).toContain(`warning   ${wal} at offset ${size - 7}: torn tail of 7 bytes`);
    expect(filesOnly.out).not.toContain("index ");
    expect(fs.statSync(path.join(dir, wal)).size).toBe(size);

    const full = await cli(["check"]);
    expect(full.code).toBe(0);
    expect(full.out).toContain("torn tail of 7 bytes");
    expect(full.out).toContain("users_city");
    // The open replayed the WAL: the next check has nothing to warn about.
    expect((await cli(["check"])).out).toMatch(/^ok: no damage \(0 warnings/m);
  });

  test("an index out of step with the data: named keys, exit 1", async () => {
    await populate();
    // Change a record without index maintenance (internal writes skip it).
    const db = await openDatabase(dir);
    const engine = (db as unknown as { engine: { write(ops: unknown[]): Promise<void> } }).engine;
    await engine.write([{ kind: 1, key: new TextEncoder().encode("user:0003"), value: new TextEncoder().encode('{"city":"zz"}'), internal: true }]);
    await db.close();
    const r = await cli(["check"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('damage    index:users_city: record "user:0003" yields value "zz", which the index does not hold\n');
    expect(r.out).toContain('damage    index:users_city: value "c3" lists record "user:0003", which does not yield this value\n');
  });

  test("a missing directory, and a directory another opener holds without a server", async () => {
    const missing = await cli(["check"], path.join(dir, "nope"));
    expect(missing).toMatchObject({ code: 1, out: "" });
    expect(missing.err).toBe(`kvdb: NOT_FOUND: no data directory at ${path.join(dir, "nope")}\n`);
    const db = await openDatabase(dir);
    try {
      const locked = await cli(["check"]);
      expect(locked.code).toBe(1);
      expect(locked.err).toMatch(/^kvdb: LOCKED: .* is in use by process \d+, which recorded no server address/);
    } finally {
      await db.close();
    }
  });
});

describe("kvdb check and kvdb backup through a running server", () => {
  test("check runs in the server; a table damaged on disk is reported while it keeps serving", async () => {
    await populate();
    const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "always" }, () => {});
    try {
      const clean = await cli(["check"]);
      expect(clean.code).toBe(0);
      expect(clean.out).toContain(`checked the server's database (server ${server.url})`);
      expect(clean.out).toContain("users_city (equality, generation 1): 2050 records");
      const [sst] = sstFiles(dir);
      flipInPlace(path.join(dir, sst), 10);
      const damaged = await cli(["check"]);
      expect(damaged.code).toBe(1);
      expect(damaged.out).toContain(`damage    ${sst} at offset 0: data block checksum mismatch`);
      expect((await cli(["get", "user:1999"])).code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  test("backup goes through the server, which keeps serving; the copy opens with the data", async () => {
    await populate();
    const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "always" }, () => {});
    const dest = path.join(scratch(), "copy");
    try {
      const r = await cli(["backup", dest, "--verbose"]);
      expect(r.code).toBe(0);
      expect(r.err).toContain(`going through ${server.url}`);
      expect(r.out).toMatch(new RegExp(`^backed up \\d+ tables? and \\d+ WAL files? \\(.*\\) to ${dest} in \\d+ ms\\n$`));
      expect((await cli(["set", "after", "1"])).code).toBe(0);
    } finally {
      await server.stop();
    }
    const copy = await openDatabase(dest);
    expect(new TextDecoder().decode(await copy.get("user:2049"))).toBe('{"city":"c9"}');
    expect(await copy.get("after")).toBeUndefined();
    await copy.close();
    expect((await cli(["check"], dest)).code).toBe(0);
  });
});

describe("kvdb backup on a stopped database", () => {
  test("writes a checkpoint; --json prints the REST answer", async () => {
    await populate();
    const dest = path.join(scratch(), "b");
    const r = await cli(["backup", dest, "--json"]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(["bytes", "dir", "ms", "tables", "wals"]);
    expect(result.dir).toBe(dest);
    const copy = await openDatabase(dest);
    expect(await copy.query({ scope_prefix: "user:", filter: { city: "c9" }, count: true })).toMatchObject({ count: 50, plan: { index: "users_city" } });
    await copy.close();
  });

  test("refuses a non-empty destination, a file, the data directory; --url needs an absolute DEST", async () => {
    await populate();
    const full = scratch();
    fs.writeFileSync(path.join(full, "x"), "x");
    const file = path.join(full, "x");
    for (const [dest, message] of [
      [full, "is not empty"],
      [file, "exists and is not a directory"],
      [dir, "must differ from the data directory"],
    ] as const) {
      const r = await cli(["backup", dest]);
      expect([dest, r.code]).toEqual([dest, 1]);
      expect(r.err).toStartWith("kvdb: INVALID_ARGUMENT: ");
      expect(r.err).toContain(message);
    }
    const relative = await cli(["backup", "rel/dir", "--url", "http://127.0.0.1:1"]);
    expect(relative.code).toBe(2);
    expect(relative.err).toContain("must be an absolute path");
  });
});
