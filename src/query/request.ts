/**
 * @module
 * Validates a query request (the `POST /query` body, or the object given to
 * `db.query()`) into a {@link ParsedQuery}: the one form the planner and the executor
 * work with. Unknown fields are refused, so a misspelt `scope_prefix` is an error rather
 * than a query over everything. `null` means "absent" for every optional field.
 */
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from "./types.ts";
import { decodeCursor, queryFingerprint, sortPositionOf } from "./cursor.ts";
import { parseFilter, type FilterNode } from "./filter.ts";
import { invalidQuery } from "./invalid.ts";
import { isPlainObject, jsonTypeName } from "./json_value.ts";
import { parseFieldPath } from "./path.ts";
import type { SortPosition, SortSpec } from "./sort.ts";

export interface ParsedQuery {
  /** "" for the whole keyspace. */
  readonly scopePrefix: string;
  readonly filter: FilterNode;
  /** Items per page (also set, unused, for count queries). */
  readonly limit: number;
  /** Key order: resume strictly after this key (from the cursor). Always undefined with `sort`. */
  readonly after: string | undefined;
  readonly count: boolean;
  readonly explain: boolean;
  /** The requested order; undefined for key order. */
  readonly sort: SortSpec | undefined;
  /** Sorted queries: resume strictly after this position (from the cursor). */
  readonly afterSort: SortPosition | undefined;
  /** Identifies scope + filter (+ sort) for cursors. */
  readonly fingerprint: string;
}

const FIELDS = ["scope_prefix", "filter", "limit", "cursor", "explain", "count", "sort"];

export function parseQueryRequest(request: unknown): ParsedQuery {
  if (!isPlainObject(request)) throw invalidQuery("request", `expected an object, got ${jsonTypeName(request)}`);
  for (const k of Object.keys(request)) {
    if (!FIELDS.includes(k)) throw invalidQuery("request", `unknown field ${JSON.stringify(k)}; expected one of ${FIELDS.join(", ")}`);
  }
  const r = request as Record<string, unknown>;

  const scopePrefix = r.scope_prefix ?? "";
  if (typeof scopePrefix !== "string") throw invalidQuery("scope_prefix", `expected a string, got ${jsonTypeName(scopePrefix)}`);
  if (!scopePrefix.isWellFormed()) throw invalidQuery("scope_prefix", "must be valid Unicode (it contains a lone surrogate)");

  const limit = r.limit ?? DEFAULT_QUERY_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw invalidQuery("limit", `expected an integer from 1 to ${MAX_QUERY_LIMIT}, got ${typeof limit === "number" ? limit : jsonTypeName(limit)}`);
  }
  const explain = flag(r.explain, "explain");
  const count = flag(r.count, "count");
  const sort = parseSort(r.sort);
  if (sort && count) throw invalidQuery("sort", "not allowed with count: a count has no order");

  const filter = parseFilter(r.filter, "filter");
  // A hash of the query: computed only when a cursor is read or written.
  let fingerprint: string | undefined;
  const fingerprintOf = () => (fingerprint ??= queryFingerprint(scopePrefix, filter, sort));

  let after: string | undefined;
  let afterSort: SortPosition | undefined;
  const cursor = r.cursor ?? null;
  if (cursor !== null) {
    if (typeof cursor !== "string") throw invalidQuery("cursor", `expected a string or null, got ${jsonTypeName(cursor)}`);
    if (count) throw invalidQuery("cursor", "not allowed with count: a count always covers the whole scope");
    const position = decodeCursor(cursor, fingerprintOf(), scopePrefix, sort !== undefined);
    if (sort) afterSort = sortPositionOf(position);
    else after = position.after;
  }
  return {
    scopePrefix,
    filter,
    limit,
    after,
    count,
    explain,
    sort,
    afterSort,
    get fingerprint() {
      return fingerprintOf();
    },
  };
}

/** `{"age": 1}` or `{"age": -1}`: exactly one field path and a direction. */
function parseSort(v: unknown): SortSpec | undefined {
  if (v === undefined || v === null) return undefined;
  const example = 'e.g. {"age": 1} (ascending) or {"age": -1} (descending)';
  if (!isPlainObject(v)) throw invalidQuery("sort", `expected an object with one field, ${example}; got ${jsonTypeName(v)}`);
  const fields = Object.keys(v);
  if (fields.length !== 1) throw invalidQuery("sort", `expected exactly one field, ${example}; got ${fields.length}`);
  const field = fields[0];
  const at = `sort[${JSON.stringify(field)}]`;
  const path = parseFieldPath(field, at);
  const direction = v[field];
  if (direction !== 1 && direction !== -1) {
    throw invalidQuery(at, `expected 1 (ascending) or -1 (descending), got ${typeof direction === "number" ? direction : jsonTypeName(direction)}`);
  }
  return { path, direction };
}

function flag(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw invalidQuery(name, `expected true or false, got ${jsonTypeName(v)}`);
  return v;
}
