/**
 * @module
 * Which index definitions file a process uses, the same rule for `kvdb serve` and for
 * CLI commands that open the data directory themselves: the file given with `--indexes`
 * (or `KVDB_INDEXES`), which must exist; otherwise `./indexes.toml` in the working
 * directory when it exists; otherwise none (indexes already recorded in the database
 * stay as they are and keep being maintained).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const DEFAULT_INDEXES_FILE = "indexes.toml";

export interface IndexesFileChoice {
  /** The file to load when opening the database; undefined: none. */
  open: string | undefined;
  /** The file a reload re-reads: the one given, or the default path (it may appear later). */
  reload: string;
}

/** Applies the rule to `given` (the flag's value, if any), resolving the default against `cwd`. */
export function chooseIndexesFile(given: string | undefined, cwd: string = process.cwd()): IndexesFileChoice {
  if (given !== undefined && given !== "") return { open: given, reload: given };
  const fallback = path.resolve(cwd, DEFAULT_INDEXES_FILE);
  return { open: isFile(fallback) ? fallback : undefined, reload: fallback };
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
