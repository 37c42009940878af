/**
 * @module
 * The soak (`scripts/soak.ts`): `kvdb serve` (sync always, indexes declared) on a
 * preloaded, bounded keyspace under the mixed load of soak-workload.ts at `connections`
 * concurrent connections for `minutes`. Every window (10 s) gives throughput, p50/p99/max
 * latency and errors; every sample (2 s) the server's RSS and open descriptors.
 *
 * Verdicts, judged after a warm-up (the first 10% of the run, at least one window):
 * - **throughput steady**: the mean of the last quarter of windows is at least 75% of the
 *   mean of the first quarter, and no window falls below 25% of the median;
 * - **RSS bounded**: the median RSS of the last quarter of samples exceeds that of the
 *   first quarter by less than max(64 MiB, 20%);
 * - **no fd leak**: the most descriptors in the last quarter exceed the most in the first
 *   quarter by at most 16 (sockets are constant; WAL and table files come and go).
 */
import { seededRandom } from "../../test/support/random.ts";
import { LatencyWindows, type WindowStats } from "./latency-window.ts";
import { openFds, rssKiB } from "./proc-stats.ts";
import { startServer } from "./server-child.ts";
import { runSoakLoad, soakRecord, type SoakCounters } from "./soak-workload.ts";

export interface SoakOptions {
  minutes: number;
  connections: number;
  /** Keys in the bounded keyspace (default 50,000). */
  keys?: number;
  seed: number;
  dataDir: string;
  bin?: string;
  indexesFile: string;
  windowSeconds?: number;
  sampleSeconds?: number;
  log?: (line: string) => void;
}

export interface ResourceSample {
  seconds: number;
  rssKiB: number;
  fds: number;
}

export interface SoakSummary {
  seed: number;
  minutes: number;
  connections: number;
  keys: number;
  requests: number;
  errors: number;
  serverErrors: number;
  errorSamples: string[];
  windows: WindowStats[];
  samples: ResourceSample[];
  /** After warm-up: mean throughput of the first and last quarters of windows (req/s). */
  throughput: { firstQuarter: number; lastQuarter: number; minWindow: number; median: number; steady: boolean };
  rss: { startKiB: number; endKiB: number; maxKiB: number; firstQuarterMedianKiB: number; lastQuarterMedianKiB: number; bounded: boolean };
  fds: { start: number; end: number; max: number; firstQuarterMax: number; lastQuarterMax: number; leaking: boolean };
  p99: { firstWindow: number; lastWindow: number; worstWindow: number };
  /** The server's engine figures at the end (`GET /stats`): tables, flushes, compactions. */
  finalStats: unknown;
  seconds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};
const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const quarters = <T>(xs: T[]): [T[], T[]] => {
  const q = Math.max(1, Math.floor(xs.length / 4));
  return [xs.slice(0, q), xs.slice(-q)];
};

export async function runSoak(o: SoakOptions): Promise<SoakSummary> {
  const log = o.log ?? (() => {});
  const keys = o.keys ?? 50_000;
  const windowMs = (o.windowSeconds ?? 10) * 1000;
  const sampleMs = (o.sampleSeconds ?? 2) * 1000;
  const server = await startServer({ bin: o.bin, dataDir: o.dataDir, indexesFile: o.indexesFile, sync: "always" });
  try {
    // Preload the whole keyspace, so reads hit and the data set does not grow during the run.
    const r = seededRandom(o.seed);
    for (let i = 0; i < keys; i += 1000) {
      const ops = Array.from({ length: Math.min(1000, keys - i) }, (_, j) => ({ op: "set", key: `user:${i + j}`, value: soakRecord(r, i + j) }));
      const res = await fetch(`${server.url}/batch`, { method: "POST", body: JSON.stringify({ ops }) });
      if (res.status !== 200) throw new Error(`preload failed: ${res.status} ${await res.text()}`);
    }
    log(`soak: ${keys} keys preloaded; ${o.connections} connections for ${o.minutes} min against ${server.url} (pid ${server.pid})`);

    const started = performance.now();
    const endAt = started + o.minutes * 60_000;
    const windows = new LatencyWindows(started);
    const samples: ResourceSample[] = [];
    const counters: SoakCounters = { errors: 0, serverErrors: 0, samples: [] };
    const sample = () => {
      const rss = rssKiB(server.pid);
      const fds = openFds(server.pid);
      if (rss !== undefined && fds !== undefined) samples.push({ seconds: Math.round((performance.now() - started) / 100) / 10, rssKiB: rss, fds });
    };
    sample();
    const sampler = setInterval(sample, sampleMs);
    const roller = setInterval(() => {
      const w = windows.roll(performance.now());
      const last = samples[samples.length - 1];
      log(`t=${w.endSeconds}s ${w.perSecond} req/s p50 ${w.p50} ms p99 ${w.p99} ms max ${w.max} ms errors ${w.errors} | RSS ${Math.round((last?.rssKiB ?? 0) / 1024)} MiB fds ${last?.fds}`);
    }, windowMs);
    await runSoakLoad(server.url, o.connections, keys, o.seed, windows, () => performance.now() >= endAt, counters);
    clearInterval(sampler);
    clearInterval(roller);
    sample();
    const finalStats = await (await fetch(`${server.url}/stats`)).json();
    return summarize(o, keys, windows.closed, samples, counters, finalStats, (performance.now() - started) / 1000);
  } finally {
    const code = await server.stop();
    if (code !== 0) log(`soak: the server exited ${code} on SIGTERM:\n${server.output()}`);
  }
}

function summarize(o: SoakOptions, keys: number, all: WindowStats[], allSamples: ResourceSample[], counters: SoakCounters, finalStats: unknown, seconds: number): SoakSummary {
  const warmupSeconds = Math.max(o.windowSeconds ?? 10, seconds * 0.1);
  const windows = all.filter((w) => w.endSeconds > warmupSeconds);
  const samples = allSamples.filter((s) => s.seconds > warmupSeconds);
  const [firstW, lastW] = quarters(windows);
  const rates = windows.map((w) => w.perSecond);
  const [firstS, lastS] = quarters(samples);
  const firstRss = median(firstS.map((s) => s.rssKiB));
  const lastRss = median(lastS.map((s) => s.rssKiB));
  const firstFds = Math.max(...firstS.map((s) => s.fds));
  const lastFds = Math.max(...lastS.map((s) => s.fds));
  const throughput = {
    firstQuarter: Math.round(mean(firstW.map((w) => w.perSecond))),
    lastQuarter: Math.round(mean(lastW.map((w) => w.perSecond))),
    minWindow: Math.min(...rates),
    median: median(rates),
    steady: false,
  };
  throughput.steady = throughput.lastQuarter >= 0.75 * throughput.firstQuarter && throughput.minWindow >= 0.25 * throughput.median;
  return {
    seed: o.seed,
    minutes: o.minutes,
    connections: o.connections,
    keys,
    requests: all.reduce((t, w) => t + w.requests, 0),
    errors: counters.errors,
    serverErrors: counters.serverErrors,
    errorSamples: counters.samples,
    windows: all,
    samples: allSamples,
    throughput,
    rss: {
      startKiB: allSamples[0]?.rssKiB ?? 0,
      endKiB: allSamples[allSamples.length - 1]?.rssKiB ?? 0,
      maxKiB: Math.max(...allSamples.map((s) => s.rssKiB)),
      firstQuarterMedianKiB: firstRss,
      lastQuarterMedianKiB: lastRss,
      bounded: lastRss - firstRss < Math.max(64 * 1024, 0.2 * firstRss),
    },
    fds: {
      start: allSamples[0]?.fds ?? 0,
      end: allSamples[allSamples.length - 1]?.fds ?? 0,
      max: Math.max(...allSamples.map((s) => s.fds)),
      firstQuarterMax: firstFds,
      lastQuarterMax: lastFds,
      leaking: lastFds > firstFds + 16,
    },
    p99: {
      firstWindow: windows[0]?.p99 ?? NaN,
      lastWindow: windows[windows.length - 1]?.p99 ?? NaN,
      worstWindow: Math.max(...windows.map((w) => w.p99)),
    },
    finalStats,
    seconds: Math.round(seconds),
  };
}

/** The summary as the lines the script prints. */
export function soakSummaryLines(s: SoakSummary): string[] {
  const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
  return [
    `soak: ${s.minutes} min, ${s.connections} connections, ${s.keys} keys, seed ${s.seed}: ${s.requests} requests, ${s.errors} errors (${s.serverErrors} 5xx)`,
    `  throughput (req/s, after warm-up): first quarter ${s.throughput.firstQuarter}, last quarter ${s.throughput.lastQuarter}, ` +
      `slowest window ${s.throughput.minWindow}, median ${s.throughput.median} → ${s.throughput.steady ? "steady" : "NOT steady"}`,
    `  p99 latency: first window ${s.p99.firstWindow} ms, last ${s.p99.lastWindow} ms, worst ${s.p99.worstWindow} ms`,
    `  RSS: start ${mib(s.rss.startKiB)}, end ${mib(s.rss.endKiB)}, max ${mib(s.rss.maxKiB)}; median first quarter ${mib(s.rss.firstQuarterMedianKiB)}, ` +
      `last quarter ${mib(s.rss.lastQuarterMedianKiB)} → ${s.rss.bounded ? "bounded" : "GROWING"}`,
    `  fds: start ${s.fds.start}, end ${s.fds.end}, max ${s.fds.max}; max first quarter ${s.fds.firstQuarterMax}, last quarter ${s.fds.lastQuarterMax} → ${s.fds.leaking ? "LEAKING" : "no leak"}`,
    ...s.errorSamples.map((e) => `  ! ${e}`),
  ];
}
