/**
 * @module
 * `kvdb check`: verifies every checksum and structure of a data directory and each ready
 * index against the data, and prints what is damaged by file and offset. Exit 0 when
 * nothing is damaged (warnings allowed), 1 when something is.
 *
 * On a stopped database it runs in two phases:
 * 1. **Files**, holding the directory lock, reading only (src/engine/check.ts): nothing
 *    is truncated, recovered or deleted.
 * 2. **Indexes**, only if phase 1 found no damage (and not `--files-only`): the database
 *    is opened like by any command — which replays the WAL, truncates a torn tail and
 *    deletes the orphan files phase 1 warned about — and each ready index is compared
 *    with the data (src/indexing/check.ts).
 *
 * When a server holds the directory (or with `--url`) the check runs in the server
 * (`POST /check`) on the open database, which keeps serving.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openDatabase } from "../../db.ts";
import { checkDataFiles, type CheckProblem } from "../../engine/check.ts";
import { isKvdbError, KvdbError } from "../../engine/errors.ts";
import { acquireLock, readLockHolder, type DirLock } from "../../engine/lock.ts";
import { findRunningServer } from "../../server/server-file.ts";
import type { CheckReport } from "../../types.ts";
import type { Command } from "../command.ts";
import { displayText, formatBytes, writeJson } from "../output.ts";

export const checkCommand: Command = {
  name: "check",
  summary: "Verify checksums, file structures and indexes; exit 1 if anything is damaged",
  usage: "",
  description:
    "Verifies CURRENT, the manifest, every live SSTable (every block's CRC, entry order, footer), the WALs not yet " +
    "in tables, and each ready secondary index against the data, and lists each problem with its file and offset. " +
    "Damage exits 1; warnings (a torn WAL tail from a crash, orphan files) exit 0: the next open repairs them. On a " +
    "stopped database the files are checked first without changing anything; only if they are intact is the " +
    "database opened (replaying the WAL, like any command) to check the indexes. When a server holds the " +
    "directory, the check runs in the server (POST /check) while it keeps serving.",
  options: {
    "files-only": { type: "boolean", description: "Check only the files; do not open the database (nothing in the directory changes)." },
  },
  args: { min: 0, max: 0 },
  async run({ flags, common, io, store }) {
    const dir = path.resolve(common.dataDir);
    const remote = Boolean(common.url) || findRunningServer(dir) !== undefined;
    const report = remote ? await (await store()).check() : await checkStopped(dir, Boolean(flags["files-only"]));
    if (common.json) writeJson(io.stdout, report);
    else io.stdout.write(formatCheckReport(report, remote ? `the server's database (${(await store()).description})` : dir));
    return report.ok ? 0 : 1;
  },
};

/** The two-phase check of a directory no process holds. */
export async function checkStopped(dir: string, filesOnly: boolean): Promise<CheckReport> {
  const started = performance.now();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new KvdbError("NOT_FOUND", `no data directory at ${dir}`);
  let lock: DirLock;
  try {
    lock = acquireLock(dir);
  } catch (e) {
    if (!isKvdbError(e, "LOCKED")) throw e;
    const holder = readLockHolder(dir);
    throw new KvdbError("LOCKED", `${dir} is in use by process ${holder ?? "?"}, which recorded no server address; stop it, or pass --url to check through its server`);
  }
  let files;
  try {
    files = await checkDataFiles(dir);
  } finally {
    lock.release();
  }
  const problems: CheckProblem[] = [...files.problems];
  let indexes: CheckReport["indexes"] = [];
  const damaged = problems.some((p) => p.severity === "damage");
  if (!damaged && !filesOnly && files.figures.manifest !== null) {
    try {
      const db = await openDatabase(dir);
      try {
        const r = await db.check({ files: false });
        problems.push(...r.problems);
        indexes = r.indexes;
      } finally {
        await db.close();
      }
    } catch (e) {
      // Damage the file phase cannot see (say, a WAL batch whose merge operand has no base).
      if (!isKvdbError(e, "CORRUPTION")) throw e;
      problems.push(openProblem(e.message, dir));
    }
  }
  return { ok: !problems.some((p) => p.severity === "damage"), problems, files: files.figures, indexes, ms: Math.round(performance.now() - started) };
}

/** A CORRUPTION from opening the database, attributed to the file its message starts with. */
function openProblem(message: string, dir: string): CheckProblem {
  const m = new RegExp(`^${escapeRegExp(dir)}/([^:/]+): (.*?)(?: at offset (\\d+))?$`).exec(message);
  if (!m) return { severity: "damage", file: "(open)", message };
  return m[3] === undefined ? { severity: "damage", file: m[1], message: m[2] } : { severity: "damage", file: m[1], offset: Number(m[3]), message: m[2] };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The report for people: figures, one line per problem, a verdict. */
export function formatCheckReport(r: CheckReport, what: string): string {
  const lines: string[] = [`checked ${what}`];
  const f = r.files;
  if (f) {
    lines.push(`  manifest  ${f.manifest ?? "none (an empty database)"}${f.manifest ? `, ${f.manifestEdits} edits` : ""}`);
    lines.push(`  tables    ${f.tables} (${formatBytes(f.tableBytes)}, ${f.dataBlocks} data blocks, ${f.entries} entries)`);
    lines.push(`  wal       ${f.wals} file${f.wals === 1 ? "" : "s"} (${formatBytes(f.walBytes)}, ${f.walBatches} batches)`);
    if (f.orphans > 0) lines.push(`  orphans   ${f.orphans} (the next open deletes them)`);
  }
  for (const i of r.indexes) {
    const head = `  index     ${i.name} (${i.type}, generation ${i.generation})`;
    if (!i.checked) lines.push(`${head}: not checked (${i.state})`);
    else lines.push(`${head}: ${i.records} records, ${i.expected} values, ${i.entries} entries, ${i.missing} missing, ${i.stale} stale`);
  }
  for (const p of r.problems) {
    const at = p.offset === undefined ? "" : ` at offset ${p.offset}`;
    lines.push(`${p.severity.padEnd(8)}  ${p.file}${at}: ${displayText(p.message)}`);
  }
  const count = (s: string) => r.problems.filter((p) => p.severity === s).length;
  const warnings = count("warning");
  const tail = `${warnings} warning${warnings === 1 ? "" : "s"}, ${r.ms} ms`;
  lines.push(r.ok ? `ok: no damage (${tail})` : `DAMAGED: ${count("damage")} problem${count("damage") === 1 ? "" : "s"} (${tail})`);
  return lines.join("\n") + "\n";
}
