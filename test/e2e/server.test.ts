import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { kvdb, serve, tempDir, type ServeProcess } from "./binary.ts";

const enc = encodeURIComponent;

describe("kvdb serve (compiled binary)", () => {
  let dir: string;
  let server: ServeProcess;
  beforeAll(async () => {
    dir = tempDir();
    server = await serve(dir, ["--max-body-bytes", "100000"]);
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const http = (p: string, init?: RequestInit) => fetch(server.url + p, init);
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  test("logs one line with the address and the data dir, and records its address in the dir", async () => {
    expect(server.output()).toMatch(new RegExp(`^kvdb \\S+ listening on http://127\\.0\\.0\\.1:\\d+, data dir ${fs.realpathSync(dir)}`));
    const record = JSON.parse(fs.readFileSync(path.join(dir, "SERVER"), "utf8"));
    expect(record).toEqual({ url: server.url, pid: server.proc.pid, auth: false, version: expect.any(String) });
  });

  test("health, put/get/delete with special keys and binary values", async () => {
    expect((await http("/health")).status).toBe(200);
    const keys = ["a/b", "with space", "c:d", "q?x=1", "h#1", "ünï ✓ 😀", "%2F", "/"];
    const binary = new Uint8Array(256).map((_, i) => i);
    for (const key of keys) expect((await http(`/kv/${enc(key)}`, { method: "PUT", body: binary })).status).toBe(204);
    for (const key of keys) {
      const res = await http(`/kv/${enc(key)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(binary);
    }
    for (const key of keys) expect((await http(`/kv/${enc(key)}`, { method: "DELETE" })).status).toBe(204);
    const missing = await http(`/kv/${enc("a/b")}`);
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe("NOT_FOUND");
  });

  test("scan pagination over a few hundred keys has no duplicates and no gaps", async () => {
    const ops = Array.from({ length: 350 }, (_, i) => ({ op: "set", key: `page:${String(i).padStart(4, "0")}`, value: String(i) }));
    expect((await http("/batch", { method: "POST", body: JSON.stringify({ ops }) })).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await http(`/kv?prefix=page:&limit=33${cursor ? `&cursor=${cursor}` : ""}`);
      const page = (await res.json()) as { items: { key: string; value: string }[]; next_cursor: string | null };
      seen.push(...page.items.map((i) => i.key));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ops.map((o) => o.key));
  });

  test("a batch with one bad op is 400 and applies nothing", async () => {
    const res = await http("/batch", {
      method: "POST",
      body: JSON.stringify({ ops: [{ op: "set", key: "atomic", value: "1" }, { op: "set", key: "" , value: "x" }] }),
    });
    expect(res.status).toBe(400);
    expect((await http("/kv/atomic")).status).toBe(404);
  });

  test("bad inputs: bad JSON 400, unknown route 404, oversized body 413 — all with the JSON error body", async () => {
    const badJson = await http("/batch", { method: "POST", body: "{nope" });
    expect(badJson.status).toBe(400);
    expect(await errorCode(badJson)).toBe("INVALID_JSON");
    const route = await http("/nope");
    expect(route.status).toBe(404);
    expect(await errorCode(route)).toBe("ROUTE_NOT_FOUND");
    const big = await http("/kv/big", { method: "PUT", body: new Uint8Array(200_000) });
    expect(big.status).toBe(413);
    expect(await errorCode(big)).toBe("TOO_LARGE");
    const limit = await http("/kv?limit=5000");
    expect(limit.status).toBe(400);
    expect(await errorCode(limit)).toBe("INVALID_ARGUMENT");
  });

  test("stats, metrics and compact", async () => {
    const stats = (await (await http("/stats")).json()) as { dir: string; sync: string };
    expect(stats.dir).toBe(fs.realpathSync(dir));
    expect(stats.sync).toBe("always");
    const metrics = await (await http("/metrics")).text();
    expect(metrics).toContain("kvdb_http_requests_total{");
    expect(metrics).toContain("kvdb_wal_syncs ");
    const compact = await http("/compact", { method: "POST" });
    expect(compact.status).toBe(200);
    expect(((await compact.json()) as { compacted: boolean }).compacted).toBe(true);
  });

  test("/swagger works offline: no external URL in the page, its assets load, the document lists every path", async () => {
    const html = await (await http("/swagger")).text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBe(2);
    for (const asset of assets) {
      expect(asset.startsWith("/")).toBe(true);
      const res = await http(asset);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
    const doc = (await (await http("/swagger/json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/backup",
      "/batch",
      "/check",
      "/compact",
      "/health",
      "/indexes",
      "/indexes/rebuild/{name}",
      "/indexes/reload",
      "/indexes/{name}",
      "/kv",
      "/kv/{key}",
      "/metrics",
      "/query",
      "/stats",
    ]);
  });
});

test("SIGTERM closes cleanly (exit 0, address record removed) and the data is there after a restart", async () => {
  const dir = tempDir();
  try {
    const first = await serve(dir);
    expect((await fetch(`${first.url}/kv/persist`, { method: "PUT", body: "yes" })).status).toBe(204);
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain("SIGTERM");
    expect(fs.existsSync(path.join(dir, "SERVER"))).toBe(false);
    const second = await serve(dir);
    expect(await (await fetch(`${second.url}/kv/persist`)).text()).toBe("yes");
    expect(await second.stop()).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("SIGTERM lets a request in flight finish before closing the database", async () => {
  const dir = tempDir();
  try {
    const server = await serve(dir);
    const body = new TransformStream<Uint8Array, Uint8Array>();
    const writer = body.writable.getWriter();
    const put = fetch(`${server.url}/kv/slow`, { method: "PUT", body: body.readable, duplex: "half" } as RequestInit);
    await writer.write(new TextEncoder().encode("first half, "));
    await Bun.sleep(150);
    server.proc.kill("SIGTERM");
    await Bun.sleep(150);
    await writer.write(new TextEncoder().encode("second half"));
    await writer.close();
    expect((await put).status).toBe(204);
    expect(await server.proc.exited).toBe(0);
    const again = await serve(dir);
    expect(await (await fetch(`${again.url}/kv/slow`)).text()).toBe("first half, second half");
    expect(await again.stop()).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("refuses a non-loopback bind without a token, with a one-line error", async () => {
  const dir = tempDir();
  try {
    const r = await kvdb(["serve", "--data-dir", dir, "--host", "0.0.0.0", "--port", "0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(r.stderr).toContain("--insecure");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
