/**
 * @module
 * Online index builds and drops, one bounded step at a time. Each step runs through the
 * engine's `writeWith`, alone in the serialized write path, so what it reads (the next
 * keys of the scope and their current values) and what it writes (their postings and
 * the advanced cursor in the registry record) form one atomic batch: a crash resumes
 * from the last step, and no concurrent write slips between the read and the write.
 */
import type { EngineOp, ReadView } from "../engine/engine.ts";
import { keySuccessor, prefixEnd } from "../engine/coding.ts";
import { IndexWriter, type BlockLimits } from "./index_writer.ts";
import { indexRecordChange } from "./maintainer.ts";
import type { IndexInstance } from "./instance.ts";
import { USER_KEYSPACE_END } from "./keys.ts";

export interface StepResult {
  ops: EngineOp[];
  done: boolean;
}

/**
 * Indexes up to `maxKeys` records after the cursor. When the scope is exhausted the
 * batch records the index as ready and `retire` (the generations it replaces) as
 * dropping. In memory the write path maintains every key of the index from this step
 * on (`backfilled`), but queries switch only when the caller calls `finishBuild` after
 * the batch is committed: until then its last postings are not readable yet.
 */
export function backfillStep(index: IndexInstance, view: ReadView, limits: BlockLimits, maxKeys: number, retire: readonly IndexInstance[]): StepResult {
  const writer = new IndexWriter(view, limits);
  const lower = index.cursor ? keySuccessor(index.cursor) : index.scope;
  const upper = prefixEnd(index.scope) ?? USER_KEYSPACE_END;
  const it = view.iterator(lower, upper);
  let last: Uint8Array | undefined;
  let n = 0;
  for (it.seekToFirst(); it.valid() && n < maxKeys; it.next()) {
    last = it.key();
    indexRecordChange(writer, index, last, undefined, it.value());
    n++;
  }
  index.scanned += n;
  const done = !it.valid();
  if (last) index.cursor = last.slice();
  if (done) {
    index.backfilled = true;
    index.readyAt = new Date().toISOString();
    index.committingState = "ready";
    for (const old of retire) {
      old.committingState = "dropping";
      writer.put(old.recordKey, old.encodeRecord());
    }
  }
  writer.put(index.recordKey, index.encodeRecord());
  return { ops: writer.finish(), done };
}

/** After the final backfill batch is committed: queries now read `index`, not `retire`. */
export function finishBuild(index: IndexInstance, retire: readonly IndexInstance[]): void {
  for (const i of [index, ...retire]) {
    // A reload or rebuild that retired it meanwhile has the last word.
    if (i.committingState && i.state !== "dropping") i.state = i.committingState;
    i.committingState = undefined;
  }
}

/** Deletes up to `maxKeys` of a dropped generation's records; the registry record goes last. */
export function dropStep(index: IndexInstance, view: ReadView, maxKeys: number): StepResult {
  const writer = new IndexWriter(view, { blockEntries: 1, blockBytes: 1 });
  const it = view.iterator(index.dataPrefix, prefixEnd(index.dataPrefix));
  let n = 0;
  for (it.seekToFirst(); it.valid() && n < maxKeys; it.next()) {
    writer.delete(it.key().slice());
    n++;
  }
  const done = !it.valid();
  if (done) writer.delete(index.recordKey);
  return { ops: writer.finish(), done };
}
