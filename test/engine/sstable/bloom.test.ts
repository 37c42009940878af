import { afterAll, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { utf8 } from "../../../src/engine/coding.ts";
import { defaultFileSystem } from "../../../src/engine/fs.ts";
import { KIND_PUT } from "../../../src/engine/iterator.ts";
import { BLOCKED_FORMAT, BloomFilterBuilder, bloomMayContain, murmur32 } from "../../../src/engine/sstable/bloom.ts";
import { TableBuilder } from "../../../src/engine/sstable/builder.ts";
import { TableReader } from "../../../src/engine/sstable/reader.ts";
import { mulberry32, testSeed } from "../../support/random.ts";

const SEED = testSeed("bloom.test.ts");

const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "kvdb-"));
afterAll(() => nodeFs.rmSync(dir, { recursive: true, force: true }));

/** 10k present keys and 10k absent ones, drawn from disjoint prefixes. */
function keySets(rand: () => number): { present: Uint8Array[]; absent: Uint8Array[] } {
  const salt = Math.floor(rand() * 1e9);
  const present: Uint8Array[] = [];
  const absent: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) {
    present.push(utf8(`user:${salt}:${i}`));
    absent.push(utf8(`absent:${salt}:${i}`));
  }
  return { present, absent };
}

test("no false negatives and about 1% false positives at 10 bits per key", () => {
  const { present, absent } = keySets(mulberry32(SEED));
  const b = new BloomFilterBuilder(10);
  for (const k of present) b.addKey(k);
  const filter = b.finish();
  expect(filter[filter.length - 1]).toBe(BLOCKED_FORMAT);
  expect(filter[filter.length - 2]).toBe(7); // k = round(0.69 × 10)
  expect((filter.length - 2) % 64).toBe(0); // whole 64-byte lines
  expect(filter.length - 2).toBe(64 * Math.ceil((10_000 * 10) / 512));
  for (const k of present) expect(bloomMayContain(filter, k)).toBe(true);
  const falsePositives = absent.filter((k) => bloomMayContain(filter, k)).length;
  console.log(`bloom false-positive rate: ${(falsePositives / absent.length) * 100}%`);
  expect(falsePositives / absent.length).toBeLessThan(0.03);
});

test("the table's filter skips absent keys", async () => {
  const { present, absent } = keySets(mulberry32(SEED + 1));
  present.sort(Buffer.compare);
  const file = defaultFileSystem.openWritable(path.join(dir, "bloom.sst"), { truncate: true });
  const builder = new TableBuilder(file);
  for (const k of present) builder.add(k, 1, KIND_PUT, k);
  builder.finish();
  await file.sync();
  file.close();
  const reader = TableReader.open(defaultFileSystem, file.path);
  for (const k of present) expect(reader.mayContain(k)).toBe(true);
  const falsePositives = absent.filter((k) => reader.mayContain(k)).length;
  expect(falsePositives / absent.length).toBeLessThan(0.03);
});

test("probe count follows bits per key, clamped to 1..30", () => {
  const k = (bits: number) => {
    const f = new BloomFilterBuilder(bits);
    f.addKey(utf8("x"));
    const out = f.finish();
    return out[out.length - 2];
  };
  expect(k(1)).toBe(1);
  expect(k(4)).toBe(3);
  expect(k(100)).toBe(30);
  expect(() => new BloomFilterBuilder(0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
});

test("an empty filter contains nothing; a filter it cannot read may contain anything", () => {
  const empty = new BloomFilterBuilder(10).finish();
  expect(empty.length).toBe(66); // one 64-byte line + k + format byte
  expect(bloomMayContain(empty, utf8("a"))).toBe(false);
  // k outside 1..30 is reserved for future encodings: answer "may contain".
  const future = new Uint8Array(66);
  future[65] = BLOCKED_FORMAT;
  future[64] = 31;
  expect(bloomMayContain(future, utf8("a"))).toBe(true);
  future[64] = 0;
  expect(bloomMayContain(future, utf8("a"))).toBe(true);
  // A blocked filter whose bit array is not whole lines is unreadable too.
  const ragged = new Uint8Array(12);
  ragged[10] = 7;
  ragged[11] = BLOCKED_FORMAT;
  expect(bloomMayContain(ragged, utf8("a"))).toBe(true);
  const legacy = new Uint8Array(9);
  legacy[8] = 31;
  expect(bloomMayContain(legacy, utf8("a"))).toBe(true);
  legacy[8] = 0;
  expect(bloomMayContain(legacy, utf8("a"))).toBe(true);
  expect(bloomMayContain(new Uint8Array(1), utf8("a"))).toBe(true);
  expect(bloomMayContain(new Uint8Array(0), utf8("a"))).toBe(true);
});

/** The first filter format (whole-table bit array + k), as tables written before the blocked format hold it. */
function legacyFilter(keys: Uint8Array[], bitsPerKey: number): Uint8Array {
  const bytes = Math.ceil(Math.max(64, Math.ceil(keys.length * bitsPerKey)) / 8);
  const bits = bytes * 8;
  const k = Math.min(30, Math.max(1, Math.round(bitsPerKey * 0.69)));
  const filter = new Uint8Array(bytes + 1);
  for (const key of keys) {
    let h = Bun.hash.murmur32v3(key, 0xbc9f1d34) >>> 0;
    const delta = ((h >>> 17) | (h << 15)) >>> 0;
    for (let j = 0; j < k; j++) {
      const bit = h % bits;
      filter[bit >>> 3] |= 1 << (bit & 7);
      h = (h + delta) >>> 0;
    }
  }
  filter[bytes] = k;
  return filter;
}

test("filters in the first (whole-table) format still answer correctly", () => {
  const { present, absent } = keySets(mulberry32(SEED + 2));
  const filter = legacyFilter(present, 10);
  for (const k of present) expect(bloomMayContain(filter, k)).toBe(true);
  const falsePositives = absent.filter((k) => bloomMayContain(filter, k)).length;
  expect(falsePositives / absent.length).toBeLessThan(0.03);
});

test("murmur32 equals Bun.hash.murmur32v3 for every length and seed", () => {
  const rand = mulberry32(SEED + 3);
  for (let i = 0; i < 2000; i++) {
    const key = Uint8Array.from({ length: Math.floor(rand() * 100) }, () => Math.floor(rand() * 256));
    const seed = Math.floor(rand() * 2 ** 32);
    expect(murmur32(key, seed)).toBe(Bun.hash.murmur32v3(key, seed) >>> 0);
  }
});
