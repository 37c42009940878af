/**
 * @module
 * The write-ahead log: one file per MemTable generation (`000012.wal`), a sequence of
 * records (see log_format.ts) whose payloads are write batches (see write_batch.ts).
 *
 * {@link WalWriter} only appends and syncs; grouping concurrent writers into one
 * append + one sync is the engine's job. Its error is sticky (LevelDB's background
 * error): once an append or a sync has failed, the file's durable content is unknown, so
 * every later append and sync fails until the database is reopened and the log is
 * recovered. A write is never acknowledged on top of a failed sync.
 *
 * {@link readWal} recovers a log: whole batches up to the first bad record, after which
 * a torn tail is truncated away (and fsynced) so that later appends follow valid data.
 */
import { KvdbError } from "./errors.ts";
import type { FileSystem, WritableFile } from "./fs.ts";
import { RECORD_HEADER_BYTES, readRecords } from "./log_format.ts";
import { type DecodedBatch, decodeBatch } from "./write_batch.ts";

export class WalWriter {
  private failure: unknown;
  private closed = false;

  constructor(private readonly file: WritableFile) {}

  /** Opens (creating if needed) `path` for appending. */
  static open(fs: FileSystem, path: string, options?: { truncate?: boolean }): WalWriter {
    return new WalWriter(fs.openWritable(path, options));
  }

  get path(): string {
    return this.file.path;
  }

  /** Bytes in the file, including any content it had when opened. */
  get size(): number {
    return this.file.size;
  }

  /** True once an append or sync has failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Writes already-framed records (one or a whole group, concatenated); not durable until {@link sync}. */
  append(records: Uint8Array): void {
    this.check();
    try {
      this.file.append(records);
    } catch (e) {
      this.failure = e;
      throw e;
    }
  }

  /** fdatasync: resolves once everything appended so far is durable. */
  async sync(): Promise<void> {
    this.check();
    try {
      await this.file.sync();
    } catch (e) {
      this.failure ??= e;
      throw e;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
  }

  private check(): void {
    if (this.closed) throw new KvdbError("CLOSED", `WAL ${this.file.path} is closed`);
    if (this.failure === undefined) return;
    const reason = this.failure instanceof Error ? this.failure.message : String(this.failure);
    throw new KvdbError(
      "IO_ERROR",
      `WAL ${this.file.path} failed earlier (${reason}); the database must be reopened`,
      { cause: this.failure },
    );
  }
}

export interface WalContents {
  /** Whole batches in log order. */
  batches: DecodedBatch[];
  /** Length of the valid prefix; the file has this size when readWal returns. */
  validBytes: number;
  /** Bytes of torn tail that were truncated away. */
  tornBytes: number;
}

/**
 * Reads a whole WAL. A torn tail is truncated (with fsync) before returning; damage
 * followed by valid records, or a valid record whose batch does not decode, throws
 * CORRUPTION naming the file and offset.
 */
export async function readWal(fs: FileSystem, path: string, maxRecordBytes: number): Promise<WalContents> {
  const data = fs.readFile(path);
  const { records, validBytes, tornBytes } = readRecords(data, path, maxRecordBytes);
  const batches = records.map((r) => decodeBatch(r.payload, path, r.offset + RECORD_HEADER_BYTES));
  if (tornBytes > 0) await fs.truncate(path, validBytes);
  return { batches, validBytes, tornBytes };
}
