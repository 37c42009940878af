/**
 * @module
 * A Bloom filter over the keys of one MemTable (RocksDB's "memtable whole key
 * filtering"). A point lookup for a key the MemTable does not hold — each previous-value
 * read while new keys are loaded into an indexed scope, each read of a key that lives in
 * an SSTable — costs one cache line instead of a tree search. In memory only; the hash
 * and the line layout are those of the SSTable filter (`sstable/bloom.ts`), so a lookup
 * hashes its key once for every filter on its path.
 *
 * Sized at creation for an expected number of keys: more keys only raise the false
 * positive rate (a false positive costs the tree search the filter would have saved),
 * never a wrong answer. The index layer's filter of existing keys
 * (`indexing/key_presence.ts`) is a chain of these.
 */
import { probesSet, setProbes } from "./sstable/bloom.ts";

const LINE_BITS = 512;
const BITS_PER_KEY = 10;
const PROBES = 6;
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
});

export class MemTableFilter {
  private readonly bits: Uint8Array;
  private readonly lines: number;

  constructor(expectedKeys: number) {
    this.lines = Math.max(1, Math.ceil((expectedKeys * BITS_PER_KEY) / LINE_BITS));
    this.bits = new Uint8Array(this.lines * (LINE_BITS / 8));
  }

  /** Memory held by the bit array. */
  get bytes(): number {
    return this.bits.length;
  }

  /**
   * About how many distinct keys were added, from the share of bits set (the standard
   * estimate n = -(m/k)·ln(1 - X/m)); reads the whole bit array.
   */
  estimatedKeys(): number {
    let set = 0;
    for (let i = 0; i < this.bits.length; i++) set += POPCOUNT[this.bits[i]];
    const m = this.bits.length * 8;
    if (set >= m) return Infinity;
    return set === 0 ? 0 : Math.round((-m / PROBES) * Math.log(1 - set / m));
  }

  /** Records a key by its `bloomHash`. */
  add(hash: number): void {
    setProbes(this.bits, this.lines, hash, PROBES);
  }

  /** False only when no key with this `bloomHash` was added. */
  mayContain(hash: number): boolean {
    return probesSet(this.bits, this.lines, hash, PROBES);
  }
}
