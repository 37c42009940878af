import { describe, expect, test } from "bun:test";
import { decodeDocument } from "../../src/query/codec.ts";
import { MAX_SCAN_DEPTH, MemberReader } from "../../src/query/member_reader.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
/** A copy of what the reader returns (it reuses its result object). */
const read = (names: string[], text: string | Uint8Array): Record<string, unknown> | undefined => {
  const r = new MemberReader(names).read(typeof text === "string" ? bytes(text) : text);
  return r === undefined ? undefined : { ...r };
};

describe("accepts exactly the UTF-8 JSON objects", () => {
  test("objects, with wanted members decoded and the rest skipped", () => {
    expect(read(["a", "c"], '{"a": 1, "b": [1, {"x": "y"}], "c": {"d": [true, null]}}')).toEqual({ a: 1, c: { d: [true, null] } });
    expect(read(["a", "zz"], ' \t\r\n{ "a" : "x" } \n')).toEqual({ a: "x", zz: undefined });
    expect(read([], "{}")).toEqual({});
  });

  test("members: the last duplicate wins, escaped names match", () => {
    expect(read(["a"], '{"a": 1, "a": 2}')).toEqual({ a: 2 });
    expect(read(["city"], '{"c\\u0069ty": "X"}')).toEqual({ city: "X" });
    expect(read(["é"], '{"\\u00e9": 1}')).toEqual({ é: 1 });
    expect(read(["a"], '{"b": {"a": 1}}')).toEqual({ a: undefined });
    const own = new MemberReader(["__proto__", "constructor"]).read(bytes('{"__proto__": 1, "constructor": 2}'))!;
    expect([own["__proto__"], own["constructor"]]).toEqual([1, 2]);
    const absent = new MemberReader(["__proto__", "constructor"]).read(bytes("{}"))!;
    expect(absent["__proto__"]).toBeUndefined();
    expect(absent["constructor"]).toBeUndefined();
  });

  test("values of every type decode as JSON.parse decodes them", () => {
    const texts = ['"plain"', '"\\u00e9\\n\\"q\\""', '"😀 é"', "-0", "1.5e3", "1E-2", "123456789012345678901234567890", "1e999", "true", "false", "null", "[]", '{"x":[1,2]}'];
    for (const t of texts) {
      const got = read(["v"], `{"v": ${t}}`)!.v;
      expect(Object.is(got, JSON.parse(t)) || JSON.stringify(got) === JSON.stringify(JSON.parse(t))).toBe(true);
    }
    expect(read(["v"], `{"v": "${"x".repeat(100)}"}`)!.v).toBe("x".repeat(100));
  });

  test("refuses what the codec refuses", () => {
    const bad = [
      "",
      "[1]",
      '"x"',
      "1",
      "{",
      '{"a":1',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":1e}',
      '{"a":-}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":"\\x"}',
      '{"a":"\\u12"}',
      '{"a":"\\u12g4"}',
      '{"a":"tab\there"}',
      '{"a":[1,]}',
      '{"a":[1 2]}',
      '{"a":1} x',
      '{"a":1}{}',
      "\ufeff{}",
      '{"a":[}',
      '{"a":{]}',
    ];
    for (const text of bad) {
      expect(decodeDocument(bytes(text))).toBeUndefined();
      expect(read(["a"], text)).toBeUndefined();
    }
  });

  test("refuses invalid UTF-8 inside strings", () => {
    const wrap = (...b: number[]) => new Uint8Array([...bytes('{"a":"'), ...b, ...bytes('"}')]);
    const invalid = [[0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0xe2, 0x82], [0xc3]];
    for (const seq of invalid) {
      expect(decodeDocument(wrap(...seq))).toBeUndefined();
      expect(read(["a"], wrap(...seq))).toBeUndefined();
    }
    const valid = [[0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xef, 0xbf, 0xbe]];
    for (const seq of valid) expect(read(["a"], wrap(...seq))).toEqual({ ...decodeDocument(wrap(...seq)) });
  });

  test("documents nested deeper than the reader goes are decoded by the codec", () => {
    const deep = `{"a": 1, "d": ${"[".repeat(MAX_SCAN_DEPTH + 5)}${"]".repeat(MAX_SCAN_DEPTH + 5)}}`;
    expect(read(["a"], deep)!.a).toBe(1);
    expect(read(["a"], deep.slice(0, -2) + "}")).toBeUndefined();
    const exactly = `{"d": ${"[".repeat(MAX_SCAN_DEPTH - 1)}${"]".repeat(MAX_SCAN_DEPTH - 1)}, "a": 2}`;
    expect(read(["a"], exactly)!.a).toBe(2);
  });
});

describe("differential: mutated JSON texts", () => {
  function jsonValue(r: Random, depth: number): unknown {
    const k = r.int(depth > 3 ? 6 : 9);
    switch (k) {
      case 0:
        return r.pick([0, -0, 1, -12.5, 3e21, 1e-7, 123456789]);
      case 1:
        return r.pick(["", "a", 'q"uote', "back\\slash", "é", "😀", "\u0001", "\u2028", "x".repeat(40)]);
      case 2:
        return r.pick([true, false, null]);
      case 3:
      case 4:
      case 5:
        return r.pick(["city", "age", 17]);
      case 6:
      case 7:
        return Array.from({ length: r.int(4) }, () => jsonValue(r, depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(["a", "b", "city", "é", ""]), jsonValue(r, depth + 1)]));
    }
  }

  const INTERESTING = [0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x20, 0x0a, 0x00, 0x1f, 0x2d, 0x2e, 0x30, 0x65, 0x75, 0x80, 0xbf, 0xc0, 0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xff];

  function mutate(r: Random, b: Uint8Array): Uint8Array {
    const a = [...b];
    for (let m = 0, n = 1 + r.int(3); m < n; m++) {
      const at = r.int(a.length + 1);
      switch (r.int(4)) {
        case 0:
          a.splice(at, 1);
          break;
        case 1:
          a.splice(at, 0, r.pick(INTERESTING));
          break;
        case 2:
          if (at < a.length) a[at] = r.pick(INTERESTING);
          break;
        default:
          a.length = at;
      }
    }
    return new Uint8Array(a);
  }

  test("same verdict and same members as TextDecoder + JSON.parse", () => {
    const r = seededRandom(testSeed("member reader differential"));
    const names = ["a", "city", "é", ""];
    const reader = new MemberReader(names);
    let valid = 0;
    for (let i = 0; i < 20000; i++) {
      const doc = Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(["a", "b", "city", "é", "", "c\u0069ty"]), jsonValue(r, 0)]));
      let text = JSON.stringify(doc, null, r.chance(0.3) ? 1 : undefined);
      if (r.chance(0.3)) text = text.replaceAll("a", "\\u0061").replaceAll("\\\\u0061", "\\\\a");
      const original = bytes(text);
      const input = r.chance(0.7) ? mutate(r, original) : original;
      const want = decodeDocument(input);
      const got = reader.read(input);
      const context = `input=${JSON.stringify(Buffer.from(input).toString("latin1"))}`;
      if (want === undefined) {
        expect(got, context).toBeUndefined();
        continue;
      }
      valid++;
      expect(got, context).toBeDefined();
      for (const name of names) {
        const expected = Object.hasOwn(want, name) ? want[name] : undefined;
        expect(JSON.stringify(got![name]), context).toBe(JSON.stringify(expected));
        if (typeof expected === "number") expect(Object.is(got![name], expected), context).toBe(true);
      }
    }
    expect(valid).toBeGreaterThan(5000);
  });
});
