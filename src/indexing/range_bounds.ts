/**
 * @module
 * Which index values a filter can match on one field, as byte intervals over the value
 * encoding (`value_codec.ts`): the part of a range index a query has to read.
 *
 * An interval `[lo, hi)` holds the encoded values `v` with `lo ≤ enc(v) < hi` (bytes).
 * A bound comes from an encoded operand: `≥ x` starts at `enc(x)`, `> x` at the first
 * byte string after every string that starts with `enc(x)` (`prefixEnd`; the encoding is
 * prefix-free, so that is the first value above `x`), and likewise for `<`/`≤`. Range
 * operators stay inside their operand's type tag — `$gt: 30` reads numbers only, as the
 * filter compares numbers only with numbers — so an open side ends at the tag's edge.
 *
 * Strings: the filter compares strings by UTF-16-aware code point order and the index by
 * UTF-8 bytes with a lone surrogate encoded as U+FFFD. The two orders agree except where
 * a lone surrogate meets a surrogate or a character U+FFFD..U+FFFF at the first position
 * where two strings differ; so a string bound is exact up to its first such "risky"
 * character, and from there the interval is widened to every string sharing the bound's
 * prefix before it (the re-check then decides). `$eq`/`$in` on such strings read one
 * value's entries, which may include other strings with the same U+FFFD encoding.
 *
 * Combinators: `$in` and `$or` are unions. Several conditions on the field under `$and`
 * cannot simply be intersected: the filter matches an array field when *each* condition
 * holds for *some* element (`{"age": {"$gte": 30, "$lte": 35}}` matches `[10, 40]`), so
 * the intersection is exact only when every record has at most one value in the index
 * (`singleValued`). Otherwise the most selective single condition is read.
 */
import { compareBytes, prefixEnd } from "../engine/coding.ts";
import type { FieldCondition, FilterNode } from "../query/filter.ts";
import type { JsonValue } from "../query/types.ts";
import { TAG_NUMBER, TAG_STRING, encodeIndexValue } from "./value_codec.ts";

/** Encoded values `lo ≤ enc(v) < hi`. */
export interface ValueInterval {
  readonly lo: Uint8Array;
  readonly hi: Uint8Array;
}

export interface FieldRanges {
  /** Sorted, disjoint, non-empty intervals. */
  readonly intervals: readonly ValueInterval[];
  /**
   * The records with an entry in `intervals` are exactly the records the filter matches
   * (nothing else in the filter, no widening): a count needs no documents.
   */
  readonly exact: boolean;
  /** The intervals hold one single value (`$eq`): no record has two entries in them. */
  readonly onePoint: boolean;
}

export interface RangeContext {
  /** The indexed field (a plain top-level name). */
  readonly field: string;
  /** Every record has at most one value in the index, so conditions may be intersected. */
  readonly singleValued: boolean;
  /** Index entries in `intervals`, counted up to `cap` (a number > cap beyond). */
  count(intervals: readonly ValueInterval[], cap: number): number;
  /** How far `count` may go when comparing `$and` conditions. */
  readonly countCap: number;
  /** Describes the index for "field not indexed" reasons. */
  readonly describe: string;
}

type Result = FieldRanges | { rejected: string };

const NUMBERS: ValueInterval = { lo: Uint8Array.of(TAG_NUMBER), hi: Uint8Array.of(TAG_NUMBER + 1) };
const STRINGS: ValueInterval = { lo: Uint8Array.of(TAG_STRING), hi: Uint8Array.of(TAG_STRING + 1) };

/** The intervals `node` restricts the field to, or why this index cannot answer it. */
export function rangesOf(node: FilterNode, ctx: RangeContext): Result {
  switch (node.kind) {
    case "field":
      return conditionRanges(node, ctx);
    case "and":
      return andRanges(node.children, ctx);
    case "or": {
      const all: ValueInterval[] = [];
      let exact = true;
      for (const child of node.children) {
        const r = rangesOf(child, ctx);
        if ("rejected" in r) return { rejected: `$or branch not answerable from this index: ${r.rejected}` };
        all.push(...r.intervals);
        exact &&= r.exact;
      }
      return { intervals: normalize(all), exact, onePoint: false };
    }
    case "not":
      return { rejected: "operator not supported: $not" };
    case "all":
      return { rejected: "no filter on the indexed field" };
  }
}

function andRanges(children: readonly FilterNode[], ctx: RangeContext): Result {
  const terms: FieldRanges[] = [];
  let others = false;
  let reason = "field not indexed";
  for (const child of children) {
    const r = rangesOf(child, ctx);
    if ("rejected" in r) {
      others = true;
      reason = r.rejected;
    } else terms.push(r);
  }
  if (terms.length === 0) return { rejected: reason };
  if (terms.length === 1) return { ...terms[0], exact: terms[0].exact && !others };
  if (ctx.singleValued) {
    let intervals = terms[0].intervals;
    for (const t of terms.slice(1)) intervals = intersect(intervals, t.intervals);
    return { intervals, exact: !others && terms.every((t) => t.exact), onePoint: terms.some((t) => t.onePoint) };
  }
  // Read the most selective condition alone; the others are re-checked.
  let best = terms[0];
  let bestCount = ctx.count(best.intervals, ctx.countCap);
  for (const t of terms.slice(1)) {
    const n = ctx.count(t.intervals, bestCount);
    if (n < bestCount) {
      best = t;
      bestCount = n;
    }
  }
  return { intervals: best.intervals, exact: false, onePoint: best.onePoint };
}

function conditionRanges(c: FieldCondition, ctx: RangeContext): Result {
  const segs = c.path.segments;
  if (segs.length !== 1 || segs[0].name !== ctx.field) return { rejected: `field not indexed: the index covers ${ctx.describe}` };
  const x = c.operand;
  switch (c.op) {
    case "$eq":
      if (!isScalar(x)) return { rejected: "operator not supported: $eq with an array or object operand" };
      return { intervals: [point(x)], exact: exactPoint(x), onePoint: true };
    case "$in": {
      const list = x as JsonValue[];
      if (!list.every(isScalar)) return { rejected: "operator not supported: $in with array or object values" };
      const intervals = dedupePoints(list.map((v) => point(v as Scalar)));
      return { intervals, exact: list.every((v) => exactPoint(v as Scalar)), onePoint: intervals.length === 1 };
    }
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      return boundRanges(c.op, x as number | string);
    default:
      return { rejected: `operator not supported: ${c.op} (range indexes answer $eq, $in, $gt, $gte, $lt, $lte)` };
  }
}

type Scalar = null | boolean | number | string;

function isScalar(v: JsonValue): v is Scalar {
  return v === null || typeof v !== "object";
}

function point(v: Scalar): ValueInterval {
  const e = encodeIndexValue(v);
  return { lo: e, hi: prefixEnd(e)! };
}

/** A point lookup returns exactly the records holding `v` unless another string shares its encoding. */
function exactPoint(v: Scalar): boolean {
  return typeof v !== "string" || firstRisky(v) < 0;
}

/** Index of the first code unit that may order differently in the filter and the index, or -1. */
function firstRisky(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0xd800 && c <= 0xdfff) || c >= 0xfffd) return i;
  }
  return -1;
}

function boundRanges(op: "$gt" | "$gte" | "$lt" | "$lte", x: number | string): FieldRanges {
  const type = typeof x === "number" ? NUMBERS : STRINGS;
  const lower = op === "$gt" || op === "$gte";
  let bound: Uint8Array;
  let exact = true;
  const risky = typeof x === "string" ? firstRisky(x) : -1;
  if (risky >= 0) {
    // Every string starting with the safe prefix may lie on either side: include them all.
    // The prefix's encoding without its terminator starts every such string's encoding.
    const safe = encodeIndexValue((x as string).slice(0, risky));
    const prefix = safe.subarray(0, safe.length - 2);
    bound = lower ? prefix : (prefixEnd(prefix) ?? STRINGS.hi);
    exact = false;
  } else {
    const e = encodeIndexValue(x);
    bound = op === "$gte" || op === "$lt" ? e : prefixEnd(e)!;
  }
  const interval = lower ? { lo: bound, hi: type.hi } : { lo: type.lo, hi: bound };
  return { intervals: compareBytes(interval.lo, interval.hi) < 0 ? [interval] : [], exact, onePoint: false };
}

/** Sorted, merged, non-empty. */
export function normalize(list: readonly ValueInterval[]): ValueInterval[] {
  const sorted = list.filter((i) => compareBytes(i.lo, i.hi) < 0).sort((a, b) => compareBytes(a.lo, b.lo));
  const out: ValueInterval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && compareBytes(i.lo, last.hi) <= 0) {
      if (compareBytes(i.hi, last.hi) > 0) out[out.length - 1] = { lo: last.lo, hi: i.hi };
    } else out.push(i);
  }
  return out;
}

/** Distinct points, sorted (an `$in` may repeat a value). */
function dedupePoints(list: readonly ValueInterval[]): ValueInterval[] {
  const sorted = [...list].sort((a, b) => compareBytes(a.lo, b.lo));
  return sorted.filter((p, i) => i === 0 || compareBytes(p.lo, sorted[i - 1].lo) !== 0);
}

/** Intersection of two sorted disjoint interval lists. */
export function intersect(a: readonly ValueInterval[], b: readonly ValueInterval[]): ValueInterval[] {
  const out: ValueInterval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = compareBytes(a[i].lo, b[j].lo) >= 0 ? a[i].lo : b[j].lo;
    const hi = compareBytes(a[i].hi, b[j].hi) <= 0 ? a[i].hi : b[j].hi;
    if (compareBytes(lo, hi) < 0) out.push({ lo, hi });
    if (compareBytes(a[i].hi, b[j].hi) <= 0) i++;
    else j++;
  }
  return out;
}
