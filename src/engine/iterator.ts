/**
 * @module
 * The internal entry model and the iterator contract shared by MemTables, SSTables and
 * the merging iterator.
 *
 * Every write gets a sequence number. An entry is one version of one key:
 * (key bytes, seq, kind, value). Entries are ordered by key bytes ascending, then by
 * seq *descending*, so the newest version of a key comes first. A reader at snapshot S
 * sees, per key, the first entry with seq <= S; if that entry is a tombstone the key is
 * absent.
 */
import { compareBytes } from "./coding.ts";

export const KIND_DELETE = 0;
export const KIND_PUT = 1;
export type Kind = typeof KIND_DELETE | typeof KIND_PUT;

export interface Entry {
  key: Uint8Array;
  seq: number;
  kind: Kind;
  value: Uint8Array;
}

/** Internal order: key ascending, then seq descending (newest first). */
export function compareEntries(aKey: Uint8Array, aSeq: number, bKey: Uint8Array, bSeq: number): number {
  const c = compareBytes(aKey, bKey);
  if (c !== 0) return c;
  return aSeq > bSeq ? -1 : aSeq < bSeq ? 1 : 0;
}

/**
 * A synchronous cursor over entries in internal order (all versions). Positioning
 * methods never throw for "not found": they leave the iterator invalid instead.
 * Corrupt data throws a CORRUPTION KvdbError naming the file.
 */
export interface EntryIterator {
  valid(): boolean;
  /** First entry (any version) whose key is >= target. */
  seek(target: Uint8Array): void;
  /** Last entry whose key is <= target (that is, the oldest version of the largest such key). */
  seekForPrev(target: Uint8Array): void;
  seekToFirst(): void;
  seekToLast(): void;
  next(): void;
  prev(): void;
  key(): Uint8Array;
  seq(): number;
  kind(): Kind;
  value(): Uint8Array;
}
