/**
 * @module
 * What `GET /stats` and `kvdb stats` report: the engine's figures from `db.stats()` and,
 * under `indexes`, each secondary index's state, progress and size (`db.listIndexes()`).
 */
import type { Database, DatabaseStats, IndexInfo } from "../types.ts";

export type ServerStats = DatabaseStats & { indexes: IndexInfo[] };

export function serverStats(db: Pick<Database, "stats" | "listIndexes">): ServerStats {
  return { ...db.stats(), indexes: db.listIndexes() };
}
