/**
 * @module
 * `kvdb backup DEST`: a consistent checkpoint of the database in DEST (`POST /backup`
 * through the running server when one holds the data directory — it keeps serving — or
 * `db.backup` after opening the directory here). DEST is resolved against the current
 * directory; with `--url` it names a directory on the server's machine and must be
 * absolute.
 */
import * as path from "node:path";
import { KvdbError } from "../../engine/errors.ts";
import { backupDestinationProblem } from "../../server/routes/backup.ts";
import { UsageError } from "../args.ts";
import type { Command } from "../command.ts";
import { formatBytes, writeJson } from "../output.ts";

export const backupCommand: Command = {
  name: "backup",
  summary: "Write a consistent backup of the database to DEST",
  usage: "DEST",
  description:
    "Writes a checkpoint of the database into DEST, a new or empty directory: tables are hard-linked (copied across " +
    "file systems), the WALs not yet in tables are copied up to this moment, and a fresh manifest describes the copy. " +
    "When a server holds the data directory the backup goes through it (POST /backup) and it keeps serving; the " +
    "server writes DEST on its own file system. The backup holds every write acknowledged before the command " +
    "started; open it with 'kvdb serve --data-dir DEST' (or any command with --data-dir DEST).",
  args: { min: 1, max: 1 },
  async run({ args, common, io, store }) {
    if (common.url && !path.isAbsolute(args[0])) {
      throw new UsageError(`backup: with --url, DEST names a directory on the server's machine and must be an absolute path, got ${JSON.stringify(args[0])}`);
    }
    const dest = path.resolve(args[0]);
    if (!common.url) {
      // The directory is on this machine either way (opened here, or by a local server).
      const problem = backupDestinationProblem(dest);
      if (problem) throw new KvdbError("INVALID_ARGUMENT", problem);
    }
    const r = await (await store()).backup(dest);
    if (common.json) writeJson(io.stdout, r);
    else io.stdout.write(`backed up ${plural(r.tables, "table")} and ${plural(r.wals, "WAL file")} (${formatBytes(r.bytes)}) to ${r.dir} in ${r.ms} ms\n`);
    return 0;
  },
};

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
