import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase, type Database } from "../../src/db.ts";
import { client, errorOf, kvPath } from "./harness.ts";

const made: string[] = [];
const scratch = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

async function served(options: { memtableBytes?: number } = {}): Promise<{ db: Database; api: ReturnType<typeof client> }> {
  const db = await openDatabase(scratch(), { memtableBytes: options.memtableBytes });
  return { db, api: client(db) };
}

describe("POST /backup", () => {
  test("200 with {dir, tables, wals, bytes, ms}; the copy opens with the data", async () => {
    const { db, api } = await served({ memtableBytes: 16 * 1024 });
    for (let i = 0; i < 500; i++) expect((await api.put(kvPath(`k${i}`), `v${i}`.repeat(20))).status).toBe(204);
    const dest = path.join(scratch(), "backup");
    const r = await api.post("/backup", { dest });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["bytes", "dir", "ms", "tables", "wals"]);
    expect(body.dir).toBe(dest);
    for (const k of ["tables", "wals", "bytes", "ms"]) expect(typeof body[k]).toBe("number");
    expect(body.tables as number).toBeGreaterThan(0);
    await db.close();
    const copy = await openDatabase(dest);
    for (let i = 0; i < 500; i += 37) expect(new TextDecoder().decode(await copy.get(`k${i}`))).toBe(`v${i}`.repeat(20));
    await copy.close();
  });

  test("400 for a relative path, a non-empty directory, a file, the data directory, a missing or extra field", async () => {
    const { db, api } = await served();
    await api.put(kvPath("a"), "1");
    const full = scratch();
    fs.writeFileSync(path.join(full, "f"), "x");
    for (const [body, message] of [
      [{ dest: "relative/dir" }, "must be an absolute path"],
      [{ dest: full }, "is not empty"],
      [{ dest: path.join(full, "f") }, "exists and is not a directory"],
      [{ dest: db.dir }, "must differ from the data directory"],
      [{}, "dest"],
      [{ dest: "" }, "dest"],
      [{ dest: path.join(scratch(), "x"), extra: 1 }, ""],
    ] as const) {
      const r = await api.post("/backup", body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 400]);
      const error = await errorOf(r);
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(message);
    }
    // Nothing was written into the refused non-empty directory.
    expect(fs.readdirSync(full)).toEqual(["f"]);
    await db.close();
  });

  test("while concurrent writers keep going: every write acknowledged before the request is in the backup", async () => {
    const { db, api } = await served({ memtableBytes: 8 * 1024 });
    const acked = new Map<string, string>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const k = `w${w}:${i}`;
        const v = `${w}-${i}-${"z".repeat(50)}`;
        const r = await api.put(kvPath(k), v);
        expect(r.status).toBe(204);
        acked.set(k, v);
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.size < 400) await new Promise((r) => setTimeout(r, 1));
    const before = new Map(acked);
    const dest = path.join(scratch(), "live");
    const r = await api.post("/backup", { dest });
    expect(r.status).toBe(200);
    const during = acked.size;
    await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(writers);
    // The writers were not held up for long: they kept being acknowledged around the backup.
    expect(acked.size).toBeGreaterThan(before.size);
    expect(during).toBeGreaterThanOrEqual(before.size);
    await db.close();

    const copy = await openDatabase(dest);
    for (const [k, v] of before) expect([k, new TextDecoder().decode(await copy.get(k))]).toEqual([k, v]);
    // Writes acknowledged after the backup may or may not be in it, but never half.
    for (const [k, v] of acked) {
      const got = await copy.get(k);
      if (got !== undefined) expect(new TextDecoder().decode(got)).toBe(v);
    }
    await copy.close();
  });

  test("the OpenAPI document describes POST /backup and POST /check", async () => {
    const { db, api } = await served();
    const spec = (await (await api.get("/swagger/json")).json()) as { paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };
    expect(spec.paths["/backup"].post.requestBody).toBeDefined();
    expect(Object.keys(spec.paths["/backup"].post.responses)).toContain("400");
    expect(Object.keys(spec.paths["/check"].post.responses)).toContain("200");
    await db.close();
  });
});
