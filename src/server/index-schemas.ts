/**
 * @module
 * The OpenAPI description of a secondary index as the `/indexes` endpoints, `/stats`
 * and `kvdb index --json` show it (`db.getIndex()`'s {@link IndexInfo}), checked
 * against that type at compile time.
 */
import { t, type Static } from "elysia";
import type { IndexInfo } from "../types.ts";

const Count = t.Integer({ minimum: 0 });
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T, description: string) =>
  t.Union([schema, t.Null()], { description });

export const IndexInfoSchema = t.Object(
  {
    name: t.String(),
    type: t.Union([t.Literal("equality"), t.Literal("range")]),
    scope_prefix: t.String({ description: "The index covers the keys starting with this." }),
    extractor: t.Union(
      [
        t.Object({ kind: t.Literal("json_path"), path: t.String() }),
        t.Object({
          kind: t.Literal("regex"),
          pattern: t.String(),
          target: t.Union([t.Literal("value"), t.Literal("key")]),
          flags: t.Optional(t.String()),
        }),
      ],
      { description: "How the indexed value is derived from a record." },
    ),
    state: t.Union([t.Literal("building"), t.Literal("ready"), t.Literal("dropping")], {
      description: "building: the backfill is running and queries scan instead; ready: queries may use it.",
    }),
    generation: Count,
    progress: t.Object(
      {
        scanned: Count,
        cursor: Nullable(t.String(), "The last key indexed while building; null otherwise."),
        started_at: t.String({ description: "ISO 8601 time the build of this generation started." }),
        ready_at: Nullable(t.String(), "ISO 8601 time it became ready; null while building."),
      },
      { description: "Backfill progress of this generation (records scanned)." },
    ),
    rebuilding: Nullable(
      t.Object({ generation: Count, scanned: Count }),
      "A newer generation being built to replace this one (a rebuild or a changed definition); this one answers queries until it is ready.",
    ),
    error: Nullable(t.String(), "The last background build or drop failure, if any."),
    terms: t.Number({ description: "Distinct indexed values." }),
    blocks: t.Number({ description: "Posting blocks (equality indexes)." }),
    live_entries: t.Number({ description: "Live (key, value) entries." }),
    tombstones: t.Number({ description: "Lazy delete entries not yet cleaned up." }),
    bytes: t.Number({ description: "Bytes of the index's records (keys and values)." }),
  },
  { additionalProperties: true, title: "IndexInfo" },
);

export const IndexListSchema = t.Object({ indexes: t.Array(IndexInfoSchema) });

// Compile-time check that the documented schema still describes IndexInfo.
const _infoFits: Static<typeof IndexInfoSchema> = null as unknown as IndexInfo;
