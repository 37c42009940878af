/**
 * @module
 * HTTP benchmark: GET and PUT throughput and p50/p99 latency at 64 connections against
 * `kvdb serve` (sync always), side by side with a bare `Bun.serve` that answers a
 * constant (the ceiling of the HTTP layer on this machine), plus durable PUT from one
 * connection to show what group commit buys. Everything runs on loopback; the load comes
 * from a separate Bun process running a bounded loop of fetches that stops by itself.
 *
 * Usage: bun scripts/bench-http.ts [--seconds 2] [--rounds 3] [--connections 64] [--keys 10000] [--value-bytes 100]
 *
 * The machine is shared and noisy: each scenario runs `--rounds` times, interleaved with
 * the others (bare and kvdb alternate), and the median round is reported.
 *
 * Targets (issue 3): kvdb GET >= 70% of the bare server's throughput; 64-connection
 * durable PUT >= 10x the single-connection durable PUT rate.
 *
 * Roles (internal): `--role bare` runs the bare server, `--role load` the load generator.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
    keys: { type: "string", default: "10000" },
    "value-bytes": { type: "string", default: "100" },
    // load-generator parameters
    url: { type: "string" },
    method: { type: "string" },
    prefix: { type: "string" },
  },
  strict: true,
});

const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const keyCount = Number(values.keys);
const valueBytes = Number(values["value-bytes"]);

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** The bare server: a constant answer, reading the body of a PUT so the comparison is fair. */
async function bareServer(): Promise<void> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: false,
    async fetch(req) {
      if (req.method === "PUT") await req.arrayBuffer();
      return new Response("ok");
    },
  });
  console.log(`listening on http://127.0.0.1:${server.port},`);
  await new Promise(() => {});
}

/** `connections` loops of sequential fetches until the deadline; prints a LoadResult as JSON. */
async function loadGenerator(): Promise<void> {
  const url = values.url!;
  const method = values.method ?? "GET";
  const prefix = values.prefix ?? "bench";
  const body = new Uint8Array(valueBytes).fill(120);
  const warmupMs = 300;
  const started = performance.now();
  const measureFrom = started + warmupMs;
  const deadline = measureFrom + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const loop = async (c: number) => {
    for (let i = 0; ; i++) {
      const t0 = performance.now();
      if (t0 >= deadline) return;
      const key = method === "GET" ? `bench${(c * 7919 + i * 104729) % keyCount}` : `${prefix}${c}-${counter++}`;
      const res = await fetch(`${url}${method === "BARE" ? "" : `/kv/${key}`}`, { method: method === "BARE" ? "GET" : method, body: method === "PUT" ? body : undefined });
      await res.arrayBuffer();
      const t1 = performance.now();
      if (!res.ok) errors++;
      if (t0 >= measureFrom) latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, c) => loop(c)));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const result: LoadResult = { requests: latencies.length, errors, seconds, p50: q(0.5), p99: q(0.99) };
  console.log(JSON.stringify(result));
}

async function startProcess(cmd: string[]): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited: ${text}`);
    text += new TextDecoder().decode(value);
    const m = /listening on (http:\/\/\S+?),/.exec(text);
    if (m) {
      // Drain the rest of its output in the background.
      (async () => {
        while (!(await reader.read()).done);
      })();
      return { url: m[1], proc };
    }
  }
}

async function load(url: string, method: string, conns: number, prefix = "bench"): Promise<LoadResult> {
  const proc = Bun.spawn(
    [process.execPath, import.meta.path, "--role", "load", "--url", url, "--method", method, "--prefix", prefix,
      "--connections", String(conns), "--seconds", String(seconds), "--keys", String(keyCount), "--value-bytes", String(valueBytes)],
    { stdout: "pipe", stderr: "inherit" },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`load generator failed: ${out}`);
  return JSON.parse(out) as LoadResult;
}

async function main(): Promise<void> {
  const root = path.resolve(import.meta.dir, "..");
  // The compiled binary, freshly built so it runs the current sources.
  const build = Bun.spawnSync([process.execPath, path.join(root, "scripts/build.ts")], { stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("build failed");
  const kvdbCmd = [path.join(root, "dist/kvdb")];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvdb-bench-http-"));
  const bare = await startProcess([process.execPath, import.meta.path, "--role", "bare"]);
  const kvdb = await startProcess([...kvdbCmd, "serve", "--data-dir", dir, "--port", "0", "--sync", "always"]);
  try {
    console.log(`kvdb: ${kvdbCmd.join(" ")} serve (sync always), data dir ${dir}`);
    console.log(`${os.cpus().length} CPUs, ${connections} connections, ${seconds}s per run, ${rounds} rounds (median shown), ${keyCount} keys of ${valueBytes} bytes\n`);
    // Preload the keys the GET runs read.
    const value = "x".repeat(valueBytes);
    for (let i = 0; i < keyCount; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(keyCount, i + 1000); j++) ops.push({ op: "set", key: `bench${j}`, value });
      const res = await fetch(`${kvdb.url}/batch`, { method: "POST", body: JSON.stringify({ ops }) });
      if (!res.ok) throw new Error(`preload failed: ${res.status}`);
    }

    const scenarios: { name: string; url: string; method: string; conns: number; prefix?: string }[] = [
      { name: `bare Bun.serve GET (${connections} conn)`, url: bare.url, method: "BARE", conns: connections },
      { name: `kvdb GET /kv/{key} (${connections} conn)`, url: kvdb.url, method: "GET", conns: connections },
      { name: `bare Bun.serve PUT (${connections} conn)`, url: bare.url, method: "PUT", conns: connections },
      { name: `kvdb durable PUT (${connections} conn)`, url: kvdb.url, method: "PUT", conns: connections, prefix: "p64-" },
      { name: "kvdb durable PUT (1 conn)", url: kvdb.url, method: "PUT", conns: 1, prefix: "p1-" },
    ];
    const results = scenarios.map(() => [] as LoadResult[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, sc] of scenarios.entries()) results[i].push(await load(sc.url, sc.method, sc.conns, `${sc.prefix ?? "bench"}${round}-`));
    }
    const rate = (r: LoadResult) => r.requests / r.seconds;
    const median = scenarios.map((_, i) => {
      const sorted = [...results[i]].sort((a, b) => rate(a) - rate(b));
      return sorted[Math.floor(sorted.length / 2)];
    });
    for (const [i, sc] of scenarios.entries()) {
      const r = median[i];
      const all = results[i].map((x) => rate(x).toFixed(0)).join(", ");
      console.log(
        `${sc.name.padEnd(34)} ${rate(r).toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   (rounds: ${all})${r.errors ? `  ${r.errors} errors` : ""}`,
      );
    }
    const [bareGet, kvGet, barePut, kvPut, kvPut1] = median.map(rate);
    const stats = (await (await fetch(`${kvdb.url}/stats`)).json()) as { wal: { batchesWritten: number; syncs: number } };

    console.log("");
    const getRatio = kvGet / bareGet;
    const groupRatio = kvPut / kvPut1;
    console.log(`GET: kvdb / bare = ${(getRatio * 100).toFixed(0)}%   (target >= 70%)  ${getRatio >= 0.7 ? "MET" : "NOT MET"}`);
    console.log(`PUT: kvdb / bare = ${((kvPut / barePut) * 100).toFixed(0)}%   (durable vs. no storage at all; for reference)`);
    console.log(`durable PUT: ${connections} conn / 1 conn = ${groupRatio.toFixed(1)}x   (target >= 10x)  ${groupRatio >= 10 ? "MET" : "NOT MET"}`);
    console.log(`WAL: ${stats.wal.batchesWritten} batches in ${stats.wal.syncs} syncs (${(stats.wal.batchesWritten / Math.max(1, stats.wal.syncs)).toFixed(1)} per fdatasync)`);
  } finally {
    bare.proc.kill("SIGKILL");
    kvdb.proc.kill("SIGTERM");
    await kvdb.proc.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (values.role === "bare") await bareServer();
else if (values.role === "load") await loadGenerator();
else await main();
