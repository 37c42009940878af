/**
 * @module
 * Engine options with their defaults resolved in one place.
 */
import { defaultFileSystem, type FileSystem } from "./fs.ts";
import { KvdbError } from "./errors.ts";

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
  /** Entries a flush processes before yielding to the event loop. */
  flushSliceEntries: number;
  /** A new manifest is started (compacting the edit log) beyond this size. */
  maxManifestBytes: number;
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
  flushSliceEntries: 2000,
  maxManifestBytes: 4 * 1024 * 1024,
};

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
  if (!(o.bloomBitsPerKey >= 0)) throw new KvdbError("INVALID_ARGUMENT", "bloomBitsPerKey must be >= 0");
  return o;
}

function positive(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new KvdbError("INVALID_ARGUMENT", `${name} must be a positive integer, got ${v}`);
}
