import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../src/cli/run.ts";
import { openDatabase } from "../../src/db.ts";
import { startServer } from "../../src/server/serve.ts";
import { captureIO } from "./capture.ts";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], options: Parameters<typeof captureIO>[0] = {}) {
  const io = captureIO(options);
  const code = await runCli([...args, "--data-dir", dir], io);
  return { code, out: io.out(), err: io.err(), bytes: io.outBytes() };
}

test("no command prints the help on stderr and exits 2", async () => {
  const io = captureIO();
  expect(await runCli([], io)).toBe(2);
  expect(io.err()).toContain("Usage: kvdb <command>");
});

test("--json output of the write commands", async () => {
  expect(await cli(["set", "k", "v", "--json"])).toMatchObject({ code: 0, out: '{"ok":true}\n' });
  expect((await cli(["get", "k", "--json"])).out).toBe('{"key":"k","value":"v"}\n');
  expect((await cli(["batch", "-", "--json"], { stdin: '{"op":"delete","key":"k"}\n' })).out).toBe('{"applied":1}\n');
  expect((await cli(["import", "-", "--json"], { stdin: '{"key":"a","value":"1"}' })).out).toBe('{"imported":1}\n');
  expect((await cli(["del", "a", "--json"])).out).toBe('{"ok":true}\n');
  expect(JSON.parse((await cli(["compact", "--json"])).out).compacted).toBe(true);
});

test("scan's default limit and --limit 0; a notice on stderr when output was cut", async () => {
  const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ key: `k${String(i).padStart(3, "0")}`, value: "v" })).join("\n");
  await cli(["import", "-"], { stdin: lines });
  const limited = await cli(["scan"]);
  expect(limited.out.trim().split("\n").length).toBe(100);
  expect(limited.err).toContain("--limit");
  const all = await cli(["scan", "--limit", "0"]);
  expect(all.out.trim().split("\n").length).toBe(150);
  expect(all.err).toBe("");
  expect((await cli(["scan", "--contains", "14", "--limit", "0"])).out).toBe("k014\tv\nk114\tv\nk140\tv\nk141\tv\nk142\tv\nk143\tv\nk144\tv\nk145\tv\nk146\tv\nk147\tv\nk148\tv\nk149\tv\n");
});

test("import and export draw a progress bar only when stderr is a terminal", async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ key: `p${i}`, value: "v" })).join("\n");
  const quiet = await cli(["import", "-"], { stdin: lines, tty: false });
  expect(quiet.err).toBe("");
  const onTty = await cli(["import", "-"], { stdin: lines, tty: true });
  expect(onTty.err).toContain("import");
  expect(onTty.err).toContain("\r");
  expect((await cli(["export"], { tty: false })).err).toBe("");
  expect((await cli(["export"], { tty: true })).err).toContain("export");
});

test("a directory held by a process that recorded no server address: LOCKED, exit 1", async () => {
  const db = await openDatabase(dir);
  try {
    const r = await cli(["get", "k"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("LOCKED");
    expect(r.err).toContain("--url");
  } finally {
    await db.close();
  }
});

test("a directory held by a server: the CLI goes through it, --verbose names the URL", async () => {
  const server = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, sync: "always" }, () => {});
  try {
    expect((await cli(["set", "k", "v"])).code).toBe(0);
    const r = await cli(["get", "k", "--verbose"]);
    expect(r.out).toBe("v");
    expect(r.err).toContain(`going through ${server.url}`);
    expect(await server.db.get("k")).toEqual(new TextEncoder().encode("v"));
  } finally {
    await server.stop();
  }
  expect(fs.existsSync(path.join(dir, "SERVER"))).toBe(false);
});
