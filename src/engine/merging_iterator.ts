/**
 * @module
 * Merges several EntryIterators (MemTables, SSTables) into one stream in internal order
 * (LevelDB `table/merger.cc`, mini-lsm `merge_iterator.rs`).
 *
 * Children are given newest source first. Entries are ordered by (key asc, seq desc,
 * child index asc): if two sources hold the same (key, seq) — which does not happen in
 * practice — the newer source's entry comes first. Every entry of every child is
 * yielded; hiding old versions and tombstones is the SnapshotIterator's job.
 *
 * A binary heap of child indexes keeps each step O(log children): a min-heap while
 * moving forward, a max-heap while moving backward. Changing direction re-positions
 * every other child around the current entry (LevelDB's approach): forward → backward
 * puts each child on its last entry before the current one, backward → forward on its
 * first entry after it. The current entry itself stays where it is.
 *
 * Most steps leave the same child on top (sources hold runs of consecutive keys), so the
 * heap remembers which of the top's two heap children comes first (`runnerUp`): a step
 * that keeps its child on top costs one key comparison instead of two.
 */
import { compareBytes } from "./coding.ts";
import type { EntryIterator, Kind } from "./iterator.ts";

/** An EntryIterator that can hand out a private copy of its current value. */
export interface CopyingIterator extends EntryIterator {
  copyValue(): Uint8Array;
}

export class MergingIterator implements EntryIterator {
  private readonly children: EntryIterator[];
  /** Child indexes; heap[0] is the current child while valid. */
  private readonly heap: number[] = [];
  private size = 0;
  /** The current key and seq of each child in the heap, cached for comparisons. */
  private readonly keys: Uint8Array[];
  private readonly seqs: number[];
  private forward = true;
  /** Heap slot (1 or 2) of the entry that would replace the top; -1 when unknown. */
  private runnerUp = -1;
  /** Whether every child has copyValue(). */
  private readonly childrenCopy: boolean;

  /** @param children sources ordered newest first. */
  constructor(children: readonly EntryIterator[]) {
    this.children = children.slice();
    this.childrenCopy = children.every((c) => typeof (c as Partial<CopyingIterator>).copyValue === "function");
    this.keys = new Array<Uint8Array>(children.length).fill(new Uint8Array(0));
    this.seqs = new Array<number>(children.length).fill(0);
  }

  valid(): boolean {
    return this.size > 0;
  }

  seek(target: Uint8Array): void {
    for (const child of this.children) child.seek(target);
    this.rebuild(true);
  }

  seekForPrev(target: Uint8Array): void {
    for (const child of this.children) child.seekForPrev(target);
    this.rebuild(false);
  }

  seekToFirst(): void {
    for (const child of this.children) child.seekToFirst();
    this.rebuild(true);
  }

  seekToLast(): void {
    for (const child of this.children) child.seekToLast();
    this.rebuild(false);
  }

  next(): void {
    this.current();
    if (!this.forward) this.turn(true);
    this.advanceTop(true);
  }

  prev(): void {
    this.current();
    if (this.forward) this.turn(false);
    this.advanceTop(false);
  }

  key(): Uint8Array {
    return this.keys[this.current()];
  }

  seq(): number {
    return this.seqs[this.current()];
  }

  kind(): Kind {
    return this.children[this.current()].kind();
  }

  value(): Uint8Array {
    return this.children[this.current()].value();
  }

  /** A private copy of the current value (from the source, without an intermediate view). */
  copyValue(): Uint8Array {
    const child = this.children[this.current()];
    return this.childrenCopy ? (child as CopyingIterator).copyValue() : child.value().slice();
  }

  private current(): number {
    if (this.size === 0) throw new Error("MergingIterator used while not valid");
    return this.heap[0];
  }

  /** Steps the current child in the heap's direction and restores the heap. */
  private advanceTop(forward: boolean): void {
    const top = this.heap[0];
    const child = this.children[top];
    if (forward) child.next();
    else child.prev();
    if (child.valid()) {
      this.keys[top] = child.key();
      this.seqs[top] = child.seq();
    } else {
      this.heap[0] = this.heap[--this.size];
      this.runnerUp = -1;
    }
    const size = this.size;
    if (size < 2) return;
    const heap = this.heap;
    let r = this.runnerUp;
    if (r < 0) {
      r = size > 2 && this.above(heap[2], heap[1]) ? 2 : 1;
      this.runnerUp = r;
    }
    if (!this.above(heap[r], heap[0])) return; // the top stays on top
    this.runnerUp = -1;
    this.siftDown(0);
  }

  /**
   * Switches direction at the current entry: every other child is re-positioned on
   * its nearest entry strictly after (forward) or before (backward) the current one in
   * merged order; the current child just steps once in the new direction later.
   */
  private turn(forward: boolean): void {
    const top = this.heap[0];
    const key = this.keys[top];
    const seq = this.seqs[top];
    for (let i = 0; i < this.children.length; i++) {
      if (i === top) continue;
      const child = this.children[i];
      if (forward) {
        child.seek(key);
        while (child.valid() && this.compareWith(child, i, key, seq, top) <= 0) child.next();
      } else {
        child.seekForPrev(key);
        while (child.valid() && this.compareWith(child, i, key, seq, top) >= 0) child.prev();
      }
    }
    // Rebuild around the current child, which stays on the current entry for now.
    this.forward = forward;
    this.runnerUp = -1;
    this.size = 0;
    this.heap[this.size++] = top;
    for (let i = 0; i < this.children.length; i++) {
      if (i === top || !this.children[i].valid()) continue;
      this.cache(i);
      this.heap[this.size++] = i;
    }
    // Every other child now sorts after the current entry in the new direction, so the
    // current child belongs on top and only the subtrees below it need heapifying.
    for (let i = (this.size >>> 1) - 1; i >= 1; i--) this.siftDown(i);
  }

  /** Merged order of child i's entry against (key, seq) of child j. */
  private compareWith(child: EntryIterator, i: number, key: Uint8Array, seq: number, j: number): number {
    const c = compareBytes(child.key(), key);
    if (c !== 0) return c;
    const s = child.seq();
    if (s !== seq) return s > seq ? -1 : 1;
    return i - j;
  }

  /** Re-reads every valid child into a fresh heap for the given direction. */
  private rebuild(forward: boolean): void {
    this.forward = forward;
    this.runnerUp = -1;
    this.size = 0;
    for (let i = 0; i < this.children.length; i++) {
      if (!this.children[i].valid()) continue;
      this.cache(i);
      this.heap[this.size++] = i;
    }
    for (let i = (this.size >>> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private cache(i: number): void {
    const child = this.children[i];
    this.keys[i] = child.key();
    this.seqs[i] = child.seq();
  }

  /** Whether child a belongs above child b: first in merged order (forward) or last (backward). */
  private above(a: number, b: number): boolean {
    let c = compareBytes(this.keys[a], this.keys[b]);
    if (c === 0) {
      const sa = this.seqs[a];
      const sb = this.seqs[b];
      c = sa > sb ? -1 : sa < sb ? 1 : a - b;
    }
    return this.forward ? c < 0 : c > 0;
  }

  private siftDown(at: number): void {
    const heap = this.heap;
    const size = this.size;
    const item = heap[at];
    for (;;) {
      const left = 2 * at + 1;
      if (left >= size) break;
      const right = left + 1;
      const best = right < size && this.above(heap[right], heap[left]) ? right : left;
      if (!this.above(heap[best], item)) break;
      heap[at] = heap[best];
      at = best;
    }
    heap[at] = item;
  }
}
