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
import { compareBytes } from "./coding.ts";

export const NUM_LEVELS = 7;

/** One open SSTable shared by every Version that contains it. */
export class TableHandle {
  private refs = 0;

  constructor(
    /** Replaced when a trivial move re-levels the table. */
    public meta: FileMeta,
    readonly reader: TableReader,
    private readonly onUnreferenced: (table: TableHandle) => void,
  ) {}

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

/** Binary search in a sorted, non-overlapping level for the file whose range holds `key`. */
export function findFile(files: TableHandle[], key: Uint8Array): TableHandle | undefined {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(files[mid].meta.largest, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  const t = files[lo];
  return t && compareBytes(key, t.meta.smallest) >= 0 ? t : undefined;
}

/** Orders a level's tables as a Version expects them. */
export function sortLevel(level: number, tables: TableHandle[]): TableHandle[] {
  return level === 0
    ? tables.sort((a, b) => b.meta.maxSeq - a.meta.maxSeq || b.meta.number - a.meta.number)
    : tables.sort((a, b) => compareBytes(a.meta.smallest, b.meta.smallest));
}
