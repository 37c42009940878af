/**
 * @module
 * How the query planner uses a range index (the `PlannableIndex` seam of
 * `src/query/planner.ts`). Two access paths:
 *
 * - **index_range** (filters): `$gt $gte $lt $lte $eq $in` on the indexed field —
 *   alone, under `$and` with other terms, or in every branch of an `$or` — become value
 *   intervals (`range_bounds.ts`). The path reads the entries in those intervals, keeps
 *   the distinct primary keys in key order (`range_entries.ts`) and yields each
 *   candidate's record from the query's snapshot, strictly after the cursor; the
 *   executor re-checks every candidate, so stale entries never leak and results equal a
 *   scan's. The collected list is cached for the next pages while nothing is written.
 *   A range too wide for one page (more than {@link CANDIDATES_PER_ITEM} × `limit`
 *   entries) is left to the scan, which reaches `limit` matches sooner; a `count` has
 *   no such cap and, when the filter is exactly the range over the index's whole scope,
 *   is answered from the entries without reading documents (distinct keys: a record
 *   whose field is an array has one entry per element).
 *
 * - **index_sort** (`sort` on the indexed field): entries in value order, forward for
 *   ascending and backward for descending, strictly after the cursor's (value, key), each
 *   with its record from one snapshot; then, from the same snapshot, the scope in key
 *   order for the documents without a sort value. The executor keeps a record only under
 *   the entry whose value is its sort value (`src/query/sort.ts`), which skips the other
 *   elements of an array and stale entries alike.
 *
 * Only plain top-level fields (`$.age`) are used, as for equality indexes: for nested
 * paths the filter language looks inside arrays on the way down while JSONPath does not.
 */
import type { Engine, ReadView } from "../engine/engine.ts";
import type { SnapshotIterator } from "../engine/snapshot_iterator.ts";
import { binaryBytes, binaryString, compareBytes, concatBytes, keySuccessor, prefixEnd, utf8 } from "../engine/coding.ts";
import { TOP_K_CANDIDATES, type AccessPath, type DocumentStream, type PathCounters, type PlanHints, type PlannableIndex, type SortedAccessPath, type SortedCursor, type SortedStreams } from "../query/planner.ts";
import type { ParsedQuery } from "../query/request.ts";
import type { RawEntryCursor } from "../query/source.ts";
import type { SortDirection, SortPosition } from "../query/sort.ts";
import { simpleFieldPath } from "./extractor.ts";
import { encodeEscaped } from "./value_codec.ts";
import { rangesOf, type FieldRanges, type RangeContext, type ValueInterval } from "./range_bounds.ts";
import { CandidateCursor } from "./candidate_cursor.ts";
import { RangeKeyCache, collectKeys, primaryKeyOf, rangeId, valueEnd } from "./range_entries.ts";
import type { IndexInstance } from "./instance.ts";
import { USER_KEYSPACE_END } from "./keys.ts";

/**
 * A page may read at most this many range entries per item of its limit; wider ranges
 * are scanned (or, sorted, streamed from a sort index).
 */
export const CANDIDATES_PER_ITEM = 200;

const ZERO = Uint8Array.of(0);

export interface RangePlannerOptions {
  /**
   * True when no record of this index generation has more than one value in it, so two
   * conditions on the field can be read as one interval (`age >= 30 and age <= 35`).
   * Default {@link knownSingleValued}.
   */
  singleValued?(index: IndexInstance): boolean;
}

/**
 * Whether the write path has recorded that no record of `index` ever held more than one
 * value (an index generation's sticky `multikey: false`). Until IndexInstance carries
 * that flag this is always false, and `$and` conditions are read one at a time.
 */
export function knownSingleValued(index: IndexInstance): boolean {
  return (index as IndexInstance & { readonly multikey?: boolean }).multikey === false;
}

export class RangeIndexPlanner implements PlannableIndex {
  readonly name: string;
  private readonly field: string | undefined;
  private readonly unusable: string | undefined;
  private readonly singleValued: (index: IndexInstance) => boolean;

  constructor(
    private readonly index: IndexInstance,
    private readonly engine: Engine,
    private readonly cache: RangeKeyCache,
    options: RangePlannerOptions = {},
  ) {
    this.name = index.name;
    this.singleValued = options.singleValued ?? knownSingleValued;
    const segments = fieldOf(index);
    if (index.definition.type !== "range") this.unusable = "equality index: range operators and sort need a range index";
    else if (!segments) this.unusable = `extractor ${describe(index)} is not a plain field path`;
    else if (segments.length !== 1 || /^\d+$/.test(segments[0]) || segments[0] === "length") {
      this.unusable = `extractor ${describe(index)} is not a plain top-level field (nested paths are answered by scan)`;
    } else this.field = segments[0];
  }

  /** Why the index cannot serve `query` at all, or undefined. */
  private unavailable(query: ParsedQuery): string | undefined {
    if (this.index.state !== "ready") return `index still building (${this.index.scanned} records indexed so far)`;
    if (this.unusable) return this.unusable;
    const scope = this.index.definition.scope_prefix;
    if (!query.scopePrefix.startsWith(scope)) {
      return `wrong scope: the query's scope ${JSON.stringify(query.scopePrefix)} is not inside the index's ${JSON.stringify(scope)}`;
    }
    return undefined;
  }

  private context(singleValued: boolean, countCap: number): RangeContext {
    const prefix = this.index.dataPrefix;
    return {
      field: this.field!,
      singleValued,
      countCap,
      describe: describe(this.index),
      count: (intervals, cap) => withView(this.engine, (view) => this.cache.count(view, prefix, intervals, cap)),
    };
  }

  consider(query: ParsedQuery, hints?: PlanHints): AccessPath | { rejected: string } {
    const why = this.unavailable(query);
    if (why) return { rejected: why };
    // A count reads every match anyway; a top-k without a sort stream reads every
    // candidate of some path, and the range's are fewer than the scope's.
    let cap = CANDIDATES_PER_ITEM * query.limit;
    if (query.count || (query.sort && !hints?.sortStream)) cap = Infinity;
    else if (query.sort) cap = Math.max(cap, TOP_K_CANDIDATES);
    const singleValued = this.singleValued(this.index);
    const ranges = rangesOf(query.filter, this.context(singleValued, cap));
    if ("rejected" in ranges) return ranges;
    if (query.sort && hints?.streamIndex === this.name && hints.streamLeadIn === 0) {
      // The stream reads only this range's entries, in order, and stops at the limit.
      return { rejected: "the sort stream reads this range in order" };
    }
    // With a sort stream as the alternative, only count; collect the keys if chosen.
    const eager = !(query.sort && hints?.sortStream);
    return new RangeAccessPath(this.index, this.engine, this.cache, ranges, query, cap, singleValued || ranges.onePoint, eager);
  }

  private sortsBy(query: ParsedQuery): boolean {
    const segs = query.sort?.path.segments;
    return segs !== undefined && segs.length === 1 && segs[0].name === this.field;
  }

  considerSort(query: ParsedQuery): SortedAccessPath | { rejected: string } {
    if (!query.sort) return { rejected: "no sort" };
    const why = this.unavailable(query);
    if (why) return { rejected: why };
    if (!this.sortsBy(query)) return { rejected: `sort field ${query.sort.path.canonical} not indexed: the index covers ${describe(this.index)}` };
    // Where the filter's values on the field lie: every match has an entry in them.
    const singleValued = this.singleValued(this.index);
    const ranges = rangesOf(query.filter, this.context(singleValued, TOP_K_CANDIDATES));
    const bounds = "rejected" in ranges ? undefined : streamBounds(ranges.intervals, query.sort.direction, singleValued);
    return new SortedIndexPath(this.index, this.engine, this.cache, query.sort.direction, query.scopePrefix, bounds);
  }
}

/**
 * Value bounds for a sort stream, from intervals holding an entry of every match. A
 * match's sort value is its largest value descending (≥ that entry, so ≥ the intervals'
 * start) and its smallest ascending (≤ the intervals' end): the stream can stop past the
 * intervals. It can start at them only if every record has a single value (else an array
 * [10, 40] matching `age >= 30` sorts ascending at 10).
 */
function streamBounds(intervals: readonly ValueInterval[], direction: SortDirection, singleValued: boolean): StreamBounds {
  if (intervals.length === 0) return { lo: ZERO, hi: ZERO, startsAtValues: true };
  const lo = intervals[0].lo;
  const hi = intervals[intervals.length - 1].hi;
  if (singleValued) return { lo, hi, startsAtValues: true };
  return direction === 1 ? { lo: undefined, hi, startsAtValues: false, first: lo } : { lo, hi: undefined, startsAtValues: false, first: hi };
}

/** Encoded value bounds of a sort stream ([lo, hi), either side open). */
interface StreamBounds {
  lo: Uint8Array | undefined;
  hi: Uint8Array | undefined;
  /** The stream starts where the filter's values begin (no lead-in). */
  startsAtValues: boolean;
  /** Otherwise: where the filter's values begin, in the stream's direction. */
  first?: Uint8Array;
}

/** The extractor's plain path, parsed once per index generation (planners are built per query). */
const fields = new WeakMap<IndexInstance, string[] | undefined>();
function fieldOf(index: IndexInstance): string[] | undefined {
  if (!fields.has(index)) fields.set(index, simpleFieldPath(index.definition.extractor));
  return fields.get(index);
}

function describe(index: IndexInstance): string {
  const e = index.definition.extractor;
  return e.kind === "json_path" ? e.path : `regex on the ${e.target}`;
}

function withView<T>(engine: Engine, fn: (view: ReadView) => T): T {
  const view = engine.readView();
  try {
    return fn(view);
  } finally {
    view.release();
  }
}

/** The query scope's bytes when narrower than the index's (entries outside it are skipped), else null. */
function narrowerScope(index: IndexInstance, queryScope: string): Uint8Array | null {
  return queryScope === index.definition.scope_prefix ? null : utf8(queryScope);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

class RangeAccessPath implements AccessPath {
  readonly kind = "index_range";
  readonly index: string;
  readonly candidatesMatch: boolean;
  estimate = Infinity;
  estimateNote: string | undefined;
  readonly counters = { entries_read: 0, candidates_checked: 0, stale_skipped: 0 };
  private readonly scope: Uint8Array | null;
  private readonly id: string;
  private readonly countable: boolean;
  /** Keys collected by refineEstimate, at `seq`. */
  private keys: string[] | undefined;
  private seq = -1;
  /** The exact number of matching records, when counted. */
  private counted: number | undefined;

  constructor(
    private readonly instance: IndexInstance,
    private readonly engine: Engine,
    private readonly cache: RangeKeyCache,
    private readonly ranges: FieldRanges,
    query: ParsedQuery,
    private readonly cap: number,
    /** No record can have two entries in the intervals: entries = records. */
    private readonly noDuplicates: boolean,
    /** Collect the keys while estimating (the path is likely chosen); else count only. */
    private readonly eager: boolean,
  ) {
    this.index = instance.name;
    this.scope = narrowerScope(instance, query.scopePrefix);
    this.countable = query.count && ranges.exact && this.scope === null;
    this.candidatesMatch = ranges.exact;
    this.id = JSON.stringify([rangeId(instance.dataPrefix, ranges.intervals), query.scopePrefix]);
  }

  refineEstimate(budget: number): number {
    return withView(this.engine, (view) => {
      const cached = this.cache.get(this.id, view.seq);
      if (cached) {
        this.keep(cached, view.seq);
        return this.estimate;
      }
      const cap = Math.min(this.cap, budget);
      const prefix = this.instance.dataPrefix;
      if ((this.countable && this.noDuplicates) || !this.eager) {
        // Counted (or found counted) for planning; entries_read counts the entries a path reads for its candidates.
        const n = this.cache.count(view, prefix, this.ranges.intervals, cap);
        if (n > cap) return this.tooWide(cap);
        this.estimate = n;
        if (this.countable && this.noDuplicates) this.counted = n;
        return n;
      }
      // A range found too wide by an earlier page (nothing written since) is not read again.
      const known = this.scope === null ? this.cache.knownCount(view, prefix, this.ranges.intervals, cap) : undefined;
      if (known !== undefined && known > cap) return this.tooWide(cap);
      const got = collectKeys(view, prefix, this.ranges.intervals, this.scope, cap);
      if (!got) {
        this.counters.entries_read += cap;
        if (this.scope === null) this.cache.noteCount(view, prefix, this.ranges.intervals, cap + 1, cap);
        return this.tooWide(cap);
      }
      this.counters.entries_read += got.entries;
      this.cache.set(this.id, view.seq, got.keys);
      this.keep(got.keys, view.seq);
      return this.estimate;
    });
  }

  private keep(keys: string[], seq: number): void {
    this.keys = keys;
    this.seq = seq;
    this.estimate = keys.length;
    if (this.countable) this.counted = keys.length;
  }

  private tooWide(cap: number): number {
    this.estimateNote = `more than ${cap} entries in range`;
    this.estimate = Infinity;
    return Infinity;
  }

  exactCount(): number | undefined {
    return this.countable ? this.counted : undefined;
  }

  open(after: string | undefined): DocumentStream {
    const view = this.engine.readView();
    try {
      let keys = this.keys;
      if (keys === undefined || this.seq !== view.seq) {
        const got = collectKeys(view, this.instance.dataPrefix, this.ranges.intervals, this.scope, Infinity)!;
        this.counters.entries_read += got.entries;
        keys = got.keys;
        this.cache.set(this.id, view.seq, keys);
      }
      const start = after === undefined ? 0 : firstAfter(keys, binaryString(utf8(after)));
      return { kind: "cursor", cursor: new CandidateCursor(keys, start, view, this.counters, binaryBytes) };
    } catch (e) {
      view.release();
      throw e;
    }
  }

  keysExamined(): number {
    return this.counters.entries_read;
  }
}

/** Index of the first key strictly after `after` (binary strings compare as bytes). */
function firstAfter(keys: string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class SortedIndexPath implements SortedAccessPath {
  readonly kind = "index_sort";
  readonly index: string;
  readonly counters: Required<Pick<PathCounters, "entries_read" | "candidates_checked" | "stale_skipped">> = { entries_read: 0, candidates_checked: 0, stale_skipped: 0 };
  /** Keys of the scope read for documents without a sort value. */
  missingScanned = 0;
  private readonly scope: Uint8Array | null;

  constructor(
    private readonly instance: IndexInstance,
    private readonly engine: Engine,
    private readonly cache: RangeKeyCache,
    private readonly direction: SortDirection,
    private readonly queryScope: string,
    /** Where the filter confines the sort field's values, if it does. */
    private readonly bounds: StreamBounds | undefined,
  ) {
    this.index = instance.name;
    this.scope = narrowerScope(instance, queryScope);
  }

  open(after: SortPosition | undefined): SortedStreams {
    const view = this.engine.readView();
    let released = false;
    try {
      const present =
        after !== undefined && after.value === null
          ? null
          : new SortedEntryCursor(view, this.instance.dataPrefix, this.direction, this.bounds, after, this.scope, this.counters);
      const scope = utf8(this.queryScope);
      return {
        present,
        missing: (afterKey) => new ScopeCursor(view, scope, afterKey, this),
        close: () => {
          if (!released) view.release();
          released = true;
        },
      };
    } catch (e) {
      view.release();
      throw e;
    }
  }

  leadIn(cap: number): number {
    const b = this.bounds;
    if (b === undefined || b.startsAtValues) return 0;
    const before = this.direction === 1 ? { lo: new Uint8Array(0), hi: b.first! } : { lo: b.first!, hi: Uint8Array.of(0xff) };
    return withView(this.engine, (view) => this.cache.count(view, this.instance.dataPrefix, [before], cap));
  }

  keysExamined(): number {
    return this.counters.entries_read + this.missingScanned;
  }
}

/** Index entries in sort order after a position, each with its record (entries whose record is gone are skipped). */
class SortedEntryCursor implements SortedCursor {
  private readonly it: SnapshotIterator;
  private readonly at: number;
  private key_: Uint8Array | undefined;
  private value_: Uint8Array | undefined;
  /** The current entry's key and where its value ends (the value starts at `at`). */
  private entry: Uint8Array = new Uint8Array(0);
  private entryEnd = 0;

  constructor(
    private readonly view: ReadView,
    prefix: Uint8Array,
    private readonly direction: SortDirection,
    bounds: StreamBounds | undefined,
    after: SortPosition | undefined,
    private readonly scope: Uint8Array | null,
    private readonly counters: { entries_read: number; candidates_checked: number; stale_skipped: number },
  ) {
    this.at = prefix.length;
    let lower = bounds?.lo ? concatBytes([prefix, bounds.lo]) : prefix;
    let upper = bounds?.hi ? concatBytes([prefix, bounds.hi]) : prefixEnd(prefix)!;
    if (after) {
      // The entry of the position itself; the stream resumes strictly beyond it.
      const entry = concatBytes([prefix, after.value!, encodeEscaped(after.key)]);
      if (direction === 1) {
        const next = keySuccessor(entry);
        if (compareBytes(next, lower) > 0) lower = next;
      } else if (compareBytes(entry, upper) < 0) upper = entry;
    }
    if (compareBytes(lower, upper) > 0) lower = upper;
    this.it = view.iterator(lower, upper);
    if (direction === 1) this.it.seekToFirst();
    else this.it.seekToLast();
    this.settle();
  }

  /** From the iterator's position, the first entry whose record exists (in scope). */
  private settle(): void {
    const it = this.it;
    this.key_ = undefined;
    while (it.valid()) {
      this.counters.entries_read++;
      const key = it.key();
      const end = valueEnd(key, this.at);
      const pk = primaryKeyOf(key, end);
      if (this.scope === null || startsWith(pk, this.scope)) {
        this.counters.candidates_checked++;
        const value = this.view.get(pk);
        if (value !== undefined) {
          this.key_ = pk;
          this.value_ = value;
          this.entry = key;
          this.entryEnd = end;
          return;
        }
        this.counters.stale_skipped++;
      }
      if (this.direction === 1) it.next();
      else it.prev();
    }
  }

  valid(): boolean {
    return this.key_ !== undefined;
  }

  key(): Uint8Array {
    return this.key_!;
  }

  value(): Uint8Array {
    return this.value_!;
  }

  isEntryValue(encoded: Uint8Array): boolean {
    const key = this.entry;
    if (encoded.length !== this.entryEnd - this.at) return false;
    for (let i = 0, j = this.at; i < encoded.length; i++, j++) if (encoded[i] !== key[j]) return false;
    return true;
  }

  next(): void {
    if (this.direction === 1) this.it.next();
    else this.it.prev();
    this.settle();
  }

  /** The snapshot belongs to the SortedStreams. */
  close(): void {}
}

/** The query's scope in key order over the sorted read's snapshot, strictly after `afterKey`. */
class ScopeCursor implements RawEntryCursor {
  private readonly it: SnapshotIterator;

  constructor(view: ReadView, scope: Uint8Array, afterKey: Uint8Array | undefined, private readonly path: SortedIndexPath) {
    const upper = scope.length === 0 ? USER_KEYSPACE_END : (prefixEnd(scope) ?? USER_KEYSPACE_END);
    let lower: Uint8Array | undefined = scope.length === 0 ? undefined : scope;
    if (afterKey !== undefined) {
      const resume = keySuccessor(afterKey);
      if (lower === undefined || compareBytes(resume, lower) > 0) lower = resume;
    }
    this.it = view.iterator(lower, upper);
    this.it.seekToFirst();
    if (this.it.valid()) path.missingScanned++;
  }

  valid(): boolean {
    return this.it.valid();
  }

  key(): Uint8Array {
    return this.it.key();
  }

  value(): Uint8Array {
    return this.it.value();
  }

  next(): void {
    this.it.next();
    if (this.it.valid()) this.path.missingScanned++;
  }

  close(): void {}
}
