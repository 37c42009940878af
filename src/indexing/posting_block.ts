/**
 * @module
 * A posting block: one numbered block of an equality index's posting list for one value.
 * It is an append-only log of entries, so a write appends a few bytes (logged in the WAL
 * as a merge operand) instead of rewriting the list:
 *
 * ```
 * block = entry*
 * entry = op:u8 (1 add, 0 remove) | key length:varint | primary key bytes (UTF-8)
 * ```
 *
 * A remove is a lazy tombstone: it cancels an earlier add of the same key, in this block
 * or an earlier one. Reading a posting list replays its blocks in order; a key is live
 * when its last entry is an add. Readers re-check every candidate against the record
 * anyway, so a stale entry can cost time but never a wrong answer.
 */
import { ByteReader, ByteWriter, DecodeError, fromUtf8 } from "../engine/coding.ts";
import { corruption } from "../engine/errors.ts";

export const OP_REMOVE = 0;
export const OP_ADD = 1;

export function encodePostingEntry(op: number, primaryKey: Uint8Array): Uint8Array {
  const w = new ByteWriter(primaryKey.length + 6);
  writePostingEntry(w, op, primaryKey);
  return w.finish();
}

/** Appends one entry to `w`. */
export function writePostingEntry(w: ByteWriter, op: number, primaryKey: Uint8Array): void {
  w.u8(op);
  w.varint(primaryKey.length);
  // Keys are short: `range` copies them without a native call.
  w.range(primaryKey, 0, primaryKey.length);
}

/** The encoded size of an entry for `primaryKey`. */
export function postingEntryLength(primaryKey: Uint8Array): number {
  let n = primaryKey.length;
  let varint = 1;
  for (; n >= 0x80; n = Math.floor(n / 0x80)) varint++;
  return 1 + varint + primaryKey.length;
}

/** Calls `visit` for each entry in order; a malformed block is CORRUPTION naming `where`. */
export function forEachPosting(block: Uint8Array, where: string, visit: (op: number, primaryKey: Uint8Array) => void): void {
  const r = new ByteReader(block);
  try {
    while (r.remaining > 0) {
      const at = r.pos;
      const op = r.u8("posting op");
      if (op !== OP_ADD && op !== OP_REMOVE) throw new DecodeError(`unknown posting op ${op}`, at);
      visit(op, r.lengthPrefixed("primary key"));
    }
  } catch (e) {
    if (e instanceof DecodeError) throw corruption(where, `bad posting block: ${e.what}`, e.offset);
    throw e;
  }
}

/**
 * Replays posting blocks (in block order) into the live set: primary key → live.
 * Returns the live keys and how many tombstones (removes) were seen.
 */
export class PostingReplay {
  private readonly state = new Map<string, boolean>();
  entries = 0;
  tombstones = 0;

  add(block: Uint8Array, where: string): void {
    forEachPosting(block, where, (op, pk) => {
      this.entries++;
      if (op === OP_REMOVE) this.tombstones++;
      this.state.set(fromUtf8(pk), op === OP_ADD);
    });
  }

  liveKeys(): string[] {
    const out: string[] = [];
    for (const [k, live] of this.state) if (live) out.push(k);
    return out;
  }
}

/**
 * Compacts one block on its own (used by the engine's compaction hook). Replay sets a
 * key's state from its last entry, so within a block only each key's last entry
 * matters: earlier ones are dropped. (A final remove must stay: it cancels an add in an
 * earlier block. Whole lists are re-packed without tombstones by the write path once
 * their removes outnumber their live keys, see index_writer.ts, and by a rebuild.) Returns the
 * block unchanged when nothing collapses.
 */
export function collapseBlock(block: Uint8Array, where: string): Uint8Array {
  // Without a remove nothing collapses: a writer only re-adds a key after removing it.
  // (Repeated adds would only waste bytes.) Bulk-loaded lists are all adds, and this
  // check reads no key, so compaction rewrites them for the price of a byte walk.
  if (onlyAdds(block)) return block;
  const last = new Map<string, [number, Uint8Array]>();
  let entries = 0;
  forEachPosting(block, where, (op, pk) => {
    entries++;
    const id = fromUtf8(pk);
    // Delete first so the Map's order follows each key's last entry.
    last.delete(id);
    last.set(id, [op, pk]);
  });
  if (last.size === entries) return block;
  const w = new ByteWriter(block.length);
  for (const [op, pk] of last.values()) {
    w.u8(op);
    w.lengthPrefixed(pk);
  }
  return w.finish();
}

/**
 * True when `block` is well formed and holds adds only; false for a remove or damage
 * (the full decode then reports the damage with its offset).
 */
function onlyAdds(block: Uint8Array): boolean {
  const n = block.length;
  let i = 0;
  while (i < n) {
    if (block[i++] !== OP_ADD) return false;
    let length = 0;
    let shift = 0;
    let b: number;
    do {
      if (i >= n || shift > 28) return false;
      b = block[i++];
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    i += length;
  }
  return i === n;
}
