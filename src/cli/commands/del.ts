/**
 * @module
 * `kvdb del KEY`: idempotent delete.
 */
import type { Command } from "../command.ts";
import { writeJson } from "../output.ts";

export const delCommand: Command = {
  name: "del",
  summary: "Delete a key (succeeds if it is absent)",
  usage: "KEY",
  args: { min: 1, max: 1 },
  async run({ args, common, io, store }) {
    await (await store()).delete(args[0]);
    if (common.json) writeJson(io.stdout, { ok: true });
    return 0;
  },
};
