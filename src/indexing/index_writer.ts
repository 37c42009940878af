/**
 * @module
 * Collects the index changes of one batch — posting appends, range entries, registry
 * records — reading through the batch's own pending changes first, so two writes to the
 * same value in one batch append to the same block in order. Each touched posting list
 * is read once per batch (meta record and last block) and written once: `finish()`
 * yields one engine op per index key — posting blocks as whole values for the MemTable
 * plus a merge operand (just the appended bytes) for the WAL, all marked internal and
 * replaceable.
 */
import type { EngineOp, PointReader } from "../engine/engine.ts";
import { binaryString, ByteWriter, utf8 } from "../engine/coding.ts";
import { KIND_DELETE, KIND_PUT } from "../engine/iterator.ts";
import { blockKey, metaKey, rangeEntryKey, termPrefix } from "./keys.ts";
import { OP_ADD, OP_REMOVE, PostingReplay, postingEntryLength, writePostingEntry } from "./posting_block.ts";
import { EMPTY_META, decodeMeta, encodeMeta, pendingTombstones, type PostingMeta } from "./posting_meta.ts";
import type { IndexInstance } from "./instance.ts";

export interface BlockLimits {
  /** A block takes at most this many entries... */
  blockEntries: number;
  /** ...and at most this many bytes (whichever comes first). */
  blockBytes: number;
}

export const DEFAULT_BLOCK_LIMITS: BlockLimits = { blockEntries: 256, blockBytes: 16 * 1024 };

const EMPTY = new Uint8Array(0);
/** Initial buffer of one list's appends in one batch: ~20 entries of a 1,000-record batch over 50 values, without regrowing. */
const APPEND_BUFFER = 512;

/** The last block of a posting list as this batch leaves it: the stored bytes plus what the batch appended. */
interface OpenBlock {
  number: number;
  key: Uint8Array;
  /** The block as stored before the batch (empty for a block this batch opened). */
  base: Uint8Array;
  /** Entries this batch appended. */
  appended: ByteWriter;
}

/** One value's posting list as this batch leaves it. */
interface Term {
  /** For error messages: `index <name>`. */
  where: string;
  term: Uint8Array;
  metaKey: Uint8Array;
  meta: PostingMeta;
  block: OpenBlock | undefined;
  /** Blocks this batch filled up (a later append opened the next one). */
  filled: OpenBlock[];
}

export class IndexWriter {
  /** Registry records, range entries and deletes, by key. */
  private readonly pending = new Map<string, EngineOp>();
  /** Posting lists touched by this batch: index → encoded value (binary string) → state. */
  private readonly terms = new Map<IndexInstance, Map<string, Term>>();

  constructor(
    private readonly reader: PointReader,
    private readonly limits: BlockLimits,
  ) {}

  get isEmpty(): boolean {
    return this.pending.size === 0 && this.terms.size === 0;
  }

  /**
   * Appends an add or remove of `primaryKey` to the posting list of `encodedValue`.
   * `valueId`: the encoded value as a binary string, when the caller has it already.
   */
  appendPosting(index: IndexInstance, encodedValue: Uint8Array, op: number, primaryKey: Uint8Array, liveDelta: number, valueId = binaryString(encodedValue)): void {
    const t = this.termOf(index, encodedValue, valueId);
    const meta = t.meta;
    const entryLength = postingEntryLength(primaryKey);
    if (this.needsNewBlock(meta, entryLength)) {
      if (t.block) t.filled.push(t.block);
      meta.lastBlock++;
      meta.lastBlockEntries = 0;
      meta.lastBlockBytes = 0;
      t.block = { number: meta.lastBlock, key: blockKey(t.term, meta.lastBlock), base: EMPTY, appended: new ByteWriter(APPEND_BUFFER) };
    } else if (!t.block) {
      const key = blockKey(t.term, meta.lastBlock);
      t.block = { number: meta.lastBlock, key, base: this.reader.get(key) ?? EMPTY, appended: new ByteWriter(APPEND_BUFFER) };
    }
    writePostingEntry(t.block.appended, op, primaryKey);
    meta.lastBlockEntries++;
    meta.lastBlockBytes += entryLength;
    meta.live += liveDelta;
    if (op === OP_REMOVE) meta.tombstones++;
  }

  /** Whether an entry of `entryLength` bytes does not fit the list's last block (or there is none). */
  private needsNewBlock(meta: PostingMeta, entryLength: number): boolean {
    return meta.lastBlock === 0 || meta.lastBlockEntries >= this.limits.blockEntries || meta.lastBlockBytes + entryLength > this.limits.blockBytes;
  }

  private termOf(index: IndexInstance, encodedValue: Uint8Array, valueId: string): Term {
    let byValue = this.terms.get(index);
    if (!byValue) this.terms.set(index, (byValue = new Map()));
    let t = byValue.get(valueId);
    if (!t) {
      const term = termPrefix(index.dataPrefix, encodedValue);
      const mk = metaKey(term);
      const stored = this.reader.get(mk);
      const where = `index ${index.name}`;
      const meta = stored ? decodeMeta(stored, where) : { ...EMPTY_META };
      byValue.set(valueId, (t = { where, term, metaKey: mk, meta, block: undefined, filled: [] }));
    }
    return t;
  }

  /** Adds or removes the range-index entry of `primaryKey` under `encodedValue`. */
  rangeEntry(index: IndexInstance, encodedValue: Uint8Array, primaryKey: Uint8Array, present: boolean): void {
    const key = rangeEntryKey(termPrefix(index.dataPrefix, encodedValue), primaryKey);
    if (present) this.put(key, EMPTY);
    else this.pending.set(binaryString(key), { kind: KIND_DELETE, key, value: EMPTY, internal: true });
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.pending.set(binaryString(key), { kind: KIND_PUT, key, value, replaceable: true, internal: true });
  }

  delete(key: Uint8Array): void {
    this.pending.set(binaryString(key), { kind: KIND_DELETE, key, value: EMPTY, replaceable: true, internal: true });
  }

  /** The batch's index ops: one per key (each touched block and meta record once). */
  finish(): EngineOp[] {
    const out: EngineOp[] = [];
    for (const byValue of this.terms.values()) {
      for (const t of byValue.values()) {
        if (pendingTombstones(t.meta) > Math.max(t.meta.live, this.limits.blockEntries)) {
          this.repack(t, out);
          continue;
        }
        for (const b of t.filled) out.push(blockOp(b));
        if (t.block) out.push(blockOp(t.block));
        out.push({ kind: KIND_PUT, key: t.metaKey, value: encodeMeta(t.meta), replaceable: true, internal: true });
      }
    }
    for (const op of this.pending.values()) out.push(op);
    return out;
  }

  /**
   * Rewrites a list whose removes outnumber its live keys: its live keys densely in
   * blocks 1..k, the blocks after k deleted, `packedAt` set to the tombstone count (no
   * remove left in the blocks). Compaction collapses each block on its own, which cannot
   * drop a remove whose add sits in an earlier block, so under updates and deletes a
   * list would otherwise only grow, and every read of it replays the whole history.
   * Triggered after at least max(live, one block) removes since the last pack, the
   * rewrite costs O(1) amortized per remove; it is part of the same atomic batch, so
   * readers see the old list or the new one.
   *
   * The meta record stays, even for an empty list, and `tombstones` is never lowered:
   * a batch that re-packs holds at least one remove (adds alone never meet the trigger),
   * so every meta after it has a higher tombstone count than every meta before it, and
   * a list's meta bytes never repeat (the posting cache relies on it).
   */
  private repack(t: Term, out: EngineOp[]): void {
    const mine = new Map<number, Uint8Array>();
    for (const b of t.filled) mine.set(b.number, blockValue(b));
    if (t.block) mine.set(t.block.number, blockValue(t.block));
    const replay = new PostingReplay();
    for (let n = 1; n <= t.meta.lastBlock; n++) {
      const block = mine.get(n) ?? this.reader.get(blockKey(t.term, n));
      if (block) replay.add(block, t.where);
    }
    const live = replay.liveKeys();
    const meta: PostingMeta = { lastBlock: 0, lastBlockEntries: 0, lastBlockBytes: 0, live: live.length, tombstones: t.meta.tombstones, packedAt: t.meta.tombstones };
    let w: ByteWriter | undefined;
    const flush = () => {
      if (w) out.push({ kind: KIND_PUT, key: blockKey(t.term, meta.lastBlock), value: w.finish(), replaceable: true, internal: true });
    };
    for (const k of live) {
      const pk = utf8(k);
      const entryLength = postingEntryLength(pk);
      if (!w || this.needsNewBlock(meta, entryLength)) {
        flush();
        w = new ByteWriter(Math.min(this.limits.blockBytes, 4096));
        meta.lastBlock++;
        meta.lastBlockEntries = 0;
        meta.lastBlockBytes = 0;
      }
      writePostingEntry(w, OP_ADD, pk);
      meta.lastBlockEntries++;
      meta.lastBlockBytes += entryLength;
    }
    flush();
    for (let n = meta.lastBlock + 1; n <= t.meta.lastBlock; n++) {
      out.push({ kind: KIND_DELETE, key: blockKey(t.term, n), value: EMPTY, replaceable: true, internal: true });
    }
    out.push({ kind: KIND_PUT, key: t.metaKey, value: encodeMeta(meta), replaceable: true, internal: true });
  }
}

/**
 * The engine op of a block: the whole new block for the MemTable, and what this batch
 * appended as the WAL's merge operand (recovery applies it to the block as it stood
 * before the batch — absent for a block this batch opened).
 */
function blockOp(b: OpenBlock): EngineOp {
  const value = blockValue(b);
  return { kind: KIND_PUT, key: b.key, value, operand: value.subarray(b.base.length), replaceable: true, internal: true };
}

/** The block as this batch leaves it: the stored bytes, then the appended ones. */
function blockValue(b: OpenBlock): Uint8Array {
  const appended = b.appended.written();
  const value = new Uint8Array(b.base.length + appended.length);
  value.set(b.base);
  value.set(appended, b.base.length);
  return value;
}
