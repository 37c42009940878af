/**
 * @module
 * The async iterator behind `db.scan()`. The engine's iterators are synchronous (tables
 * are memory-mapped), so the cursor fills a small batch synchronously and hands it out
 * one item per `next()`: the per-item cost is one resolved promise, not an async
 * generator's suspension. Values in a batch are copied into one fresh buffer (the stored
 * bytes belong to the MemTable or a mapped table and must not be exposed), so the copy
 * costs a memcpy, not an allocation per value.
 *
 * The snapshot is taken at the first `next()` and released when the scan ends, fails or
 * is abandoned through `return()` (a `break` out of `for await`).
 */
import type { ReadView } from "./engine/engine.ts";
import type { SnapshotIterator } from "./engine/snapshot_iterator.ts";
import { fromUtf8 } from "./engine/coding.ts";

const BATCH = 128;

export interface ScanRange {
  lower: Uint8Array | undefined;
  upper: Uint8Array;
  limit: number;
  reverse: boolean;
}

export class ScanCursor implements AsyncIterator<[string, Uint8Array]>, AsyncIterable<[string, Uint8Array]> {
  private view: ReadView | undefined;
  private it: SnapshotIterator | undefined;
  private done = false;
  private remaining: number;
  private batch: Array<[string, Uint8Array]> = [];
  private pos = 0;
  private readonly pending: Uint8Array[] = [];

  constructor(
    private readonly open: () => ReadView,
    private readonly range: ScanRange,
  ) {
    this.remaining = range.limit;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<[string, Uint8Array]>> {
    if (this.pos === this.batch.length) {
      try {
        this.fill();
      } catch (e) {
        this.finish();
        return Promise.reject(e);
      }
      if (this.batch.length === 0) return Promise.resolve({ done: true, value: undefined });
    }
    return Promise.resolve({ done: false, value: this.batch[this.pos++] });
  }

  return(): Promise<IteratorResult<[string, Uint8Array]>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  private fill(): void {
    this.batch = [];
    this.pos = 0;
    if (this.done) return;
    if (!this.it) {
      if (this.remaining <= 0) return this.finish();
      this.view = this.open();
      this.it = this.view.iterator(this.range.lower, this.range.upper);
      if (this.range.reverse) this.it.seekToLast();
      else this.it.seekToFirst();
    }
    const it = this.it;
    const reverse = this.range.reverse;
    const keys: string[] = [];
    const values = this.pending;
    values.length = 0;
    let bytes = 0;
    while (it.valid() && keys.length < BATCH && this.remaining > 0) {
      keys.push(fromUtf8(it.key()));
      const v = it.value();
      values.push(v);
      bytes += v.length;
      this.remaining--;
      if (reverse) it.prev();
      else it.next();
    }
    const copy = new Uint8Array(bytes);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      copy.set(v, at);
      this.batch.push([keys[i], copy.subarray(at, at + v.length)]);
      at += v.length;
    }
    values.length = 0;
    if (!it.valid() || this.remaining <= 0) this.finish();
  }

  private finish(): void {
    this.done = true;
    this.it = undefined;
    this.view?.release();
    this.view = undefined;
  }
}
