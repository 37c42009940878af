import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../src/cli/run.ts";
import type { QueryItemsResponse, QueryResponse } from "../../src/query/types.ts";
import { chooseIndexesFile } from "../../src/server/indexes-file.ts";
import { startServer } from "../../src/server/serve.ts";
import type { IndexInfo } from "../../src/types.ts";
import { captureIO } from "./capture.ts";

const INDEXES = `[[index]]
name = "users_city"
scope_prefix = "user:"
type = "equality"
extractor = { kind = "json_path", path = "$.city" }
`;
const CITIES = ["Porto", "Lisbon", "Faro"];
const USERS = Array.from({ length: 60 }, (_, i) => ({
  key: `user:${String(i).padStart(3, "0")}`,
  value: { city: CITIES[i % 3], age: 20 + (i % 50), bio: "x".repeat(80) },
}));

let root: string;
let dir: string;
let indexes: string;
beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
  dir = path.join(root, "data");
  indexes = path.join(root, "indexes.toml");
  fs.writeFileSync(indexes, INDEXES);
  const lines = USERS.map((u) => JSON.stringify({ key: u.key, value: JSON.stringify(u.value) })).join("\n");
  expect((await cli(["import", "-"], { stdin: lines })).code).toBe(0);
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function cli(args: string[], options: Parameters<typeof captureIO>[0] & { columns?: number } = {}) {
  const io = captureIO(options);
  if (options.columns) io.columns = options.columns;
  const code = await runCli([...args, "--data-dir", dir, "--indexes", indexes], io);
  return { code, out: io.out(), err: io.err() };
}

/**
 * A response without the figures that differ between two runs of the same query (time,
 * and the reads a warm posting cache saves): its items, cursor and the plan's shape.
 */
function timeless(r: QueryResponse): unknown {
  const { kind, index, returned } = r.plan;
  return { ...r, plan: { kind, index, returned, fields: Object.keys(r.plan).sort() } };
}

const porto = USERS.filter((u) => u.value.city === "Porto");

describe("kvdb query", () => {
  test("--json prints exactly the REST response, through a running server and on the directory opened directly", async () => {
    const request = { scope_prefix: "user:", filter: { city: "Porto" }, limit: 7 };
    const args = ["query", "--prefix", "user:", "--filter", '{"city":"Porto"}', "--limit", "7", "--json"];
    const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "none", indexesPath: indexes }, () => {});
    let rest: QueryItemsResponse;
    let viaServer: { code: number; out: string };
    try {
      await server.db.waitForIndexes();
      rest = (await (await fetch(`${server.url}/query`, { method: "POST", body: JSON.stringify(request) })).json()) as QueryItemsResponse;
      viaServer = await cli(args);
    } finally {
      await server.stop();
    }
    expect(rest.plan.index).toBe("users_city");
    expect(rest.items.map((i) => i.key)).toEqual(porto.slice(0, 7).map((u) => u.key));
    expect(viaServer.code).toBe(0);
    expect(viaServer.out.endsWith("\n") && viaServer.out.trim().split("\n").length).toBe(1);
    expect(timeless(JSON.parse(viaServer.out))).toEqual(timeless(rest));
    const local = await cli(args);
    expect(timeless(JSON.parse(local.out))).toEqual(timeless(rest));
    // The next page through --cursor.
    const next = await cli([...args, "--cursor", rest.next_cursor!]);
    expect((JSON.parse(next.out) as QueryItemsResponse).items.map((i) => i.key)).toEqual(porto.slice(7, 14).map((u) => u.key));
  });

  test("people get a table cut to the terminal width, the next cursor and a one-line plan summary", async () => {
    const r = await cli(["query", "--prefix", "user:", "--filter", '{"city":"Lisbon"}', "--limit", "3"], { columns: 60 });
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^KEY\s+VALUE$/);
    const rows = lines.slice(1, 4);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(["user:001", "user:004", "user:007"]);
    for (const line of lines.slice(0, 4)) expect(Array.from(line).length).toBeLessThanOrEqual(60);
    expect(rows[0]).toStartWith('user:001  {"city":"Lisbon","age":21,"bio":"xxx');
    expect(rows[0]).toEndWith("…");
    expect(lines[4]).toMatch(/^3 items; next page: --cursor [A-Za-z0-9_-]+$/);
    expect(lines[5]).toMatch(/^plan: index users_city \(index_equality\): \d+ keys examined, \d+ docs examined, 3 returned, [\d.]+ ms$/);
    // Without a terminal width nothing is cut.
    const wide = await cli(["query", "--prefix", "user:", "--filter", '{"city":"Lisbon"}', "--limit", "1"]);
    expect(wide.out).toContain(JSON.stringify(USERS[1].value));
    expect(wide.out).toContain("1 item; next page");
    const last = await cli(["query", "--prefix", "user:0", "--filter", '{"age":{"$gte":69}}']);
    expect(last.out).toContain("user:049");
    expect(last.out).toContain("1 item; end of results\n");
    const none = await cli(["query", "--filter", '{"city":"Nowhere"}']);
    expect(none.out).toStartWith("no matches\nplan: scan:");
  });

  test("--count and --explain", async () => {
    const count = await cli(["query", "--prefix", "user:", "--filter", '{"city":"Faro"}', "--count"]);
    expect(count.out).toMatch(/^20 matches\nplan: index users_city/);
    const json = JSON.parse((await cli(["query", "--prefix", "user:", "--filter", '{"city":"Faro"}', "--count", "--json"])).out);
    expect(json).toMatchObject({ count: 20, plan: { index: "users_city" } });
    const explained = await cli(["query", "--filter", '{"city":"Faro"}', "--limit", "1", "--explain"]);
    expect(explained.out).toContain("plan: scan:");
    expect(explained.out).toMatch(/\n {2}not used: users_city: wrong scope/);
    expect(explained.out).toContain('  filter: {"$.city":{"$eq":"Faro"}}');
  });

  test("a filter that is not JSON is a usage error (exit 2); an invalid query exits 1 with the query layer's message", async () => {
    const notJson = await cli(["query", "--filter", "{city: Porto}"]);
    expect(notJson.code).toBe(2);
    expect(notJson.err).toStartWith("kvdb: query: --filter is not valid JSON");
    const badOp = await cli(["query", "--filter", '{"age":{"$gt":{}}}']);
    expect(badOp.code).toBe(1);
    expect(badOp.err).toBe("kvdb: INVALID_ARGUMENT: filter.age.$gt: expected a number or a string, got object\n");
    const badLimit = await cli(["query", "--limit", "5000"]);
    expect(badLimit.code).toBe(1);
    expect(badLimit.err).toContain("limit");
    expect((await cli(["query", "--cursor", "garbage"])).err).toContain("cursor");
  });
});

describe("kvdb index", () => {
  test("list, show and reload; --json equals the REST answers", async () => {
    const list = await cli(["index", "list"]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^NAME\s+TYPE\s+SCOPE\s+EXTRACTOR\s+STATE\s+ENTRIES/);
    expect(list.out).toMatch(/\nusers_city\s+equality\s+user:\s+\$\.city\s+ready\s+60\s+3\s+/);
    const show = await cli(["index", "show", "users_city"]);
    expect(show.out).toMatch(/^name\s+users_city\n/m);
    expect(show.out).toMatch(/^entries\s+60 live, 0 tombstones$/m);

    const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "none", indexesPath: indexes }, () => {});
    try {
      const rest = await (await fetch(`${server.url}/indexes`)).json();
      expect(JSON.parse((await cli(["index", "list", "--json"])).out)).toEqual(rest);
      const one = await (await fetch(`${server.url}/indexes/users_city`)).json();
      expect(JSON.parse((await cli(["index", "show", "users_city", "--json"])).out)).toEqual(one);
      // Reload through the server re-reads the server's file.
      fs.writeFileSync(indexes, INDEXES.replace("users_city", "users_city2"));
      const reloaded = JSON.parse((await cli(["index", "reload", "--json"])).out) as { indexes: IndexInfo[] };
      expect(reloaded.indexes.map((i) => i.name)).toEqual(["users_city2"]);
      fs.writeFileSync(indexes, "[[index]]\nname = 'x'\n");
      const bad = await cli(["index", "reload"]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('index "x": missing field');
      const still = (await (await fetch(`${server.url}/indexes`)).json()) as { indexes: IndexInfo[] };
      expect(still.indexes.map((i) => i.name)).toEqual(["users_city2"]);
    } finally {
      await server.stop();
    }
  });

  test("rebuild waits for the new generation, with a progress bar only on a terminal; --json prints the final index", async () => {
    const plain = await cli(["index", "rebuild", "users_city"]);
    expect(plain.code).toBe(0);
    expect(plain.err).toBe("");
    expect(plain.out).toMatch(/^users_city: rebuilt, generation 2 ready in [\d.]+ s: 60 entries, 3 terms, \d+ blocks, 0 tombstones, .+\n$/);
    // More records than one build step takes, so the build is still running at the first look.
    const more = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ key: `user:x${i}`, value: '{"city":"Porto"}' })).join("\n");
    expect((await cli(["import", "-"], { stdin: more })).code).toBe(0);
    const tty = await cli(["index", "rebuild", "users_city"], { tty: true });
    expect(tty.err).toContain("\r\x1b[Krebuild users_city");
    expect(tty.out).toContain("generation 3 ready");
    const json = JSON.parse((await cli(["index", "rebuild", "users_city", "--json"])).out) as IndexInfo;
    expect(json).toMatchObject({ name: "users_city", state: "ready", generation: 4, rebuilding: null, live_entries: 1560 });
    const noWait = await cli(["index", "rebuild", "users_city", "--no-wait"]);
    expect(noWait.out).toBe("users_city: rebuild started (generation 5)\n");
  });

  test("rebuild through a running server polls it to completion", async () => {
    const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "none", indexesPath: indexes }, () => {});
    try {
      await server.db.waitForIndexes();
      const r = await cli(["index", "rebuild", "users_city", "--json", "--verbose"]);
      expect(r.err).toContain("going through");
      expect(JSON.parse(r.out)).toMatchObject({ state: "ready", generation: 2, rebuilding: null, live_entries: 60 });
      expect(server.db.getIndex("users_city")!.generation).toBe(2);
    } finally {
      await server.stop();
    }
  });

  test("unknown subcommands and wrong arguments are usage errors; an unknown index exits 1", async () => {
    for (const args of [["index", "frob"], ["index", "show"], ["index", "list", "extra"], ["index"]]) {
      const r = await cli(args);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
    }
    for (const args of [["index", "show", "nope"], ["index", "rebuild", "nope"]]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.err).toBe('kvdb: NOT_FOUND: no index named "nope"\n');
    }
  });
});

describe("the index definitions file of commands that open the directory", () => {
  test("a write made by the CLI maintains the declared indexes", async () => {
    expect((await cli(["set", "user:new", JSON.stringify({ city: "Braga" })])).code).toBe(0);
    const r = JSON.parse((await cli(["query", "--prefix", "user:", "--filter", '{"city":"Braga"}', "--json"])).out) as QueryItemsResponse;
    expect(r.plan.index).toBe("users_city");
    expect(r.items.map((i) => i.key)).toEqual(["user:new"]);
  });

  test("a bad file stops the command with the validation message", async () => {
    fs.writeFileSync(indexes, INDEXES.replace('"equality"', '"fulltext"'));
    const r = await cli(["get", "user:000"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`kvdb: INVALID_ARGUMENT: ${indexes}: index "users_city": unknown type "fulltext"; expected "equality" or "range"\n`);
  });

  test("default: ./indexes.toml when it exists in the working directory, else none; a given file is used as is", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
    try {
      expect(chooseIndexesFile(undefined, empty)).toEqual({ open: undefined, reload: path.join(empty, "indexes.toml") });
      expect(chooseIndexesFile(undefined, root)).toEqual({ open: indexes, reload: indexes });
      expect(chooseIndexesFile("other.toml", empty)).toEqual({ open: "other.toml", reload: "other.toml" });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test("without --indexes, a one-off command keeps the recorded registry whatever ./indexes.toml says", async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
    const before = process.cwd();
    try {
      fs.writeFileSync(path.join(elsewhere, "indexes.toml"), INDEXES.replaceAll("users_city", "other_index"));
      process.chdir(elsewhere);
      const io = captureIO();
      expect(await runCli(["set", "user:elsewhere", JSON.stringify({ city: "Elsewhere" }), "--data-dir", dir], io)).toBe(0);
    } finally {
      process.chdir(before);
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
    const list = JSON.parse((await cli(["index", "list", "--json"])).out) as Array<{ name: string }> | { indexes: Array<{ name: string }> };
    const names = (Array.isArray(list) ? list : list.indexes).map((i) => i.name);
    expect(names).toEqual(["users_city"]);
    const r = JSON.parse((await cli(["query", "--prefix", "user:", "--filter", '{"city":"Elsewhere"}', "--json"])).out) as QueryItemsResponse;
    expect(r.plan.index).toBe("users_city");
    expect(r.items.map((i) => i.key)).toEqual(["user:elsewhere"]);
  });

  test("kvdb stats shows the indexes", async () => {
    const r = await cli(["stats"]);
    expect(r.out).toMatch(/^indexes\s+1$/m);
    expect(r.out).toMatch(/^ {2}indexes\[users_city\]\s+type=equality .*live_entries=60/m);
    expect(JSON.parse((await cli(["stats", "--json"])).out).indexes[0].name).toBe("users_city");
  });
});

test("--sort FIELD[:asc|desc] becomes the request's sort", async () => {
  const { buildRequest } = await import("../../src/cli/commands/query.ts");
  expect(buildRequest({ sort: "age:desc" }).sort).toEqual({ age: -1 });
  expect(buildRequest({ sort: "age" }).sort).toEqual({ age: 1 });
  expect(buildRequest({ sort: "$['a:b']:asc" }).sort).toEqual({ "$['a:b']": 1 });
});
