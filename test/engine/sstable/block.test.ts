import { describe, expect, test } from "bun:test";
import { ByteWriter, compareBytes } from "../../../src/engine/coding.ts";
import { isKvdbError } from "../../../src/engine/errors.ts";
import { type Entry, KIND_DELETE, KIND_PUT, compareEntries } from "../../../src/engine/iterator.ts";
import { Block, BlockIterator } from "../../../src/engine/sstable/block.ts";
import { BlockBuilder } from "../../../src/engine/sstable/block_builder.ts";
import { mulberry32, testSeed } from "../../support/random.ts";

const SEED = testSeed("block.test.ts");

function randomEntries(rand: () => number, n: number): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  while (entries.length < n) {
    // Long shared prefixes and some keys longer than the 64-byte fast-compare path.
    const len = rand() < 0.1 ? 70 + Math.floor(rand() * 40) : 1 + Math.floor(rand() * 8);
    const key = new Uint8Array(len);
    for (let i = 0; i < len; i++) key[i] = i < len - 3 ? 0x61 : Math.floor(rand() * 4) * 0x55;
    const seq = 1 + Math.floor(rand() * 50);
    const id = `${Buffer.from(key).toString("hex")}@${seq}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const value = new Uint8Array(Math.floor(rand() * 10)).fill(entries.length & 0xff);
    entries.push({ key, seq, kind: rand() < 0.25 ? KIND_DELETE : KIND_PUT, value });
  }
  return entries.sort((a, b) => compareEntries(a.key, a.seq, b.key, b.seq));
}

function build(entries: Entry[], restartInterval: number): Uint8Array {
  const b = new BlockBuilder(restartInterval);
  for (const e of entries) b.add(e.key, e.seq, e.kind, e.value);
  expect(b.entryCount).toBe(entries.length);
  const sizeBefore = b.sizeEstimate;
  const out = b.finish().slice();
  expect(out.length).toBe(sizeBefore);
  return out;
}

function expectCorruption(fn: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isKvdbError(caught, "CORRUPTION")).toBe(true);
  for (const f of fragments) expect((caught as Error).message).toContain(f);
}

describe("BlockBuilder and Block round-trip", () => {
  for (const interval of [1, 2, 16, 1000]) {
    test(`restart interval ${interval}`, () => {
      const rand = mulberry32(SEED + interval);
      const entries = randomEntries(rand, 400);
      const block = new Block(build(entries, interval), "t.sst", 0);
      expect(block.restartCount).toBe(Math.ceil(entries.length / interval));

      const it = new BlockIterator(block);
      const got: Entry[] = [];
      for (it.seekToFirst(); it.valid(); it.next()) got.push({ key: it.key(), seq: it.seq(), kind: it.kind(), value: it.value() });
      expect(got).toEqual(entries);
      let i = entries.length;
      for (it.seekToLast(); it.valid(); it.prev()) expect(it.seq()).toBe(entries[--i].seq);
      expect(i).toBe(0);

      for (const e of entries) {
        for (const snap of [e.seq, e.seq - 1, 1000]) {
          const want = entries.find((x) => compareBytes(x.key, e.key) === 0 && x.seq <= snap);
          const hit = block.get(e.key, snap);
          expect(hit && { seq: hit.seq, kind: hit.kind, value: hit.value }).toEqual(
            want && { seq: want.seq, kind: want.kind, value: want.value },
          );
        }
      }
      expect(block.get(new Uint8Array([0x62]), 1000)).toBeUndefined(); // after every key
      expect(block.get(new Uint8Array([]), 1000)).toBeUndefined(); // before every key
    });
  }

  test("an empty block holds nothing", () => {
    const block = new Block(build([], 16), "t.sst", 0);
    expect(block.get(new Uint8Array([1]), 9)).toBeUndefined();
    const it = new BlockIterator(block);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
  });

  test("an empty key is a key like any other", () => {
    const empty = new Uint8Array(0);
    const entries: Entry[] = [
      { key: empty, seq: 2, kind: KIND_PUT, value: new Uint8Array([2]) },
      { key: empty, seq: 1, kind: KIND_PUT, value: new Uint8Array([1]) },
      { key: new Uint8Array([0]), seq: 3, kind: KIND_PUT, value: new Uint8Array([3]) },
    ];
    const block = new Block(build(entries, 16), "t.sst", 0);
    expect(block.get(empty, 5)?.value).toEqual(new Uint8Array([2]));
    expect(block.get(empty, 1)?.value).toEqual(new Uint8Array([1]));
    expect(block.get(empty, 0)).toBeUndefined();
  });
});

describe("malformed blocks are CORRUPTION naming the file and offset", () => {
  const one: Entry[] = [
    { key: new Uint8Array([1, 2, 3]), seq: 7, kind: KIND_PUT, value: new Uint8Array([9, 9]) },
    { key: new Uint8Array([1, 2, 4]), seq: 8, kind: KIND_PUT, value: new Uint8Array([8]) },
  ];

  test("restart count larger than the block", () => {
    const data = build(one, 16);
    data[data.length - 4] = 200;
    expectCorruption(() => new Block(data, "x.sst", 1000), "x.sst", "restart count", "at offset 1000");
    expectCorruption(() => new Block(new Uint8Array(3), "x.sst", 0), "too short");
  });

  test("unknown entry kind", () => {
    const data = build(one, 16);
    data[3] = 5; // header: shared, unshared, value length, kind
    expectCorruption(() => new Block(data, "x.sst", 1000).get(one[0].key, 10), "unknown entry kind 5", "at offset 1003");
    expectCorruption(() => new BlockIterator(new Block(data, "x.sst", 1000)), "unknown entry kind 5");
  });

  test("lengths that run past the entries", () => {
    const data = build(one, 16);
    data[2] = 100; // value length of the first entry
    expectCorruption(() => new BlockIterator(new Block(data, "x.sst", 0)), "runs past the end");
    expectCorruption(() => new Block(data, "x.sst", 0).get(one[0].key, 10), "runs past the end");
  });

  test("a shared prefix longer than the previous key", () => {
    const w = new ByteWriter();
    // Entry 0: shared 0, key "a"; entry 1: shared 5 (previous key has 1 byte).
    for (const [shared, key] of [[0, [0x61]], [5, [0x62]]] as const) {
      w.varint(shared);
      w.varint(key.length);
      w.varint(0);
      w.u8(KIND_PUT);
      w.varint(1);
      w.bytes(new Uint8Array(key));
    }
    w.u32(0);
    w.u32(1);
    expectCorruption(() => new BlockIterator(new Block(w.finish(), "x.sst", 0)), "shared key prefix", "at offset 6");
  });

  test("a restart offset outside the entries", () => {
    const data = build(one, 1);
    const at = data.length - 8; // second restart offset
    data[at] = 0xff;
    expectCorruption(() => new Block(data, "x.sst", 0).get(one[1].key, 10), "restart offset 255 out of range");
  });
});
