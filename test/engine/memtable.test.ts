import { describe, expect, test } from "bun:test";
import { compareBytes, utf8 } from "../../src/engine/coding.ts";
import { compareEntries, type EntryIterator, KIND_DELETE, KIND_PUT, type Kind } from "../../src/engine/iterator.ts";
import { MemTable } from "../../src/engine/memtable.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";

interface E {
  key: Uint8Array;
  seq: number;
  kind: Kind;
  value: Uint8Array;
}

const byInternalOrder = (a: E, b: E) => compareEntries(a.key, a.seq, b.key, b.seq);
const id = (e: { key: Uint8Array; seq: number }) => `${Buffer.from(e.key).toString("hex")}@${e.seq}`;

/**
 * Keys that stress the ordering: bytes 0x00/0x01/0x61/0xff, lengths 0..26, many sharing
 * their first 12 or 18 bytes (the MemTable caches the first 18 as numbers) and keys that
 * differ only by trailing zero bytes.
 */
function keyPool(rng: Random, size: number): Uint8Array[] {
  const alphabet = [0x00, 0x01, 0x61, 0x62, 0xff];
  const shared = Uint8Array.from({ length: 18 }, () => rng.pick(alphabet));
  const pool: Uint8Array[] = [new Uint8Array(0)];
  for (let i = 0; i < size; i++) {
    const len = rng.int(27);
    const k = Uint8Array.from({ length: len }, () => rng.pick(alphabet));
    if (len >= 12 && rng.chance(0.5)) k.set(shared.subarray(0, Math.min(len, rng.pick([12, 18]))));
    pool.push(k);
  }
  return pool;
}

function current(it: EntryIterator): E {
  return { key: it.key(), seq: it.seq(), kind: it.kind(), value: it.value() };
}

function expectEntry(actual: E, expected: E): void {
  expect(id(actual)).toBe(id(expected));
  expect(actual.kind).toBe(expected.kind);
  expect(Buffer.from(actual.value).equals(expected.value)).toBe(true);
}

/** Index of the first model entry whose key is >= target. */
function lowerBoundKey(model: E[], target: Uint8Array): number {
  let a = 0;
  let b = model.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (compareBytes(model[m].key, target) < 0) a = m + 1;
    else b = m;
  }
  return a;
}

/** Index of the first model entry not before (key, seq) in internal order. */
function lowerBoundEntry(model: E[], key: Uint8Array, seq: number): number {
  let a = 0;
  let b = model.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (compareEntries(model[m].key, model[m].seq, key, seq) < 0) a = m + 1;
    else b = m;
  }
  return a;
}

/** Index of the first model entry whose key is > target. */
function upperBoundKey(model: E[], target: Uint8Array): number {
  let a = 0;
  let b = model.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (compareBytes(model[m].key, target) <= 0) a = m + 1;
    else b = m;
  }
  return a;
}

/** Fills a MemTable and a model with `count` random versions; seqs are unique. */
function fill(rng: Random, count: number, keys: () => Uint8Array, seqs: number[]): { mem: MemTable; model: E[] } {
  const mem = new MemTable();
  const model: E[] = [];
  for (let i = 0; i < count; i++) {
    const e: E = {
      key: keys(),
      seq: seqs[i],
      kind: rng.chance(0.2) ? KIND_DELETE : KIND_PUT,
      value: utf8(`v${seqs[i]}`),
    };
    mem.add(e.key, e.seq, e.kind, e.value);
    model.push(e);
  }
  model.sort(byInternalOrder);
  return { mem, model };
}

function checkAgainstModel(rng: Random, mem: MemTable, model: E[], probeKeys: () => Uint8Array): void {
  expect(mem.entryCount).toBe(model.length);

  // Full scans both ways.
  const it = mem.iterator();
  const forward: string[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) forward.push(id(current(it)));
  expect(forward).toEqual(model.map(id));
  const backward: string[] = [];
  for (it.seekToLast(); it.valid(); it.prev()) backward.push(id(current(it)));
  expect(backward).toEqual(model.map(id).reverse());

  // get at random snapshots: the newest version with seq <= snapshot.
  const maxSeq = model.reduce((m, e) => Math.max(m, e.seq), 0);
  for (let i = 0; i < 500; i++) {
    const key = probeKeys();
    const snapshot = rng.int(maxSeq + 2);
    const at = model[lowerBoundEntry(model, key, snapshot)];
    const want = at !== undefined && compareBytes(at.key, key) === 0 ? at : undefined;
    const got = mem.get(key, snapshot);
    if (want === undefined) expect(got).toBeUndefined();
    else {
      expect(got).toBeDefined();
      expectEntry({ key, ...got! }, want);
    }
  }

  // seek / seekForPrev to present and absent keys, then a few steps both ways.
  for (let i = 0; i < 300; i++) {
    const target = probeKeys();
    let pos = lowerBoundKey(model, target);
    it.seek(target);
    for (let step = 0; step < 5; step++) {
      if (pos < 0 || pos >= model.length) {
        expect(it.valid()).toBe(false);
        break;
      }
      expectEntry(current(it), model[pos]);
      if (rng.chance(0.5)) {
        it.next();
        pos++;
      } else {
        it.prev();
        pos--;
      }
    }
    pos = upperBoundKey(model, target) - 1;
    it.seekForPrev(target);
    for (let step = 0; step < 5; step++) {
      if (pos < 0 || pos >= model.length) {
        expect(it.valid()).toBe(false);
        break;
      }
      expectEntry(current(it), model[pos]);
      if (rng.chance(0.5)) {
        it.next();
        pos++;
      } else {
        it.prev();
        pos--;
      }
    }
  }
}

describe("MemTable", () => {
  test("an empty table has no entries and invalid iterators", () => {
    const mem = new MemTable();
    expect(mem.isEmpty).toBe(true);
    expect(mem.entryCount).toBe(0);
    expect(mem.approximateBytes).toBe(0);
    expect(mem.get(utf8("a"), 100)).toBeUndefined();
    const it = mem.iterator();
    for (const position of [
      () => it.seekToFirst(),
      () => it.seekToLast(),
      () => it.seek(utf8("a")),
      () => it.seekForPrev(utf8("a")),
    ]) {
      position();
      expect(it.valid()).toBe(false);
    }
  });

  test("get returns the newest version at or below the snapshot, tombstones included", () => {
    const mem = new MemTable();
    const k = utf8("k");
    mem.add(k, 1, KIND_PUT, utf8("one"));
    mem.add(k, 3, KIND_DELETE, new Uint8Array(0));
    mem.add(k, 5, KIND_PUT, new Uint8Array(0));
    expect(mem.get(k, 0)).toBeUndefined();
    expect(mem.get(k, 2)).toMatchObject({ seq: 1, kind: KIND_PUT, value: utf8("one") });
    expect(mem.get(k, 4)).toMatchObject({ seq: 3, kind: KIND_DELETE });
    expect(mem.get(k, 5)).toMatchObject({ seq: 5, kind: KIND_PUT, value: new Uint8Array(0) });
    expect(mem.get(utf8("j"), 9)).toBeUndefined();
    expect(mem.get(utf8("k\0"), 9)).toBeUndefined();
  });

  test("keys order as UTF-8 bytes, prefixes and trailing zero bytes included", () => {
    const keys = ["\uffff", "😀", "a", "a\0", "a\0\0", "", "abcdefghijkl", "abcdefghijklm", "abcdefghijkl\0", "abcdefghijk"];
    const mem = new MemTable();
    keys.forEach((k, i) => mem.add(utf8(k), i + 1, KIND_PUT, utf8(k)));
    const it = mem.iterator();
    const seen: Uint8Array[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) seen.push(it.key());
    const expected = keys.map(utf8).sort(compareBytes);
    expect(seen).toEqual(expected);
    for (const k of keys) expect(mem.get(utf8(k), 100)?.value).toEqual(utf8(k));
  });

  test("counts entries and grows approximateBytes by at least key + value per add", () => {
    const mem = new MemTable();
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const key = utf8(`key${i % 10}`);
      const value = new Uint8Array(i);
      mem.add(key, i + 1, KIND_PUT, value);
      expect(mem.approximateBytes - last).toBeGreaterThanOrEqual(key.length + value.length);
      last = mem.approximateBytes;
    }
    expect(mem.entryCount).toBe(100);
    expect(mem.isEmpty).toBe(false);
  });

  test("matches a sorted-array model with many versions per key", () => {
    const seed = testSeed("memtable/versions");
    const rng = seededRandom(seed);
    const pool = keyPool(rng, 300);
    const count = 6000;
    const seqs = Array.from({ length: count }, (_, i) => i + 1);
    const { mem, model } = fill(rng, count, () => rng.pick(pool), seqs);
    const absent = keyPool(rng, 100);
    checkAgainstModel(rng, mem, model, () => (rng.chance(0.5) ? rng.pick(pool) : rng.pick(absent)));
  });

  test("matches a sorted-array model with 100k mostly distinct keys and seqs inserted out of order", () => {
    const seed = testSeed("memtable/large");
    const rng = seededRandom(seed);
    const count = 100_000;
    const seqs = Array.from({ length: count }, (_, i) => i + 1);
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
    }
    const randomKey = () => Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
    let ascending = 0;
    // A mix of random keys and ascending runs (the append path).
    const keys = () => (rng.chance(0.5) ? randomKey() : utf8(`run${String(ascending++).padStart(8, "0")}`));
    const { mem, model } = fill(rng, count, keys, seqs);
    checkAgainstModel(rng, mem, model, () => (rng.chance(0.5) ? rng.pick(model).key : randomKey()));
  });

  describe("an iterator held while entries are inserted", () => {
    function heldWalk(name: string, direction: "forward" | "backward" | "mixed"): void {
      const seed = testSeed(`memtable/held-${name}`);
      const rng = seededRandom(seed);
      const pool = keyPool(rng, 400);
      let seq = 0;
      const mem = new MemTable();
      const addRandom = () => {
        seq++;
        mem.add(rng.pick(pool), seq, rng.chance(0.3) ? KIND_DELETE : KIND_PUT, utf8(`v${seq}`));
      };
      for (let i = 0; i < 3000; i++) addRandom();

      const it = mem.iterator();
      if (direction === "backward") it.seekToLast();
      else it.seekToFirst();
      // Everything present when the iterator was positioned.
      const existing: E[] = [];
      const all = mem.iterator();
      for (all.seekToFirst(); all.valid(); all.next()) existing.push(current(all));

      const seen: E[] = [];
      let steps = 0;
      while (it.valid() && steps < (direction === "mixed" ? 5000 : 50_000)) {
        seen.push(current(it));
        // Writers run between steps, splitting the leaf under the iterator now and then.
        for (let n = rng.int(6); n > 0; n--) addRandom();
        const forward = direction === "forward" || (direction === "mixed" && rng.chance(0.6));
        if (forward) it.next();
        else it.prev();
        steps++;
        if (direction === "mixed" && it.valid()) {
          // Each step moves strictly one way and passes over no entry that existed at the start.
          const from = seen[seen.length - 1];
          const to = current(it);
          const c = byInternalOrder(to, from);
          expect(forward ? c > 0 : c < 0).toBe(true);
          const [lo, hi] = forward ? [from, to] : [to, from];
          // (entries before hi) - (entries up to and including lo) = entries strictly between.
          const between = lowerBoundEntry(existing, hi.key, hi.seq) - lowerBoundEntry(existing, lo.key, lo.seq - 0.5);
          expect(between).toBe(0);
        }
      }
      if (direction === "mixed") return;

      // Strictly monotonic (no duplicates) and every pre-existing entry seen.
      for (let i = 1; i < seen.length; i++) {
        const c = byInternalOrder(seen[i], seen[i - 1]);
        expect(direction === "forward" ? c > 0 : c < 0).toBe(true);
      }
      const seenIds = new Set(seen.map(id));
      expect(existing.filter((e) => !seenIds.has(id(e))).map(id)).toEqual([]);
    }

    test("forward: no crash, no duplicates, no pre-existing entry missed", () => heldWalk("forward", "forward"));
    test("backward: no crash, no duplicates, no pre-existing entry missed", () => heldWalk("backward", "backward"));
    test("changing direction: every step moves one way and skips no pre-existing entry", () =>
      heldWalk("mixed", "mixed"));
  });
});
