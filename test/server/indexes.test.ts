import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openDatabase } from "../../src/db.ts";
import type { QueryItemsResponse } from "../../src/query/types.ts";
import type { Database, IndexInfo } from "../../src/types.ts";
import { client, errorOf } from "./harness.ts";
import { MemoryDatabase } from "./memory-database.ts";

const CITY = `[[index]]
name = "users_city"
scope_prefix = "user:"
type = "equality"
extractor = { kind = "json_path", path = "$.city" }
`;
const TAGS = `[[index]]
name = "users_tags"
scope_prefix = "user:"
type = "equality"
extractor = { kind = "json_path", path = "$.tags" }
`;

let dir: string;
let file: string;
let db: Database;
let api: ReturnType<typeof client>;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  file = path.join(dir, "indexes.toml");
  fs.writeFileSync(file, CITY);
  db = await openDatabase(path.join(dir, "data"), { sync: "none", indexes: file });
  await db.write(
    Array.from({ length: 40 }, (_, i) => ({
      type: "put" as const,
      key: `user:${i}`,
      value: JSON.stringify({ city: ["Porto", "Faro"][i % 2], tags: i % 4 === 0 ? ["vip"] : [] }),
    })),
  );
  await db.waitForIndexes();
  api = client(db);
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const json = async <T>(res: Response, status = 200): Promise<T> => {
  expect(res.status).toBe(status);
  return (await res.json()) as T;
};

test("GET /indexes lists each index with its definition, state, progress and figures; GET /indexes/{name} shows one", async () => {
  const { indexes } = await json<{ indexes: IndexInfo[] }>(await api.get("/indexes"));
  expect(indexes.length).toBe(1);
  expect(indexes[0]).toMatchObject({
    name: "users_city",
    type: "equality",
    scope_prefix: "user:",
    extractor: { kind: "json_path", path: "$.city" },
    state: "ready",
    rebuilding: null,
    error: null,
    terms: 2,
    live_entries: 40,
    tombstones: 0,
  });
  expect(indexes[0].progress).toMatchObject({ cursor: null, ready_at: expect.any(String) });
  expect(await json<IndexInfo>(await api.get("/indexes/users_city"))).toEqual(indexes[0]);
});

test("an unknown index is 404 NOT_FOUND on GET and on rebuild", async () => {
  for (const res of [await api.get("/indexes/nope"), await api.call("POST", "/indexes/rebuild/nope")]) {
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toEqual({ code: "NOT_FOUND", message: 'no index named "nope"' });
  }
});

test("POST /indexes/reload picks up a changed file; a bad file is a 400 naming the problem and the old registry keeps answering", async () => {
  fs.writeFileSync(file, CITY + "\n" + TAGS);
  const reloaded = await json<{ indexes: IndexInfo[] }>(await api.call("POST", "/indexes/reload"));
  expect(reloaded.indexes.map((i) => i.name).sort()).toEqual(["users_city", "users_tags"]);
  await db.waitForIndexes();

  fs.writeFileSync(file, CITY + "\n" + TAGS.replace('"$.tags"', '"$.tags["'));
  const bad = await api.call("POST", "/indexes/reload");
  expect(bad.status).toBe(400);
  const error = await errorOf(bad);
  expect(error.code).toBe("INVALID_ARGUMENT");
  expect(error.message).toContain('index "users_tags"');
  expect(error.message).toContain("JSONPath");

  fs.writeFileSync(file, "[[index]]\nname = 1\n");
  expect(await errorOf(await api.call("POST", "/indexes/reload"))).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("index #1") });

  const after = await json<{ indexes: IndexInfo[] }>(await api.get("/indexes"));
  expect(after.indexes.map((i) => [i.name, i.state])).toEqual([
    ["users_city", "ready"],
    ["users_tags", "ready"],
  ]);
  const q = await json<QueryItemsResponse>(await api.post("/query", { scope_prefix: "user:", filter: { tags: "vip" }, limit: 100 }));
  expect(q.plan.index).toBe("users_tags");
  expect(q.items.length).toBe(10);
});

test("POST /indexes/rebuild/{name} answers 202 at once; the new generation becomes ready and answers the same", async () => {
  const before = await json<IndexInfo>(await api.get("/indexes/users_city"));
  const started = await json<IndexInfo>(await api.call("POST", "/indexes/rebuild/users_city"), 202);
  expect(started.name).toBe("users_city");
  // The new generation: building next to the ready one (or, on a fast machine, already swapped in).
  expect(started.rebuilding?.generation ?? started.generation).toBe(before.generation + 1);
  await db.waitForIndexes();
  const after = await json<IndexInfo>(await api.get("/indexes/users_city"));
  expect(after).toMatchObject({ state: "ready", generation: before.generation + 1, rebuilding: null, live_entries: 40, terms: 2 });
  expect(after.progress.scanned).toBe(40);
  const q = await json<QueryItemsResponse>(await api.post("/query", { scope_prefix: "user:", filter: { city: "Faro" }, limit: 100 }));
  expect(q.plan.index).toBe("users_city");
  expect(q.items.length).toBe(20);
});

test("GET /stats has an indexes array; GET /metrics has per-index gauges", async () => {
  const stats = await json<{ sequence: number; indexes: IndexInfo[] }>(await api.get("/stats"));
  expect(stats.sequence).toBeGreaterThan(0);
  expect(stats.indexes).toEqual(db.listIndexes());
  const text = await (await api.get("/metrics")).text();
  for (const line of [
    'kvdb_index_live_entries{index="users_city"} 40',
    'kvdb_index_tombstones{index="users_city"} 0',
    'kvdb_index_terms{index="users_city"} 2',
    `kvdb_index_blocks{index="users_city"} ${stats.indexes[0].blocks}`,
    `kvdb_index_bytes{index="users_city"} ${stats.indexes[0].bytes}`,
    'kvdb_index_building{index="users_city"} 0',
    'kvdb_index_ready{index="users_city"} 1',
    `kvdb_index_progress_scanned{index="users_city"} ${stats.indexes[0].progress.scanned}`,
  ]) {
    expect(text).toContain(`\n${line}\n`);
  }
  expect(text).toContain("# TYPE kvdb_index_live_entries gauge");
  for (const line of text.trim().split("\n")) {
    if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
  }
});

describe("without indexes given at open", () => {
  test("the reload file of the app is read even when it did not exist at start", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
    const later = path.join(other, "indexes.toml");
    const plain = await openDatabase(path.join(other, "data"), { sync: "none" });
    try {
      const app = client(plain, { indexesFile: later });
      expect(await json<{ indexes: IndexInfo[] }>(await app.get("/indexes"))).toEqual({ indexes: [] });
      const missing = await app.call("POST", "/indexes/reload");
      expect(missing.status).toBe(400);
      expect((await errorOf(missing)).message).toContain("no such file");
      fs.writeFileSync(later, CITY);
      const loaded = await json<{ indexes: IndexInfo[] }>(await app.call("POST", "/indexes/reload"));
      expect(loaded.indexes.map((i) => i.name)).toEqual(["users_city"]);
    } finally {
      await plain.close();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test("a database with no definitions: empty list, reload is a 400 saying why, stats has an empty indexes array", async () => {
    const app = client(new MemoryDatabase());
    expect(await json<{ indexes: IndexInfo[] }>(await app.get("/indexes"))).toEqual({ indexes: [] });
    const reload = await app.call("POST", "/indexes/reload");
    expect(reload.status).toBe(400);
    expect((await errorOf(reload)).message).toContain("no index definitions");
    expect((await json<{ indexes: unknown[] }>(await app.get("/stats"))).indexes).toEqual([]);
  });
});
