/**
 * @module
 * Renders the benchmark results as a plain-text table (kvdb, sqlite, kvdb/sqlite) and
 * checks them against the targets of the engine issue, each marked ✓ or ✗.
 */
import type { BenchConfig } from "./config.ts";
import type { EngineResult } from "./result.ts";

interface Row {
  label: string;
  unit: string;
  /** undefined: not measured for this engine. */
  value: (r: EngineResult) => number | undefined;
  /** Lower is better (bytes, milliseconds): the ratio column says so. */
  lowerIsBetter?: boolean;
  format?: (v: number) => string;
}

const MiB = 1024 * 1024;
const count = (v: number): string => Math.round(v).toLocaleString("en-US");
const mib = (v: number): string => `${(v / MiB).toFixed(1)} MiB`;
const ms = (v: number): string => `${v.toFixed(1)} ms`;

function rows(writers: number, batch: number): Row[] {
  return [
    { label: "single puts, no fsync", unit: "ops/s", value: (r) => r.singlePuts.perSec },
    { label: `batches of ${batch.toLocaleString("en-US")}`, unit: "ops/s", value: (r) => r.batches.perSec },
    { label: "durable puts, 1 writer", unit: "ops/s", value: (r) => r.durable1.perSec },
    { label: "  fsyncs, 1 writer", unit: "fsyncs/s", value: (r) => r.durable1.syncsPerSec },
    { label: `durable puts, ${writers} writers`, unit: "ops/s", value: (r) => r.durable64.perSec },
    { label: `  fsyncs, ${writers} writers`, unit: "fsyncs/s", value: (r) => r.durable64.syncsPerSec },
    {
      label: `  writes per fsync, ${writers} writers`,
      unit: "",
      value: (r) => (r.durable64.syncs ? r.durable64.ops / r.durable64.syncs : undefined),
      format: (v) => v.toFixed(1),
    },
    { label: "point reads, warm", unit: "reads/s", value: (r) => r.readsWarm.perSec },
    { label: "reopen", unit: "", value: (r) => r.reopenMs, lowerIsBetter: true, format: ms },
    { label: "point reads, after reopen", unit: "reads/s", value: (r) => r.readsReopened.perSec },
    { label: "full ordered scan", unit: "keys/s", value: (r) => r.fullScan.perSec },
    { label: "1% prefix scans", unit: "keys/s", value: (r) => r.prefixScans.perSec },
    { label: "1% range scans", unit: "keys/s", value: (r) => r.rangeScans.perSec },
    { label: "disk after fill", unit: "", value: (r) => r.diskBytesAfterFill, lowerIsBetter: true, format: mib },
    { label: "peak RSS", unit: "", value: (r) => r.peakRss, lowerIsBetter: true, format: mib },
  ];
}

function table(header: string[], body: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(header), widths.map((wd) => "-".repeat(wd)).join("  "), ...body.map(line)].join("\n");
}

/** One target of the issue: a ratio that must reach `min`. */
export interface TargetCheck {
  label: string;
  ratio: number | undefined;
  min: number;
  met: boolean;
}

/** The targets, computed from the results (undefined ratio: an engine is missing). */
export function checkTargets(kvdb: EngineResult | undefined, sqlite: EngineResult | undefined, writers: number): TargetCheck[] {
  const vs = (f: (r: EngineResult) => number): number | undefined => (kvdb && sqlite && f(sqlite) > 0 ? f(kvdb) / f(sqlite) : undefined);
  const oneWriterSyncRate = kvdb ? (kvdb.durable1.syncsPerSec ?? kvdb.durable1.perSec) : 0;
  const checks: Array<Omit<TargetCheck, "met">> = [
    { label: "single puts vs bun:sqlite", ratio: vs((r) => r.singlePuts.perSec), min: 3 },
    {
      label: `kvdb durable puts, ${writers} writers vs kvdb 1-writer fsync rate`,
      ratio: kvdb && oneWriterSyncRate > 0 ? kvdb.durable64.perSec / oneWriterSyncRate : undefined,
      min: 10,
    },
    { label: "warm point reads vs bun:sqlite", ratio: vs((r) => r.readsWarm.perSec), min: 2 },
    { label: "full scan vs bun:sqlite", ratio: vs((r) => r.fullScan.perSec), min: 2 },
  ];
  return checks.map((c) => ({ ...c, met: c.ratio !== undefined && c.ratio >= c.min }));
}

/** The results table followed by the target checks. */
export function renderReport(results: Map<string, EngineResult>, cfg: BenchConfig): string {
  const writers = cfg.writers;
  const kvdb = results.get("kvdb");
  const sqlite = results.get("sqlite");
  const body = rows(writers, cfg.batch).map((row) => {
    const fmt = row.format ?? count;
    const k = kvdb ? row.value(kvdb) : undefined;
    const s = sqlite ? row.value(sqlite) : undefined;
    const ratio = k !== undefined && s !== undefined && s > 0 ? `${(k / s).toFixed(2)}×${row.lowerIsBetter ? " (lower is better)" : ""}` : "—";
    return [row.label, row.unit, k === undefined ? "—" : fmt(k), s === undefined ? "—" : fmt(s), ratio];
  });
  const out = [table(["", "unit", "kvdb", "sqlite", "kvdb/sqlite"], body, [false, false, true, true, false])];
  if (sqlite) out.push(`(sqlite: 1 writer in both durable rows, since a connection serializes writers; its fsyncs/s = commits/s)`);

  out.push("", "Targets:");
  for (const t of checkTargets(kvdb, sqlite, writers)) {
    if (t.ratio === undefined) {
      out.push(`  ? ${t.label}: not measured (target ≥ ${t.min}×)`);
      continue;
    }
    const miss = t.met ? "" : `, missed by ${((1 - t.ratio / t.min) * 100).toFixed(0)}%`;
    out.push(`  ${t.met ? "✓" : "✗"} ${t.label}: ${t.ratio.toFixed(2)}× (target ≥ ${t.min}×${miss})`);
  }

  for (const r of results.values()) {
    out.push("", `${r.engine}: baseline RSS (data set loaded, engine not yet open) ${mib(r.baselineRss)}`);
    if (r.misses > 0) out.push(`  ERROR: ${r.misses} point reads of existing keys found nothing`);
    for (const note of r.notes) out.push(`  ${note}`);
  }
  return out.join("\n");
}
