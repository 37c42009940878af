/**
 * @module
 * The public shapes of a query: the request `db.query()`, `POST /query` and `kvdb query`
 * accept, and the response they return. Field names are snake_case because they are the
 * JSON wire format; the embedded API uses the same objects.
 */

/** A value JSON can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * A filter: field paths (`"city"`, `"address.city"`, `"$.tags[0]"`) mapped to a value
 * (implicit equality) or an object of operators (`{ "$gte": 30 }`), and the combinators
 * `$and`, `$or`, `$not`. The README's "Filter language" section is the reference.
 */
export type Filter = { [pathOrCombinator: string]: unknown };

export interface QueryRequest {
  /** Only keys starting with this prefix (UTF-8 bytes). Absent, null or "": the whole keyspace. */
  scope_prefix?: string | null;
  /** Absent, null or `{}`: every JSON-object value in scope matches. */
  filter?: Filter | null;
  /** Items per page, 1..{@link MAX_QUERY_LIMIT}; default {@link DEFAULT_QUERY_LIMIT}. Ignored with `count`. */
  limit?: number | null;
  /** `next_cursor` of the previous page, unchanged. */
  cursor?: string | null;
  /** Adds `candidates`, `filter` and `prefilter` to `plan`. */
  explain?: boolean | null;
  /** Return only the number of matches in scope (no items, no limit). */
  count?: boolean | null;
  /**
   * Order of the items: `{ "age": 1 }` (ascending) or `{ "age": -1 }` (descending), one
   * field path. Absent or null: ascending key order. Not allowed with `count`. The order
   * (see `src/query/sort.ts` and the README): by the field's value — an array by its
   * smallest element ascending, its largest descending — null < false < true < numbers <
   * strings; equal values by key in the same direction; documents without a value last,
   * by key ascending.
   */
  sort?: Record<string, 1 | -1> | null;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

export interface QueryItem {
  key: string;
  value: JsonObject;
}

export interface QueryItemsResponse {
  /** Matches in ascending key order (UTF-8 bytes), or in the order of `sort`. */
  items: QueryItem[];
  /**
   * Non-null when the page is full and at least one more key in scope follows the last
   * item; that next page may still turn out empty. Null means the query is complete.
   */
  next_cursor: string | null;
  plan: QueryPlan;
}

export interface QueryCountResponse {
  count: number;
  plan: QueryPlan;
}

export type QueryResponse = QueryItemsResponse | QueryCountResponse;

/** How the query was answered. Always present; `explain: true` adds the optional fields. */
/** Figures an index access path adds to its plan. */
export type IndexPathCounters = Required<Pick<QueryPlan, "blocks_read" | "postings_read" | "candidates_checked" | "tombstones_skipped" | "stale_skipped">>;

export interface QueryPlan {
  /** "scan": every key in scope was read. Index access paths add their own kinds. */
  kind: string;
  /** The index used, or null for a scan. */
  index: string | null;
  /** Entries read: keys in scope for a scan, index entries for an index. */
  keys_examined: number;
  /** Stored values looked at (for a scan, one per key examined). */
  docs_examined: number;
  /**
   * Values read as JSON (checked in full; the members the filter uses decoded). Fewer
   * than `docs_examined` when the byte prefilter proved a value cannot match (it lacks
   * bytes that every match contains) without reading it.
   */
  docs_decoded: number;
  /** Items returned, or matches counted with `count`. */
  returned: number;
  /**
   * Values read that were not UTF-8 JSON objects (they never match). Counts every such
   * value in scope when `docs_decoded` equals `docs_examined` (always so with no filter).
   */
  skipped_not_json: number;
  /** Wall-clock time of the whole query, milliseconds. */
  ms: number;
  /** Index paths: posting blocks read. */
  blocks_read?: number;
  /** Index paths: posting entries read (adds and removes). */
  postings_read?: number;
  /** Index paths: live keys taken from the postings (in scope, after the cursor) and looked up. */
  candidates_checked?: number;
  /** Index paths: lazy delete entries read and skipped. */
  tombstones_skipped?: number;
  /** Index paths: candidates whose record no longer exists. */
  stale_skipped?: number;
  /** Range index paths: index entries read. */
  entries_read?: number;
  /**
   * Sorted by an index: entries passed over because their value is not the record's
   * sort value (another element of an array, or a stale entry).
   */
  sort_skipped?: number;
  /** Sorted queries: how the order was produced. */
  sort?: PlanSort;
  /** `count` answered from the index's live counts, without reading documents. */
  counted_from_index?: boolean;
  /** explain: access paths considered but not used, and why. */
  candidates?: PlanCandidate[];
  /** explain: the filter as understood (canonical paths, implicit equalities made explicit). */
  filter?: JsonValue;
  /** explain: byte strings every match must contain (checked before decoding); empty when none. */
  prefilter?: string[];
}

export interface PlanSort {
  /** The sort field, canonical JSONPath (`$.age`). */
  field: string;
  direction: 1 | -1;
  /**
   * "index": streamed in order from the range index `plan.index`, stopping at `limit`;
   * "top_k": every candidate of the access path read, the best `limit` kept.
   */
  method: "index" | "top_k";
  /** "index": keys of the scope read to find the documents without a sort value (0 when the page ended before them). */
  missing_scanned?: number;
}

export interface PlanCandidate {
  index: string;
  reason: string;
}
