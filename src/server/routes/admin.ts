/**
 * @module
 * Operations endpoints: `GET /health`, `GET /stats`, `GET /metrics`, `POST /compact`.
 * `/stats` and `/metrics` include per-index figures.
 */
import { Elysia, t, type Static } from "elysia";
import type { ServerContext } from "../context.ts";
import { IndexInfoSchema } from "../index-schemas.ts";
import { doc } from "../openapi.ts";
import { renderIndexMetrics, renderMetrics } from "../metrics.ts";
import { documented, errorResponses } from "../schemas.ts";
import { serverStats, type ServerStats } from "../stats.ts";

const Count = t.Integer({ minimum: 0 });

/** `db.stats()` plus the indexes, as documented in OpenAPI; later subsystems add fields, so unknown fields are allowed. */
export const StatsSchema = t.Object(
  {
    dir: t.String(),
    sync: t.Union([t.Literal("always"), t.Literal("none")]),
    sequence: Count,
    memtables: t.Object({ activeEntries: Count, activeBytes: Count, immutable: Count, immutableBytes: Count }),
    wal: t.Object({
      fileNumber: Count,
      bytes: Count,
      appends: Count,
      syncs: Count,
      batchesWritten: Count,
      recoveredBatches: Count,
      recoveredBytes: Count,
      truncatedBytes: Count,
    }),
    sstables: t.Object({
      files: Count,
      bytes: Count,
      levels: t.Array(
        t.Object({
          level: Count,
          files: Count,
          bytes: Count,
          smallest: t.Union([t.String(), t.Null()]),
          largest: t.Union([t.String(), t.Null()]),
          score: t.Number({ description: ">= 1: over its limit, due for compaction." }),
        }),
      ),
    }),
    flushes: Count,
    compaction: t.Object({
      running: t.Boolean(),
      compactions: Count,
      trivialMoves: Count,
      bytesRead: Count,
      bytesWritten: Count,
      writeAmplification: t.Number(),
      spaceAmplification: t.Number(),
    }),
    stall: t.Object({
      state: t.Union([t.Literal("none"), t.Literal("slowdown"), t.Literal("stopped")]),
      slowdowns: Count,
      stops: Count,
    }),
    writes: t.Object({ puts: Count, deletes: Count, batches: Count, userBytes: Count }),
    reads: t.Object({ gets: Count, scans: Count, bloomNegatives: Count }),
    keyFilter: t.Object(
      {
        state: t.Union([t.Literal("off"), t.Literal("building"), t.Literal("ready")]),
        filters: Count,
        bytes: Count,
        skippedReads: Count,
      },
      {
        description:
          "The Bloom filter of existing keys kept while any index exists: an indexed write of a key it has never seen skips reading the previous value. `building` while its scan of the keys runs at open; `skippedReads` counts the reads it saved.",
      },
    ),
    indexes: t.Array(IndexInfoSchema, { description: "Each secondary index, as GET /indexes/{name} shows it." }),
  },
  { additionalProperties: true },
);

// Compile-time check that the documented schema still describes ServerStats (a renamed or
// removed figure fails tsc here). Not enforced at run time: a drift must not turn /stats
// into a 500.
const _statsMatchSchema: Static<typeof StatsSchema> = null as unknown as ServerStats;

export function adminRoutes(ctx: ServerContext) {
  const { db } = ctx;
  return new Elysia({ name: "kvdb-admin" })
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: t.Object({ status: t.Literal("ok") }) },
      detail: doc({ summary: "Liveness probe (never needs a token)", tags: ["operations"], security: [] }),
    })
    .get("/stats", () => serverStats(db), {
      detail: doc({
        summary: "Engine and index figures",
        tags: ["operations"],
        responses: { ...documented(200, "db.stats()", StatsSchema), ...errorResponses() },
      }),
    })
    .get(
      "/metrics",
      () =>
        new Response(renderMetrics(db.stats(), ctx.metrics, [...renderIndexMetrics(db.listIndexes()), ...(ctx.extraMetrics?.() ?? [])]), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
      {
        detail: doc({
          summary: "Prometheus metrics",
          description:
            "The figures of /stats, per-index gauges (`kvdb_index_*{index=\"…\"}`), and HTTP request counts and latency histograms per route.",
          tags: ["operations"],
          responses: {
            200: { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } },
            ...errorResponses(),
          },
        }),
      },
    )
    .post(
      "/compact",
      async ({ server, request }) => {
        // A full compaction can outlast the connection idle timeout: lift it for this request.
        server?.timeout(request, 0);
        const started = performance.now();
        await db.compact();
        return { compacted: true as const, ms: Math.round(performance.now() - started) };
      },
      {
        response: { 200: t.Object({ compacted: t.Literal(true), ms: t.Number() }) },
        detail: doc({ summary: "Compact now; answers when done", tags: ["operations"], responses: errorResponses() }),
      },
    );
}
