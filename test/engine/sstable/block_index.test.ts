import { expect, test } from "bun:test";
import { compareBytes } from "../../../src/engine/coding.ts";
import { BlockIndex } from "../../../src/engine/sstable/block_index.ts";
import { mulberry32, testSeed } from "../../support/random.ts";

const SEED = testSeed("block_index.test.ts");

/** The model: index of the first key >= target, by plain byte comparison. */
function firstAtLeast(keys: Uint8Array[], target: Uint8Array): number {
  const i = keys.findIndex((k) => compareBytes(k, target) >= 0);
  return i < 0 ? keys.length : i;
}

/** A key: `prefix` then 0..maxTail bytes from a small alphabet (0x00 and 0xFF included). */
function randomKey(rand: () => number, prefix: number[], maxTail: number): Uint8Array {
  const alphabet = [0x00, 0x01, 0x30, 0x31, 0x7f, 0x80, 0xfe, 0xff];
  const tail = Array.from({ length: Math.floor(rand() * (maxTail + 1)) }, () => alphabet[Math.floor(rand() * alphabet.length)]);
  return Uint8Array.from([...prefix, ...tail]);
}

function sortedDistinct(keys: Uint8Array[]): Uint8Array[] {
  const byHex = new Map(keys.map((k) => [Buffer.from(k).toString("hex"), k]));
  return [...byHex.values()].sort(compareBytes);
}

test("find() agrees with a byte-comparison model (shared prefixes, ties on the fingerprint, short keys)", () => {
  const rand = mulberry32(SEED);
  for (let round = 0; round < 60; round++) {
    // A table-wide prefix of 0..20 bytes; tails up to 30 bytes, so fingerprints (12 bytes
    // after the prefix) often tie and the byte comparison has to decide.
    const prefix = Array.from({ length: Math.floor(rand() * 21) }, () => Math.floor(rand() * 256));
    const keys = sortedDistinct(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => randomKey(rand, prefix, rand() < 0.5 ? 4 : 30)));
    const index = new BlockIndex(keys, keys.map((_, i) => i * 10), keys.map(() => 10));
    expect(index.count).toBe(keys.length);
    const targets: Uint8Array[] = [...keys, new Uint8Array(0), Uint8Array.from(prefix), Uint8Array.from(prefix.slice(0, -1))];
    for (let i = 0; i < 300; i++) {
      // Keys inside the prefix, diverging from it, shorter than it, or next to existing keys.
      const r = rand();
      const cut = Math.floor(rand() * (prefix.length + 1));
      if (r < 0.4) targets.push(randomKey(rand, prefix, 30));
      else if (r < 0.6) targets.push(randomKey(rand, prefix.slice(0, cut), 30));
      else if (r < 0.8) targets.push(Uint8Array.from([...prefix.slice(0, cut), Math.floor(rand() * 256)]));
      else {
        const k = keys[Math.floor(rand() * keys.length)];
        targets.push(Uint8Array.from([...k, 0]), k.subarray(0, Math.max(0, k.length - 1)));
      }
    }
    for (const t of targets) {
      const want = firstAtLeast(keys, t);
      const got = index.find(t);
      if (got !== want) throw new Error(`seed ${SEED} round ${round}: find(${Buffer.from(t).toString("hex")}) = ${got}, want ${want}`);
    }
  }
});

test("an index with no blocks finds nothing", () => {
  const index = new BlockIndex([], [], []);
  expect(index.count).toBe(0);
  expect(index.find(new Uint8Array([1, 2]))).toBe(0);
  expect(index.find(new Uint8Array(0))).toBe(0);
});
