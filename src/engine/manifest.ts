/**
 * @module
 * The manifest: the durable set of live SSTables (LevelDB's `version_set.cc` + MANIFEST).
 *
 * A manifest file `MANIFEST-000014` is a log (record framing of log_format.ts) of
 * version edits. Each payload is one edit as UTF-8 JSON, byte strings in base64:
 *
 * ```
 * { "logNumber": 12, "nextFileNumber": 16, "lastSequence": 4711,
 *   "addedFiles": [{ "level": 0, "number": 15, "size": 40960, "smallest": "YQ==",
 *                    "largest": "eg==", "entries": 1000, "minSeq": 3712, "maxSeq": 4711 }],
 *   "deletedFiles": [{ "level": 0, "number": 9 }],
 *   "compactPointers": [{ "level": 1, "key": "bQ==" }] }
 * ```
 *
 * Every field is optional. The first record of a manifest is a snapshot of the whole
 * state; the state is the result of applying the edits in order to the empty state.
 * `CURRENT` holds the name of the live manifest followed by "\n" and is only ever
 * replaced by writing `CURRENT.tmp`, fsync, rename, directory fsync, so after a crash it
 * names either the old or the new manifest, each complete.
 *
 * An edit is durable (appended and fsynced) before {@link ManifestWriter.apply}
 * resolves; only then may the engine act on it (install the Version, delete files).
 */
import * as path from "node:path";
import { compareBytes, fromUtf8, utf8 } from "./coding.ts";
import { corruption, KvdbError } from "./errors.ts";
import { CURRENT_FILE, manifestFileName, parseFileName, tempFileName } from "./filenames.ts";
import type { FileSystem, WritableFile } from "./fs.ts";
import { encodeRecord, readRecords } from "./log_format.ts";
import { NUM_LEVELS } from "./version.ts";

/** Sanity bound on one manifest record (a snapshot of a very large database stays far below it). */
export const MAX_MANIFEST_RECORD_BYTES = 256 * 1024 * 1024;

/** One live SSTable. */
export interface FileMeta {
  level: number;
  number: number;
  /** File size in bytes. */
  size: number;
  /** Smallest and largest user key in the table. */
  smallest: Uint8Array;
  largest: Uint8Array;
  entries: number;
  minSeq: number;
  maxSeq: number;
}

export interface DeletedFile {
  level: number;
  number: number;
}

/** Where the next compaction of `level` resumes (keys after `key`). */
export interface CompactPointer {
  level: number;
  key: Uint8Array;
}

/** A change to the manifest state; every field is optional. Deletions apply before additions, so a file can move levels in one edit. */
export interface VersionEdit {
  /** WALs numbered below this are obsolete (their data is in SSTables). */
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  addedFiles?: FileMeta[];
  deletedFiles?: DeletedFile[];
  compactPointers?: CompactPointer[];
}

/** The manifest applied; treat as immutable (applyEdit returns a new object). */
export interface ManifestState {
  logNumber: number;
  nextFileNumber: number;
  lastSequence: number;
  /**
   * NUM_LEVELS arrays. `levels[0]` newest first (maxSeq, then number, descending);
   * deeper levels sorted by smallest key.
   */
  levels: FileMeta[][];
  compactPointers: Map<number, Uint8Array>;
}

export function emptyManifestState(): ManifestState {
  return {
    logNumber: 0,
    nextFileNumber: 1,
    lastSequence: 0,
    levels: Array.from({ length: NUM_LEVELS }, () => []),
    compactPointers: new Map(),
  };
}

/** Where an edit came from, so validation failures become CORRUPTION naming the file. */
export interface EditSource {
  file: string;
  offset: number;
}

function editError(what: string, source?: EditSource): KvdbError {
  return source
    ? corruption(source.file, `bad version edit: ${what}`, source.offset)
    : new KvdbError("INVALID_ARGUMENT", `invalid version edit: ${what}`);
}

function sortLevelFiles(level: number, files: FileMeta[]): void {
  if (level === 0) files.sort((a, b) => b.maxSeq - a.maxSeq || b.number - a.number);
  else files.sort((a, b) => compareBytes(a.smallest, b.smallest) || a.number - b.number);
}

/**
 * Applies `edit` to `state` without changing either and returns the new state. Throws
 * for an invalid edit (bad numbers, deleting a file that is not there, adding a file
 * number that is already live, a file number not below nextFileNumber): INVALID_ARGUMENT,
 * or CORRUPTION naming the file when `source` is given.
 */
export function applyEdit(state: ManifestState, edit: VersionEdit, source?: EditSource): ManifestState {
  const fail = (what: string) => editError(what, source);
  const uint = (v: number, what: string): number => {
    if (!Number.isSafeInteger(v) || v < 0) throw fail(`${what} is not a non-negative integer: ${v}`);
    return v;
  };
  const level = (v: number): number => {
    if (!Number.isInteger(v) || v < 0 || v >= NUM_LEVELS) throw fail(`bad level ${v}`);
    return v;
  };

  const next: ManifestState = {
    logNumber: edit.logNumber === undefined ? state.logNumber : uint(edit.logNumber, "logNumber"),
    nextFileNumber:
      edit.nextFileNumber === undefined ? state.nextFileNumber : uint(edit.nextFileNumber, "nextFileNumber"),
    lastSequence: edit.lastSequence === undefined ? state.lastSequence : uint(edit.lastSequence, "lastSequence"),
    levels: state.levels.slice(),
    compactPointers: state.compactPointers,
  };
  const touched = new Set<number>();
  const touch = (l: number): FileMeta[] => {
    if (!touched.has(l)) {
      touched.add(l);
      next.levels[l] = next.levels[l].slice();
    }
    return next.levels[l];
  };

  for (const d of edit.deletedFiles ?? []) {
    const files = touch(level(d.level));
    const i = files.findIndex((f) => f.number === d.number);
    if (i < 0) throw fail(`deletes unknown file ${d.number} at level ${d.level}`);
    files.splice(i, 1);
  }

  if (edit.addedFiles?.length) {
    const live = new Set<number>();
    for (const files of next.levels) for (const f of files) live.add(f.number);
    for (const f of edit.addedFiles) {
      const number = uint(f.number, "file number");
      if (live.has(number)) throw fail(`adds file ${number}, which is already live`);
      if (number >= next.nextFileNumber) throw fail(`adds file ${number}, not below nextFileNumber ${next.nextFileNumber}`);
      const meta: FileMeta = {
        level: level(f.level),
        number,
        size: uint(f.size, "file size"),
        smallest: f.smallest,
        largest: f.largest,
        entries: uint(f.entries, "entries"),
        minSeq: uint(f.minSeq, "minSeq"),
        maxSeq: uint(f.maxSeq, "maxSeq"),
      };
      if (meta.minSeq > meta.maxSeq) throw fail(`file ${number} has minSeq > maxSeq`);
      if (compareBytes(meta.smallest, meta.largest) > 0) throw fail(`file ${number} has smallest > largest key`);
      live.add(number);
      touch(meta.level).push(meta);
    }
  }
  for (const l of touched) sortLevelFiles(l, next.levels[l]);

  if (edit.compactPointers?.length) {
    next.compactPointers = new Map(state.compactPointers);
    for (const p of edit.compactPointers) next.compactPointers.set(level(p.level), p.key);
  }
  return next;
}

/** One edit that rebuilds `state` from the empty state: the first record of every manifest. */
export function snapshotEdit(state: ManifestState): VersionEdit {
  return {
    logNumber: state.logNumber,
    nextFileNumber: state.nextFileNumber,
    lastSequence: state.lastSequence,
    addedFiles: state.levels.flat(),
    compactPointers: [...state.compactPointers].map(([level, key]) => ({ level, key })),
  };
}

// ---- JSON payload ----

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes an edit as its JSON payload. */
export function encodeEdit(edit: VersionEdit): Uint8Array {
  const json: Record<string, unknown> = {};
  if (edit.logNumber !== undefined) json.logNumber = edit.logNumber;
  if (edit.nextFileNumber !== undefined) json.nextFileNumber = edit.nextFileNumber;
  if (edit.lastSequence !== undefined) json.lastSequence = edit.lastSequence;
  if (edit.addedFiles?.length) {
    json.addedFiles = edit.addedFiles.map((f) => ({
      level: f.level,
      number: f.number,
      size: f.size,
      smallest: b64(f.smallest),
      largest: b64(f.largest),
      entries: f.entries,
      minSeq: f.minSeq,
      maxSeq: f.maxSeq,
    }));
  }
  if (edit.deletedFiles?.length) json.deletedFiles = edit.deletedFiles.map((d) => ({ level: d.level, number: d.number }));
  if (edit.compactPointers?.length) {
    json.compactPointers = edit.compactPointers.map((p) => ({ level: p.level, key: b64(p.key) }));
  }
  return utf8(JSON.stringify(json));
}

const EDIT_FIELDS = ["logNumber", "nextFileNumber", "lastSequence", "addedFiles", "deletedFiles", "compactPointers"];
const FILE_FIELDS = ["level", "number", "size", "smallest", "largest", "entries", "minSeq", "maxSeq"];

/**
 * Parses and shape-checks one edit payload (types and required fields; values are
 * checked by {@link applyEdit}). Unknown fields are corruption: a field this version
 * does not understand must not be silently ignored.
 */
export function decodeEdit(payload: Uint8Array, fileName: string, offset: number): VersionEdit {
  const fail = (what: string) => corruption(fileName, `bad version edit: ${what}`, offset);
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(payload));
  } catch {
    throw fail("not UTF-8 JSON");
  }
  const object = (v: unknown, fields: string[], what: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw fail(`${what} is not an object`);
    for (const k of Object.keys(v)) if (!fields.includes(k)) throw fail(`unknown field ${JSON.stringify(k)} in ${what}`);
    return v as Record<string, unknown>;
  };
  const num = (v: unknown, what: string): number => {
    if (typeof v !== "number") throw fail(`${what} is not a number`);
    return v;
  };
  const bytes = (v: unknown, what: string): Uint8Array => {
    if (typeof v !== "string" || !BASE64.test(v)) throw fail(`${what} is not base64`);
    return new Uint8Array(Buffer.from(v, "base64"));
  };
  const list = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v)) throw fail(`${what} is not an array`);
    return v;
  };

  const o = object(json, EDIT_FIELDS, "edit");
  const edit: VersionEdit = {};
  if (o.logNumber !== undefined) edit.logNumber = num(o.logNumber, "logNumber");
  if (o.nextFileNumber !== undefined) edit.nextFileNumber = num(o.nextFileNumber, "nextFileNumber");
  if (o.lastSequence !== undefined) edit.lastSequence = num(o.lastSequence, "lastSequence");
  if (o.addedFiles !== undefined) {
    edit.addedFiles = list(o.addedFiles, "addedFiles").map((v) => {
      const f = object(v, FILE_FIELDS, "added file");
      return {
        level: num(f.level, "level"),
        number: num(f.number, "number"),
        size: num(f.size, "size"),
        smallest: bytes(f.smallest, "smallest"),
        largest: bytes(f.largest, "largest"),
        entries: num(f.entries, "entries"),
        minSeq: num(f.minSeq, "minSeq"),
        maxSeq: num(f.maxSeq, "maxSeq"),
      };
    });
  }
  if (o.deletedFiles !== undefined) {
    edit.deletedFiles = list(o.deletedFiles, "deletedFiles").map((v) => {
      const d = object(v, ["level", "number"], "deleted file");
      return { level: num(d.level, "level"), number: num(d.number, "number") };
    });
  }
  if (o.compactPointers !== undefined) {
    edit.compactPointers = list(o.compactPointers, "compactPointers").map((v) => {
      const p = object(v, ["level", "key"], "compact pointer");
      return { level: num(p.level, "level"), key: bytes(p.key, "key") };
    });
  }
  return edit;
}

// ---- reading ----

/** The manifest file name held in CURRENT, or undefined when there is no CURRENT (a new database). */
export function readCurrent(fs: FileSystem, dir: string): string | undefined {
  const currentPath = path.join(dir, CURRENT_FILE);
  if (!fs.exists(currentPath)) return undefined;
  const data = fs.readFile(currentPath);
  let text: string;
  try {
    text = fromUtf8(data);
  } catch {
    throw corruption(currentPath, "not UTF-8");
  }
  const name = text.endsWith("\n") ? text.slice(0, -1) : "";
  if (parseFileName(name)?.type !== "manifest") throw corruption(currentPath, `does not name a manifest: ${JSON.stringify(text)}`);
  return name;
}

/**
 * Reads the state of the database in `dir`: undefined when there is no CURRENT (a new
 * database). A torn tail of the manifest is truncated away (with fsync); damage before
 * valid records, an invalid edit or a missing or empty manifest throw CORRUPTION naming
 * the file.
 */
export async function readManifest(fs: FileSystem, dir: string): Promise<ManifestState | undefined> {
  const name = readCurrent(fs, dir);
  if (name === undefined) return undefined;
  const file = path.join(dir, name);
  if (!fs.exists(file)) throw corruption(file, "manifest named by CURRENT is missing");
  const { records, validBytes, tornBytes } = readRecords(fs.readFile(file), file, MAX_MANIFEST_RECORD_BYTES);
  // A manifest is fsynced before CURRENT names it, so it always holds its snapshot.
  if (records.length === 0) throw corruption(file, "manifest holds no version edit", 0);
  let state = emptyManifestState();
  for (const r of records) {
    state = applyEdit(state, decodeEdit(r.payload, file, r.offset), { file, offset: r.offset });
  }
  if (tornBytes > 0) await fs.truncate(file, validBytes);
  return state;
}

// ---- writing ----

/** Points CURRENT at `manifestName`: temp file, fsync, rename, directory fsync. */
async function setCurrent(fs: FileSystem, dir: string, manifestName: string): Promise<void> {
  const current = path.join(dir, CURRENT_FILE);
  const temp = path.join(dir, tempFileName(CURRENT_FILE));
  const file = fs.openWritable(temp, { truncate: true });
  try {
    file.append(utf8(`${manifestName}\n`));
    await file.sync();
  } finally {
    file.close();
  }
  fs.rename(temp, current);
  await fs.syncDir(dir);
}

/** Appends version edits to the live manifest, one at a time, each fsynced. */
export class ManifestWriter {
  private failure: unknown;
  private closed = false;
  /** Edits queued or being written. */
  private pending = 0;
  /** Tail of the edit queue; never rejects. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: WritableFile,
    readonly fileNumber: number,
    private current: ManifestState,
  ) {}

  /**
   * Writes `MANIFEST-<fileNumber>` holding one snapshot edit of `state`, fsyncs it and
   * the directory, then points CURRENT at it. `fileNumber` must be below
   * `state.nextFileNumber` so that no later file can reuse it.
   */
  static async create(fs: FileSystem, dir: string, state: ManifestState, fileNumber: number): Promise<ManifestWriter> {
    if (!Number.isSafeInteger(fileNumber) || fileNumber < 0 || fileNumber >= state.nextFileNumber) {
      throw new KvdbError(
        "INVALID_ARGUMENT",
        `manifest file number ${fileNumber} must be below nextFileNumber ${state.nextFileNumber}`,
      );
    }
    const snapshot = snapshotEdit(state);
    const normalized = applyEdit(emptyManifestState(), snapshot);
    const name = manifestFileName(fileNumber);
    const file = fs.openWritable(path.join(dir, name), { truncate: true });
    try {
      file.append(encodeRecord(encodeEdit(snapshot)));
      await file.sync();
      // The new manifest's directory entry must be durable before CURRENT can name it.
      await fs.syncDir(dir);
      await setCurrent(fs, dir, name);
    } catch (e) {
      try {
        file.close();
      } catch {
        // The first error is the one to report.
      }
      throw e;
    }
    return new ManifestWriter(file, fileNumber, normalized);
  }

  get path(): string {
    return this.file.path;
  }

  /** Bytes in the manifest file; start a new one (`create`) once this grows large. */
  get size(): number {
    return this.file.size;
  }

  /** The state after every edit applied so far. */
  get state(): ManifestState {
    return this.current;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Appends `edit` and fsyncs; resolves once it is durable. Edits are written in call
   * order. An invalid edit (see {@link applyEdit}) is rejected without being written;
   * a failed write or sync fails this and every later edit.
   */
  apply(edit: VersionEdit): Promise<void> {
    if (this.closed) return Promise.reject(new KvdbError("CLOSED", `manifest ${this.file.path} is closed`));
    this.pending++;
    const run = this.queue.then(() => this.write(edit)).finally(() => this.pending--);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Closes the file; later `apply` calls reject with CLOSED. Edits already queued are
   * still written, and the file is closed once they finish.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending === 0) {
      this.file.close();
      return;
    }
    void this.queue.then(() => {
      try {
        this.file.close();
      } catch {
        // Nobody is left to report to; the edits' own promises carried any failure.
      }
    });
  }

  private async write(edit: VersionEdit): Promise<void> {
    if (this.failure !== undefined) {
      const reason = this.failure instanceof Error ? this.failure.message : String(this.failure);
      throw new KvdbError(
        "IO_ERROR",
        `manifest ${this.file.path} failed earlier (${reason}); the database must be reopened`,
        { cause: this.failure },
      );
    }
    // Validate first: an invalid edit on disk would make the database unopenable.
    const next = applyEdit(this.current, edit);
    const record = encodeRecord(encodeEdit(edit));
    try {
      this.file.append(record);
      await this.file.sync();
    } catch (e) {
      this.failure = e;
      throw e;
    }
    this.current = next;
  }
}
