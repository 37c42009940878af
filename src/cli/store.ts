/**
 * @module
 * What CLI commands operate on: the `Database` calls they need, whether the directory is
 * opened in this process ({@link localStore}) or reached through the server that holds it
 * (`HttpStore` in client.ts). Both behave the same and answer with the same objects as
 * the REST API; calls that are requests over HTTP are asynchronous here.
 */
import type { BackupResult, CheckReport, Database, IndexInfo, QueryRequest, QueryResponse, WriteOp } from "../types.ts";
import { scanRange, type KeyRange } from "../server/listing.ts";
import { serverStats, type ServerStats } from "../server/stats.ts";

export interface KvStore {
  /** "directory /abs/path" or "server http://…", for --verbose. */
  readonly description: string;
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array | string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic. */
  write(ops: WriteOp[]): Promise<void>;
  /** In key order, with the server's `contains` filter. */
  scan(range: KeyRange): AsyncIterable<[string, Uint8Array]>;
  /** `GET /stats`: engine figures and the indexes. */
  stats(): Promise<ServerStats>;
  compact(): Promise<void>;
  /** `POST /query`: the same response object as the REST API. */
  query(request: QueryRequest): Promise<QueryResponse>;
  listIndexes(): Promise<IndexInfo[]>;
  /** Undefined when no index has that name. */
  getIndex(name: string): Promise<IndexInfo | undefined>;
  /** Re-reads the index definitions file (the server's, or this process's `--indexes`). */
  reloadIndexes(): Promise<IndexInfo[]>;
  /** Starts an online rebuild; resolves once it is registered (NOT_FOUND for an unknown name). */
  rebuildIndex(name: string): Promise<IndexInfo>;
  /** `POST /backup`: a consistent checkpoint into `dest` (absolute; on the server's file system when remote). */
  backup(dest: string): Promise<BackupResult>;
  /** `POST /check`: verifies the open database (files and indexes). */
  check(): Promise<CheckReport>;
  close(): Promise<void>;
}

export interface LocalStoreOptions {
  /** The definitions file `reloadIndexes` re-reads; default the source given at open. */
  indexesFile?: string;
}

/** A store over a database opened by this process. */
export function localStore(db: Database, options: LocalStoreOptions = {}): KvStore {
  return {
    description: `directory ${db.dir}`,
    get: (key) => db.get(key),
    put: (key, value) => db.put(key, value),
    delete: (key) => db.delete(key),
    write: (ops) => db.write(ops),
    scan: (range) => scanRange(db, range),
    stats: async () => serverStats(db),
    compact: () => db.compact(),
    query: (request) => db.query(request),
    listIndexes: async () => db.listIndexes(),
    getIndex: async (name) => db.getIndex(name),
    reloadIndexes: () => db.reloadIndexes(options.indexesFile),
    rebuildIndex: (name) => db.rebuildIndex(name),
    backup: (dest) => db.backup(dest),
    check: () => db.check(),
    close: () => db.close(),
  };
}
