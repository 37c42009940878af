/**
 * @module
 * `POST /check`: verifies the served database while it keeps serving (`db.check()`):
 * every checksum and structure of its tables, manifest and WALs, and each ready index
 * against the data. Answers 200 with the report whether or not it found damage (`ok`
 * says which); `kvdb check` goes through this endpoint when a server holds the directory.
 */
import { Elysia, t, type Static } from "elysia";
import type { CheckReport } from "../../types.ts";
import type { ServerContext } from "../context.ts";
import { doc } from "../openapi.ts";
import { documented, errorResponses } from "../schemas.ts";

const Count = t.Integer({ minimum: 0 });

export const CheckReportSchema = t.Object(
  {
    ok: t.Boolean({ description: "False when any problem is damage; warnings alone leave it true." }),
    problems: t.Array(
      t.Object({
        severity: t.Union([t.Literal("damage"), t.Literal("warning")]),
        file: t.String({ description: "A file in the data directory (`000012.sst`, `CURRENT`), or `index:<name>`." }),
        offset: t.Optional(Count),
        message: t.String(),
        key: t.Optional(t.String({ description: "For index problems: the record key concerned." })),
      }),
    ),
    files: t.Union([
      t.Object({
        manifest: t.Union([t.String(), t.Null()]),
        manifestEdits: Count,
        tables: Count,
        tableBytes: Count,
        dataBlocks: Count,
        entries: Count,
        wals: Count,
        walBatches: Count,
        walBytes: Count,
        orphans: Count,
      }),
      t.Null(),
    ]),
    indexes: t.Array(
      t.Object({
        name: t.String(),
        generation: Count,
        type: t.Union([t.Literal("equality"), t.Literal("range")]),
        state: t.Union([t.Literal("building"), t.Literal("ready"), t.Literal("dropping")]),
        checked: t.Boolean({ description: "Only ready indexes are checked." }),
        records: Count,
        expected: Count,
        entries: Count,
        missing: Count,
        stale: Count,
      }),
    ),
    ms: t.Number(),
  },
  { title: "CheckReport" },
);

// Compile-time check that the documented schema still describes CheckReport.
const _reportMatchesSchema: Static<typeof CheckReportSchema> = null as unknown as CheckReport;

export function checkRoutes(ctx: ServerContext) {
  return new Elysia({ name: "kvdb-check" }).post(
    "/check",
    ({ server, request }) => {
      // Reading every table of a large database takes a while.
      server?.timeout(request, 0);
      return ctx.db.check();
    },
    {
      detail: doc({
        summary: "Verify checksums, structures and indexes",
        description:
          "Reads every live table (every block's CRC, entry order, footer), the manifest and the WALs, and checks each " +
          "ready index against the data, while the server keeps serving. Answers 200 with `ok: false` and the problems " +
          "(file, offset, message) when it finds damage. Torn tails of the WAL and manifest being appended and orphan " +
          "files are not reported here (they are normal while running); `kvdb check` on a stopped database reports them.",
        tags: ["operations"],
        responses: { ...documented(200, "The check report", CheckReportSchema), ...errorResponses() },
      }),
    },
  );
}
