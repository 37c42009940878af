/**
 * @module
 * Chooses the next compaction (LevelDB `version_set.cc` `PickCompaction`, `doc/impl.md`).
 *
 * Leveled layout: level 0 holds flushed tables, which may overlap each other; levels 1
 * and deeper are sorted runs of non-overlapping tables whose total size may reach
 * `levelBaseBytes × levelMultiplier^(level−1)`. Each level gets a score — L0: files ÷
 * `l0CompactionTrigger`; deeper: bytes ÷ their limit — and the level with the highest
 * score ≥ 1 is compacted into the next one:
 * - from L0, every L0 table (they overlap, so all of them must go down together, oldest
 *   data included) plus the L1 tables that overlap their key range;
 * - from a deeper level, one table, chosen round-robin after the level's compact
 *   pointer, plus the overlapping tables of the next level.
 * A single input table with nothing to merge below is moved by a manifest edit alone.
 */
import { compareBytes } from "../coding.ts";
import { NUM_LEVELS, type TableHandle, type Version } from "../version.ts";

export interface LevelLimits {
  l0CompactionTrigger: number;
  levelBaseBytes: number;
  levelMultiplier: number;
}

export interface CompactionTask {
  /** The level whose tables are pushed down. */
  level: number;
  outputLevel: number;
  inputs: TableHandle[];
  /** Tables of `outputLevel` that overlap the inputs. */
  overlaps: TableHandle[];
  /** One input, nothing to merge: re-level it in the manifest without rewriting. */
  trivialMove: boolean;
}

export function maxBytesForLevel(level: number, limits: LevelLimits): number {
  return limits.levelBaseBytes * limits.levelMultiplier ** Math.max(0, level - 1);
}

const levelBytes = (tables: readonly TableHandle[]) => tables.reduce((n, t) => n + t.meta.size, 0);

/** Per-level compaction scores; the last level has none (there is nowhere to push it). */
export function levelScores(version: Version, limits: LevelLimits): number[] {
  const scores: number[] = [];
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    const tables = version.levels[level];
    scores.push(level === 0 ? tables.length / limits.l0CompactionTrigger : levelBytes(tables) / maxBytesForLevel(level, limits));
  }
  return scores;
}

export function pickCompaction(version: Version, limits: LevelLimits, pointers: ReadonlyMap<number, Uint8Array>): CompactionTask | undefined {
  const scores = levelScores(version, limits);
  let best = -1;
  for (let level = 0; level < scores.length; level++) {
    if (scores[level] >= 1 && (best < 0 || scores[level] > scores[best])) best = level;
  }
  if (best < 0) return undefined;
  if (best === 0) return levelTask(version, 0, version.levels[0]);
  const tables = version.levels[best];
  const pointer = pointers.get(best);
  const next = (pointer && tables.find((t) => compareBytes(t.meta.smallest, pointer) > 0)) || tables[0];
  return levelTask(version, best, [next]);
}

/** Compacts `inputs` of `level` into `level + 1`. */
export function levelTask(version: Version, level: number, inputs: TableHandle[]): CompactionTask {
  const outputLevel = level + 1;
  const [smallest, largest] = keyRange(inputs);
  const overlaps = overlapping(version.levels[outputLevel], smallest, largest);
  return { level, outputLevel, inputs, overlaps, trivialMove: inputs.length === 1 && overlaps.length === 0 };
}

export function keyRange(tables: readonly TableHandle[]): [Uint8Array, Uint8Array] {
  let smallest = tables[0].meta.smallest;
  let largest = tables[0].meta.largest;
  for (const t of tables) {
    if (compareBytes(t.meta.smallest, smallest) < 0) smallest = t.meta.smallest;
    if (compareBytes(t.meta.largest, largest) > 0) largest = t.meta.largest;
  }
  return [smallest, largest];
}

export function overlapping(tables: readonly TableHandle[], smallest: Uint8Array, largest: Uint8Array): TableHandle[] {
  return tables.filter((t) => compareBytes(t.meta.largest, smallest) >= 0 && compareBytes(t.meta.smallest, largest) <= 0);
}
