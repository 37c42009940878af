import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { kvdb, serve, tempDir } from "./binary.ts";

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the binary's CLI on a directory no server holds", () => {
  test("set, get (raw bytes), del, scan, stats, compact; --verbose says the directory was opened directly", async () => {
    const d = ["--data-dir", dir];
    const set = await kvdb(["set", "greeting", "hello world", ...d, "--verbose"]);
    expect(set.code).toBe(0);
    expect(set.stderr).toContain("opened");
    const binary = new Uint8Array([0, 1, 2, 255, 10]);
    expect((await kvdb(["set", "bin", "-", ...d], { stdin: binary })).code).toBe(0);
    const get = await kvdb(["get", "greeting", ...d]);
    expect(get).toMatchObject({ code: 0, stdout: "hello world", stderr: "" });
    expect((await kvdb(["get", "bin", ...d])).stdoutBytes).toEqual(binary);
    const scan = await kvdb(["scan", ...d]);
    expect(scan.stdout).toBe("bin\tbase64:AAEC/wo=\ngreeting\thello world\n");
    const json = await kvdb(["scan", "--json", "--prefix", "gr", ...d]);
    expect(JSON.parse(json.stdout)).toEqual({ key: "greeting", value: "hello world" });
    expect((await kvdb(["del", "greeting", ...d])).code).toBe(0);
    expect((await kvdb(["del", "greeting", ...d])).code).toBe(0);
    const stats = await kvdb(["stats", "--json", ...d]);
    expect(JSON.parse(stats.stdout).dir).toBe(fs.realpathSync(dir));
    expect((await kvdb(["compact", ...d])).code).toBe(0);
  });

  test("a missing key exits 1 with one line on stderr; usage errors exit 2", async () => {
    const missing = await kvdb(["get", "nope", "--data-dir", dir]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe('kvdb: NOT_FOUND: key "nope" not found\n');
    for (const args of [["frobnicate"], ["get", "k", "--bogus"], ["get"], ["set", "only-key"], ["--nope"], ["scan", "--limit", "x"]]) {
      const r = await kvdb([...args, "--data-dir", dir]);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
  });

  test("--help for the program and each command, --version", async () => {
    const help = await kvdb(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["get", "set", "del", "scan", "query", "index", "batch", "import", "export", "stats", "compact", "serve"]) {
      expect(help.stdout).toContain(`  ${name} `);
      const sub = await kvdb([name, "--help"]);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toStartWith(`Usage: kvdb ${name}`);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dir, "../../package.json"), "utf8"));
    expect((await kvdb(["--version"])).stdout).toBe(`kvdb ${pkg.version}\n`);
  });

  test("export then import into another directory reproduces every entry, binary ones included", async () => {
    const lines = [
      JSON.stringify({ op: "set", key: "a", value: "1" }),
      JSON.stringify({ op: "set", key: "b/c", value_base64: "AP8=" }),
      JSON.stringify({ op: "set", key: "gone", value: "x" }),
      JSON.stringify({ op: "delete", key: "gone" }),
    ];
    const batch = await kvdb(["batch", "-", "--data-dir", dir], { stdin: lines.join("\n") + "\n" });
    expect(batch).toMatchObject({ code: 0, stdout: "applied 4 ops\n" });
    const exported = await kvdb(["export", "--data-dir", dir]);
    expect(exported.stdout).toBe('{"key":"a","value":"1"}\n{"key":"b/c","value_base64":"AP8="}\n');
    const other = tempDir();
    try {
      const file = path.join(other, "dump.ndjson");
      fs.writeFileSync(file, exported.stdout);
      const imported = await kvdb(["import", file, "--data-dir", path.join(other, "db")]);
      expect(imported).toMatchObject({ code: 0, stdout: "imported 2 keys\n", stderr: "" });
      expect((await kvdb(["export", "--data-dir", path.join(other, "db")])).stdout).toBe(exported.stdout);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test("a bad batch line fails with its line number and applies nothing", async () => {
    const r = await kvdb(["batch", "-", "--data-dir", dir], {
      stdin: '{"op":"set","key":"a","value":"1"}\n{"op":"set","key":"b"}\n',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("line 2");
    expect((await kvdb(["get", "a", "--data-dir", dir])).code).toBe(1);
  });

  test("a stale address record (its server is gone) is ignored", async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "SERVER"), JSON.stringify({ url: "http://127.0.0.1:1", pid: 999999, auth: false, version: "0" }));
    const r = await kvdb(["set", "k", "v", "--data-dir", dir, "--verbose"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("opened");
  });
});

describe("the binary's CLI while a server holds the directory", () => {
  test("commands go through the server (--verbose says so) and see the server's writes", async () => {
    const server = await serve(dir);
    try {
      await fetch(`${server.url}/kv/from-http`, { method: "PUT", body: "via REST" });
      const get = await kvdb(["get", "from-http", "--data-dir", dir, "--verbose"]);
      expect(get.code).toBe(0);
      expect(get.stdout).toBe("via REST");
      expect(get.stderr).toContain(`going through ${server.url}`);
      expect((await kvdb(["set", "from-cli", "via CLI", "--data-dir", dir])).code).toBe(0);
      expect(await (await fetch(`${server.url}/kv/from-cli`)).text()).toBe("via CLI");
      const quiet = await kvdb(["get", "from-cli", "--data-dir", dir]);
      expect(quiet.stderr).toBe("");
      const missing = await kvdb(["get", "nope", "--data-dir", dir]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("NOT_FOUND");
      const imported = await kvdb(["import", "-", "--data-dir", dir], { stdin: '{"key":"i1","value":"1"}\n{"key":"i2","value_base64":"/w=="}\n' });
      expect(imported.stdout).toBe("imported 2 keys\n");
      expect((await kvdb(["export", "--prefix", "i", "--data-dir", dir])).stdout).toBe('{"key":"i1","value":"1"}\n{"key":"i2","value_base64":"/w=="}\n');
      expect(JSON.parse((await kvdb(["stats", "--json", "--data-dir", dir])).stdout).dir).toBe(fs.realpathSync(dir));
      expect((await kvdb(["compact", "--data-dir", dir])).code).toBe(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // Once the server is gone the CLI opens the directory itself and sees the same data.
    const after = await kvdb(["get", "from-cli", "--data-dir", dir, "--verbose"]);
    expect(after.stdout).toBe("via CLI");
    expect(after.stderr).toContain("opened");
  });

  test("with an auth token: REST needs it (except /health), the CLI passes KVDB_AUTH_TOKEN, and says when it is missing", async () => {
    const server = await serve(dir, [], { KVDB_AUTH_TOKEN: "t0ken" });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect((await fetch(`${server.url}/kv/k`, { method: "PUT", body: "v" })).status).toBe(401);
      const ok = await fetch(`${server.url}/kv/k`, { method: "PUT", body: "v", headers: { authorization: "Bearer t0ken" } });
      expect(ok.status).toBe(204);
      expect(JSON.parse(fs.readFileSync(path.join(dir, "SERVER"), "utf8")).auth).toBe(true);
      expect(fs.readFileSync(path.join(dir, "SERVER"), "utf8")).not.toContain("t0ken");
      const withToken = await kvdb(["get", "k", "--data-dir", dir], { env: { KVDB_AUTH_TOKEN: "t0ken" } });
      expect(withToken).toMatchObject({ code: 0, stdout: "v" });
      const without = await kvdb(["get", "k", "--data-dir", dir]);
      expect(without.code).toBe(1);
      expect(without.stderr).toContain("KVDB_AUTH_TOKEN");
      const wrong = await kvdb(["get", "k", "--url", server.url, "--auth-token", "nope"]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("UNAUTHORIZED");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
