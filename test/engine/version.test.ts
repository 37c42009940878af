import { expect, test } from "bun:test";
import { compareBytes, keyFingerprint } from "../../src/engine/coding.ts";
import type { FileMeta } from "../../src/engine/manifest.ts";
import type { TableReader } from "../../src/engine/sstable/reader.ts";
import { findFile, TableHandle } from "../../src/engine/version.ts";
import { mulberry32, testSeed } from "../support/random.ts";

const SEED = testSeed("version.test.ts");

/** A key of 0..maxLength bytes from a small alphabet (0x00 and 0xFF included), after `prefix`. */
function randomKey(rand: () => number, prefix: number[], maxLength: number): Uint8Array {
  const alphabet = [0x00, 0x01, 0x3a, 0x61, 0x7f, 0x80, 0xfe, 0xff];
  const tail = Array.from({ length: Math.floor(rand() * (maxLength + 1)) }, () => alphabet[Math.floor(rand() * alphabet.length)]);
  return Uint8Array.from([...prefix, ...tail]);
}

function handle(smallest: Uint8Array, largest: Uint8Array): TableHandle {
  const meta: FileMeta = { level: 1, number: 1, size: 0, smallest, largest, entries: 1, minSeq: 0, maxSeq: 0 };
  // Key-range checks read only the metadata: no reader is needed.
  return new TableHandle(meta, {} as TableReader, () => {});
}

const hex = (k: Uint8Array) => Buffer.from(k).toString("hex");

test("keyFingerprint orders keys as compareBytes does whenever two fingerprints differ", () => {
  const rand = mulberry32(SEED);
  for (let i = 0; i < 20_000; i++) {
    const prefix = Array.from({ length: Math.floor(rand() * 8) }, () => 0x61);
    const a = randomKey(rand, prefix, 9);
    const b = randomKey(rand, prefix, 9);
    const fa = keyFingerprint(a);
    const fb = keyFingerprint(b);
    if (fa !== fb && Math.sign(fa - fb) !== Math.sign(compareBytes(a, b))) {
      throw new Error(`seed ${SEED}: ${hex(a)} vs ${hex(b)}: fingerprints ${fa} and ${fb} disagree with the byte order`);
    }
  }
  // Zero padding: a key and the same key followed by zero bytes tie (and only a full comparison tells them apart).
  expect(keyFingerprint(Uint8Array.of(0x61))).toBe(keyFingerprint(Uint8Array.of(0x61, 0, 0)));
  expect(keyFingerprint(new Uint8Array(0))).toBe(0);
});

test("findFile and TableHandle.covers agree with a byte-comparison model (short keys, ties on the fingerprint)", () => {
  const rand = mulberry32(SEED + 1);
  for (let round = 0; round < 200; round++) {
    // Sorted distinct keys, paired into non-overlapping [smallest, largest] ranges.
    const prefix = Array.from({ length: Math.floor(rand() * 10) }, () => Math.floor(rand() * 256));
    const byHex = new Map<string, Uint8Array>();
    for (let i = 0, n = 2 + Math.floor(rand() * 40); i < n; i++) {
      const k = randomKey(rand, prefix, rand() < 0.5 ? 3 : 12);
      byHex.set(hex(k), k);
    }
    const keys = [...byHex.values()].sort(compareBytes);
    const files: TableHandle[] = [];
    for (let i = 0; i + 1 < keys.length; i += 2) {
      // Some single-key tables (smallest = largest).
      if (rand() < 0.2) files.push(handle(keys[i], keys[i]));
      else files.push(handle(keys[i], keys[i + 1]));
    }
    const targets: Uint8Array[] = [...keys, new Uint8Array(0)];
    for (let i = 0; i < 200; i++) {
      const k = keys[Math.floor(rand() * keys.length)];
      targets.push(randomKey(rand, prefix, 12), Uint8Array.from([...k, 0]), k.subarray(0, Math.max(0, k.length - 1)));
    }
    for (const t of targets) {
      const inRange = (f: TableHandle) => compareBytes(t, f.meta.smallest) >= 0 && compareBytes(t, f.meta.largest) <= 0;
      const want = files.find(inRange);
      const got = findFile(files, t);
      if (got !== want) throw new Error(`seed ${SEED + 1} round ${round}: findFile(${hex(t)}) picked the wrong table`);
      for (const f of files) {
        if (f.covers(t, keyFingerprint(t)) !== inRange(f)) {
          throw new Error(`seed ${SEED + 1} round ${round}: covers(${hex(t)}) wrong for [${hex(f.meta.smallest)}, ${hex(f.meta.largest)}]`);
        }
      }
    }
  }
});

test("a re-levelled table's bounds follow its new metadata", () => {
  const t = handle(Uint8Array.of(0x62), Uint8Array.of(0x63));
  expect(t.covers(Uint8Array.of(0x61), keyFingerprint(Uint8Array.of(0x61)))).toBe(false);
  t.meta = { ...t.meta, level: 2, smallest: Uint8Array.of(0x61), largest: Uint8Array.of(0x63) };
  expect(t.covers(Uint8Array.of(0x61), keyFingerprint(Uint8Array.of(0x61)))).toBe(true);
  expect(findFile([t], Uint8Array.of(0x61))).toBe(t);
  expect(findFile([], Uint8Array.of(0x61))).toBeUndefined();
});
