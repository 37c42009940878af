import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { runFuzz } from "../../scripts/reliability/fuzz-run.ts";
import { rawRequest } from "../../scripts/reliability/raw-http.ts";
import { REPO_INDEXES_FILE } from "../../scripts/reliability/server-child.ts";
import { testSeed } from "../support/random.ts";
import { kvdbBinary, serve, tempDir } from "./binary.ts";

test("fuzzed requests from the OpenAPI document: no 5xx, no crash, error bodies, rejected requests change nothing", async () => {
  const seed = testSeed("fuzz-http");
  const bin = await kvdbBinary();
  const dir = tempDir();
  try {
    const s = await runFuzz({
      requests: Number(process.env.KVDB_FUZZ_REQUESTS ?? 400),
      seed,
      dataDir: path.join(dir, "data"),
      bin,
      indexesFile: REPO_INDEXES_FILE,
      // No timing assertions here: only a request that never answers counts (as a hang).
      slowMs: Infinity,
      // "Thousands of levels" without the minutes that 100,000 levels can take; the test below covers those.
      maxDepth: 5_000,
    });
    console.log(`[fuzz-http] seed=${seed}: ${s.requests} requests, statuses ${JSON.stringify(s.statuses)}, slowest ${s.slowest[0]?.ms} ms (${s.slowest[0]?.label})`);
    expect({ seed, violations: s.violations.map((v) => `[${v.kind}] ${v.label}: ${v.detail.slice(0, 200)} — ${v.request.slice(0, 200)}`) }).toEqual({ seed, violations: [] });
    expect(s.serverErrors).toBe(0);
    expect(s.crashes).toBe(0);
    // The run exercised both sides: accepted writes and rejections checked against the keyspace.
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.rejected).toBeGreaterThan(0);
    expect(s.keyspaceChecks).toBeGreaterThan(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

// Found by the fuzzer. Elysia locates the path in request.url by searching for "/" from
// character 11 on ("http://" + a host of at least 4 characters), so with a shorter Host
// header ("db", "kv", "x") the first path segment was skipped: PUT /kv/kv/fz wrote the
// key "fz" instead of "kv/fz", and every other route answered 404.
test("a short Host header does not change which key a request writes", async () => {
  const dir = tempDir();
  const server = await serve(dir, ["--indexes", REPO_INDEXES_FILE]);
  try {
    const port = Number(new URL(server.url).port);
    const put = `PUT /kv/kv/fz HTTP/1.1\r\nHost: db\r\nContent-Length: 5\r\nConnection: close\r\n\r\nvalue`;
    const res = await rawRequest(port, new TextEncoder().encode(put));
    expect(res.status).toBe(204);
    const listing = (await (await fetch(`${server.url}/kv`)).json()) as { items: { key: string }[] };
    expect(listing.items.map((i) => i.key)).toEqual(["kv/fz"]);
    const health = await rawRequest(port, new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n"));
    expect(health.status).toBe(200);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Found by the fuzzer. POST /batch validates its body with an Elysia schema; on failure
// Elysia's ValidationError pretty-prints the whole body (JSON.stringify(value, null, 2)),
// quadratic in the nesting depth: 20,000 levels (a 40 KB body) took ~10 s and 2.5 GB of
// RSS, 100,000 levels overflowed the stack and answered 500.
test("a POST /batch body nested 100,000 levels deep is refused with a 400, not a 500", async () => {
  const dir = tempDir();
  const server = await serve(dir, ["--indexes", REPO_INDEXES_FILE]);
  try {
    const depth = 100_000;
    const res = await fetch(`${server.url}/batch`, { method: "POST", body: `{"ops":${"[".repeat(depth)}${"]".repeat(depth)}}` });
    const body = (await res.json()) as { error: { code: string } };
    expect({ status: res.status, code: body.error.code }).toEqual({ status: 400, code: expect.stringMatching(/^INVALID_/) as unknown as string });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
