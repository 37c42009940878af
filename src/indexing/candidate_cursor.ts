/**
 * @module
 * The candidates an index access path hands to the query executor: primary keys in key
 * order, each with its record as of the query's snapshot. Keys whose record no longer
 * exists (a stale index entry) are skipped and counted; the executor re-checks the rest
 * against the filter.
 */
import type { ReadView } from "../engine/engine.ts";
import type { RawEntryCursor } from "../query/source.ts";

export class CandidateCursor implements RawEntryCursor {
  private key_: Uint8Array | undefined;
  private value_: Uint8Array | undefined;
  /** Set when the candidate strings are the keys' text (see `textKeys`). */
  readonly keyText: (() => string) | undefined;

  /**
   * @param keys candidate keys in ascending key order, as strings `toBytes` turns back into key bytes
   * @param pos the first candidate to serve (after the query's cursor)
   * @param view the query's snapshot; released by `close()`
   */
  constructor(
    private readonly keys: readonly string[],
    private pos: number,
    private readonly view: ReadView,
    private readonly counters: { candidates_checked: number; stale_skipped: number },
    private readonly toBytes: (key: string) => Uint8Array,
    /** The candidate strings are the keys' text (not a binary encoding of them). */
    textKeys = false,
  ) {
    if (textKeys) this.keyText = () => this.keys[this.pos - 1];
    this.advance();
  }

  private advance(): void {
    this.key_ = undefined;
    this.value_ = undefined;
    while (this.pos < this.keys.length) {
      const key = this.toBytes(this.keys[this.pos++]);
      this.counters.candidates_checked++;
      const value = this.view.get(key);
      if (value !== undefined) {
        this.key_ = key;
        this.value_ = value;
        return;
      }
      this.counters.stale_skipped++;
    }
  }

  valid(): boolean {
    return this.key_ !== undefined;
  }

  key(): Uint8Array {
    return this.key_!;
  }

  value(): Uint8Array {
    return this.value_!;
  }

  next(): void {
    this.advance();
  }

  close(): void {
    this.view.release();
  }
}
