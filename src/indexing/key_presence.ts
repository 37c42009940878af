/**
 * @module
 * A Bloom filter over every user key that may have a record, so that index maintenance
 * can skip the previous-value read of a key that certainly has none.
 *
 * Why: each write into an indexed scope reads the record's previous value to retire its
 * old postings. For a new key — every record of a load, every insert — that read is a
 * miss in every MemTable and every table on its path: about ten Bloom probes into
 * filters the load keeps evicting from the cache, the largest single cost of indexed
 * writes. One filter over the whole key space answers it with one probe.
 *
 * The filter may say "maybe" for a key without a record (1% of new keys, plus every key
 * deleted since the filter was built); it must never say "no" for a key with one. So
 * from the moment it starts it records every user key of every batch the write path
 * prepares, and a background scan of a snapshot taken at that same moment (inside the
 * serialized write path, see IndexManager) adds every key that existed before. Until the
 * scan is done the filter answers "maybe" for everything.
 *
 * It grows as a chain (a scalable Bloom filter): when the newest filter holds its
 * capacity, a new one twice as large takes the adds and a lookup asks each. The first is
 * sized for the entries the database's tables and MemTable held when it started (an
 * upper bound of its keys: versions and index records count too), at least
 * {@link MIN_CAPACITY}.
 * Memory: about 1.25 bytes per key (10 bits), 1.25 MiB at least. In memory only: it is
 * rebuilt by a scan each time the database opens with indexes declared.
 */
import { MemTableFilter } from "../engine/memtable_filter.ts";
import { bloomHash } from "../engine/sstable/bloom.ts";

/** Keys the first filter is sized for, at least. */
export const MIN_CAPACITY = 1 << 20;
/** A full filter (by its estimated distinct keys) makes way for the next one. */
const GROW_AT = 0.9;

interface Link {
  filter: MemTableFilter;
  capacity: number;
  count: number;
}

export type PresenceState = "off" | "building" | "ready";

/** What `stats()` shows of it. */
export interface PresenceFigures {
  state: PresenceState;
  /** Filters in the chain. */
  filters: number;
  /** Memory of their bit arrays. */
  bytes: number;
  /** Previous-value reads it answered ("no record") since the database opened. */
  skippedReads: number;
}

export class KeyPresence {
  private chain: Link[] = [];
  private state_: PresenceState = "off";
  private skipped = 0;

  constructor(private readonly minCapacity = MIN_CAPACITY) {}

  get state(): PresenceState {
    return this.state_;
  }

  figures(): PresenceFigures {
    return { state: this.state_, filters: this.chain.length, bytes: this.chain.reduce((n, l) => n + l.filter.bytes, 0), skippedReads: this.skipped };
  }

  /**
   * Starts recording keys (state `building`) into an empty filter sized for
   * `expectedKeys`. The caller then adds every key that existed before and calls
   * {@link markReady}.
   */
  start(expectedKeys: number): void {
    this.chain = [newLink(Math.max(this.minCapacity, Math.ceil(expectedKeys * 1.25)))];
    this.state_ = "building";
  }

  /** Forgets everything; lookups answer "maybe" until the next start. */
  stop(): void {
    this.chain = [];
    this.state_ = "off";
  }

  /** The scan of the keys that existed at start is complete. */
  markReady(): void {
    if (this.state_ === "building") this.state_ = "ready";
  }

  /** Whether keys are being recorded (building or ready). */
  get recording(): boolean {
    return this.state_ !== "off";
  }

  /**
   * Records a key; ignored while off. `count` counts adds, overwrites of a recorded key
   * included; when it reaches the capacity it is replaced by the distinct keys the bits
   * say the filter holds, and a new filter starts only if that is near the capacity. So
   * the chain grows with the keys, not with the writes, for the price of one pass over
   * the bits per capacity's worth of adds.
   */
  add(key: Uint8Array): void {
    this.addHash(bloomHash(key));
  }

  /** `add` of the key whose `bloomHash` is `hash`. */
  addHash(hash: number): void {
    if (this.state_ === "off") return;
    let last = this.chain[this.chain.length - 1];
    if (last.count >= last.capacity) {
      last.count = last.filter.estimatedKeys();
      if (last.count >= last.capacity * GROW_AT) this.chain.push((last = newLink(last.capacity * 2)));
    }
    last.filter.add(hash);
    last.count++;
  }

  private holds(hash: number): boolean {
    for (let i = 0; i < this.chain.length; i++) if (this.chain[i].filter.mayContain(hash)) return true;
    return false;
  }

  /** False only when `key` certainly has no record; true for every key until ready. */
  mayExist(key: Uint8Array): boolean {
    return this.mayExistHash(bloomHash(key));
  }

  /** `mayExist` of the key whose `bloomHash` is `hash`. */
  mayExistHash(hash: number): boolean {
    if (this.state_ !== "ready") return true;
    if (this.holds(hash)) return true;
    this.skipped++;
    return false;
  }
}

function newLink(capacity: number): Link {
  return { filter: new MemTableFilter(capacity), capacity, count: 0 };
}
