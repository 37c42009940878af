/**
 * @module
 * Names of the files in a data directory. WALs, SSTables and manifests share one
 * increasing file-number space (the manifest's `nextFileNumber`), written with at least
 * six digits:
 *
 * - `000012.wal`       write-ahead log
 * - `000013.sst`       SSTable
 * - `MANIFEST-000014`  manifest (log of version edits)
 * - `CURRENT`          names the live manifest
 * - `LOCK`             held with flock by the process that has the database open
 * - `<name>.tmp`       one of the names above being written, renamed into place when complete
 *
 * Anything else in the directory is not the engine's and is left alone.
 */

export const CURRENT_FILE = "CURRENT";
export const LOCK_FILE = "LOCK";
export const TEMP_SUFFIX = ".tmp";

export type FileType = "wal" | "table" | "manifest" | "current" | "lock" | "temp";

export interface ParsedFileName {
  type: FileType;
  /** Set for "wal", "table" and "manifest", and for a temp file of one of those. */
  number?: number;
}

function pad(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad file number ${n}`);
  return String(n).padStart(6, "0");
}

export function walFileName(n: number): string {
  return `${pad(n)}.wal`;
}

export function tableFileName(n: number): string {
  return `${pad(n)}.sst`;
}

export function manifestFileName(n: number): string {
  return `MANIFEST-${pad(n)}`;
}

/** The temporary name under which `name` is written before being renamed into place. */
export function tempFileName(name: string): string {
  return name + TEMP_SUFFIX;
}

const NUMBERED = /^(?:(\d+)\.(wal|sst)|MANIFEST-(\d+))$/;

/** Classifies a directory entry; undefined for files kvdb does not own. */
export function parseFileName(name: string): ParsedFileName | undefined {
  if (name === CURRENT_FILE) return { type: "current" };
  if (name === LOCK_FILE) return { type: "lock" };
  if (name.endsWith(TEMP_SUFFIX)) {
    // Only temp copies of kvdb's own names: a user's `notes.tmp` is not ours to delete.
    const base = parseFileName(name.slice(0, -TEMP_SUFFIX.length));
    if (!base || base.type === "temp") return undefined;
    return base.number === undefined ? { type: "temp" } : { type: "temp", number: base.number };
  }
  const m = NUMBERED.exec(name);
  if (!m) return undefined;
  const number = Number(m[1] ?? m[3]);
  if (!Number.isSafeInteger(number)) return undefined;
  const type: FileType = m[3] !== undefined ? "manifest" : m[2] === "wal" ? "wal" : "table";
  return { type, number };
}
