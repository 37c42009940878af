/**
 * @module
 * The WAL payload of one atomic batch (one record per batch, so after a crash a batch is
 * replayed whole or not at all):
 *
 * ```
 * firstSeq: u64 LE | count: u32 LE | count × op
 * op = kind: u8 (0 delete, 1 put, 2 merge) | key length: varint | key bytes
 *      [ put and merge: value length: varint | value bytes ]
 * ```
 *
 * Op i carries sequence number `firstSeq + i`. Varints are unsigned LEB128. A delete is
 * its own kind, so an empty value is an ordinary put. A merge carries an operand that
 * recovery combines with the key's value at that point of the log (the engine's merge
 * operator), so a large value that grows by small appends — a secondary index's
 * posting block — costs the log only the appended bytes. Merges exist only in the WAL:
 * the MemTable and the tables always hold whole values.
 */
import { ByteReader, ByteWriter, DecodeError } from "./coding.ts";
import { corruption, KvdbError } from "./errors.ts";
import { type Entry, KIND_DELETE, KIND_PUT, type Kind } from "./iterator.ts";

/** A WAL-only op kind: `value` is an operand for the merge operator. */
export const KIND_MERGE = 2;
export type WalKind = Kind | typeof KIND_MERGE;

/** One operation of a batch to encode; `value` is required for puts and merges and ignored for deletes. */
export interface BatchOp {
  kind: WalKind;
  key: Uint8Array;
  value?: Uint8Array;
}

/** A decoded op: an Entry whose kind may also be a merge. */
export interface WalOp extends Omit<Entry, "kind"> {
  kind: WalKind;
}

export interface DecodedBatch {
  firstSeq: number;
  /** Ops in batch order with their sequence numbers; deletes have an empty value. Keys and values are views into the payload. */
  ops: WalOp[];
}

const EMPTY = new Uint8Array(0);
/** Smallest encoded op: kind byte + a one-byte key length. */
const MIN_OP_BYTES = 2;

/** Encodes a batch payload; throws INVALID_ARGUMENT for a bad sequence number, kind or missing put value. */
export function encodeBatch(firstSeq: number, ops: readonly BatchOp[]): Uint8Array {
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 0 || !Number.isSafeInteger(firstSeq + ops.length)) {
    throw new KvdbError("INVALID_ARGUMENT", `batch sequence number out of range: ${firstSeq}`);
  }
  if (ops.length > 0xffff_ffff) throw new KvdbError("INVALID_ARGUMENT", `batch has too many ops: ${ops.length}`);
  let estimate = 12;
  for (const op of ops) estimate += 11 + op.key.length + (op.value?.length ?? 0);
  const w = new ByteWriter(estimate);
  w.u64(firstSeq);
  w.u32(ops.length);
  for (const op of ops) {
    w.u8(op.kind);
    w.lengthPrefixed(op.key);
    if (op.kind === KIND_PUT || op.kind === KIND_MERGE) {
      if (op.value === undefined) throw new KvdbError("INVALID_ARGUMENT", "put op without a value");
      w.lengthPrefixed(op.value);
    } else if (op.kind !== KIND_DELETE) {
      throw new KvdbError("INVALID_ARGUMENT", `unknown op kind ${op.kind as number}`);
    }
  }
  return w.finish();
}

/**
 * Decodes and validates a batch payload. `offset` is the file offset of the payload's
 * first byte, so CORRUPTION errors point at the bad byte in `fileName`.
 */
export function decodeBatch(payload: Uint8Array, fileName: string, offset: number): DecodedBatch {
  const r = new ByteReader(payload);
  try {
    const firstSeq = r.u64("first sequence number");
    const opStart = r.pos;
    const count = r.u32("op count");
    // Checked before allocating, so a corrupt count cannot ask for a huge array.
    if (count > r.remaining / MIN_OP_BYTES) throw new DecodeError(`op count ${count} exceeds payload`, opStart);
    if (!Number.isSafeInteger(firstSeq + count)) throw new DecodeError("sequence number overflows", 0);
    const ops: WalOp[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = r.pos;
      const kind = r.u8("op kind");
      if (kind !== KIND_PUT && kind !== KIND_DELETE && kind !== KIND_MERGE) throw new DecodeError(`unknown op kind ${kind}`, at);
      const key = r.lengthPrefixed("key");
      const value = kind === KIND_DELETE ? EMPTY : r.lengthPrefixed("value");
      ops[i] = { key, seq: firstSeq + i, kind, value };
    }
    if (r.remaining !== 0) throw new DecodeError(`${r.remaining} trailing bytes after last op`, r.pos);
    return { firstSeq, ops };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw corruptionAt(e, fileName, offset);
  }
}

/** Re-bases a DecodeError's payload-relative offset onto the file. */
function corruptionAt(e: DecodeError, fileName: string, payloadOffset: number): KvdbError {
  return corruption(fileName, `bad batch: ${e.what}`, payloadOffset + e.offset);
}
