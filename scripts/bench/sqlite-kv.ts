/**
 * @module
 * The bun:sqlite peer's table as the benchmarks and profilers open it: WAL,
 * `synchronous=NORMAL`, sqlite's default page cache, and
 * `kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID` (a key-ordered B-tree, like kvdb's keys).
 */
import { Database } from "bun:sqlite";

export function openSqliteKv(file: string): Database {
  const db = new Database(file, { create: true });
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=NORMAL");
  db.exec("CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
  return db;
}
