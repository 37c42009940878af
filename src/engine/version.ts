/**
 * @module
 * A Version is an immutable snapshot of the live SSTables, level by level (mini-lsm's
 * `LsmStorageState`). Flushes and compactions never change a Version: they install a
 * new one. Readers (gets and open scans) hold a reference to the Version they started
 * with, so the files it names stay open and on disk until the last reader lets go.
 *
 * Tables are reference-counted by the Versions that contain them; when the count drops
 * to zero the table is no longer reachable by anyone and its file is deleted (its
 * removal from the manifest was made durable before the Version that dropped it was
 * installed).
 */
import type { FileMeta } from "./manifest.ts";
import type { TableReader } from "./sstable/reader.ts";
import { compareBytes, keyFingerprint } from "./coding.ts";

export const NUM_LEVELS = 7;

/** One open SSTable shared by every Version that contains it. */
export class TableHandle {
  private refs = 0;
  private meta_!: FileMeta;
  /** keyFingerprint of meta.smallest and meta.largest: most key-range checks end on them. */
  smallestFp = 0;
  largestFp = 0;

  constructor(
    meta: FileMeta,
    readonly reader: TableReader,
    private readonly onUnreferenced: (table: TableHandle) => void,
  ) {
    this.meta = meta;
  }

  get meta(): FileMeta {
    return this.meta_;
  }

  /** Replaced when a trivial move re-levels the table. */
  set meta(m: FileMeta) {
    this.meta_ = m;
    this.smallestFp = keyFingerprint(m.smallest);
    this.largestFp = keyFingerprint(m.largest);
  }

  /** Whether `key` (whose keyFingerprint is `fp`) lies in [smallest, largest]. */
  covers(key: Uint8Array, fp: number): boolean {
    const m = this.meta_;
    if (fp !== this.smallestFp ? fp < this.smallestFp : compareBytes(key, m.smallest) < 0) return false;
    return fp !== this.largestFp ? fp < this.largestFp : compareBytes(key, m.largest) <= 0;
  }

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs === 0) this.onUnreferenced(this);
  }
}

export class Version {
  private refs = 1;

  /**
   * `levels[0]` is ordered newest first (it may overlap); deeper levels are sorted by
   * smallest key and do not overlap.
   */
  constructor(readonly levels: TableHandle[][]) {
    for (const level of levels) for (const t of level) t.ref();
  }

  ref(): this {
    this.refs++;
    return this;
  }

  unref(): void {
    if (--this.refs > 0) return;
    for (const level of this.levels) for (const t of level) t.unref();
  }

  allTables(): TableHandle[] {
    return this.levels.flat();
  }
}

/**
 * Binary search in a sorted, non-overlapping level for the file whose range holds `key`.
 * `fp`: the key's keyFingerprint, when the caller has it already.
 */
export function findFile(files: TableHandle[], key: Uint8Array, fp = keyFingerprint(key)): TableHandle | undefined {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const f = files[mid];
    const below = fp !== f.largestFp ? f.largestFp < fp : compareBytes(f.meta.largest, key) < 0;
    if (below) lo = mid + 1;
    else hi = mid;
  }
  const t = files[lo];
  return t !== undefined && t.covers(key, fp) ? t : undefined;
}

/** Orders a level's tables as a Version expects them. */
export function sortLevel(level: number, tables: TableHandle[]): TableHandle[] {
  return level === 0
    ? tables.sort((a, b) => b.meta.maxSeq - a.meta.maxSeq || b.meta.number - a.meta.number)
    : tables.sort((a, b) => compareBytes(a.meta.smallest, b.meta.smallest));
}
