/**
 * @module
 * What CLI commands operate on: the `Database` calls they need, whether the directory is
 * opened in this process ({@link localStore}) or reached through the server that holds it
 * (`HttpStore` in client.ts). Both behave the same; only `stats()` is asynchronous here
 * because over HTTP it is a request.
 */
import type { Database, DatabaseStats, WriteOp } from "../types.ts";
import { scanRange, type KeyRange } from "../server/listing.ts";

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
  stats(): Promise<DatabaseStats>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** A store over a database opened by this process. */
export function localStore(db: Database): KvStore {
  return {
    description: `directory ${db.dir}`,
    get: (key) => db.get(key),
    put: (key, value) => db.put(key, value),
    delete: (key) => db.delete(key),
    write: (ops) => db.write(ops),
    scan: (range) => scanRange(db, range),
    stats: async () => db.stats(),
    compact: () => db.compact(),
    close: () => db.close(),
  };
}
