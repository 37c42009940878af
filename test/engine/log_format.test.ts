import { describe, expect, test } from "bun:test";
import { concatBytes, utf8 } from "../../src/engine/coding.ts";
import { isKvdbError } from "../../src/engine/errors.ts";
import { encodeRecord, RECORD_HEADER_BYTES, readRecords } from "../../src/engine/log_format.ts";
import { mulberry32, testSeed, randomBytes } from "../support/random.ts";

const SEED = testSeed("log_format.test.ts");

const MAX = 1 << 20;
const payloads = [utf8("first"), new Uint8Array(0), utf8("third record, a little longer"), utf8("x".repeat(300)), utf8("last")];
const framed = payloads.map(encodeRecord);
const log = concatBytes(framed);
const offsets = framed.reduce<number[]>((acc, _r, i) => [...acc, i === 0 ? 0 : acc[i - 1] + framed[i - 1].length], []);

function corruptionOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isKvdbError(e, "CORRUPTION")).toBe(true);
    return e as Error;
  }
  throw new Error("expected a CORRUPTION error");
}

describe("record framing", () => {
  test("round-trips payloads (including an empty one) with their offsets", () => {
    const { records, validBytes, tornBytes } = readRecords(log, "x.wal", MAX);
    expect(records.map((r) => r.payload)).toEqual(payloads);
    expect(records.map((r) => r.offset)).toEqual(offsets);
    expect(validBytes).toBe(log.length);
    expect(tornBytes).toBe(0);
  });

  test("header is crc32 over length + payload, then the length, little-endian", () => {
    const r = encodeRecord(utf8("abc"));
    const view = new DataView(r.buffer);
    expect(r.length).toBe(RECORD_HEADER_BYTES + 3);
    expect(view.getUint32(4, true)).toBe(3);
    expect(view.getUint32(0, true)).toBe(Bun.hash.crc32(r.subarray(4)) >>> 0);
  });

  test("an empty file has no records", () => {
    expect(readRecords(new Uint8Array(0), "x.wal", MAX)).toEqual({ records: [], validBytes: 0, tornBytes: 0 });
  });

  test("a file of zeros is a torn tail, never empty records", () => {
    for (const n of [1, 7, 8, 9, 64, 4096]) {
      const r = readRecords(new Uint8Array(n), "x.wal", MAX);
      expect(r).toEqual({ records: [], validBytes: 0, tornBytes: n });
    }
  });

  test("a cut at any byte yields exactly the whole records before it", () => {
    for (let cut = 0; cut <= log.length; cut++) {
      const { records, validBytes, tornBytes } = readRecords(log.subarray(0, cut), "x.wal", MAX);
      const whole = framed.filter((_f, i) => offsets[i] + framed[i].length <= cut).length;
      expect(records.length).toBe(whole);
      expect(records.map((r) => r.payload)).toEqual(payloads.slice(0, whole));
      const end = whole === 0 ? 0 : offsets[whole - 1] + framed[whole - 1].length;
      expect(validBytes).toBe(end);
      expect(tornBytes).toBe(cut - end);
    }
  });

  test("zeros or garbage after the valid tail are a torn tail", () => {
    const rand = mulberry32(SEED);
    for (let i = 0; i < 50; i++) {
      const n = 1 + Math.floor(rand() * 200);
      const tail = i % 2 === 0 ? new Uint8Array(n) : randomBytes(rand, n);
      const { records, validBytes, tornBytes } = readRecords(concatBytes([log, tail]), "x.wal", MAX);
      expect(records.map((r) => r.payload)).toEqual(payloads);
      expect(validBytes).toBe(log.length);
      expect(tornBytes).toBe(n);
    }
  });

  test("a flipped byte anywhere in a middle record is corruption at that record's offset", () => {
    const middle = 2;
    for (let i = offsets[middle]; i < offsets[middle] + framed[middle].length; i++) {
      const damaged = log.slice();
      damaged[i] ^= 0x40;
      const e = corruptionOf(() => readRecords(damaged, "000007.wal", MAX));
      expect(e.message).toBe(`000007.wal: bad record at offset ${offsets[middle]}`);
    }
  });

  test("a flipped byte anywhere in the last record is a torn tail", () => {
    const last = framed.length - 1;
    for (let i = offsets[last]; i < log.length; i++) {
      const damaged = log.slice();
      damaged[i] ^= 0x01;
      const { records, validBytes, tornBytes } = readRecords(damaged, "x.wal", MAX);
      expect(records.map((r) => r.payload)).toEqual(payloads.slice(0, last));
      expect(validBytes).toBe(offsets[last]);
      expect(tornBytes).toBe(framed[last].length);
    }
  });

  test("a length above the bound is bad: torn at the tail, corruption before valid records", () => {
    const big = encodeRecord(new Uint8Array(1000));
    expect(readRecords(concatBytes([log, big]), "x.wal", 999).validBytes).toBe(log.length);
    const e = corruptionOf(() => readRecords(concatBytes([big, log]), "x.wal", 999));
    expect(e.message).toContain("at offset 0");
  });

  test("records still validate when the data is a view at a non-zero byteOffset", () => {
    const backing = concatBytes([utf8("junk"), log]);
    const view = backing.subarray(4);
    expect(readRecords(view, "x.wal", MAX).records.map((r) => r.payload)).toEqual(payloads);
  });
});
