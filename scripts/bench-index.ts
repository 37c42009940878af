/**
 * @module
 * Secondary-index benchmark (issue 6): kvdb's declared equality index on `$.city` side
 * by side with bun:sqlite's JSON expression index
 * (`CREATE INDEX kv_city ON kv(json_extract(v, '$.city'))`), on the engine benchmark's
 * user documents (scripts/bench/workload.ts: 50 cities, ~2% of the documents each).
 *
 *   node_modules/.bin/bun scripts/bench-index.ts                      # 1,000,000 documents
 *   BENCH_DOCS=200000 node_modules/.bin/bun scripts/bench-index.ts    # smaller
 *
 * Measured, for each engine in its own child process (`--engine kvdb|sqlite`, one after
 * the other, as scripts/bench.ts does): bulk load without and with the index; `city = X`
 * returning every document and the first 100; `count` of `city = X`; rebuilding the
 * whole index. What each engine does exactly: scripts/bench/index-kvdb-run.ts and
 * scripts/bench/index-sqlite-run.ts. Knobs: scripts/bench/index-config.ts (BENCH_DOCS,
 * BENCH_LOAD_ROUNDS, BENCH_CITIES, BENCH_ROUNDS, BENCH_LIMIT_ROUNDS, BENCH_COUNT_ROUNDS, plus BENCH_SEED,
 * BENCH_BATCH, BENCH_ENGINES).
 */
import * as os from "node:os";
import { emitResult, runChild } from "./bench/child-process.ts";
import { readIndexConfig, type IndexBenchConfig } from "./bench/index-config.ts";
import { renderIndexReport } from "./bench/index-report.ts";
import type { IndexEngineResult } from "./bench/index-result.ts";
import { cityCensus, queryCities } from "./bench/index-workload.ts";
import { machineLines } from "./bench/machine.ts";
import { peakRss, resetPeakRss, sampleRss } from "./bench/result.ts";
import { scratchDir } from "./bench/scratch-dir.ts";
import { buildWorkload } from "./bench/workload.ts";

async function child(engine: string, cfg: IndexBenchConfig): Promise<void> {
  const w = buildWorkload(cfg.docs, cfg.seed);
  const census = cityCensus(w);
  cfg.queryCities = queryCities(census, cfg.cities, cfg.seed + 7);
  Bun.gc(true);
  resetPeakRss();
  const baselineRss = sampleRss();
  process.stderr.write(`[${engine}] data set: ${w.n.toLocaleString("en-US")} documents, ${census.names.length} cities, baseline RSS ${(baselineRss / 1048576).toFixed(0)} MiB\n`);
  const root = scratchDir(`kvdb-bench-index-${engine}-`);
  try {
    let result: IndexEngineResult;
    // Imported here so that a broken engine does not stop the other engine's child.
    if (engine === "kvdb") result = await (await import("./bench/index-kvdb-run.ts")).runKvdbIndex(w, census, cfg, root.path);
    else if (engine === "sqlite") result = await (await import("./bench/index-sqlite-run.ts")).runSqliteIndex(w, census, cfg, root.path);
    else throw new Error(`unknown engine ${JSON.stringify(engine)}`);
    result.baselineRss = baselineRss;
    result.peakRss = peakRss();
    emitResult(result);
  } finally {
    root.remove();
  }
}

async function parent(cfg: IndexBenchConfig): Promise<number> {
  const started = performance.now();
  console.log(
    [
      `kvdb index benchmark: ${cfg.docs.toLocaleString("en-US")} user documents (seed ${cfg.seed}), batches of ${cfg.batch}; ` +
        `${cfg.cities} random cities: all documents × ${cfg.rounds}, limit 100 × ${cfg.limitRounds}, count × ${cfg.countRounds} per city`,
      ...machineLines(),
      `engines: ${cfg.engines.join(", ")} (each in its own child process, one after the other)`,
      "",
    ].join("\n"),
  );
  const results = new Map<string, IndexEngineResult>();
  let failed = false;
  for (const engine of cfg.engines) {
    const r = await runChild<IndexEngineResult>(engine, import.meta.path, ["--engine", engine]);
    if (!r) {
      failed = true;
      continue;
    }
    if (r.wrong.length > 0) failed = true;
    results.set(engine, r);
  }
  console.log("\n" + renderIndexReport(results, cfg));
  console.log(`\ntotal wall clock: ${((performance.now() - started) / 1000).toFixed(1)} s; load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  return failed ? 1 : 0;
}

const cfg = readIndexConfig();
const at = process.argv.indexOf("--engine");
if (at >= 0) await child(process.argv[at + 1] ?? "", cfg);
else process.exitCode = await parent(cfg);
