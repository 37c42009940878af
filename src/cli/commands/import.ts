/**
 * @module
 * `kvdb import FILE|-`: loads NDJSON `{"key","value"}` lines (the format of export) in
 * batches, streaming, with a progress bar on a terminal.
 */
import { KvdbError } from "../../engine/errors.ts";
import { fromJsonValue } from "../../server/json-value.ts";
import type { WriteOp } from "../../types.ts";
import type { Command } from "../command.ts";
import { openInput, readNdjson } from "../ndjson.ts";
import { writeJson } from "../output.ts";
import { progress } from "../progress.ts";

/** A batch is written when it reaches this many keys or bytes. */
const BATCH_KEYS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

function decodeEntry(value: unknown, line: number): WriteOp {
  const at = `line ${line}`;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new KvdbError("INVALID_ARGUMENT", `${at}: expected an object {"key","value"}`);
  const record = value as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (field !== "key" && field !== "value" && field !== "value_base64") throw new KvdbError("INVALID_ARGUMENT", `${at}: unknown field "${field}"`);
  }
  if (typeof record.key !== "string") throw new KvdbError("INVALID_KEY", `${at}: "key" must be a string`);
  return { type: "put", key: record.key, value: fromJsonValue(record, at) };
}

export const importCommand: Command = {
  name: "import",
  summary: "Load NDJSON {\"key\",\"value\"} lines (as written by export)",
  usage: "FILE|-",
  description:
    `Writes in atomic batches of up to ${BATCH_KEYS} keys. A bad line stops the import with its line number; ` +
    "the batches before it stay written. Shows progress on a terminal.",
  args: { min: 1, max: 1 },
  async run({ args, common, io, store }) {
    const input = openInput(args[0], io);
    const db = await store();
    const bar = progress(io, "import", { totalBytes: input.size });
    let batch: WriteOp[] = [];
    let batchBytes = 0;
    let count = 0;
    try {
      for await (const { value, line, bytes } of readNdjson(input.chunks)) {
        const op = decodeEntry(value, line);
        batch.push(op);
        batchBytes += op.key.length + (op.type === "put" ? op.value.length : 0);
        if (batch.length >= BATCH_KEYS || batchBytes >= BATCH_BYTES) {
          await db.write(batch);
          count += batch.length;
          batch = [];
          batchBytes = 0;
          bar.update(count, bytes);
        }
      }
      if (batch.length > 0) await db.write(batch);
      count += batch.length;
    } finally {
      bar.finish();
    }
    if (common.json) writeJson(io.stdout, { imported: count });
    else io.stdout.write(`imported ${count} keys\n`);
    return 0;
  },
};
