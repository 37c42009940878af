/**
 * @module
 * Reads one block written by {@link BlockBuilder} (format in block_builder.ts): a point
 * lookup that binary-searches the restart points and decodes at most one restart
 * interval, and a whole-block decode into parallel arrays for iteration (which makes
 * `prev` as cheap as `next`).
 *
 * Entry headers are decoded here by hand rather than through ByteReader because this is
 * the hottest loop of every read; every length is still checked against the end of the
 * entries area, and a bad one becomes a CORRUPTION error naming the file and the offset.
 */
import { compareBytes } from "../coding.ts";
import { corruption } from "../errors.ts";
import type { EntryIterator, Kind } from "../iterator.ts";

/** One version of a key, as returned by a point lookup. `value` is a view into the table file. */
export interface PointEntry {
  seq: number;
  kind: Kind;
  value: Uint8Array;
}

const EMPTY = new Uint8Array(0);

// Results of parseHeader, kept in module variables so decoding allocates nothing per
// entry. Safe because decoding is synchronous and never re-entered.
let hShared = 0;
let hUnshared = 0;
let hValueLength = 0;
let hKind: Kind = 0;
let hSeq = 0;
let hKeyStart = 0;
let vPos = 0;

/** Byte order of `buf[start, end)` against `key`, like compareBytes but without a subarray. */
function compareRange(buf: Uint8Array, start: number, end: number, key: Uint8Array): number {
  const n = end - start;
  const m = key.length;
  if (n > 64) return compareBytes(buf.subarray(start, end), key);
  const l = n < m ? n : m;
  for (let i = 0; i < l; i++) {
    const a = buf[start + i];
    const b = key[i];
    if (a !== b) return a < b ? -1 : 1;
  }
  return n - m;
}

/** Copies `src[from, from + n)` into `dst` at `at`; a loop beats subarray+set for short keys. */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n > 32) {
    dst.set(src.subarray(from, from + n), at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}

export class Block {
  /** Offset (within the block) of the restart array, which is also where entries end. */
  readonly entriesEnd: number;
  readonly restartCount: number;

  /**
   * @param data the block contents (no trailer), already checksum-verified.
   * @param path file name for error messages; `fileOffset` is where the block starts in it.
   * @param what "data" or "index", for error messages.
   */
  constructor(
    readonly data: Uint8Array,
    readonly path: string,
    readonly fileOffset: number,
    readonly what = "data",
  ) {
    const n = data.length;
    if (n < 4) throw corruption(path, `${what} block too short (${n} bytes)`, fileOffset);
    const count = (data[n - 4] | (data[n - 3] << 8) | (data[n - 2] << 16) | (data[n - 1] << 24)) >>> 0;
    if (count > (n - 4) / 4) throw corruption(path, `${what} block restart count ${count} out of range`, fileOffset);
    this.restartCount = count;
    this.entriesEnd = n - 4 - 4 * count;
    if (count === 0 && this.entriesEnd > 0) throw corruption(path, `${what} block has entries but no restart point`, fileOffset);
  }

  private fail(problem: string, at: number): never {
    throw corruption(this.path, `${problem} in ${this.what} block`, this.fileOffset + at);
  }

  /** Offset of the i-th restart point, checked to lie inside the entries area. */
  restartOffset(i: number): number {
    const d = this.data;
    const at = this.entriesEnd + 4 * i;
    const v = (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0;
    if (v >= this.entriesEnd) this.fail(`restart offset ${v} out of range`, at);
    return v;
  }

  private varint(p: number, what: string): number {
    const d = this.data;
    const limit = this.entriesEnd;
    if (p < limit) {
      const b = d[p];
      if (b < 0x80) {
        vPos = p + 1;
        return b;
      }
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= limit) this.fail(`truncated ${what}`, p);
      const b = d[p++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        vPos = p;
        return result;
      }
      scale *= 0x80;
    }
    return this.fail(`${what} too long`, p);
  }

  /** Decodes the entry header at `p` into the h* module variables and checks its lengths. */
  private parseHeader(p: number): void {
    const d = this.data;
    const limit = this.entriesEnd;
    // Fast path for the common case of small entries: the three lengths fit in one byte each.
    if (p + 4 < limit) {
      const a = d[p];
      const b = d[p + 1];
      const c = d[p + 2];
      const kind = d[p + 3];
      if ((a | b | c) < 0x80 && kind <= 1) {
        hShared = a;
        hUnshared = b;
        hValueLength = c;
        hKind = kind as Kind;
        const s0 = d[p + 4];
        if (s0 < 0x80) {
          hSeq = s0;
          hKeyStart = p + 5;
        } else {
          hSeq = this.varint(p + 4, "sequence number");
          hKeyStart = vPos;
        }
        if (hKeyStart + b + c > limit) this.fail("entry runs past the end of the block", p);
        return;
      }
    }
    hShared = this.varint(p, "shared key length");
    hUnshared = this.varint(vPos, "key length");
    hValueLength = this.varint(vPos, "value length");
    if (vPos >= limit) this.fail("truncated entry kind", vPos);
    const kind = d[vPos];
    if (kind > 1) this.fail(`unknown entry kind ${kind}`, vPos);
    hKind = kind as Kind;
    hSeq = this.varint(vPos + 1, "sequence number");
    hKeyStart = vPos;
    if (hKeyStart + hUnshared + hValueLength > limit) this.fail("entry runs past the end of the block", p);
  }

  /**
   * The newest version of `key` with seq <= `snapshotSeq`, or undefined. Binary search over
   * restart points in internal order (key asc, seq desc), then a scan of one interval.
   */
  get(key: Uint8Array, snapshotSeq: number): PointEntry | undefined {
    if (this.entriesEnd === 0) return undefined;
    const d = this.data;
    // Last restart point whose entry sorts before (key, snapshotSeq): the answer is at or after it.
    let lo = 0;
    let hi = this.restartCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const p = this.restartOffset(mid);
      this.parseHeader(p);
      if (hShared !== 0) this.fail("restart point with a shared key prefix", p);
      const c = compareRange(d, hKeyStart, hKeyStart + hUnshared, key);
      if (c < 0 || (c === 0 && hSeq > snapshotSeq)) lo = mid;
      else hi = mid - 1;
    }
    // Scan forward without rebuilding keys. Invariant: the previous key P shares exactly
    // `matched` leading bytes with `key`, and P < key (or P = key when `equal`). The
    // next key K shares `shared` bytes with P (fewer than possible at a restart point):
    //   shared > matched: K[matched] = P[matched] < key[matched], so K < key;
    //   otherwise K and key agree on their first `shared` bytes, and K's unshared bytes
    //   against key[shared..] decide.
    let p = this.restartOffset(lo);
    const limit = this.entriesEnd;
    const keyLength = key.length;
    let matched = 0;
    let previousLength = 0;
    let equal = false;
    while (p < limit) {
      this.parseHeader(p);
      const shared = hShared;
      const unshared = hUnshared;
      if (shared > previousLength) this.fail("shared key prefix longer than the previous key", p);
      if (shared <= matched) {
        const rest = keyLength - shared;
        const n = unshared < rest ? unshared : rest;
        const ks = hKeyStart;
        let j = 0;
        while (j < n && d[ks + j] === key[shared + j]) j++;
        if (j < n) {
          if (d[ks + j] > key[shared + j]) return undefined;
          matched = shared + j;
          equal = false;
        } else if (unshared < rest) {
          matched = shared + unshared; // K is a proper prefix of key
          equal = false;
        } else if (unshared === rest) {
          matched = keyLength;
          equal = true;
        } else {
          return undefined; // key is a proper prefix of K
        }
      }
      previousLength = shared + unshared;
      const valueStart = hKeyStart + unshared;
      if (equal && hSeq <= snapshotSeq) {
        return { seq: hSeq, kind: hKind, value: d.subarray(valueStart, valueStart + hValueLength) };
      }
      p = valueStart + hValueLength;
    }
    return undefined;
  }

  /** Decodes every entry into `out` (reusing its arrays). */
  decodeInto(out: DecodedBlock): void {
    const d = this.data;
    const limit = this.entriesEnd;
    const keys = out.keys;
    const seqs = out.seqs;
    const kinds = out.kinds;
    const valueStarts = out.valueStarts;
    const valueEnds = out.valueEnds;
    out.count = 0;
    out.data = d;
    let count = 0;
    let prev: Uint8Array = EMPTY;
    let p = 0;
    while (p < limit) {
      this.parseHeader(p);
      const shared = hShared;
      const unshared = hUnshared;
      if (shared > prev.length) this.fail("shared key prefix longer than the previous key", p);
      let key: Uint8Array;
      if (shared === 0) {
        key = d.subarray(hKeyStart, hKeyStart + unshared);
      } else if (unshared === 0 && shared === prev.length) {
        key = prev; // another version of the same key: share the object
      } else {
        key = new Uint8Array(shared + unshared);
        copyBytes(key, 0, prev, 0, shared);
        copyBytes(key, shared, d, hKeyStart, unshared);
      }
      const valueStart = hKeyStart + unshared;
      keys[count] = key;
      seqs[count] = hSeq;
      kinds[count] = hKind;
      valueStarts[count] = valueStart;
      p = valueStart + hValueLength;
      valueEnds[count] = p;
      count++;
      prev = key;
    }
    out.count = count;
  }
}

/** A block decoded into parallel arrays; reused from block to block by iterators. */
export class DecodedBlock {
  data: Uint8Array = EMPTY;
  count = 0;
  keys: Uint8Array[] = [];
  seqs: number[] = [];
  kinds: Kind[] = [];
  valueStarts: number[] = [];
  valueEnds: number[] = [];

  value(i: number): Uint8Array {
    return this.data.subarray(this.valueStarts[i], this.valueEnds[i]);
  }

  /** Index of the first entry whose key is >= target (count if none). */
  lowerBound(target: Uint8Array): number {
    let lo = 0;
    let hi = this.count;
    const keys = this.keys;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(keys[mid], target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first entry whose key is > target (count if none). */
  upperBound(target: Uint8Array): number {
    let lo = 0;
    let hi = this.count;
    const keys = this.keys;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(keys[mid], target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** An {@link EntryIterator} over a single block (the table iterator chains blocks itself). */
export class BlockIterator implements EntryIterator {
  private readonly entries = new DecodedBlock();
  private pos = -1;

  constructor(block: Block) {
    block.decodeInto(this.entries);
  }

  valid(): boolean {
    return this.pos >= 0 && this.pos < this.entries.count;
  }

  seek(target: Uint8Array): void {
    this.pos = this.entries.lowerBound(target);
  }

  seekForPrev(target: Uint8Array): void {
    this.pos = this.entries.upperBound(target) - 1;
  }

  seekToFirst(): void {
    this.pos = 0;
  }

  seekToLast(): void {
    this.pos = this.entries.count - 1;
  }

  next(): void {
    this.pos++;
  }

  prev(): void {
    this.pos--;
  }

  key(): Uint8Array {
    return this.entries.keys[this.pos];
  }

  seq(): number {
    return this.entries.seqs[this.pos];
  }

  kind(): Kind {
    return this.entries.kinds[this.pos];
  }

  value(): Uint8Array {
    return this.entries.value(this.pos);
  }
}
