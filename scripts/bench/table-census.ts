/**
 * @module
 * What the SSTables of a closed kvdb directory hold, summed from each table's properties
 * block: entries (every stored version, tombstones included), distinct keys per table,
 * tombstones, raw key and value bytes. Compared with the live keys a scan returns, it
 * shows how much dead data a read or scan still has to step over. This reads engine
 * internals (the table reader), which is fine for a diagnostic; it counts every `.sst`
 * file in the directory, so call it when no flush or compaction is running and no
 * obsolete table is left (a settled or cleanly closed database). The MemTable is not
 * included.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseFileName } from "../../src/engine/filenames.ts";
import { defaultFileSystem } from "../../src/engine/fs.ts";
import { TableReader } from "../../src/engine/sstable/reader.ts";

export interface TableCensus {
  tables: number;
  entries: number;
  /** Sum over tables of each table's distinct keys (a key in two tables counts twice). */
  distinctKeys: number;
  tombstones: number;
  rawKeyBytes: number;
  rawValueBytes: number;
}

export function tableCensus(dir: string): TableCensus {
  const c: TableCensus = { tables: 0, entries: 0, distinctKeys: 0, tombstones: 0, rawKeyBytes: 0, rawValueBytes: 0 };
  for (const name of fs.readdirSync(dir)) {
    if (parseFileName(name)?.type !== "table") continue;
    const p = TableReader.open(defaultFileSystem, path.join(dir, name)).properties;
    c.tables++;
    c.entries += p.entryCount;
    c.distinctKeys += p.distinctKeyCount;
    c.tombstones += p.tombstoneCount;
    c.rawKeyBytes += p.rawKeyBytes;
    c.rawValueBytes += p.rawValueBytes;
  }
  return c;
}
