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
import { binaryString } from "../engine/coding.ts";
import { bloomHash } from "../engine/sstable/bloom.ts";
import type { BatchReader, EngineOp } from "../engine/engine.ts";
import { KIND_PUT } from "../engine/iterator.ts";
import { encodeIndexValue } from "./value_codec.ts";
import { IndexWriter, type BlockLimits } from "./index_writer.ts";
import { OP_ADD, OP_REMOVE } from "./posting_block.ts";
import type { IndexInstance } from "./instance.ts";
import type { IndexValue } from "./extractor.ts";
import type { KeyPresence } from "./key_presence.ts";


const NONE: ReadonlyMap<string, Uint8Array> = new Map();
const NO_VALUES: readonly IndexValue[] = [];

/** An index value's encoding and that encoding as a binary string (a Map key). */
interface Encoded {
  enc: Uint8Array;
  id: string;
}

/** Entries kept per index before its memo starts over (a field of unique values never fills memory). */
const MEMO_MAX = 4096;
const memos = new WeakMap<IndexInstance, Map<IndexValue, Encoded>>();

/**
 * The encoding of `v` for `index`. Remembered: an indexed field usually repeats a few
 * values (a city, a status, an age), and encoding one costs more than finding it.
 * Callers must not modify the bytes.
 */
function encodedOf(index: IndexInstance, v: IndexValue): Encoded {
  let memo = memos.get(index);
  if (!memo) memos.set(index, (memo = new Map()));
  let e = memo.get(v);
  if (e === undefined) {
    if (memo.size === MEMO_MAX) memo.clear();
    const enc = encodeIndexValue(v);
    memo.set(v, (e = { enc, id: binaryString(enc) }));
  }
  return e;
}

/** The encoded, de-duplicated values `index` extracts from one record, by their binary strings. */
export function encodedValues(index: IndexInstance, key: Uint8Array, value: Uint8Array | undefined): ReadonlyMap<string, Uint8Array> {
  return value === undefined ? NONE : encodedMap(index, index.extract(key, value));
}

/** `values` encoded, by their binary strings. */
function encodedMap(index: IndexInstance, values: readonly IndexValue[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const v of values) {
    const e = encodedOf(index, v);
    out.set(e.id, e.enc);
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
  // Extractors return distinct values, and distinct values have distinct encodings.
  const oldList = before === undefined ? NO_VALUES : index.extract(key, before);
  const newList = after === undefined ? NO_VALUES : index.extract(key, after);
  if (newList.length > 1 && !index.multikey) {
    // Sticky until a rebuild, and persisted in the same batch: while it is false the
    // planner may intersect two conditions on the field (no record holds an array).
    index.multikey = true;
    writer.put(index.recordKey, index.encodeRecord());
  }
  if (oldList.length <= 1 && newList.length <= 1) {
    // The common case, one value at most on each side: no sets to compare.
    const o = oldList.length === 1 ? encodedOf(index, oldList[0]) : undefined;
    const n = newList.length === 1 ? encodedOf(index, newList[0]) : undefined;
    if (o !== undefined && n !== undefined && o.id === n.id) return;
    if (o !== undefined) retire(writer, index, key, o.enc, o.id);
    if (n !== undefined) enter(writer, index, key, n.enc, n.id);
    return;
  }
  const oldValues = encodedMap(index, oldList);
  const newValues = encodedMap(index, newList);
  for (const [id, enc] of oldValues) if (!newValues.has(id)) retire(writer, index, key, enc, id);
  for (const [id, enc] of newValues) if (!oldValues.has(id)) enter(writer, index, key, enc, id);
}

/** Removes `key`'s entry under one encoded value. */
function retire(writer: IndexWriter, index: IndexInstance, key: Uint8Array, enc: Uint8Array, id: string): void {
  if (index.definition.type === "equality") writer.appendPosting(index, enc, OP_REMOVE, key, -1, id);
  else writer.rangeEntry(index, enc, key, false);
}

/** Adds `key`'s entry under one encoded value. */
function enter(writer: IndexWriter, index: IndexInstance, key: Uint8Array, enc: Uint8Array, id: string): void {
  if (index.definition.type === "equality") writer.appendPosting(index, enc, OP_ADD, key, +1, id);
  else writer.rangeEntry(index, enc, key, true);
}

/**
 * Returns the batch with its index changes appended. `indexes` are the generations that
 * writes must maintain (ready and building; see IndexInstance.maintains). `presence`,
 * when given, lets a key it has never seen skip the previous-value read, and records the
 * keys this batch writes.
 */
export function maintainIndexes(indexes: readonly IndexInstance[], ops: EngineOp[], reader: BatchReader, limits: BlockLimits, presence?: KeyPresence): EngineOp[] {
  const recording = presence !== undefined && presence.recording;
  if (indexes.length === 0) {
    if (recording) recordKeys(presence, ops, undefined);
    return ops;
  }
  // Which indexes each op touches, and the previous values of the records they write:
  // read together (reader.getMany), once per key — a later write of the same key in
  // this batch sees the earlier one's value instead.
  const applicable: (readonly IndexInstance[] | undefined)[] = new Array(ops.length);
  const ids: string[] = new Array(ops.length);
  const hashes: number[] = recording ? new Array(ops.length) : [];
  /** Per key: its index in toRead, or -1 when it certainly has no record. */
  const readAt = new Map<string, number>();
  const toRead: Uint8Array[] = [];
  for (let o = 0; o < ops.length; o++) {
    const op = ops[o];
    if (op.internal) continue;
    if (recording) hashes[o] = bloomHash(op.key);
    const touched = touchedBy(indexes, op.key);
    if (!touched) continue;
    applicable[o] = touched;
    const id = binaryString(op.key);
    ids[o] = id;
    if (readAt.has(id)) continue;
    if (recording && !presence.mayExistHash(hashes[o])) readAt.set(id, -1);
    else {
      readAt.set(id, toRead.length);
      toRead.push(op.key);
    }
  }
  // After the checks above: a key of this batch is not a previous record of itself.
  if (recording) recordKeys(presence, ops, hashes);
  if (readAt.size === 0) return ops;
  const stored = toRead.length > 0 ? reader.getMany(toRead) : [];
  const writer = new IndexWriter(reader, limits);
  // Records written earlier in this same batch: the "previous value" of a later write.
  const written = new Map<string, Uint8Array | undefined>();
  for (let o = 0; o < ops.length; o++) {
    const touched = applicable[o];
    if (touched === undefined) continue;
    const op = ops[o];
    const id = ids[o];
    const at = readAt.get(id)!;
    const before = written.has(id) ? written.get(id) : at < 0 ? undefined : stored[at];
    const after = op.kind === KIND_PUT ? op.value : undefined;
    written.set(id, after);
    for (const index of touched) indexRecordChange(writer, index, op.key, before, after);
  }
  return writer.isEmpty ? ops : [...ops, ...writer.finish()];
}

/** Records the keys `ops` put (a delete leaves no record); `hashes[o]`: op o's bloomHash when known. */
function recordKeys(presence: KeyPresence, ops: EngineOp[], hashes: number[] | undefined): void {
  for (let o = 0; o < ops.length; o++) {
    const op = ops[o];
    if (!op.internal && op.kind === KIND_PUT) presence.addHash(hashes?.[o] ?? bloomHash(op.key));
  }
}

/** The indexes that maintain `key`; `indexes` itself when all do (no array per write). */
function touchedBy(indexes: readonly IndexInstance[], key: Uint8Array): readonly IndexInstance[] | undefined {
  let n = 0;
  for (const index of indexes) if (index.inScope(key) && index.maintains(key)) n++;
  if (n === 0) return undefined;
  if (n === indexes.length) return indexes;
  return indexes.filter((index) => index.inScope(key) && index.maintains(key));
}
