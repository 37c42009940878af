/**
 * @module
 * Validates a query request (the `POST /query` body, or the object given to
 * `db.query()`) into a {@link ParsedQuery}: the one form the planner and the executor
 * work with. Unknown fields are refused, so a misspelt `scope_prefix` is an error rather
 * than a query over everything. `null` means "absent" for every optional field.
 */
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from "./types.ts";
import { decodeCursor, queryFingerprint } from "./cursor.ts";
import { parseFilter, type FilterNode } from "./filter.ts";
import { invalidQuery } from "./invalid.ts";
import { isPlainObject, jsonTypeName } from "./json_value.ts";

export interface ParsedQuery {
  /** "" for the whole keyspace. */
  readonly scopePrefix: string;
  readonly filter: FilterNode;
  /** Items per page (also set, unused, for count queries). */
  readonly limit: number;
  /** Resume strictly after this key (from the cursor). */
  readonly after: string | undefined;
  readonly count: boolean;
  readonly explain: boolean;
  /** Identifies scope + filter for cursors. */
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

  if (r.sort !== undefined && r.sort !== null) {
    throw invalidQuery("sort", "sorting is not supported yet; results come in ascending key order");
  }

  const filter = parseFilter(r.filter, "filter");
  const fingerprint = queryFingerprint(scopePrefix, filter);

  let after: string | undefined;
  const cursor = r.cursor ?? null;
  if (cursor !== null) {
    if (typeof cursor !== "string") throw invalidQuery("cursor", `expected a string or null, got ${jsonTypeName(cursor)}`);
    if (count) throw invalidQuery("cursor", "not allowed with count: a count always covers the whole scope");
    after = decodeCursor(cursor, fingerprint, scopePrefix).after;
  }
  return { scopePrefix, filter, limit, after, count, explain, fingerprint };
}

function flag(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw invalidQuery(name, `expected true or false, got ${jsonTypeName(v)}`);
  return v;
}
