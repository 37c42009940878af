/**
 * @module
 * What one engine's benchmark run reports, and the measuring helpers both engine runners
 * share: wall-clock rates, bytes on disk, and peak RSS.
 *
 * Peak RSS is the kernel's high-water mark (`VmHWM` in /proc/self/status), which also
 * catches peaks inside synchronous loops where a timer-based `process.memoryUsage()`
 * sampler never gets to run. It is reset (`/proc/self/clear_refs` ← 5) once the data set
 * is built, so the garbage of generating it does not count; where /proc is missing, the
 * largest `rss` sampled at phase boundaries is used.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Operations over a measured wall-clock interval. */
export interface Rate {
  ops: number;
  ms: number;
  perSec: number;
}

/** Durable writes: operations and the fsyncs they cost. */
export interface DurableRate extends Rate {
  writers: number;
  /** fsyncs issued during the phase; undefined when the engine cannot count them. */
  syncs: number | undefined;
  syncsPerSec: number | undefined;
}

export interface EngineResult {
  engine: string;
  singlePuts: Rate;
  batches: Rate;
  durable1: DurableRate;
  durable64: DurableRate;
  readsWarm: Rate;
  reopenMs: number;
  readsReopened: Rate;
  /** ops = keys visited. */
  fullScan: Rate;
  /** ops = keys visited over all repetitions; `scans` repetitions. */
  prefixScans: Rate & { scans: number };
  rangeScans: Rate & { scans: number };
  diskBytesAfterFill: number;
  /** RSS after the data set was generated, before the engine opened. */
  baselineRss: number;
  peakRss: number;
  /** Point reads that found no value (must be 0; a non-zero count means a bug). */
  misses: number;
  /** Free-form facts about the run (engine settings, table counts, ...). */
  notes: string[];
}

/** Runs `fn` and reports its rate for `ops` operations. */
export async function timed(ops: number, fn: () => unknown): Promise<Rate> {
  const t0 = performance.now();
  await fn();
  return rate(ops, performance.now() - t0);
}

export function rate(ops: number, ms: number): Rate {
  return { ops, ms, perSec: ms > 0 ? (ops * 1000) / ms : 0 };
}

/** Sum of the sizes of all files under `dir`, recursively. */
export function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

let sampledPeak = 0;

/** Starts peak tracking afresh from the current RSS. */
export function resetPeakRss(): void {
  sampledPeak = 0;
  try {
    fs.writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux, or not permitted: the kernel's peak then includes earlier allocations.
  }
  sampleRss();
}

/** Records the current RSS (call it at phase boundaries) and returns it. */
export function sampleRss(): number {
  const rss = process.memoryUsage().rss;
  if (rss > sampledPeak) sampledPeak = rss;
  return rss;
}

/** Peak RSS of this process so far, in bytes. */
export function peakRss(): number {
  sampleRss();
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return Math.max(Number(m[1]) * 1024, sampledPeak);
  } catch {
    // No /proc (not Linux): fall back to the samples.
  }
  return sampledPeak;
}

/** One progress line on stderr (stdout carries the child's JSON result). */
export function progress(engine: string, what: string, r?: Rate): void {
  const tail = r ? `: ${Math.round(r.perSec).toLocaleString("en-US")}/s (${r.ops.toLocaleString("en-US")} in ${(r.ms / 1000).toFixed(2)} s)` : "";
  const rss = (sampleRss() / 1048576).toFixed(0);
  process.stderr.write(`[${engine}] ${what}${tail} [rss ${rss} MiB]\n`);
}
