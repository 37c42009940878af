/**
 * @module
 * The order-preserving ("memcomparable") encoding of indexed values, shared by equality
 * and range indexes: for any two values, `Buffer.compare(encode(a), encode(b))` has the
 * sign of {@link compareIndexValues}`(a, b)`, and no encoding is a prefix of another's, so
 * an encoded value can be followed by more key bytes (a primary key, a block number) and
 * a prefix or range scan over one value never bleeds into another.
 *
 * Byte format (docs/FORMAT.md, "Index values"): one type tag, then the payload.
 *
 *   0x01                       null
 *   0x02                       false
 *   0x03                       true
 *   0x04 b0..b7                number: big-endian IEEE-754 float64 bits, then if the sign
 *                              bit is 0 set it, else invert all 64 bits (−0 is encoded
 *                              as +0; NaN is refused). 0 → 80 00 00 00 00 00 00 00,
 *                              1 → bf f0 00 …, −1 → 40 0f ff …
 *   0x05 escaped… 0x00 0x01    string: its UTF-8 bytes with every 0x00 written as
 *                              0x00 0xFF, then the terminator 0x00 0x01
 *
 * The tags order mixed types null < false < true < number < string. Strings order by
 * UTF-8 bytes, which is Unicode code point order — the order the query layer uses
 * (`src/query/compare.ts`), not JavaScript's UTF-16 `<`. The escape keeps that order:
 * a literal 0x00 becomes 0x00 0xFF, which sorts after the terminator 0x00 0x01, just as
 * "a\u0000" sorts after "a". A lone surrogate (possible after JSON `"\ud800"`) is encoded
 * as U+FFFD, as TextEncoder does; such strings compare as U+FFFD here too, so the order
 * stays consistent and an equality lookup merely returns extra candidates, which the
 * query layer's re-check removes.
 */
import { fromUtf8, utf8 } from "../engine/coding.ts";
import { KvdbError, corruption } from "../engine/errors.ts";
import type { IndexValue } from "./extractor.ts";

export const TAG_NULL = 0x01;
export const TAG_FALSE = 0x02;
export const TAG_TRUE = 0x03;
export const TAG_NUMBER = 0x04;
export const TAG_STRING = 0x05;

/** Escape byte pairs: 0x00 inside the data, and the terminator that ends it. */
const ESCAPE = 0x00;
const ESCAPED_ZERO = 0xff;
const TERMINATOR = 0x01;

/** What decoding errors name as their "file". */
const WHAT = "index value";

const ENCODED_NULL = Uint8Array.of(TAG_NULL);
const ENCODED_FALSE = Uint8Array.of(TAG_FALSE);
const ENCODED_TRUE = Uint8Array.of(TAG_TRUE);

/** Encodes one value; throws INVALID_ARGUMENT for NaN or a non-scalar. */
export function encodeIndexValue(v: IndexValue): Uint8Array {
  if (v === null) return ENCODED_NULL.slice();
  switch (typeof v) {
    case "boolean":
      return (v ? ENCODED_TRUE : ENCODED_FALSE).slice();
    case "number": {
      const out = new Uint8Array(9);
      out[0] = TAG_NUMBER;
      writeOrderedFloat64(v, out, 1);
      return out;
    }
    case "string":
      return encodeString(v);
    default:
      throw new KvdbError("INVALID_ARGUMENT", `cannot index a value of type ${typeof v}`);
  }
}

/** Scratch space for float64 bits (big-endian through the DataView). */
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function writeOrderedFloat64(v: number, out: Uint8Array, at: number): void {
  if (Number.isNaN(v)) throw new KvdbError("INVALID_ARGUMENT", "NaN cannot be indexed");
  scratch.setFloat64(0, v === 0 ? 0 : v); // v === 0 is true for −0: store +0
  if (scratchBytes[0] & 0x80) {
    for (let i = 0; i < 8; i++) out[at + i] = scratchBytes[i] ^ 0xff;
  } else {
    out.set(scratchBytes, at);
    out[at] |= 0x80;
  }
}

function encodeString(s: string): Uint8Array {
  const raw = utf8(s);
  let zeros = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === ESCAPE) zeros++;
  const out = new Uint8Array(1 + raw.length + zeros + 2);
  out[0] = TAG_STRING;
  writeEscaped(raw, zeros, out, 1);
  return out;
}

/** Writes `raw` escaped and terminated at `out[at]`; `zeros` is its count of 0x00 bytes. */
function writeEscaped(raw: Uint8Array, zeros: number, out: Uint8Array, at: number): void {
  if (zeros === 0) {
    out.set(raw, at);
    at += raw.length;
  } else {
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i];
      out[at++] = b;
      if (b === ESCAPE) out[at++] = ESCAPED_ZERO;
    }
  }
  out[at] = ESCAPE;
  out[at + 1] = TERMINATOR;
}

/**
 * Escapes arbitrary bytes for use inside a composite key: each 0x00 becomes 0x00 0xFF,
 * then 0x00 0x01 ends the field. Byte order of the results equals byte order of the
 * inputs, and no result is a prefix of another.
 */
export function encodeEscaped(bytes: Uint8Array): Uint8Array {
  let zeros = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === ESCAPE) zeros++;
  const out = new Uint8Array(bytes.length + zeros + 2);
  writeEscaped(bytes, zeros, out, 0);
  return out;
}

/**
 * Reads one escaped field starting at `offset`; `end` is the offset just past its
 * terminator. The returned bytes share memory with the input when the field has no
 * escapes. Throws CORRUPTION on a missing terminator or a bad escape.
 */
export function decodeEscaped(bytes: Uint8Array, offset: number): { bytes: Uint8Array; end: number } {
  let zeros = 0;
  let i = offset;
  for (;;) {
    const z = bytes.indexOf(ESCAPE, i);
    if (z < 0 || z + 1 >= bytes.length) throw corruption(WHAT, "unterminated escaped bytes", offset);
    const next = bytes[z + 1];
    if (next === TERMINATOR) {
      if (zeros === 0) return { bytes: bytes.subarray(offset, z), end: z + 2 };
      return { bytes: unescape(bytes, offset, z, zeros), end: z + 2 };
    }
    if (next !== ESCAPED_ZERO) throw corruption(WHAT, `bad escape 0x00 0x${hex(next)}`, z);
    zeros++;
    i = z + 2;
  }
}

/** Copies `bytes[from, to)` with each 0x00 0xFF pair collapsed to 0x00. */
function unescape(bytes: Uint8Array, from: number, to: number, zeros: number): Uint8Array {
  const out = new Uint8Array(to - from - zeros);
  let at = 0;
  for (let i = from; i < to; i++) {
    out[at++] = bytes[i];
    if (bytes[i] === ESCAPE) i++; // skip the 0xFF
  }
  return out;
}

/**
 * Decodes one value starting at `offset` (default 0); `end` is the offset just past it.
 * Throws CORRUPTION on an unknown tag, a truncated number, a non-canonical number (NaN
 * or −0 bit patterns, which the encoder never writes), a bad escape or invalid UTF-8.
 */
export function decodeIndexValue(bytes: Uint8Array, offset = 0): { value: IndexValue; end: number } {
  if (offset < 0 || offset >= bytes.length) throw corruption(WHAT, "missing type tag", offset);
  const tag = bytes[offset];
  switch (tag) {
    case TAG_NULL:
      return { value: null, end: offset + 1 };
    case TAG_FALSE:
      return { value: false, end: offset + 1 };
    case TAG_TRUE:
      return { value: true, end: offset + 1 };
    case TAG_NUMBER:
      return { value: readOrderedFloat64(bytes, offset + 1), end: offset + 9 };
    case TAG_STRING: {
      const { bytes: raw, end } = decodeEscaped(bytes, offset + 1);
      let value: string;
      try {
        value = fromUtf8(raw);
      } catch {
        throw corruption(WHAT, "string is not valid UTF-8", offset + 1);
      }
      return { value, end };
    }
    default:
      throw corruption(WHAT, `unknown type tag 0x${hex(tag)}`, offset);
  }
}

function readOrderedFloat64(bytes: Uint8Array, at: number): number {
  if (at + 8 > bytes.length) throw corruption(WHAT, "truncated number", at);
  // Undo the sign trick in scratch space (never in `bytes`, which may be shared).
  if (bytes[at] & 0x80) {
    scratchBytes.set(bytes.subarray(at, at + 8));
    scratchBytes[0] &= 0x7f;
  } else {
    for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[at + i] ^ 0xff;
  }
  const v = scratch.getFloat64(0);
  if (Number.isNaN(v)) throw corruption(WHAT, "number is NaN", at);
  if (v === 0 && 1 / v < 0) throw corruption(WHAT, "number is a non-canonical -0", at);
  return v;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

function typeRank(v: IndexValue): number {
  if (v === null) return TAG_NULL;
  switch (typeof v) {
    case "boolean":
      return v ? TAG_TRUE : TAG_FALSE;
    case "number":
      return TAG_NUMBER;
    case "string":
      return TAG_STRING;
    default:
      throw new KvdbError("INVALID_ARGUMENT", `cannot index a value of type ${typeof v}`);
  }
}

/**
 * The order the encodings follow: by type (null < false < true < number < string), then
 * numbers by value (−0 equals 0; NaN throws INVALID_ARGUMENT), strings by code point
 * (lone surrogates as U+FFFD). Returns −1, 0 or 1.
 */
export function compareIndexValues(a: IndexValue, b: IndexValue): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === TAG_NUMBER) {
    const x = a as number;
    const y = b as number;
    if (Number.isNaN(x) || Number.isNaN(y)) throw new KvdbError("INVALID_ARGUMENT", "NaN cannot be indexed");
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === TAG_STRING) return compareUtf8Order(a as string, b as string);
  return 0;
}

/** Compares two strings as their UTF-8 encodings would compare, without encoding them. */
function compareUtf8Order(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(j);
    if (x === y && (x < 0xd800 || x > 0xdfff)) {
      i++;
      j++;
      continue;
    }
    const cx = codePointAt(a, i);
    const cy = codePointAt(b, j);
    if (cx !== cy) return cx < cy ? -1 : 1;
    i += cx > 0xffff ? 2 : 1;
    j += cy > 0xffff ? 2 : 1;
  }
  const ra = a.length - i;
  const rb = b.length - j;
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

/** The code point at `i`, with a lone surrogate read as U+FFFD (what UTF-8 encoding writes). */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return 0xfffd;
}
