/**
 * @module
 * `kvdb get KEY`: the value's exact bytes on stdout; a missing key is exit 1.
 */
import { KvdbError } from "../../engine/errors.ts";
import type { Command } from "../command.ts";
import { entryJson } from "../output.ts";

export const getCommand: Command = {
  name: "get",
  summary: "Print the value of a key",
  usage: "KEY",
  description: "Writes the stored bytes to stdout unchanged (no newline added). A missing key prints a message on stderr and exits 1. With --json: one line {\"key\",\"value\"} (or value_base64 for binary values).",
  args: { min: 1, max: 1 },
  async run({ args, common, io, store }) {
    const [key] = args;
    const value = await (await store()).get(key);
    if (value === undefined) throw new KvdbError("NOT_FOUND", `key ${JSON.stringify(key)} not found`);
    io.stdout.write(common.json ? entryJson(key, value) + "\n" : value);
    return 0;
  },
};
