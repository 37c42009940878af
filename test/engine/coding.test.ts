import { expect, test } from "bun:test";
import { ByteReader, ByteWriter, DecodeError, binaryBytes, binaryString, compareBytes, fromUtf8, keySuccessor, utf8 } from "../../src/engine/coding.ts";
import { mulberry32, testSeed } from "../support/random.ts";

const SEED = testSeed("coding.test.ts");

test("utf8() matches TextEncoder for ASCII, non-ASCII, lone surrogates and long strings", () => {
  const rand = mulberry32(SEED);
  const pieces = ["a", "Z", "0", "\u0000", "\u007f", "\u0080", "é", "\uFF61", "\u{1D11E}", "\uD800", "\uDFFF", ":"];
  const enc = new TextEncoder();
  for (let i = 0; i < 2000; i++) {
    let s = "";
    const len = rand() < 0.1 ? 60 + Math.floor(rand() * 20) : Math.floor(rand() * 20);
    const asciiOnly = rand() < 0.5;
    for (let j = 0; j < len; j++) s += pieces[Math.floor(rand() * (asciiOnly ? 5 : pieces.length))];
    expect(Buffer.from(utf8(s)).toString("hex")).toBe(Buffer.from(enc.encode(s)).toString("hex"));
    if (s.isWellFormed()) expect(fromUtf8(utf8(s))).toBe(s);
  }
});

test("ByteWriter.range() writes a slice of a buffer, short or long", () => {
  const src = Uint8Array.from({ length: 100 }, (_, i) => i);
  const w = new ByteWriter(4);
  w.range(src, 3, 7);
  w.range(src, 10, 60);
  w.range(src, 99, 99);
  expect([...w.written()]).toEqual([...src.subarray(3, 7), ...src.subarray(10, 60)]);
});

test("ByteWriter and ByteReader round-trip fixed-width integers and varints", () => {
  const values = [0, 1, 0x7f, 0x80, 0xff, 0x1234, 0xffff_ffff];
  const big = [0, 1, 0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER];
  const w = new ByteWriter(1);
  for (const v of values) w.u32(v);
  for (const v of big) w.u64(v);
  for (const v of big) w.varint(v);
  const bytes = w.finish();
  expect([...bytes.subarray(4, 8)]).toEqual([1, 0, 0, 0]); // little-endian
  const r = new ByteReader(bytes);
  for (const v of values) expect(r.u32()).toBe(v);
  for (const v of big) expect(r.u64()).toBe(v);
  for (const v of big) expect(r.varint()).toBe(v);
  expect(r.remaining).toBe(0);
  expect(() => r.u32()).toThrow(DecodeError);
});

test("binaryString is lossless and orders strings as compareBytes orders the bytes (0x80-0x9F included)", () => {
  const rand = mulberry32(SEED + 7);
  const alphabet = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xfe, 0xff];
  const bytes = () => Uint8Array.from({ length: Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]);
  for (let i = 0; i < 5000; i++) {
    const a = bytes();
    const b = bytes();
    const sa = binaryString(a);
    const sb = binaryString(b);
    expect(binaryBytes(sa)).toEqual(a);
    const byBytes = Math.sign(compareBytes(a, b));
    const byStrings = sa < sb ? -1 : sa > sb ? 1 : 0;
    if (byStrings !== byBytes) throw new Error(`seed ${SEED + 7}: ${Buffer.from(a).toString("hex")} vs ${Buffer.from(b).toString("hex")}`);
  }
  expect(binaryString(Uint8Array.of(0x61, 0x80, 0x62), 1, 2)).toBe("\u0080");
});

test("keySuccessor: the smallest key after `key`, so a scan resumed from it skips exactly `key`", () => {
  const rand = mulberry32(testSeed("key successor"));
  const keys: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(0xff), Uint8Array.of(1, 0), Uint8Array.of(1, 0, 0)];
  for (let i = 0; i < 300; i++) keys.push(Uint8Array.from({ length: Math.floor(rand() * 4) }, () => [0, 1, 0xfe, 0xff][Math.floor(rand() * 4)]));
  for (const k of keys) {
    const s = keySuccessor(k);
    expect(compareBytes(s, k)).toBeGreaterThan(0);
    // No key lies strictly between k and its successor.
    for (const other of keys) if (compareBytes(other, k) > 0) expect(compareBytes(other, s)).toBeGreaterThanOrEqual(0);
  }
});
