/**
 * @module
 * Chooses how a query reads its candidate documents: an {@link AccessPath}. Today the
 * only path is the scan of the scope (`scan_path.ts`); the secondary-index issues plug in
 * by passing {@link PlannableIndex} objects, each of which either offers an access path
 * for the query or says why it cannot (the reason shows in `explain`).
 *
 * The contract that keeps results identical with or without an index: an access path
 * yields a *superset* of the matching documents in scope, in ascending key order,
 * strictly after the cursor position, each with its current value; the executor
 * re-checks every candidate with the same matcher and paginates the same way.
 */
import type { IndexPathCounters, PlanCandidate } from "./types.ts";
import type { ParsedQuery } from "./request.ts";
import type { QuerySource, RawEntryCursor } from "./source.ts";
import { scanAccessPath } from "./scan_path.ts";

/** Candidates as a synchronous raw cursor (preferred) or an async iterable of copies. */
export type DocumentStream =
  | { readonly kind: "cursor"; readonly cursor: RawEntryCursor }
  | { readonly kind: "entries"; readonly entries: AsyncIterable<[string, Uint8Array]> };

export interface AccessPath {
  /** `plan.kind`: "scan", or the index path's own kind. */
  readonly kind: string;
  /** `plan.index`: the index used, null for a scan. */
  readonly index: string | null;
  /** Estimated candidates; the planner takes the smallest. Infinity for a scan. */
  readonly estimate: number;
  /**
   * Candidates in ascending key order (UTF-8 bytes), all inside the query's scope,
   * strictly after `after` when given. May include non-matching documents (they are
   * re-checked); must include every match.
   */
  open(after: string | undefined): DocumentStream;
  /** `plan.keys_examined` once `docsExamined` candidates were read. */
  keysExamined(docsExamined: number): number;
  /** The exact number of matches, known without reading documents (an index's live counts), or undefined. */
  exactCount?(): number | undefined;
  /** Access-path figures merged into `plan` (an index's blocks and postings read). */
  readonly counters?: Readonly<IndexPathCounters>;
}

/** An index as the planner sees it (implemented by the index issues). */
export interface PlannableIndex {
  readonly name: string;
  /** An access path answering `query`, or why this index cannot (e.g. "field not indexed"). */
  consider(query: ParsedQuery): AccessPath | { rejected: string };
}

export interface QueryPlanChoice {
  access: AccessPath;
  /** Indexes not used, and why (for `explain`). */
  candidates: PlanCandidate[];
}

/** Picks the access path with the smallest estimate; the scan when no index applies. */
export function plan(query: ParsedQuery, source: QuerySource, indexes: readonly PlannableIndex[] = []): QueryPlanChoice {
  let best: AccessPath = scanAccessPath(source, query.scopePrefix);
  const offers: AccessPath[] = [];
  const candidates: PlanCandidate[] = [];
  for (const index of indexes) {
    const r = index.consider(query);
    if ("rejected" in r) candidates.push({ index: index.name, reason: r.rejected });
    else {
      offers.push(r);
      if (r.estimate < best.estimate) best = r;
    }
  }
  for (const o of offers) {
    if (o !== best) candidates.push({ index: o.index ?? o.kind, reason: `not chosen: about ${o.estimate} candidates, ${best.index ?? best.kind} has about ${best.estimate}` });
  }
  return { access: best, candidates };
}
