/**
 * @module
 * A `Database` over a sorted in-memory map: the model the HTTP tests also run against,
 * so the server's behaviour is checked independently of the engine. Same user-facing
 * rules as src/db.ts (non-empty well-formed keys, byte order, atomic write()).
 */
import { compareBytes, utf8 } from "../../src/engine/coding.ts";
import { KvdbError } from "../../src/engine/errors.ts";
import type { BackupResult, CheckReport, Database, DatabaseStats, IndexInfo, QueryRequest, QueryResponse, ScanOptions, WriteOp } from "../../src/types.ts";
import { executeQuery } from "../../src/query/execute.ts";

export class MemoryDatabase implements Database {
  readonly dir = "(memory)";
  private readonly map = new Map<string, Uint8Array>();
  closed = false;
  compactions = 0;

  constructor(
    private readonly maxValueBytes = 16 * 1024 * 1024,
    private readonly maxKeyBytes = 4096,
  ) {}

  private checkKey(key: unknown, at = "key"): string {
    if (this.closed) throw new KvdbError("CLOSED", "database is closed");
    if (typeof key !== "string" || key.length === 0 || !key.isWellFormed()) throw new KvdbError("INVALID_KEY", `${at}: bad key`);
    if (utf8(key).length > this.maxKeyBytes) throw new KvdbError("INVALID_KEY", `${at}: key too long`);
    return key;
  }

  private checkValue(value: Uint8Array | string): Uint8Array {
    const bytes = typeof value === "string" ? utf8(value) : value.slice();
    if (bytes.length > this.maxValueBytes) throw new KvdbError("TOO_LARGE", "value too large");
    return bytes;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.map.get(this.checkKey(key))?.slice();
  }

  async put(key: string, value: Uint8Array | string): Promise<void> {
    this.map.set(this.checkKey(key), this.checkValue(value));
  }

  async delete(key: string): Promise<void> {
    this.map.delete(this.checkKey(key));
  }

  async write(ops: WriteOp[]): Promise<void> {
    const checked = ops.map((op, i) =>
      op.type === "put"
        ? { key: this.checkKey(op.key, `ops[${i}]`), value: this.checkValue(op.value) }
        : { key: this.checkKey(op.key, `ops[${i}]`), value: undefined },
    );
    for (const { key, value } of checked) {
      if (value) this.map.set(key, value);
      else this.map.delete(key);
    }
  }

  scan(options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    const keys = [...this.map.keys()].sort((a, b) => compareBytes(utf8(a), utf8(b)));
    const inRange = keys.filter(
      (k) =>
        (options.prefix === undefined || k.startsWith(options.prefix)) &&
        (options.start === undefined || compareBytes(utf8(k), utf8(options.start)) >= 0) &&
        (options.end === undefined || compareBytes(utf8(k), utf8(options.end)) < 0),
    );
    if (options.reverse) inRange.reverse();
    const limited = inRange.slice(0, options.limit ?? Infinity);
    const map = this.map;
    return {
      async *[Symbol.asyncIterator]() {
        for (const k of limited) {
          const v = map.get(k);
          if (v) yield [k, v.slice()] as [string, Uint8Array];
        }
      },
    };
  }

  stats(): DatabaseStats {
    return {
      dir: this.dir,
      sync: "always",
      sequence: this.map.size,
      memtables: { activeEntries: this.map.size, activeBytes: 0, immutable: 0, immutableBytes: 0 },
      wal: { fileNumber: 1, bytes: 0, appends: 0, syncs: 0, batchesWritten: 0, recoveredBatches: 0, recoveredBytes: 0, truncatedBytes: 0 },
      sstables: { files: 0, bytes: 0, levels: [{ level: 0, files: 0, bytes: 0, smallest: null, largest: null, score: 0 }] },
      flushes: 0,
      compaction: {
        running: false,
        compactions: this.compactions,
        trivialMoves: 0,
        bytesRead: 0,
        bytesWritten: 0,
        writeAmplification: 1,
        spaceAmplification: 1,
      },
      stall: { state: "none", slowdowns: 0, stops: 0 },
      writes: { puts: 0, deletes: 0, batches: 0, userBytes: 0 },
      reads: { gets: 0, scans: 0, bloomNegatives: 0 },
      keyFilter: { state: "off", filters: 0, bytes: 0, skippedReads: 0 },
    };
  }

  async flush(): Promise<void> {}

  async compact(): Promise<void> {
    this.compactions++;
  }

  /** Scan mode only: the query layer over this model's scan. */
  query(request: QueryRequest): Promise<QueryResponse> {
    return executeQuery(this, request);
  }

  // The model has no secondary indexes: it behaves like a database opened without any.
  listIndexes(): IndexInfo[] {
    return [];
  }

  getIndex(): IndexInfo | undefined {
    return undefined;
  }

  async reloadIndexes(): Promise<IndexInfo[]> {
    throw new KvdbError("INVALID_ARGUMENT", "no index definitions to reload: none were given at open");
  }

  async rebuildIndex(name: string): Promise<IndexInfo> {
    throw new KvdbError("NOT_FOUND", `no index named ${JSON.stringify(name)}`);
  }

  async waitForIndexes(): Promise<void> {}

  /** Nothing on disk to verify. */
  async check(): Promise<CheckReport> {
    return { ok: true, problems: [], files: null, indexes: [], ms: 0 };
  }

  async backup(): Promise<BackupResult> {
    throw new KvdbError("INVALID_ARGUMENT", "backups need a database on disk; the in-memory model has none");
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
