/**
 * @module
 * Executes one compaction task: merges the input tables, drops what no reader can see
 * (overwritten versions; tombstones with nothing older below them), writes the output
 * level's tables and describes the change as a manifest edit. The engine makes the
 * edit durable and installs it; until then the inputs remain the live data, so a crash
 * at any point leaves either the old tables or the new ones, never a mix.
 */
import type { EntryIterator } from "../iterator.ts";
import type { FileMeta, VersionEdit } from "../manifest.ts";
import { MergingIterator } from "../merging_iterator.ts";
import { LevelIterator } from "../level_iterator.ts";
import type { EngineOptions } from "../options.ts";
import { writeTables } from "../table_writer.ts";
import { NUM_LEVELS, findFile, type Version } from "../version.ts";
import type { FileSystem } from "../fs.ts";
import { keyRange, type CompactionTask } from "./picker.ts";

export interface CompactionContext {
  fs: FileSystem;
  dir: string;
  options: EngineOptions;
  /** The Version the task was picked from; the caller holds a reference to it. */
  version: Version;
  allocateNumber: () => number;
  snapshots: number[];
  onRead: (bytes: number) => void;
  shouldStop: () => boolean;
}

export interface CompactionResult {
  edit: VersionEdit;
  outputs: FileMeta[];
  bytesRead: number;
}

export async function runCompaction(task: CompactionTask, ctx: CompactionContext): Promise<CompactionResult> {
  const inputsRemoved = [
    ...task.inputs.map((t) => ({ level: task.level, number: t.meta.number })),
    ...task.overlaps.map((t) => ({ level: task.outputLevel, number: t.meta.number })),
  ];
  const pointer = { level: task.level, key: keyRange(task.inputs)[1] };
  if (task.trivialMove) {
    const moved = { ...task.inputs[0].meta, level: task.outputLevel };
    return {
      edit: { deletedFiles: inputsRemoved, addedFiles: [moved], compactPointers: [pointer] },
      outputs: [moved],
      bytesRead: 0,
    };
  }
  const children: EntryIterator[] = [];
  // Level 0 tables overlap: each is its own source, newest first (the Version's order).
  if (task.level === 0) for (const t of task.inputs) children.push(t.reader.iterator());
  else children.push(new LevelIterator(task.inputs));
  if (task.overlaps.length > 0) children.push(new LevelIterator(task.overlaps));

  const deeper = ctx.version.levels.slice(task.outputLevel + 1, NUM_LEVELS);
  let bytesRead = 0;
  const outputs = await writeTables({
    fs: ctx.fs,
    dir: ctx.dir,
    level: task.outputLevel,
    allocateNumber: ctx.allocateNumber,
    source: new MergingIterator(children),
    options: ctx.options,
    targetFileBytes: ctx.options.targetFileBytes,
    snapshots: ctx.snapshots,
    // A key's tombstone may go only if no deeper level can still hold an older value.
    bottommost: (key) => deeper.every((tables) => findFile(tables, key) === undefined),
    hook: ctx.options.compactionHook,
    shouldStop: ctx.shouldStop,
    onRead: (n) => {
      bytesRead += n;
      ctx.onRead(n);
    },
  });
  return {
    edit: { deletedFiles: inputsRemoved, addedFiles: outputs, compactPointers: [pointer] },
    outputs,
    bytesRead,
  };
}
