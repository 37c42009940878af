/**
 * @module
 * The async iterator behind `db.scan()`. The engine's iterators are synchronous (tables
 * are memory-mapped), so the cursor fills a small batch synchronously and hands it out
 * one item per `next()`: the per-item cost is one resolved promise, not an async
 * generator's suspension. Each value is copied straight from where it is stored (the
 * stored bytes belong to the MemTable or a mapped table and must not be exposed) with
 * `copyValue()`, one allocation and no intermediate view.
 *
 * Keys are decoded a batch at a time: their bytes are gathered into one buffer, which is
 * turned into one Latin-1 string, and each ASCII key is a substring of it (for ASCII,
 * Latin-1 and UTF-8 agree). That replaces a TextDecoder call per key, the largest
 * per-entry cost of a scan. Keys with other bytes are decoded one by one as UTF-8.
 * (A key string may keep its batch's string, a few KiB, alive.)
 *
 * The snapshot is taken at the first `next()` and released when the scan ends, fails or
 * is abandoned through `return()` (a `break` out of `for await`).
 */
import type { ReadView } from "./engine/engine.ts";
import type { SnapshotIterator } from "./engine/snapshot_iterator.ts";
import { fromUtf8 } from "./engine/coding.ts";

const BATCH = 128;
const EMPTY = new Uint8Array(0);

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
  /** The current batch's key bytes, back to back; `keyEnds[i]` ends key i. */
  private keyBytes: Buffer = Buffer.alloc(BATCH * 32);
  private readonly keyEnds = new Int32Array(BATCH);
  /** 1 if key i of the batch is all ASCII. */
  private readonly keyAscii = new Uint8Array(BATCH);
  private readonly values: Uint8Array[] = new Array<Uint8Array>(BATCH);

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
    const ends = this.keyEnds;
    const ascii = this.keyAscii;
    const values = this.values;
    let bytes = this.keyBytes;
    let n = 0;
    let at = 0;
    while (n < BATCH && this.remaining > 0 && it.valid()) {
      const key = it.key();
      const len = key.length;
      if (at + len > bytes.length) bytes = this.growKeyBytes(at + len);
      let or = 0;
      for (let i = 0; i < len; i++) {
        const b = key[i];
        or |= b;
        bytes[at + i] = b;
      }
      at += len;
      ends[n] = at;
      ascii[n] = or < 0x80 ? 1 : 0;
      values[n] = it.copyValue();
      n++;
      this.remaining--;
      if (reverse) it.prev();
      else it.next();
    }
    const text = at > 0 ? bytes.toString("latin1", 0, at) : "";
    const batch = new Array<[string, Uint8Array]>(n);
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i];
      const key = ascii[i] === 1 ? text.substring(start, end) : fromUtf8(bytes.subarray(start, end));
      batch[i] = [key, values[i]];
      start = end;
    }
    values.fill(EMPTY, 0, n);
    this.batch = batch;
    if (!it.valid() || this.remaining <= 0) this.finish();
  }

  private growKeyBytes(need: number): Buffer {
    const grown = Buffer.alloc(Math.max(need, 2 * this.keyBytes.length));
    grown.set(this.keyBytes);
    this.keyBytes = grown;
    return grown;
  }

  private finish(): void {
    this.done = true;
    this.it = undefined;
    this.view?.release();
    this.view = undefined;
  }
}
