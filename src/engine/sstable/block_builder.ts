/**
 * @module
 * Builds one block (data or index) of entries in internal order.
 *
 * Entry: varint shared, varint unshared, varint valueLength, u8 kind (0 delete, 1 put),
 * varint seq, then the `unshared` key bytes and the value bytes. When we store a key we
 * drop the prefix it shares with the previous key (`shared` bytes), except at a restart
 * point, where shared = 0 so a reader can start decoding there. After the entries: the
 * restart offsets (u32 LE each, relative to the block start, ascending, the first is 0)
 * and their count (u32 LE). A block always has at least one restart point.
 *
 * The caller (TableBuilder) checks the order of keys; this class only encodes.
 */
import { ByteWriter } from "../coding.ts";
import type { Kind } from "../iterator.ts";

export class BlockBuilder {
  private readonly out = new ByteWriter(8192);
  private restarts: number[] = [0];
  private sinceRestart = 0;
  private count = 0;
  // A private copy of the previous key: the caller may reuse its buffers.
  private lastKey = new Uint8Array(64);
  private lastKeyLength = 0;

  /** `restartInterval` ≥ 1: entries between restart points (1 = no prefix compression). */
  constructor(private readonly restartInterval = 16) {}

  get entryCount(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Size of the block if finished now (entries + restart array + count). */
  get sizeEstimate(): number {
    return this.out.length + this.restarts.length * 4 + 4;
  }

  add(key: Uint8Array, seq: number, kind: Kind, value: Uint8Array): void {
    const out = this.out;
    let shared = 0;
    if (this.sinceRestart >= this.restartInterval) {
      this.restarts.push(out.length);
      this.sinceRestart = 0;
    } else if (this.count > 0) {
      const last = this.lastKey;
      const max = Math.min(this.lastKeyLength, key.length);
      while (shared < max && last[shared] === key[shared]) shared++;
    }
    const unshared = key.length - shared;
    out.varint(shared);
    out.varint(unshared);
    out.varint(value.length);
    out.u8(kind);
    out.varint(seq);
    out.range(key, shared, key.length);
    out.bytes(value);

    if (this.lastKey.length < key.length) {
      const grown = new Uint8Array(Math.max(key.length, this.lastKey.length * 2));
      grown.set(this.lastKey.subarray(0, shared));
      this.lastKey = grown;
    }
    // Only the unshared tail changes (nothing at all for another version of the same key).
    const last = this.lastKey;
    if (key.length - shared > 32) last.set(key.subarray(shared), shared);
    else for (let i = shared; i < key.length; i++) last[i] = key[i];
    this.lastKeyLength = key.length;
    this.sinceRestart++;
    this.count++;
  }

  /** Appends the restart array and returns the block; the view is valid until `reset()`. */
  finish(): Uint8Array {
    const out = this.out;
    for (let i = 0; i < this.restarts.length; i++) out.u32(this.restarts[i]);
    out.u32(this.restarts.length);
    return out.written();
  }

  reset(): void {
    this.out.reset();
    this.restarts = [0];
    this.sinceRestart = 0;
    this.count = 0;
    this.lastKeyLength = 0;
  }
}
