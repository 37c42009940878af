/**
 * @module
 * Queries over values (issue 5): the public surface of `src/query/`. `db.query(request)`,
 * `POST /query` and `kvdb query` all call {@link executeQuery}.
 *
 * Files: `types.ts` (request/response), `request.ts` (validation), `path.ts` (field
 * paths), `filter.ts` (filter language → tree), `match.ts` (tree → predicate),
 * `compare.ts` (comparison semantics), `codec.ts` (bytes → document), `member_reader.ts`
 * (bytes → the members a filter reads), `prefilter.ts` (byte prefilter), `cursor.ts`
 * (pagination), `planner.ts` + `scan_path.ts` (access paths), `source.ts` (what is
 * read), `execute.ts` (the loop).
 */
export { executeQuery, type ExecuteOptions } from "./execute.ts";
export type { QuerySource, RawEntryCursor } from "./source.ts";
export type { AccessPath, DocumentStream, PlannableIndex } from "./planner.ts";
export type { ParsedQuery } from "./request.ts";
export type { FieldCondition, FieldOperator, FilterNode } from "./filter.ts";
export { MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_IN_VALUES, MAX_TOTAL_IN_VALUES } from "./filter.ts";
export {
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  type Filter,
  type JsonObject,
  type JsonValue,
  type PlanCandidate,
  type QueryCountResponse,
  type QueryItem,
  type QueryItemsResponse,
  type QueryPlan,
  type QueryRequest,
  type QueryResponse,
} from "./types.ts";
