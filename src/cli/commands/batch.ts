/**
 * @module
 * `kvdb batch FILE|-`: NDJSON ops applied atomically, the same ops as `POST /batch`.
 */
import { decodeBatchOp } from "../../server/batch-ops.ts";
import type { WriteOp } from "../../types.ts";
import type { Command } from "../command.ts";
import { openInput, readNdjson } from "../ndjson.ts";
import { writeJson } from "../output.ts";

export const batchCommand: Command = {
  name: "batch",
  summary: "Apply NDJSON set/delete ops atomically",
  usage: "FILE|-",
  description:
    'One op per line: {"op":"set","key","value"}, {"op":"set","key","value_base64"} or {"op":"delete","key"}. ' +
    "Every line is checked first; any bad line fails the command and applies nothing. Through a server the whole " +
    "batch is one request, so it must fit the server's body limit (use import for bulk loads).",
  args: { min: 1, max: 1 },
  async run({ args, common, io, store }) {
    const ops: WriteOp[] = [];
    for await (const { value, line } of readNdjson(openInput(args[0], io).chunks)) {
      ops.push(decodeBatchOp(value, `line ${line}`));
    }
    await (await store()).write(ops);
    if (common.json) writeJson(io.stdout, { applied: ops.length });
    else io.stdout.write(`applied ${ops.length} ops\n`);
    return 0;
  },
};
