/**
 * @module
 * Runs a query: validate the request, plan, stream candidates, match, paginate.
 *
 * Per candidate the executor does: prefilter (a substring search on the bytes, see
 * `prefilter.ts`), then one checking pass that reads only the members the filter uses
 * (`member_reader.ts`), then the compiled predicate. Only a match returned as an item
 * is decoded whole (`codec.ts`), and only then is its key decoded. The scope is
 * streamed, never materialized: memory is the page (at most `limit` items) whatever
 * the scope's size.
 *
 * Pagination: the query stops at `limit` matches. `next_cursor` is set when the page is
 * full and the scan has at least one more key in scope (one key is peeked, not decoded),
 * so the following page may be empty; a page with fewer than `limit` items is the last.
 *
 * A long scan gives the event loop a turn every {@link YIELD_EVERY} documents, so a
 * server keeps answering other requests while one query reads millions of values.
 *
 * Sorted queries (`sort`, see `sort.ts`) run one of two ways (`planSorted`):
 * - **stream**: documents come from a range index in sort order; each is kept only
 *   under the entry whose value is its sort value (which drops the other elements of an
 *   array and stale entries), re-checked, and the page stops at `limit`. When the index's
 *   values are exhausted, the scope is scanned for the documents without a sort value —
 *   unless the filter needs the sort field to hold a value. `next_cursor` is set when
 *   the page is full (the next page may be empty).
 * - **top_k**: every candidate of the filter's access path (the whole scope for a scan)
 *   is read; the matches after the cursor's position go through a heap that keeps the
 *   best `limit` (`top_k.ts`). Memory is the page; time is a full read per page.
 *   `next_cursor` is set exactly when more matches follow.
 */
import type { JsonObject, PlanCandidate, QueryItem, QueryItemsResponse, QueryPlan, QueryResponse } from "./types.ts";
import { fromUtf8, utf8 } from "../engine/coding.ts";
import { decodeDocument } from "./codec.ts";
import { encodeCursor } from "./cursor.ts";
import { fieldPaths, filterToJson, type FilterNode } from "./filter.ts";
import { compilePredicate, type Predicate } from "./match.ts";
import { MemberReader } from "./member_reader.ts";
import { TOP_K_CANDIDATES, plan, planSorted, type AccessPath, type DocumentStream, type PlannableIndex, type SortedAccessPath } from "./planner.ts";
import { derivePrefilter, type Prefilter } from "./prefilter.ts";
import { parseQueryRequest, type ParsedQuery } from "./request.ts";
import { compareSortPositions, compileSortValue, type SortSpec } from "./sort.ts";
import type { QuerySource, RawEntryCursor } from "./source.ts";
import { TopK } from "./top_k.ts";

export interface ExecuteOptions {
  /** Indexes the planner may use (none until the index issues). */
  indexes?: readonly PlannableIndex[];
  /**
   * Default true. False reads every value, so `skipped_not_json` counts every non-JSON
   * value in scope (benchmarks and tests compare both ways; results are the same).
   */
  prefilter?: boolean;
  /**
   * Default true: check each value and read only the members the filter needs
   * (`member_reader.ts`). False: `JSON.parse` every value (benchmarks and tests compare).
   */
  memberReader?: boolean;
  /**
   * Sorted queries: a filter answered from an index with at most this many candidates
   * is read whole and sorted (top-k) rather than streamed from a sort index. Default
   * {@link TOP_K_CANDIDATES}; tests lower it to exercise the stream.
   */
  topKCandidates?: number;
}

/** Documents between two turns of the event loop during a long scan. */
export const YIELD_EVERY = 4096;

/**
 * Runs `request` (a `QueryRequest`, validated here) against `source` — normally the
 * Database — and returns a `QueryResponse`. Invalid requests reject with a KvdbError
 * INVALID_ARGUMENT whose message starts with the offending location.
 */
export async function executeQuery(source: QuerySource, request: unknown, options: ExecuteOptions = {}): Promise<QueryResponse> {
  const started = performance.now();
  const query = parseQueryRequest(request);
  if (query.sort) return executeSorted(query, query.sort, source, options, started);
  const { access, candidates } = plan(query, source, options.indexes);
  // Whole documents only pay off when they are returned; a count just checks members.
  const { matcher, prefilter } = buildMatcher(query, options, access.candidatesMatch === true && !query.count);
  const items: QueryItem[] | null = query.count ? null : [];
  const limit = query.count ? Infinity : query.limit;

  // An index may know the count without reading documents (its live counts).
  const known = query.count ? access.exactCount?.() : undefined;
  const { matched, more } = known !== undefined ? { matched: known, more: false } : await run(access.open(query.after), matcher, limit, items);

  const planOut: QueryPlan = {
    kind: access.kind,
    index: access.index,
    keys_examined: access.keysExamined(matcher.docsExamined),
    docs_examined: matcher.docsExamined,
    docs_decoded: matcher.docsDecoded,
    returned: matched,
    skipped_not_json: matcher.skippedNotJson,
    ms: 0,
    ...access.counters,
  };
  if (known !== undefined) planOut.counted_from_index = true;
  finishPlan(planOut, query, candidates, prefilter, started);
  if (items === null) return { count: matched, plan: planOut };
  const next_cursor = more ? encodeCursor({ after: items[items.length - 1].key }, query.fingerprint) : null;
  return { items, next_cursor, plan: planOut };
}

/**
 * The matcher of `query`. `whole`: candidates are expected to match, so each is decoded
 * whole at once (and that document returned) rather than checked by the member reader
 * first, which also reads the sort field.
 */
function buildMatcher(query: ParsedQuery, options: ExecuteOptions, whole = false): { matcher: DocumentMatcher; prefilter: Prefilter | null } {
  const prefilter = options.prefilter === false ? null : derivePrefilter(query.filter);
  const names = fieldPaths(query.filter).map((p) => p.segments[0].name);
  if (query.sort) names.push(query.sort.path.segments[0].name);
  const matcher = new DocumentMatcher(compilePredicate(query.filter), prefilter, options.memberReader === false ? null : names);
  matcher.whole = whole;
  return { matcher, prefilter };
}

/** Adds the explain fields and the elapsed time. */
function finishPlan(planOut: QueryPlan, query: ParsedQuery, candidates: PlanCandidate[], prefilter: Prefilter | null, started: number): void {
  if (query.explain) {
    planOut.candidates = candidates;
    planOut.filter = filterToJson(query.filter);
    planOut.prefilter = prefilter ? prefilter.needles.map((n) => fromUtf8(n)) : [];
  }
  planOut.ms = Math.round((performance.now() - started) * 1000) / 1000;
}

/** Prefilter, decode and match one stored value, counting what it did. */
class DocumentMatcher {
  docsExamined = 0;
  docsDecoded = 0;
  skippedNotJson = 0;
  /** Decode whole documents (fit to be returned as items) rather than read members. */
  whole = false;

  /** Built on first use: a reader costs a few microseconds to set up, and whole-document reads never need one. */
  private reader_: MemberReader | undefined;

  constructor(
    readonly predicate: Predicate,
    private readonly prefilter: Prefilter | null,
    /** The top-level members to read, or null to decode every value whole. */
    private readonly members: readonly string[] | null,
  ) {}

  private get reader(): MemberReader | null {
    if (this.members === null) return null;
    return (this.reader_ ??= new MemberReader(this.members));
  }

  /**
   * The document (or the member reader's reused partial document) when the stored value
   * is a JSON object the prefilter does not rule out; undefined otherwise.
   */
  read(bytes: Uint8Array): JsonObject | undefined {
    this.docsExamined++;
    // Whole reads are for candidates expected to match: the prefilter would pass them.
    if (this.prefilter !== null && !this.whole && !this.prefilter.mayMatch(bytes)) return undefined;
    this.docsDecoded++;
    const doc = this.whole || this.members === null ? decodeDocument(bytes) : this.reader!.read(bytes);
    if (doc === undefined) this.skippedNotJson++;
    return doc;
  }

  /** The document when the stored value is a JSON object matching the filter, else undefined. */
  match(bytes: Uint8Array): JsonObject | undefined {
    const doc = this.read(bytes);
    return doc !== undefined && this.predicate(doc) ? doc : undefined;
  }

  /** The whole document of a value `match` accepted (so it is a JSON object). */
  documentOf(bytes: Uint8Array, matched: JsonObject): JsonObject {
    return this.whole || this.members === null ? matched : decodeDocument(bytes)!;
  }
}

/** The whole document of a value `matches` accepted (so it is a JSON object). */
function documentOf(bytes: Uint8Array): JsonObject {
  return decodeDocument(bytes)!;
}

interface RunResult {
  matched: number;
  /** The limit was reached with at least one more candidate after the last match. */
  more: boolean;
}

/** Reads candidates until `limit` matches (pushed to `items` unless counting). */
async function run(stream: DocumentStream, m: DocumentMatcher, limit: number, items: QueryItem[] | null): Promise<RunResult> {
  let matched = 0;
  let sinceYield = 0;
  if (stream.kind === "cursor") {
    const c = stream.cursor;
    try {
      for (; c.valid(); c.next()) {
        if (matched === limit) return { matched, more: true };
        const bytes = c.value();
        const doc = m.match(bytes);
        if (doc !== undefined) {
          matched++;
          if (items !== null) items.push({ key: c.keyText ? c.keyText() : fromUtf8(c.key()), value: m.documentOf(bytes, doc) });
        }
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    } finally {
      c.close();
    }
    return { matched, more: false };
  }
  // Leaving the loop early (return) closes the iterator, which releases its snapshot.
  for await (const [key, bytes] of stream.entries) {
    if (matched === limit) return { matched, more: true };
    const doc = m.match(bytes);
    if (doc !== undefined) {
      matched++;
      if (items !== null) items.push({ key, value: m.documentOf(bytes, doc) });
    }
    // An async iterator's steps are microtasks: without this, I/O would wait for the whole scan.
    if (++sinceYield === YIELD_EVERY) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return { matched, more: false };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------
// sorted queries

interface SortedPage {
  items: QueryItem[];
  /** Encoded sort value of each item (null: none), for the cursor. */
  values: (Uint8Array | null)[];
  more: boolean;
}

async function executeSorted(query: ParsedQuery, sort: SortSpec, source: QuerySource, options: ExecuteOptions, started: number): Promise<QueryItemsResponse> {
  const choice = planSorted(query, source, options.indexes, options.topKCandidates);
  // A stream with no filter returns nearly every document it reads: decode each once.
  const { matcher, prefilter } = buildMatcher(query, options, choice.mode === "stream" && query.filter.kind === "all");
  const sortValueOf = compileSortValue(sort);
  const planSort = { field: sort.path.canonical, direction: sort.direction };
  let page: SortedPage;
  let planOut: QueryPlan;
  if (choice.mode === "stream") {
    const path = choice.stream;
    const counters = { sort_skipped: 0 };
    page = await streamSorted(path, query, sort, matcher, sortValueOf, counters);
    const missingScanned = path.keysExamined() - (path.counters.entries_read ?? 0);
    planOut = {
      kind: path.kind,
      index: path.index,
      keys_examined: path.keysExamined(),
      docs_examined: matcher.docsExamined,
      docs_decoded: matcher.docsDecoded,
      returned: page.items.length,
      skipped_not_json: matcher.skippedNotJson,
      ms: 0,
      ...path.counters,
      ...counters,
      sort: { ...planSort, method: "index", missing_scanned: missingScanned },
    };
  } else {
    const access = choice.access;
    page = await topKSorted(access, query, sort, matcher, sortValueOf);
    planOut = {
      kind: access.kind,
      index: access.index,
      keys_examined: access.keysExamined(matcher.docsExamined),
      docs_examined: matcher.docsExamined,
      docs_decoded: matcher.docsDecoded,
      returned: page.items.length,
      skipped_not_json: matcher.skippedNotJson,
      ms: 0,
      ...access.counters,
      sort: { ...planSort, method: "top_k" },
    };
  }
  finishPlan(planOut, query, choice.candidates, prefilter, started);
  const last = page.items.length - 1;
  const next_cursor = page.more ? encodeCursor({ after: page.items[last].key, sortValue: page.values[last] }, query.fingerprint) : null;
  return { items: page.items, next_cursor, plan: planOut };
}

/** Streams documents in sort order from a range index, then those without a sort value. */
async function streamSorted(
  path: SortedAccessPath,
  query: ParsedQuery,
  sort: SortSpec,
  m: DocumentMatcher,
  sortValueOf: (doc: JsonObject) => Uint8Array | null,
  counters: { sort_skipped: number },
): Promise<SortedPage> {
  const page: SortedPage = { items: [], values: [], more: false };
  const limit = query.limit;
  const after = query.afterSort;
  const streams = path.open(after);
  let sinceYield = 0;
  try {
    const c = streams.present;
    if (c !== null) {
      for (; c.valid(); c.next()) {
        const bytes = c.value();
        const doc = m.read(bytes);
        if (doc !== undefined) {
          const v = sortValueOf(doc);
          if (v === null || !c.isEntryValue(v)) counters.sort_skipped++;
          else if (m.predicate(doc)) {
            push(page, c.key(), m.documentOf(bytes, doc), v);
            // A full page stops here, without reading the next entry: the next page may be empty.
            if (page.items.length === limit) {
              page.more = true;
              return page;
            }
          }
        }
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    }
    // The documents without a sort value come last; a filter that needs the sort field has none.
    if (requiresValue(query.filter, sort)) return page;
    const missing: RawEntryCursor = streams.missing(after !== undefined && after.value === null ? after.key : undefined);
    // Most documents of the scope have a sort value and are passed over: read only members.
    m.whole = false;
    for (; missing.valid(); missing.next()) {
      if (page.items.length === limit) {
        page.more = true;
        return page;
      }
      const bytes = missing.value();
      const doc = m.read(bytes);
      if (doc !== undefined && sortValueOf(doc) === null && m.predicate(doc)) push(page, missing.key(), m.documentOf(bytes, doc), null);
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    return page;
  } finally {
    streams.close();
  }
}

function push(page: SortedPage, key: Uint8Array, doc: JsonObject, value: Uint8Array | null): void {
  page.items.push({ key: fromUtf8(key), value: doc });
  page.values.push(value);
}

/** Reads every candidate of `access` and keeps the best `limit` after the cursor's position. */
async function topKSorted(access: AccessPath, query: ParsedQuery, sort: SortSpec, m: DocumentMatcher, sortValueOf: (doc: JsonObject) => Uint8Array | null): Promise<SortedPage> {
  const top = new TopK(query.limit, sort.direction);
  const after = query.afterSort;
  let eligible = 0;
  const consider = (key: Uint8Array, bytes: Uint8Array, copyKey: boolean): void => {
    const doc = m.read(bytes);
    if (doc === undefined || !m.predicate(doc)) return;
    const v = sortValueOf(doc);
    if (after !== undefined && compareSortPositions(v, key, after.value, after.key, sort.direction) <= 0) return;
    eligible++;
    if (top.wants(v, key)) top.add({ value: v, key: copyKey ? key.slice() : key, bytes: bytes.slice() });
  };
  await forEachCandidate(access.open(undefined), consider);
  const ranked = top.sorted();
  return {
    items: ranked.map((r) => ({ key: fromUtf8(r.key), value: documentOf(r.bytes) })),
    values: ranked.map((r) => r.value),
    more: eligible > query.limit,
  };
}

/** Calls `fn` on every candidate of `stream`, yielding to the event loop now and then. */
async function forEachCandidate(stream: DocumentStream, fn: (key: Uint8Array, bytes: Uint8Array, copyKey: boolean) => void): Promise<void> {
  let sinceYield = 0;
  if (stream.kind === "cursor") {
    const c = stream.cursor;
    try {
      for (; c.valid(); c.next()) {
        fn(c.key(), c.value(), true);
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    } finally {
      c.close();
    }
    return;
  }
  for await (const [key, bytes] of stream.entries) {
    fn(utf8(key), bytes, false);
    if (++sinceYield === YIELD_EVERY) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
}

/**
 * True when every match of `filter` has a sort value: the filter requires the sort
 * field itself to equal a scalar, lie in a range, or start with a prefix.
 */
function requiresValue(filter: FilterNode, sort: SortSpec): boolean {
  switch (filter.kind) {
    case "field": {
      if (filter.path.canonical !== sort.path.canonical) return false;
      const x = filter.operand;
      const scalar = (v: unknown) => v === null || typeof v !== "object";
      switch (filter.op) {
        case "$gt":
        case "$gte":
        case "$lt":
        case "$lte":
        case "$prefix":
          return true;
        case "$eq":
          return scalar(x);
        case "$in":
          return (x as unknown[]).every(scalar);
        default:
          return false;
      }
    }
    case "and":
      return filter.children.some((c) => requiresValue(c, sort));
    case "or":
      return filter.children.every((c) => requiresValue(c, sort));
    default:
      return false;
  }
}
