import { describe, expect, test } from "bun:test";
import { decodeCursor, encodeCursor, queryFingerprint } from "../../src/query/cursor.ts";
import { parseFilter } from "../../src/query/filter.ts";
import { parseFieldPath } from "../../src/query/path.ts";
import { compareSortPositions, compileSortValue, type SortDirection } from "../../src/query/sort.ts";
import { TopK } from "../../src/query/top_k.ts";
import { decodeIndexValue, encodeIndexValue } from "../../src/indexing/value_codec.ts";
import type { JsonObject } from "../../src/query/types.ts";
import { seededRandom, testSeed } from "../support/random.ts";

const spec = (path: string, direction: SortDirection) => ({ path: parseFieldPath(path, "sort"), direction });
const valueOf = (path: string, direction: SortDirection, doc: JsonObject) => {
  const v = compileSortValue(spec(path, direction))(doc);
  return v === null ? "none" : decodeIndexValue(v).value;
};

describe("sort values", () => {
  test("a scalar is its own sort value; an array sorts by its smallest element ascending, largest descending", () => {
    expect(valueOf("age", 1, { age: 31 })).toBe(31);
    expect(valueOf("age", 1, { age: [40, -2, "x", null] })).toBe(null);
    expect(valueOf("age", -1, { age: [40, -2, "x", null] })).toBe("x");
    expect(valueOf("age", -1, { age: [40, -2, true] })).toBe(40);
    expect(valueOf("age", 1, { age: -0 })).toBe(0);
  });

  test("no sort value: missing, an object, an empty array, arrays of objects or arrays", () => {
    for (const doc of [{}, { age: {} }, { age: [] }, { age: [{ a: 1 }, [1, 2]] }, { other: 1 }] as JsonObject[]) expect(valueOf("age", 1, doc)).toBe("none");
    // Inherited names are not members of a document.
    expect(valueOf("constructor", 1, {})).toBe("none");
    expect(valueOf("constructor", 1, { constructor: 5 })).toBe(5);
  });

  test("nested paths resolve like the filter: a name on an array of objects reaches each element", () => {
    const doc = { items: [{ price: 5 }, { price: [1, 9] }, 3, { other: 0 }], meta: { rank: "b" } } as JsonObject;
    expect(valueOf("items.price", 1, doc)).toBe(1);
    expect(valueOf("items.price", -1, doc)).toBe(9);
    expect(valueOf("items.1.price", -1, doc)).toBe(9);
    expect(valueOf("$.meta.rank", 1, doc)).toBe("b");
    expect(valueOf("meta.rank.x", 1, doc)).toBe("none");
  });

  test("positions: values in direction, ties by key in direction, no value last by key ascending", () => {
    const k = (s: string) => new TextEncoder().encode(s);
    const v = (x: number) => encodeIndexValue(x);
    expect(compareSortPositions(v(1), k("b"), v(2), k("a"), 1)).toBeLessThan(0);
    expect(compareSortPositions(v(1), k("b"), v(2), k("a"), -1)).toBeGreaterThan(0);
    expect(compareSortPositions(v(1), k("a"), v(1), k("b"), -1)).toBeGreaterThan(0);
    expect(compareSortPositions(null, k("a"), v(1), k("b"), -1)).toBeGreaterThan(0);
    expect(compareSortPositions(null, k("a"), null, k("b"), -1)).toBeLessThan(0);
    expect(compareSortPositions(v(1), k("a"), v(1), k("a"), 1)).toBe(0);
  });
});

describe("top-k", () => {
  test("randomized: keeps exactly the best k of any sequence, in order", () => {
    const seed = testSeed("top-k");
    const r = seededRandom(seed);
    for (let round = 0; round < 200; round++) {
      const k = 1 + r.int(8);
      const dir: SortDirection = r.chance(0.5) ? 1 : -1;
      const top = new TopK(k, dir);
      const all: { value: Uint8Array | null; key: Uint8Array; bytes: Uint8Array }[] = [];
      for (let i = r.int(30); i > 0; i--) {
        const item = { value: r.chance(0.2) ? null : encodeIndexValue(r.int(5)), key: new TextEncoder().encode(`k${r.int(1000)}`), bytes: new Uint8Array(0) };
        all.push(item);
        if (top.wants(item.value, item.key)) top.add(item);
      }
      const order = (a: (typeof all)[0], b: (typeof all)[0]) => compareSortPositions(a.value, a.key, b.value, b.key, dir);
      const want = [...all].sort(order).slice(0, k);
      expect({ seed, round, got: top.sorted().map((x) => order(x, want[0])) }).toEqual({ seed, round, got: want.map((x) => order(x, want[0])) });
    }
  });
});

describe("sorted cursors", () => {
  test("carry the sort value and refuse other sorts, damaged values and key-order cursors", () => {
    const filter = parseFilter({ city: "x" });
    const asc = queryFingerprint("user:", filter, spec("age", 1));
    const desc = queryFingerprint("user:", filter, spec("age", -1));
    const plain = queryFingerprint("user:", filter);
    expect(new Set([asc, desc, plain]).size).toBe(3);
    const c = encodeCursor({ after: "user:7", sortValue: encodeIndexValue(Infinity) }, asc);
    const back = decodeCursor(c, asc, "user:", true);
    expect(back.after).toBe("user:7");
    expect(decodeIndexValue(back.sortValue!).value).toBe(Infinity);
    expect(decodeCursor(encodeCursor({ after: "user:7", sortValue: null }, asc), asc, "user:", true)).toEqual({ after: "user:7", sortValue: null });
    expect(() => decodeCursor(c, desc, "user:", true)).toThrow(/does not match this query/);
    expect(() => decodeCursor(c, asc, "user:", false)).toThrow(/does not match this query/);
    expect(() => decodeCursor(encodeCursor({ after: "user:7" }, asc), asc, "user:", true)).toThrow(/does not match this query/);
    const forge = (s: unknown) => Buffer.from(JSON.stringify({ v: 2, k: "user:7", s, q: asc })).toString("base64url");
    for (const s of [Buffer.from([9]).toString("base64url"), Buffer.from([4, 1]).toString("base64url"), "", 5, Buffer.from([1, 1]).toString("base64url")]) {
      expect(() => decodeCursor(forge(s), asc, "user:", true)).toThrow(/not a valid cursor/);
    }
  });
});
