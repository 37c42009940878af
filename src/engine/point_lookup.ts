/**
 * @module
 * Point lookups through the MemTables and a Version: the newest visible version of a key
 * wins, searched newest data first (the MemTables newest first, then level 0's tables
 * newest first, then the one table per deeper level whose range holds the key).
 *
 * `lookupMany` answers many keys at once, source by source instead of key by key. The
 * answers are the same; what changes is the memory traffic. A key that no source holds
 * (every new record of a bulk load into an indexed scope, whose previous value the index
 * must read) costs a Bloom probe per MemTable and per table, each a cache line in a
 * different filter. Key by key, each probe waits for its line before the next key starts;
 * source by source, the probes of one filter run in a tight loop over independent keys,
 * which the CPU overlaps.
 */
import { keyFingerprint } from "./coding.ts";
import { KIND_PUT } from "./iterator.ts";
import type { MemTable } from "./memtable.ts";
import { bloomHash } from "./sstable/bloom.ts";
import { findFile, type TableHandle, type Version } from "./version.ts";

/** The value of `key` at `seq` in `mems` (newest first) and `version`; undefined when absent or deleted. */
export function lookup(key: Uint8Array, seq: number, mems: readonly MemTable[], version: Version): Uint8Array | undefined {
  // One hash for every filter on the way: the MemTables' and each table's.
  const hash = bloomHash(key);
  for (let i = 0; i < mems.length; i++) {
    const hit = mems[i].get(key, seq, hash);
    if (hit) return hit.kind === KIND_PUT ? hit.value : undefined;
  }
  // Plain loops: a generator here cost more than the search.
  const fp = keyFingerprint(key);
  const levels = version.levels;
  const l0 = levels[0];
  for (let i = 0; i < l0.length; i++) {
    const t = l0[i];
    if (!t.covers(key, fp)) continue;
    const hit = t.reader.get(key, seq, hash);
    if (hit) return hit.kind === KIND_PUT ? hit.value : undefined;
  }
  for (let level = 1; level < levels.length; level++) {
    const files = levels[level];
    if (files.length === 0) continue;
    const t = findFile(files, key, fp);
    if (t === undefined) continue;
    const hit = t.reader.get(key, seq, hash);
    if (hit) return hit.kind === KIND_PUT ? hit.value : undefined;
  }
  return undefined;
}

/** `lookup` of each key (the same answers, in the same order), one source at a time. */
export function lookupMany(keys: readonly Uint8Array[], seq: number, mems: readonly MemTable[], version: Version): (Uint8Array | undefined)[] {
  const n = keys.length;
  const out = new Array<Uint8Array | undefined>(n).fill(undefined);
  const hashes = new Array<number>(n);
  // Indexes of the keys no source has answered yet, compacted after each source.
  const pending = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    hashes[i] = bloomHash(keys[i]);
    pending[i] = i;
  }
  let left = n;
  for (let m = 0; m < mems.length && left > 0; m++) {
    const mem = mems[m];
    let kept = 0;
    for (let p = 0; p < left; p++) {
      const i = pending[p];
      const hit = mem.get(keys[i], seq, hashes[i]);
      if (hit) out[i] = hit.kind === KIND_PUT ? hit.value : undefined;
      else pending[kept++] = i;
    }
    left = kept;
  }
  if (left === 0) return out;
  const fps = new Array<number>(n);
  for (let p = 0; p < left; p++) fps[pending[p]] = keyFingerprint(keys[pending[p]]);
  const levels = version.levels;
  const l0 = levels[0];
  for (let t = 0; t < l0.length && left > 0; t++) left = searchTable(l0[t], keys, hashes, fps, seq, pending, left, out);
  for (let level = 1; level < levels.length && left > 0; level++) {
    const files = levels[level];
    if (files.length === 0) continue;
    let kept = 0;
    for (let p = 0; p < left; p++) {
      const i = pending[p];
      const t = findFile(files, keys[i], fps[i]);
      const hit = t === undefined ? undefined : t.reader.get(keys[i], seq, hashes[i]);
      if (hit) out[i] = hit.kind === KIND_PUT ? hit.value : undefined;
      else pending[kept++] = i;
    }
    left = kept;
  }
  return out;
}

/** Looks the pending keys up in one level-0 table; returns how many are still pending. */
function searchTable(
  t: TableHandle,
  keys: readonly Uint8Array[],
  hashes: readonly number[],
  fps: readonly number[],
  seq: number,
  pending: Int32Array,
  left: number,
  out: (Uint8Array | undefined)[],
): number {
  let kept = 0;
  for (let p = 0; p < left; p++) {
    const i = pending[p];
    const hit = t.covers(keys[i], fps[i]) ? t.reader.get(keys[i], seq, hashes[i]) : undefined;
    if (hit) out[i] = hit.kind === KIND_PUT ? hit.value : undefined;
    else pending[kept++] = i;
  }
  return kept;
}
