import { describe, expect, test } from "bun:test";
import { parseFilter } from "../../src/query/filter.ts";
import { compilePredicate } from "../../src/query/match.ts";
import { derivePrefilter } from "../../src/query/prefilter.ts";

const needles = (filter: unknown) => derivePrefilter(parseFilter(filter))?.needles.map((n) => Buffer.from(n).toString()) ?? [];
const bytes = (s: string) => new TextEncoder().encode(s);
const mayMatch = (filter: unknown, text: string) => derivePrefilter(parseFilter(filter))!.mayMatch(bytes(text));

describe("needles", () => {
  test("values first, then member names", () => {
    expect(needles({ city: "X", age: { $gte: 30 } })).toEqual(['"X"', '"city"', '"age"']);
    expect(needles({ "a.b.0.c": true })).toEqual(["true", '"a"', '"b"', '"c"']);
    expect(needles({ n: { $prefix: "Jo" } })).toEqual(['"Jo', '"n"']);
    expect(needles({ t: { $contains: "ab" } })).toEqual(["ab", '"t"']);
    expect(needles({ t: { $contains: null } })).toEqual(["null", '"t"']);
  });

  test("nothing from negations, numbers, escaped strings; no prefilter on member names alone", () => {
    expect(needles({})).toEqual([]);
    expect(needles({ a: { $ne: "x" } })).toEqual([]);
    expect(needles({ a: { $nin: ["x"] } })).toEqual([]);
    expect(needles({ a: { $exists: false } })).toEqual([]);
    expect(needles({ $not: { a: "x" } })).toEqual([]);
    expect(needles({ a: 5 })).toEqual([]);
    expect(needles({ a: 'say "hi"' })).toEqual([]);
    expect(needles({ 'q"k': "v" })).toEqual(['"v"']);
    expect(needles({ a: "\n" })).toEqual([]);
    expect(needles({ a: "\ud800" })).toEqual([]);
    expect(needles({ a: { $in: ["x", "y"] } })).toEqual([]);
    expect(needles({ a: { $gt: "x" }, b: { $exists: true } })).toEqual([]);
  });

  test("$or keeps only what every branch requires", () => {
    expect(needles({ $or: [{ a: "x", b: 1 }, { a: "x", c: 1 }] })).toEqual(['"x"', '"a"']);
    expect(needles({ $or: [{ a: 1 }, { b: 1 }] })).toEqual([]);
  });
});

describe("mayMatch", () => {
  test("refuses documents without a needle", () => {
    expect(mayMatch({ city: "X" }, '{"city":"Y"}')).toBe(false);
    expect(mayMatch({ city: "X" }, '{"city":"XY"}')).toBe(false);
    expect(mayMatch({ city: "X" }, '{"city":"X"}')).toBe(true);
    expect(mayMatch({ city: "X" }, '{"town":"X"}')).toBe(false);
    expect(mayMatch({ city: "X" }, "not json")).toBe(false);
  });

  test("a backslash anywhere sends the document to the decoder", () => {
    const escaped = ['{"city":"\\u0058"}', '{"c\\u0069ty":"X"}', '{"city":"X","note":"a\\nb"}', '{"n":"\\\\","city":"\\u0058"}'];
    const p = compilePredicate(parseFilter({ city: "X" }));
    for (const text of escaped) {
      expect(mayMatch({ city: "X" }, text)).toBe(true);
      if (text !== escaped[2]) expect(p(JSON.parse(text))).toBe(true);
    }
  });

  test("needles at the edges of the document, and non-ASCII", () => {
    expect(mayMatch({ a: "é" }, '{"a":"é"}')).toBe(true);
    expect(mayMatch({ a: "é" }, '{"a":"e"}')).toBe(false);
    expect(mayMatch({ t: { $contains: "{" } }, '{"t":"{"}')).toBe(true);
    expect(mayMatch({ Z: true }, '{"Z":true}')).toBe(true);
    expect(mayMatch({ Z: true }, '{"Z":tru')).toBe(false);
  });
});
