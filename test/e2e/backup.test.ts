import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { kvdb, kvdbBinary, serve, tempDir } from "./binary.ts";

const made: string[] = [];
const scratch = () => {
  const d = tempDir();
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe("the binary: backups and checks of a serving database", () => {
  beforeAll(async () => {
    await kvdbBinary();
  }, 120_000);

  test("kvdb backup while clients keep writing; kvdb serve --data-dir DEST has every write acknowledged before it", async () => {
    const dir = scratch();
    const server = await serve(dir);
    const acked = new Map<string, string>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const k = `w${w}/${i}`;
        const v = `value ${w} ${i} ${"x".repeat(i % 300)}`;
        const r = await fetch(`${server.url}/kv/${encodeURIComponent(k)}`, { method: "PUT", body: v });
        expect(r.status).toBe(204);
        acked.set(k, v);
      }
    };
    const writers = [0, 1, 2, 3, 4, 5].map(writer);
    let backup: Awaited<ReturnType<typeof kvdb>>;
    let before: Map<string, string>;
    const dest = path.join(scratch(), "backup");
    try {
      while (acked.size < 500) await Bun.sleep(5);
      before = new Map(acked);
      backup = await kvdb(["backup", dest, "--data-dir", dir, "--verbose"]);
      const afterBackup = acked.size;
      while (acked.size < afterBackup + 100) await Bun.sleep(5);
      // Check goes through the server too, while the writers go on.
      const check = await kvdb(["check", "--data-dir", dir]);
      expect([check.code, check.stderr]).toEqual([0, ""]);
      expect(check.stdout).toContain(`checked the server's database (server ${server.url})`);
      // Over HTTP, a relative destination is refused: the server cannot know the client's directory.
      const relative = await fetch(`${server.url}/backup`, { method: "POST", body: JSON.stringify({ dest: "relative" }), headers: { "content-type": "application/json" } });
      expect(relative.status).toBe(400);
    } finally {
      stop = true;
      await Promise.all(writers);
      expect(await server.stop()).toBe(0);
    }
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain(`going through ${server.url}`);
    expect(backup.stdout).toStartWith("backed up ");

    const copy = await serve(dest);
    try {
      for (const [k, v] of before) {
        const r = await fetch(`${copy.url}/kv/${encodeURIComponent(k)}`);
        expect([k, r.status, await r.text()]).toEqual([k, 200, v]);
      }
    } finally {
      expect(await copy.stop()).toBe(0);
    }
    const checked = await kvdb(["check", "--data-dir", dest]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^ok: no damage/m);
  }, 60_000);

  test("kvdb check on a stopped directory with a damaged table: exit 1, the file and offset", async () => {
    const dir = scratch();
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ key: `k${String(i).padStart(5, "0")}`, value: `v${i}`.repeat(10) })).join("\n");
    expect((await kvdb(["import", "-", "--data-dir", dir], { stdin: lines })).code).toBe(0);
    expect((await kvdb(["compact", "--data-dir", dir])).code).toBe(0);
    const [sst] = fs.readdirSync(dir).filter((n) => n.endsWith(".sst"));
    const bytes = fs.readFileSync(path.join(dir, sst));
    bytes[bytes.length - 1] ^= 0xff; // the last byte of the magic number
    fs.writeFileSync(path.join(dir, sst), bytes);
    const r = await kvdb(["check", "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`damage    ${sst} at offset ${bytes.length - 8}: bad table magic number\n`);
    const json = JSON.parse((await kvdb(["check", "--json", "--data-dir", dir])).stdout);
    expect(json.problems).toEqual([{ severity: "damage", file: sst, offset: bytes.length - 8, message: "bad table magic number" }]);
  }, 60_000);
});
