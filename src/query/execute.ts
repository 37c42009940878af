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
 */
import type { JsonObject, QueryItem, QueryPlan, QueryResponse } from "./types.ts";
import { fromUtf8 } from "../engine/coding.ts";
import { decodeDocument } from "./codec.ts";
import { encodeCursor } from "./cursor.ts";
import { fieldPaths, filterToJson } from "./filter.ts";
import { compilePredicate, type Predicate } from "./match.ts";
import { MemberReader } from "./member_reader.ts";
import { plan, type DocumentStream, type PlannableIndex } from "./planner.ts";
import { derivePrefilter, type Prefilter } from "./prefilter.ts";
import { parseQueryRequest } from "./request.ts";
import type { QuerySource } from "./source.ts";

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
  const { access, candidates } = plan(query, source, options.indexes);
  const prefilter = options.prefilter === false ? null : derivePrefilter(query.filter);
  const reader = options.memberReader === false ? null : new MemberReader(fieldPaths(query.filter).map((p) => p.segments[0].name));
  const matcher = new DocumentMatcher(compilePredicate(query.filter), prefilter, reader);
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
  if (query.explain) {
    planOut.candidates = candidates;
    planOut.filter = filterToJson(query.filter);
    planOut.prefilter = prefilter ? prefilter.needles.map((n) => fromUtf8(n)) : [];
  }
  planOut.ms = Math.round((performance.now() - started) * 1000) / 1000;
  if (items === null) return { count: matched, plan: planOut };
  const next_cursor = more ? encodeCursor({ after: items[items.length - 1].key }, query.fingerprint) : null;
  return { items, next_cursor, plan: planOut };
}

/** Prefilter, decode and match one stored value, counting what it did. */
class DocumentMatcher {
  docsExamined = 0;
  docsDecoded = 0;
  skippedNotJson = 0;

  constructor(
    private readonly predicate: Predicate,
    private readonly prefilter: Prefilter | null,
    private readonly reader: MemberReader | null,
  ) {}

  /** True when the stored value is a JSON object matching the filter. */
  matches(bytes: Uint8Array): boolean {
    this.docsExamined++;
    if (this.prefilter !== null && !this.prefilter.mayMatch(bytes)) return false;
    this.docsDecoded++;
    const doc = this.reader === null ? decodeDocument(bytes) : this.reader.read(bytes);
    if (doc === undefined) {
      this.skippedNotJson++;
      return false;
    }
    return this.predicate(doc);
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
        if (m.matches(bytes)) {
          matched++;
          if (items !== null) items.push({ key: fromUtf8(c.key()), value: documentOf(bytes) });
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
    if (m.matches(bytes)) {
      matched++;
      if (items !== null) items.push({ key, value: documentOf(bytes) });
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
