/**
 * @module
 * The JSON form of a write op, shared by `POST /batch` and `kvdb batch` (NDJSON, one op
 * a line):
 *
 *     {"op":"set","key":"k","value":"text"}
 *     {"op":"set","key":"k","value_base64":"AAE="}
 *     {"op":"delete","key":"k"}
 *
 * {@link decodeBatchOps} checks every op before returning any, so a caller that passes
 * the result to `db.write` applies all of them or none.
 */
import { t } from "elysia";
import { KvdbError } from "../engine/errors.ts";
import type { WriteOp } from "../types.ts";
import { fromJsonValue } from "./json-value.ts";

/** Most ops one batch may carry. */
export const MAX_BATCH_OPS = 100_000;

/** The schema of one op: validation of `POST /batch` and its OpenAPI description. */
export const BatchOpSchema = t.Object(
  {
    op: t.Union([t.Literal("set"), t.Literal("delete")]),
    key: t.String({ minLength: 1, description: "The key (any Unicode string)." }),
    value: t.Optional(t.String({ description: "For `set`: the value as text (stored as UTF-8)." })),
    value_base64: t.Optional(t.String({ description: "For `set`: the value as standard base64 (any bytes)." })),
  },
  { additionalProperties: false },
);

export const BatchBodySchema = t.Object(
  { ops: t.Array(BatchOpSchema, { maxItems: MAX_BATCH_OPS }) },
  { additionalProperties: false },
);

/** Converts JSON ops to database ops, rejecting the whole list at the first bad op. */
export function decodeBatchOps(ops: unknown): WriteOp[] {
  if (!Array.isArray(ops)) throw new KvdbError("INVALID_ARGUMENT", `"ops" must be an array`);
  if (ops.length > MAX_BATCH_OPS) {
    throw new KvdbError("TOO_LARGE", `a batch holds at most ${MAX_BATCH_OPS} ops, got ${ops.length}`);
  }
  return ops.map((op, i) => decodeBatchOp(op, `ops[${i}]`));
}

/** One JSON op; `at` names it in error messages. */
export function decodeBatchOp(op: unknown, at: string): WriteOp {
  if (op === null || typeof op !== "object" || Array.isArray(op)) {
    throw new KvdbError("INVALID_ARGUMENT", `${at}: an op must be an object`);
  }
  const record = op as Record<string, unknown>;
  const known = record.op === "delete" ? ["op", "key"] : ["op", "key", "value", "value_base64"];
  for (const field of Object.keys(record)) {
    if (!known.includes(field)) throw new KvdbError("INVALID_ARGUMENT", `${at}: unknown field "${field}" for op "${String(record.op)}"`);
  }
  if (typeof record.key !== "string") throw new KvdbError("INVALID_KEY", `${at}: "key" must be a string`);
  if (record.op === "delete") return { type: "delete", key: record.key };
  if (record.op === "set") return { type: "put", key: record.key, value: fromJsonValue(record, at) };
  throw new KvdbError("INVALID_ARGUMENT", `${at}: "op" must be "set" or "delete"`);
}
