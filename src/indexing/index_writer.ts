/**
 * @module
 * Collects the index changes of one batch — posting appends, range entries, registry
 * records — reading through the batch's own pending changes first, so two writes to the
 * same value in one batch append to the same block in order. `finish()` yields one engine
 * op per index key: posting blocks as whole values for the MemTable plus a merge operand
 * (just the appended bytes) for the WAL, all marked internal and replaceable.
 */
import type { BatchReader, EngineOp } from "../engine/engine.ts";
import { concatBytes } from "../engine/coding.ts";
import { KIND_DELETE, KIND_PUT } from "../engine/iterator.ts";
import { blockKey, metaKey, rangeEntryKey, termPrefix } from "./keys.ts";
import { encodePostingEntry } from "./posting_block.ts";
import { EMPTY_META, decodeMeta, encodeMeta } from "./posting_meta.ts";
import type { IndexInstance } from "./instance.ts";

export interface BlockLimits {
  /** A block takes at most this many entries... */
  blockEntries: number;
  /** ...and at most this many bytes (whichever comes first). */
  blockBytes: number;
}

export const DEFAULT_BLOCK_LIMITS: BlockLimits = { blockEntries: 256, blockBytes: 16 * 1024 };

const EMPTY = new Uint8Array(0);
const latin1 = new TextDecoder("latin1");
const idOf = (key: Uint8Array) => latin1.decode(key);

export class IndexWriter {
  private readonly pending = new Map<string, EngineOp>();

  constructor(
    private readonly reader: BatchReader,
    private readonly limits: BlockLimits,
  ) {}

  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  private read(key: Uint8Array): Uint8Array | undefined {
    const op = this.pending.get(idOf(key));
    if (op) return op.kind === KIND_PUT ? op.value : undefined;
    return this.reader.get(key);
  }

  /** Appends an add or remove of `primaryKey` to the posting list of `encodedValue`. */
  appendPosting(index: IndexInstance, encodedValue: Uint8Array, op: number, primaryKey: Uint8Array, liveDelta: number): void {
    const term = termPrefix(index.dataPrefix, encodedValue);
    const mk = metaKey(term);
    const stored = this.read(mk);
    const meta = stored ? decodeMeta(stored, `index ${index.name}`) : { ...EMPTY_META };
    const entry = encodePostingEntry(op, primaryKey);
    const full = meta.lastBlock === 0 || meta.lastBlockEntries >= this.limits.blockEntries || meta.lastBlockBytes + entry.length > this.limits.blockBytes;
    if (full) {
      meta.lastBlock++;
      meta.lastBlockEntries = 0;
      meta.lastBlockBytes = 0;
    }
    const bk = blockKey(term, meta.lastBlock);
    const id = idOf(bk);
    // The operand is what this batch appended: recovery applies it to the block as it
    // stood before the batch (absent for a block this batch opened).
    const previous = this.pending.get(id);
    let base: Uint8Array;
    let operand: Uint8Array;
    if (previous) {
      base = previous.value;
      operand = concatBytes([previous.operand!, entry]);
    } else {
      base = full ? EMPTY : (this.reader.get(bk) ?? EMPTY);
      operand = entry;
    }
    this.pending.set(id, { kind: KIND_PUT, key: bk, value: concatBytes([base, entry]), operand, replaceable: true, internal: true });
    meta.lastBlockEntries++;
    meta.lastBlockBytes += entry.length;
    meta.live += liveDelta;
    if (op === 0) meta.tombstones++;
    this.put(mk, encodeMeta(meta));
  }

  /** Adds or removes the range-index entry of `primaryKey` under `encodedValue`. */
  rangeEntry(index: IndexInstance, encodedValue: Uint8Array, primaryKey: Uint8Array, present: boolean): void {
    const key = rangeEntryKey(termPrefix(index.dataPrefix, encodedValue), primaryKey);
    if (present) this.put(key, EMPTY);
    else this.pending.set(idOf(key), { kind: KIND_DELETE, key, value: EMPTY, internal: true });
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.pending.set(idOf(key), { kind: KIND_PUT, key, value, replaceable: true, internal: true });
  }

  delete(key: Uint8Array): void {
    this.pending.set(idOf(key), { kind: KIND_DELETE, key, value: EMPTY, replaceable: true, internal: true });
  }

  finish(): EngineOp[] {
    return [...this.pending.values()];
  }
}
