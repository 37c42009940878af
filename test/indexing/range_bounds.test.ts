import { describe, expect, test } from "bun:test";
import { compareBytes } from "../../src/engine/coding.ts";
import { intersect, normalize, rangesOf, type RangeContext, type ValueInterval } from "../../src/indexing/range_bounds.ts";
import { encodeIndexValue } from "../../src/indexing/value_codec.ts";
import type { IndexValue } from "../../src/indexing/extractor.ts";
import { parseFilter } from "../../src/query/filter.ts";
import { compareCodePoints } from "../../src/query/compare.ts";
import { seededRandom, testSeed } from "../support/random.ts";

const ctx = (singleValued = false, counts: Record<string, number> = {}): RangeContext => ({
  field: "age",
  singleValued,
  countCap: Infinity,
  describe: "$.age",
  // Counts by interval list, keyed by its first bound: enough to steer $and choices.
  count: (iv) => counts[Buffer.from(iv[0]?.lo ?? []).toString("hex")] ?? 10,
});

const inside = (intervals: readonly ValueInterval[], v: IndexValue) => {
  const e = encodeIndexValue(v);
  return intervals.some((i) => compareBytes(i.lo, e) <= 0 && compareBytes(e, i.hi) < 0);
};
const ranges = (filter: unknown, singleValued = false) => {
  const r = rangesOf(parseFilter(filter), ctx(singleValued));
  if ("rejected" in r) throw new Error(r.rejected);
  return r;
};

describe("filter conditions as value intervals", () => {
  test("bounds stay inside their type: numbers never include strings, null or booleans", () => {
    const gt = ranges({ age: { $gt: 30 } });
    expect(gt.exact).toBe(true);
    for (const v of [30.000001, 1e300, Infinity]) expect(inside(gt.intervals, v)).toBe(true);
    for (const v of [30, -Infinity, "40", null, true, false]) expect(inside(gt.intervals, v)).toBe(false);
    const lte = ranges({ age: { $lte: "m" } });
    for (const v of ["", "m", "a:b", "l\u{1F600}"]) expect(inside(lte.intervals, v)).toBe(true);
    for (const v of ["m\u0000", "n", 5, null]) expect(inside(lte.intervals, v)).toBe(false);
  });

  test("$eq, $in and $or are unions of exact values; other operators are refused with a reason", () => {
    const inn = ranges({ age: { $in: [3, "3", null, 3] } });
    expect(inn.intervals.length).toBe(3);
    expect(inn.exact).toBe(true);
    expect(inside(inn.intervals, 3) && inside(inn.intervals, "3") && inside(inn.intervals, null)).toBe(true);
    expect(inside(inn.intervals, false)).toBe(false);
    const or = ranges({ $or: [{ age: { $lt: 0 } }, { age: { $gt: 10, $lt: 12 } }] }, true);
    expect([-1, 11].map((v) => inside(or.intervals, v))).toEqual([true, true]);
    expect([0, 10, 12].map((v) => inside(or.intervals, v))).toEqual([false, false, false]);
    const refused = (f: unknown) => {
      const r = rangesOf(parseFilter(f), ctx());
      return "rejected" in r ? r.rejected : "answered";
    };
    expect(refused({ age: { $ne: 3 } })).toMatch(/operator not supported: \$ne/);
    expect(refused({ age: { $eq: [1] } })).toMatch(/\$eq with an array/);
    expect(refused({ name: "x" })).toMatch(/field not indexed/);
    expect(refused({ $or: [{ age: 1 }, { name: "x" }] })).toMatch(/\$or branch not answerable/);
    expect(refused({ $not: { age: 1 } })).toMatch(/\$not/);
    expect(refused({ "age.x": 1 })).toMatch(/field not indexed/);
  });

  test("$and: intersected when single-valued; otherwise the most selective condition alone", () => {
    const both = { age: { $gte: 30, $lte: 35 } };
    const single = ranges(both, true);
    expect(single.exact).toBe(true);
    expect([29, 30, 35, 36].map((v) => inside(single.intervals, v))).toEqual([false, true, true, false]);
    // Multi-valued: [10, 40] matches both conditions with no element in [30, 35].
    const lowCount = { [Buffer.from(encodeIndexValue(30)).toString("hex")]: 5, "04": 99 };
    const r = rangesOf(parseFilter(both), ctx(false, lowCount));
    if ("rejected" in r) throw new Error(r.rejected);
    expect(r.exact).toBe(false);
    expect([30, 40, 1e9].map((v) => inside(r.intervals, v))).toEqual([true, true, true]);
    const withOther = ranges({ age: { $gte: 30 }, city: "x" });
    expect(withOther.exact).toBe(false);
    expect(ranges({ age: { $gt: 5, $lt: 3 } }, true).intervals).toEqual([]);
  });

  test("randomized: a string bound's interval holds every string the filter's order puts in range", () => {
    const seed = testSeed("string bounds");
    const r = seededRandom(seed);
    const alphabet = ["a", "b", "\u0000", ":", "\ud800", "\udbff", "\udc00", "\ue000", "\ufffd", "\ufffe", "\uffff", "\u{1F600}", "é"];
    const word = () => Array.from({ length: r.int(4) }, () => r.pick(alphabet)).join("");
    for (let i = 0; i < 6000; i++) {
      const bound = word();
      const op = r.pick(["$gt", "$gte", "$lt", "$lte"] as const);
      const res = ranges({ age: { [op]: bound } });
      const s = word();
      const c = compareCodePoints(s, bound);
      const matches = op === "$gt" ? c > 0 : op === "$gte" ? c >= 0 : op === "$lt" ? c < 0 : c <= 0;
      if (matches) expect({ seed, op, bound, s, inside: inside(res.intervals, s) }).toEqual({ seed, op, bound, s, inside: true });
      if (res.exact) expect({ seed, op, bound, s, inside: inside(res.intervals, s) }).toEqual({ seed, op, bound, s, inside: matches });
    }
  });

  test("interval helpers: normalize merges, intersect keeps the overlap", () => {
    const b = (...x: number[]) => Uint8Array.from(x);
    expect(normalize([{ lo: b(5), hi: b(7) }, { lo: b(1), hi: b(3) }, { lo: b(2), hi: b(4) }, { lo: b(9), hi: b(9) }])).toEqual([
      { lo: b(1), hi: b(4) },
      { lo: b(5), hi: b(7) },
    ]);
    expect(intersect([{ lo: b(1), hi: b(4) }, { lo: b(5), hi: b(9) }], [{ lo: b(3), hi: b(6) }])).toEqual([
      { lo: b(3), hi: b(4) },
      { lo: b(5), hi: b(6) },
    ]);
  });
});
