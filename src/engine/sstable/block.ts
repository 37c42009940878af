/**
 * @module
 * Reads one block written by {@link BlockBuilder} (format in block_builder.ts): a point
 * lookup that binary-searches the restart points and decodes at most one restart
 * interval, and a whole-block decode into parallel arrays for iteration (which makes
 * `prev` as cheap as `next`).
 *
 * A Block is a small cursor over `data[start, end)`, where `data` is normally the whole
 * mapped table file: the table reader re-targets one Block per lookup (`reset`) instead
 * of allocating a subarray and a Block for every block it touches, and every position
 * (restart offsets aside, which the format stores relative to the block) is absolute in
 * `data`.
 *
 * Entry headers are decoded here by hand rather than through ByteReader because this is
 * the hottest loop of every read; every length is still checked against the end of the
 * entries area, and a bad one becomes a CORRUPTION error naming the file and the offset.
 */
import { compareBytes, copyBytes } from "../coding.ts";
import { corruption } from "../errors.ts";
import type { EntryIterator, Kind } from "../iterator.ts";

/** One version of a key, as returned by a point lookup. `value` is a view into the table file. */
export interface PointEntry {
  seq: number;
  kind: Kind;
  value: Uint8Array;
}

const EMPTY = new Uint8Array(0);

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

export class Block {
  // Results of parseHeader and varint, in fields so that decoding allocates nothing per
  // entry. (Instance fields, not module variables: JSC checks module-level `let`s for
  // their temporal dead zone on every access, which made lookups twice as slow.)
  private hShared = 0;
  private hUnshared = 0;
  private hValueLength = 0;
  private hKind: Kind = 0;
  private hSeq = 0;
  private hKeyStart = 0;
  private vPos = 0;
  /** The buffer holding the block; the block is `data[start, end)`. */
  data: Uint8Array = EMPTY;
  start = 0;
  /** Absolute position in `data` of the restart array, which is also where entries end. */
  entriesEnd = 0;
  restartCount = 0;
  /** Where `start` lies in the file, for error messages. */
  fileOffset = 0;
  /** The entry found by the last successful {@link find}. */
  foundSeq = 0;
  foundKind: Kind = 0;
  foundValueLength = 0;

  /**
   * @param data the block contents (no trailer), already checksum-verified.
   * @param path file name for error messages; `fileOffset` is where the block starts in it.
   * @param what "data" or "index", for error messages.
   */
  constructor(
    data: Uint8Array,
    readonly path: string,
    fileOffset: number,
    readonly what = "data",
  ) {
    this.reset(data, 0, data.length, fileOffset);
  }

  /**
   * Re-targets this Block at `data[start, end)` (checksum-verified contents, no trailer),
   * which lies at `fileOffset` in the file. Checks the restart array; returns this.
   */
  reset(data: Uint8Array, start: number, end: number, fileOffset: number): this {
    const n = end - start;
    const what = this.what;
    if (n < 4) throw corruption(this.path, `${what} block too short (${n} bytes)`, fileOffset);
    const count = (data[end - 4] | (data[end - 3] << 8) | (data[end - 2] << 16) | (data[end - 1] << 24)) >>> 0;
    if (count > (n - 4) / 4) throw corruption(this.path, `${what} block restart count ${count} out of range`, fileOffset);
    const entriesEnd = end - 4 - 4 * count;
    if (count === 0 && entriesEnd > start) throw corruption(this.path, `${what} block has entries but no restart point`, fileOffset);
    this.data = data;
    this.start = start;
    this.fileOffset = fileOffset;
    this.restartCount = count;
    this.entriesEnd = entriesEnd;
    return this;
  }

  private fail(problem: string, at: number): never {
    throw corruption(this.path, `${problem} in ${this.what} block`, this.fileOffset + (at - this.start));
  }

  /** Absolute position of the i-th restart point, checked to lie inside the entries area. */
  restartOffset(i: number): number {
    const d = this.data;
    const at = this.entriesEnd + 4 * i;
    const v = (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0;
    if (v >= this.entriesEnd - this.start) this.fail(`restart offset ${v} out of range`, at);
    return this.start + v;
  }

  /** The varint at `p` (sets vPos to the byte after it); at most 8 bytes, inside the entries. */
  private varint(p: number, what: string): number {
    const d = this.data;
    // Up to 3 bytes (values below 2^21: lengths, and seqs of the first two million writes) inline.
    if (p + 2 < this.entriesEnd) {
      const b0 = d[p];
      if (b0 < 0x80) {
        this.vPos = p + 1;
        return b0;
      }
      const b1 = d[p + 1];
      if (b1 < 0x80) {
        this.vPos = p + 2;
        return (b0 & 0x7f) | (b1 << 7);
      }
      const b2 = d[p + 2];
      if (b2 < 0x80) {
        this.vPos = p + 3;
        return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
      }
    }
    return this.longVarint(p, what);
  }

  private longVarint(p: number, what: string): number {
    const d = this.data;
    const limit = this.entriesEnd;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= limit) this.fail(`truncated ${what}`, p);
      const b = d[p++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.vPos = p;
        return result;
      }
      scale *= 0x80;
    }
    return this.fail(`${what} too long`, p);
  }

  /** Decodes the entry header at `p` into the h* fields and checks its lengths. */
  private parseHeader(p: number): void {
    if (!this.parseShortHeader(p)) this.parseAnyHeader(p);
    if (this.hKeyStart + this.hUnshared + this.hValueLength > this.entriesEnd) this.fail("entry runs past the end of the block", p);
  }

  /**
   * The common header, decoded without calls: one-byte key lengths, a value length and
   * a seq below 2^21, a valid kind. False (nothing decoded) for anything else.
   */
  private parseShortHeader(p: number): boolean {
    const d = this.data;
    if (p + 10 > this.entriesEnd) return false;
    const shared = d[p];
    const unshared = d[p + 1];
    if ((shared | unshared) >= 0x80) return false;
    let q = p + 2;
    let b = d[q++];
    let valueLength = b & 0x7f;
    if (b >= 0x80) {
      b = d[q++];
      valueLength |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = d[q++];
        if (b >= 0x80) return false;
        valueLength |= b << 14;
      }
    }
    const kind = d[q++];
    if (kind > 1) return false;
    b = d[q++];
    let seq = b & 0x7f;
    if (b >= 0x80) {
      b = d[q++];
      seq |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = d[q++];
        if (b >= 0x80) return false;
        seq |= b << 14;
      }
    }
    this.hShared = shared;
    this.hUnshared = unshared;
    this.hValueLength = valueLength;
    this.hKind = kind as Kind;
    this.hSeq = seq;
    this.hKeyStart = q;
    return true;
  }

  /** Any header, through {@link varint}: long lengths, large seqs, and every error. */
  private parseAnyHeader(p: number): void {
    const d = this.data;
    const limit = this.entriesEnd;
    this.hShared = this.varint(p, "shared key length");
    this.hUnshared = this.varint(this.vPos, "key length");
    this.hValueLength = this.varint(this.vPos, "value length");
    if (this.vPos >= limit) this.fail("truncated entry kind", this.vPos);
    const kind = d[this.vPos];
    if (kind > 1) this.fail(`unknown entry kind ${kind}`, this.vPos);
    this.hKind = kind as Kind;
    this.hSeq = this.varint(this.vPos + 1, "sequence number");
    this.hKeyStart = this.vPos;
  }

  /**
   * The newest version of `key` with seq <= `snapshotSeq`, or undefined. Binary search over
   * restart points in internal order (key asc, seq desc), then a scan of one interval.
   */
  get(key: Uint8Array, snapshotSeq: number): PointEntry | undefined {
    const p = this.find(key, snapshotSeq);
    if (p < 0) return undefined;
    return { seq: this.foundSeq, kind: this.foundKind, value: this.data.subarray(p, p + this.foundValueLength) };
  }

  /**
   * Like {@link get}, but allocation-free: the position in `data` of the value of the
   * newest version of `key` with seq <= `snapshotSeq`, or -1. On success, `foundSeq`,
   * `foundKind` and `foundValueLength` describe that entry.
   */
  find(key: Uint8Array, snapshotSeq: number): number {
    if (this.entriesEnd === this.start) return -1;
    const d = this.data;
    // The answer is at or after the last restart point whose entry sorts before (key, snapshotSeq).
    const lo = this.restartBefore(key, snapshotSeq);
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
      const shared = this.hShared;
      const unshared = this.hUnshared;
      if (shared > previousLength) this.fail("shared key prefix longer than the previous key", p);
      if (shared <= matched) {
        const rest = keyLength - shared;
        const n = unshared < rest ? unshared : rest;
        const ks = this.hKeyStart;
        let j = 0;
        while (j < n && d[ks + j] === key[shared + j]) j++;
        if (j < n) {
          if (d[ks + j] > key[shared + j]) return -1;
          matched = shared + j;
          equal = false;
        } else if (unshared < rest) {
          matched = shared + unshared; // K is a proper prefix of key
          equal = false;
        } else if (unshared === rest) {
          matched = keyLength;
          equal = true;
        } else {
          return -1; // key is a proper prefix of K
        }
      }
      previousLength = shared + unshared;
      const valueStart = this.hKeyStart + unshared;
      if (equal && this.hSeq <= snapshotSeq) {
        this.foundSeq = this.hSeq;
        this.foundKind = this.hKind;
        this.foundValueLength = this.hValueLength;
        return valueStart;
      }
      p = valueStart + this.hValueLength;
    }
    return -1;
  }

  /**
   * The last restart point whose entry sorts before (`target`, `seq`) in internal order
   * (0 if none). With the default seq, the last one whose key sorts before `target`: the
   * entries from there on hold every entry >= target and the last one <= target.
   */
  restartBefore(target: Uint8Array, seq = Infinity): number {
    const d = this.data;
    let lo = 0;
    let hi = this.restartCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const p = this.restartOffset(mid);
      this.parseHeader(p);
      if (this.hShared !== 0) this.fail("restart point with a shared key prefix", p);
      const c = compareRange(d, this.hKeyStart, this.hKeyStart + this.hUnshared, target);
      if (c < 0 || (c === 0 && this.hSeq > seq)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Decodes the entries from restart point `fromRestart` up to restart point `toRestart`
   * (defaults: the whole block) into `out`, reusing its arrays. An iterator positioned
   * near the end of a block (a seek, a backward scan) decodes one restart interval
   * instead of the whole block and decodes earlier intervals only if it walks there.
   */
  decodeInto(out: DecodedBlock, fromRestart = 0, toRestart = this.restartCount): void {
    const d = this.data;
    const limit = toRestart >= this.restartCount ? this.entriesEnd : this.restartOffset(toRestart);
    out.count = 0;
    out.data = d;
    out.fromRestart = fromRestart;
    out.reserve((Math.min(toRestart, this.restartCount) - fromRestart) * 16);
    let keys = out.keys;
    let seqs = out.seqs;
    let kinds = out.kinds;
    let valueStarts = out.valueStarts;
    let valueEnds = out.valueEnds;
    let count = 0;
    let prev: Uint8Array = EMPTY;
    // A restart point's entry shares nothing with its predecessor (checked below).
    let p = fromRestart === 0 ? this.start : this.restartOffset(fromRestart);
    while (p < limit) {
      this.parseHeader(p);
      const shared = this.hShared;
      const unshared = this.hUnshared;
      const prevLength = prev.length;
      if (shared > prevLength) this.fail("shared key prefix longer than the previous key", p);
      let key: Uint8Array;
      if (shared === 0) {
        key = copyBytes(d, this.hKeyStart, this.hKeyStart + unshared);
      } else if (unshared === 0 && shared === prevLength) {
        key = prev; // another version of the same key: share the object
      } else {
        const n = shared + unshared;
        // A loop beats subarray + set (two native calls and a view object) up to a few hundred bytes.
        if (n > 256) {
          key = new Uint8Array(n);
          key.set(shared === prevLength ? prev : prev.subarray(0, shared));
          key.set(d.subarray(this.hKeyStart, this.hKeyStart + unshared), shared);
        } else {
          key = new Uint8Array(n);
          for (let i = 0; i < shared; i++) key[i] = prev[i];
          const ks = this.hKeyStart - shared;
          for (let i = shared; i < n; i++) key[i] = d[ks + i];
        }
      }
      if (count === seqs.length) {
        out.reserve(count + 1);
        keys = out.keys;
        seqs = out.seqs;
        kinds = out.kinds;
        valueStarts = out.valueStarts;
        valueEnds = out.valueEnds;
      }
      const valueStart = this.hKeyStart + unshared;
      keys[count] = key;
      seqs[count] = this.hSeq;
      kinds[count] = this.hKind;
      valueStarts[count] = valueStart;
      p = valueStart + this.hValueLength;
      valueEnds[count] = p;
      count++;
      prev = key;
    }
    out.count = count;
  }
}

/**
 * A block decoded into parallel arrays; reused from block to block by iterators. Value
 * positions are absolute in `data` (normally the whole mapped file).
 */
export class DecodedBlock {
  data: Uint8Array = EMPTY;
  count = 0;
  /** The restart point the decoded entries start at (0: the whole block). */
  fromRestart = 0;
  keys: Uint8Array[] = [];
  seqs = new Float64Array(0);
  kinds = new Uint8Array(0);
  valueStarts = new Float64Array(0);
  valueEnds = new Float64Array(0);

  /** Puts the entries of `head` (the restart intervals just before these) in front. */
  prepend(head: DecodedBlock): void {
    const n = head.count;
    const count = this.count;
    this.reserve(count + n);
    this.seqs.copyWithin(n, 0, count);
    this.kinds.copyWithin(n, 0, count);
    this.valueStarts.copyWithin(n, 0, count);
    this.valueEnds.copyWithin(n, 0, count);
    const keys = this.keys;
    for (let i = count - 1; i >= 0; i--) keys[i + n] = keys[i];
    for (let i = 0; i < n; i++) {
      keys[i] = head.keys[i];
      this.seqs[i] = head.seqs[i];
      this.kinds[i] = head.kinds[i];
      this.valueStarts[i] = head.valueStarts[i];
      this.valueEnds[i] = head.valueEnds[i];
    }
    this.count = count + n;
    this.fromRestart = head.fromRestart;
  }

  /** Makes room for at least `n` entries (the arrays may be replaced). */
  reserve(n: number): void {
    if (n <= this.seqs.length) return;
    const size = Math.max(n, 2 * this.seqs.length, 32);
    const grow = <T extends Float64Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.seqs = grow(this.seqs, new Float64Array(size));
    this.kinds = grow(this.kinds, new Uint8Array(size));
    this.valueStarts = grow(this.valueStarts, new Float64Array(size));
    this.valueEnds = grow(this.valueEnds, new Float64Array(size));
  }

  /** A view of the i-th value (into the table file). */
  value(i: number): Uint8Array {
    return this.data.subarray(this.valueStarts[i], this.valueEnds[i]);
  }

  /** A private copy of the i-th value. */
  copyValue(i: number): Uint8Array {
    return this.data.slice(this.valueStarts[i], this.valueEnds[i]);
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
    return this.entries.kinds[this.pos] as Kind;
  }

  value(): Uint8Array {
    return this.entries.value(this.pos);
  }

  /** A private copy of the current value. */
  copyValue(): Uint8Array {
    return this.entries.copyValue(this.pos);
  }
}
