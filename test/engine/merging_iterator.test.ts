import { describe, expect, test } from "bun:test";
import { compareBytes, utf8 } from "../../src/engine/coding.ts";
import { compareEntries, type EntryIterator, KIND_DELETE, KIND_PUT, type Kind } from "../../src/engine/iterator.ts";
import { MemTable } from "../../src/engine/memtable.ts";
import { MergingIterator } from "../../src/engine/merging_iterator.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";

interface E {
  key: Uint8Array;
  seq: number;
  kind: Kind;
  value: Uint8Array;
  /** Which child holds it (newest source = 0); also written into the value. */
  child: number;
}

/** Merged order: internal order, then the newer source (lower child index) first. */
const mergedOrder = (a: E, b: E) => compareEntries(a.key, a.seq, b.key, b.seq) || a.child - b.child;

function describeEntry(it: EntryIterator): string {
  return `${Buffer.from(it.key()).toString("hex")}@${it.seq()}/${it.kind()}/${Buffer.from(it.value()).toString()}`;
}
const describeModel = (e: E) =>
  `${Buffer.from(e.key).toString("hex")}@${e.seq}/${e.kind}/${Buffer.from(e.value).toString()}`;

/** `children` MemTables with overlapping keys; seqs unique unless `duplicates` repeats some (key, seq) across children. */
function build(rng: Random, children: number, entries: number, duplicates: boolean) {
  const pool = Array.from({ length: 60 }, () => Uint8Array.from({ length: rng.int(5) }, () => rng.pick([0, 0x61, 0x62, 0xff])));
  const mems = Array.from({ length: children }, () => new MemTable());
  const model: E[] = [];
  const used = new Set<string>();
  for (let seq = 1; seq <= entries; seq++) {
    const key = rng.pick(pool);
    const targets = duplicates && rng.chance(0.2) ? [rng.int(children), rng.int(children)] : [rng.int(children)];
    for (const child of targets) {
      const tag = `${child}:${Buffer.from(key).toString("hex")}`;
      if (used.has(tag)) continue; // (key, seq) is unique within one source
      used.add(tag);
      const e: E = { key, seq, kind: rng.chance(0.2) ? KIND_DELETE : KIND_PUT, value: utf8(`c${child}s${seq}`), child };
      mems[child].add(e.key, e.seq, e.kind, e.value);
      model.push(e);
    }
    used.clear();
  }
  model.sort(mergedOrder);
  return { merged: new MergingIterator(mems.map((m) => m.iterator())), model, pool };
}

function firstAtLeast(model: E[], target: Uint8Array): number {
  const i = model.findIndex((e) => compareBytes(e.key, target) >= 0);
  return i < 0 ? model.length : i;
}

function lastAtMost(model: E[], target: Uint8Array): number {
  for (let i = model.length - 1; i >= 0; i--) if (compareBytes(model[i].key, target) <= 0) return i;
  return -1;
}

/** Random next/prev steps from model position `pos`, checking each entry. */
function walk(rng: Random, it: EntryIterator, model: E[], pos: number, steps: number): void {
  for (let step = 0; step < steps; step++) {
    if (pos < 0 || pos >= model.length) {
      expect(it.valid()).toBe(false);
      return;
    }
    expect(it.valid()).toBe(true);
    expect(describeEntry(it)).toBe(describeModel(model[pos]));
    if (rng.chance(0.5)) {
      it.next();
      pos++;
    } else {
      it.prev();
      pos--;
    }
  }
}

function checkMerge(name: string, children: number, entries: number, duplicates: boolean): void {
  const seed = testSeed(`merging/${name}`);
  const rng = seededRandom(seed);
  const { merged, model, pool } = build(rng, children, entries, duplicates);

  const forward: string[] = [];
  for (merged.seekToFirst(); merged.valid(); merged.next()) forward.push(describeEntry(merged));
  expect(forward).toEqual(model.map(describeModel));

  const backward: string[] = [];
  for (merged.seekToLast(); merged.valid(); merged.prev()) backward.push(describeEntry(merged));
  expect(backward).toEqual(model.map(describeModel).reverse());

  const absent = [utf8("\x00\x00\x00\x00\x00\x00"), utf8("a\x01"), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])];
  for (let i = 0; i < 200; i++) {
    const target = rng.chance(0.7) ? rng.pick(pool) : rng.pick(absent);
    merged.seek(target);
    walk(rng, merged, model, firstAtLeast(model, target), 12);
    merged.seekForPrev(target);
    walk(rng, merged, model, lastAtMost(model, target), 12);
  }
  // Long walks that change direction often, from both ends.
  merged.seekToFirst();
  walk(rng, merged, model, 0, 500);
  merged.seekToLast();
  walk(rng, merged, model, model.length - 1, 500);
}

describe("MergingIterator", () => {
  test("no children: never valid", () => {
    const merged = new MergingIterator([]);
    merged.seekToFirst();
    expect(merged.valid()).toBe(false);
    merged.seekToLast();
    expect(merged.valid()).toBe(false);
  });

  test("empty children are skipped", () => {
    const a = new MemTable();
    const b = new MemTable();
    b.add(utf8("k"), 1, KIND_PUT, utf8("v"));
    const merged = new MergingIterator([a.iterator(), b.iterator(), new MemTable().iterator()]);
    merged.seekToFirst();
    expect(merged.valid()).toBe(true);
    expect(merged.key()).toEqual(utf8("k"));
    merged.next();
    expect(merged.valid()).toBe(false);
    merged.seekForPrev(utf8("z"));
    expect(merged.value()).toEqual(utf8("v"));
    merged.prev();
    expect(merged.valid()).toBe(false);
  });

  test("the same (key, seq) in two sources: the newer source comes first", () => {
    const newer = new MemTable();
    const older = new MemTable();
    newer.add(utf8("k"), 7, KIND_PUT, utf8("newer"));
    older.add(utf8("k"), 7, KIND_PUT, utf8("older"));
    older.add(utf8("k"), 8, KIND_DELETE, new Uint8Array(0));
    const merged = new MergingIterator([newer.iterator(), older.iterator()]);
    const seen: string[] = [];
    for (merged.seekToFirst(); merged.valid(); merged.next()) seen.push(`${merged.seq()}:${Buffer.from(merged.value())}`);
    expect(seen).toEqual(["8:", "7:newer", "7:older"]);
  });

  for (const children of [1, 2, 3, 5, 8]) {
    test(`${children} overlapping ${children === 1 ? "child matches its" : "children match their"} sorted concatenation`, () =>
      checkMerge(`children-${children}`, children, 1500, false));
  }

  test("8 children sharing some (key, seq) pairs: ties go to the newer source in both directions", () =>
    checkMerge("duplicates", 8, 1500, true));
});
