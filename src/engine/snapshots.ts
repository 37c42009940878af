/**
 * @module
 * The sequence numbers that open readers still see. Flushes and compactions consult it
 * so they never drop a version an open scan may still need.
 */

export interface SnapshotHandle {
  readonly seq: number;
}

export class SnapshotList {
  private readonly live = new Set<SnapshotHandle>();

  acquire(seq: number): SnapshotHandle {
    const handle = { seq };
    this.live.add(handle);
    return handle;
  }

  release(handle: SnapshotHandle): void {
    this.live.delete(handle);
  }

  /** Distinct live snapshot sequence numbers, ascending. */
  seqs(): number[] {
    return [...new Set([...this.live].map((h) => h.seq))].sort((a, b) => a - b);
  }

  /** The newest live snapshot's seq, or -1 when there is none. */
  newest(): number {
    let max = -1;
    for (const h of this.live) if (h.seq > max) max = h.seq;
    return max;
  }

  get size(): number {
    return this.live.size;
  }
}
