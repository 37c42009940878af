/**
 * @module
 * The decoded index of one SSTable (the index block's entries: per data block, its last
 * user key and its handle), laid out for point lookups that touch little memory.
 *
 * A lookup binary-searches the blocks' last keys. Comparing `Uint8Array` objects costs a
 * native call and two or three cache lines per probe (the array slot, the object, its
 * bytes), so each last key also gets a *fingerprint* in one `Float64Array`: the 12 bytes
 * after the prefix that every last key of the table shares, as two 48-bit big-endian
 * numbers, zero-padded. Zero padding keeps byte order (fp(a) < fp(b) implies a < b), so a
 * probe compares numbers and falls back to the bytes only when the fingerprints are equal.
 * The block's offset and size sit next to its fingerprint (four numbers per block, two
 * blocks per cache line), so the line the search ends on also holds the handle.
 */
import { compareBytes, keyFingerprint as fingerprint } from "../coding.ts";

const EMPTY = new Uint8Array(0);

export class BlockIndex {
  /** Per data block, its last user key (strictly ascending). */
  readonly lastKeys: Uint8Array[];
  /** Bytes every last key starts with. */
  private readonly prefix: Uint8Array;
  /**
   * Four numbers per block: the fingerprint (bytes [p, p+6) and [p+6, p+12) after the
   * prefix), then the block's offset and size.
   */
  private readonly slots: Float64Array;

  /** `lastKeys` ascending; block i is `sizes[i]` bytes at `offsets[i]`. */
  constructor(lastKeys: Uint8Array[], offsets: number[], sizes: number[]) {
    const n = lastKeys.length;
    this.lastKeys = lastKeys;
    // Keys ascend, so the prefix all of them share is the one the first and last share.
    let prefix = EMPTY;
    if (n > 0) {
      const a = lastKeys[0];
      const b = lastKeys[n - 1];
      let p = 0;
      while (p < a.length && p < b.length && a[p] === b[p]) p++;
      prefix = a.slice(0, p);
    }
    this.prefix = prefix;
    const p = prefix.length;
    const slots = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      slots[4 * i] = fingerprint(lastKeys[i], p);
      slots[4 * i + 1] = fingerprint(lastKeys[i], p + 6);
      slots[4 * i + 2] = offsets[i];
      slots[4 * i + 3] = sizes[i];
    }
    this.slots = slots;
  }

  get count(): number {
    return this.lastKeys.length;
  }

  /** Where the i-th data block starts in the file. */
  offset(i: number): number {
    return this.slots[4 * i + 2];
  }

  /** Bytes of the i-th data block's contents (trailer excluded). */
  size(i: number): number {
    return this.slots[4 * i + 3];
  }

  /** Index of the first data block whose last key is >= `key` (count if none). */
  find(key: Uint8Array): number {
    const n = this.lastKeys.length;
    const prefix = this.prefix;
    const p = prefix.length;
    // Outside the shared prefix, the key sorts before or after every block.
    for (let i = 0; i < p; i++) {
      if (i >= key.length) return 0; // key is a proper prefix of every last key
      const a = key[i];
      const b = prefix[i];
      if (a !== b) return a < b ? 0 : n;
    }
    const hi = fingerprint(key, p);
    const lo = fingerprint(key, p + 6);
    const slots = this.slots;
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const h = slots[4 * mid];
      let before: boolean;
      if (h !== hi) before = h < hi;
      else {
        const l = slots[4 * mid + 1];
        before = l !== lo ? l < lo : compareBytes(this.lastKeys[mid], key) < 0;
      }
      if (before) a = mid + 1;
      else b = mid;
    }
    return a;
  }
}
