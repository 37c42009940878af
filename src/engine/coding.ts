/**
 * @module
 * Leaf helpers for byte encodings shared by every on-disk format: little-endian
 * fixed-width integers, LEB128 varints, UTF-8 and byte-order comparison.
 * Decoders take a {@link Reader} that checks every length against the buffer, so a
 * corrupt length becomes an error rather than a read past the end.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of `s` (lone surrogates become U+FFFD, as with TextEncoder). */
export function utf8(s: string): Uint8Array {
  // Short ASCII strings (most keys) are copied by hand: cheaper than the native call.
  const n = s.length;
  if (n <= 64) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return encoder.encode(s);
      out[i] = c;
    }
    return out;
  }
  return encoder.encode(s);
}

/** Decodes UTF-8, throwing on invalid sequences. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Bun and Node's Buffer method: bytes → string of code units 0..255, no copy of a Buffer view needed. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/**
 * Bytes as a binary string, one code unit per byte: lossless, so a Map key for byte
 * strings, and strings compare (`<`) as their bytes do. (TextDecoder("latin1") is
 * windows-1252: it maps 0x80–0x9F elsewhere, which breaks the order.)
 */
export function binaryString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return latin1Slice.call(bytes, start, end);
}

/** A binary string back to its bytes. */
export function binaryBytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/**
 * Bytes [at, at + 6) of `k` as a big-endian number, zero-padded past the end. When two
 * keys' fingerprints differ they order the keys as compareBytes does; when equal, only a
 * full comparison decides. A number comparison instead of a native call per probe.
 */
export function keyFingerprint(k: Uint8Array, at = 0): number {
  if (at + 6 <= k.length) {
    return ((k[at] << 16) | (k[at + 1] << 8) | k[at + 2]) * 0x1000000 + ((k[at + 3] << 16) | (k[at + 4] << 8) | k[at + 5]);
  }
  let v = 0;
  for (let i = at; i < at + 6; i++) v = v * 256 + (i < k.length ? k[i] : 0);
  return v;
}

/** Byte-wise comparison: the one key order used everywhere in kvdb. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * A private copy of `src[from, to)`. For short runs (keys) a loop beats `slice`, a native
 * call; longer ones are sliced.
 */
export function copyBytes(src: Uint8Array, from: number, to: number): Uint8Array {
  const n = to - from;
  if (n > 32) return src.slice(from, to);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = src[from + i];
  return out;
}

export function concatBytes(parts: Uint8Array[], total?: number): Uint8Array {
  const size = total ?? parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Smallest key strictly greater than `key`: `key` followed by a zero byte (resuming a scan after it). */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/** Smallest key strictly greater than every key that starts with `prefix`, or undefined if none exists. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/**
 * Growable byte buffer for building records and blocks. Fixed-width integers are stored
 * byte by byte rather than through a DataView: `new DataView(u8.buffer)` on a small,
 * freshly allocated array makes JSC materialize its ArrayBuffer, which cost more than a
 * microsecond per writer (one writer is made per write batch).
 */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.put32(v >>> 0);
  }

  /** Unsigned integer up to 2^53 - 1 as 8 bytes little-endian. */
  u64(v: number): void {
    this.ensure(8);
    this.put32(v % 0x1_0000_0000);
    this.put32(Math.floor(v / 0x1_0000_0000));
  }

  private put32(v: number): void {
    const buf = this.buf;
    const at = this.length;
    buf[at] = v;
    buf[at + 1] = v >>> 8;
    buf[at + 2] = v >>> 16;
    buf[at + 3] = v >>> 24;
    this.length = at + 4;
  }

  /** Unsigned LEB128, for integers up to 2^53 - 1. */
  varint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** The bytes `b[start, end)`, without creating a subarray for short runs. */
  range(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n > 32) {
      this.buf.set(b.subarray(start, end), this.length);
    } else {
      const buf = this.buf;
      const at = this.length - start;
      for (let i = start; i < end; i++) buf[at + i] = b[i];
    }
    this.length += n;
  }

  /** Varint length followed by the bytes. */
  lengthPrefixed(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }

  reset(): void {
    this.length = 0;
  }

  /** A view of the written bytes; valid until the next write. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Thrown by {@link ByteReader} when a length runs past the data; callers turn it into a CORRUPTION error naming their file. */
export class DecodeError extends Error {
  constructor(
    readonly what: string,
    /** Offset within the buffer being decoded (callers re-base it onto their file). */
    readonly offset: number,
  ) {
    super(`${what} at offset ${offset}`);
    this.name = "DecodeError";
  }
}

/** Bounds-checked reader over a byte range. */
export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new DecodeError(`truncated ${what}`, this.pos);
  }

  u8(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const v = this.get32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what = "u64"): number {
    this.need(8, what);
    const lo = this.get32(this.pos);
    const hi = this.get32(this.pos + 4);
    this.pos += 8;
    if (hi > 0x1f_ffff) throw new DecodeError(`${what} exceeds 2^53`, this.pos - 8);
    return hi * 0x1_0000_0000 + lo;
  }

  private get32(at: number): number {
    const b = this.buf;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  varint(what = "varint"): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1, what);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new DecodeError(`${what} too long`, this.pos);
  }

  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lengthPrefixed(what = "bytes"): Uint8Array {
    return this.bytes(this.varint(`${what} length`), what);
  }
}
