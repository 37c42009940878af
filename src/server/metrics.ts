/**
 * @module
 * `GET /metrics` in the Prometheus text format (version 0.0.4): the engine's figures from
 * `db.stats()` (the same numbers `GET /stats` returns as JSON, named after their JSON
 * path) and, per route, request counts by status and a latency histogram. Routes are labelled by their pattern
 * (`/kv/*`), never by the concrete path, so the series count stays bounded. Each secondary
 * index adds gauges labelled by its name ({@link renderIndexMetrics}).
 */
import type { DatabaseStats, IndexInfo } from "../types.ts";

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  route: string;
  method: string;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Request counts and latencies, recorded once per response. */
export class HttpMetrics {
  private readonly counts = new Map<string, { route: string; method: string; status: number; n: number }>();
  private readonly latencies = new Map<string, Histogram>();
  inFlight = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const countKey = `${method} ${status} ${route}`;
    const c = this.counts.get(countKey);
    if (c) c.n++;
    else this.counts.set(countKey, { route, method, status, n: 1 });

    const histKey = `${method} ${route}`;
    let h = this.latencies.get(histKey);
    if (!h) {
      h = { route, method, buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.latencies.set(histKey, h);
    }
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    h.buckets[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** The HTTP metric families. */
  render(out: string[]): void {
    family(out, "kvdb_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
    for (const c of this.counts.values()) {
      out.push(`kvdb_http_requests_total{${labels({ route: c.route, method: c.method, status: String(c.status) })}} ${c.n}`);
    }
    family(out, "kvdb_http_requests_in_flight", "gauge", "HTTP requests being handled now.");
    out.push(`kvdb_http_requests_in_flight ${this.inFlight}`);
    family(out, "kvdb_http_request_duration_seconds", "histogram", "Time from receiving a request to its response, by route pattern and method.");
    for (const h of this.latencies.values()) {
      const base = { route: h.route, method: h.method };
      let cumulative = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cumulative += h.buckets[i];
        const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : "+Inf";
        out.push(`kvdb_http_request_duration_seconds_bucket{${labels({ ...base, le })}} ${cumulative}`);
      }
      out.push(`kvdb_http_request_duration_seconds_sum{${labels(base)}} ${h.sum}`);
      out.push(`kvdb_http_request_duration_seconds_count{${labels(base)}} ${h.count}`);
    }
  }
}

/**
 * The engine's figures as samples, derived from the shape of `db.stats()` so that new
 * figures appear without code here: every number becomes `kvdb_<path>` (camelCase turned
 * snake_case: `wal.batchesWritten` → `kvdb_wal_batches_written`), a boolean 0 or 1, a
 * string state `kvdb_<path>{value="…"} 1`, and the elements of an array are told apart
 * by their `level` (or `name`, or index) label. `dir` is left out (a path, not a figure). Their type is
 * "untyped": the stats do not say which figures are counters.
 */
function statsSamples(stats: object): Map<string, { help: string; lines: string[] }> {
  const families = new Map<string, { help: string; lines: string[] }>();
  const add = (name: string, path: string[], labelSet: Record<string, string>, value: number) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { help: `stats.${path.join(".")} (GET /stats)`, lines: [] }));
    const l = labels(labelSet);
    f.lines.push(`${name}${l ? `{${l}}` : ""} ${value}`);
  };
  const walk = (value: unknown, path: string[], labelSet: Record<string, string>, inArray: boolean) => {
    const name = "kvdb_" + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()).join("_");
    if (typeof value === "number") add(name, path, labelSet, value);
    else if (typeof value === "boolean") add(name, path, labelSet, value ? 1 : 0);
    // A state such as stall.state; strings inside arrays (a level's smallest key) are data, not labels.
    else if (typeof value === "string" && !inArray) add(name, path, { ...labelSet, value }, 1);
    else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        const { level, name: itemName } = (item ?? {}) as { level?: unknown; name?: unknown };
        const label: Record<string, string> =
          typeof level === "number" ? { level: String(level) } : typeof itemName === "string" ? { name: itemName } : { index: String(i) };
        for (const [k, v] of Object.entries(item ?? {})) if (!(k in label)) walk(v, [...path, k], { ...labelSet, ...label }, true);
      });
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) if (!(path.length === 0 && k === "dir")) walk(v, [...path, k], labelSet, inArray);
    }
  };
  walk(stats, [], {}, false);
  return families;
}

/** The whole `/metrics` document. `extra` lets later subsystems (indexes) append families. */
export function renderMetrics(stats: DatabaseStats, http: HttpMetrics, extra: string[] = []): string {
  const out: string[] = [];
  for (const [name, { help, lines }] of statsSamples(stats)) {
    family(out, name, "untyped", help);
    out.push(...lines);
  }
  http.render(out);
  out.push(...extra);
  return out.join("\n") + "\n";
}

/** Per-index gauges, `kvdb_index_<figure>{index="<name>"}`, from `db.listIndexes()`. */
const INDEX_GAUGES: [name: string, help: string, value: (i: IndexInfo) => number][] = [
  ["live_entries", "Live (key, value) entries of the index.", (i) => i.live_entries],
  ["tombstones", "Lazy delete entries of the index not yet cleaned up.", (i) => i.tombstones],
  ["terms", "Distinct indexed values.", (i) => i.terms],
  ["blocks", "Posting blocks (equality indexes).", (i) => i.blocks],
  ["bytes", "Bytes of the index's records.", (i) => i.bytes],
  ["generation", "Generation answering queries (or being built when none is ready).", (i) => i.generation],
  ["ready", "1 when queries may use the index.", (i) => (i.state === "ready" ? 1 : 0)],
  ["building", "1 while a generation of the index is being built (first build or rebuild).", (i) => (i.state === "building" || i.rebuilding ? 1 : 0)],
  [
    "progress_scanned",
    "Records scanned by the build in progress (the last build's total when none runs).",
    (i) => i.rebuilding?.scanned ?? i.progress.scanned,
  ],
];

/** The index gauge families, one sample per index in each. */
export function renderIndexMetrics(indexes: readonly IndexInfo[]): string[] {
  const out: string[] = [];
  for (const [name, help, value] of INDEX_GAUGES) {
    family(out, `kvdb_index_${name}`, "gauge", help);
    for (const i of indexes) out.push(`kvdb_index_${name}{${labels({ index: i.name })}} ${value(i)}`);
  }
  return out;
}

function family(out: string[], name: string, kind: "counter" | "gauge" | "histogram" | "untyped", help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`);
}

function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}
