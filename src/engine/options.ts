/**
 * @module
 * Engine options with their defaults resolved in one place.
 */
import { defaultFileSystem, type FileSystem } from "./fs.ts";
import { KvdbError } from "./errors.ts";
import type { CompactionHook } from "./table_writer.ts";
import type { PrepareBatch } from "./engine.ts";

export interface EngineOptions {
  fs: FileSystem;
  sync: "always" | "none";
  memtableBytes: number;
  /** Frozen MemTables allowed to wait for a flush before writers stall. */
  maxImmutableMemtables: number;
  blockSize: number;
  restartInterval: number;
  bloomBitsPerKey: number;
  /** Largest WAL record accepted when reading (a sanity bound against corrupt lengths). */
  maxRecordBytes: number;
  /** Entries a flush or compaction processes before yielding to the event loop. */
  sliceEntries: number;
  /** A new manifest is started (compacting the edit log) beyond this size. */
  maxManifestBytes: number;
  /** Run compactions automatically after flushes. */
  autoCompact: boolean;
  /** Level-0 table count that triggers a compaction into level 1. */
  l0CompactionTrigger: number;
  /** Level-0 table count at which each write group is delayed by 1 ms. */
  l0SlowdownTrigger: number;
  /** Level-0 table count at which writes wait for a compaction. */
  l0StopTrigger: number;
  /** Size limit of level 1; each deeper level may hold `levelMultiplier` times more. */
  levelBaseBytes: number;
  levelMultiplier: number;
  /** Compaction outputs are split into tables of about this size. */
  targetFileBytes: number;
  /** Lets a higher layer rewrite or drop its own records during compaction. */
  compactionHook: CompactionHook | undefined;
  /** Rewrites each batch inside the serialized write path (secondary index maintenance). */
  prepareBatch: PrepareBatch | undefined;
  /** Rebuilds a value from a WAL merge operand at recovery. Default: append the operand. */
  mergeOperator: (existing: Uint8Array | undefined, operand: Uint8Array) => Uint8Array;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  fs: defaultFileSystem,
  sync: "always",
  memtableBytes: 8 * 1024 * 1024,
  maxImmutableMemtables: 2,
  blockSize: 4096,
  restartInterval: 16,
  bloomBitsPerKey: 10,
  maxRecordBytes: 1024 * 1024 * 1024,
  sliceEntries: 1000,
  maxManifestBytes: 4 * 1024 * 1024,
  autoCompact: true,
  l0CompactionTrigger: 4,
  l0SlowdownTrigger: 8,
  l0StopTrigger: 12,
  levelBaseBytes: 10 * 1024 * 1024,
  levelMultiplier: 10,
  targetFileBytes: 2 * 1024 * 1024,
  compactionHook: undefined,
  prepareBatch: undefined,
  mergeOperator: appendOperand,
};

function appendOperand(existing: Uint8Array | undefined, operand: Uint8Array): Uint8Array {
  if (!existing || existing.length === 0) return operand.slice();
  const out = new Uint8Array(existing.length + operand.length);
  out.set(existing);
  out.set(operand, existing.length);
  return out;
}

export function resolveEngineOptions(partial: Partial<EngineOptions>): EngineOptions {
  const o: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  if (o.sync !== "always" && o.sync !== "none") {
    throw new KvdbError("INVALID_ARGUMENT", `sync must be "always" or "none", got ${JSON.stringify(o.sync)}`);
  }
  positive("memtableBytes", o.memtableBytes);
  positive("blockSize", o.blockSize);
  positive("restartInterval", o.restartInterval);
  positive("maxImmutableMemtables", o.maxImmutableMemtables);
  positive("targetFileBytes", o.targetFileBytes);
  positive("levelBaseBytes", o.levelBaseBytes);
  positive("l0CompactionTrigger", o.l0CompactionTrigger);
  if (!(o.levelMultiplier > 1)) throw new KvdbError("INVALID_ARGUMENT", "levelMultiplier must be > 1");
  if (!(o.l0CompactionTrigger <= o.l0SlowdownTrigger && o.l0SlowdownTrigger <= o.l0StopTrigger)) {
    throw new KvdbError("INVALID_ARGUMENT", "level-0 triggers must satisfy compaction <= slowdown <= stop");
  }
  if (!(o.bloomBitsPerKey >= 0)) throw new KvdbError("INVALID_ARGUMENT", "bloomBitsPerKey must be >= 0");
  return o;
}

function positive(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new KvdbError("INVALID_ARGUMENT", `${name} must be a positive integer, got ${v}`);
}
