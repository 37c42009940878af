/**
 * @module
 * `kvdb export [--prefix P]`: every entry as an NDJSON `{"key","value"}` line on stdout
 * (`value_base64` for binary values), in key order; import reads the same format.
 */
import type { Command } from "../command.ts";
import { entryJson } from "../output.ts";
import { progress } from "../progress.ts";

export const exportCommand: Command = {
  name: "export",
  summary: "Write all entries as NDJSON {\"key\",\"value\"} lines",
  usage: "",
  description: "In key order, over a consistent snapshot when the directory is opened directly (page by page through a server). Shows progress on a terminal.",
  options: {
    prefix: { type: "string", valueName: "P", description: "Only keys starting with P." },
  },
  args: { min: 0, max: 0 },
  async run({ flags, io, store }) {
    const bar = progress(io, "export");
    let n = 0;
    try {
      for await (const [key, value] of (await store()).scan({ prefix: flags.prefix as string | undefined })) {
        io.stdout.write(entryJson(key, value) + "\n");
        if (++n % 1000 === 0) {
          await io.stdout.flush();
          bar.update(n);
        }
      }
    } finally {
      bar.finish();
    }
    return 0;
  },
};
