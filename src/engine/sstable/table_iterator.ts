/**
 * @module
 * The {@link EntryIterator} over a whole SSTable: a two-level iterator that walks the
 * index and decodes one data block at a time into arrays (so `prev` is as cheap as
 * `next`). Seeks use the index to pick the block: the first block whose last key is
 * >= the target holds every version of the target, because blocks never split a key.
 *
 * A seek or a backward step into a block decodes only from the restart point it needs
 * (the one before the target, or the last one) to the block's end; walking backwards
 * past that point re-decodes from a restart point twice as far back. A short read near
 * a position — a top-k from an index, a point-like seek — so decodes one restart
 * interval per table instead of whole blocks of up to a few hundred keys.
 */
import type { EntryIterator, Kind } from "../iterator.ts";
import { compareBytes } from "../coding.ts";
import { DecodedBlock } from "./block.ts";
import type { TableReader } from "./reader.ts";

export class TableIterator implements EntryIterator {
  private readonly entries = new DecodedBlock();
  /** Scratch for the intervals `extendBack` decodes. */
  private readonly head = new DecodedBlock();
  /** Index of the block decoded into `entries`, or -1. */
  private loaded = -1;
  /** Index of the current block, or -1 when the iterator is not valid. */
  private block = -1;
  private pos = 0;

  constructor(private readonly table: TableReader) {}

  /** Block i decoded from its first entry. */
  private load(i: number): void {
    if (this.loaded === i && this.entries.fromRestart === 0) return;
    this.loaded = -1; // stays -1 if decoding throws halfway
    this.table.decodeBlock(i, this.entries);
    this.loaded = i;
  }

  /** Block i decoded at least from its last restart interval. */
  private loadTail(i: number): void {
    if (this.loaded === i) return;
    this.loaded = -1;
    this.table.decodeBlockTail(i, this.entries);
    this.loaded = i;
  }

  /** Block i decoded at least from the restart point before `target`. */
  private loadAround(i: number, target: Uint8Array): void {
    // Already decoded far enough back: from the first entry, or from one before target.
    const e = this.entries;
    if (this.loaded === i && (e.fromRestart === 0 || (e.count > 0 && compareBytes(e.keys[0], target) < 0))) return;
    this.loaded = -1;
    this.table.decodeBlockAround(i, this.entries, target);
    this.loaded = i;
  }

  /** Positions at the first entry of the first non-empty block at or after `i`. */
  private forwardFrom(i: number): void {
    this.block = -1;
    const n = this.table.blockCount;
    for (; i < n; i++) {
      this.load(i);
      if (this.entries.count > 0) {
        this.block = i;
        this.pos = 0;
        return;
      }
    }
  }

  /** Positions at the last entry of the last non-empty block at or before `i`. */
  private backwardFrom(i: number): void {
    this.block = -1;
    for (; i >= 0; i--) {
      this.loadTail(i);
      if (this.entries.count > 0) {
        this.block = i;
        this.pos = this.entries.count - 1;
        return;
      }
    }
  }

  /**
   * Decodes restart intervals of the current block before the decoded ones (as many again
   * as are decoded) and puts them in front, keeping the position on the same entry.
   */
  private extendBack(): void {
    const e = this.entries;
    const from = e.fromRestart;
    const last = this.table.restartCount(this.block) - 1;
    this.table.decodeBlock(this.block, this.head, Math.max(0, from - (last - from + 1)), from);
    e.prepend(this.head);
    this.pos += this.head.count;
  }

  valid(): boolean {
    return this.block >= 0;
  }

  seekToFirst(): void {
    this.forwardFrom(0);
  }

  seekToLast(): void {
    this.backwardFrom(this.table.blockCount - 1);
  }

  seek(target: Uint8Array): void {
    this.block = -1;
    const i = this.table.findBlock(target);
    if (i >= this.table.blockCount) return;
    this.loadAround(i, target);
    const p = this.entries.lowerBound(target);
    if (p < this.entries.count) {
      this.block = i;
      this.pos = p;
    } else {
      this.forwardFrom(i + 1); // only if the index key overstates the block's last key
    }
  }

  seekForPrev(target: Uint8Array): void {
    this.block = -1;
    const i = this.table.findBlock(target);
    if (i >= this.table.blockCount) {
      this.seekToLast();
      return;
    }
    this.loadAround(i, target);
    const p = this.entries.upperBound(target) - 1;
    if (p >= 0) {
      this.block = i;
      this.pos = p;
    } else {
      this.backwardFrom(i - 1);
    }
  }

  next(): void {
    if (this.block < 0) return;
    if (++this.pos >= this.entries.count) this.forwardFrom(this.block + 1);
  }

  prev(): void {
    if (this.block < 0) return;
    if (this.pos === 0 && this.entries.fromRestart > 0) this.extendBack();
    if (--this.pos < 0) this.backwardFrom(this.block - 1);
  }

  key(): Uint8Array {
    return this.entries.keys[this.pos];
  }

  seq(): number {
    return this.entries.seqs[this.pos];
  }

  kind(): Kind {
    return this.entries.kinds[this.pos] as Kind;
  }

  value(): Uint8Array {
    return this.entries.value(this.pos);
  }

  /** A private copy of the current value (cheaper than `value().slice()`). */
  copyValue(): Uint8Array {
    return this.entries.copyValue(this.pos);
  }
}
