/**
 * @module
 * Size figures of one index generation, computed by reading its records (about one
 * record per block of 256 postings for equality indexes, so it stays cheap).
 */
import type { ReadView } from "../engine/engine.ts";
import { prefixEnd } from "../engine/coding.ts";
import { decodeMeta, pendingTombstones } from "./posting_meta.ts";
import { parseIndexKey } from "./record_key.ts";
import type { IndexInstance } from "./instance.ts";

export interface IndexFigures {
  /** Distinct indexed values. */
  terms: number;
  /** Posting blocks (equality indexes). */
  blocks: number;
  /** Live (key, value) entries. */
  live_entries: number;
  /** Lazy delete entries not yet cleaned by a rebuild (equality indexes). */
  tombstones: number;
  /** Bytes of keys and values of the index's records. */
  bytes: number;
}

export function indexFigures(index: IndexInstance, view: ReadView): IndexFigures {
  const f: IndexFigures = { terms: 0, blocks: 0, live_entries: 0, tombstones: 0, bytes: 0 };
  const it = view.iterator(index.dataPrefix, prefixEnd(index.dataPrefix));
  let lastTerm: Uint8Array | undefined;
  for (it.seekToFirst(); it.valid(); it.next()) {
    const key = it.key();
    const value = it.value();
    f.bytes += key.length + value.length;
    const parsed = parseIndexKey(key)!;
    if (parsed.kind === "meta") {
      const meta = decodeMeta(value, `index ${index.name}`);
      // A re-packed list keeps its meta record when it empties.
      if (meta.live > 0) f.terms++;
      f.live_entries += meta.live;
      f.tombstones += pendingTombstones(meta);
    } else if (parsed.kind === "block") {
      f.blocks++;
    } else {
      f.live_entries++;
      const term = key.subarray(parsed.valueStart, parsed.valueEnd);
      if (!lastTerm || Buffer.compare(term, lastTerm) !== 0) f.terms++;
      lastTerm = term;
    }
  }
  return f;
}
