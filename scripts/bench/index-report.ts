/**
 * @module
 * Renders the index benchmark: kvdb and bun:sqlite side by side with a speed ratio
 * (above 1: kvdb is faster), then the issue's targets marked ✓/✗, then each engine's
 * notes (tree shape, index figures, query plans).
 */
import type { IndexBenchConfig } from "./index-config.ts";
import { docsPerSec, median, medianCpuMs, medianMs, roundCost, type IndexEngineResult } from "./index-result.ts";
import { formatTarget, type Target } from "./target-check.ts";
import { renderTable } from "./text-table.ts";

/** How a row's ratio column reads: speed (kvdb ÷ sqlite), time (sqlite ÷ kvdb), size (kvdb ÷ sqlite, lower better), none. */
type RatioKind = "speed" | "time" | "size" | "none";

interface Row {
  label: string;
  unit: string;
  value: (r: IndexEngineResult) => number | null | undefined;
  /** The sqlite figure the kvdb one is compared with, when it differs from `value`. */
  sqliteValue?: (r: IndexEngineResult) => number | null | undefined;
  format: (v: number) => string;
  ratio: RatioKind;
}

const MiB = 1048576;
const count = (v: number): string => Math.round(v).toLocaleString("en-US");
const mib = (v: number): string => `${(v / MiB).toFixed(1)} MiB`;
const ms = (v: number): string => (v < 1 ? `${v.toFixed(3)} ms` : `${v.toFixed(1)} ms`);
const secs = (v: number): string => `${(v / 1000).toFixed(2)} s`;
const times = (v: number): string => `${v.toFixed(2)}×`;

/** Index maintenance cost: load time with the index ÷ without (of the median load pair). */
export const loadCost = (r: IndexEngineResult): number => r.loadIndexed.ms / r.loadPlain.ms;
/** The same, in CPU time (kvdb: including background work that ran during the load). */
export const loadCostCpu = (r: IndexEngineResult): number => r.loadIndexedCpuMs / r.loadPlainCpuMs;
const settledCost = (r: IndexEngineResult): number | null =>
  r.loadIndexedSettled && r.loadPlainSettled ? r.loadIndexedSettled.ms / r.loadPlainSettled.ms : null;

function rows(cfg: IndexBenchConfig, perCity: number): Row[] {
  const n = Math.round(perCity).toLocaleString("en-US");
  return [
    { label: `bulk load, no index (batches of ${cfg.batch})`, unit: "docs/s", value: (r) => r.loadPlain.perSec, format: count, ratio: "speed" },
    { label: "bulk load, with the city index", unit: "docs/s", value: (r) => r.loadIndexed.perSec, format: count, ratio: "speed" },
    { label: "  index cost: load time with ÷ without", unit: "", value: loadCost, format: times, ratio: "none" },
    { label: "  index cost in CPU time", unit: "", value: loadCostCpu, format: times, ratio: "none" },
    { label: "  + background work, no index", unit: "docs/s", value: (r) => r.loadPlainSettled?.perSec, format: count, ratio: "none" },
    { label: "  + background work, with index", unit: "docs/s", value: (r) => r.loadIndexedSettled?.perSec, format: count, ratio: "none" },
    { label: "  index cost incl. background work", unit: "", value: settledCost, format: times, ratio: "none" },
    { label: "disk, no index", unit: "", value: (r) => r.diskPlain, format: mib, ratio: "size" },
    { label: "disk, with index", unit: "", value: (r) => r.diskIndexed, format: mib, ratio: "size" },
    { label: `city = X, all ~${n} docs`, unit: "ms/query", value: (r) => medianMs(r.all), format: ms, ratio: "time" },
    { label: "  CPU time", unit: "ms/query", value: (r) => medianCpuMs(r.all), format: ms, ratio: "time" },
    { label: "  documents returned", unit: "docs/s", value: (r) => docsPerSec(r.all), format: count, ratio: "speed" },
    {
      label: "  kvdb after db.compact()",
      unit: "ms/query",
      value: (r) => (r.allCompacted ? medianMs(r.allCompacted) : null),
      sqliteValue: (r) => medianMs(r.all),
      format: ms,
      ratio: "time",
    },
    { label: "city = X, first 100 (limit 100)", unit: "ms/query", value: (r) => medianMs(r.limit100), format: ms, ratio: "time" },
    { label: "  CPU time", unit: "ms/query", value: (r) => medianCpuMs(r.limit100), format: ms, ratio: "time" },
    {
      label: "  kvdb after db.compact()",
      unit: "ms/query",
      value: (r) => (r.limit100Compacted ? medianMs(r.limit100Compacted) : null),
      sqliteValue: (r) => medianMs(r.limit100),
      format: ms,
      ratio: "time",
    },
    { label: "count city = X", unit: "ms/query", value: (r) => medianMs(r.count), format: ms, ratio: "time" },
    { label: "  CPU time", unit: "ms/query", value: (r) => medianCpuMs(r.count), format: ms, ratio: "time" },
    { label: "rebuild the whole index", unit: "", value: (r) => r.rebuildMs, format: secs, ratio: "time" },
    { label: "  kvdb: until ready / sqlite: DROP+CREATE", unit: "", value: (r) => r.rebuildAltMs, format: secs, ratio: "time" },
    { label: "peak RSS", unit: "", value: (r) => r.peakRss, format: mib, ratio: "size" },
  ];
}

function ratioCell(kind: RatioKind, k: number | null | undefined, s: number | null | undefined): string {
  if (kind === "none" || k == null || s == null || !(k > 0) || !(s > 0)) return "";
  if (kind === "speed") return `${(k / s).toFixed(2)}×`;
  if (kind === "time") return `${(s / k).toFixed(2)}×`;
  return `${(k / s).toFixed(2)}× (size, lower is better)`;
}

export function checkIndexTargets(kvdb: IndexEngineResult | undefined, sqlite: IndexEngineResult | undefined): Target[] {
  const faster = (f: (r: IndexEngineResult) => number): number | undefined => (kvdb && sqlite ? f(sqlite) / f(kvdb) : undefined);
  return [
    { label: "kvdb bulk load with index ÷ without (index maintenance cost)", value: kvdb ? loadCost(kvdb) : undefined, bound: 1.5, kind: "max" },
    { label: "city = X, all documents vs bun:sqlite", value: faster((r) => medianMs(r.all)), bound: 2, kind: "min" },
    { label: "city = X, limit 100 vs bun:sqlite", value: faster((r) => medianMs(r.limit100)), bound: 2, kind: "min" },
    { label: "count city = X vs bun:sqlite's covering index", value: faster((r) => medianMs(r.count)), bound: 5, kind: "min" },
  ];
}

export function renderIndexReport(results: Map<string, IndexEngineResult>, cfg: IndexBenchConfig): string {
  const kvdb = results.get("kvdb");
  const sqlite = results.get("sqlite");
  const any = kvdb ?? sqlite;
  const perCity = any ? any.all.reduce((n, c) => n + c.expected, 0) / Math.max(1, any.all.length) : 0;
  const body = rows(cfg, perCity).map((row) => {
    const k = kvdb ? row.value(kvdb) : undefined;
    const s = sqlite ? (row.sqliteValue ?? row.value)(sqlite) : undefined;
    const cell = (v: number | null | undefined): string => (v == null || !Number.isFinite(v) ? "—" : row.format(v));
    // A row compared with another row's sqlite figure leaves its own sqlite cell empty.
    return [row.label, row.unit, cell(k), row.sqliteValue ? "" : cell(s), ratioCell(row.ratio, k, s)];
  });
  const out = [renderTable(["", "unit", "kvdb", "sqlite", "kvdb speed ÷ sqlite"], body, [false, false, true, true, false])];
  out.push("", `cities queried: ${any?.all.map((c) => `${c.city} (${c.expected.toLocaleString("en-US")})`).join(", ") ?? "—"}`);
  if (any) {
    for (const r of results.values()) {
      const per = (label: string, t: IndexEngineResult["all"]): string =>
        `  ${r.engine} ${label}: ` + t.map((c) => `${c.city} ${ms(median(c.ms))}`).join(", ");
      out.push(per("all, median per city", r.all), per("limit 100, median per city", r.limit100), per("count, median per city", r.count));
    }
  }
  out.push("", "Targets (wall-clock time):", ...checkIndexTargets(kvdb, sqlite).map(formatTarget));
  if (sqlite) out.push(`  (reported) sqlite bulk load with index ÷ without: ${loadCost(sqlite).toFixed(2)}× (CPU time ${loadCostCpu(sqlite).toFixed(2)}×)`);
  for (const r of results.values()) {
    if (r.loadRounds.length > 1) out.push(`  (reported) ${r.engine} load pairs, with ÷ without, in the order run: ${r.loadRounds.map((x) => times(roundCost(x))).join(", ")} (median ${times(loadCost(r))}: the table's load rows are that pair's)`);
  }
  if (kvdb && sqlite) {
    // The engines run one after the other: if the machine's load changed in between,
    // CPU time compares them more fairly than wall-clock time.
    const cpu = (f: (r: IndexEngineResult) => number): string => (f(sqlite) / f(kvdb)).toFixed(2);
    out.push(
      `  (reported) the same in CPU time: kvdb index cost ${loadCostCpu(kvdb).toFixed(2)}×; ` +
        `all documents ${cpu((r) => medianCpuMs(r.all))}×, limit 100 ${cpu((r) => medianCpuMs(r.limit100))}×, count ${cpu((r) => medianCpuMs(r.count))}× vs sqlite`,
    );
  }
  for (const r of results.values()) {
    out.push("", `${r.engine}: baseline RSS (data set loaded, engine not yet open) ${mib(r.baselineRss)}`);
    for (const note of r.notes) out.push(`  ${note}`);
    for (const w of r.wrong.slice(0, 20)) out.push(`  WRONG: ${w}`);
    if (r.wrong.length > 20) out.push(`  WRONG: ... ${r.wrong.length - 20} more`);
  }
  return out.join("\n");
}
