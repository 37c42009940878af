/**
 * @module
 * Iterates one sorted, non-overlapping level (L1 and deeper) as a single EntryIterator
 * (LevelDB's two-level "concatenating" iterator, mini-lsm `concat_iterator.rs`). Only the
 * table under the cursor has an open iterator, so a merge over a deep tree has one child
 * per level instead of one per file.
 */
import { compareBytes } from "./coding.ts";
import type { EntryIterator, Kind } from "./iterator.ts";
import type { TableIterator } from "./sstable/table_iterator.ts";
import type { TableHandle } from "./version.ts";

export class LevelIterator implements EntryIterator {
  private index = -1;
  private current: TableIterator | undefined;

  /** @param tables sorted by smallest key, non-overlapping. */
  constructor(private readonly tables: readonly TableHandle[]) {}

  private open(i: number): TableIterator | undefined {
    if (i < 0 || i >= this.tables.length) {
      this.index = -1;
      this.current = undefined;
      return undefined;
    }
    if (i !== this.index || !this.current) {
      this.index = i;
      this.current = this.tables[i].reader.iterator();
    }
    return this.current;
  }

  /** Moves forward over tables until one has an entry (tables are never empty, but stay safe). */
  private skipForward(): void {
    while (this.current && !this.current.valid()) {
      const next = this.open(this.index + 1);
      next?.seekToFirst();
    }
  }

  private skipBackward(): void {
    while (this.current && !this.current.valid()) {
      const prev = this.open(this.index - 1);
      prev?.seekToLast();
    }
  }

  valid(): boolean {
    return this.current !== undefined && this.current.valid();
  }

  seek(target: Uint8Array): void {
    // First table whose largest key is >= target.
    let lo = 0;
    let hi = this.tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.tables[mid].meta.largest, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.open(lo)?.seek(target);
    this.skipForward();
  }

  seekForPrev(target: Uint8Array): void {
    // Last table whose smallest key is <= target.
    let lo = 0;
    let hi = this.tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.tables[mid].meta.smallest, target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.open(lo - 1)?.seekForPrev(target);
    this.skipBackward();
  }

  seekToFirst(): void {
    this.open(0)?.seekToFirst();
    this.skipForward();
  }

  seekToLast(): void {
    this.open(this.tables.length - 1)?.seekToLast();
    this.skipBackward();
  }

  next(): void {
    this.current!.next();
    this.skipForward();
  }

  prev(): void {
    this.current!.prev();
    this.skipBackward();
  }

  key(): Uint8Array {
    return this.current!.key();
  }

  seq(): number {
    return this.current!.seq();
  }

  kind(): Kind {
    return this.current!.kind();
  }

  value(): Uint8Array {
    return this.current!.value();
  }

  /** A private copy of the current value. */
  copyValue(): Uint8Array {
    return this.current!.copyValue();
  }
}
