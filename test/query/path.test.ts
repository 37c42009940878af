import { describe, expect, test } from "bun:test";
import { formatPath, isJsonPathKey, parseFieldPath } from "../../src/query/path.ts";

const segs = (text: string) => parseFieldPath(text, "filter").segments.map((s) => [s.name, s.index]);
const canon = (text: string) => parseFieldPath(text, "filter").canonical;
const error = (text: string) => {
  try {
    parseFieldPath(text, "filter.x");
  } catch (e) {
    expect((e as { code: string }).code).toBe("INVALID_ARGUMENT");
    return (e as Error).message;
  }
  throw new Error(`no error for ${text}`);
};

describe("dotted paths", () => {
  test("split on dots; numeric parts are index-or-name", () => {
    expect(segs("city")).toEqual([["city", -1]]);
    expect(segs("address.city")).toEqual([["address", -1], ["city", -1]]);
    expect(segs("tags.0")).toEqual([["tags", -1], ["0", 0]]);
    expect(segs("a.17.b")).toEqual([["a", -1], ["17", 17], ["b", -1]]);
  });

  test("leading zeros and long digit runs are plain names", () => {
    expect(segs("a.01")).toEqual([["a", -1], ["01", -1]]);
    expect(segs("a.1234567890")).toEqual([["a", -1], ["1234567890", -1]]);
  });

  test("any character but a dot is part of a name", () => {
    expect(segs("naïve key.$x.[0]")).toEqual([["naïve key", -1], ["$x", -1], ["[0]", -1]]);
  });

  test("empty names are refused with their position", () => {
    expect(error("a..b")).toBe('filter.x: bad field path "a..b": empty name at character 2');
    expect(error(".a")).toBe('filter.x: bad field path ".a": empty name at character 0');
    expect(error("a.")).toBe('filter.x: bad field path "a.": empty name at character 2');
    expect(error("")).toBe('filter.x: bad field path "": a path must name a field');
  });
});

describe("JSONPath", () => {
  test("dot names, quoted names, indexes", () => {
    expect(segs("$.address.city")).toEqual([["address", -1], ["city", -1]]);
    expect(segs("$['a.b']")).toEqual([["a.b", -1]]);
    expect(segs('$["x y"].z')).toEqual([["x y", -1], ["z", -1]]);
    expect(segs("$.tags[0]")).toEqual([["tags", -1], ["0", 0]]);
    expect(segs("$[3][4]")).toEqual([["3", 3], ["4", 4]]);
    expect(segs("$['it\\'s']")).toEqual([["it's", -1]]);
  });

  test("both spellings have one canonical form", () => {
    expect(canon("address.city")).toBe("$.address.city");
    expect(canon("$.address.city")).toBe("$.address.city");
    expect(canon("$['address']['city']")).toBe("$.address.city");
    expect(canon("tags.0")).toBe("$.tags[0]");
    expect(canon("$.tags['0']")).toBe("$.tags[0]");
    expect(canon("$['a.b']")).toBe("$['a.b']");
    expect(canon("$['it\\'s']")).toBe("$['it\\'s']");
    expect(formatPath(parseFieldPath(canon("$['a\\\\b']"), "p").segments)).toBe("$['a\\\\b']");
  });

  test("unsupported JSONPath features are named", () => {
    expect(error("$")).toBe('filter.x: bad field path "$": a path must name a field, e.g. "$.city"');
    expect(error("$..city")).toContain('recursive descent ("..") is not supported');
    expect(error("$.*")).toContain('wildcards ("*") are not supported');
    expect(error("$.tags[*]")).toContain('wildcards ("*") are not supported');
    expect(error("$.tags[?(@.a)]")).toContain("filter and script expressions are not supported");
    expect(error("$.tags[0:2]")).toContain("slices and unions are not supported");
    expect(error("$.tags[-1]")).toContain('expected an array index or a quoted name in "[...]" at character 6');
    expect(error("$.tags[01]")).toContain('bad array index "01"');
    expect(error("$.tags[0")).toContain('missing "]" for "[" at character 6');
    expect(error("$['abc")).toContain("unterminated quoted name starting at character 2");
    expect(error("$['a']x")).toContain('expected "." or "[" at character 6');
    expect(error("$['a'x")).toContain('expected "]" at character 5');
    expect(error("$.a.")).toContain("empty name at character 4");
  });

  test("too many segments", () => {
    expect(error(Array(65).fill("a").join("."))).toContain("more than 64 segments");
    expect(segs(Array(64).fill("a").join("."))).toHaveLength(64);
  });

  test("JSONPath keys are recognized in filters, operators are not", () => {
    expect(isJsonPathKey("$.a")).toBe(true);
    expect(isJsonPathKey("$['a']")).toBe(true);
    expect(isJsonPathKey("$")).toBe(true);
    expect(isJsonPathKey("$and")).toBe(false);
    expect(isJsonPathKey("a.$b")).toBe(false);
  });
});
