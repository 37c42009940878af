/**
 * @module
 * The {@link EntryIterator} over a whole SSTable: a two-level iterator that walks the
 * index and decodes one data block at a time into arrays (so `prev` is as cheap as
 * `next`). Seeks use the index to pick the block: the first block whose last key is
 * >= the target holds every version of the target, because blocks never split a key.
 */
import type { EntryIterator, Kind } from "../iterator.ts";
import { DecodedBlock } from "./block.ts";
import type { TableReader } from "./reader.ts";

export class TableIterator implements EntryIterator {
  private readonly entries = new DecodedBlock();
  /** Index of the block decoded into `entries`, or -1. */
  private loaded = -1;
  /** Index of the current block, or -1 when the iterator is not valid. */
  private block = -1;
  private pos = 0;

  constructor(private readonly table: TableReader) {}

  private load(i: number): void {
    if (this.loaded === i) return;
    this.loaded = -1; // stays -1 if decoding throws halfway
    this.table.decodeBlock(i, this.entries);
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
      this.load(i);
      if (this.entries.count > 0) {
        this.block = i;
        this.pos = this.entries.count - 1;
        return;
      }
    }
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
    this.load(i);
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
    this.load(i);
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
