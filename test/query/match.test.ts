import { describe, expect, test } from "bun:test";
import { compareCodePoints, jsonEqual } from "../../src/query/compare.ts";
import { parseFilter } from "../../src/query/filter.ts";
import { compilePredicate } from "../../src/query/match.ts";
import type { JsonObject } from "../../src/query/types.ts";
import { seededRandom, testSeed } from "../support/random.ts";

/** Which of `docs` (by index) match `filter`. */
function which(filter: unknown, docs: JsonObject[]): number[] {
  const p = compilePredicate(parseFilter(filter));
  return docs.flatMap((d, i) => (p(d) ? [i] : []));
}
const matches = (filter: unknown, doc: JsonObject) => compilePredicate(parseFilter(filter))(doc);

describe("equality", () => {
  const docs: JsonObject[] = [{ a: 1 }, { a: "1" }, { a: true }, { a: null }, {}, { a: [1, 2] }, { a: { b: 1 } }, { a: -0 }, { a: 0 }];
  test("implicit and $eq match only the same type and value", () => {
    expect(which({ a: 1 }, docs)).toEqual([0, 5]);
    expect(which({ a: { $eq: "1" } }, docs)).toEqual([1]);
    expect(which({ a: true }, docs)).toEqual([2]);
    expect(which({ a: 0 }, docs)).toEqual([7, 8]);
  });
  test("null matches an explicit null, never a missing field", () => {
    expect(which({ a: null }, docs)).toEqual([3]);
    expect(which({ a: { $exists: false } }, docs)).toEqual([4]);
  });
  test("arrays: any element, or the whole array deep-equal", () => {
    expect(which({ a: 2 }, docs)).toEqual([5]);
    expect(which({ a: [1, 2] }, docs)).toEqual([5]);
    expect(which({ a: [2, 1] }, docs)).toEqual([]);
    expect(matches({ a: [1] }, { a: [[1], [2]] })).toBe(true);
    expect(matches({ a: 1 }, { a: [[1]] })).toBe(false); // one level of arrays only
  });
  test("objects: deep equality, key order ignored", () => {
    expect(which({ a: { b: 1 } }, docs)).toEqual([6]);
    expect(matches({ a: { x: 1, y: [1, { z: 2 }] } }, { a: { y: [1, { z: 2 }], x: 1 } })).toBe(true);
    expect(matches({ a: { x: 1 } }, { a: { x: 1, y: 2 } })).toBe(false);
    expect(matches({ a: { x: 1 } }, { a: [{ x: 2 }, { x: 1 }] })).toBe(true);
    expect(matches({ a: {} }, { a: {} })).toBe(true);
    expect(matches({ a: {} }, { a: [] })).toBe(false);
  });
  test("$ne and $nin are exact negations, so they match missing fields", () => {
    expect(which({ a: { $ne: 1 } }, docs)).toEqual([1, 2, 3, 4, 6, 7, 8]);
    expect(which({ a: { $nin: [1, null] } }, docs)).toEqual([1, 2, 4, 6, 7, 8]);
    expect(matches({ a: { $ne: 2 } }, { a: [1, 2] })).toBe(false);
    expect(matches({ a: { $ne: 3 } }, { a: [1, 2] })).toBe(true);
  });
});

describe("$in", () => {
  test("scalars, compounds and array fields", () => {
    const docs: JsonObject[] = [{ a: 1 }, { a: "x" }, { a: [5, "y"] }, { a: { k: 1 } }, { a: [{ k: 1 }] }, { a: null }, { b: 1 }];
    expect(which({ a: { $in: [1, "y"] } }, docs)).toEqual([0, 2]);
    expect(which({ a: { $in: [{ k: 1 }] } }, docs)).toEqual([3, 4]);
    expect(which({ a: { $in: [null] } }, docs)).toEqual([5]);
    expect(which({ a: { $in: [] } }, docs)).toEqual([]);
    expect(which({ a: { $nin: [] } }, docs)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(which({ a: { $in: [[5, "y"]] } }, docs)).toEqual([2]);
  });
});

describe("ordering comparisons", () => {
  const docs: JsonObject[] = [{ v: 5 }, { v: 10 }, { v: "5" }, { v: "b" }, { v: true }, { v: null }, {}, { v: [1, 20] }, { v: -1.5 }];
  test("numbers only with numbers", () => {
    expect(which({ v: { $gt: 5 } }, docs)).toEqual([1, 7]);
    expect(which({ v: { $gte: 5 } }, docs)).toEqual([0, 1, 7]);
    expect(which({ v: { $lt: 5 } }, docs)).toEqual([7, 8]);
    expect(which({ v: { $lte: -1.5 } }, docs)).toEqual([8]);
  });
  test("strings only with strings", () => {
    expect(which({ v: { $gt: "4" } }, docs)).toEqual([2, 3]);
    expect(which({ v: { $lt: "a" } }, docs)).toEqual([2]);
    expect(which({ v: { $gte: "" } }, docs)).toEqual([2, 3]);
  });
  test("booleans, null and missing never compare", () => {
    expect(which({ v: { $gte: -Number.MAX_VALUE } }, docs)).toEqual([0, 1, 7, 8]);
    expect(which({ v: { $lte: "\u{10FFFF}" } }, docs)).toEqual([2, 3]);
  });
  test("a range on an array field: each bound may be met by a different element", () => {
    expect(matches({ v: { $gt: 10, $lt: 5 } }, { v: [1, 20] })).toBe(true);
    expect(matches({ v: { $not: { $gt: 3 } } }, { v: [1, 20] })).toBe(false);
  });
  test("strings order by code point, not UTF-16 unit", () => {
    // U+FF5E (one unit, 0xFF5E) < U+1F600 (surrogates 0xD83D 0xDE00) by code point.
    expect(matches({ s: { $lt: "\u{1F600}" } }, { s: "\uFF5E" })).toBe(true);
    expect(matches({ s: { $gt: "\uFF5E" } }, { s: "\u{1F600}" })).toBe(true);
    expect(matches({ s: { $gt: "\u{1F600}" } }, { s: "\uFF5E" })).toBe(false);
    expect(matches({ s: { $gte: "é" } }, { s: "z" })).toBe(false);
    expect(matches({ s: { $lt: "ab" } }, { s: "a" })).toBe(true);
  });
});

describe("$exists, $prefix, $contains", () => {
  test("$exists counts null and empty values as present", () => {
    const docs: JsonObject[] = [{ a: null }, { a: [] }, { a: 0 }, { b: 1 }, { a: { c: 1 } }];
    expect(which({ a: { $exists: true } }, docs)).toEqual([0, 1, 2, 4]);
    expect(which({ a: { $exists: false } }, docs)).toEqual([3]);
    expect(which({ "a.c": { $exists: true } }, docs)).toEqual([4]);
  });
  test("$prefix on strings and string elements", () => {
    const docs: JsonObject[] = [{ n: "John" }, { n: "jo" }, { n: ["x", "Jo"] }, { n: 10 }, { n: "J" }];
    expect(which({ n: { $prefix: "Jo" } }, docs)).toEqual([0, 2]);
    expect(which({ n: { $prefix: "" } }, docs)).toEqual([0, 1, 2, 4]);
  });
  test("$contains: substring of a string, element of an array", () => {
    const docs: JsonObject[] = [{ t: "bored" }, { t: ["red", "blue"] }, { t: ["bored"] }, { t: [1, 2] }, { t: [{ k: 1 }] }, { t: 5 }];
    expect(which({ t: { $contains: "red" } }, docs)).toEqual([0, 1]);
    expect(which({ t: { $contains: 2 } }, docs)).toEqual([3]);
    expect(which({ t: { $contains: { k: 1 } } }, docs)).toEqual([4]);
    expect(which({ t: { $contains: "" } }, docs)).toEqual([0]);
    expect(which({ t: { $contains: 5 } }, docs)).toEqual([]);
  });
});

describe("paths", () => {
  const doc: JsonObject = {
    address: { city: "Porto", geo: { lat: 1 } },
    tags: ["a", "b"],
    items: [{ name: "x", qty: 1 }, { name: "y" }, 7, [{ name: "z" }]],
    "a.b": 1,
    "0": "zero",
    obj: { "1": "one" },
  };
  test("nested members", () => {
    expect(matches({ "address.city": "Porto" }, doc)).toBe(true);
    expect(matches({ "$.address.geo.lat": 1 }, doc)).toBe(true);
    expect(matches({ "address.zip": { $exists: true } }, doc)).toBe(false);
    expect(matches({ "address.city.x": { $exists: true } }, doc)).toBe(false);
  });
  test("array positions, and numeric names on objects", () => {
    expect(matches({ "tags.1": "b" }, doc)).toBe(true);
    expect(matches({ "$.tags[0]": "b" }, doc)).toBe(false);
    expect(matches({ "tags.5": { $exists: true } }, doc)).toBe(false);
    expect(matches({ "0": "zero" }, doc)).toBe(true);
    expect(matches({ "obj.1": "one" }, doc)).toBe(true);
  });
  test("a name on an array applies to its object elements (one level)", () => {
    expect(matches({ "items.name": "y" }, doc)).toBe(true);
    expect(matches({ "items.qty": { $gte: 1 } }, doc)).toBe(true);
    expect(matches({ "items.name": "z" }, doc)).toBe(false);
    expect(matches({ "items.3.name": "z" }, doc)).toBe(true);
    expect(matches({ "items.name": { $ne: "x" } }, doc)).toBe(false);
  });
  test("names with dots need JSONPath brackets", () => {
    expect(matches({ "$['a.b']": 1 }, doc)).toBe(true);
    expect(matches({ "a.b": 1 }, doc)).toBe(false);
  });
  test("inherited names are not members", () => {
    const plain: JsonObject = { a: {} };
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(matches({ [name]: { $exists: true } }, plain)).toBe(false);
      expect(matches({ [`a.${name}`]: { $exists: true } }, plain)).toBe(false);
    }
    const own = JSON.parse('{"constructor": 1, "__proto__": {"x": 2}}');
    expect(matches({ constructor: 1 }, own)).toBe(true);
    expect(matches({ "__proto__.x": 2 }, own)).toBe(true);
  });
});

describe("combinators", () => {
  const docs: JsonObject[] = [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 2 }, {}];
  test("$and, $or, $not", () => {
    expect(which({ $and: [{ a: 1 }, { b: 2 }] }, docs)).toEqual([1]);
    expect(which({ $or: [{ a: 2 }, { b: 1 }] }, docs)).toEqual([0, 2]);
    expect(which({ $not: { a: 1 } }, docs)).toEqual([2, 3]);
    expect(which({ a: { $not: { $gt: 1 } } }, docs)).toEqual([0, 1, 3]);
    expect(which({ $or: [{ $and: [{ a: 1 }, { $not: { b: 1 } }] }, { a: { $exists: false } }] }, docs)).toEqual([1, 3]);
    expect(which({}, docs)).toEqual([0, 1, 2, 3]);
    expect(which({ $not: {} }, docs)).toEqual([]);
  });
});

describe("comparison helpers", () => {
  test("compareCodePoints agrees with UTF-8 byte order", () => {
    const rnd = seededRandom(testSeed("compareCodePoints"));
    const alphabet = ["a", "b", "z", "é", "\u00ff", "\u0100", "\ud7ff", "\ue000", "\uff5e", "\uffff", "\u{10000}", "\u{1F600}", "\u{10FFFF}", "\u0000"];
    const str = () => Array.from({ length: rnd.int(4) }, () => rnd.pick(alphabet)).join("");
    for (let i = 0; i < 5000; i++) {
      const a = str();
      const b = str();
      const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(Math.sign(compareCodePoints(a, b))).toBe(bytes);
    }
  });
  test("jsonEqual", () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as never })).toBe(false);
    expect(jsonEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(jsonEqual(0, -0)).toBe(true);
    expect(jsonEqual("1", 1)).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
