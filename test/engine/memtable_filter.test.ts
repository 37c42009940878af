import { describe, expect, test } from "bun:test";
import { utf8 } from "../../src/engine/coding.ts";
import { KIND_PUT } from "../../src/engine/iterator.ts";
import { MemTable } from "../../src/engine/memtable.ts";
import { MemTableFilter } from "../../src/engine/memtable_filter.ts";
import { bloomHash } from "../../src/engine/sstable/bloom.ts";
import { mulberry32, randomBytes, seededRandom, testSeed } from "../support/random.ts";

describe("MemTableFilter", () => {
  test("never a false negative, also far past its expected size", () => {
    const rand = mulberry32(testSeed("memtable filter"));
    const filter = new MemTableFilter(100);
    const keys = Array.from({ length: 5000 }, () => randomBytes(rand, 1 + Math.floor(rand() * 40)));
    for (const k of keys) filter.add(bloomHash(k));
    for (const k of keys) expect(filter.mayContain(bloomHash(k))).toBe(true);
  });

  test("at its expected size, few false positives (about 1%)", () => {
    const filter = new MemTableFilter(10_000);
    for (let i = 0; i < 10_000; i++) filter.add(bloomHash(utf8(`user:${i}`)));
    let positives = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mayContain(bloomHash(utf8(`other:${i}`)))) positives++;
    expect(positives).toBeLessThan(300);
  });

  test("estimates how many distinct keys it holds, repeats not counted", () => {
    const filter = new MemTableFilter(10_000);
    expect(filter.estimatedKeys()).toBe(0);
    for (const n of [1_000, 5_000, 10_000]) {
      for (let round = 0; round < 3; round++) for (let i = 0; i < n; i++) filter.add(bloomHash(utf8(`user:${i}`)));
      const estimate = filter.estimatedKeys();
      expect({ n, ok: Math.abs(estimate - n) < n * 0.1 }).toEqual({ n, ok: true });
    }
  });
});

describe("MemTable with an overloaded filter", () => {
  test("gets stay exact when the filter is sized for far fewer keys", () => {
    const r = seededRandom(testSeed("memtable tiny filter"));
    const mem = new MemTable(1); // a filter of one line for thousands of keys
    const model = new Map<string, Uint8Array>();
    for (let seq = 1; seq <= 4000; seq++) {
      const name = `k${r.int(3000)}`;
      const value = utf8(`v${seq}`);
      mem.add(utf8(name), seq, KIND_PUT, value);
      model.set(name, value);
    }
    for (let i = 0; i < 3500; i++) {
      const want = model.get(`k${i}`);
      const got = mem.get(utf8(`k${i}`), Infinity);
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got?.value).toEqual(want);
    }
  });
});
