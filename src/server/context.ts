/**
 * @module
 * What every route module receives: the database and the server's limits and counters.
 * A route module is a function `(ctx: ServerContext) => Elysia` listed in `routes/index.ts`.
 */
import type { Database } from "../types.ts";
import type { HttpMetrics } from "./metrics.ts";

export interface ServerContext {
  db: Database;
  /** Largest request body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  metrics: HttpMetrics;
  /** The index definitions file `POST /indexes/reload` re-reads; undefined: the source given at open. */
  indexesFile?: string;
  /** More Prometheus lines for `/metrics` (e.g. per-index figures); called per scrape. */
  extraMetrics?: () => string[];
}
