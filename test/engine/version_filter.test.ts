import { describe, expect, test } from "bun:test";
import { utf8 } from "../../src/engine/coding.ts";
import { compareEntries, KIND_DELETE, KIND_PUT, type Kind } from "../../src/engine/iterator.ts";
import { VersionFilter } from "../../src/engine/version_filter.ts";
import { type Random, seededRandom, testSeed } from "../support/random.ts";

interface Version {
  key: Uint8Array;
  seq: number;
  kind: Kind;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const id = (v: Version) => `${hex(v.key)}@${v.seq}`;

/** Runs the filter over entries in internal order; returns the kept ones. */
function filter(entries: Version[], snapshots: number[], bottommost: boolean | ((key: Uint8Array) => boolean)): Version[] {
  const f = new VersionFilter(snapshots, bottommost);
  return entries.filter((e) => f.keep(e.key, e.seq, e.kind));
}

/** What a reader at `reader` sees for each key: the newest version with seq <= reader. */
function view(entries: Version[], reader: number): Map<string, Version> {
  const seen = new Map<string, Version>();
  for (const e of entries) {
    if (e.seq > reader) continue;
    const prev = seen.get(hex(e.key));
    if (prev === undefined || prev.seq < e.seq) seen.set(hex(e.key), e);
  }
  return seen;
}

/** User-visible values at `reader`: tombstoned keys are absent. */
function userView(entries: Version[], reader: number): string[] {
  return [...view(entries, reader).values()].filter((v) => v.kind === KIND_PUT).map(id).sort();
}

function randomInput(rng: Random) {
  const keys = Array.from({ length: 1 + rng.int(12) }, (_, i) => utf8(`k${i}`));
  const entries: Version[] = [];
  let seq = 0;
  for (let i = rng.int(60); i >= 0; i--) {
    seq += 1 + rng.int(3);
    entries.push({ key: rng.pick(keys), seq, kind: rng.chance(0.35) ? KIND_DELETE : KIND_PUT });
  }
  entries.sort((a, b) => compareEntries(a.key, a.seq, b.key, b.seq));
  // Snapshots anywhere in [0, last + 1], unsorted, possibly repeated.
  const snapshots = Array.from({ length: rng.int(6) }, () => rng.int(seq + 2));
  return { entries, snapshots, readers: [...snapshots, Infinity] };
}

describe("VersionFilter", () => {
  test("keeps the newest version and the versions live snapshots still see", () => {
    const k = utf8("k");
    const entries: Version[] = [
      { key: k, seq: 9, kind: KIND_PUT },
      { key: k, seq: 7, kind: KIND_PUT }, // seen by snapshot 8
      { key: k, seq: 5, kind: KIND_PUT }, // hidden from 8 by seq 7, too new for 4
      { key: k, seq: 3, kind: KIND_DELETE }, // seen by snapshot 4
      { key: k, seq: 1, kind: KIND_PUT }, // hidden from 4 by the tombstone
    ];
    expect(filter(entries, [8, 4], false).map((v) => v.seq)).toEqual([9, 7, 3]);
    expect(filter(entries, [], false).map((v) => v.seq)).toEqual([9]);
    expect(filter(entries, [1, 2], false).map((v) => v.seq)).toEqual([9, 1]);
  });

  test("bottommost: a tombstone no snapshot needs is dropped with everything under it", () => {
    const a = utf8("a");
    const b = utf8("b");
    const entries: Version[] = [
      { key: a, seq: 6, kind: KIND_DELETE },
      { key: a, seq: 2, kind: KIND_PUT },
      { key: b, seq: 5, kind: KIND_DELETE },
      { key: b, seq: 4, kind: KIND_PUT },
    ];
    expect(filter(entries, [], true)).toEqual([]);
    // Not bottommost: older data below may exist, so the tombstones must stay.
    expect(filter(entries, [], false).map(id)).toEqual([id(entries[0]), id(entries[2])]);
    // Snapshot 3 still reads a@2, so the tombstone a@6 above it stays; b@4 is unseen (3 < 4).
    // b@5 has a reader below it and is kept: proving nothing older survives needs look-ahead.
    expect(filter(entries, [3], true).map(id)).toEqual([id(entries[0]), id(entries[1]), id(entries[2])]);
    // A per-key answer: only "b" is at the bottom.
    const asked: string[] = [];
    const perKey = (key: Uint8Array) => {
      asked.push(Buffer.from(key).toString());
      return Buffer.from(key).toString() === "b";
    };
    expect(filter(entries, [], perKey).map(id)).toEqual([id(entries[0])]);
    expect(asked).toEqual(["a", "b"]);
  });

  test("matches the brute-force definition and preserves every reader's view", () => {
    const seed = testSeed("version_filter/model");
    const rng = seededRandom(seed);
    for (let round = 0; round < 3000; round++) {
      const { entries, snapshots, readers } = randomInput(rng);
      const context = `round ${round}, snapshots ${JSON.stringify(snapshots)}`;

      // Definition: a version is needed iff some reader (a snapshot or the latest state) sees it.
      const needed = new Set<string>();
      for (const r of readers) for (const v of view(entries, r).values()) needed.add(id(v));

      const kept = filter(entries, snapshots, false);
      expect({ context, kept: kept.map(id) }).toEqual({ context, kept: entries.filter((e) => needed.has(id(e))).map(id) });
      // Not bottommost: every reader finds the very same version (a tombstone still hides older data below).
      for (const r of readers) {
        const before = [...view(entries, r).values()].map(id).sort();
        const after = [...view(kept, r).values()].map(id).sort();
        expect({ context, r, after }).toEqual({ context, r, after: before });
      }

      // Bottommost: additionally no tombstone whose seq is <= every reader survives.
      const keptBottom = filter(entries, snapshots, true);
      const minReader = Math.min(...readers);
      const expectedBottom = entries.filter((e) => needed.has(id(e)) && !(e.kind === KIND_DELETE && e.seq <= minReader));
      expect({ context, kept: keptBottom.map(id) }).toEqual({ context, kept: expectedBottom.map(id) });
      for (const r of readers) {
        expect({ context, r, after: userView(keptBottom, r) }).toEqual({ context, r, after: userView(entries, r) });
      }
    }
  });
});
