/**
 * @module
 * The benchmark's knobs, read from environment variables so that `npm run bench` needs no
 * arguments and child processes (which inherit the environment) see the same settings.
 */

export interface BenchConfig {
  /** BENCH_KEYS: records in the data set (default 1,000,000). */
  keys: number;
  /** BENCH_BATCH: operations per batch in the batch phase (default 1,000). */
  batch: number;
  /** BENCH_DURABLE_OPS: writes in each durable phase (default 5,000). */
  durableOps: number;
  /** BENCH_DURABLE_OPS_CONCURRENT: writes in the concurrent-writers phase (default 4 × BENCH_DURABLE_OPS). */
  durableOpsConcurrent: number;
  /** BENCH_WRITERS: concurrent writers in the group-commit phase (default 64). */
  writers: number;
  /** BENCH_READS: random point reads per read phase (default 200,000). */
  reads: number;
  /** BENCH_SCANS: repetitions of each 1% scan kind (default 50). */
  scans: number;
  /** BENCH_SEED: data-set seed (default 42), so runs are comparable. */
  seed: number;
  /** BENCH_ENGINES: comma-separated engines to run (default "kvdb,sqlite"). */
  engines: string[];
  /** BENCH_SQLITE_MMAP: sqlite `PRAGMA mmap_size` in bytes (default 0, sqlite's own default). */
  sqliteMmap: number;
  /** BENCH_SQLITE_CACHE_MIB: sqlite page cache in MiB (default 0: sqlite's default of 2 MiB). */
  sqliteCacheMib: number;
  /** BENCH_COMPACT=1: call `db.compact()` on kvdb after the fill (untimed; default off). */
  compactAfterFill: boolean;
}

export const ENGINES = ["kvdb", "sqlite"] as const;

/** Reads the configuration from `env`; throws on malformed values. */
export function readConfig(env: Record<string, string | undefined> = process.env): BenchConfig {
  const engines = (env.BENCH_ENGINES ?? ENGINES.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const e of engines) {
    if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`BENCH_ENGINES: unknown engine ${JSON.stringify(e)} (known: ${ENGINES.join(", ")})`);
  }
  const durableOps = int(env, "BENCH_DURABLE_OPS", 5_000, 1);
  return {
    keys: int(env, "BENCH_KEYS", 1_000_000, 1),
    batch: int(env, "BENCH_BATCH", 1_000, 1),
    durableOps,
    // Group commit makes the concurrent phase much faster; more writes keep it measurable.
    durableOpsConcurrent: int(env, "BENCH_DURABLE_OPS_CONCURRENT", 4 * durableOps, 1),
    writers: int(env, "BENCH_WRITERS", 64, 1),
    reads: int(env, "BENCH_READS", 200_000, 1),
    scans: int(env, "BENCH_SCANS", 50, 1),
    seed: int(env, "BENCH_SEED", 42, 0),
    engines,
    sqliteMmap: int(env, "BENCH_SQLITE_MMAP", 0, 0),
    sqliteCacheMib: int(env, "BENCH_SQLITE_CACHE_MIB", 0, 0),
    compactAfterFill: env.BENCH_COMPACT === "1",
  };
}

function int(env: Record<string, string | undefined>, name: string, dflt: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw.replace(/_/g, ""));
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return v;
}
