/**
 * @module
 * The public contract of kvdb's embedded API: what `openDatabase` returns. The REST
 * server and the CLI call only this interface.
 */
import type { FileSystem } from "./engine/fs.ts";
import type { CheckProblem, FileCheckFigures } from "./engine/check.ts";
import type { IndexCheckFigures } from "./indexing/check.ts";
import type { IndexDefinition } from "./indexing/definition.ts";
import type { IndexInfo } from "./indexing/manager.ts";
import type { QueryRequest, QueryResponse } from "./query/types.ts";

export type { IndexDefinition, IndexInfo, QueryRequest, QueryResponse };

export type SyncMode = "always" | "none";

export interface DatabaseOptions {
  /** "always" (default): a write resolves only after fdatasync. "none": after write(2) only. */
  sync?: SyncMode;
  /** Size at which the active MemTable is frozen and flushed to an SSTable. Default 8 MiB. */
  memtableBytes?: number;
  /** Longest accepted key, in UTF-8 bytes. Default 4096. */
  maxKeyBytes?: number;
  /** Largest accepted value, in bytes. Default 16 MiB. */
  maxValueBytes?: number;
  /** Target size of an SSTable data block. Default 4096. */
  blockSize?: number;
  /** Bloom filter bits per key. Default 10 (about 1% false positives). */
  bloomBitsPerKey?: number;
  /** Compact automatically after flushes. Default true. */
  autoCompact?: boolean;
  /** Compaction outputs are split into tables of about this size. Default 2 MiB. */
  targetFileBytes?: number;
  /** Size limit of level 1; each deeper level may hold 10× more. Default 10 MiB. */
  levelBaseBytes?: number;
  /** The file-system layer; tests inject faults through it. */
  fs?: FileSystem;
  /** Secondary indexes: a path to an indexes.toml, or the definitions themselves. */
  indexes?: string | IndexDefinition[];
  /** Posting block capacity in entries (default 256) ... */
  indexBlockEntries?: number;
  /** ... and in bytes (default 16 KiB), whichever fills first. */
  indexBlockBytes?: number;
}

export type WriteOp =
  | { type: "put"; key: string; value: Uint8Array | string }
  | { type: "delete"; key: string };

export interface ScanOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
  /** Inclusive lower bound. */
  start?: string;
  /** Exclusive upper bound. */
  end?: string;
  /** Stop after this many items. */
  limit?: number;
  /** Descending key order. */
  reverse?: boolean;
}

export interface LevelStats {
  level: number;
  files: number;
  bytes: number;
  /** Smallest and largest key in the level (UTF-8, lossy for internal keys), null when empty. */
  smallest: string | null;
  largest: string | null;
  /** Compaction score: ≥ 1 means the level is over its limit and due for compaction. */
  score: number;
}

export interface DatabaseStats {
  dir: string;
  sync: SyncMode;
  /** Sequence number of the newest acknowledged write. */
  sequence: number;
  memtables: { activeEntries: number; activeBytes: number; immutable: number; immutableBytes: number };
  wal: {
    fileNumber: number;
    bytes: number;
    appends: number;
    syncs: number;
    batchesWritten: number;
    recoveredBatches: number;
    recoveredBytes: number;
    truncatedBytes: number;
  };
  sstables: { files: number; bytes: number; levels: LevelStats[] };
  flushes: number;
  compaction: {
    running: boolean;
    compactions: number;
    trivialMoves: number;
    bytesRead: number;
    bytesWritten: number;
    /** Bytes written to disk (WAL + flushes + compactions) ÷ bytes written by users. */
    writeAmplification: number;
    /**
     * Bytes on disk (tables + WAL) ÷ bytes of the largest level: an estimate (live data is
     * not known without a scan) that errs high; scripts/bench-compaction.ts measures the
     * exact figure by scanning.
     */
    spaceAmplification: number;
  };
  /** Back-pressure: "slowdown" when level 0 has ≥ 8 tables (1 ms per write group), "stopped" at ≥ 12 or too many unflushed MemTables. */
  stall: { state: "none" | "slowdown" | "stopped"; slowdowns: number; stops: number };
  writes: { puts: number; deletes: number; batches: number; userBytes: number };
  /** `bloomNegatives`: point lookups in the live tables that their Bloom filters answered without reading a block. */
  reads: { gets: number; scans: number; bloomNegatives: number };
  /**
   * The filter of existing keys that lets an indexed write of a new key skip reading its
   * previous value: "off" without indexes, "building" while its scan runs at open.
   */
  keyFilter: { state: "off" | "building" | "ready"; filters: number; bytes: number; skippedReads: number };
}

export interface BackupResult {
  dir: string;
  /** Tables hard-linked (or copied across devices). */
  tables: number;
  /** WAL files copied. */
  wals: number;
  bytes: number;
  ms: number;
}

export type { CheckProblem, FileCheckFigures, IndexCheckFigures };

export interface CheckOptions {
  /** Verify the data directory's files (default true); false checks only the indexes against the data. */
  files?: boolean;
}

/** What `check()` found: `ok` is false when any problem is damage (warnings alone leave it true). */
export interface CheckReport {
  ok: boolean;
  problems: CheckProblem[];
  /** Null when the files were not checked. */
  files: FileCheckFigures | null;
  indexes: IndexCheckFigures[];
  ms: number;
}

export interface Database {
  readonly dir: string;
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array | string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic: after any crash, all of the ops are applied or none. */
  write(ops: WriteOp[]): Promise<void>;
  /** Ordered by the UTF-8 bytes of the key, over a snapshot taken when iteration starts. */
  scan(options?: ScanOptions): AsyncIterable<[string, Uint8Array]>;
  stats(): DatabaseStats;
  /** Writes the MemTable to an SSTable now. */
  flush(): Promise<void>;
  /** Full manual compaction. */
  compact(): Promise<void>;
  /**
   * A query over values: `{scope_prefix, filter, limit, cursor, count, explain}`. Answered
   * from a secondary index when one applies, by scanning the scope otherwise; the results
   * are the same either way. Invalid requests reject with INVALID_ARGUMENT.
   */
  query(request: QueryRequest): Promise<QueryResponse>;
  /** Every declared index with its state, progress and size figures. */
  listIndexes(): IndexInfo[];
  getIndex(name: string): IndexInfo | undefined;
  /** Reloads index definitions (the source given at open, or a new path or array). */
  reloadIndexes(source?: string | IndexDefinition[]): Promise<IndexInfo[]>;
  /** Rebuilds an index online; resolves once the new generation is registered (it builds in the background). */
  rebuildIndex(name: string): Promise<IndexInfo>;
  /** Resolves when no index build, drop or key-filter scan (see `stats().keyFilter`) is pending. */
  waitForIndexes(): Promise<void>;
  /**
   * Writes a consistent checkpoint to `dest` (new or empty) while the database keeps
   * serving: it holds every write acknowledged before the call. Open it with
   * `openDatabase(dest)` or `kvdb serve --data-dir dest`.
   */
  backup(dest: string): Promise<BackupResult>;
  /**
   * Verifies the open database while it keeps serving: every checksum and structure of
   * its files (tables, manifest, WALs; see src/engine/check.ts) and each ready index
   * against the data. Resolves with the problems found; rejects only if it cannot run.
   */
  check(options?: CheckOptions): Promise<CheckReport>;
  close(): Promise<void>;
}
