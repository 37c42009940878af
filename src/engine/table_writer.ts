/**
 * @module
 * Writes SSTables from a stream of entries — a frozen MemTable for a flush, the merged
 * inputs of a compaction — dropping the versions no reader can see any more, splitting
 * the output at a target file size, and yielding to the event loop between slices so
 * requests keep being served while it runs.
 *
 * Every returned table is durable (fdatasync'd); the caller fsyncs the directory and
 * records the tables in the manifest. On failure, the tables written so far are removed.
 */
import { join } from "node:path";
import type { FileSystem, WritableFile } from "./fs.ts";
import { KIND_DELETE, KIND_PUT, type EntryIterator } from "./iterator.ts";
import type { FileMeta } from "./manifest.ts";
import type { EngineOptions } from "./options.ts";
import { TableBuilder } from "./sstable/builder.ts";
import { tableFileName } from "./filenames.ts";
import { VersionFilter } from "./version_filter.ts";
import { bytesEqual } from "./coding.ts";
import { KvdbError } from "./errors.ts";

/**
 * Lets a higher layer (the secondary indexes) rewrite or drop its own records while the
 * engine rewrites tables. It is asked only about the newest version of a key, and only
 * when no open snapshot can see that version, so no reader notices the change.
 * Return the value to keep it, a new value to replace it, or `null` to delete the key.
 */
export type CompactionHook = (key: Uint8Array, value: Uint8Array) => Uint8Array | null;

export interface WriteTablesRequest {
  fs: FileSystem;
  dir: string;
  level: number;
  allocateNumber: () => number;
  /** Positioned anywhere; it is rewound to the first entry. */
  source: EntryIterator;
  options: Pick<EngineOptions, "blockSize" | "restartInterval" | "bloomBitsPerKey" | "sliceEntries">;
  /** A new table is started once the current one reaches this size (at a key boundary). */
  targetFileBytes: number;
  /** Live snapshot sequence numbers, ascending. */
  snapshots: number[];
  /** Whether no older data for `key` can exist below the output. */
  bottommost: boolean | ((key: Uint8Array) => boolean);
  hook?: CompactionHook;
  /** Counts bytes read from the source (keys + values), for statistics. */
  onRead?: (bytes: number) => void;
  /** Checked between slices: true abandons the work (the database is closing). */
  shouldStop?: () => boolean;
}

interface OpenOutput {
  number: number;
  path: string;
  file: WritableFile;
  builder: TableBuilder;
}

/** Writes the tables; returns their metadata (empty when every entry was dropped). */
export async function writeTables(req: WriteTablesRequest): Promise<FileMeta[]> {
  const done: FileMeta[] = [];
  let out: OpenOutput | undefined;
  const filter = new VersionFilter(req.snapshots, req.bottommost);
  const newestSnapshot = req.snapshots.length > 0 ? req.snapshots[req.snapshots.length - 1] : -1;
  let lastKey: Uint8Array | undefined;
  const open = (): OpenOutput => {
    const number = req.allocateNumber();
    const path = join(req.dir, tableFileName(number));
    const file = req.fs.openWritable(path, { truncate: true });
    const builder = new TableBuilder(file, {
      blockSize: req.options.blockSize,
      restartInterval: req.options.restartInterval,
      bloomBitsPerKey: req.options.bloomBitsPerKey,
    });
    return { number, path, file, builder };
  };
  const finish = async (o: OpenOutput): Promise<void> => {
    const props = o.builder.finish();
    await o.file.sync();
    o.file.close();
    done.push({
      level: req.level,
      number: o.number,
      size: o.file.size,
      smallest: props.smallest,
      largest: props.largest,
      entries: props.entryCount,
      minSeq: props.minSeq,
      maxSeq: props.maxSeq,
    });
  };
  try {
    const it = req.source;
    let sinceYield = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const key = it.key();
      const seq = it.seq();
      let kind = it.kind();
      let value = it.value();
      req.onRead?.(key.length + value.length);
      const newKey = lastKey === undefined || !bytesEqual(key, lastKey);
      if (newKey) {
        // Split only between keys: all versions of a key stay in one table.
        if (out && out.builder.estimatedSize >= req.targetFileBytes) {
          await finish(out);
          out = undefined;
        }
        lastKey = key;
      }
      if (filter.keep(key, seq, kind)) {
        let hookDeleted = false;
        if (req.hook && newKey && kind === KIND_PUT && seq > newestSnapshot) {
          const rewritten = req.hook(key, value);
          if (rewritten === null) {
            kind = KIND_DELETE;
            value = EMPTY;
            hookDeleted = true;
          } else value = rewritten;
        }
        // A hook's delete needs no tombstone when nothing older can exist below and no
        // snapshot keeps an older version of the key in this output.
        if (!(hookDeleted && req.snapshots.length === 0 && isBottommost(req.bottommost, key))) {
          out ??= open();
          out.builder.add(key, seq, kind, value);
        }
      }
      if (++sinceYield >= req.options.sliceEntries) {
        sinceYield = 0;
        await yieldToEventLoop();
        if (req.shouldStop?.()) throw new KvdbError("CLOSED", "table writing abandoned: the database is closing");
      }
    }
    if (out) {
      if (out.builder.entryCount > 0) await finish(out);
      else discard(req.fs, out);
      out = undefined;
    }
    return done;
  } catch (e) {
    if (out) discard(req.fs, out);
    for (const meta of done) req.fs.remove(join(req.dir, tableFileName(meta.number)));
    throw e;
  }
}

function isBottommost(b: boolean | ((key: Uint8Array) => boolean), key: Uint8Array): boolean {
  return typeof b === "function" ? b(key) : b;
}

function discard(fs: FileSystem, o: OpenOutput): void {
  try {
    o.builder.abandon();
    o.file.close();
  } catch {
    // Already failing; the original error is the one to report.
  }
  fs.remove(o.path);
}

const EMPTY = new Uint8Array(0);

/** Lets queued I/O callbacks and requests run between slices of a long merge. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
