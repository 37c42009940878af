/**
 * @module
 * An HTTP load generator for latency under changing conditions, run as its own process
 * (as in scripts/bench-http.ts) so its work is not charged to the server's event loop.
 *
 * It keeps `getConnections` loops of sequential `GET /kv/{key}` (keys read from a file,
 * one per line, visited in a per-connection stride) and `putConnections` loops of
 * `PUT /kv/{key}` (fresh keys `bench-put:<conn>:<i>`, a fixed ~150-byte JSON body) busy
 * until told to stop. The controlling process names phases on the generator's stdin
 * (`phase <name>` lines, then `stop`); each request's latency is charged to the phase in
 * which it started. On `stop` it lets in-flight requests finish and prints one JSON
 * {@link LoadReport} line: per phase and method the request count, errors, p50/p90/p99/
 * p99.9/max, and a per-second timeline of p99 and request count.
 *
 * {@link startLoad} is the controlling side.
 */
import * as fs from "node:fs";
import * as readline from "node:readline";
import { parseArgs } from "node:util";

export interface LatencySummary {
  requests: number;
  errors: number;
  seconds: number;
  perSec: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** One entry per second of the phase: requests started and their p99 (ms). */
  timeline: Array<{ requests: number; p99: number }>;
}

export interface LoadReport {
  getConnections: number;
  putConnections: number;
  /** Phase name → method → latencies. */
  phases: Record<string, Record<string, LatencySummary>>;
}

export interface LoadOptions {
  url: string;
  /** File with one key per line to GET. */
  keysFile: string;
  getConnections: number;
  putConnections: number;
}

export interface LoadHandle {
  /** Starts charging requests to phase `name` (the generator's first phase is "warmup"). */
  phase(name: string): void;
  /** Stops the load and returns the report. */
  stop(): Promise<LoadReport>;
}

/** Spawns the generator process; it starts loading at once, in phase "warmup". */
export function startLoad(o: LoadOptions): LoadHandle {
  const proc = Bun.spawn(
    [process.execPath, import.meta.path, "--url", o.url, "--keys-file", o.keysFile, "--get", String(o.getConnections), "--put", String(o.putConnections)],
    { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
  );
  const out = new Response(proc.stdout).text();
  const send = (line: string): void => {
    proc.stdin.write(line + "\n");
    void proc.stdin.flush();
  };
  return {
    phase: (name) => send(`phase ${name}`),
    async stop() {
      send("stop");
      void proc.stdin.end();
      const text = await out;
      if ((await proc.exited) !== 0) throw new Error(`load generator failed: ${text}`);
      return JSON.parse(text.trim().split("\n").pop() ?? "") as LoadReport;
    },
  };
}

interface Bucket {
  started: number;
  ended: number;
  /** method → [request start (ms since phase start), latency] pairs. */
  samples: Map<string, number[]>;
  errors: Map<string, number>;
}

const PUT_BODY = JSON.stringify({
  name: "Olivia Smith",
  email: "olivia.smith.0@example.com",
  phone: "+1-555-0000000",
  city: "Amsterdam",
  age: 42,
  ts: 1_750_000_000_000,
  active: true,
});

function summarize(bucket: Bucket, method: string): LatencySummary {
  const pairs = bucket.samples.get(method) ?? [];
  const count = pairs.length / 2;
  const lat = new Float64Array(count);
  for (let i = 0; i < count; i++) lat[i] = pairs[2 * i + 1];
  lat.sort();
  const q = (p: number): number => (count === 0 ? NaN : lat[Math.min(count - 1, Math.floor(p * count))]);
  const seconds = (bucket.ended - bucket.started) / 1000;
  const perSecond: number[][] = [];
  for (let i = 0; i < count; i++) {
    const s = Math.floor(pairs[2 * i] / 1000);
    (perSecond[s] ??= []).push(pairs[2 * i + 1]);
  }
  const timeline = Array.from(perSecond, (xs = []) => {
    xs.sort((a, b) => a - b);
    return { requests: xs.length, p99: xs.length ? xs[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))] : NaN };
  });
  return {
    requests: count,
    errors: bucket.errors.get(method) ?? 0,
    seconds,
    perSec: seconds > 0 ? count / seconds : 0,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    p999: q(0.999),
    max: count ? lat[count - 1] : NaN,
    timeline,
  };
}

async function generate(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: "string" }, "keys-file": { type: "string" }, get: { type: "string" }, put: { type: "string" } },
    strict: true,
  });
  const url = values.url!;
  const keys = fs.readFileSync(values["keys-file"]!, "utf8").split("\n").filter((k) => k !== "").map(encodeURIComponent);
  if (keys.length === 0) throw new Error("no keys to GET");
  const getConns = Number(values.get);
  const putConns = Number(values.put);

  const buckets = new Map<string, Bucket>();
  let current: Bucket = { started: performance.now(), ended: 0, samples: new Map(), errors: new Map() };
  buckets.set("warmup", current);
  let stopping = false;
  const switchTo = (name: string): void => {
    const now = performance.now();
    current.ended = now;
    current = { started: now, ended: 0, samples: new Map(), errors: new Map() };
    buckets.set(name, current);
  };
  const stopped = new Promise<void>((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on("line", (line) => {
      if (line.startsWith("phase ")) switchTo(line.slice(6).trim());
      else if (line.trim() === "stop") {
        stopping = true;
        current.ended = performance.now();
        rl.close();
        resolve();
      }
    });
    rl.on("close", () => {
      stopping = true;
      resolve();
    });
  });

  const loop = async (method: "GET" | "PUT", c: number): Promise<void> => {
    // Co-prime strides spread the connections over the key list.
    let k = (c * 7919) % keys.length;
    for (let i = 0; !stopping; i++) {
      const bucket = current;
      const t0 = performance.now();
      let ok = false;
      try {
        const res =
          method === "GET"
            ? await fetch(`${url}/kv/${keys[k]}`)
            : await fetch(`${url}/kv/bench-put:${c}:${i}`, { method: "PUT", body: PUT_BODY, headers: { "content-type": "application/octet-stream" } });
        await res.arrayBuffer();
        ok = res.ok;
      } catch {
        await Bun.sleep(10); // the server is gone or refusing: do not spin
      }
      const t1 = performance.now();
      if (ok) {
        let s = bucket.samples.get(method);
        if (!s) bucket.samples.set(method, (s = []));
        s.push(t0 - bucket.started, t1 - t0);
      } else bucket.errors.set(method, (bucket.errors.get(method) ?? 0) + 1);
      k = (k + 104729) % keys.length;
    }
  };
  const loops = [
    ...Array.from({ length: getConns }, (_, c) => loop("GET", c)),
    ...Array.from({ length: putConns }, (_, c) => loop("PUT", c)),
  ];
  await stopped;
  await Promise.all(loops);

  const report: LoadReport = { getConnections: getConns, putConnections: putConns, phases: {} };
  for (const [name, bucket] of buckets) {
    const methods: Record<string, LatencySummary> = {};
    for (const method of ["GET", "PUT"]) if ((method === "GET" ? getConns : putConns) > 0) methods[method] = summarize(bucket, method);
    report.phases[name] = methods;
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

if (import.meta.main) await generate();
