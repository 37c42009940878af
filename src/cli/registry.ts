/**
 * @module
 * Every CLI command, in the order `kvdb --help` lists them. A new command is a module in
 * `commands/` added to this list.
 */
import type { Command } from "./command.ts";
import { backupCommand } from "./commands/backup.ts";
import { batchCommand } from "./commands/batch.ts";
import { checkCommand } from "./commands/check.ts";
import { compactCommand } from "./commands/compact.ts";
import { delCommand } from "./commands/del.ts";
import { exportCommand } from "./commands/export.ts";
import { getCommand } from "./commands/get.ts";
import { importCommand } from "./commands/import.ts";
import { indexCommand } from "./commands/indexes.ts";
import { queryCommand } from "./commands/query.ts";
import { scanCommand } from "./commands/scan.ts";
import { serveCommand } from "./commands/serve.ts";
import { setCommand } from "./commands/set.ts";
import { statsCommand } from "./commands/stats.ts";

export const COMMANDS: Command[] = [
  getCommand,
  setCommand,
  delCommand,
  scanCommand,
  queryCommand,
  indexCommand,
  batchCommand,
  importCommand,
  exportCommand,
  statsCommand,
  compactCommand,
  backupCommand,
  checkCommand,
  serveCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
