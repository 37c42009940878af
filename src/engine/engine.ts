/**
 * @module
 * The storage engine: the orchestrator that ties the WAL, MemTables, SSTables and the
 * manifest together (LevelDB's `db_impl.cc`). It speaks bytes only; user-key rules,
 * strings and namespaces belong to the `Database` facade above it.
 *
 * Write path (group commit): writers queue; one commit loop takes everything queued,
 * assigns sequence numbers, appends all their WAL records with one write and one
 * fdatasync, applies them to the MemTable, publishes the new last sequence and only
 * then resolves every writer's promise. Whatever queues during the sync becomes the
 * next group. A failed append or sync is sticky: that group and every later write fail
 * until the database is reopened.
 *
 * Durable ordering of a flush: the SSTable is written and fsynced, the directory is
 * fsynced, then the manifest edit that adds it (and retires the old WAL) is appended and
 * fsynced; only then is the new Version installed and the old WAL deleted.
 */
import { join } from "node:path";
import { KvdbError, isKvdbError } from "./errors.ts";
import { binaryString, concatBytes } from "./coding.ts";
import { KIND_DELETE, KIND_PUT, type EntryIterator, type Kind } from "./iterator.ts";
import { MemTable } from "./memtable.ts";
import { MergingIterator } from "./merging_iterator.ts";
import { LevelIterator } from "./level_iterator.ts";
import { SnapshotIterator } from "./snapshot_iterator.ts";
import { TableReader } from "./sstable/reader.ts";
import { lookup, lookupMany } from "./point_lookup.ts";
import { encodeRecord } from "./log_format.ts";
import { encodeBatch, KIND_MERGE, type BatchOp } from "./write_batch.ts";
import { WalWriter, readWal } from "./wal.ts";
import { ManifestWriter, applyEdit, readManifest, emptyManifestState, type FileMeta, type ManifestState, type VersionEdit } from "./manifest.ts";
import { acquireLock, type DirLock } from "./lock.ts";
import { parseFileName, tableFileName, walFileName } from "./filenames.ts";
import { TableHandle, Version, NUM_LEVELS, sortLevel } from "./version.ts";
import { resolveEngineOptions, type EngineOptions } from "./options.ts";
import { writeTables } from "./table_writer.ts";
import { levelScores, levelTask, pickCompaction, type CompactionTask } from "./compaction/picker.ts";
import { runCompaction } from "./compaction/run.ts";
import { SnapshotList } from "./snapshots.ts";

export interface EngineOp {
  kind: Kind;
  key: Uint8Array;
  /** The whole new value (empty for deletes): what the MemTable and readers get. */
  value: Uint8Array;
  /**
   * When set, the WAL logs this operand as a merge instead of the whole value; recovery
   * rebuilds the value with the merge operator. The caller guarantees
   * `mergeOperator(current value, operand)` equals `value`.
   */
  operand?: Uint8Array;
  /** The previous version may be overwritten in the MemTable when no reader can see it. */
  replaceable?: boolean;
  /** Written by kvdb itself (index maintenance): not counted as user writes in statistics. */
  internal?: boolean;
}

/** Reads one key at a time. */
export interface PointReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

/** Reads inside the serialized write path: the latest state plus the earlier batches of the same group. */
export interface BatchReader extends PointReader {
  /**
   * What `get` returns for each key, in order, looked up together: cheaper than one
   * `get` per key when they are many (see point_lookup.ts).
   */
  getMany(keys: readonly Uint8Array[]): (Uint8Array | undefined)[];
}

/**
 * Runs inside the serialized write path, once per batch, in commit order, before the
 * batch is logged: a higher layer (the secondary indexes) reads what it needs through
 * `reader` and returns the ops to log instead — for example the batch plus its index
 * changes, so record and index change in one atomic batch. Throwing rejects just this
 * batch.
 */
export type PrepareBatch = (ops: EngineOp[], reader: BatchReader) => EngineOp[];

export interface EngineCounters {
  walAppends: number;
  walSyncs: number;
  batchesWritten: number;
  recoveredBatches: number;
  recoveredBytes: number;
  truncatedBytes: number;
  flushes: number;
  compactions: number;
  trivialMoves: number;
  walBytesWritten: number;
  flushBytesWritten: number;
  compactionBytesRead: number;
  compactionBytesWritten: number;
  slowdowns: number;
  puts: number;
  deletes: number;
  batches: number;
  userBytes: number;
  stalls: number;
  gets: number;
  scans: number;
}

export interface EngineState {
  levels: FileMeta[][];
  lastSeq: number;
  walNumber: number;
  walBytes: number;
  activeEntries: number;
  activeBytes: number;
  frozenBytes: number;
  frozenCount: number;
  bloomNegatives: number;
  scores: number[];
  compacting: boolean;
  stall: "none" | "slowdown" | "stopped";
}

interface PendingWrite {
  ops: EngineOp[];
  /** Computes the ops from the latest state, alone in its commit group (see writeWith). */
  build?: (view: ReadView) => EngineOp[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface FrozenMemTable {
  mem: MemTable;
  /** The WAL that holds exactly this MemTable's writes. */
  walNumber: number;
}

/** A consistent point-in-time view: what a scan reads. Release it when done. */
export interface ReadView {
  readonly seq: number;
  /** A point read at this view's sequence number. */
  get(key: Uint8Array): Uint8Array | undefined;
  iterator(lower?: Uint8Array, upper?: Uint8Array): SnapshotIterator;
  release(): void;
}

export class Engine {
  private mem!: MemTable;
  private wal!: WalWriter;
  private walNumber = 0;
  private frozen: FrozenMemTable[] = [];
  private current!: Version;
  private manifest!: ManifestWriter;
  private state!: ManifestState;
  private lastSeq = 0;
  private nextFileNumber = 1;
  private readonly tables = new Map<number, TableHandle>();
  private readonly snapshots = new SnapshotList();

  private queue: PendingWrite[] = [];
  private committing = false;
  private flushing: Promise<void> | undefined;
  private roomWaiters: Array<() => void> = [];
  private compacting: Promise<void> | undefined;
  /** Compactions (background and manual) run one at a time through this chain. */
  private compactionChain: Promise<unknown> = Promise.resolve();
  /** Manifest edits are computed and logged one at a time through this chain. */
  private manifestChain: Promise<unknown> = Promise.resolve();
  private closing = false;
  private groupsSinceYield = 0;
  /** Sticky background error: set when a WAL or flush I/O failed; every later write fails with it. */
  private bgError: KvdbError | undefined;
  private closed = false;

  readonly counters: EngineCounters = {
    walAppends: 0,
    walSyncs: 0,
    batchesWritten: 0,
    recoveredBatches: 0,
    recoveredBytes: 0,
    truncatedBytes: 0,
    flushes: 0,
    compactions: 0,
    trivialMoves: 0,
    walBytesWritten: 0,
    flushBytesWritten: 0,
    compactionBytesRead: 0,
    compactionBytesWritten: 0,
    slowdowns: 0,
    puts: 0,
    deletes: 0,
    batches: 0,
    userBytes: 0,
    stalls: 0,
    gets: 0,
    scans: 0,
  };

  private constructor(
    readonly dir: string,
    readonly options: EngineOptions,
    private readonly lock: DirLock,
  ) {}

  static async open(dir: string, partial: Partial<EngineOptions> = {}): Promise<Engine> {
    const options = resolveEngineOptions(partial);
    options.fs.mkdirp(dir);
    const lock = acquireLock(dir);
    const engine = new Engine(dir, options, lock);
    try {
      await engine.recover();
    } catch (e) {
      engine.closeFiles();
      lock.release();
      throw e;
    }
    return engine;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Replays the manifest and the WALs it does not yet cover, writes what the WALs held
   * into a level-0 table, starts a fresh WAL and a fresh manifest, and removes files
   * that nothing references (orphans of a crash).
   */
  private async recover(): Promise<void> {
    const { fs } = this.options;
    const names = fs.list(this.dir);
    const existing = await readManifest(fs, this.dir);
    if (!existing && names.some((n) => { const t = parseFileName(n)?.type; return t === "table" || t === "manifest"; })) {
      throw new KvdbError("CORRUPTION", `${join(this.dir, "CURRENT")}: missing, but the directory holds tables or manifests`);
    }
    let state = existing ?? emptyManifestState();
    let maxNumber = state.nextFileNumber - 1;
    const wals: number[] = [];
    for (const name of names) {
      const parsed = parseFileName(name);
      if (parsed?.number === undefined) continue;
      maxNumber = Math.max(maxNumber, parsed.number);
      if (parsed.type === "wal" && parsed.number >= state.logNumber) wals.push(parsed.number);
    }
    this.nextFileNumber = maxNumber + 1;
    this.lastSeq = state.lastSequence;

    // Open every live table first: a missing or corrupt table must stop the open
    // before anything is rewritten. Merge ops in the WAL read their base from them.
    this.state = state;
    this.installVersion();

    wals.sort((a, b) => a - b);
    const recovered = this.newMemTable();
    this.mem = recovered;
    for (const number of wals) {
      const path = join(this.dir, walFileName(number));
      const result = await readWal(fs, path, this.options.maxRecordBytes);
      this.counters.truncatedBytes += result.tornBytes;
      this.counters.recoveredBytes += result.validBytes;
      for (const batch of result.batches) {
        this.counters.recoveredBatches++;
        for (const op of batch.ops) {
          let kind: Kind;
          let value = op.value;
          if (op.kind === KIND_MERGE) {
            kind = KIND_PUT;
            value = this.options.mergeOperator(lookup(op.key, Infinity, [recovered], this.current), op.value);
          } else kind = op.kind;
          // Nobody reads during recovery: only the newest version of a key is needed.
          if (!recovered.replaceNewest(op.key, kind, value, () => true)) recovered.add(op.key, op.seq, kind, value);
          this.lastSeq = Math.max(this.lastSeq, op.seq);
        }
      }
    }

    const edit: VersionEdit = {};
    if (!recovered.isEmpty) {
      const meta = await this.writeLevel0(recovered);
      edit.addedFiles = [meta];
    }
    this.mem = this.newMemTable();
    this.walNumber = this.allocateFileNumber();
    this.wal = new WalWriter(fs.openWritable(join(this.dir, walFileName(this.walNumber)), { truncate: true }));
    await fs.syncDir(this.dir);
    edit.logNumber = this.walNumber;
    edit.nextFileNumber = this.nextFileNumber;
    edit.lastSequence = this.lastSeq;
    state = applyEdit(state, edit);
    this.state = state;
    // A fresh manifest at every open keeps the edit log short and drops torn tails.
    const manifestNumber = this.allocateFileNumber();
    this.state = applyEdit(this.state, { nextFileNumber: this.nextFileNumber });
    this.manifest = await ManifestWriter.create(fs, this.dir, this.state, manifestNumber);
    this.installVersion();
    this.removeObsoleteFiles(manifestNumber);
    // Short-lived openers (CLI commands) each add a level-0 table from their WAL.
    this.maybeScheduleCompaction();
  }

  /** Deletes WALs already in tables, tables no manifest names, old manifests and temp files. */
  private removeObsoleteFiles(manifestNumber: number): void {
    const { fs } = this.options;
    const live = new Set(this.state.levels.flat().map((f) => f.number));
    for (const name of fs.list(this.dir)) {
      const parsed = parseFileName(name);
      if (!parsed) continue;
      const n = parsed.number ?? -1;
      const obsolete =
        (parsed.type === "wal" && n < this.state.logNumber) ||
        (parsed.type === "table" && !live.has(n)) ||
        (parsed.type === "manifest" && n !== manifestNumber) ||
        parsed.type === "temp";
      if (obsolete) fs.remove(join(this.dir, name));
    }
  }

  private allocateFileNumber(): number {
    return this.nextFileNumber++;
  }

  private openTable(meta: FileMeta): TableHandle {
    const path = join(this.dir, tableFileName(meta.number));
    const reader = TableReader.open(this.options.fs, path);
    const handle = new TableHandle(meta, reader, (t) => this.onTableUnreferenced(t));
    this.tables.set(meta.number, handle);
    return handle;
  }

  /** A table no Version holds any more: its manifest removal is durable, so its file can go. */
  private onTableUnreferenced(table: TableHandle): void {
    this.tables.delete(table.meta.number);
    if (this.closed) return;
    try {
      this.options.fs.remove(table.reader.path);
    } catch {
      // An undeletable obsolete file is harmless: the next open removes it as an orphan.
    }
  }

  /** Builds a Version from the manifest state and makes it current. */
  private installVersion(): void {
    const levels: TableHandle[][] = [];
    for (let level = 0; level < NUM_LEVELS; level++) {
      const handles = (this.state.levels[level] ?? []).map((m) => {
        const handle = this.tables.get(m.number) ?? this.openTable(m);
        handle.meta = m;
        return handle;
      });
      levels.push(sortLevel(level, handles));
    }
    const previous = this.current;
    this.current = new Version(levels);
    previous?.unref();
  }

  // ---------------------------------------------------------------- writes

  /** Applies `ops` atomically; resolves once durable under the sync mode. */
  write(ops: EngineOp[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.bgError) return Promise.reject(this.bgError);
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.committing) void this.commitLoop();
    });
  }

  /**
   * Commits a batch computed from the latest state: `build` runs inside the serialized
   * write path, alone in its group, with a view that includes every earlier write, and
   * returns the ops to apply (they bypass the prepare hook). Nothing can commit between
   * what `build` reads and what it writes. Used by online index builds.
   */
  writeWith(build: (view: ReadView) => EngineOp[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.bgError) return Promise.reject(this.bgError);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: [], build, resolve, reject });
      if (!this.committing) void this.commitLoop();
    });
  }

  private async commitLoop(): Promise<void> {
    this.committing = true;
    try {
      while (this.queue.length > 0) {
        if (this.bgError) {
          this.failQueued(this.bgError);
          break;
        }
        await this.makeRoomForWrite();
        if (this.bgError) continue;
        // Without an fsync to wait for, a tight loop of awaited writes would run entirely
        // on microtasks and starve flushes, compactions and index builds: yield now and then.
        if (this.options.sync === "none" && ++this.groupsSinceYield >= 64) {
          this.groupsSinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
          if (this.queue.length === 0) continue;
        }
        // A build runs alone; plain writes group up to the next build.
        let take = this.queue[0].build ? 1 : this.queue.findIndex((w) => w.build !== undefined);
        if (take < 0) take = this.queue.length;
        const group = this.queue.splice(0, take);
        if (group[0].build) {
          if (!this.runBuild(group[0])) continue;
          await this.commitGroup(group, false);
        } else await this.commitGroup(group, true);
      }
    } finally {
      this.committing = false;
    }
  }

  /** Runs a build in place; false (and the writer rejected) when it threw or wrote nothing. */
  private runBuild(w: PendingWrite): boolean {
    const view = this.openView();
    try {
      w.ops = w.build!(view);
    } catch (e) {
      w.reject(e);
      return false;
    } finally {
      view.release();
    }
    if (w.ops.length > 0) return true;
    w.resolve();
    return false;
  }

  private async commitGroup(input: PendingWrite[], prepare: boolean): Promise<void> {
    const group = prepare && this.options.prepareBatch ? this.prepareGroup(input, this.options.prepareBatch) : input;
    if (group.length === 0) return;
    let seq = this.lastSeq + 1;
    const records: Uint8Array[] = [];
    let total = 0;
    for (const w of group) {
      const rec = encodeRecord(encodeBatch(seq, w.ops.map(toWalOp)));
      records.push(rec);
      total += rec.length;
      seq += w.ops.length;
    }
    try {
      this.wal.append(records.length === 1 ? records[0] : concatBytes(records, total));
      this.counters.walAppends++;
      this.counters.walBytesWritten += total;
      if (this.options.sync === "always") {
        await this.wal.sync();
        this.counters.walSyncs++;
      }
    } catch (e) {
      this.bgError = asIoError(e, "WAL write failed; the database must be reopened");
      for (const w of group) w.reject(this.bgError);
      this.failQueued(this.bgError);
      return;
    }
    // Durable: now visible.
    seq = this.lastSeq + 1;
    const mem = this.mem;
    const newestSnapshot = this.snapshots.newest();
    const invisible = (s: number) => s > newestSnapshot;
    for (const w of group) {
      for (const op of w.ops) {
        if (!(op.replaceable && mem.replaceNewest(op.key, op.kind, op.value, invisible))) mem.add(op.key, seq, op.kind, op.value);
        seq++;
        if (op.internal) continue;
        if (op.kind === KIND_PUT) this.counters.puts++;
        else this.counters.deletes++;
        this.counters.userBytes += op.key.length + op.value.length;
      }
      this.counters.batches++;
    }
    this.counters.batchesWritten += group.length;
    this.lastSeq = seq - 1;
    for (const w of group) w.resolve();
  }

  /**
   * Lets the prepare hook rewrite each batch in order. Reads see the latest committed
   * state overlaid with the earlier batches of this group, which are not yet applied.
   */
  private prepareGroup(group: PendingWrite[], prepare: PrepareBatch): PendingWrite[] {
    const overlay = new Map<string, Uint8Array | undefined>();
    const mems = this.memTables();
    const reader: BatchReader = {
      get: (key) => {
        if (overlay.size > 0) {
          const id = binaryString(key);
          if (overlay.has(id)) return overlay.get(id);
        }
        return lookup(key, this.lastSeq, mems, this.current);
      },
      getMany: (keys) => {
        if (overlay.size === 0) return lookupMany(keys, this.lastSeq, mems, this.current);
        // Keys an earlier batch of the group wrote are answered from the overlay.
        const rest: Uint8Array[] = [];
        const at: number[] = [];
        const out = keys.map((key, i) => {
          const id = binaryString(key);
          if (overlay.has(id)) return overlay.get(id);
          rest.push(key);
          at.push(i);
          return undefined;
        });
        const found = lookupMany(rest, this.lastSeq, mems, this.current);
        for (let j = 0; j < at.length; j++) out[at[j]] = found[j];
        return out;
      },
    };
    const kept: PendingWrite[] = [];
    for (let g = 0; g < group.length; g++) {
      const w = group[g];
      try {
        w.ops = prepare(w.ops, reader);
      } catch (e) {
        w.reject(e);
        continue;
      }
      // The last batch's writes are read by no one here.
      if (g < group.length - 1) for (const op of w.ops) overlay.set(binaryString(op.key), op.kind === KIND_PUT ? op.value : undefined);
      kept.push(w);
    }
    return kept;
  }

  private failQueued(err: KvdbError): void {
    const queued = this.queue;
    this.queue = [];
    for (const w of queued) w.reject(err);
  }

  /**
   * Applies back-pressure before a write group (LevelDB `MakeRoomForWrite`): delays the
   * group by 1 ms once level 0 reaches `l0SlowdownTrigger` tables, so compaction catches
   * up gradually; waits for a compaction at `l0StopTrigger`; freezes a full MemTable and
   * waits only when too many frozen MemTables are still waiting for their flush.
   */
  private async makeRoomForWrite(): Promise<void> {
    let slowed = false;
    for (;;) {
      if (this.bgError) return;
      const l0 = this.current.levels[0].length;
      if (!slowed && l0 >= this.options.l0SlowdownTrigger && this.options.autoCompact) {
        slowed = true;
        this.counters.slowdowns++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      if (this.mem.approximateBytes < this.options.memtableBytes) return;
      if (this.frozen.length >= this.options.maxImmutableMemtables || (l0 >= this.options.l0StopTrigger && this.options.autoCompact)) {
        this.counters.stalls++;
        this.maybeScheduleCompaction();
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        continue;
      }
      this.rotateMemTable();
    }
  }

  private wakeWriters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private rotateMemTable(): void {
    const { fs } = this.options;
    const number = this.allocateFileNumber();
    let wal: WalWriter;
    try {
      wal = new WalWriter(fs.openWritable(join(this.dir, walFileName(number)), { truncate: true }));
    } catch (e) {
      this.bgError = asIoError(e, "could not start a new WAL");
      return;
    }
    this.frozen.push({ mem: this.mem, walNumber: this.walNumber });
    const old = this.wal;
    this.mem = this.newMemTable();
    this.wal = wal;
    this.walNumber = number;
    // The old WAL stays on disk until its MemTable is in a table named by the manifest.
    void old.sync().catch(() => {}).finally(() => old.close());
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.frozen.length === 0) return;
    this.flushing = this.flushFrozen().finally(() => {
      this.flushing = undefined;
      this.wakeWriters();
      if (!this.bgError && !this.closed) this.scheduleFlush();
    });
  }

  private async flushFrozen(): Promise<void> {
    while (this.frozen.length > 0 && !this.bgError) {
      const { mem } = this.frozen[0];
      try {
        const edit: VersionEdit = {};
        if (!mem.isEmpty) edit.addedFiles = [await this.writeLevel0(mem)];
        edit.logNumber = this.frozen[1]?.walNumber ?? this.walNumber;
        edit.nextFileNumber = this.nextFileNumber;
        edit.lastSequence = this.lastSeq;
        await this.logAndApply(edit);
        const done = this.frozen.shift()!;
        this.options.fs.remove(join(this.dir, walFileName(done.walNumber)));
        this.counters.flushes++;
        this.counters.flushBytesWritten += edit.addedFiles?.[0]?.size ?? 0;
      } catch (e) {
        this.bgError = asIoError(e, "flush failed; the database must be reopened");
        this.failQueued(this.bgError);
        return;
      }
      // Wake stalled writers as soon as one slot is free.
      this.wakeWriters();
      this.maybeScheduleCompaction();
    }
  }

  /** Writes a MemTable as a durable level-0 table and opens it. */
  private async writeLevel0(mem: MemTable): Promise<FileMeta> {
    const [meta] = await writeTables({
      fs: this.options.fs,
      dir: this.dir,
      level: 0,
      allocateNumber: () => this.allocateFileNumber(),
      source: mem.iterator(),
      options: this.options,
      targetFileBytes: Infinity,
      snapshots: this.snapshots.seqs(),
      bottommost: false,
    });
    // The newest version of every key is always kept, so a non-empty MemTable yields a table.
    if (!meta) throw new KvdbError("IO_ERROR", "flush produced no table");
    await this.options.fs.syncDir(this.dir);
    this.openTable(meta);
    return meta;
  }

  /**
   * Makes `edit` durable in the manifest, then installs the Version it describes. Flushes
   * and compactions call this concurrently; the chain applies their edits one at a time,
   * each to the state the previous one produced.
   */
  private logAndApply(edit: VersionEdit): Promise<void> {
    const run = this.manifestChain.then(() => this.logAndApplyNow(edit));
    this.manifestChain = run.catch(() => {});
    return run;
  }

  private async logAndApplyNow(edit: VersionEdit): Promise<void> {
    edit.nextFileNumber = this.nextFileNumber;
    const next = applyEdit(this.state, edit);
    if (this.manifest.size > this.options.maxManifestBytes) {
      const number = this.allocateFileNumber();
      const rotated = await ManifestWriter.create(this.options.fs, this.dir, applyEdit(next, { nextFileNumber: this.nextFileNumber }), number);
      const old = this.manifest;
      this.manifest = rotated;
      old.close();
    } else {
      await this.manifest.apply(edit);
    }
    this.state = next;
    this.installVersion();
  }

  // ---------------------------------------------------------------- compaction

  /** Starts a background compaction if some level is over its limit and none is running. */
  private maybeScheduleCompaction(): void {
    if (this.compacting || !this.options.autoCompact || this.closing || this.bgError) return;
    if (!pickCompaction(this.current, this.options, this.state.compactPointers)) return;
    this.compacting = this.exclusive(async () => {
      // Re-picked inside the chain: a manual compaction may have changed the tree.
      const task = pickCompaction(this.current, this.options, this.state.compactPointers);
      if (task) await this.runTask(task);
    })
      .catch((e) => {
        if (!this.closing) this.bgError = asIoError(e, "compaction failed; the database must be reopened");
      })
      .finally(() => {
        this.compacting = undefined;
        this.wakeWriters();
        this.maybeScheduleCompaction();
      });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.compactionChain.then(fn);
    this.compactionChain = run.catch(() => {});
    return run;
  }

  private async runTask(task: CompactionTask): Promise<void> {
    const version = this.current.ref();
    try {
      const result = await runCompaction(task, {
        fs: this.options.fs,
        dir: this.dir,
        options: this.options,
        version,
        allocateNumber: () => this.allocateFileNumber(),
        snapshots: this.snapshots.seqs(),
        onRead: (n) => (this.counters.compactionBytesRead += n),
        shouldStop: () => this.closing,
      });
      if (!task.trivialMove) {
        await this.options.fs.syncDir(this.dir);
        for (const meta of result.outputs) this.openTable(meta);
        this.counters.compactionBytesWritten += result.outputs.reduce((n, m) => n + m.size, 0);
      }
      await this.logAndApply(result.edit);
      if (task.trivialMove) this.counters.trivialMoves++;
      else this.counters.compactions++;
    } finally {
      version.unref();
    }
  }

  /**
   * Full manual compaction: flushes the MemTable, then merges each level into the next,
   * down to the deepest level that holds data, dropping overwritten versions and (at the
   * bottom) tombstones that no open snapshot needs.
   */
  async compact(): Promise<void> {
    await this.flush();
    await this.exclusive(async () => {
      const deepest = Math.max(1, this.current.levels.findLastIndex((l) => l.length > 0));
      for (let level = 0; level < deepest; level++) {
        const tables = this.current.levels[level];
        if (tables.length === 0) continue;
        const task = levelTask(this.current, level, tables);
        // Rewrite even a lone table at the last step, so its dead entries are dropped.
        if (level === deepest - 1) task.trivialMove = false;
        await this.runTask(task);
      }
    });
    if (this.bgError) throw this.bgError;
  }

  // ---------------------------------------------------------------- backup

  /**
   * Writes a consistent checkpoint of the database to `dest` (a new or empty directory)
   * while it keeps serving: the state is captured between two commit groups, so every
   * write acknowledged before the call is in it. Live tables are hard-linked (they are
   * immutable; a held Version keeps them from being deleted meanwhile), the WALs not yet
   * in tables are copied up to the captured point, and a fresh manifest describes the
   * copy. `openDatabase(dest)` opens it like any database after a clean stop.
   */
  async checkpoint(dest: string): Promise<{ tables: number; wals: number; bytes: number }> {
    this.checkOpen();
    const { fs } = this.options;
    if (fs.exists(dest) && fs.list(dest).length > 0) throw new KvdbError("INVALID_ARGUMENT", `backup destination ${dest} is not empty`);
    fs.mkdirp(dest);
    let captured: { version: Version; state: ManifestState; wals: Array<{ number: number; data: Uint8Array }> } | undefined;
    await this.writeWith(() => {
      // Inside the commit loop, between groups: no WAL append is half done. Frozen
      // MemTables' WALs are read now because their flush may delete them any moment.
      const wals = [...this.frozen.map((f) => f.walNumber), this.walNumber].map((number) => {
        const data = fs.readFile(join(this.dir, walFileName(number)));
        return { number, data: number === this.walNumber ? data.subarray(0, this.wal.size) : data };
      });
      captured = { version: this.current.ref(), state: this.state, wals };
      return [];
    });
    const { version, state, wals } = captured!;
    let bytes = 0;
    try {
      for (const t of version.allTables()) {
        fs.link(t.reader.path, join(dest, tableFileName(t.meta.number)));
        bytes += t.meta.size;
      }
      for (const w of wals) {
        await fs.writeDurable(join(dest, walFileName(w.number)), w.data);
        bytes += w.data.length;
      }
      // A file number no copied file uses.
      const manifestNumber = state.nextFileNumber;
      const manifest = await ManifestWriter.create(fs, dest, applyEdit(state, { nextFileNumber: manifestNumber + 1 }), manifestNumber);
      manifest.close();
      await fs.syncDir(dest);
    } finally {
      version.unref();
    }
    return { tables: version.allTables().length, wals: wals.length, bytes };
  }

  // ---------------------------------------------------------------- reads

  get(key: Uint8Array): Uint8Array | undefined {
    this.checkOpen();
    this.counters.gets++;
    return lookup(key, this.lastSeq, this.memTables(), this.current);
  }

  /** An empty MemTable whose key filter is sized for a full one. */
  private newMemTable(): MemTable {
    return new MemTable(this.options.memtableBytes);
  }

  /** The MemTables, newest first. */
  private memTables(): MemTable[] {
    const mems = [this.mem];
    for (let i = this.frozen.length - 1; i >= 0; i--) mems.push(this.frozen[i].mem);
    return mems;
  }

  /** Pins the current MemTables, Version and sequence number for a consistent read. */
  readView(): ReadView {
    this.checkOpen();
    this.counters.scans++;
    return this.openView();
  }

  private openView(): ReadView {
    const seq = this.lastSeq;
    const mems = this.memTables();
    const version = this.current.ref();
    const handle = this.snapshots.acquire(seq);
    let released = false;
    return {
      seq,
      get: (key) => lookup(key, seq, mems, version),
      iterator: (lower, upper) => {
        const children: EntryIterator[] = mems.map((m) => m.iterator());
        for (const t of version.levels[0]) children.push(t.reader.iterator());
        for (const level of version.levels.slice(1)) if (level.length > 0) children.push(new LevelIterator(level));
        return new SnapshotIterator(new MergingIterator(children), seq, lower, upper);
      },
      release: () => {
        if (released) return;
        released = true;
        this.snapshots.release(handle);
        version.unref();
      },
    };
  }

  // ---------------------------------------------------------------- maintenance

  /** Freezes the active MemTable (if it holds anything) and waits until every frozen one is in a table. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.drainWrites();
    if (!this.mem.isEmpty) {
      this.rotateMemTable();
    }
    while (this.flushing) await this.flushing;
    if (this.bgError) throw this.bgError;
  }

  private async drainWrites(): Promise<void> {
    while (this.committing || this.queue.length > 0) {
      await new Promise<void>((r) => setTimeout(r, 0));
    }
  }

  /** Figures for `stats()`: the current shape of the tree. */
  snapshotState(): EngineState {
    return {
      bloomNegatives: this.current.allTables().reduce((n, t) => n + t.reader.bloomNegatives, 0),
      scores: levelScores(this.current, this.options),
      compacting: this.compacting !== undefined,
      stall: this.roomWaiters.length > 0 ? "stopped" : this.current.levels[0].length >= this.options.l0SlowdownTrigger ? "slowdown" : "none",
      levels: this.current.levels.map((l) => l.map((t) => t.meta)),
      lastSeq: this.lastSeq,
      walNumber: this.walNumber,
      walBytes: this.wal.size,
      activeEntries: this.mem.entryCount,
      activeBytes: this.mem.approximateBytes,
      frozenBytes: this.frozen.reduce((n, f) => n + f.mem.approximateBytes, 0),
      frozenCount: this.frozen.length,
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Waits for queued writes and the running flush, abandons a running compaction (its
   * partial output is removed; the inputs are still the live data), then closes files
   * and releases the lock.
   */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    await this.drainWrites();
    while (this.flushing) await this.flushing.catch(() => {});
    this.closing = true;
    await this.compactionChain;
    await this.manifestChain;
    this.closed = true;
    try {
      if (!this.bgError) await this.wal.sync();
    } finally {
      this.closeFiles();
      this.current?.unref();
      this.lock.release();
    }
  }

  private closeFiles(): void {
    try {
      this.wal?.close();
    } catch {
      // Closing after a failed sync can fail again; the lock release below still matters.
    }
    try {
      this.manifest?.close();
    } catch {
      // As above.
    }
  }

  private checkOpen(): void {
    if (this.closed) throw closedError();
  }
}

function toWalOp(op: EngineOp): BatchOp {
  return op.operand ? { kind: KIND_MERGE, key: op.key, value: op.operand } : op;
}


function closedError(): KvdbError {
  return new KvdbError("CLOSED", "the database is closed");
}

function asIoError(e: unknown, context: string): KvdbError {
  if (isKvdbError(e)) return new KvdbError(e.code, `${context}: ${e.message}`, { cause: e });
  return new KvdbError("IO_ERROR", `${context}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export { KIND_DELETE, KIND_PUT };
