/**
 * @module
 * Reads an equality index's posting list for one value: the meta record, then the
 * numbered blocks in order, replayed into the live primary keys, sorted in key order
 * (UTF-8 bytes) so index-driven results and their pagination are identical to a scan.
 *
 * Decoded lists are cached, validated by the meta record's bytes: every append changes
 * the meta (entry count and byte size of the last block), so an unchanged meta means an
 * unchanged list. A `limit 100` query on a large value then costs a binary search
 * instead of decoding and sorting the whole list again.
 */
import type { ReadView } from "../engine/engine.ts";
import { binaryString, bytesEqual, utf8 } from "../engine/coding.ts";
import { blockKey, metaKey, termPrefix } from "./keys.ts";
import { EMPTY_META, decodeMeta, type PostingMeta } from "./posting_meta.ts";
import { PostingReplay } from "./posting_block.ts";
import type { IndexInstance } from "./instance.ts";

export interface PostingList {
  /** Live primary keys, ascending by UTF-8 bytes. */
  keys: string[];
  meta: PostingMeta;
  blocksRead: number;
  postingsRead: number;
  tombstones: number;
  cached: boolean;
}

interface CacheEntry {
  metaBytes: Uint8Array;
  list: PostingList;
}

const EMPTY_LIST: PostingList = {
  keys: [],
  meta: EMPTY_META,
  blocksRead: 0,
  postingsRead: 0,
  tombstones: 0,
  cached: false,
};

export class PostingCache {
  private readonly entries = new Map<string, CacheEntry>();
  private size = 0;

  constructor(private readonly maxKeys = 2_000_000) {}

  get(id: string, metaBytes: Uint8Array): PostingList | undefined {
    const hit = this.entries.get(id);
    if (!hit || !bytesEqual(hit.metaBytes, metaBytes)) return undefined;
    // Re-insert: Map order is the LRU order.
    this.entries.delete(id);
    this.entries.set(id, hit);
    return { ...hit.list, blocksRead: 0, postingsRead: 0, cached: true };
  }

  set(id: string, metaBytes: Uint8Array, list: PostingList): void {
    const old = this.entries.get(id);
    if (old) {
      this.size -= old.list.keys.length;
      this.entries.delete(id);
    }
    if (list.keys.length > this.maxKeys / 4) return;
    this.entries.set(id, { metaBytes: metaBytes.slice(), list });
    this.size += list.keys.length;
    for (const [k, e] of this.entries) {
      if (this.size <= this.maxKeys) break;
      this.entries.delete(k);
      this.size -= e.list.keys.length;
    }
  }
}

/** The posting list of `encodedValue` in `index`, as of `view`. */
export function readPostingList(index: IndexInstance, encodedValue: Uint8Array, view: ReadView, cache?: PostingCache): PostingList {
  const term = termPrefix(index.dataPrefix, encodedValue);
  const metaBytes = view.get(metaKey(term));
  if (!metaBytes) return EMPTY_LIST;
  const id = binaryString(term);
  const hit = cache?.get(id, metaBytes);
  if (hit) return hit;
  const where = `index ${index.name}`;
  const meta = decodeMeta(metaBytes, where);
  const replay = new PostingReplay();
  let blocksRead = 0;
  for (let n = 1; n <= meta.lastBlock; n++) {
    const block = view.get(blockKey(term, n));
    if (!block) continue;
    blocksRead++;
    replay.add(block, where);
  }
  const keys = replay.liveKeys();
  // Sort by UTF-8 bytes (JavaScript's default string order is by UTF-16 units).
  const encoded = keys.map((k) => ({ k, b: utf8(k) }));
  encoded.sort((a, b) => Buffer.compare(a.b, b.b));
  const list: PostingList = {
    keys: encoded.map((e) => e.k),
    meta,
    blocksRead,
    postingsRead: replay.entries,
    tombstones: replay.tombstones,
    cached: false,
  };
  cache?.set(id, metaBytes, list);
  return list;
}
