/**
 * @module
 * The file half of `kvdb check`: verifies every checksum and structure in a data
 * directory and lists what is damaged, by file and offset, without changing anything —
 * no truncation of torn tails, no recovery, no deletion of orphans (files are read with
 * `FileSystem.readFile`; nothing is opened for writing).
 *
 * What is checked, in order:
 * - `CURRENT` names a manifest that exists;
 * - the manifest: every record's CRC (damage in the middle; a torn tail is a warning, as
 *   the next open truncates it), every edit's shape and validity, and the level
 *   invariants of the resulting state (levels 1–6 sorted and non-overlapping);
 * - every live SSTable: footer (magic, version, handles, zero padding), index,
 *   properties and filter blocks, every data block's CRC and structure (each damaged
 *   block is reported), the order of all entries, and the table against its manifest
 *   entry (size, entry count, key and sequence ranges);
 * - every WAL at or above the manifest's `logNumber`: record CRCs (damage in the middle,
 *   torn tail a warning) and every batch's encoding;
 * - files the manifest does not reference (orphan tables, obsolete WALs, old manifests,
 *   temp files): warnings, since the next open deletes them.
 *
 * A damaged manifest leaves the set of live tables unknown: then every table in the
 * directory is verified and no file is called an orphan.
 *
 * `live: true` checks the directory of a database that is open in this process and
 * changing meanwhile (`POST /check`): a WAL or manifest being appended may end in a
 * partial record, and compactions add and delete tables between the listing and the
 * reading. So in live mode the newest WAL's and the manifest's torn tails are not
 * reported, a file that disappears is skipped, and orphans are not reported (compaction
 * outputs not yet in the manifest, tables still read by open scans).
 *
 * Offsets: a problem's `offset` is where the damaged unit starts — the record (WAL,
 * manifest), the block (SSTable), the bad byte of a batch or block entry when the
 * decoder names one — exactly as the engine's own CORRUPTION errors report it.
 */
import { join } from "node:path";
import { compareBytes } from "./coding.ts";
import { isKvdbError } from "./errors.ts";
import { parseFileName, tableFileName } from "./filenames.ts";
import { defaultFileSystem, type FileSystem } from "./fs.ts";
import { RECORD_HEADER_BYTES, readRecords } from "./log_format.ts";
import { MAX_MANIFEST_RECORD_BYTES, applyEdit, decodeEdit, emptyManifestState, readCurrent, type FileMeta, type ManifestState } from "./manifest.ts";
import { DEFAULT_ENGINE_OPTIONS } from "./options.ts";
import { DecodedBlock } from "./sstable/block.ts";
import { FOOTER_SIZE, decodeFooter, encodeFooter } from "./sstable/format.ts";
import { TableReader } from "./sstable/reader.ts";
import { decodeBatch } from "./write_batch.ts";

/** `damage`: data is wrong or unreadable. `warning`: suspicious but expected after a crash, repaired by the next open. */
export type ProblemSeverity = "damage" | "warning";

export interface CheckProblem {
  severity: ProblemSeverity;
  /** A file name in the data directory (`000012.sst`, `CURRENT`), or `index:<name>` for a secondary index. */
  file: string;
  /** Byte offset in `file` where the damaged record or block starts, when there is one. */
  offset?: number;
  message: string;
  /** For index problems: the record key concerned. */
  key?: string;
}

/** What the file check looked at. */
export interface FileCheckFigures {
  /** The manifest CURRENT names (null: no CURRENT, or unreadable). */
  manifest: string | null;
  manifestEdits: number;
  tables: number;
  tableBytes: number;
  dataBlocks: number;
  entries: number;
  wals: number;
  walBatches: number;
  walBytes: number;
  /** Files the next open would delete (orphan tables, obsolete WALs, old manifests, temp files). */
  orphans: number;
}

export interface FileCheckReport {
  problems: CheckProblem[];
  figures: FileCheckFigures;
}

export interface FileCheckOptions {
  fs?: FileSystem;
  /** Bound on one WAL record (the engine's `maxRecordBytes`). */
  maxRecordBytes?: number;
  /** The database is open and changing meanwhile (see the module comment). */
  live?: boolean;
}

/** Verifies the files of the data directory `dir`; never writes to it. */
export async function checkDataFiles(dir: string, options: FileCheckOptions = {}): Promise<FileCheckReport> {
  const checker = new FileChecker(dir, options);
  await checker.run();
  return { problems: checker.problems, figures: checker.figures };
}

/** Turns a thrown error into a problem about `file`: the CORRUPTION message without its path prefix, the offset split out. */
function problemFromError(e: unknown, file: string, fullPath: string): CheckProblem {
  let message = e instanceof Error ? e.message : String(e);
  if (!isKvdbError(e, "CORRUPTION")) return { severity: "damage", file, message: `cannot read: ${message}` };
  for (const prefix of [`${fullPath}: `, `${file}: `]) {
    if (message.startsWith(prefix)) {
      message = message.slice(prefix.length);
      break;
    }
  }
  // corruption() ends its message with " at offset N" when it knows one.
  const m = / at offset (\d+)$/.exec(message);
  if (!m) return { severity: "damage", file, message };
  return { severity: "damage", file, offset: Number(m[1]), message: message.slice(0, m.index) };
}

const isMissing = (e: unknown) => (e as { cause?: { code?: unknown } })?.cause?.code === "ENOENT";
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class FileChecker {
  readonly problems: CheckProblem[] = [];
  readonly figures: FileCheckFigures = {
    manifest: null,
    manifestEdits: 0,
    tables: 0,
    tableBytes: 0,
    dataBlocks: 0,
    entries: 0,
    wals: 0,
    walBatches: 0,
    walBytes: 0,
    orphans: 0,
  };
  private readonly fs: FileSystem;
  private readonly live: boolean;
  private readonly maxRecordBytes: number;

  constructor(
    private readonly dir: string,
    options: FileCheckOptions,
  ) {
    this.fs = options.fs ?? defaultFileSystem;
    this.live = options.live ?? false;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_ENGINE_OPTIONS.maxRecordBytes;
  }

  private damage(file: string, message: string, offset?: number): void {
    this.problems.push(offset === undefined ? { severity: "damage", file, message } : { severity: "damage", file, offset, message });
  }

  private warn(file: string, message: string, offset?: number): void {
    this.problems.push(offset === undefined ? { severity: "warning", file, message } : { severity: "warning", file, offset, message });
  }

  private fail(e: unknown, file: string): void {
    this.problems.push(problemFromError(e, file, join(this.dir, file)));
  }

  /** The file's bytes; undefined (and a problem, unless it vanished in live mode) when unreadable. */
  private read(name: string): Uint8Array | undefined {
    try {
      return this.fs.readFile(join(this.dir, name));
    } catch (e) {
      if (!(this.live && isMissing(e))) this.fail(e, name);
      return undefined;
    }
  }

  async run(): Promise<void> {
    const names = this.fs.list(this.dir).sort();
    const state = this.checkManifest(names);
    const live = new Set(state?.levels.flat().map((f) => f.number));

    // Tables: those the manifest lists, or every table when the manifest is unusable.
    if (state) {
      for (const meta of state.levels.flat()) {
        const name = tableFileName(meta.number);
        if (!names.includes(name)) {
          if (!this.live) this.damage(name, `missing: the manifest lists it at level ${meta.level}`);
          continue;
        }
        this.checkTable(name, meta);
        await yieldToEventLoop();
      }
    } else {
      for (const name of names) {
        if (parseFileName(name)?.type !== "table") continue;
        this.checkTable(name, undefined);
        await yieldToEventLoop();
      }
    }

    const wals = names.filter((n) => parseFileName(n)?.type === "wal");
    const newestWal = wals.at(-1);
    for (const name of wals) {
      const number = parseFileName(name)!.number!;
      if (state && number < state.logNumber) {
        if (!this.live) this.orphan(name, "obsolete WAL (its writes are in tables)");
        continue;
      }
      this.checkWal(name, this.live && name === newestWal);
      await yieldToEventLoop();
    }

    if (!state || this.live) return;
    for (const name of names) {
      const parsed = parseFileName(name);
      if (parsed?.type === "table" && !live.has(parsed.number!)) this.orphan(name, "table not referenced by the manifest (left by an interrupted flush or compaction)");
      else if (parsed?.type === "manifest" && name !== this.figures.manifest) this.orphan(name, "manifest not named by CURRENT");
      else if (parsed?.type === "temp") this.orphan(name, "temporary file of an interrupted write");
    }
  }

  private orphan(name: string, what: string): void {
    this.figures.orphans++;
    this.warn(name, `${what}; the next open deletes it`);
  }

  /** CURRENT and the manifest it names; the manifest state, or undefined when it cannot be trusted. */
  private checkManifest(names: string[]): ManifestState | undefined {
    let name: string | undefined;
    try {
      name = readCurrent(this.fs, this.dir);
    } catch (e) {
      const p = problemFromError(e, "CURRENT", join(this.dir, "CURRENT"));
      // Its content is one line: the damage is the file as a whole, from its first byte.
      this.problems.push(isKvdbError(e, "CORRUPTION") ? { ...p, offset: 0 } : p);
      return undefined;
    }
    if (name === undefined) {
      if (names.some((n) => ["table", "manifest"].includes(parseFileName(n)?.type ?? ""))) {
        this.damage("CURRENT", "missing, but the directory holds tables or manifests");
        return undefined;
      }
      return emptyManifestState();
    }
    this.figures.manifest = name;
    // Live, the manifest may have rotated since the listing.
    if (!(this.live ? this.fs.exists(join(this.dir, name)) : names.includes(name))) {
      this.damage("CURRENT", `names ${name}, which does not exist`);
      return undefined;
    }
    const data = this.read(name);
    if (!data) return undefined;
    const path = join(this.dir, name);
    let records;
    try {
      records = readRecords(data, path, MAX_MANIFEST_RECORD_BYTES);
    } catch (e) {
      this.fail(e, name);
      return undefined;
    }
    if (records.records.length === 0) {
      this.damage(name, "holds no whole version edit", 0);
      return undefined;
    }
    let state = emptyManifestState();
    for (const r of records.records) {
      try {
        state = applyEdit(state, decodeEdit(r.payload, path, r.offset), { file: path, offset: r.offset });
      } catch (e) {
        this.fail(e, name);
        return undefined;
      }
      this.figures.manifestEdits++;
    }
    if (records.tornBytes > 0 && !this.live) this.warn(name, tornTail(records.tornBytes, "manifest", "edit"), records.validBytes);
    this.checkLevels(name, state);
    return state;
  }

  /** Levels 1–6 must be sorted runs of non-overlapping tables, or reads would miss keys. */
  private checkLevels(manifest: string, state: ManifestState): void {
    for (let level = 1; level < state.levels.length; level++) {
      const files = state.levels[level];
      for (let i = 1; i < files.length; i++) {
        if (compareBytes(files[i - 1].largest, files[i].smallest) >= 0) {
          this.damage(manifest, `level ${level}: tables ${tableFileName(files[i - 1].number)} and ${tableFileName(files[i].number)} overlap`);
        }
      }
    }
  }

  private checkTable(name: string, meta: FileMeta | undefined): void {
    const bytes = this.read(name);
    if (!bytes) return;
    const path = join(this.dir, name);
    let reader: TableReader;
    try {
      reader = new TableReader(path, bytes);
    } catch (e) {
      this.fail(e, name);
      return;
    }
    this.figures.tables++;
    this.figures.tableBytes += bytes.length;
    this.figures.dataBlocks += reader.blockCount;
    this.figures.entries += reader.properties.entryCount;
    // The footer has no CRC: compare it with its canonical encoding, so a flip in the
    // zero padding between the handles and the version is found too.
    const footerAt = bytes.length - FOOTER_SIZE;
    const canonical = encodeFooter(decodeFooter(bytes, path));
    const differs = canonical.findIndex((b, i) => b !== bytes[footerAt + i]);
    if (differs >= 0) this.damage(name, "table footer is not in canonical form (nonzero padding)", footerAt + differs);

    // Each data block on its own, so that every damaged block is listed.
    let damagedBlocks = 0;
    const scratch = new DecodedBlock();
    for (let i = 0; i < reader.blockCount; i++) {
      try {
        reader.decodeBlock(i, scratch);
      } catch (e) {
        damagedBlocks++;
        this.fail(e, name);
      }
    }
    // Then the order of every entry, each block's last key and the entry count.
    if (damagedBlocks === 0) {
      try {
        reader.verify();
      } catch (e) {
        this.fail(e, name);
      }
    }
    if (meta) this.compareWithManifest(name, meta, reader, bytes.length);
  }

  /** The manifest's entry routes reads: a wrong key range would send lookups past the table. */
  private compareWithManifest(name: string, meta: FileMeta, reader: TableReader, size: number): void {
    const p = reader.properties;
    const mismatches: string[] = [];
    if (meta.size !== size) mismatches.push(`size ${meta.size} (file has ${size})`);
    if (meta.entries !== p.entryCount) mismatches.push(`entries ${meta.entries} (table has ${p.entryCount})`);
    if (p.entryCount > 0 && (compareBytes(meta.smallest, p.smallest) !== 0 || compareBytes(meta.largest, p.largest) !== 0)) mismatches.push("a different key range");
    if (p.entryCount > 0 && (meta.minSeq !== p.minSeq || meta.maxSeq !== p.maxSeq)) {
      mismatches.push(`sequence numbers ${meta.minSeq}..${meta.maxSeq} (table has ${p.minSeq}..${p.maxSeq})`);
    }
    if (mismatches.length > 0) this.damage(name, `the manifest records ${mismatches.join(", ")}`);
  }

  private checkWal(name: string, appending: boolean): void {
    const data = this.read(name);
    if (!data) return;
    const path = join(this.dir, name);
    this.figures.wals++;
    this.figures.walBytes += data.length;
    let result;
    try {
      result = readRecords(data, path, this.maxRecordBytes);
    } catch (e) {
      this.fail(e, name);
      return;
    }
    for (const r of result.records) {
      try {
        decodeBatch(r.payload, path, r.offset + RECORD_HEADER_BYTES);
      } catch (e) {
        this.fail(e, name);
        return;
      }
      this.figures.walBatches++;
    }
    if (result.tornBytes > 0 && !appending) this.warn(name, tornTail(result.tornBytes, "WAL", "write"), result.validBytes);
  }
}

function tornTail(bytes: number, log: string, unit: string): string {
  return (
    `torn tail of ${bytes} bytes: no whole record follows, so this is an interrupted append (or damage to the ` +
    `newest ${unit}); the next open truncates the ${log} here`
  );
}
