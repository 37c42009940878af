/**
 * @module
 * `npm run bench`: kvdb side by side with bun:sqlite on the same data (see
 * docs/BENCHMARKS.md for what each row means and the settings used).
 *
 * The parent process prints the configuration and the machine, then runs each engine in
 * its own child process (`bun scripts/bench.ts --engine <name>`) one after the other, so
 * that peak RSS is per engine and neither engine's garbage or page mappings bias the
 * other. Both children generate the same data set from the same seed. Each child works in
 * a fresh temporary directory under os.tmpdir(), removes it at the end, prints progress on
 * stderr and its results as one JSON line on stdout; the parent renders the table.
 *
 * Sizes come from environment variables (BENCH_KEYS, BENCH_READS, BENCH_DURABLE_OPS,
 * BENCH_DURABLE_OPS_CONCURRENT, BENCH_WRITERS, BENCH_SCANS, BENCH_BATCH, BENCH_SEED,
 * BENCH_ENGINES, BENCH_SQLITE_CACHE_MIB, BENCH_SQLITE_MMAP, BENCH_COMPACT); see
 * scripts/bench/config.ts.
 */
import { readConfig, type BenchConfig } from "./bench/config.ts";
import { machineLines } from "./bench/machine.ts";
import { renderReport } from "./bench/report.ts";
import { peakRss, resetPeakRss, sampleRss, type EngineResult } from "./bench/result.ts";
import { scratchDir } from "./bench/scratch-dir.ts";
import { buildWorkload } from "./bench/workload.ts";

async function child(engine: string, cfg: BenchConfig): Promise<void> {
  const w = buildWorkload(cfg.keys, cfg.seed);
  Bun.gc(true);
  resetPeakRss();
  const baselineRss = sampleRss();
  process.stderr.write(
    `[${engine}] data set: ${w.n.toLocaleString("en-US")} keys, ${(w.valueBytes / w.n).toFixed(1)} value bytes on average, baseline RSS ${(baselineRss / 1048576).toFixed(0)} MiB\n`,
  );
  const scratch = scratchDir(`kvdb-bench-${engine}-`);
  const root = scratch.path;
  try {
    // Imported here so that a broken engine does not stop the other engine's child.
    let result: EngineResult;
    if (engine === "kvdb") result = await (await import("./bench/kvdb-run.ts")).runKvdb(w, cfg, root);
    else if (engine === "sqlite") result = await (await import("./bench/sqlite-run.ts")).runSqlite(w, cfg, root);
    else throw new Error(`unknown engine ${JSON.stringify(engine)}`);
    result.baselineRss = baselineRss;
    result.peakRss = peakRss();
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    scratch.remove();
  }
}

async function parent(cfg: BenchConfig): Promise<number> {
  console.log(
    [
      `kvdb benchmark: ${cfg.keys.toLocaleString("en-US")} keys (seed ${cfg.seed}), batches of ${cfg.batch}, ` +
        `${cfg.durableOps.toLocaleString("en-US")} durable writes from 1 writer and ` +
        `${cfg.durableOpsConcurrent.toLocaleString("en-US")} from ${cfg.writers} writers, ` +
        `${cfg.reads.toLocaleString("en-US")} reads per read phase, ${cfg.scans} scans per 1% scan kind`,
      ...machineLines(),
      `engines: ${cfg.engines.join(", ")} (each in its own child process, one after the other)`,
      "",
    ].join("\n"),
  );
  const results = new Map<string, EngineResult>();
  let failed = false;
  for (const engine of cfg.engines) {
    const proc = Bun.spawn([process.execPath, import.meta.path, "--engine", engine], {
      stdout: "pipe",
      stderr: "inherit",
      env: process.env,
    });
    const out = await new Response(proc.stdout).text();
    const code = await proc.exited;
    const last = out.trim().split("\n").pop() ?? "";
    if (code !== 0 || !last.startsWith("{")) {
      console.error(`[${engine}] FAILED (exit code ${code}); its column is left empty`);
      failed = true;
      continue;
    }
    const r = JSON.parse(last) as EngineResult;
    if (r.misses > 0 || r.notes.some((n) => n.includes("WRONG"))) failed = true;
    results.set(engine, r);
  }
  console.log("\n" + renderReport(results, cfg));
  return failed ? 1 : 0;
}

const cfg = readConfig();
const at = process.argv.indexOf("--engine");
if (at >= 0) {
  await child(process.argv[at + 1] ?? "", cfg);
} else {
  process.exitCode = await parent(cfg);
}
