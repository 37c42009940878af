/**
 * @module
 * kvdb's embedded API: `openDatabase(dir)` returns a {@link Database}. This facade owns
 * the user-facing rules — keys are non-empty, well-formed UTF-8 strings within a size
 * limit, values are bytes (strings are stored as their UTF-8) — and turns them into the
 * engine's byte-level operations. The REST server and the CLI call only this API.
 *
 * User keys live below the byte 0xFF: UTF-8 never contains it, so keys starting with
 * 0xFF form an internal namespace (secondary indexes) that no user key can reach.
 */
import { Engine, type EngineOp } from "./engine/engine.ts";
import { KvdbError } from "./engine/errors.ts";
import { compareBytes, prefixEnd, utf8 } from "./engine/coding.ts";
import { KIND_DELETE, KIND_PUT } from "./engine/iterator.ts";
import { ScanCursor } from "./scan_cursor.ts";
import { IndexManager, type IndexInfo } from "./indexing/manager.ts";
import { EqualityIndexPlanner } from "./indexing/equality_plan.ts";
import { PostingCache } from "./indexing/postings_reader.ts";
import { RangeIndexPlanner } from "./indexing/range_plan.ts";
import { RangeKeyCache } from "./indexing/range_entries.ts";
import { executeQuery } from "./query/execute.ts";
import type { RawEntryCursor } from "./query/source.ts";
import type { QueryRequest, QueryResponse } from "./query/types.ts";
import { loadIndexesFile, validateDefinitions, type IndexDefinition } from "./indexing/definition.ts";
import { resolve } from "node:path";
import type { BackupResult, CheckOptions, CheckReport, Database, DatabaseOptions, DatabaseStats, ScanOptions, SyncMode, WriteOp } from "./types.ts";
import { checkDataFiles } from "./engine/check.ts";
import { checkIndexes } from "./indexing/check.ts";
import { USER_KEYSPACE_END } from "./indexing/keys.ts";

export type { BackupResult, CheckReport, Database, DatabaseOptions, DatabaseStats, IndexDefinition, IndexInfo, QueryRequest, QueryResponse, ScanOptions, SyncMode, WriteOp } from "./types.ts";
export { KvdbError, type ErrorCode } from "./engine/errors.ts";

export const DEFAULT_MAX_KEY_BYTES = 4096;
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

export async function openDatabase(dir: string, options: DatabaseOptions = {}): Promise<Database> {
  if (typeof dir !== "string" || dir.length === 0) throw new KvdbError("INVALID_ARGUMENT", "a data directory path is required");
  // Definitions are validated before anything is opened: a bad indexes.toml refuses to start.
  const definitions = options.indexes === undefined ? undefined : resolveDefinitions(options.indexes);
  const indexes = new IndexManager({ limits: { blockEntries: options.indexBlockEntries, blockBytes: options.indexBlockBytes } });
  const engine = await Engine.open(dir, {
    prepareBatch: indexes.prepare,
    compactionHook: indexes.compactionHook,
    fs: options.fs,
    sync: options.sync,
    memtableBytes: options.memtableBytes,
    blockSize: options.blockSize,
    bloomBitsPerKey: options.bloomBitsPerKey,
    autoCompact: options.autoCompact,
    targetFileBytes: options.targetFileBytes,
    levelBaseBytes: options.levelBaseBytes,
  });
  try {
    indexes.attach(engine);
    if (definitions) await indexes.reconcile(definitions);
  } catch (e) {
    await indexes.stop();
    await engine.close();
    throw e;
  }
  return new KvDatabase(engine, indexes, options);
}

/** A path to an indexes.toml, or definitions given in code; validated either way. */
function resolveDefinitions(source: string | IndexDefinition[]): IndexDefinition[] {
  return typeof source === "string" ? loadIndexesFile(source) : validateDefinitions(source);
}

class KvDatabase implements Database {
  private readonly maxKeyBytes: number;
  private readonly maxValueBytes: number;

  private indexSource: string | IndexDefinition[] | undefined;
  private readonly postingCache = new PostingCache();
  private readonly rangeKeyCache = new RangeKeyCache();

  constructor(
    private readonly engine: Engine,
    private readonly indexes: IndexManager,
    options: DatabaseOptions,
  ) {
    this.indexSource = options.indexes;
    this.maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  get dir(): string {
    return this.engine.dir;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = this.engine.get(this.encodeKey(key));
    // A copy: the stored bytes belong to the MemTable or a mapped table.
    return value?.slice();
  }

  put(key: string, value: Uint8Array | string): Promise<void> {
    try {
      return this.engine.write([{ kind: KIND_PUT, key: this.encodeKey(key), value: this.encodeValue(value) }]);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: string): Promise<void> {
    try {
      return this.engine.write([{ kind: KIND_DELETE, key: this.encodeKey(key), value: EMPTY }]);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  write(ops: WriteOp[]): Promise<void> {
    try {
      return this.engine.write(this.encodeOps(ops));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Validates every op before any is applied: a bad op rejects the whole batch. */
  private encodeOps(ops: WriteOp[]): EngineOp[] {
    if (!Array.isArray(ops)) throw new KvdbError("INVALID_ARGUMENT", "write() takes an array of ops");
    return ops.map((op, i) => {
      const at = `ops[${i}]`;
      if (op === null || typeof op !== "object") throw new KvdbError("INVALID_ARGUMENT", `${at}: not an object`);
      if (op.type === "put") return { kind: KIND_PUT, key: this.encodeKey(op.key, at), value: this.encodeValue(op.value, at) };
      if (op.type === "delete") return { kind: KIND_DELETE, key: this.encodeKey(op.key, at), value: EMPTY };
      throw new KvdbError("INVALID_ARGUMENT", `${at}: type must be "put" or "delete"`);
    });
  }

  scan(options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    const bounds = this.scanBounds(options);
    const limit = scanLimit(options.limit);
    const engine = this.engine;
    const reverse = options.reverse === true;
    return {
      [Symbol.asyncIterator]: () =>
        new ScanCursor(() => engine.readView(), bounds ? { ...bounds, limit, reverse } : { lower: undefined, upper: USER_KEYSPACE_END, limit: 0, reverse }),
    };
  }

  /**
   * The query layer's fast path (src/query/source.ts): the same entries as `scan` over
   * one snapshot, as a synchronous cursor on the stored bytes — no copies, no promises.
   */
  scanRaw(options: Pick<ScanOptions, "prefix" | "start">): RawEntryCursor {
    const bounds = this.scanBounds(options);
    const view = this.engine.readView();
    const it = view.iterator(bounds?.lower, bounds?.upper ?? EMPTY);
    if (bounds) it.seekToFirst();
    let open = true;
    return {
      valid: () => bounds !== undefined && it.valid(),
      key: () => it.key(),
      value: () => it.value(),
      next: () => it.next(),
      close: () => {
        if (open) view.release();
        open = false;
      },
    };
  }

  /** Runs a query over values (see src/query): by scan, or from an index when one applies. */
  query(request: QueryRequest): Promise<QueryResponse> {
    try {
      this.checkOpen();
      const planners = this.indexes
        .declaredIndexes()
        .map((i) => (i.definition.type === "range" ? new RangeIndexPlanner(i, this.engine, this.rangeKeyCache) : new EqualityIndexPlanner(i, this.engine, this.postingCache)));
      return executeQuery(this, request, { indexes: planners });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Intersects prefix, start and end into [lower, upper); undefined when empty. */
  private scanBounds(options: ScanOptions): { lower: Uint8Array | undefined; upper: Uint8Array } | undefined {
    if (options === null || typeof options !== "object") throw new KvdbError("INVALID_ARGUMENT", "scan options must be an object");
    let lower: Uint8Array | undefined;
    let upper: Uint8Array = USER_KEYSPACE_END;
    const raise = (b: Uint8Array) => {
      if (!lower || compareBytes(b, lower) > 0) lower = b;
    };
    const cap = (b: Uint8Array) => {
      if (compareBytes(b, upper) < 0) upper = b;
    };
    if (options.prefix !== undefined) {
      const p = this.encodeBound(options.prefix, "prefix");
      raise(p);
      const end = prefixEnd(p);
      if (end) cap(end);
    }
    if (options.start !== undefined) raise(this.encodeBound(options.start, "start"));
    if (options.end !== undefined) cap(this.encodeBound(options.end, "end"));
    if (lower && compareBytes(lower, upper) >= 0) return undefined;
    return { lower, upper };
  }

  private encodeBound(s: unknown, name: string): Uint8Array {
    if (typeof s !== "string" || !s.isWellFormed()) {
      throw new KvdbError("INVALID_ARGUMENT", `scan ${name} must be a well-formed string`);
    }
    return utf8(s);
  }

  private encodeKey(key: unknown, at = "key"): Uint8Array {
    if (typeof key !== "string") throw new KvdbError("INVALID_KEY", `${at}: a key must be a string`);
    if (key.length === 0) throw new KvdbError("INVALID_KEY", `${at}: a key must not be empty`);
    if (!key.isWellFormed()) throw new KvdbError("INVALID_KEY", `${at}: a key must be valid Unicode (lone surrogate)`);
    const bytes = utf8(key);
    if (bytes.length > this.maxKeyBytes) {
      throw new KvdbError("INVALID_KEY", `${at}: key is ${bytes.length} bytes, the maximum is ${this.maxKeyBytes}`);
    }
    return bytes;
  }

  private encodeValue(value: unknown, at = "value"): Uint8Array {
    let bytes: Uint8Array;
    if (typeof value === "string") bytes = utf8(value);
    // A copy: the caller may reuse its buffer after the write resolves.
    else if (value instanceof Uint8Array) bytes = value.slice();
    else throw new KvdbError("INVALID_VALUE", `${at}: a value must be a string or a Uint8Array`);
    if (bytes.length > this.maxValueBytes) {
      throw new KvdbError("TOO_LARGE", `${at}: value is ${bytes.length} bytes, the maximum is ${this.maxValueBytes}`);
    }
    return bytes;
  }

  stats(): DatabaseStats {
    const e = this.engine;
    const s = e.snapshotState();
    const c = e.counters;
    const levels = s.levels.map((files, level) => ({
      level,
      files: files.length,
      bytes: files.reduce((n, f) => n + f.size, 0),
      smallest: files.length ? lossyText(files.reduce((m, f) => (compareBytes(f.smallest, m) < 0 ? f.smallest : m), files[0].smallest)) : null,
      largest: files.length ? lossyText(files.reduce((m, f) => (compareBytes(f.largest, m) > 0 ? f.largest : m), files[0].largest)) : null,
      score: s.scores[level] ?? 0,
    }));
    const tableBytes = levels.reduce((n, l) => n + l.bytes, 0);
    // The largest level holds most live data in a leveled tree (each level is ~10x the one above).
    const largest = levels.reduce((m, l) => (l.bytes > m ? l.bytes : m), 0);
    const written = c.walBytesWritten + c.flushBytesWritten + c.compactionBytesWritten;
    return {
      dir: e.dir,
      sync: e.options.sync,
      sequence: s.lastSeq,
      memtables: { activeEntries: s.activeEntries, activeBytes: s.activeBytes, immutable: s.frozenCount, immutableBytes: s.frozenBytes },
      wal: {
        fileNumber: s.walNumber,
        bytes: s.walBytes,
        appends: c.walAppends,
        syncs: c.walSyncs,
        batchesWritten: c.batchesWritten,
        recoveredBatches: c.recoveredBatches,
        recoveredBytes: c.recoveredBytes,
        truncatedBytes: c.truncatedBytes,
      },
      sstables: { files: levels.reduce((n, l) => n + l.files, 0), bytes: tableBytes, levels },
      flushes: c.flushes,
      compaction: {
        running: s.compacting,
        compactions: c.compactions,
        trivialMoves: c.trivialMoves,
        bytesRead: c.compactionBytesRead,
        bytesWritten: c.compactionBytesWritten,
        writeAmplification: c.userBytes > 0 ? round(written / c.userBytes) : 0,
        spaceAmplification: largest > 0 ? round((tableBytes + s.walBytes) / largest) : 0,
      },
      stall: { state: s.stall, slowdowns: c.slowdowns, stops: c.stalls },
      writes: { puts: c.puts, deletes: c.deletes, batches: c.batches, userBytes: c.userBytes },
      reads: { gets: c.gets, scans: c.scans, bloomNegatives: s.bloomNegatives },
      keyFilter: this.indexes.presence.figures(),
    };
  }

  flush(): Promise<void> {
    return this.engine.flush();
  }

  compact(): Promise<void> {
    return this.engine.compact();
  }

  listIndexes(): IndexInfo[] {
    this.checkOpen();
    return this.indexes.list();
  }

  getIndex(name: string): IndexInfo | undefined {
    this.checkOpen();
    return this.indexes.info(name);
  }

  /**
   * Re-reads the definitions (the same file or array as at open, or a new one) and
   * reconciles: new or changed indexes build online, removed ones are dropped, unchanged
   * ones are untouched. A bad file changes nothing and throws INVALID_ARGUMENT.
   */
  async reloadIndexes(source?: string | IndexDefinition[]): Promise<IndexInfo[]> {
    this.checkOpen();
    const from = source ?? this.indexSource;
    if (from === undefined) throw new KvdbError("INVALID_ARGUMENT", "no index definitions to reload: none were given at open");
    const definitions = resolveDefinitions(from);
    await this.indexes.reconcile(definitions);
    this.indexSource = from;
    return this.indexes.list();
  }

  rebuildIndex(name: string): Promise<IndexInfo> {
    this.checkOpen();
    return this.indexes.rebuild(name);
  }

  async backup(dest: string): Promise<BackupResult> {
    this.checkOpen();
    if (typeof dest !== "string" || dest.length === 0) throw new KvdbError("INVALID_ARGUMENT", "a backup destination directory is required");
    const started = performance.now();
    const target = resolve(dest);
    if (target === resolve(this.engine.dir)) throw new KvdbError("INVALID_ARGUMENT", "the backup destination must differ from the data directory");
    const r = await this.engine.checkpoint(target);
    return { dir: target, ...r, ms: Math.round(performance.now() - started) };
  }

  async check(options: CheckOptions = {}): Promise<CheckReport> {
    this.checkOpen();
    const started = performance.now();
    const { fs, maxRecordBytes } = this.engine.options;
    // live: the files change while the check reads them (appends, flushes, compactions).
    const files = options.files === false ? undefined : await checkDataFiles(this.engine.dir, { fs, maxRecordBytes, live: true });
    const indexes = await checkIndexes(this.engine, this.indexes.declaredIndexes());
    const problems = [...(files?.problems ?? []), ...indexes.problems];
    return { ok: !problems.some((p) => p.severity === "damage"), problems, files: files?.figures ?? null, indexes: indexes.indexes, ms: Math.round(performance.now() - started) };
  }

  /** Resolves when no index build, drop or key-filter scan is running (tests; `kvdb index rebuild` waits with it). */
  waitForIndexes(): Promise<void> {
    return this.indexes.idle();
  }

  private checkOpen(): void {
    if (this.engine.isClosed) throw new KvdbError("CLOSED", "the database is closed");
  }

  async close(): Promise<void> {
    await this.indexes.stop();
    await this.engine.close();
  }
}

const EMPTY = new Uint8Array(0);
const lossyDecoder = new TextDecoder();
const lossyText = (b: Uint8Array) => lossyDecoder.decode(b);
const round = (x: number) => Math.round(x * 100) / 100;

function scanLimit(limit: unknown): number {
  if (limit === undefined) return Infinity;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
    throw new KvdbError("INVALID_ARGUMENT", `scan limit must be a non-negative integer, got ${String(limit)}`);
  }
  return limit;
}
