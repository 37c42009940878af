/**
 * @module
 * Chooses how a query reads its candidate documents: an {@link AccessPath}. The scan of
 * the scope (`scan_path.ts`) is always possible; secondary indexes plug in as
 * {@link PlannableIndex} objects, each of which either offers an access path for the
 * query or says why it cannot (the reason shows in `explain`).
 *
 * The contract that keeps results identical with or without an index: an access path
 * yields a *superset* of the matching documents in scope, in ascending key order,
 * strictly after the cursor position, each with its current value; the executor
 * re-checks every candidate with the same matcher and paginates the same way.
 *
 * Sorted queries (`planSorted`) have two strategies:
 * - **stream**: a range index on the sort field yields documents in sort order
 *   ({@link SortedAccessPath}); the executor stops after `limit` matches, so a top-k
 *   reads about `limit` entries;
 * - **top_k**: the filter's access path (scan or index) yields its candidates in key
 *   order and the executor keeps the best `limit` of them in a bounded heap.
 * A stream is used unless the filter's index path is small (at most
 * {@link TOP_K_CANDIDATES} candidates) or the stream would first pass more entries than
 * the filter's path has candidates (a range on the sort field far from where the
 * stream starts).
 */
import type { PlanCandidate, QueryPlan } from "./types.ts";
import type { ParsedQuery } from "./request.ts";
import type { QuerySource, RawEntryCursor } from "./source.ts";
import type { SortPosition } from "./sort.ts";
import { scanAccessPath } from "./scan_path.ts";

/** Candidates as a synchronous raw cursor (preferred) or an async iterable of copies. */
export type DocumentStream =
  | { readonly kind: "cursor"; readonly cursor: RawEntryCursor }
  | { readonly kind: "entries"; readonly entries: AsyncIterable<[string, Uint8Array]> };

/** Figures an access path adds to `plan`. */
export type PathCounters = Partial<Pick<QueryPlan, "blocks_read" | "postings_read" | "entries_read" | "candidates_checked" | "tombstones_skipped" | "stale_skipped" | "sort_skipped">>;

export interface AccessPath {
  /** `plan.kind`: "scan", or the index path's own kind. */
  readonly kind: string;
  /** `plan.index`: the index used, null for a scan. */
  readonly index: string | null;
  /** Estimated candidates; the planner takes the smallest. Infinity for a scan. */
  readonly estimate: number;
  /**
   * For paths whose estimate costs work (counting index entries): makes `estimate`
   * exact when it is below `budget` (the best estimate so far), spending work bounded
   * by `budget`, and returns it; otherwise returns a number ≥ `budget`.
   */
  refineEstimate?(budget: number): number;
  /** Said in `explain` instead of "about N candidates" (e.g. "more than N entries in range"). */
  readonly estimateNote?: string;
  /**
   * Candidates in ascending key order (UTF-8 bytes), all inside the query's scope,
   * strictly after `after` when given. May include non-matching documents (they are
   * re-checked); must include every match.
   */
  open(after: string | undefined): DocumentStream;
  /** `plan.keys_examined` once `docsExamined` candidates were read. */
  keysExamined(docsExamined: number): number;
  /** The exact number of matches, known without reading documents (from the index), or undefined. */
  exactCount?(): number | undefined;
  /** Access-path figures merged into `plan` (an index's blocks, postings or entries read). */
  readonly counters?: Readonly<PathCounters>;
  /**
   * Every candidate is expected to match (the index answers the whole filter; only stale
   * entries would not): the executor then decodes each document whole, once, instead of
   * checking it with the member reader first.
   */
  readonly candidatesMatch?: boolean;
}

/** A cursor over documents in sort order, each reached through an index entry. */
export interface SortedCursor extends RawEntryCursor {
  /** Whether the current document's index entry holds exactly this encoded value. */
  isEntryValue(encoded: Uint8Array): boolean;
}

/** One sorted read over one snapshot: the documents with a sort value, then the rest. */
export interface SortedStreams {
  /**
   * Documents whose entry lies strictly after the position, in sort order; null when
   * the position is already among the documents without a sort value. A document may
   * appear under several entries (one per array element) and an entry may be stale: the
   * executor keeps a document only under the entry whose value is its sort value.
   */
  readonly present: SortedCursor | null;
  /** Every document in the query's scope, in key order, strictly after `afterKey`. */
  missing(afterKey: Uint8Array | undefined): RawEntryCursor;
  /** Releases the snapshot; idempotent. */
  close(): void;
}

/** A range index streaming documents in the order of the query's sort field. */
export interface SortedAccessPath {
  readonly kind: string;
  readonly index: string;
  open(after: SortPosition | undefined): SortedStreams;
  /**
   * Entries the stream passes, from its start in its direction, before the first
   * value the filter's conditions on the sort field accept, counted up to `cap`
   * (a number > `cap` beyond). 0 when the filter does not restrict the sort field, or
   * when the stream can start right at its values.
   */
  leadIn(cap: number): number;
  /** `plan.keys_examined`: index entries read plus keys scanned for documents without a sort value. */
  keysExamined(): number;
  readonly counters: Readonly<PathCounters>;
}

/** What the planner tells each index about the alternatives. */
export interface PlanHints {
  /** A sorted query that some index can stream in order: a top-k path need not take any width. */
  readonly sortStream: boolean;
  /**
   * The stream's lead-in (`SortedAccessPath.leadIn`, counted up to {@link TOP_K_CANDIDATES}):
   * when it is 0, the stream reads only the filter's range of its index, in order, so a
   * path over the same range is not worth estimating.
   */
  readonly streamLeadIn?: number;
  /** The index that streams. */
  readonly streamIndex?: string;
}

/** An index as the planner sees it (implemented by the index issues). */
export interface PlannableIndex {
  readonly name: string;
  /** An access path answering `query`, or why this index cannot (e.g. "field not indexed"). */
  consider(query: ParsedQuery, hints?: PlanHints): AccessPath | { rejected: string };
  /** A stream in the order of `query.sort`, or why not. Only range indexes offer one. */
  considerSort?(query: ParsedQuery): SortedAccessPath | { rejected: string };
}

export interface QueryPlanChoice {
  access: AccessPath;
  /** Indexes not used, and why (for `explain`). */
  candidates: PlanCandidate[];
}

/** Picks the access path with the smallest estimate; the scan when no index applies. */
export function plan(query: ParsedQuery, source: QuerySource, indexes: readonly PlannableIndex[] = [], hints: PlanHints = { sortStream: false }): QueryPlanChoice {
  let best: AccessPath = scanAccessPath(source, query.scopePrefix);
  const offers: AccessPath[] = [];
  const candidates: PlanCandidate[] = [];
  for (const index of indexes) {
    const r = index.consider(query, hints);
    if ("rejected" in r) candidates.push({ index: index.name, reason: r.rejected });
    else offers.push(r);
  }
  // Free estimates first, so that costly ones (counting range entries) stop at the best so far.
  for (const o of offers) if (!o.refineEstimate && o.estimate < best.estimate) best = o;
  for (const o of offers) if (o.refineEstimate && o.refineEstimate(best.estimate) < best.estimate) best = o;
  for (const o of offers) {
    if (o === best) continue;
    const mine = o.estimateNote ?? `about ${o.estimate} candidates`;
    const chosen = best.kind === "scan" ? "the scan stops at the page limit sooner" : `${best.index ?? best.kind} has about ${best.estimate}`;
    candidates.push({ index: o.index ?? o.kind, reason: `not chosen: ${mine}, ${chosen}` });
  }
  return { access: best, candidates };
}

/** At most this many candidates from the filter's index: read them all and keep the top k. */
export const TOP_K_CANDIDATES = 10_000;

export type SortedPlanChoice =
  | { mode: "stream"; stream: SortedAccessPath; candidates: PlanCandidate[] }
  | { mode: "top_k"; access: AccessPath; candidates: PlanCandidate[] };

/** Chooses between streaming a sort index and a top-k over the filter's access path. */
export function planSorted(query: ParsedQuery, source: QuerySource, indexes: readonly PlannableIndex[] = [], topKCandidates = TOP_K_CANDIDATES): SortedPlanChoice {
  let stream: SortedAccessPath | undefined;
  const sortReasons: PlanCandidate[] = [];
  for (const index of indexes) {
    if (!index.considerSort) continue;
    const r = index.considerSort(query);
    if ("rejected" in r) sortReasons.push({ index: index.name, reason: `sort: ${r.rejected}` });
    else if (!stream) stream = r;
    else sortReasons.push({ index: index.name, reason: `sort: ${stream.index} streams the same field` });
  }
  let lead = stream ? stream.leadIn(TOP_K_CANDIDATES) : 0;
  const base = plan(query, source, indexes, { sortStream: stream !== undefined, streamLeadIn: lead, streamIndex: stream?.index });
  const candidates = [...base.candidates, ...sortReasons];
  if (!stream) return { mode: "top_k", access: base.access, candidates };
  const access = base.access;
  if (access.kind !== "scan") {
    const e = access.estimate;
    let why: string | undefined;
    if (e <= topKCandidates) {
      why = `the filter's path ${access.index} has about ${e} candidates (at most ${topKCandidates}): they are read and the top ${query.limit} kept`;
    } else {
      if (lead > TOP_K_CANDIDATES) lead = stream.leadIn(e);
      if (lead >= e) why = `the stream would pass more than ${e} entries before the filter's range; ${access.index} has about ${e} candidates`;
    }
    if (why) {
      candidates.push({ index: stream.index, reason: `sort stream not used: ${why}` });
      return { mode: "top_k", access, candidates };
    }
    candidates.push({ index: access.index ?? access.kind, reason: `filter path not used: ${stream.index} streams the sort order (about ${e} candidates otherwise read in full)` });
  }
  return { mode: "stream", stream, candidates };
}
