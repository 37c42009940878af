/**
 * @module
 * Reading a range index's entries (`keys.ts`: `prefix enc(value) esc(primary key) → ""`)
 * for queries: splitting an entry key into its value and primary key, counting the
 * entries in a set of value intervals, and collecting their primary keys in key order.
 *
 * Collected keys are kept as "binary" strings (each byte one UTF-16 code unit, 0..255):
 * JavaScript's default string sort then orders them exactly as their UTF-8 bytes, so a
 * list sorts without a comparator, and duplicates (one record under several values of an
 * array) end up adjacent. Only the keys a page reads are turned back into bytes.
 *
 * {@link RangeKeyCache} keeps collected lists for the next pages of the same query: a
 * list is valid only at the sequence number it was read at (any write makes it stale),
 * so a cached list is exactly what reading the index again would give.
 */
import type { ReadView } from "../engine/engine.ts";
import { binaryString, concatBytes, copyBytes } from "../engine/coding.ts";
import { corruption } from "../engine/errors.ts";
import { TAG_NULL, TAG_NUMBER, TAG_STRING, decodeEscaped } from "./value_codec.ts";
import type { ValueInterval } from "./range_bounds.ts";

const WHAT = "range index entry";

/** Offset just past the encoded value starting at `at` (the value's tag). */
export function valueEnd(key: Uint8Array, at: number): number {
  if (at >= key.length) throw corruption(WHAT, "missing value", at);
  const tag = key[at];
  if (tag >= TAG_NULL && tag < TAG_NUMBER) return at + 1;
  if (tag === TAG_NUMBER) {
    if (at + 9 > key.length) throw corruption(WHAT, "truncated number", at);
    return at + 9;
  }
  if (tag === TAG_STRING) return decodeEscaped(key, at + 1).end;
  throw corruption(WHAT, `unknown type tag 0x${tag.toString(16).padStart(2, "0")}`, at);
}

/**
 * The primary key of an entry whose value ends at `at`: a copy of its bytes when it holds
 * no escaped zero byte (the usual case; a short copy costs less than a subarray view),
 * else the unescaped bytes.
 */
export function primaryKeyOf(key: Uint8Array, at: number): Uint8Array {
  const n = key.length;
  // Fast path: the only 0x00 is the terminator's.
  if (n - at >= 2 && key[n - 2] === 0 && key[n - 1] === 1 && key.indexOf(0, at) === n - 2) return copyBytes(key, at, n - 2);
  const { bytes, end } = decodeEscaped(key, at);
  if (end !== n) throw corruption(WHAT, "bytes after the primary key", end);
  return bytes;
}

/** Whether `bytes` holds `prefix` at `at`. */
function startsWithAt(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (bytes.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Entries of the index at `prefix` with a value in `intervals`, up to `cap` (then cap + 1). */
export function countEntries(view: ReadView, prefix: Uint8Array, intervals: readonly ValueInterval[], cap: number): number {
  let n = 0;
  for (const iv of intervals) {
    const it = view.iterator(concatBytes([prefix, iv.lo]), concatBytes([prefix, iv.hi]));
    for (it.seekToFirst(); it.valid(); it.next()) if (++n > cap) return n;
  }
  return n;
}

export interface CollectedKeys {
  /** Distinct primary keys as binary strings, ascending (= UTF-8 byte order). */
  keys: string[];
  /** Index entries read. */
  entries: number;
}

/**
 * The distinct primary keys under `intervals` that start with `scope` (null: all), in
 * key order; undefined when more than `cap` entries would have to be kept.
 */
export function collectKeys(view: ReadView, prefix: Uint8Array, intervals: readonly ValueInterval[], scope: Uint8Array | null, cap: number): CollectedKeys | undefined {
  const keys: string[] = [];
  let entries = 0;
  const at = prefix.length;
  for (const iv of intervals) {
    const it = view.iterator(concatBytes([prefix, iv.lo]), concatBytes([prefix, iv.hi]));
    for (it.seekToFirst(); it.valid(); it.next()) {
      entries++;
      const key = it.key();
      const start = valueEnd(key, at);
      const n = key.length;
      let pk: string;
      if (n - start >= 2 && key[n - 2] === 0 && key[n - 1] === 1 && key.indexOf(0, start) === n - 2) {
        // No escaped zero: the key's bytes are in place (no subarray, which costs as much as the rest).
        if (scope !== null && !startsWithAt(key, start, scope)) continue;
        pk = binaryString(key, start, n - 2);
      } else {
        const bytes = primaryKeyOf(key, start);
        if (scope !== null && !startsWithAt(bytes, 0, scope)) continue;
        pk = binaryString(bytes);
      }
      if (keys.length === cap) return undefined;
      keys.push(pk);
    }
  }
  // In key order within one value; several values interleave keys, and arrays repeat them.
  if (!isAscending(keys)) keys.sort();
  let w = 0;
  for (let r = 0; r < keys.length; r++) if (r === 0 || keys[r] !== keys[w - 1]) keys[w++] = keys[r];
  keys.length = w;
  return { keys, entries };
}

/** True when the list is already ascending (one value's entries, say): no sort needed. */
function isAscending(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i] < keys[i - 1]) return false;
  return true;
}

interface CachedKeys {
  seq: number;
  keys: string[];
}

interface CachedCount {
  seq: number;
  /** The count, exact when ≤ `cap`; otherwise only known to exceed `cap`. */
  n: number;
  cap: number;
}

/** Counts of a range cached this many at most (they are small). */
const MAX_COUNTS = 256;

/**
 * Collected key lists and entry counts of recent queries, valid at the sequence number
 * they were read at: the next pages of a query, and the planner's estimates, reuse them
 * while nothing is written.
 */
export class RangeKeyCache {
  private readonly entries = new Map<string, CachedKeys>();
  private readonly counts = new Map<string, CachedCount>();
  private size = 0;

  /** `countEntries` through the cache: entries under `intervals` up to `cap` (then cap + 1). */
  count(view: ReadView, prefix: Uint8Array, intervals: readonly ValueInterval[], cap: number): number {
    const known = this.knownCount(view, prefix, intervals, cap);
    if (known !== undefined) return known;
    const n = countEntries(view, prefix, intervals, cap);
    this.noteCount(view, prefix, intervals, n, cap);
    return n;
  }

  /** What the cache knows of the count up to `cap` (as `count` would return it), or undefined. */
  knownCount(view: ReadView, prefix: Uint8Array, intervals: readonly ValueInterval[], cap: number): number | undefined {
    const hit = this.counts.get(rangeId(prefix, intervals));
    if (!hit || hit.seq !== view.seq) return undefined;
    if (hit.n <= hit.cap) return hit.n <= cap ? hit.n : cap + 1;
    return cap <= hit.cap ? cap + 1 : undefined;
  }

  /** Records a count found by reading (`n` > `cap` means "more than cap"). */
  noteCount(view: ReadView, prefix: Uint8Array, intervals: readonly ValueInterval[], n: number, cap: number): void {
    const id = rangeId(prefix, intervals);
    this.counts.delete(id);
    this.counts.set(id, { seq: view.seq, n, cap });
    if (this.counts.size > MAX_COUNTS) this.counts.delete(this.counts.keys().next().value!);
  }

  /** The newest sequence number a list was cached at: lists read at an older one are dead. */
  private newestSeq = -1;

  /** `maxKeys`: keys held over all lists; older lists are dropped first. */
  constructor(private readonly maxKeys = 2_000_000) {}

  /** Keys held over all lists (for tests and figures). */
  get keyCount(): number {
    return this.size;
  }

  get(id: string, seq: number): string[] | undefined {
    const hit = this.entries.get(id);
    if (!hit) return undefined;
    this.entries.delete(id);
    if (hit.seq !== seq) {
      this.size -= hit.keys.length;
      return undefined;
    }
    this.entries.set(id, hit); // Map order is the LRU order
    return hit.keys;
  }

  set(id: string, seq: number, keys: string[]): void {
    // A query's view sees the newest sequence number when it opens, so a list read at an
    // older one can never be asked for again: under a steady stream of writes, keeping
    // them would fill the cache with dead lists up to `maxKeys`.
    if (seq < this.newestSeq) return;
    if (seq > this.newestSeq) {
      this.newestSeq = seq;
      this.entries.clear();
      this.size = 0;
    }
    const old = this.entries.get(id);
    if (old) {
      this.size -= old.keys.length;
      this.entries.delete(id);
    }
    if (keys.length > this.maxKeys / 2) return;
    this.entries.set(id, { seq, keys });
    this.size += keys.length;
    for (const [k, e] of this.entries) {
      if (this.size <= this.maxKeys) break;
      this.entries.delete(k);
      this.size -= e.keys.length;
    }
  }
}

/** Identifies an index generation's value intervals (cache keys). */
export function rangeId(prefix: Uint8Array, intervals: readonly ValueInterval[]): string {
  return JSON.stringify([binaryString(prefix), intervals.map((i) => [binaryString(i.lo), binaryString(i.hi)])]);
}
