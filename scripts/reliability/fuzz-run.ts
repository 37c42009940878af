/**
 * @module
 * The HTTP fuzzer (`scripts/fuzz-http.ts`; a short version runs in `test/e2e/fuzz.test.ts`).
 * It starts its own `kvdb serve` (indexes declared), reads the operations from
 * `/swagger/json`, seeds a small keyspace, sends a fixed set of boundary requests and then
 * `requests` generated ones (fuzz-requests.ts), one at a time, checking each answer:
 *
 * - never a 5xx, never a lost connection or a crash (the process stays up, and a
 *   heartbeat `GET /health` every 100 ms keeps answering);
 * - every 4xx carries `{"error":{"code","message"}}` (except answers Bun gives itself to
 *   requests malformed at the HTTP level);
 * - valid requests are accepted and answer what the keyspace model predicts; requests
 *   known to be invalid are rejected;
 * - nothing changed by a rejected request: after every rejection the whole keyspace is
 *   listed and compared with the model (exact, since requests go one at a time);
 * - no request is slow (over `slowMs`), and the server's RSS is sampled.
 *
 * A violation is reported with the request that caused it, as a reproduction.
 */
import * as fs from "node:fs";
import { seededRandom } from "../../test/support/random.ts";
import { call, isErrorBody } from "./http.ts";
import { keyOfBytes, MAX_KEY_BYTES, MAX_VALUE_BYTES, nested } from "./fuzz-inputs.ts";
import { nextRequest, type FuzzRequest, type GeneratorState } from "./fuzz-requests.ts";
import { KeyspaceModel } from "./keyspace-model.ts";
import { operationsOf } from "./openapi-operations.ts";
import { rssKiB } from "./proc-stats.ts";
import { rawRequest } from "./raw-http.ts";
import { startServer, type ServerChild } from "./server-child.ts";

export interface FuzzOptions {
  requests: number;
  seed: number;
  dataDir: string;
  /** `kvdb` executable; undefined runs `bun src/main.ts`. */
  bin?: string;
  indexesFile: string;
  /** A request slower than this is a violation (default 2000 ms). */
  slowMs?: number;
  /** Per-request timeout: no answer by then is a hang (default 60 s). */
  timeoutMs?: number;
  /** Deepest JSON nesting generated (default 100,000 levels). */
  maxDepth?: number;
  log?: (line: string) => void;
}

export interface FuzzViolation {
  kind: string;
  label: string;
  detail: string;
  /** The request, enough to replay it by hand. */
  request: string;
}

export interface FuzzSummary {
  seed: number;
  /** Requests sent (boundary set + generated), by family, and by status. */
  requests: number;
  byFamily: Record<string, number>;
  statuses: Record<string, number>;
  serverErrors: number;
  /**
   * Answers Bun's HTTP layer gives before the app sees the request, without the JSON
   * error body: 431 for a request head over 16 KiB (a URL with a key far past 4096 bytes),
   * 505 for an unknown HTTP version. Counted, not violations: the app cannot answer them.
   */
  bareProtocolAnswers: number;
  accepted: number;
  rejected: number;
  /** Full keyspace comparisons with the model (after every rejection, and periodically). */
  keyspaceChecks: number;
  violationsByKind: Record<string, number>;
  /** Violations by kind and request kind (the label without its parameters), e.g. `5xx hostile.batch_nested`. */
  violationsBySource: Record<string, number>;
  /** The first violations, each with its request. */
  violations: FuzzViolation[];
  /** The slowest requests. */
  slowest: Array<{ label: string; ms: number; status: number; request: string }>;
  /** The slowest request of each kind (the label without its parameters), ms. */
  slowestByKind: Record<string, number>;
  heartbeat: { probes: number; failures: number; maxMs: number };
  rss: { startKiB: number; maxKiB: number; endKiB: number };
  crashes: number;
  seconds: number;
}

/** The request in a line: method, path and a preview of the body, enough to replay it. */
export function describeRequest(req: FuzzRequest): string {
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  if (req.raw) return `raw bytes over TCP: ${clip(JSON.stringify(Buffer.from(req.raw).toString("latin1")), 400)}`;
  let body = "";
  if (typeof req.body === "string") body = ` body ${clip(JSON.stringify(req.body), 300)}`;
  else if (req.body instanceof Uint8Array) {
    const head = Buffer.from(req.body.subarray(0, 200));
    body = ` body ${req.body.length} bytes, starting ${JSON.stringify(head.toString("latin1"))}`;
  } else if (req.body) body = " body streamed (chunked)";
  const headers = req.headers ? ` headers ${JSON.stringify(req.headers)}` : "";
  return `${req.method} ${clip(req.path, 300)}${headers}${body}`;
}

const POOL = [
  ...Array.from({ length: 30 }, (_, i) => `fz:${i}`),
  ...Array.from({ length: 30 }, (_, i) => `user:fz${i}`),
  "fz:ü/😀 ?#%", "fz: space", "fz:\u0000nul", "fz:a/b/c", "fz:.", "user:fz:é",
  "fz:" + "K".repeat(MAX_KEY_BYTES - 3),
];

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const log = o.log ?? (() => {});
  const slowMs = o.slowMs ?? 2000;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const started = performance.now();
  const r = seededRandom(o.seed);
  const model = new KeyspaceModel();
  const summary: FuzzSummary = {
    seed: o.seed, requests: 0, byFamily: {}, statuses: {}, serverErrors: 0, bareProtocolAnswers: 0, accepted: 0, rejected: 0, keyspaceChecks: 0,
    violationsByKind: {}, violationsBySource: {}, violations: [], slowest: [], slowestByKind: {}, heartbeat: { probes: 0, failures: 0, maxMs: 0 }, rss: { startKiB: 0, maxKiB: 0, endKiB: 0 }, crashes: 0, seconds: 0,
  };
  fs.mkdirSync(o.dataDir, { recursive: true });
  const serverOptions = { bin: o.bin, dataDir: o.dataDir, indexesFile: o.indexesFile, sync: "always" as const };
  let server: ServerChild = await startServer(serverOptions);
  const violation = (kind: string, req: FuzzRequest, detail: string) => {
    summary.violationsByKind[kind] = (summary.violationsByKind[kind] ?? 0) + 1;
    const source = `${kind} ${req.label.replace(/\(.*$/, "")}`;
    summary.violationsBySource[source] = (summary.violationsBySource[source] ?? 0) + 1;
    if (summary.violations.length < 50) summary.violations.push({ kind, label: req.label, detail, request: describeRequest(req) });
    if (summary.violationsByKind[kind] <= 3) log(`VIOLATION ${kind} (${req.label}): ${detail}\n  request: ${describeRequest(req)}`);
  };

  // Background probes: the heartbeat (is the server responsive?) and RSS samples.
  let running = true;
  const heartbeat = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status !== 200) summary.heartbeat.failures++;
      } catch {
        if (running) summary.heartbeat.failures++;
      }
      summary.heartbeat.probes++;
      summary.heartbeat.maxMs = Math.max(summary.heartbeat.maxMs, performance.now() - t0);
      await Bun.sleep(100);
    }
  })();
  const sampler = setInterval(() => {
    const kib = rssKiB(server.pid);
    if (kib !== undefined) summary.rss.maxKiB = Math.max(summary.rss.maxKiB, kib);
  }, 250);

  try {
    const doc = JSON.parse((await call(`${server.url}/swagger/json`)).text);
    const ops = operationsOf(doc);
    const indexNames = (JSON.parse((await call(`${server.url}/indexes`)).text) as { indexes: { name: string }[] }).indexes.map((i) => i.name);
    log(`fuzz: seed ${o.seed}, ${ops.length} operations from /swagger/json, indexes ${indexNames.join(", ") || "none"}`);

    // Seed the keyspace.
    const seedOps = POOL.map((key, i) => ({ op: "set", key, value: key.startsWith("user:") ? JSON.stringify({ city: ["PortoAlegre", "Recife", "Zürich"][i % 3], age: i, tags: ["a"] }) : `seed ${i}` }));
    const seeded = await call(`${server.url}/batch`, { method: "POST", body: JSON.stringify({ ops: seedOps }) });
    if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.status} ${seeded.text}`);
    for (const op of seedOps) model.set(op.key, op.value);
    summary.rss.startKiB = rssKiB(server.pid) ?? 0;

    const state: GeneratorState = { r, model, pool: POOL, indexNames, listCursors: [], queryCursors: [], maxBodyBytes: 32 * 1024 * 1024, maxDepth: o.maxDepth ?? 100_000 };
    const port = Number(new URL(server.url).port);

    const run = async (req: FuzzRequest) => {
      summary.requests++;
      const family = req.label.split(".")[0];
      summary.byFamily[family] = (summary.byFamily[family] ?? 0) + 1;
      let status: number;
      let body: string;
      let ms: number;
      try {
        // fetch refuses a body on GET and HEAD: such requests go over a bare socket.
        const raw = req.raw ?? ((req.method === "GET" || req.method === "HEAD") && req.body !== undefined ? rawOf(req) : undefined);
        if (raw) {
          const res = await rawRequest(port, raw, timeoutMs);
          [status, body, ms] = [res.status, res.body, res.ms];
        } else {
          const t0 = performance.now();
          const res = await fetch(server.url + req.path, {
            method: req.method,
            headers: req.headers,
            body: typeof req.body === "function" ? req.body() : req.body,
            signal: AbortSignal.timeout(timeoutMs),
          });
          body = await res.text();
          [status, ms] = [res.status, performance.now() - t0];
        }
      } catch (e) {
        if (!alive(server)) return crashed(req, `no answer: ${(e as Error).message}`);
        // An upload the server refused early may break the connection under the client: fine if it is still up.
        if (/over_max|over_16MiB/.test(req.label)) return;
        violation(/timed? ?out|abort/i.test((e as Error).message) ? "hang" : "connection_error", req, (e as Error).message);
        return;
      }
      summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;
      noteLatency(summary, req, status, ms);
      if (ms > slowMs) violation("slow", req, `answered ${status} after ${Math.round(ms)} ms`);
      const bare = body === "" && (status === 431 || (status === 505 && req.protocolLevel === true));
      if (bare) summary.bareProtocolAnswers++;
      if (status >= 500 && !bare) {
        summary.serverErrors++;
        violation("5xx", req, `${status} ${body.slice(0, 300)}`);
      } else if (status >= 400 && !bare && !req.protocolLevel && req.method !== "HEAD" && !isErrorBody(body)) {
        violation("bad_error_body", req, `${status} with body ${JSON.stringify(body.slice(0, 200))}`);
      }
      if (status === 0 && !req.protocolLevel) violation("no_response", req, "the connection closed without an answer");
      const ok = status >= 200 && status < 300;
      if (ok) summary.accepted++;
      else summary.rejected++;
      if (req.expect === "accept" && !ok) violation("valid_rejected", req, `${status} ${body.slice(0, 300)}`);
      if (req.expect === "reject" && ok) violation("invalid_accepted", req, `${status} ${body.slice(0, 300)}`);
      const wrong = req.check?.(status, body, model);
      if (wrong) violation("wrong_answer", req, wrong);
      if (!alive(server)) return crashed(req, `exited after answering ${status}`);

      if (ok && req.effect) {
        req.effect(model);
        if (req.verifyAfter) {
          summary.keyspaceChecks++;
          const diff = await model.diff(server.url);
          if (diff.length > 0) {
            violation("accepted_wrong_effect", req, `the keyspace differs from the intended effect: ${diff.slice(0, 5).join("; ")}`);
            await model.resync(server.url);
          }
        }
      } else if (ok && req.writes) {
        await model.resync(server.url);
      } else if (!ok) {
        summary.keyspaceChecks++;
        const diff = await model.diff(server.url);
        if (diff.length > 0) {
          violation("rejected_changed_data", req, `rejected with ${status}, yet: ${diff.slice(0, 5).join("; ")}`);
          await model.resync(server.url);
        }
      }
    };
    const crashed = async (req: FuzzRequest, detail: string) => {
      summary.crashes++;
      await server.proc.exited;
      violation("crash", req, `${detail}; server output: ${server.output().slice(-1500)}`);
      server = await startServer(serverOptions);
      await model.resync(server.url);
    };

    for (const req of boundaryRequests()) await run(req);
    let sinceCheck = 0;
    for (let i = summary.requests; i < o.requests; i++) {
      await run(nextRequest(ops, state));
      if (++sinceCheck >= 25) {
        sinceCheck = 0;
        summary.keyspaceChecks++;
        const drift = await model.diff(server.url);
        if (drift.length > 0) {
          violation("keyspace_drift", { label: "periodic check", method: "-", path: "-", expect: "any", writes: false }, drift.slice(0, 5).join("; "));
          await model.resync(server.url);
        }
      }
      if ((i + 1) % 1000 === 0) log(`fuzz: ${i + 1}/${o.requests} requests, ${summary.serverErrors} 5xx, violations ${JSON.stringify(summary.violationsByKind)}, ${Math.round((performance.now() - started) / 1000)} s`);
    }
    const health = await call(`${server.url}/health`, {}, 10_000);
    if (health.status !== 200) violation("crash", { label: "final health", method: "GET", path: "/health", expect: "accept", writes: false }, `final /health answered ${health.status}`);
  } finally {
    running = false;
    clearInterval(sampler);
    await heartbeat;
    summary.rss.endKiB = rssKiB(server.pid) ?? 0;
    const code = await server.stop();
    if (code !== 0) {
      summary.violationsByKind.shutdown_failed = 1;
      summary.violations.push({ kind: "shutdown_failed", label: "shutdown", detail: `exit code ${code}: ${server.output().slice(-1000)}`, request: "SIGTERM" });
    }
  }
  summary.seconds = Math.round((performance.now() - started) / 100) / 10;
  return summary;
}

/** `req` (with a string or byte body) as the bytes of an HTTP/1.1 request. */
function rawOf(req: FuzzRequest): Uint8Array {
  const body = typeof req.body === "string" ? Buffer.from(req.body) : req.body instanceof Uint8Array ? Buffer.from(req.body) : Buffer.alloc(0);
  const headers = Object.entries(req.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const head = `${req.method} ${req.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

function alive(server: ServerChild): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}

function noteLatency(summary: FuzzSummary, req: FuzzRequest, status: number, ms: number): void {
  const kind = req.label.replace(/\(.*$/, "");
  summary.slowestByKind[kind] = Math.max(summary.slowestByKind[kind] ?? 0, Math.round(ms * 10) / 10);
  const list = summary.slowest;
  if (list.length < 10 || ms > list[list.length - 1].ms) {
    list.push({ label: req.label, ms: Math.round(ms * 10) / 10, status, request: describeRequest(req).slice(0, 300) });
    list.sort((a, b) => b.ms - a.ms);
    list.length = Math.min(list.length, 10);
  }
}

/** Requests exactly at and just past each documented limit. */
function boundaryRequests(): FuzzRequest[] {
  const put = (label: string, key: string, body: Uint8Array | string, expect: "accept" | "reject"): FuzzRequest => ({
    label: `boundary.${label}`, method: "PUT", path: `/kv/${encodeURIComponent(key)}`, body, expect, writes: true,
    effect: (m) => m.set(key, body),
  });
  const del = (key: string): FuzzRequest => ({ label: "boundary.delete", method: "DELETE", path: `/kv/${encodeURIComponent(key)}`, expect: "accept", writes: true, effect: (m) => m.delete(key) });
  const post = (label: string, path: string, body: string, expect: "accept" | "reject" | "any"): FuzzRequest => ({ label: `boundary.${label}`, method: "POST", path, body, expect, writes: path === "/batch" });
  const get = (label: string, path: string, expect: "accept" | "reject"): FuzzRequest => ({ label: `boundary.${label}`, method: "GET", path, expect, writes: false });
  const maxAscii = keyOfBytes(MAX_KEY_BYTES);
  const maxMulti = keyOfBytes(MAX_KEY_BYTES, "multibyte");
  const deletes = (n: number) => JSON.stringify({ ops: Array.from({ length: n }, (_, i) => ({ op: "delete", key: `fz:none:${i}` })) });
  return [
    put("key_4096_bytes", maxAscii, "max", "accept"),
    put("key_4096_bytes_multibyte", maxMulti, "max", "accept"),
    put("key_4097_bytes", maxAscii + "K", "over", "reject"),
    put("key_4097_bytes_multibyte", maxMulti + "é", "over", "reject"),
    del(maxAscii),
    del(maxMulti),
    put("empty_value", "fz:empty", "", "accept"),
    put("value_16MiB", "fz:max-value", new Uint8Array(MAX_VALUE_BYTES), "accept"),
    del("fz:max-value"),
    put("value_16MiB_plus_1", "fz:max-value", new Uint8Array(MAX_VALUE_BYTES + 1), "reject"),
    post("batch_100000_ops", "/batch", deletes(100_000), "accept"),
    post("batch_100001_ops", "/batch", deletes(100_001), "reject"),
    post("batch_empty", "/batch", '{"ops":[]}', "accept"),
    get("list_limit_1000", "/kv?limit=1000", "accept"),
    get("list_limit_1001", "/kv?limit=1001", "reject"),
    get("list_limit_0", "/kv?limit=0", "reject"),
    get("list_limit_1", "/kv?limit=1", "accept"),
    post("query_limit_1000", "/query", '{"limit":1000}', "accept"),
    post("query_limit_1001", "/query", '{"limit":1001}', "reject"),
    post("query_depth_40", "/query", `{"filter":${nested("not", 40, '{"city":"A"}')}}`, "reject"),
    post("query_depth_10", "/query", `{"filter":${nested("not", 10, '{"city":"A"}')}}`, "accept"),
    post("query_in_1000", "/query", JSON.stringify({ filter: { city: { $in: Array.from({ length: 1000 }, (_, i) => `c${i}`) } } }), "accept"),
    post("query_in_1001", "/query", JSON.stringify({ filter: { city: { $in: Array.from({ length: 1001 }, (_, i) => `c${i}`) } } }), "reject"),
    get("key_empty", "/kv/", "reject"),
  ];
}

/** The summary as the lines the script prints. */
export function fuzzSummaryLines(s: FuzzSummary): string[] {
  const lines = [
    `fuzz: seed ${s.seed}, ${s.requests} requests in ${s.seconds} s (${Object.entries(s.byFamily).map(([f, n]) => `${n} ${f}`).join(", ")})`,
    `  statuses: ${Object.entries(s.statuses).sort().map(([st, n]) => `${st}×${n}`).join(" ")}`,
    `  accepted ${s.accepted}, rejected ${s.rejected}; ${s.keyspaceChecks} full keyspace comparisons with the model`,
    `  5xx: ${s.serverErrors}; bare protocol-level answers from Bun (431/505): ${s.bareProtocolAnswers}; crashes: ${s.crashes}; heartbeat: ${s.heartbeat.probes} probes, ${s.heartbeat.failures} failed, slowest ${Math.round(s.heartbeat.maxMs)} ms`,
    `  server RSS: ${Math.round(s.rss.startKiB / 1024)} MiB after seeding, max ${Math.round(s.rss.maxKiB / 1024)} MiB, end ${Math.round(s.rss.endKiB / 1024)} MiB`,
    `  slowest requests:`,
    ...s.slowest.slice(0, 5).map((w) => `    ${w.ms} ms ${w.status} ${w.label}: ${w.request.slice(0, 160)}`),
    `  slowest of each kind: ${Object.entries(s.slowestByKind).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, ms]) => `${k} ${ms} ms`).join(", ")}`,
    `  violations: ${Object.keys(s.violationsByKind).length === 0 ? "none" : JSON.stringify(s.violationsByKind)}`,
    ...Object.entries(s.violationsBySource).sort((a, b) => b[1] - a[1]).map(([source, n]) => `    ${n} × ${source}`),
  ];
  for (const v of s.violations.slice(0, 20)) lines.push(`  ! [${v.kind}] ${v.label}: ${v.detail.slice(0, 300)}\n      request: ${v.request.slice(0, 400)}`);
  return lines;
}
