import { describe, expect, test } from "bun:test";
import { isKvdbError } from "../../src/engine/errors.ts";
import type { IndexValue } from "../../src/indexing/extractor.ts";
import {
  compareIndexValues,
  decodeEscaped,
  decodeIndexValue,
  encodeEscaped,
  encodeIndexValue,
} from "../../src/indexing/value_codec.ts";
import { compareCodePoints } from "../../src/query/compare.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";
import { errorOf } from "../support/errors.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(" ", ""), "hex"));
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const byteOrder = (a: IndexValue, b: IndexValue) => sign(Buffer.compare(encodeIndexValue(a), encodeIndexValue(b)));

describe("encodeIndexValue: the documented bytes", () => {
  test("float64 vectors from the design notes", () => {
    expect(hex(encodeIndexValue(-1))).toBe("04400fffffffffffff");
    expect(hex(encodeIndexValue(0))).toBe("048000000000000000");
    expect(hex(encodeIndexValue(1))).toBe("04bff0000000000000");
    expect(hex(encodeIndexValue(30))).toBe("04c03e000000000000");
  });

  test("-0 is encoded as +0 and decodes as 0", () => {
    expect(hex(encodeIndexValue(-0))).toBe(hex(encodeIndexValue(0)));
    expect(Object.is(decodeIndexValue(encodeIndexValue(-0)).value, 0)).toBe(true);
  });

  test("NaN is refused with INVALID_ARGUMENT", () => {
    expect(isKvdbError(errorOf(() => encodeIndexValue(NaN)), "INVALID_ARGUMENT")).toBe(true);
    expect(isKvdbError(errorOf(() => compareIndexValues(NaN, 1)), "INVALID_ARGUMENT")).toBe(true);
  });

  test("non-scalars are refused", () => {
    expect(isKvdbError(errorOf(() => encodeIndexValue({} as never)), "INVALID_ARGUMENT")).toBe(true);
    expect(isKvdbError(errorOf(() => encodeIndexValue(undefined as never)), "INVALID_ARGUMENT")).toBe(true);
  });

  test("tags, and strings escaped and terminated", () => {
    expect(hex(encodeIndexValue(null))).toBe("01");
    expect(hex(encodeIndexValue(false))).toBe("02");
    expect(hex(encodeIndexValue(true))).toBe("03");
    expect(hex(encodeIndexValue(""))).toBe("050001");
    expect(hex(encodeIndexValue("a:b"))).toBe("05613a620001");
    expect(hex(encodeIndexValue("a\u0000b"))).toBe("056100ff620001");
    expect(hex(encodeIndexValue("é"))).toBe("05c3a90001");
  });

  test("a lone surrogate encodes as U+FFFD, and compares as it", () => {
    expect(hex(encodeIndexValue("\ud800"))).toBe(hex(encodeIndexValue("\ufffd")));
    expect(compareIndexValues("\ud800", "\ufffd")).toBe(0);
    expect(compareIndexValues("a\udc00b", "a\ufffdc")).toBe(-1);
    expect(byteOrder("a\udc00b", "a\ufffdc")).toBe(-1);
  });

  test("results are fresh arrays a caller may modify", () => {
    const a = encodeIndexValue(null);
    a[0] = 9;
    expect(hex(encodeIndexValue(null))).toBe("01");
  });
});

describe("order", () => {
  test("types order null < false < true < number < string", () => {
    const ordered: IndexValue[] = [null, false, true, -Infinity, -1, 0, 1e300, Infinity, "", "0", "a"];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(compareIndexValues(ordered[i], ordered[j])).toBe(sign(i - j));
        expect(byteOrder(ordered[i], ordered[j])).toBe(sign(i - j));
      }
    }
  });

  test("numbers where zero-padding fails: negatives, fractions, wide values", () => {
    const ordered = [-1e21, -100, -30.5, -30, -2, -1.5, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 0.5, 2, 9, 10, 30, 30.25, 100, 1_000_000, 1e21];
    const sorted = ordered.map((n) => ({ n, e: encodeIndexValue(n) })).sort((a, b) => Buffer.compare(a.e, b.e));
    expect(sorted.map((x) => x.n)).toEqual(ordered);
  });

  test("strings follow code point order, not UTF-16: astral characters sort after U+FFxx", () => {
    const astral = "\u{1F600}"; // surrogate pair D83D DE00
    for (const bmp of ["\uFF21", "\uFFFD", "\uE000", "\uFFFF"]) {
      expect(bmp < astral).toBe(false); // JavaScript's UTF-16 order disagrees...
      expect(compareIndexValues(bmp, astral)).toBe(-1); // ...code point order does not
      expect(byteOrder(bmp, astral)).toBe(-1);
      expect(sign(compareCodePoints(bmp, astral))).toBe(-1); // and the query layer agrees
    }
    expect(compareIndexValues("\u{10000}", "\u{1F600}")).toBe(-1);
    expect(byteOrder("\u{10000}", "\u{1F600}")).toBe(-1);
  });

  test("a string sorts before its extensions, whatever the next character", () => {
    for (const next of ["\u0000", "\u0001", ":", "\u00ff", "\uffff", "\u{10FFFF}"]) {
      expect(byteOrder("ab", "ab" + next)).toBe(-1);
      expect(compareIndexValues("ab", "ab" + next)).toBe(-1);
    }
    expect(byteOrder("a\u0000", "a\u0001")).toBe(-1);
  });
});

describe("decodeIndexValue", () => {
  test("decodes a value followed by more bytes and reports where it ends", () => {
    const parts: IndexValue[] = ["a\u0000:b", 42, null, true, "", -0.5, false];
    const encoded = Buffer.concat(parts.map(encodeIndexValue)); // a Buffer: slice() is a view
    const before = hex(encoded);
    const got: IndexValue[] = [];
    let at = 0;
    while (at < encoded.length) {
      const { value, end } = decodeIndexValue(encoded, at);
      got.push(value);
      at = end;
    }
    expect(got).toEqual(parts);
    expect(at).toBe(encoded.length);
    expect(hex(encoded)).toBe(before); // decoding never writes to its input
  });

  const corrupt: [string, string][] = [
    ["", "missing type tag"],
    ["07", "unknown type tag 0x07"],
    ["00", "unknown type tag 0x00"],
    ["04 80 00 00", "truncated number"],
    ["04 ff f8 00 00 00 00 00 00", "NaN"], // 7ff8… (a NaN) with the sign bit set
    ["04 7f ff ff ff ff ff ff ff", "-0"],
    ["05 61 62", "unterminated"],
    ["05 61 00", "unterminated"],
    ["05 61 00 02", "bad escape 0x00 0x02"],
    ["05 ff fe 00 01", "not valid UTF-8"],
  ];
  for (const [input, what] of corrupt) {
    test(`CORRUPTION for "${input}" (${what})`, () => {
      const e = errorOf(() => decodeIndexValue(fromHex(input)));
      expect(isKvdbError(e, "CORRUPTION")).toBe(true);
      expect(e.message).toContain("index value");
      expect(e.message).toContain(what);
    });
  }

  test("an offset past the end is CORRUPTION", () => {
    expect(isKvdbError(errorOf(() => decodeIndexValue(encodeIndexValue(1), 9)), "CORRUPTION")).toBe(true);
  });
});

describe("encodeEscaped / decodeEscaped", () => {
  test("round trip with the escape rule, and the end offset", () => {
    const raw = fromHex("00 01 00 ff 00");
    const enc = encodeEscaped(raw);
    expect(hex(enc)).toBe("00ff0100ffff00ff0001");
    const trailing = Buffer.concat([enc, fromHex("abcd")]);
    const { bytes, end } = decodeEscaped(trailing, 0);
    expect(hex(bytes)).toBe(hex(raw));
    expect(end).toBe(enc.length);
    expect(hex(encodeEscaped(new Uint8Array(0)))).toBe("0001");
  });

  test("byte order is preserved and no encoding is a prefix of another (random)", () => {
    const r = seededRandom(testSeed("encodeEscaped"));
    const alphabet = [0x00, 0x01, 0xfe, 0xff, 0x61];
    for (let n = 0; n < 3000; n++) {
      const a = Uint8Array.from({ length: r.int(5) }, () => r.pick(alphabet));
      const b = Uint8Array.from({ length: r.int(5) }, () => r.pick(alphabet));
      const ea = encodeEscaped(a);
      const eb = encodeEscaped(b);
      expect(sign(Buffer.compare(ea, eb))).toBe(sign(Buffer.compare(a, b)));
      if (Buffer.compare(a, b) !== 0) expect(isPrefix(ea, eb) || isPrefix(eb, ea)).toBe(false);
      expect(hex(decodeEscaped(ea, 0).bytes)).toBe(hex(a));
    }
  });
});

function isPrefix(p: Uint8Array, of: Uint8Array): boolean {
  return p.length <= of.length && Buffer.compare(p, of.subarray(0, p.length)) === 0;
}

// ---------------------------------------------------------------------------
// Property test: byte order of encodings = compareIndexValues, round trip, prefix-free.

const SPECIAL_NUMBERS = [
  0, -0, 1, -1, 0.1, -0.1, 30, -30, Infinity, -Infinity,
  Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, -2.2250738585072014e-308, // subnormal / smallest normal
  Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.MAX_SAFE_INTEGER + 2, Number.MAX_SAFE_INTEGER - 1,
  Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 1e21, -1e21, 1e-300, -1e-300,
];
const STRING_PIECES = ["", "a", "b", "ab", ":", "::", "\u0000", "\u0001", "\u00ff", "\u00e9", "\u0100", "\uE000", "\uFF21", "\uFFFD", "\uFFFF", "\u{10000}", "\u{1F600}", "\u{10FFFF}", "user:", "idx:", "0", "9"];

function randomDouble(r: Random): number {
  switch (r.int(5)) {
    case 0:
      return r.pick(SPECIAL_NUMBERS);
    case 1: // any bit pattern except NaN: subnormals, huge and tiny magnitudes
      for (;;) {
        const view = new DataView(new ArrayBuffer(8));
        view.setUint32(0, Math.floor(r.next() * 2 ** 32));
        view.setUint32(4, Math.floor(r.next() * 2 ** 32));
        const v = view.getFloat64(0);
        if (!Number.isNaN(v)) return v;
      }
    case 2:
      return r.int(201) - 100;
    case 3:
      return (r.next() - 0.5) * 10 ** (r.int(40) - 20);
    default: // neighbours: values that differ in the last bit
      return r.pick([1, -1, 30, 0.5]) * (1 + Number.EPSILON * (r.int(5) - 2));
  }
}

function randomString(r: Random): string {
  let s = "";
  const n = r.int(5);
  for (let i = 0; i < n; i++) s += r.pick(STRING_PIECES);
  return s;
}

function randomValue(r: Random): IndexValue {
  switch (r.int(6)) {
    case 0:
      return r.pick([null, false, true]);
    case 1:
    case 2:
      return randomDouble(r);
    default:
      return randomString(r);
  }
}

describe("property: encoding order equals value order", () => {
  test("random pairs of mixed values", () => {
    const r = seededRandom(testSeed("value_codec"));
    for (let n = 0; n < 20_000; n++) {
      const a = randomValue(r);
      const b = r.chance(0.1) ? a : randomValue(r);
      const ea = encodeIndexValue(a);
      const eb = encodeIndexValue(b);
      const cmp = compareIndexValues(a, b);
      if (sign(Buffer.compare(ea, eb)) !== cmp) {
        throw new Error(`order mismatch for ${JSON.stringify(a)} vs ${JSON.stringify(b)}: bytes ${hex(ea)} vs ${hex(eb)}, compare ${cmp}`);
      }
      // Round trip (−0 comes back as 0).
      const d = decodeIndexValue(ea);
      expect(d.end).toBe(ea.length);
      expect(Object.is(d.value, a === 0 ? 0 : a)).toBe(true);
      // Prefix-free: distinct values never have one encoding a prefix of the other.
      if (cmp !== 0 && (isPrefix(ea, eb) || isPrefix(eb, ea))) {
        throw new Error(`prefix: ${hex(ea)} / ${hex(eb)}`);
      }
      // Strings: the query layer's code point order agrees.
      if (typeof a === "string" && typeof b === "string") expect(sign(compareCodePoints(a, b))).toBe(cmp);
      // Numbers: value order.
      if (typeof a === "number" && typeof b === "number") expect(cmp).toBe(a < b ? -1 : a > b ? 1 : 0);
    }
  });

  test("sorting encodings sorts values (composite keys: value then primary key)", () => {
    const r = seededRandom(testSeed("value_codec sort"));
    const values = Array.from({ length: 2000 }, () => randomValue(r));
    const byBytes = values
      .map((v, i) => ({ v, key: Buffer.concat([encodeIndexValue(v), Buffer.from(`user:${i}`)]) }))
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((x) => x.v);
    for (let i = 1; i < byBytes.length; i++) expect(compareIndexValues(byBytes[i - 1], byBytes[i])).toBeLessThanOrEqual(0);
  });
});
