/**
 * @module
 * The Bloom filter that lets a point lookup skip a table that cannot hold its key.
 *
 * Format: `ceil(max(64, n × bitsPerKey) / 8)` bytes of bit array, then one byte k (the
 * number of probes). Bit i lives in byte i >> 3 at bit position i & 7. Probes use double
 * hashing as in LevelDB's `util/bloom.cc`: h = murmur32v3(key, seed 0xbc9f1d34),
 * delta = h rotated right by 17 bits, probe j sets bit (h + j × delta mod 2^32) mod bits.
 * k = round(0.69 × bitsPerKey) clamped to 1..30 (0.69 ≈ ln 2 minimises false positives;
 * 10 bits per key gives about 1%).
 */
import { KvdbError } from "../errors.ts";

const HASH_SEED = 0xbc9f1d34;
/** Larger k values are reserved: a reader that meets one answers "may contain". */
const MAX_PROBES = 30;
const MIN_BITS = 64;

function bloomHash(key: Uint8Array): number {
  return Bun.hash.murmur32v3(key, HASH_SEED) >>> 0;
}

/** Collects the hashes of a table's distinct user keys and lays out the filter at the end. */
export class BloomFilterBuilder {
  private hashes = new Uint32Array(1024);
  private count = 0;
  private readonly bitsPerKey: number;
  private readonly probes: number;

  /** `bitsPerKey` > 0; 10 gives about 1% false positives. */
  constructor(bitsPerKey = 10) {
    if (!(bitsPerKey > 0) || !Number.isFinite(bitsPerKey)) {
      throw new KvdbError("INVALID_ARGUMENT", `bloom bits per key must be > 0, got ${bitsPerKey}`);
    }
    this.bitsPerKey = bitsPerKey;
    this.probes = Math.min(MAX_PROBES, Math.max(1, Math.round(bitsPerKey * 0.69)));
  }

  /** Adds one key; call once per distinct user key (repeats only waste bits). */
  addKey(key: Uint8Array): void {
    if (this.count === this.hashes.length) {
      const next = new Uint32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[this.count++] = bloomHash(key);
  }

  get keyCount(): number {
    return this.count;
  }

  finish(): Uint8Array {
    const bytes = Math.ceil(Math.max(MIN_BITS, Math.ceil(this.count * this.bitsPerKey)) / 8);
    const bits = bytes * 8;
    const filter = new Uint8Array(bytes + 1);
    const k = this.probes;
    for (let i = 0; i < this.count; i++) {
      let h = this.hashes[i];
      const delta = ((h >>> 17) | (h << 15)) >>> 0;
      for (let j = 0; j < k; j++) {
        const bit = h % bits;
        filter[bit >>> 3] |= 1 << (bit & 7);
        h = (h + delta) >>> 0;
      }
    }
    filter[bytes] = k;
    return filter;
  }
}

/**
 * False only if `key` was certainly not added. A filter this code cannot interpret
 * (too short, or k outside 1..30 from a future format) answers true, never a false negative.
 */
export function bloomMayContain(filter: Uint8Array, key: Uint8Array): boolean {
  const len = filter.length;
  if (len < 2) return true;
  const k = filter[len - 1];
  if (k < 1 || k > MAX_PROBES) return true;
  const bits = (len - 1) * 8;
  let h = bloomHash(key);
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let j = 0; j < k; j++) {
    const bit = h % bits;
    if ((filter[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}
