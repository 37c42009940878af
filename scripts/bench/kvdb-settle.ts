/**
 * @module
 * Observing a kvdb database between benchmark phases: waiting until its background work
 * (flushes, compactions, index builds) is done, so the next phase measures a settled
 * tree, and a one-line description of the tree (tables per level, compactions, write
 * amplification, stalls) for the report.
 */
import type { Database } from "../../src/types.ts";

/**
 * Waits until no flush or compaction is pending (seen quiet on two polls 50 ms apart) and
 * index builds are done; returns the milliseconds waited. Gives up after `limitMs`.
 */
export async function settle(db: Database, limitMs = 600_000): Promise<number> {
  const t0 = performance.now();
  await db.waitForIndexes();
  let quiet = 0;
  while (quiet < 2 && performance.now() - t0 < limitMs) {
    const s = db.stats();
    quiet = s.compaction.running || s.memtables.immutable > 0 ? 0 : quiet + 1;
    await Bun.sleep(50);
  }
  return performance.now() - t0;
}

/** E.g. `78 sstables (L1:4 L2:50 L3:24), 31 flushes, 60 compactions, write amplification 5.58, stalls: ...`. */
export function describeTree(db: Database): string {
  const s = db.stats();
  const levels = s.sstables.levels
    .filter((l) => l.files > 0)
    .map((l) => `L${l.level}:${l.files}/${(l.bytes / 1048576).toFixed(1)}MiB`)
    .join(" ");
  const c = s.compaction;
  return (
    `${s.sstables.files} sstables (${levels || "none"}), ${s.flushes} flushes, ${c.compactions} compactions` +
    `${c.running ? " (one running)" : ""}, ${c.trivialMoves} trivial moves, write amplification ${c.writeAmplification.toFixed(2)}, ` +
    `stalls: ${s.stall.slowdowns} slowdowns, ${s.stall.stops} stops`
  );
}
