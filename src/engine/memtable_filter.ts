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
 * never a wrong answer.
 */
import { fmix32 } from "./sstable/bloom.ts";

const LINE_BYTES = 64;
const LINE_BITS = 512;
const BITS_PER_KEY = 10;
const PROBES = 6;

export class MemTableFilter {
  private readonly bits: Uint8Array;
  private readonly lines: number;

  constructor(expectedKeys: number) {
    this.lines = Math.max(1, Math.ceil((expectedKeys * BITS_PER_KEY) / LINE_BITS));
    this.bits = new Uint8Array(this.lines * LINE_BYTES);
  }

  /** Records a key by its `bloomHash`. */
  add(hash: number): void {
    const bits = this.bits;
    const base = Math.floor((hash * this.lines) / 0x1_0000_0000) * LINE_BYTES;
    let g = fmix32(hash ^ 0x5bd1e995);
    for (let j = 0; j < PROBES; j++) {
      const bit = g >>> 23;
      bits[base + (bit >>> 3)] |= 1 << (bit & 7);
      g = Math.imul(g, 0x9e3779b9) >>> 0;
    }
  }

  /** False only when no key with this `bloomHash` was added. */
  mayContain(hash: number): boolean {
    const bits = this.bits;
    const base = Math.floor((hash * this.lines) / 0x1_0000_0000) * LINE_BYTES;
    let g = fmix32(hash ^ 0x5bd1e995);
    for (let j = 0; j < PROBES; j++) {
      const bit = g >>> 23;
      if ((bits[base + (bit >>> 3)] & (1 << (bit & 7))) === 0) return false;
      g = Math.imul(g, 0x9e3779b9) >>> 0;
    }
    return true;
  }
}
