import { describe, expect, test } from "bun:test";
import { compareBytes, utf8 } from "../../src/engine/coding.ts";
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/engine/iterator.ts";
import { MemTable } from "../../src/engine/memtable.ts";
import { MergingIterator } from "../../src/engine/merging_iterator.ts";
import { SnapshotIterator } from "../../src/engine/snapshot_iterator.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";

interface Version {
  key: Uint8Array;
  seq: number;
  kind: Kind;
  value: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const pair = (k: Uint8Array, v: Uint8Array) => `${hex(k)}=${Buffer.from(v).toString()}`;

/** The visible [key, value] pairs at `snapshot` within [lower, upper), ascending: the model. */
function visible(versions: Version[], snapshot: number, lower?: Uint8Array, upper?: Uint8Array): string[] {
  const newest = new Map<string, Version>();
  for (const v of versions) {
    if (v.seq > snapshot) continue;
    const seen = newest.get(hex(v.key));
    if (seen === undefined || seen.seq < v.seq) newest.set(hex(v.key), v);
  }
  return [...newest.values()]
    .filter((v) => v.kind === KIND_PUT)
    .filter((v) => lower === undefined || compareBytes(v.key, lower) >= 0)
    .filter((v) => upper === undefined || compareBytes(v.key, upper) < 0)
    .sort((a, b) => compareBytes(a.key, b.key))
    .map((v) => pair(v.key, v.value));
}

function drain(it: SnapshotIterator, reverse: boolean): string[] {
  return [...it.entries(reverse)].map(([k, v]) => pair(k, v));
}

function memTableOf(versions: [string, number, Kind, string][]): MemTable {
  const mem = new MemTable();
  for (const [k, seq, kind, v] of versions) mem.add(utf8(k), seq, kind, utf8(v));
  return mem;
}

describe("SnapshotIterator", () => {
  test("shows each key's newest version at or below the snapshot, hiding tombstones", () => {
    const mem = memTableOf([
      ["a", 1, KIND_PUT, "a1"],
      ["a", 3, KIND_DELETE, ""],
      ["a", 5, KIND_PUT, "a5"],
      ["b", 2, KIND_PUT, "b2"],
      ["c", 4, KIND_DELETE, ""],
    ]);
    const view = (snapshot: number) => drain(new SnapshotIterator(mem.iterator(), snapshot), false);
    expect(view(0)).toEqual([]);
    expect(view(2)).toEqual([pair(utf8("a"), utf8("a1")), pair(utf8("b"), utf8("b2"))]);
    expect(view(4)).toEqual([pair(utf8("b"), utf8("b2"))]);
    expect(view(9)).toEqual([pair(utf8("a"), utf8("a5")), pair(utf8("b"), utf8("b2"))]);
    expect(drain(new SnapshotIterator(mem.iterator(), 2), true)).toEqual([
      pair(utf8("b"), utf8("b2")),
      pair(utf8("a"), utf8("a1")),
    ]);
  });

  test("bounds: lower inclusive, upper exclusive, in both directions", () => {
    const mem = memTableOf([
      ["a", 1, KIND_PUT, "1"],
      ["b", 2, KIND_PUT, "2"],
      ["c", 3, KIND_PUT, "3"],
      ["d", 4, KIND_PUT, "4"],
    ]);
    const it = new SnapshotIterator(mem.iterator(), 10, utf8("b"), utf8("d"));
    expect(drain(it, false)).toEqual([pair(utf8("b"), utf8("2")), pair(utf8("c"), utf8("3"))]);
    expect(drain(it, true)).toEqual([pair(utf8("c"), utf8("3")), pair(utf8("b"), utf8("2"))]);
    it.seek(utf8("a"));
    expect(it.key()).toEqual(utf8("b"));
    it.seekForPrev(utf8("z"));
    expect(it.key()).toEqual(utf8("c"));
    it.prev();
    it.prev();
    expect(it.valid()).toBe(false);
  });

  test("switches direction on the current key", () => {
    const mem = memTableOf([
      ["a", 1, KIND_PUT, "a1"],
      ["b", 5, KIND_PUT, "b5"],
      ["b", 2, KIND_PUT, "b2"],
      ["c", 3, KIND_PUT, "c3"],
    ]);
    const it = new SnapshotIterator(mem.iterator(), 4);
    it.seek(utf8("b"));
    expect(pair(it.key(), it.value())).toBe(pair(utf8("b"), utf8("b2")));
    it.prev();
    expect(it.key()).toEqual(utf8("a"));
    it.next();
    expect(pair(it.key(), it.value())).toBe(pair(utf8("b"), utf8("b2")));
    it.next();
    expect(it.key()).toEqual(utf8("c"));
    it.prev();
    expect(pair(it.key(), it.value())).toBe(pair(utf8("b"), utf8("b2")));
  });

  test("matches a model of the visible map over merged MemTables (snapshots, tombstones, bounds, both directions)", () => {
    const seed = testSeed("snapshot_iterator/model");
    const rng = seededRandom(seed);
    for (let round = 0; round < 40; round++) checkRound(rng);
  });
});

function checkRound(rng: Random): void {
  const alphabet = [0x00, 0x61, 0x62, 0xff];
  const randomKey = () => Uint8Array.from({ length: rng.int(4) }, () => rng.pick(alphabet));
  const pool = Array.from({ length: 40 }, randomKey);
  const children = 1 + rng.int(4);
  const mems = Array.from({ length: children }, () => new MemTable());
  const versions: Version[] = [];
  const used = new Set<string>();
  const count = 50 + rng.int(400);
  for (let seq = 1; seq <= count; seq++) {
    const v: Version = {
      key: rng.pick(pool),
      seq,
      kind: rng.chance(0.3) ? KIND_DELETE : KIND_PUT,
      value: rng.chance(0.1) ? new Uint8Array(0) : utf8(`v${seq}`),
    };
    if (used.has(`${hex(v.key)}@${seq}`)) continue;
    used.add(`${hex(v.key)}@${seq}`);
    // Older writes tend to sit in older sources, but any spread must work.
    mems[rng.int(children)].add(v.key, v.seq, v.kind, v.value);
    versions.push(v);
  }
  const snapshot = rng.int(count + 2);
  const lower = rng.chance(0.5) ? randomKey() : undefined;
  const upper = rng.chance(0.5) ? randomKey() : undefined;
  const make = () => new SnapshotIterator(new MergingIterator(mems.map((m) => m.iterator())), snapshot, lower, upper);
  const model = visible(versions, snapshot, lower, upper);
  const context = `snapshot=${snapshot} lower=${lower && hex(lower)} upper=${upper && hex(upper)}`;

  expect({ context, entries: drain(make(), false) }).toEqual({ context, entries: model });
  expect({ context, entries: drain(make(), true) }).toEqual({ context, entries: [...model].reverse() });

  // seek / seekForPrev to present and absent keys, then random steps in both directions.
  const it = make();
  const modelKeys = model.map((p) => p.slice(0, p.indexOf("=")));
  for (let i = 0; i < 60; i++) {
    const target = rng.chance(0.5) ? rng.pick(pool) : randomKey();
    let pos: number;
    if (rng.chance(0.5)) {
      it.seek(target);
      pos = modelKeys.findIndex((k) => compareBytes(Buffer.from(k, "hex"), target) >= 0);
      if (pos < 0) pos = model.length;
    } else {
      it.seekForPrev(target);
      pos = modelKeys.findLastIndex((k) => compareBytes(Buffer.from(k, "hex"), target) <= 0);
    }
    for (let step = 0; step < 10; step++) {
      if (pos < 0 || pos >= model.length) {
        expect({ context, valid: it.valid() }).toEqual({ context, valid: false });
        break;
      }
      expect({ context, entry: pair(it.key(), it.value()) }).toEqual({ context, entry: model[pos] });
      // copyValue(): the same bytes in a private buffer, in either direction.
      const copy = it.copyValue();
      expect({ context, entry: pair(it.key(), copy) }).toEqual({ context, entry: model[pos] });
      if (copy.length > 0) {
        copy[0] ^= 0xff;
        expect({ context, entry: pair(it.key(), it.value()) }).toEqual({ context, entry: model[pos] });
      }
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
