/**
 * @module
 * What a query reads from. The minimum is the Database's `scan` (an async iterator of
 * `[key, bytes]` copies). A database may also offer `scanRaw`: the same entries over one
 * snapshot as a synchronous cursor on the stored bytes, with no per-entry copy, key
 * decoding or promise. A scan query spends most of its time per entry, so the executor
 * uses `scanRaw` whenever it is present; results are identical either way.
 */
import type { Database, ScanOptions } from "../types.ts";

/**
 * A cursor over one snapshot, in ascending key order. `key()` and `value()` are valid
 * until the next `next()`; the executor copies what it keeps. `close()` releases the
 * snapshot and is always called, also when the query stops early or fails.
 */
export interface RawEntryCursor {
  valid(): boolean;
  /** The current key's UTF-8 bytes. */
  key(): Uint8Array;
  /** The current key as text, when the cursor has it without decoding `key()`. */
  keyText?(): string;
  value(): Uint8Array;
  next(): void;
  close(): void;
}

export interface QuerySource extends Pick<Database, "scan"> {
  /** Optional fast path; same entries as `scan(options)` (prefix and inclusive start). */
  scanRaw?(options: Pick<ScanOptions, "prefix" | "start">): RawEntryCursor;
}
