/**
 * @module
 * Decides which versions a flush or compaction may drop (LevelDB `doc/impl.md`,
 * `DBImpl::DoCompactionWork`), refined to use every live snapshot, not just the oldest.
 *
 * Readers are the live snapshots plus the latest state. A reader at seq s sees, per key,
 * the newest version with seq <= s; the latest state sees every entry's newest version,
 * so it acts as a reader at +infinity and needs no sequence number. For the versions of
 * one key, newest → oldest:
 * - the newest version is kept;
 * - an older version v is kept only if some reader s has v.seq <= s < (seq of the next
 *   newer version) — otherwise every reader sees a newer version instead;
 * - with `bottommost` (no older data for this key exists below the output), a kept
 *   tombstone with no reader below its seq is dropped too: every reader sees it or
 *   something newer, all older versions are already dropped by the rule above, so
 *   "tombstone" and "no entry at all" read the same. (A tombstone that does have an
 *   older reader is kept even if no older version turns out to exist: deciding that
 *   would need look-ahead, and keeping it is always safe.)
 */
import { bytesEqual } from "./coding.ts";
import { KIND_DELETE, type Kind } from "./iterator.ts";

/**
 * A streaming keep/drop oracle: feed it every entry of the flush or compaction input in
 * internal order (key asc, seq desc) through {@link VersionFilter.keep}.
 */
export class VersionFilter {
  /** Reader seqs ascending: the snapshots, then +Infinity for the latest state. */
  private readonly readers: Float64Array;
  private prevKey: Uint8Array | null = null;
  private prevSeq = 0;

  /**
   * @param snapshots seqs of the live snapshots, any order.
   * @param bottommost whether no older version of a key can exist below this output; a
   *   function is asked per key, only for tombstones that could otherwise be dropped.
   */
  constructor(
    snapshots: readonly number[],
    private readonly bottommost: boolean | ((key: Uint8Array) => boolean),
  ) {
    const readers = new Float64Array(snapshots.length + 1);
    readers.set(snapshots);
    readers[snapshots.length] = Infinity;
    this.readers = readers.sort();
  }

  /**
   * Whether the entry (the next in internal order) must be written to the output.
   * Keeps a reference to `key` until the next call.
   */
  keep(key: Uint8Array, seq: number, kind: Kind): boolean {
    const sameKey = this.prevKey !== null && bytesEqual(this.prevKey, key);
    const newerSeq = sameKey ? this.prevSeq : Infinity;
    this.prevKey = key;
    this.prevSeq = seq;

    if (sameKey) {
      // The oldest reader that could see this version; it sees a newer one if one is <= it.
      if (this.firstReaderAtLeast(seq) >= newerSeq) return false;
    }
    if (kind === KIND_DELETE && seq <= this.readers[0]) {
      const bottom = this.bottommost;
      if (bottom === true || (bottom !== false && bottom(key))) return false;
    }
    return true;
  }

  /** The smallest reader seq >= seq (Infinity at worst). */
  private firstReaderAtLeast(seq: number): number {
    const readers = this.readers;
    let a = 0;
    let b = readers.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (readers[mid] < seq) a = mid + 1;
      else b = mid;
    }
    return readers[a];
  }
}
