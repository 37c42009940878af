import { describe, expect, test } from "bun:test";
import { concatBytes, utf8 } from "../../src/engine/coding.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { OP_ADD, OP_REMOVE, PostingReplay, collapseBlock, encodePostingEntry, forEachPosting } from "../../src/indexing/posting_block.ts";
import { decodeMeta, encodeMeta } from "../../src/indexing/posting_meta.ts";
import { seededRandom, testSeed } from "../support/random.ts";

const block = (...entries: Array<[number, string]>) => concatBytes(entries.map(([op, k]) => encodePostingEntry(op, utf8(k))));
const entries = (b: Uint8Array) => {
  const out: Array<[number, string]> = [];
  forEachPosting(b, "test", (op, pk) => out.push([op, new TextDecoder().decode(pk)]));
  return out;
};
const live = (...blocks: Uint8Array[]) => {
  const r = new PostingReplay();
  for (const b of blocks) r.add(b, "test");
  return r.liveKeys().sort();
};

describe("posting blocks", () => {
  test("replay: a key is live when its last entry, across blocks in order, is an add", () => {
    const b1 = block([OP_ADD, "a"], [OP_ADD, "b"], [OP_ADD, "c"]);
    const b2 = block([OP_REMOVE, "a"], [OP_ADD, "d"], [OP_REMOVE, "c"], [OP_ADD, "c"]);
    expect(live(b1, b2)).toEqual(["b", "c", "d"]);
  });

  test("collapse keeps each key's last entry in the block, which is all replay uses", () => {
    expect(entries(collapseBlock(block([OP_ADD, "a"], [OP_REMOVE, "a"]), "t"))).toEqual([[OP_REMOVE, "a"]]);
    expect(entries(collapseBlock(block([OP_ADD, "a"], [OP_REMOVE, "a"], [OP_ADD, "a"]), "t"))).toEqual([[OP_ADD, "a"]]);
    expect(entries(collapseBlock(block([OP_ADD, "a"], [OP_ADD, "b"], [OP_REMOVE, "a"]), "t"))).toEqual([[OP_ADD, "b"], [OP_REMOVE, "a"]]);
    const untouched = block([OP_ADD, "x"], [OP_ADD, "y"]);
    expect(collapseBlock(untouched, "t")).toBe(untouched);
  });

  test("collapse returns a block of adds as it is, and still reports a damaged one", () => {
    const adds = block([OP_ADD, "a"], [OP_ADD, "b".repeat(200)], [OP_ADD, ""]);
    expect(collapseBlock(adds, "t")).toBe(adds);
    // Damage that only a byte walk can see: a length past the end, a varint cut short,
    // an unknown op after adds.
    for (const bad of [adds.subarray(0, adds.length - 1 - 200), new Uint8Array([...adds, OP_ADD, 0x80]), new Uint8Array([...adds, 7, 0])]) {
      expect(() => collapseBlock(bad, "posting block")).toThrow(/posting block/);
    }
  });

  test("collapsing any block never changes the replayed live set (randomized)", () => {
    const seed = testSeed("posting collapse");
    const r = seededRandom(seed);
    for (let round = 0; round < 300; round++) {
      const blocks: Uint8Array[] = [];
      for (let b = 0; b < 1 + r.int(4); b++) {
        const es: Array<[number, string]> = [];
        for (let i = r.int(12); i >= 0; i--) es.push([r.chance(0.6) ? OP_ADD : OP_REMOVE, r.pick(["a", "b", "c", "d"])]);
        blocks.push(block(...es));
      }
      const which = r.int(blocks.length);
      const collapsed = blocks.map((b, i) => (i === which ? collapseBlock(b, "t") : b));
      expect({ seed, round, live: live(...collapsed) }).toEqual({ seed, round, live: live(...blocks) });
    }
  });

  test("a malformed block or meta record is CORRUPTION naming where it was read", () => {
    const bad = new Uint8Array([OP_ADD, 5, 1, 2]);
    try {
      forEachPosting(bad, "index users_city", () => {});
      throw new Error("no error");
    } catch (e) {
      expect(isKvdbError(e, "CORRUPTION")).toBe(true);
      expect((e as Error).message).toContain("index users_city");
    }
    expect(() => forEachPosting(new Uint8Array([7, 0]), "t", () => {})).toThrow(/unknown posting op 7/);
    const meta = { lastBlock: 3, lastBlockEntries: 17, lastBlockBytes: 400, live: 530, tombstones: 12, packedAt: 0 };
    expect(encodeMeta(meta)[0]).toBe(1); // never re-packed: the first format
    expect(decodeMeta(encodeMeta(meta), "t")).toEqual(meta);
    const packed = { ...meta, packedAt: 9 };
    expect(encodeMeta(packed)[0]).toBe(2);
    expect(decodeMeta(encodeMeta(packed), "t")).toEqual(packed);
    expect(() => decodeMeta(new Uint8Array([3, 0]), "t")).toThrow(/meta version/);
    // Version 2 with a packed-at count of 0 or above the tombstone count is damage.
    for (const packedAt of [0, 13]) {
      const bytes = encodeMeta({ ...meta, packedAt: 1 });
      const bad = new Uint8Array([...bytes.subarray(0, bytes.length - 1), packedAt]);
      expect(() => decodeMeta(bad, "t")).toThrow(/packed-at count/);
    }
  });
});
