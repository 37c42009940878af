/**
 * @module
 * Writes one SSTable from a stream of entries (a frozen MemTable for a flush; merged
 * inputs for a compaction), dropping the versions no reader can see any more, and
 * yielding to the event loop between slices so requests keep being served.
 * The returned table is durable (fdatasync'd); the caller fsyncs the directory and
 * records it in the manifest.
 */
import { join } from "node:path";
import type { FileSystem } from "./fs.ts";
import type { EntryIterator } from "./iterator.ts";
import type { FileMeta } from "./manifest.ts";
import type { EngineOptions } from "./options.ts";
import { TableBuilder } from "./sstable/builder.ts";
import { tableFileName } from "./filenames.ts";
import { VersionFilter } from "./version_filter.ts";

export interface WriteTableRequest {
  fs: FileSystem;
  dir: string;
  number: number;
  level: number;
  /** Positioned anywhere; it is rewound to the first entry. */
  source: EntryIterator;
  options: Pick<EngineOptions, "blockSize" | "restartInterval" | "bloomBitsPerKey" | "flushSliceEntries">;
  /** Live snapshot sequence numbers, ascending. */
  snapshots: number[];
  /** True when no older data for any of these keys can exist below the output. */
  bottommost: boolean;
}

/** Returns the new table's metadata, or undefined when every entry was dropped (no file is left behind). */
export async function writeTable(req: WriteTableRequest): Promise<FileMeta | undefined> {
  const path = join(req.dir, tableFileName(req.number));
  const file = req.fs.openWritable(path, { truncate: true });
  const builder = new TableBuilder(file, {
    blockSize: req.options.blockSize,
    restartInterval: req.options.restartInterval,
    bloomBitsPerKey: req.options.bloomBitsPerKey,
  });
  const filter = new VersionFilter(req.snapshots, req.bottommost);
  let ok = false;
  try {
    const it = req.source;
    let sinceYield = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const key = it.key();
      const seq = it.seq();
      const kind = it.kind();
      if (filter.keep(key, seq, kind)) builder.add(key, seq, kind, it.value());
      if (++sinceYield >= req.options.flushSliceEntries) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    if (builder.entryCount === 0) {
      builder.abandon();
      file.close();
      req.fs.remove(path);
      ok = true;
      return undefined;
    }
    const props = builder.finish();
    await file.sync();
    file.close();
    ok = true;
    return {
      level: req.level,
      number: req.number,
      size: file.size,
      smallest: props.smallest,
      largest: props.largest,
      entries: props.entryCount,
      minSeq: props.minSeq,
      maxSeq: props.maxSeq,
    };
  } finally {
    if (!ok) {
      try {
        file.close();
      } catch {
        // The write already failed; that error is the one to report.
      }
      req.fs.remove(path);
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
