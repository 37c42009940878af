/**
 * @module
 * Writing a stream of operations into kvdb in atomic batches (`db.write(ops)`), one
 * awaited batch at a time, as a bulk loader would; the caller fills each batch, so the
 * same loop serves loads, churns and index loads.
 */
import type { Database, WriteOp } from "../../src/types.ts";

/**
 * Writes operations 0..count-1 in batches of `batch`: `fill(ops, from, to)` appends the
 * operations from..to-1. `onTenth(done)` is called about every 10% (progress lines).
 */
export async function writeInBatches(
  db: Database,
  count: number,
  batch: number,
  fill: (ops: WriteOp[], from: number, to: number) => void,
  onTenth?: (done: number) => void,
): Promise<void> {
  const step = Math.max(1, Math.floor(count / 10));
  let next = step;
  for (let s = 0; s < count; s += batch) {
    const to = Math.min(count, s + batch);
    const ops: WriteOp[] = [];
    fill(ops, s, to);
    await db.write(ops);
    if (onTenth && to >= next) {
      onTenth(to);
      next += step;
    }
  }
}
