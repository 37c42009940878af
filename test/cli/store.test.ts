import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HttpStore, RemoteError } from "../../src/cli/client.ts";
import { localStore, type KvStore } from "../../src/cli/store.ts";
import { openDatabase } from "../../src/db.ts";
import { startServer, type RunningServer } from "../../src/server/serve.ts";

// The same behaviour through both stores the CLI can use: the directory opened here, and the REST API.
const dirs: string[] = [];
let server: RunningServer;
const stores: [string, () => KvStore][] = [];

beforeAll(async () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  dirs.push(a, b);
  const local = localStore(await openDatabase(a));
  server = await startServer({ dataDir: b, host: "127.0.0.1", port: 0, sync: "always" }, () => {});
  stores.push(["local", () => local], ["http", () => new HttpStore(server.url)]);
});

afterAll(async () => {
  await stores[0]?.[1]().close();
  await server?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

for (const name of ["local", "http"]) {
  describe(`${name} store`, () => {
    const store = () => stores.find(([n]) => n === name)![1]();

    test("get/put/delete, including keys URL parsers would normalise ('.', '..') and binary values", async () => {
      const s = store();
      const keys = [".", "..", "./x", "a/../b", "sp ace", "q?#"];
      for (const key of keys) await s.put(key, new Uint8Array([1, 0, 255, key.length]));
      for (const key of keys) expect(await s.get(key)).toEqual(new Uint8Array([1, 0, 255, key.length]));
      await s.delete(".");
      expect(await s.get(".")).toBeUndefined();
      expect(await s.get("..")).toEqual(new Uint8Array([1, 0, 255, 2]));
      expect(await s.get("missing")).toBeUndefined();
    });

    test("scan follows pages past the server's page size and applies contains", async () => {
      const s = store();
      const ops = Array.from({ length: 2500 }, (_, i) => ({ type: "put" as const, key: `scan:${String(i).padStart(5, "0")}`, value: `${i}` }));
      await s.write(ops);
      const keys: string[] = [];
      for await (const [key] of s.scan({ prefix: "scan:" })) keys.push(key);
      expect(keys).toEqual(ops.map((o) => o.key));
      const matching: string[] = [];
      for await (const [key, value] of s.scan({ prefix: "scan:", contains: "99" })) {
        matching.push(key);
        expect(key).toContain("99");
        expect(new TextDecoder().decode(value)).toBe(String(Number(key.slice(5))));
      }
      expect(matching.length).toBe(ops.filter((o) => o.key.includes("99")).length);
    });

    test("write is atomic: one invalid op rejects all", async () => {
      const s = store();
      await expect(s.write([{ type: "put", key: "atomic", value: "1" }, { type: "put", key: "", value: "x" }])).rejects.toThrow();
      expect(await s.get("atomic")).toBeUndefined();
    });

    test("stats and compact", async () => {
      const s = store();
      expect((await s.stats()).sequence).toBeGreaterThan(0);
      await s.compact();
    });
  });
}

test("the HTTP store reports the server's error code and an unreachable server clearly", async () => {
  const s = new HttpStore(server.url);
  const error = await s.put("", "x").catch((e) => e);
  expect(error).toBeInstanceOf(RemoteError);
  expect(error.code).toBe("INVALID_KEY");
  const gone = await new HttpStore("http://127.0.0.1:1").get("k").catch((e) => e);
  expect(gone.code).toBe("IO_ERROR");
  expect(gone.message).toContain("cannot reach the server");
});
