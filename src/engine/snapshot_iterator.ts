/**
 * @module
 * The user-visible view of the data at a snapshot (LevelDB `db/db_iter.cc`).
 *
 * Wraps an EntryIterator in internal order (normally the MergingIterator over the
 * MemTables and SSTables) and yields each user key at most once, with its newest
 * version whose seq <= snapshot. Versions newer than the snapshot are skipped; a key
 * whose visible version is a tombstone is hidden. Optional bounds: `lower` inclusive,
 * `upper` exclusive.
 *
 * Forward, the inner iterator rests ON the visible entry. Backward, the entries of a key
 * arrive oldest first, so the iterator walks the whole group, remembers the newest
 * version <= snapshot, and rests just BEFORE the group (on the previous key's last
 * entry); next()/prev() switch between the two states.
 *
 * Returned key and value arrays are those of the inner iterator, which must not reuse
 * them after moving (MemTable and SSTable iterators return stable arrays). Comparing
 * each key with the previous one and with `upper` is the main per-entry cost, so cheap
 * tests come first: identical array objects (SSTable blocks share one key object between
 * versions), a differing last byte (neighbouring keys differ at the end), a first byte
 * below upper's.
 */
import { compareBytes } from "./coding.ts";
import { KIND_DELETE, type EntryIterator } from "./iterator.ts";
import type { CopyingIterator } from "./merging_iterator.ts";

const EMPTY = new Uint8Array(0);

/** Whether `a` and `b` (b !== a) hold the same bytes; tests the last byte before calling out. */
function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n === 0) return true;
  return a[n - 1] === b[n - 1] && compareBytes(a, b) === 0;
}

/**
 * A cursor over user keys at one snapshot: `seekToFirst()`/`seekToLast()`/`seek(key)`/
 * `seekForPrev(key)` to position, `next()`/`prev()` to move (either direction, any
 * time), `valid()`, `key()`, `value()`. `entries(reverse)` wraps it as a generator.
 */
export class SnapshotIterator {
  private isValid = false;
  private forward = true;
  private savedKey: Uint8Array = EMPTY;
  /** The current value while moving backward (forward reads the inner iterator). */
  private savedValue: Uint8Array = EMPTY;
  /** upper[0], or -1 when upper is empty or absent: a key whose first byte is below it is below upper. */
  private readonly upperFirst: number;
  private readonly innerCopies: boolean;

  /**
   * @param inner entries in internal order; the SnapshotIterator positions it itself.
   * @param snapshot versions with a larger seq are invisible.
   * @param lower smallest key yielded (inclusive), if any.
   * @param upper keys >= upper are not yielded (exclusive), if any.
   */
  constructor(
    private readonly inner: EntryIterator,
    private readonly snapshot: number,
    private readonly lower?: Uint8Array,
    private readonly upper?: Uint8Array,
  ) {
    this.upperFirst = upper !== undefined && upper.length > 0 ? upper[0] : -1;
    this.innerCopies = typeof (inner as Partial<CopyingIterator>).copyValue === "function";
  }

  valid(): boolean {
    return this.isValid;
  }

  /** The first visible key >= lower. */
  seekToFirst(): void {
    if (this.lower !== undefined) this.inner.seek(this.lower);
    else this.inner.seekToFirst();
    this.findNext(null);
  }

  /** The last visible key < upper. */
  seekToLast(): void {
    if (this.upper !== undefined) this.seekBelowUpper();
    else this.inner.seekToLast();
    this.findPrev();
  }

  /** The first visible key >= max(target, lower). */
  seek(target: Uint8Array): void {
    if (this.lower !== undefined && compareBytes(target, this.lower) < 0) target = this.lower;
    this.inner.seek(target);
    this.findNext(null);
  }

  /** The last visible key <= target (and < upper). */
  seekForPrev(target: Uint8Array): void {
    if (this.upper !== undefined && compareBytes(target, this.upper) >= 0) this.seekBelowUpper();
    else this.inner.seekForPrev(target);
    this.findPrev();
  }

  next(): void {
    this.checkValid();
    const inner = this.inner;
    if (this.forward) {
      inner.next();
    } else {
      // The inner iterator rests just before the current key's entries: step into them.
      if (inner.valid()) inner.next();
      else inner.seekToFirst();
    }
    this.findNext(this.savedKey);
  }

  prev(): void {
    this.checkValid();
    if (this.forward) {
      // Step back out of the current key's entries.
      const inner = this.inner;
      const key = this.savedKey;
      do inner.prev();
      while (inner.valid() && compareBytes(inner.key(), key) >= 0);
    }
    this.findPrev();
  }

  key(): Uint8Array {
    this.checkValid();
    return this.savedKey;
  }

  value(): Uint8Array {
    this.checkValid();
    return this.forward ? this.inner.value() : this.savedValue;
  }

  /** A private copy of the current value: what a caller that hands values out needs. */
  copyValue(): Uint8Array {
    this.checkValid();
    if (!this.forward) return this.savedValue.slice();
    return this.innerCopies ? (this.inner as CopyingIterator).copyValue() : this.inner.value().slice();
  }

  /** All visible [key, value] pairs from the first (or, reversed, the last) key. */
  *entries(reverse = false): Generator<[Uint8Array, Uint8Array]> {
    if (reverse) {
      for (this.seekToLast(); this.isValid; this.prev()) yield [this.savedKey, this.value()];
    } else {
      for (this.seekToFirst(); this.isValid; this.next()) yield [this.savedKey, this.inner.value()];
    }
  }

  private checkValid(): void {
    if (!this.isValid) throw new Error("SnapshotIterator used while not valid");
  }

  /** Positions the inner iterator on the last entry whose key is < upper. */
  private seekBelowUpper(): void {
    const inner = this.inner;
    const upper = this.upper!;
    inner.seekForPrev(upper);
    while (inner.valid() && compareBytes(inner.key(), upper) >= 0) inner.prev();
  }

  /**
   * Moves forward from the inner position to the next visible entry, first passing
   * over every entry of `skip` (the key just yielded), if given.
   */
  private findNext(skip: Uint8Array | null): void {
    this.forward = true;
    const inner = this.inner;
    const upper = this.upper;
    const snapshot = this.snapshot;
    const upperFirst = this.upperFirst;
    while (inner.valid()) {
      const key = inner.key();
      if (skip !== null && (key === skip || sameKey(key, skip))) {
        inner.next();
        continue;
      }
      if (upper !== undefined && !(key.length > 0 && key[0] < upperFirst) && compareBytes(key, upper) >= 0) break;
      if (inner.seq() > snapshot) {
        inner.next();
        continue;
      }
      // The first version <= snapshot of a new key is its visible version.
      if (inner.kind() === KIND_DELETE) {
        skip = key;
        inner.next();
        continue;
      }
      this.savedKey = key;
      this.isValid = true;
      return;
    }
    this.isValid = false;
  }

  /**
   * Moves backward from the inner position (the last entry of some key) to the previous
   * visible key: walks its group oldest → newest keeping the newest version <= snapshot,
   * and stops on the entry before the group.
   */
  private findPrev(): void {
    this.forward = false;
    const inner = this.inner;
    const lower = this.lower;
    const snapshot = this.snapshot;
    let found = false;
    while (inner.valid()) {
      const key = inner.key();
      if (lower !== undefined && compareBytes(key, lower) < 0) break;
      if (inner.seq() <= snapshot) {
        // A visible version of an earlier key: the group of savedKey is complete.
        if (found && key !== this.savedKey && compareBytes(key, this.savedKey) < 0) break;
        if (inner.kind() === KIND_DELETE) {
          found = false;
        } else {
          found = true;
          this.savedKey = key;
          this.savedValue = inner.value();
        }
      }
      inner.prev();
    }
    this.isValid = found;
    if (!found) {
      this.savedKey = EMPTY;
      this.savedValue = EMPTY;
    }
  }
}
