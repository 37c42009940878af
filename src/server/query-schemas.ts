/**
 * @module
 * The OpenAPI description of `POST /query`: the request, the plan and the two response
 * variants (a page of items, or a count). Requests are validated by the query layer
 * itself (`src/query/request.ts`), the same code that checks `db.query()` arguments, so
 * REST, CLI and embedded callers get the same 400 messages; these schemas document that
 * contract and are checked against its TypeScript types at compile time.
 */
import { t, type Static } from "elysia";
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, type QueryRequest, type QueryResponse } from "../query/types.ts";

const Count = t.Integer({ minimum: 0 });

const FILTER_DESCRIPTION =
  "A MongoDB-shaped filter over the JSON value (see the README, \"Filter language\"). Keys are field paths " +
  "(`city`, `address.city`, `tags.0`, or JSONPath `$.address.city`) mapped to a value (implicit equality) or to " +
  "an object of operators: `$eq $ne $gt $gte $lt $lte $in $nin $exists $prefix $contains`; combinators " +
  "`$and`, `$or` (arrays of filters) and `$not` (a filter). A field holding an array matches an equality when " +
  "any element does. Numbers compare with numbers, strings with strings (by code point); comparing across " +
  "types never matches. Absent, null or `{}`: every JSON-object value in scope matches.";

export const QueryRequestSchema = t.Object(
  {
    scope_prefix: t.Optional(
      t.Union([t.String(), t.Null()], { description: "Only keys starting with this prefix. Absent, null or \"\": the whole keyspace." }),
    ),
    filter: t.Optional(
      t.Union([t.Record(t.String(), t.Unknown()), t.Null()], {
        description: FILTER_DESCRIPTION,
        example: { city: "PortoAlegre", age: { $gte: 30 }, $or: [{ tags: "admin" }, { vip: true }] },
      }),
    ),
    limit: t.Optional(
      t.Union([t.Integer({ minimum: 1, maximum: MAX_QUERY_LIMIT }), t.Null()], {
        description: `Items per page, 1 to ${MAX_QUERY_LIMIT}; default ${DEFAULT_QUERY_LIMIT}. Ignored with count.`,
      }),
    ),
    cursor: t.Optional(
      t.Union([t.String(), t.Null()], {
        description: "`next_cursor` of the previous page, unchanged, with the same scope_prefix and filter. Resumes strictly after the last item.",
      }),
    ),
    explain: t.Optional(t.Union([t.Boolean(), t.Null()], { description: "Add the indexes considered (and why each was not used), the filter as understood and the byte prefilter to `plan`." })),
    count: t.Optional(t.Union([t.Boolean(), t.Null()], { description: "Answer `{count, plan}` instead of items: the number of matches in scope." })),
    sort: t.Optional(
      t.Union([t.Record(t.String(), t.Union([t.Literal(1), t.Literal(-1)])), t.Null()], {
        description:
          'One field and a direction, e.g. {"age": -1}: items in that order (arrays by their smallest element ascending, largest descending; null < false < true < numbers < strings; documents without the field last). Answered from a range index on the field when there is one (top-k reads about `limit` entries). Not with `count`.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "Unknown fields are refused (400).",
    example: { scope_prefix: "user:", filter: { city: "PortoAlegre", age: { $gte: 30 } }, limit: 100, cursor: null, explain: false },
  },
);

export const QueryPlanSchema = t.Object(
  {
    kind: t.String({ description: '"scan" (every key in scope read) or an index access path such as "index_equality".' }),
    index: t.Union([t.String(), t.Null()], { description: "The index used; null for a scan." }),
    keys_examined: t.Number({ description: "Entries read: keys in scope for a scan, posting entries for an index." }),
    docs_examined: t.Number({ description: "Stored values looked at." }),
    docs_decoded: t.Number({ description: "Values read as JSON (the rest were ruled out by the byte prefilter)." }),
    returned: t.Number({ description: "Items returned, or matches counted." }),
    skipped_not_json: t.Number({ description: "Values read that were not JSON objects (they never match)." }),
    ms: t.Number({ description: "Wall-clock time of the query, milliseconds." }),
    blocks_read: t.Optional(t.Number({ description: "Index paths: posting blocks read." })),
    postings_read: t.Optional(t.Number({ description: "Index paths: posting entries read (adds and removes)." })),
    candidates_checked: t.Optional(t.Number({ description: "Index paths: keys taken from the postings and looked up." })),
    tombstones_skipped: t.Optional(t.Number({ description: "Index paths: lazy delete entries skipped." })),
    stale_skipped: t.Optional(t.Number({ description: "Index paths: candidates whose record no longer exists." })),
    counted_from_index: t.Optional(t.Boolean({ description: "count answered from the index's live counts, without reading documents." })),
    entries_read: t.Optional(t.Number({ description: "Range index paths: index entries read." })),
    sort_skipped: t.Optional(t.Number({ description: "Sorted index streams: entries skipped because they are not the record's sort value (the other elements of an array, stale entries)." })),
    sort: t.Optional(
      t.Object(
        { field: t.String(), direction: t.Number(), method: t.String({ description: '"index" (streamed from a range index) or "top_k" (a bounded heap over the candidates).' }), missing_scanned: t.Optional(t.Number()) },
        { additionalProperties: true, description: "With `sort`: how the order was produced." },
      ),
    ),
    candidates: t.Optional(
      t.Array(t.Object({ index: t.String(), reason: t.String() }), { description: "explain: indexes considered but not used, and why." }),
    ),
    filter: t.Optional(t.Unknown({ description: "explain: the filter as understood (canonical paths, explicit operators)." })),
    prefilter: t.Optional(t.Array(t.String(), { description: "explain: byte strings every match contains, checked before decoding." })),
  },
  { additionalProperties: true, description: "How the query was answered; always present." },
);

export const QueryItemsResponseSchema = t.Object(
  {
    items: t.Array(
      t.Object({
        key: t.String(),
        value: t.Record(t.String(), t.Unknown(), { description: "The stored value, a JSON object." }),
      }),
      { description: "Matches in ascending key order (UTF-8 bytes)." },
    ),
    next_cursor: t.Union([t.String(), t.Null()], {
      description: "Pass back as `cursor` for the next page (which may turn out empty); null when the query is complete.",
    }),
    plan: QueryPlanSchema,
  },
  { title: "QueryItems" },
);

export const QueryCountResponseSchema = t.Object(
  { count: Count, plan: QueryPlanSchema },
  { title: "QueryCount", description: "With `count: true`." },
);

export const QueryResponseSchema = t.Union([QueryItemsResponseSchema, QueryCountResponseSchema], {
  example: {
    items: [{ key: "user:1", value: { city: "PortoAlegre", age: 31 } }],
    next_cursor: null,
    plan: { kind: "index_equality", index: "users_city", keys_examined: 1, docs_examined: 1, docs_decoded: 1, returned: 1, skipped_not_json: 0, ms: 0.4 },
  },
});

// Compile-time checks that the documentation still describes the query layer's types:
// every documented request is a valid QueryRequest, every QueryResponse fits the schema.
const _requestFits: QueryRequest = null as unknown as Static<typeof QueryRequestSchema>;
const _responseFits: Static<typeof QueryResponseSchema> = null as unknown as QueryResponse;
