/**
 * @module
 * Reading one benchmark knob from the environment. The shared knobs of the engine
 * benchmark (BENCH_KEYS, BENCH_SEED, BENCH_READS, BENCH_BATCH, BENCH_ENGINES, ...) come
 * from `config.ts`; the compaction and index benchmarks add their own through these.
 */

/** An integer knob (underscores allowed: `BENCH_KEYS=200_000`); throws on a malformed value. */
export function envInt(name: string, dflt: number, min: number, env: Record<string, string | undefined> = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw.replace(/_/g, ""));
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/** A knob restricted to `choices`; throws on anything else. */
export function envChoice<T extends string>(name: string, dflt: T, choices: readonly T[], env: Record<string, string | undefined> = process.env): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw as T;
}
