import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { QueryCountResponse, QueryItemsResponse } from "../../src/query/types.ts";
import type { IndexInfo } from "../../src/types.ts";
import { kvdb, serve, tempDir, type ServeProcess } from "./binary.ts";

const REPO_INDEXES = path.resolve(import.meta.dir, "../../indexes.toml");
const CITIES = Array.from({ length: 8 }, (_, i) => `City${i}`);
const USERS = Array.from({ length: 400 }, (_, i) => ({
  key: `user:${String(i).padStart(4, "0")}`,
  doc: { name: `u${i}`, city: CITIES[(i * 7) % CITIES.length], age: 18 + (i % 60) },
}));

describe("queries and indexes through the compiled binary (kvdb serve --indexes indexes.toml)", () => {
  let dir: string;
  let server: ServeProcess;
  const http = (p: string, init?: RequestInit) => fetch(server.url + p, init);
  const post = async <T>(p: string, body?: unknown, status = 200): Promise<T> => {
    const res = await http(p, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status).toBe(status);
    return (await res.json()) as T;
  };
  const waitReady = async () => {
    for (;;) {
      const { indexes } = (await (await http("/indexes")).json()) as { indexes: IndexInfo[] };
      if (indexes.every((i) => i.state === "ready" && i.rebuilding === null)) return indexes;
      await Bun.sleep(20);
    }
  };

  beforeAll(async () => {
    dir = tempDir();
    server = await serve(dir, ["--indexes", REPO_INDEXES, "--sync", "none"]);
    const ops = [
      ...USERS.map((u) => ({ op: "set", key: u.key, value: JSON.stringify(u.doc) })),
      { op: "set", key: "user:bad", value: "not json" },
      { op: "set", key: "other:1", value: JSON.stringify({ city: "City3" }) },
    ];
    expect((await http("/batch", { method: "POST", body: JSON.stringify({ ops }) })).status).toBe(200);
    await waitReady();
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the server loads the file it was given and says so on start", async () => {
    expect(server.output()).toContain(`indexes ${REPO_INDEXES}`);
    const { indexes } = (await (await http("/indexes")).json()) as { indexes: IndexInfo[] };
    expect(indexes.map((i) => i.name).sort()).toEqual(["users_age", "users_city"]);
    expect(indexes.find((i) => i.name === "users_city")).toMatchObject({ state: "ready", live_entries: 400, terms: CITIES.length });
  });

  test("{city: X} is answered from users_city with the same items as a scan and as a plain JavaScript filter", async () => {
    for (const city of ["City3", "City0", "Nowhere"]) {
      const expected = USERS.filter((u) => u.doc.city === city).map((u) => ({ key: u.key, value: u.doc }));
      const indexed = await post<QueryItemsResponse>("/query", { scope_prefix: "user:", filter: { city }, limit: 1000 });
      expect(indexed.plan.index).toBe("users_city");
      expect(indexed.items).toEqual(expected);
      // The whole keyspace is outside the index's scope: a scan, which also sees other:1.
      const scanned = await post<QueryItemsResponse>("/query", { filter: { city }, limit: 1000 });
      expect(scanned.plan).toMatchObject({ kind: "scan", index: null });
      expect(scanned.items.filter((i) => i.key.startsWith("user:"))).toEqual(expected);
      const count = await post<QueryCountResponse>("/query", { scope_prefix: "user:", filter: { city }, count: true });
      expect(count).toMatchObject({ count: expected.length, plan: { index: "users_city" } });
      // Pages of 7 through the index add up to the same list.
      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page: QueryItemsResponse = await post<QueryItemsResponse>("/query", { scope_prefix: "user:", filter: { city }, limit: 7, cursor });
        paged.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      expect(paged).toEqual(expected);
    }
    const mixed = await post<QueryItemsResponse>("/query", { scope_prefix: "user:", filter: { city: "City5", age: { $gte: 40 } }, limit: 1000 });
    expect(mixed.items.map((i) => i.key)).toEqual(USERS.filter((u) => u.doc.city === "City5" && u.doc.age >= 40).map((u) => u.key));
    const bad = await http("/query", { method: "POST", body: JSON.stringify({ filter: { city: { $regex: "x" } } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("$regex");
  });

  test("kvdb query goes through the server: --json is the REST response, the table shows the same keys", async () => {
    const rest = await post<QueryItemsResponse>("/query", { scope_prefix: "user:", filter: { city: "City2" }, limit: 5 });
    const args = ["query", "--prefix", "user:", "--filter", '{"city":"City2"}', "--limit", "5", "--data-dir", dir];
    const json = await kvdb([...args, "--json", "--verbose"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toContain(`going through ${server.url}`);
    const viaCli = JSON.parse(json.stdout) as QueryItemsResponse;
    expect(viaCli.items).toEqual(rest.items);
    expect(viaCli.next_cursor).toBe(rest.next_cursor);
    expect(viaCli.plan.index).toBe("users_city");
    const table = await kvdb(args);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^KEY\s+VALUE$/);
    expect(lines.slice(1, 6).map((l) => l.split(/\s+/)[0])).toEqual(rest.items.map((i) => i.key));
    expect(lines[6]).toStartWith("5 items; next page: --cursor ");
    expect(lines[7]).toStartWith("plan: index users_city (index_equality):");
  });

  test("kvdb index rebuild users_city runs to completion through the server; queries keep their answers", async () => {
    const before = (await (await http("/indexes/users_city")).json()) as IndexInfo;
    const r = await kvdb(["index", "rebuild", "users_city", "--data-dir", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^users_city: rebuilt, generation ${before.generation + 1} ready in [\\d.]+ s: 400 entries`));
    const after = (await (await http("/indexes/users_city")).json()) as IndexInfo;
    expect(after).toMatchObject({ state: "ready", generation: before.generation + 1, rebuilding: null, live_entries: 400 });
    const list = JSON.parse((await kvdb(["index", "list", "--json", "--data-dir", dir])).stdout) as { indexes: IndexInfo[] };
    expect(list.indexes.find((i) => i.name === "users_city")!.generation).toBe(after.generation);
    const q = await post<QueryItemsResponse>("/query", { scope_prefix: "user:", filter: { city: "City3" }, limit: 1000 });
    expect(q.plan.index).toBe("users_city");
    expect(q.items.map((i) => i.key)).toEqual(USERS.filter((u) => u.doc.city === "City3").map((u) => u.key));
    expect(await (await http("/metrics")).text()).toContain(`kvdb_index_live_entries{index="users_city"} 400`);
  });
});

describe("which indexes file kvdb serve loads", () => {
  test("./indexes.toml of the working directory by default; a bad file refuses to start with one line", async () => {
    const work = tempDir();
    try {
      fs.copyFileSync(REPO_INDEXES, path.join(work, "indexes.toml"));
      const server = await serve(path.join(work, "data"), [], {}, work);
      try {
        const { indexes } = (await (await fetch(`${server.url}/indexes`)).json()) as { indexes: IndexInfo[] };
        expect(indexes.map((i) => i.name).sort()).toEqual(["users_age", "users_city"]);
      } finally {
        expect(await server.stop()).toBe(0);
      }
      const bad = path.join(work, "bad.toml");
      fs.writeFileSync(bad, '[[index]]\nname = "users_city"\nscope_prefix = "user:"\ntype = "equality"\nextractor = { kind = "json_path", path = "city" }\n');
      const refused = await kvdb(["serve", "--data-dir", path.join(work, "data"), "--port", "0", "--indexes", bad]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toBe(`kvdb: INVALID_ARGUMENT: ${bad}: index "users_city": extractor.path: bad JSONPath "city": a path starts with "$", e.g. "$.city"\n`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
