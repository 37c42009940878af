/**
 * @module
 * `kvdb compact`: a full manual compaction; returns when it is done.
 */
import type { Command } from "../command.ts";
import { writeJson } from "../output.ts";

export const compactCommand: Command = {
  name: "compact",
  summary: "Compact the database now",
  usage: "",
  args: { min: 0, max: 0 },
  async run({ common, io, store }) {
    const started = performance.now();
    await (await store()).compact();
    const ms = Math.round(performance.now() - started);
    if (common.json) writeJson(io.stdout, { compacted: true, ms });
    else io.stdout.write(`compacted in ${ms} ms\n`);
    return 0;
  },
};
