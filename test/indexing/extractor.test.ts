import { describe, expect, test } from "bun:test";
import { JSONPath } from "jsonpath-plus";
import { isKvdbError } from "../../src/engine/errors.ts";
import type { ExtractorSpec } from "../../src/indexing/definition.ts";
import { compileExtractor, type IndexValue, simpleFieldPath } from "../../src/indexing/extractor.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";
import { errorOf } from "../support/errors.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => enc(JSON.stringify(v));
const path = (p: string): ExtractorSpec => ({ kind: "json_path", path: p });
const K = enc("k");
const extract = (p: string, doc: unknown) => compileExtractor(path(p))(K, json(doc));

describe("json_path extraction", () => {
  test("a field, a nested field, an array element", () => {
    const doc = { city: "PortoAlegre", address: { city: "Recife" }, tags: ["a", "b"] };
    expect(extract("$.city", doc)).toEqual(["PortoAlegre"]);
    expect(extract("$.address.city", doc)).toEqual(["Recife"]);
    expect(extract("$['address']['city']", doc)).toEqual(["Recife"]);
    expect(extract("$.tags[1]", doc)).toEqual(["b"]);
  });

  test("an array field indexes every element (one level), scalars only, deduplicated in order", () => {
    const doc = { tags: ["red", 1, "red", null, true, { x: 1 }, ["nested"], 1, false] };
    expect(extract("$.tags", doc)).toEqual(["red", 1, null, true, false]);
  });

  test("a wildcard indexes every value it reaches", () => {
    const doc = { items: [{ sku: "a" }, { sku: "b" }, { sku: "a" }, { other: 1 }] };
    expect(extract("$.items[*].sku", doc)).toEqual(["a", "b"]);
    expect(extract("$..sku", doc)).toEqual(["a", "b"]);
  });

  test("filters", () => {
    const doc = { people: [{ name: "ana", age: 31 }, { name: "bia", age: 20 }, { name: "caio" }] };
    expect(extract("$.people[?(@.age >= 30)].name", doc)).toEqual(["ana"]);
    // A filter that throws on some element (here: reading a member of undefined) skips it.
    expect(extract("$.people[?(@.pet.kind == 'cat')].name", doc)).toEqual([]);
  });

  test("objects are not indexed; a missing field yields nothing", () => {
    expect(extract("$.address", { address: { city: "X" } })).toEqual([]);
    expect(extract("$.missing", { a: 1 })).toEqual([]);
    expect(extract("$.a.b.c", { a: { b: 5 } })).toEqual([]);
  });

  test("null, booleans, numbers and strings are kept with their type", () => {
    expect(extract("$.v", { v: null })).toEqual([null]);
    expect(extract("$.v", { v: false })).toEqual([false]);
    expect(extract("$.v", { v: 0 })).toEqual([0]);
    expect(extract("$.v", { v: "" })).toEqual([""]);
    expect(extract("$.v", { v: "1" })).toEqual(["1"]);
  });

  test("-0 becomes 0; a number that overflows to Infinity is indexed as such", () => {
    const ex = compileExtractor(path("$.v"));
    const got = ex(K, enc('{"v": -0}'));
    expect(got).toEqual([0]);
    expect(Object.is(got[0], 0)).toBe(true);
    expect(ex(K, enc('{"v": [-0, 0]}'))).toEqual([0]);
    expect(ex(K, enc('{"v": 1e400}'))).toEqual([Infinity]);
  });

  test("values that are not UTF-8 JSON yield nothing and never throw", () => {
    for (const p of ["$.a", "$.a.b", "$..a", "$[*]", "$"]) {
      const ex = compileExtractor(path(p));
      expect(ex(K, enc("not json"))).toEqual([]);
      expect(ex(K, enc('{"a": 1'))).toEqual([]);
      expect(ex(K, new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual([]);
      expect(ex(K, new Uint8Array(0))).toEqual([]);
    }
  });

  test("documents that are not objects", () => {
    expect(extract("$.a", [1, 2])).toEqual([]);
    expect(extract("$[0]", ["x", "y"])).toEqual(["x"]);
    expect(extract("$.a", "text")).toEqual([]);
    // The bare path indexes the whole value, falsy scalars included.
    expect(extract("$", 0)).toEqual([0]);
    expect(extract("$", null)).toEqual([null]);
    expect(extract("$", "")).toEqual([""]);
    expect(extract("$", ["a", "a", "b"])).toEqual(["a", "b"]);
    expect(extract("$", { a: 1 })).toEqual([]);
  });

  test("inherited properties are never read", () => {
    expect(extract("$.constructor", {})).toEqual([]);
    expect(extract("$.toString", { a: 1 })).toEqual([]);
    expect(compileExtractor(path("$.__proto__"))(K, enc('{"__proto__": "own"}'))).toEqual(["own"]);
  });

  test("the record is not changed, and the key is ignored", () => {
    const value = json({ city: "X" });
    const copy = value.slice();
    expect(compileExtractor(path("$.city"))(enc("city:Y"), value)).toEqual(["X"]);
    expect(value).toEqual(copy);
  });

  test("many array elements are deduplicated (beyond the linear-scan size)", () => {
    const tags = Array.from({ length: 200 }, (_, i) => `t${i % 50}`);
    const got = extract("$.tags", { tags });
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
    expect(extract("$.tags[*]", { tags })).toEqual(got);
  });
});

describe("json_path validation", () => {
  const bad: [string, string][] = [
    ["", "empty"],
    ["city", 'starts with "$"'],
    ["$a", 'unexpected "a"'],
    ["$.", 'ends with "."'],
    ["$..", '".." must be followed'],
    ["$.a[", 'missing "]"'],
    ["$['a", "unterminated quoted name"],
    ["$['a'", 'expected "]"'],
    ["$[]", 'empty "[]"'],
    ["$.a;b", "jsonpath-plus would read it as"],
    ["$ .a", 'unexpected " "'],
    ["$.a]", 'unexpected "]"'],
    ["$.a[?(@.x >)]", "Expected expression"],
    ["$.a[?(@.x > 1]", 'unbalanced "("'],
    ["$.a@other()", "otherTypeCallback"],
    ["$.a.@foo", "Unknown value type"],
    ["$.a['b','c']", 'expected "]"'],
  ];
  for (const [p, why] of bad) {
    test(`refuses ${JSON.stringify(p)}`, () => {
      const e = errorOf(() => compileExtractor(path(p)));
      expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
      expect(e.message).toContain("bad JSONPath");
      expect(e.message).toContain(why);
    });
  }

  test("accepts the usual forms", () => {
    for (const p of ["$", "$.city", "$.a.b", "$['a b']", '$["a"]', "$.tags[0]", "$.a[*]", "$..b", "$.a[?(@.x > 1)].y", "$.a[0:2]", "$.a[b,c]", "$.a~", "$.*", "$.a[(@.length-1)]"]) {
      expect(() => compileExtractor(path(p))).not.toThrow();
    }
  });
});

describe("simpleFieldPath", () => {
  const cases: [string, string[] | undefined][] = [
    ["$.city", ["city"]],
    ["$.address.city", ["address", "city"]],
    ["$['address']", ["address"]],
    ["$['a.b'].c", ["a.b", "c"]],
    ['$["x y"]', ["x y"]],
    ["$.tags[0]", ["tags", "0"]],
    ["$[0]", ["0"]],
    ["$", []],
    ["$.tags[*]", undefined],
    ["$.*", undefined],
    ["$..city", undefined],
    ["$.a[?(@.x)]", undefined],
    ["$.a[0:1]", undefined],
    ["$.a[b,c]", undefined],
    ["$.a~", undefined],
    ["$.a^", undefined],
    ["$['$']", undefined],
    ["not a path", undefined],
  ];
  for (const [p, want] of cases) {
    test(`${p} → ${JSON.stringify(want)}`, () => expect(simpleFieldPath(path(p))).toEqual(want));
  }
  test("regex extractors have no field path", () => {
    expect(simpleFieldPath({ kind: "regex", pattern: "(a)", target: "value" })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// The direct walk must give what jsonpath-plus gives. The model evaluates every path
// with jsonpath-plus and applies the documented post-processing.

function model(p: string, doc: unknown): IndexValue[] {
  const out: IndexValue[] = [];
  const add = (v: unknown) => {
    if (v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && !Number.isNaN(v))) {
      const x = v === 0 ? 0 : (v as IndexValue);
      if (!out.some((y) => Object.is(y, x))) out.push(x);
    }
  };
  const results = JSONPath({ path: p, json: doc as never, wrap: true, eval: "safe", ignoreEvalErrors: true }) ?? [];
  for (const r of results as unknown[]) {
    if (Array.isArray(r)) r.forEach(add);
    else add(r);
  }
  return out;
}

const NAMES = ["a", "b", "tags", "0", "1", "length", "a.b", "x y", "", "__proto__", "constructor"];

function randomDoc(r: Random, depth: number): unknown {
  const kind = depth <= 0 ? r.int(4) : r.int(7);
  switch (kind) {
    case 0:
      return r.pick([null, true, false]);
    case 1:
      return r.pick([0, -0, 1, -2.5, 30, 1e21, 7]);
    case 2:
      return r.pick(["", "x", "abc", "red", "a:b", "\u0000", "é"]);
    case 3:
      return r.pick([0, 1, "x", "y", null]);
    case 4:
    case 5: {
      const o: Record<string, unknown> = {};
      const n = r.int(5);
      // defineProperty so that "__proto__" is an own key, as JSON.parse makes it.
      for (let i = 0; i < n; i++) {
        Object.defineProperty(o, r.pick(NAMES), { value: randomDoc(r, depth - 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    default:
      return Array.from({ length: r.int(5) }, () => randomDoc(r, depth - 1));
  }
}

function randomSimplePath(r: Random): string {
  let p = "$";
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const name = r.pick(NAMES);
    if (/^[0-9]+$/.test(name) && r.chance(0.5)) p += `[${name}]`;
    else if (/^[A-Za-z_]+$/.test(name) && r.chance(0.6)) p += `.${name}`;
    else p += r.chance(0.5) ? `['${name}']` : `["${name}"]`;
  }
  return p;
}

const COMPLEX_PATHS = ["$.*", "$[*]", "$.a[*]", "$.tags[*]", "$..a", "$..tags", "$..*", "$.a..b", "$..[0]", "$.tags[0:2]", "$.a[a,b]", "$.*.a", "$.tags[?(@ == 'x')]", "$.a[?(@.b)].b", "$[?(@.length > 1)]"];

describe("direct walk ≡ jsonpath-plus", () => {
  test("random simple paths on random documents", () => {
    const r = seededRandom(testSeed("extractor walk"));
    let nonEmpty = 0;
    for (let n = 0; n < 3000; n++) {
      const p = randomSimplePath(r);
      const spec = path(p);
      expect(simpleFieldPath(spec)).toBeDefined(); // the walk is what is being tested
      const ex = compileExtractor(spec);
      for (let k = 0; k < 5; k++) {
        const text = JSON.stringify(randomDoc(r, 3));
        const doc = JSON.parse(text);
        const got = ex(K, enc(text));
        const want = model(p, doc);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`path ${p} on ${JSON.stringify(doc)}: walk ${JSON.stringify(got)}, jsonpath-plus ${JSON.stringify(want)}`);
        }
        if (got.length > 0) nonEmpty++;
      }
    }
    expect(nonEmpty).toBeGreaterThan(250); // some documents do reach the paths (about 500 of 15,000)
  });

  test("documents built to contain the path, in every spelling", () => {
    const r = seededRandom(testSeed("extractor walk hits"));
    for (let n = 0; n < 2000; n++) {
      const p = randomSimplePath(r);
      const segments = simpleFieldPath(path(p))!;
      // Build a document along the path, with arrays where a segment is numeric.
      let leaf: unknown = randomDoc(r, 1);
      for (let i = segments.length - 1; i >= 0; i--) {
        const s = segments[i];
        if (/^[0-9]$/.test(s) && r.chance(0.7)) {
          const arr: unknown[] = [randomDoc(r, 0), randomDoc(r, 0)];
          arr[Number(s)] = leaf;
          leaf = arr;
        } else {
          leaf = JSON.parse(`{${JSON.stringify(s)}: ${JSON.stringify(leaf)}}`);
        }
      }
      const text = JSON.stringify(leaf);
      const got = compileExtractor(path(p))(K, enc(text));
      const doc = JSON.parse(text);
      expect(got).toEqual(model(p, doc));
    }
  });

  test("any spelling of the JSON text: white space, escaped names and strings, duplicate members", () => {
    const r = seededRandom(testSeed("extractor spellings"));
    const escape = (text: string) => text.replace(/"([a-z])/g, (m, c: string) => (r.chance(0.3) ? `"\\u00${c.charCodeAt(0).toString(16)}` : m));
    for (let n = 0; n < 2000; n++) {
      const p = randomSimplePath(r);
      const ex = compileExtractor(path(p));
      const doc = randomDoc(r, 3);
      let text = JSON.stringify(doc, null, r.pick([0, 1, "\t", " \r\n "]));
      if (r.chance(0.5)) text = escape(text);
      // A duplicate member in front: JSON.parse keeps the last one, so must the index.
      if (text.startsWith("{") && r.chance(0.3)) text = `{${JSON.stringify(r.pick(NAMES))}: ${JSON.stringify(randomDoc(r, 1))}${text.length > 2 ? "," : ""}${text.slice(1)}`;
      if (r.chance(0.2)) text = ` \n${text}\t`;
      const got = ex(K, enc(text));
      const want = model(p, JSON.parse(text));
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`path ${p} on ${text}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  });

  test("a value with a byte-order mark is not JSON, as for the query matcher", () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc('{"city": "X"}')]);
    for (const p of ["$.city", "$..city", "$"]) expect(compileExtractor(path(p))(K, bom)).toEqual([]);
  });

  test("complex paths through jsonpath-plus match the model", () => {
    const r = seededRandom(testSeed("extractor complex"));
    for (const p of COMPLEX_PATHS) {
      expect(simpleFieldPath(path(p))).toBeUndefined();
      const ex = compileExtractor(path(p));
      for (let k = 0; k < 200; k++) {
        const text = JSON.stringify(randomDoc(r, 3));
        expect(ex(K, enc(text))).toEqual(model(p, JSON.parse(text)));
      }
    }
  });

  test("jsonpath-plus quirks the walk reproduces", () => {
    const doc = { s: "hello", tags: ["a", "b"], o: { "0": "zero" } };
    for (const p of ["$.s.length", "$.s[0]", "$.tags.length", "$.o[0]", "$.tags['1']", "$.tags[01]", "$.tags[-1]"]) {
      expect(extract(p, doc)).toEqual(model(p, doc));
    }
    expect(extract("$.s.length", doc)).toEqual([5]);
  });
});

// ---------------------------------------------------------------------------

describe("regex extraction", () => {
  const regex = (pattern: string, target: "key" | "value", flags?: string) =>
    compileExtractor({ kind: "regex", pattern, target, ...(flags === undefined ? {} : { flags }) });

  test("the first capture group of the first match, over the key", () => {
    const ex = regex("^user:(\\d+):(\\w+)$", "key");
    expect(ex(enc("user:42:profile"), enc("ignored"))).toEqual(["42"]);
    expect(ex(enc("order:1"), enc(""))).toEqual([]);
  });

  test("over the value decoded as UTF-8 (not parsed as JSON)", () => {
    const ex = regex('"city":\\s*"([^"]*)"', "value");
    expect(ex(K, enc('{"city": "Porto Alegre", "x": {"city": "Other"}}'))).toEqual(["Porto Alegre"]);
    expect(ex(K, enc("no city here"))).toEqual([]);
    expect(ex(K, new Uint8Array([0x22, 0xff]))).toEqual([]);
  });

  test("an unmatched first group yields nothing; an empty group yields the empty string", () => {
    expect(regex("(a)?b", "key")(enc("b"), new Uint8Array())).toEqual([]);
    expect(regex("x(a*)y", "key")(enc("xy"), new Uint8Array())).toEqual([""]);
  });

  test("named groups count as capture groups, in order", () => {
    expect(regex("(?<id>\\d+)-(?<rest>.*)", "key")(enc("12-ab"), new Uint8Array())).toEqual(["12"]);
  });

  test("flags apply; g and y never make a result depend on an earlier call", () => {
    expect(regex("^USER:(\\w+)", "key", "i")(enc("user:bob"), new Uint8Array())).toEqual(["bob"]);
    for (const flags of ["g", "y", "gy", "gi"]) {
      const ex = regex("(\\d+)", "key", flags);
      for (let i = 0; i < 3; i++) expect(ex(enc("12"), new Uint8Array())).toEqual(["12"]);
      if (!flags.includes("y")) expect(ex(enc("ab 7"), new Uint8Array())).toEqual(["7"]);
    }
  });

  test("bad regexes are refused: syntax, flags, no capture group", () => {
    const cases: [string, string | undefined, string][] = [
      ["(unclosed", undefined, "bad regex /(unclosed/"],
      ["[z-a](x)", undefined, "bad regex"],
      ["(x)", "q", "bad regex /(x)/q"],
      ["(x)", "ii", "bad regex"],
      ["user:\\d+", undefined, "no capture group"],
      ["(?:a)(?=b)", undefined, "no capture group"],
    ];
    for (const [pattern, flags, why] of cases) {
      const e = errorOf(() => regex(pattern, "key", flags));
      expect(isKvdbError(e, "INVALID_ARGUMENT")).toBe(true);
      expect(e.message).toContain(why);
    }
  });
});
