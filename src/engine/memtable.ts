/**
 * @module
 * The MemTable: the in-memory, multi-version write buffer in front of the SSTables.
 *
 * Entries are kept in internal order — key bytes ascending, then seq descending, so the
 * newest version of a key comes first; every (key, seq) pair is unique.
 *
 * Structure: an in-memory B+tree whose leaves hold up to 64 entries and are linked both
 * ways, so insert and lookup cost O(log n) and iteration in either direction is O(1)
 * per step. A skiplist (LevelDB `db/skiplist.h`) was measured first: on this kind of
 * machine a random cache miss costs ~125 ns and a skiplist search is a chain of ~30
 * of them, so 1M random 16-byte inserts took ~3.4 s; this tree does them in ~0.8 s.
 * To keep searches inside contiguous memory, every slot caches its key's first 18
 * bytes as three 48-bit numbers (zero-padded, so they order like the bytes) next to its
 * seq in one Float64Array; only ties on those 18 bytes load the key (`Buffer.compare`).
 * (With 12 bytes, keys like `user:07:00012345` tied on nearly every probe, and each tie
 * was a cache miss on a key object: a third of a warm point read.)
 * Appends at the right edge split leaves unevenly so key-ordered loads fill them.
 *
 * Live iterators: an insert may shift entries inside a leaf or move half of them to a
 * new leaf. Each leaf has a version bumped by every such change; an iterator remembers
 * its current entry and, when its leaf's version moved, finds that entry again by
 * (key, seq) — entries are never removed, so it is always there. Hence an iterator held
 * across awaits while writers add entries never crashes, skips or repeats an entry that
 * existed when it was positioned; newer entries may or may not be seen (readers filter
 * them by snapshot seq).
 *
 * Point lookups first ask a Bloom filter of the MemTable's keys (`memtable_filter.ts`),
 * so a key that is not here costs a hash and one cache line, not a tree search.
 *
 * The MemTable keeps references to the key and value arrays it is given: callers must
 * not mutate them afterwards (nor arrays returned by its iterators).
 */
import type { EntryIterator, Kind } from "./iterator.ts";
import { MemTableFilter } from "./memtable_filter.ts";
import { bloomHash } from "./sstable/bloom.ts";

/** Entries per leaf and children per inner node. */
const FANOUT = 64;
/** Float64 slots per entry in `nums`: key bytes 0..5, 6..11 and 12..17 as numbers, then seq. */
const STRIDE = 4;
/** Estimated bytes per entry besides key and value bytes: tree slot plus the two array objects. */
const ENTRY_OVERHEAD = 96;

const compare = Buffer.compare;
const EMPTY = new Uint8Array(0);

/** Bytes 0..5 of `k` as a big-endian number, zero-padded: orders like the bytes; a tie decides nothing. */
function prefixHigh(k: Uint8Array): number {
  if (k.length >= 6) return ((k[0] << 16) | (k[1] << 8) | k[2]) * 0x1000000 + ((k[3] << 16) | (k[4] << 8) | k[5]);
  return paddedPrefix(k, 0);
}

/** Bytes 6..11 of `k`, as {@link prefixHigh}. */
function prefixLow(k: Uint8Array): number {
  if (k.length >= 12) return ((k[6] << 16) | (k[7] << 8) | k[8]) * 0x1000000 + ((k[9] << 16) | (k[10] << 8) | k[11]);
  return paddedPrefix(k, 6);
}

/** Bytes 12..17 of `k`, as {@link prefixHigh}. */
function prefixTail(k: Uint8Array): number {
  if (k.length >= 18) return ((k[12] << 16) | (k[13] << 8) | k[14]) * 0x1000000 + ((k[15] << 16) | (k[16] << 8) | k[17]);
  return paddedPrefix(k, 12);
}

function paddedPrefix(k: Uint8Array, from: number): number {
  let v = 0;
  for (let i = from; i < from + 6; i++) v = v * 256 + (i < k.length ? k[i] : 0);
  return v;
}

/**
 * Copies `src[from, to)` to `dst` at `at`. (A loop: `dst.set(src.subarray(..))` makes
 * JSC create an ArrayBuffer for `src`, which costs more than copying a few slots.)
 */
function copySlots(dst: Float64Array, at: number, src: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) dst[at + i - from] = src[i];
}

/** A leaf: up to FANOUT entries in internal order, linked to its neighbours. */
class Leaf {
  n = 0;
  /** Bumped whenever entries in this leaf move; iterators compare it to relocate. */
  version = 0;
  readonly nums = new Float64Array(FANOUT * STRIDE);
  readonly keys: Uint8Array[] = new Array<Uint8Array>(FANOUT).fill(EMPTY);
  readonly values: Uint8Array[] = new Array<Uint8Array>(FANOUT).fill(EMPTY);
  readonly kinds = new Uint8Array(FANOUT);
  next: Leaf | null = null;
  prev: Leaf | null = null;
}

/**
 * An inner node: child i holds the entries from separator i (the smallest entry of
 * child i, stored in slot i) up to separator i + 1. Slot 0 is kept but never compared.
 */
class Inner {
  n = 0;
  readonly nums = new Float64Array(FANOUT * STRIDE);
  readonly keys: Uint8Array[] = new Array<Uint8Array>(FANOUT).fill(EMPTY);
  readonly kids: (Inner | Leaf)[] = [];
}

/**
 * Index of the first slot in [from, n) whose entry is not before the target
 * (key with prefix numbers hi, lo, tail; seq) in internal order; n if none.
 */
function lowerBound(
  nums: Float64Array,
  keys: Uint8Array[],
  from: number,
  n: number,
  key: Uint8Array,
  hi: number,
  lo: number,
  tail: number,
  seq: number,
): number {
  let a = from;
  let b = n;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const at = mid * STRIDE;
    let before: boolean;
    const h = nums[at];
    if (h !== hi) before = h < hi;
    else {
      const l = nums[at + 1];
      if (l !== lo) before = l < lo;
      else {
        const t = nums[at + 2];
        if (t !== tail) before = t < tail;
        else {
          // Equal first 18 bytes (rare for short keys): only now load the key itself.
          const c = key.length <= 18 && keys[mid].length <= 18 ? keys[mid].length - key.length : compare(keys[mid], key);
          before = c < 0 || (c === 0 && nums[at + 3] > seq);
        }
      }
    }
    if (before) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** One version of a key as stored in the MemTable. */
export interface MemTableVersion {
  readonly seq: number;
  readonly kind: Kind;
  readonly value: Uint8Array;
}

/** An ordered multi-version map from (key, seq) to (kind, value). */
export class MemTable {
  private root: Inner | Leaf = new Leaf();
  /** Number of Inner levels above the leaves. */
  private depth = 0;
  /** The leftmost leaf never changes: splits keep the left half in place. */
  private readonly firstLeaf: Leaf = this.root as Leaf;
  private lastLeaf: Leaf = this.firstLeaf;
  private bytes = 0;
  private count = 0;
  /** Reused by add(): the inner nodes and child indexes on the way down. */
  private readonly path: Inner[] = [];
  private readonly pathIdx: number[] = [];
  private readonly filter: MemTableFilter;

  /** `capacityBytes`: about how many bytes it will hold before it is flushed (sizes its key filter). */
  constructor(capacityBytes = 1024 * 1024) {
    this.filter = new MemTableFilter(Math.ceil(capacityBytes / (ENTRY_OVERHEAD + 16)));
  }

  /** Bytes held, approximately: keys + values + per-entry overhead. Decides when the MemTable is full. */
  get approximateBytes(): number {
    return this.bytes;
  }

  get entryCount(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /**
   * Inserts one version. (key, seq) must not already be present; seqs normally grow
   * over time, but any order is accepted.
   */
  add(key: Uint8Array, seq: number, kind: Kind, value: Uint8Array): void {
    this.filter.add(bloomHash(key));
    const hi = prefixHigh(key);
    const lo = prefixLow(key);
    const tail = prefixTail(key);
    let node = this.root;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as Inner;
      const i = lowerBound(inner.nums, inner.keys, 1, inner.n, key, hi, lo, tail, seq) - 1;
      this.path[d] = inner;
      this.pathIdx[d] = i;
      node = inner.kids[i];
    }
    const leaf = node as Leaf;
    const pos = lowerBound(leaf.nums, leaf.keys, 0, leaf.n, key, hi, lo, tail, seq);

    const n = leaf.n;
    const nums = leaf.nums;
    if (pos < n) {
      nums.copyWithin((pos + 1) * STRIDE, pos * STRIDE, n * STRIDE);
      leaf.kinds.copyWithin(pos + 1, pos, n);
      const keys = leaf.keys;
      const values = leaf.values;
      for (let i = n; i > pos; i--) {
        keys[i] = keys[i - 1];
        values[i] = values[i - 1];
      }
    }
    const at = pos * STRIDE;
    nums[at] = hi;
    nums[at + 1] = lo;
    nums[at + 2] = tail;
    nums[at + 3] = seq;
    leaf.keys[pos] = key;
    leaf.values[pos] = value;
    leaf.kinds[pos] = kind;
    leaf.n = n + 1;
    leaf.version++;

    this.count++;
    this.bytes += key.length + value.length + ENTRY_OVERHEAD;
    if (leaf.n === FANOUT) this.splitLeaf(leaf, pos === n && leaf.next === null);
  }

  /**
   * The newest version of `key` with seq <= snapshotSeq, tombstones included (the
   * caller decides what a tombstone means), or undefined if there is none.
   * `hash`: the key's `bloomHash`, when the caller computed it already.
   */
  get(key: Uint8Array, snapshotSeq: number, hash = bloomHash(key)): MemTableVersion | undefined {
    if (!this.filter.mayContain(hash)) return undefined;
    const hi = prefixHigh(key);
    const lo = prefixLow(key);
    const tail = prefixTail(key);
    const idx = this.locate(key, hi, lo, tail, snapshotSeq);
    const leaf = this.located;
    if (leaf === null || !this.holds(leaf, idx, key, hi, lo, tail)) return undefined;
    return { seq: leaf.nums[idx * STRIDE + 3], kind: leaf.kinds[idx] as Kind, value: leaf.values[idx] };
  }

  /**
   * Overwrites the newest version of `key` in place — keeping its seq, so the entry's
   * position in the tree does not change — when `replaceable(seq)` says no reader can
   * see that version any more. Returns false (changing nothing) when there is no such
   * version or it is still visible; the caller then adds a new version.
   *
   * Why: secondary-index posting blocks are rewritten on every write to their term;
   * replacing them in place keeps the MemTable from filling with dead copies.
   */
  replaceNewest(key: Uint8Array, kind: Kind, value: Uint8Array, replaceable: (seq: number) => boolean): boolean {
    const hi = prefixHigh(key);
    const lo = prefixLow(key);
    const tail = prefixTail(key);
    const idx = this.locate(key, hi, lo, tail, Infinity);
    const leaf = this.located;
    if (leaf === null || !this.holds(leaf, idx, key, hi, lo, tail)) return false;
    if (!replaceable(leaf.nums[idx * STRIDE + 3])) return false;
    this.bytes += value.length - leaf.values[idx].length;
    leaf.values[idx] = value;
    leaf.kinds[idx] = kind;
    return true;
  }

  /** A cursor over every version in internal order; see {@link EntryIterator}. */
  iterator(): EntryIterator & { copyValue(): Uint8Array } {
    return new MemTableIterator(this);
  }

  /**
   * @internal The first entry not before (key, seq) in internal order: returns its slot
   * and leaves its leaf in {@link located} (null if there is none; no object is allocated
   * per lookup). seq = Infinity finds the first version of the first key >= key; seq = -1
   * finds the first entry of the first key > key.
   */
  locate(key: Uint8Array, hi: number, lo: number, tail: number, seq: number): number {
    let node = this.root;
    for (let d = 0; d < this.depth; d++) {
      const inner = node as Inner;
      node = inner.kids[lowerBound(inner.nums, inner.keys, 1, inner.n, key, hi, lo, tail, seq) - 1];
    }
    const leaf = node as Leaf;
    const idx = lowerBound(leaf.nums, leaf.keys, 0, leaf.n, key, hi, lo, tail, seq);
    // The target may sort after every entry of this leaf but before the next leaf's first.
    if (idx === leaf.n) {
      this.located = leaf.next;
      return 0;
    }
    this.located = leaf;
    return idx;
  }

  /** @internal The leaf of the last {@link locate}. */
  located: Leaf | null = null;

  /** Whether slot idx of leaf holds `key` (whose prefix numbers are hi, lo, tail). */
  private holds(leaf: Leaf, idx: number, key: Uint8Array, hi: number, lo: number, tail: number): boolean {
    const at = idx * STRIDE;
    const nums = leaf.nums;
    if (nums[at] !== hi || nums[at + 1] !== lo || nums[at + 2] !== tail) return false;
    const k = leaf.keys[idx];
    return k.length === key.length && (k.length <= 18 || compare(k, key) === 0);
  }

  /** @internal */
  first(): Leaf {
    return this.firstLeaf;
  }

  /** @internal */
  last(): Leaf {
    return this.lastLeaf;
  }

  /**
   * Splits a full leaf. `append` (the insert went to the very end of the table) keeps
   * the leaf full and starts a new one, so key-ordered loads leave full leaves behind.
   */
  private splitLeaf(leaf: Leaf, append: boolean): void {
    const n = leaf.n;
    const h = append ? n - 1 : n >>> 1;
    const right = new Leaf();
    const m = n - h;
    copySlots(right.nums, 0, leaf.nums, h * STRIDE, n * STRIDE);
    for (let i = h; i < n; i++) right.kinds[i - h] = leaf.kinds[i];
    for (let i = 0; i < m; i++) {
      right.keys[i] = leaf.keys[h + i];
      right.values[i] = leaf.values[h + i];
      leaf.keys[h + i] = EMPTY;
      leaf.values[h + i] = EMPTY;
    }
    right.n = m;
    leaf.n = h;
    leaf.version++;

    right.prev = leaf;
    right.next = leaf.next;
    if (leaf.next === null) this.lastLeaf = right;
    else leaf.next.prev = right;
    leaf.next = right;

    this.insertSeparator(this.depth - 1, right, right.nums, right.keys[0]);
  }

  /**
   * Adds `right` (split off the child at path[d]) to the parent at depth d, whose
   * smallest entry is given by (nums[0..STRIDE), key); splits upward as needed.
   */
  private insertSeparator(d: number, right: Inner | Leaf, sepNums: Float64Array, sepKey: Uint8Array): void {
    if (d < 0) {
      // The root split: grow the tree by one level.
      const root = new Inner();
      root.kids.push(this.root, right);
      copySlots(root.nums, STRIDE, sepNums, 0, STRIDE);
      root.keys[1] = sepKey;
      root.n = 2;
      this.root = root;
      this.depth++;
      return;
    }
    const parent = this.path[d];
    const pos = this.pathIdx[d] + 1;
    const n = parent.n;
    parent.nums.copyWithin((pos + 1) * STRIDE, pos * STRIDE, n * STRIDE);
    copySlots(parent.nums, pos * STRIDE, sepNums, 0, STRIDE);
    for (let i = n; i > pos; i--) parent.keys[i] = parent.keys[i - 1];
    parent.keys[pos] = sepKey;
    parent.kids.splice(pos, 0, right);
    parent.n = n + 1;
    if (parent.n < FANOUT) return;

    // Split the inner node; the right half's slot 0 is its smallest entry.
    const append = pos === n && this.isRightEdge(d);
    const h = append ? FANOUT - 1 : FANOUT >>> 1;
    const sibling = new Inner();
    copySlots(sibling.nums, 0, parent.nums, h * STRIDE, FANOUT * STRIDE);
    for (let i = h; i < FANOUT; i++) {
      sibling.keys[i - h] = parent.keys[i];
      parent.keys[i] = EMPTY;
    }
    sibling.kids.push(...parent.kids.splice(h));
    sibling.n = FANOUT - h;
    parent.n = h;
    this.insertSeparator(d - 1, sibling, sibling.nums, sibling.keys[0]);
  }

  /** Whether path[d] is the rightmost node of its level. */
  private isRightEdge(d: number): boolean {
    for (let i = 0; i < d; i++) if (this.pathIdx[i] !== this.path[i].n - 1) return false;
    return true;
  }
}

/**
 * Cursor over a live MemTable. It caches the current entry, so the accessors are plain
 * reads; moves check the leaf version and re-find the current entry if it moved.
 */
class MemTableIterator implements EntryIterator {
  private leaf: Leaf | null = null;
  private idx = 0;
  private leafVersion = 0;
  private curKey: Uint8Array = EMPTY;
  private curHi = 0;
  private curLo = 0;
  private curTail = 0;
  private curSeq = 0;
  private curKind: Kind = 0;
  private curValue: Uint8Array = EMPTY;

  constructor(private readonly table: MemTable) {}

  valid(): boolean {
    return this.leaf !== null;
  }

  seek(target: Uint8Array): void {
    const idx = this.table.locate(target, prefixHigh(target), prefixLow(target), prefixTail(target), Infinity);
    this.settle(this.table.located, idx);
  }

  seekForPrev(target: Uint8Array): void {
    const idx = this.table.locate(target, prefixHigh(target), prefixLow(target), prefixTail(target), -1);
    const leaf = this.table.located;
    // One step back from the first entry of the first key > target.
    if (leaf === null) this.settleBack(this.table.last(), this.table.last().n - 1);
    else this.settleBack(leaf, idx - 1);
  }

  seekToFirst(): void {
    this.settle(this.table.first(), 0);
  }

  seekToLast(): void {
    const last = this.table.last();
    this.settleBack(last, last.n - 1);
  }

  next(): void {
    const leaf = this.current();
    if (leaf.version !== this.leafVersion) this.relocate();
    this.settle(this.leaf, this.idx + 1);
  }

  prev(): void {
    const leaf = this.current();
    if (leaf.version !== this.leafVersion) this.relocate();
    this.settleBack(this.leaf, this.idx - 1);
  }

  key(): Uint8Array {
    this.current();
    return this.curKey;
  }

  seq(): number {
    this.current();
    return this.curSeq;
  }

  kind(): Kind {
    this.current();
    return this.curKind;
  }

  value(): Uint8Array {
    this.current();
    return this.curValue;
  }

  /** A private copy of the current value. */
  copyValue(): Uint8Array {
    this.current();
    return this.curValue.slice();
  }

  private current(): Leaf {
    const leaf = this.leaf;
    if (leaf === null) throw new Error("MemTable iterator used while not valid");
    return leaf;
  }

  /** Re-finds the current entry after inserts moved it; it still exists, entries are never removed. */
  private relocate(): void {
    this.idx = this.table.locate(this.curKey, this.curHi, this.curLo, this.curTail, this.curSeq);
    this.leaf = this.table.located;
  }

  /** Positions at slot idx of leaf, moving forward past the leaf's end. */
  private settle(leaf: Leaf | null, idx: number): void {
    while (leaf !== null && idx >= leaf.n) {
      leaf = leaf.next;
      idx = 0;
    }
    this.load(leaf, idx);
  }

  /** Positions at slot idx of leaf, moving backward past the leaf's start. */
  private settleBack(leaf: Leaf | null, idx: number): void {
    while (leaf !== null && idx < 0) {
      leaf = leaf.prev;
      if (leaf !== null) idx = leaf.n - 1;
    }
    this.load(leaf, idx);
  }

  private load(leaf: Leaf | null, idx: number): void {
    this.leaf = leaf;
    this.idx = idx;
    if (leaf === null) return;
    this.leafVersion = leaf.version;
    const at = idx * STRIDE;
    this.curHi = leaf.nums[at];
    this.curLo = leaf.nums[at + 1];
    this.curTail = leaf.nums[at + 2];
    this.curSeq = leaf.nums[at + 3];
    this.curKey = leaf.keys[idx];
    this.curKind = leaf.kinds[idx] as Kind;
    this.curValue = leaf.values[idx];
  }
}
