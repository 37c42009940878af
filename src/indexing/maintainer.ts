/**
 * @module
 * Keeps indexes in step with the records, inside the engine's serialized write path (the
 * engine's `prepareBatch` hook): for every write into an index's scope it reads the
 * previous value, extracts the old and new indexed values, and adds to the same atomic
 * batch a remove for each value that went away and an add for each new one. Because the
 * hook runs one batch at a time with reads that see every earlier write, concurrent
 * writers can never lose a posting, and an update that moves a record from one value to
 * another never leaves it answering for the old one.
 */
import type { BatchReader, EngineOp } from "../engine/engine.ts";
import { KIND_PUT } from "../engine/iterator.ts";
import { encodeIndexValue } from "./value_codec.ts";
import { IndexWriter, type BlockLimits } from "./index_writer.ts";
import { OP_ADD, OP_REMOVE } from "./posting_block.ts";
import type { IndexInstance } from "./instance.ts";

const latin1 = new TextDecoder("latin1");
const idOf = (b: Uint8Array) => latin1.decode(b);

const NONE: ReadonlyMap<string, Uint8Array> = new Map();

/**
 * The encoded, de-duplicated values `index` extracts from one record, by their latin1
 * text (a Map key that compares like the bytes).
 */
export function encodedValues(index: IndexInstance, key: Uint8Array, value: Uint8Array | undefined): ReadonlyMap<string, Uint8Array> {
  if (value === undefined) return NONE;
  const out = new Map<string, Uint8Array>();
  for (const v of index.extract(key, value)) {
    const enc = encodeIndexValue(v);
    out.set(idOf(enc), enc);
  }
  return out;
}

/** Writes the index changes for a record going from `before` to `after` (undefined = absent). */
export function indexRecordChange(
  writer: IndexWriter,
  index: IndexInstance,
  key: Uint8Array,
  before: Uint8Array | undefined,
  after: Uint8Array | undefined,
): void {
  const oldValues = encodedValues(index, key, before);
  const newValues = encodedValues(index, key, after);
  if (newValues.size > 1 && !index.multikey) {
    // Sticky until a rebuild, and persisted in the same batch: while it is false the
    // planner may intersect two conditions on the field (no record holds an array).
    index.multikey = true;
    writer.put(index.recordKey, index.encodeRecord());
  }
  for (const [id, enc] of oldValues) {
    if (newValues.has(id)) continue;
    if (index.definition.type === "equality") writer.appendPosting(index, enc, OP_REMOVE, key, -1, id);
    else writer.rangeEntry(index, enc, key, false);
  }
  for (const [id, enc] of newValues) {
    if (oldValues.has(id)) continue;
    if (index.definition.type === "equality") writer.appendPosting(index, enc, OP_ADD, key, +1, id);
    else writer.rangeEntry(index, enc, key, true);
  }
}

/**
 * Returns the batch with its index changes appended. `indexes` are the generations that
 * writes must maintain (ready and building; see IndexInstance.maintains).
 */
export function maintainIndexes(indexes: readonly IndexInstance[], ops: EngineOp[], reader: BatchReader, limits: BlockLimits): EngineOp[] {
  if (indexes.length === 0) return ops;
  let writer: IndexWriter | undefined;
  // Records written earlier in this same batch: the "previous value" of a later write.
  const written = new Map<string, Uint8Array | undefined>();
  for (const op of ops) {
    if (op.internal) continue;
    let applicable: IndexInstance[] | undefined;
    for (const index of indexes) {
      if (index.inScope(op.key) && index.maintains(op.key)) (applicable ??= []).push(index);
    }
    if (!applicable) continue;
    const id = idOf(op.key);
    const before = written.has(id) ? written.get(id) : reader.get(op.key);
    const after = op.kind === KIND_PUT ? op.value : undefined;
    written.set(id, after);
    writer ??= new IndexWriter(reader, limits);
    for (const index of applicable) indexRecordChange(writer, index, op.key, before, after);
  }
  return writer && !writer.isEmpty ? [...ops, ...writer.finish()] : ops;
}
