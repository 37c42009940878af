/**
 * @module
 * Index cleanup during engine compaction (through the engine's compaction hook): a
 * posting block being rewritten is collapsed to the last entry of each key (an add
 * followed by a remove leaves the remove). A block of adds only is left as it is (the
 * write path never repeats an add without a remove between). Tombstones that cancel an
 * add in an earlier block stay until a rebuild, which rewrites the whole list densely.
 */
import { parseIndexKey } from "./record_key.ts";
import { collapseBlock } from "./posting_block.ts";

export function collapsePostingRecord(key: Uint8Array, value: Uint8Array): Uint8Array {
  const parsed = parseIndexKey(key);
  if (!parsed || parsed.kind !== "block") return value;
  return collapseBlock(value, "posting block");
}
