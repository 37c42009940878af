/**
 * @module
 * The Bloom filter that lets a point lookup skip a table that cannot hold its key.
 *
 * Format (blocked, "cache-local" as in RocksDB's FastLocalBloom): L lines of 64 bytes
 * (512 bits), L = max(1, ceil(n × bitsPerKey / 512)), then one byte k (the number of
 * probes) and one format byte 0xB1. All of a key's probes fall in one line, so a lookup
 * touches one cache line per table instead of k scattered ones:
 *
 *     h    = murmur32v3(key, seed 0xbc9f1d34)           (unsigned 32-bit)
 *     line = floor(h × L / 2^32)
 *     g    = fmix32(h ^ 0x5bd1e995)                      (murmur3's finalizer, unsigned)
 *     probe j = 0..k-1: bit (g >>> 23) of the line, then g = g × 0x9e3779b9 mod 2^32
 *
 * Bit i of a line lives in byte i >> 3 at bit position i & 7. k = round(0.69 × bitsPerKey)
 * clamped to 1..30 (10 bits per key: k = 7, about 1% false positives). The hash is
 * computed in JavaScript for short keys (3× cheaper than the native call) and by
 * `Bun.hash.murmur32v3` for long ones; both give the same value.
 *
 * Readers still accept the first format (LevelDB's `util/bloom.cc` layout: a bit array
 * followed by one byte k in 1..30, probes by double hashing over the whole array), which
 * tables written before the blocked format carry. A filter in neither format answers
 * "may contain", so a format a reader cannot read never causes a false negative — older
 * readers treat a blocked filter (last byte 0xB1 > 30) that way too.
 */
import { KvdbError } from "../errors.ts";

const HASH_SEED = 0xbc9f1d34;
/** Larger k values are reserved: a reader that meets one answers "may contain". */
const MAX_PROBES = 30;
/** Last byte of a blocked filter. */
export const BLOCKED_FORMAT = 0xb1;
const LINE_BYTES = 64;
const LINE_BITS = 512;
/** Longer keys are hashed natively; below this the JavaScript version is faster. */
const JS_HASH_MAX = 64;

/**
 * The hash every filter of this module starts from. A point lookup computes it once and
 * hands it to each filter it probes (the MemTables' and every table's on its path).
 */
export function bloomHash(key: Uint8Array): number {
  return murmur32(key, HASH_SEED);
}

/** MurmurHash3 x86_32 of `key` (the same value as `Bun.hash.murmur32v3`), unsigned. */
export function murmur32(key: Uint8Array, seed: number): number {
  const n = key.length;
  if (n > JS_HASH_MAX) return Bun.hash.murmur32v3(key, seed) >>> 0;
  let h = seed | 0;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail !== 0) {
    let k = key[blocks];
    if (tail > 1) k |= key[blocks + 1] << 8;
    if (tail > 2) k |= key[blocks + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ n);
}

/** Murmur3's finalizer: a bijection of 32-bit integers that mixes every bit; unsigned. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Probes per key for `bitsPerKey`. */
function probesFor(bitsPerKey: number): number {
  return Math.min(MAX_PROBES, Math.max(1, Math.round(bitsPerKey * 0.69)));
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
    this.probes = probesFor(bitsPerKey);
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
    const lines = Math.max(1, Math.ceil((this.count * this.bitsPerKey) / LINE_BITS));
    const bytes = lines * LINE_BYTES;
    const filter = new Uint8Array(bytes + 2);
    const k = this.probes;
    for (let i = 0; i < this.count; i++) setProbes(filter, lines, this.hashes[i], k);
    filter[bytes] = k;
    filter[bytes + 1] = BLOCKED_FORMAT;
    return filter;
  }
}

/**
 * False only if `key` was certainly not added. A filter this code cannot interpret
 * answers true, never a false negative.
 */
export function bloomMayContain(filter: Uint8Array, key: Uint8Array, hash?: number): boolean {
  const len = filter.length;
  if (len < 2) return true;
  const last = filter[len - 1];
  if (last === BLOCKED_FORMAT) {
    const bytes = len - 2;
    const k = filter[bytes];
    if (bytes === 0 || bytes % LINE_BYTES !== 0 || k < 1 || k > MAX_PROBES) return true;
    return probesSet(filter, bytes / LINE_BYTES, hash ?? bloomHash(key), k);
  }
  return legacyMayContain(filter, key, hash);
}

/**
 * Sets the `k` probes of `hash` in a blocked filter of `lines` 64-byte lines (the layout
 * above; shared with the MemTable's in-memory filter).
 */
export function setProbes(bits: Uint8Array, lines: number, hash: number, k: number): void {
  const base = Math.floor((hash * lines) / 0x1_0000_0000) * LINE_BYTES;
  let g = fmix32(hash ^ 0x5bd1e995);
  for (let j = 0; j < k; j++) {
    const bit = g >>> 23;
    bits[base + (bit >>> 3)] |= 1 << (bit & 7);
    g = Math.imul(g, 0x9e3779b9) >>> 0;
  }
}

/** Whether all `k` probes of `hash` are set in a blocked filter of `lines` lines. */
export function probesSet(bits: Uint8Array, lines: number, hash: number, k: number): boolean {
  const base = Math.floor((hash * lines) / 0x1_0000_0000) * LINE_BYTES;
  let g = fmix32(hash ^ 0x5bd1e995);
  for (let j = 0; j < k; j++) {
    const bit = g >>> 23;
    if ((bits[base + (bit >>> 3)] & (1 << (bit & 7))) === 0) return false;
    g = Math.imul(g, 0x9e3779b9) >>> 0;
  }
  return true;
}

/** The first filter format: a whole-table bit array, then k; double hashing. */
function legacyMayContain(filter: Uint8Array, key: Uint8Array, hash: number | undefined): boolean {
  const len = filter.length;
  const k = filter[len - 1];
  if (k < 1 || k > MAX_PROBES) return true;
  const bits = (len - 1) * 8;
  let h = hash ?? bloomHash(key);
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let j = 0; j < k; j++) {
    const bit = h % bits;
    if ((filter[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}
